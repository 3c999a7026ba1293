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
#define CONFIG_HOST_ID_MAX 64

enum override_action {
	OVERRIDE_NONE = 0,    /* treat as no policy */
	OVERRIDE_TESTING = 1, /* downgrade enforce to testing */
	OVERRIDE_ENFORCE = 2, /* enforce the given mx patterns locally */
};

struct config_override {
	char domain[DOMAIN_BUFSZ];
	enum override_action action;
	uint32_t n_mx, mx_len;
	char mx[512]; /* blob as in policy.h */
};

struct config {
	char cache_path[CONFIG_PATH_MAX];
	size_t cache_size;	    /* bytes, of a new file */
	size_t cache_max_size;	    /* bytes: the file grows up to this */
	int64_t txt_check_interval; /* seconds */
	int64_t negative_ttl;	    /* seconds */
	int64_t fetch_timeout_ms;   /* total; connect is min(total, 5 s) */
	int64_t dns_timeout_ms;
	/* mtasts refresh: renew when expiring within this many seconds */
	int64_t refresh_before;
	/* how often mtasts refresh runs: it re-checks TXT ids falling due
	 * before its next run; 0 = never */
	int64_t refresh_interval;
	int64_t lease_time; /* seconds a fetch lease is held */
	/* mtasts check: one MX address's whole SMTP + TLS session */
	int64_t mx_probe_timeout_ms;
	/* mtasts check: warn when a certificate ends within this many
	 * seconds */
	int64_t cert_expiry_warning;
	char ca_file[CONFIG_PATH_MAX]; /* "" = system store */
	char proxy[CONFIG_PATH_MAX];   /* "" = none; "http://HOST:PORT" */
	/* "" = /etc/resolv.conf, "recursive" = full recursion */
	char resolver[CONFIG_PATH_MAX];
	/* "" = none when forwarding, the root key with "recursive" */
	char trust_anchor[CONFIG_PATH_MAX];
	int dane; /* host MTA does DANE */
	char report_dir[CONFIG_PATH_MAX];
	char report_org[256];	  /* "" = the mail name (report.h) */
	char report_contact[256]; /* "" = postmaster@<submitter> */
	/* seconds: results and markers of days that ended longer ago go */
	int64_t report_retention;
	/* the fleet (fleet.h): "" = local, else a Redis URL
	 * (config_store_parse) */
	char report_store[CONFIG_PATH_MAX];
	char report_store_password_file[CONFIG_PATH_MAX];
	int64_t report_store_connect_timeout_ms;
	int64_t report_store_timeout_ms;	  /* per command */
	char report_host[CONFIG_HOST_ID_MAX + 1]; /* "" = the host name */
	char report_hosts[1024];      /* expected hosts, space-separated */
	int64_t report_push_deadline; /* seconds after a day's end */
	int64_t report_claim_time;    /* seconds a report's claim lasts */
	int log_level;
	int log_facility;
	size_t n_overrides;
	/* Last, and valid only up to n_overrides (config_defaults leaves the
	 * rest alone; copies may carry garbage there). */
	struct config_override overrides[CONFIG_OVERRIDES_MAX];
};

/* The keys, one table (config.c): type, range, default, field, doc. */
enum config_type {
	CONFIG_PATH,	  /* an absolute path (or one of the words) */
	CONFIG_STRING,	  /* any text up to the field's size - 1 */
	CONFIG_PROXY,	  /* config_proxy_parse() (or one of the words) */
	CONFIG_STORE,	  /* config_store_parse() (or one of the words) */
	CONFIG_HOST_ID,	  /* config_host_id_ok() */
	CONFIG_HOST_LIST, /* host ids, separated by spaces or commas */
	CONFIG_BOOL,	  /* yes/no, true/false, on/off, 1/0 */
	CONFIG_SIZE,	  /* bytes, optional k, M, G suffix; min..max */
	/* seconds, optional s, m, h, d suffix; min..max, stored times scale */
	CONFIG_DURATION,
	CONFIG_ENUM,	     /* one of the words */
	CONFIG_LOG_LEVEL,    /* log_level_from_str() */
	CONFIG_LOG_FACILITY, /* log_facility_from_str() */
	CONFIG_OVERRIDE,     /* an override line, repeatable */
};

/* A word a key accepts besides (or, for CONFIG_ENUM, instead of) its
 * type's syntax, and what it stores: num for integer fields, str for
 * strings. */
struct config_word {
	const char *word;
	int64_t num;
	const char *str;
};

struct config_key {
	const char *key;
	enum config_type type;
	int64_t min, max; /* CONFIG_SIZE: bytes, CONFIG_DURATION: s */
	int64_t scale;	  /* CONFIG_DURATION: stored per second */
	/* the default in the file's syntax; NULL: empty or 0 */
	const char *def;
	size_t off, size;		 /* the field of struct config */
	const struct config_word *words; /* NULL-terminated, or NULL */
	const char *doc;		 /* one line */
};

/* The table, *n rows. */
const struct config_key *config_keys(size_t *n);
/* The row of key, NULL when there is none. */
const struct config_key *config_key_find(const char *key);

/* Built-in defaults: every row's def, parsed as a file line would be. */
void config_defaults(struct config *cfg);
/* Defaults, then the file at path (NULL = defaults only).  On error returns
 * MT_ECONFIG / MT_EIO with a message "file:line: what" in err. */
int config_load(struct config *cfg, const char *path, char *err, size_t errsz);
/* The `proxy` setting: "http://HOST:PORT" with an optional "/" after it;
 * HOST a host name, an IPv4 address or a bracketed IPv6 address; PORT
 * 1..65535.  No credentials, no other scheme.  host (DOMAIN_BUFSZ bytes)
 * receives the normalised name or the address without brackets.  MT_OK or
 * MT_EPARSE.  Pure; also what fetch.c reads the setting with. */
int config_proxy_parse(const char *url, char *host, unsigned *port);

/* The `report_store` setting, a Redis server:
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]   (HOST a name, an IPv4
 *                                  address or a bracketed IPv6 address)
 *   unix:/PATH[?db=DB]
 * PORT 1..65535 (default 6379), DB 0..CONFIG_STORE_DB_MAX (default 0).
 * Pure; MT_OK or MT_EPARSE. */
#define CONFIG_STORE_DB_MAX 65535
struct config_store_url {
	char host[DOMAIN_BUFSZ]; /* "" for unix: */
	unsigned port;
	char path[CONFIG_PATH_MAX]; /* unix socket; "" for redis: */
	unsigned db;
	char user[128];	    /* "" = the default user */
	char password[256]; /* "" = none (or the password file) */
};
int config_store_parse(const char *url, struct config_store_url *out);
/* A host identifier: 1..CONFIG_HOST_ID_MAX of [A-Za-z0-9._-], not
 * starting with '.' or '-'.  Pure. */
int config_host_id_ok(const char *s);

const struct config_override *config_override_find(const struct config *cfg,
						   const char *domain);

#endif
