/*
 * config.h - the one optional configuration file shared by the plugin and
 * the command.  `key = value` lines, '#' comments; every key has a built-in
 * default, so no file is needed.  Unknown keys are errors with the line
 * number.
 */
#ifndef MTASTS_CONFIG_H
#define MTASTS_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#include "domain.h"

#define CONFIG_PATH_MAX 1024
#define CONFIG_OVERRIDES_MAX 256

enum override_action {
	OVERRIDE_NONE = 0,	/* treat as no policy */
	OVERRIDE_TESTING = 1,	/* downgrade enforce to testing */
	OVERRIDE_ENFORCE = 2,	/* enforce the given mx patterns locally */
};

struct config_override {
	char domain[DOMAIN_BUFSZ];
	enum override_action action;
	uint32_t n_mx, mx_len;
	char mx[512];		/* blob as in policy.h */
};

struct config {
	char cache_path[CONFIG_PATH_MAX];
	size_t cache_size;		/* bytes, of a new file */
	size_t cache_max_size;		/* bytes: the file grows up to this */
	int64_t txt_check_interval;	/* seconds */
	int64_t negative_ttl;		/* seconds */
	int64_t fetch_timeout_ms;	/* total; connect is min(total, 5 s) */
	int64_t dns_timeout_ms;
	int64_t refresh_before;		/* mtasts refresh: renew when expiring
					 * within this many seconds */
	int64_t refresh_interval;	/* how often mtasts refresh runs: it
					 * re-checks TXT ids falling due
					 * before its next run; 0 = never */
	int64_t lease_time;		/* seconds a fetch lease is held */
	int64_t mx_probe_timeout_ms;	/* mtasts check: one MX address's
					 * whole SMTP + TLS session */
	int64_t cert_expiry_warning;	/* mtasts check: warn when a
					 * certificate ends within this many
					 * seconds */
	char ca_file[CONFIG_PATH_MAX];	/* "" = system store */
	char proxy[CONFIG_PATH_MAX];	/* "" = none; "http://HOST:PORT" */
	char resolver[CONFIG_PATH_MAX];	/* "" = /etc/resolv.conf,
					 * "recursive" = full recursion */
	int dane;			/* host MTA does DANE */
	char report_dir[CONFIG_PATH_MAX];
	char report_org[256];
	char report_contact[256];
	int log_level;
	int log_facility;
	size_t n_overrides;
	struct config_override overrides[CONFIG_OVERRIDES_MAX];
};

/* Built-in defaults. */
void config_defaults(struct config *cfg);
/* Defaults, then the file at path (NULL = defaults only).  On error returns
 * MT_ECONFIG / MT_EIO with a message "file:line: what" in err. */
int config_load(struct config *cfg, const char *path, char *err,
		size_t errsz);
/* The `proxy` setting: "http://HOST:PORT" with an optional "/" after it;
 * HOST a host name, an IPv4 address or a bracketed IPv6 address; PORT
 * 1..65535.  No credentials, no other scheme.  host (DOMAIN_BUFSZ bytes)
 * receives the normalised name or the address without brackets.  MT_OK or
 * MT_EPARSE.  Pure; also what fetch.c reads the setting with. */
int config_proxy_parse(const char *url, char *host, unsigned *port);

const struct config_override *config_override_find(const struct config *cfg,
						   const char *domain);

#endif
