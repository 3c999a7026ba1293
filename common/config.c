/*
 * config.c - the configuration file: `key = value`, '#' comments, one key
 * per line, every key optional.  Unknown keys and bad values are errors
 * reported as "file:line: message"; nothing is guessed.
 *
 * Per-domain overrides:
 *   override = example.net none
 *   override = example.net testing
 *   override = example.net enforce mx1.example.net *.example.net
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "mtasts_build.h"
#include "status.h"

#define CONFIG_LINE_MAX 4096

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->cache_path, sizeof(cfg->cache_path), "%s",
		 MTASTS_DEFAULT_CACHE);
	cfg->cache_size = 64u << 20;
	cfg->cache_max_size = 1024u << 20;
	cfg->txt_check_interval = 3600;
	cfg->negative_ttl = 3600;
	cfg->fetch_timeout_ms = 10000;
	cfg->dns_timeout_ms = 5000;
	cfg->refresh_before = 86400;
	cfg->refresh_interval = 3600;
	cfg->lease_time = 30;
	cfg->mx_probe_timeout_ms = 20000;
	cfg->cert_expiry_warning = 14 * 86400;
	cfg->dane = 0;
	snprintf(cfg->report_dir, sizeof(cfg->report_dir), "%s",
		 MTASTS_DEFAULT_REPORT_DIR);
	cfg->log_level = LOG_LVL_INFO;
	cfg->log_facility = LOG_MAIL;
}

static int parse_int(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long x;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno || *end != '\0' || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

/* "30", "30s", "5m", "2h", "1d" -> seconds */
/* bytes, or with a k/M/G suffix; 1M..16G */
static int parse_size(const char *v, size_t *out)
{
	char num[32];
	size_t n = strlen(v);
	int64_t mult = 1, x;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, v, n + 1);
	switch (num[n - 1]) {
	case 'k': case 'K': mult = 1 << 10; num[n - 1] = 0; break;
	case 'm': case 'M': mult = 1 << 20; num[n - 1] = 0; break;
	case 'g': case 'G': mult = 1 << 30; num[n - 1] = 0; break;
	default: break;
	}
	if (parse_int(num, 1, (int64_t)16 << 30, &x) != 0 ||
	    x * mult < (1 << 20) || x * mult > ((int64_t)16 << 30))
		return -1;
	*out = (size_t)(x * mult);
	return 0;
}

static int parse_duration(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	char num[32];
	size_t n = strlen(v);
	int64_t mult = 1, x;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, v, n + 1);
	switch (num[n - 1]) {
	case 's': mult = 1; num[n - 1] = '\0'; break;
	case 'm': mult = 60; num[n - 1] = '\0'; break;
	case 'h': mult = 3600; num[n - 1] = '\0'; break;
	case 'd': mult = 86400; num[n - 1] = '\0'; break;
	default: break;
	}
	if (parse_int(num, 0, INT64_MAX / 86400, &x) != 0)
		return -1;
	x *= mult;
	if (x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") ||
	    !strcmp(v, "on"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") ||
		 !strcmp(v, "0") || !strcmp(v, "off"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int set_path(char *dst, size_t dstsz, const char *v)
{
	size_t n = strlen(v);

	if (n >= dstsz)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

/* Override names are written as A-labels: the module's decision path has
 * no IDNA (idna_none.c), and the file must mean the same to the module and
 * to the command. */
static bool ascii_only(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static int parse_override(struct config *cfg, char *v, const char **why)
{
	struct config_override *o;
	char *tok, *save = NULL;
	char norm[DOMAIN_BUFSZ];

	if (cfg->n_overrides >= CONFIG_OVERRIDES_MAX) {
		*why = "too many overrides";
		return -1;
	}
	o = &cfg->overrides[cfg->n_overrides];
	memset(o, 0, sizeof(*o));
	tok = strtok_r(v, " \t", &save);
	if (tok != NULL && !ascii_only(tok)) {
		*why = "write override names in A-label form (xn--...)";
		return -1;
	}
	if (tok == NULL || domain_normalise(tok, strlen(tok), o->domain) != MT_OK) {
		*why = "override needs a valid domain";
		return -1;
	}
	tok = strtok_r(NULL, " \t", &save);
	if (tok == NULL) {
		*why = "override needs an action: none, testing or enforce";
		return -1;
	}
	if (!strcmp(tok, "none"))
		o->action = OVERRIDE_NONE;
	else if (!strcmp(tok, "testing"))
		o->action = OVERRIDE_TESTING;
	else if (!strcmp(tok, "enforce"))
		o->action = OVERRIDE_ENFORCE;
	else {
		*why = "override action must be none, testing or enforce";
		return -1;
	}
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		size_t n;

		if (o->action != OVERRIDE_ENFORCE) {
			*why = "only an enforce override takes mx patterns";
			return -1;
		}
		if (!ascii_only(tok)) {
			*why = "write override names in A-label form (xn--...)";
			return -1;
		}
		if (domain_pattern_normalise(tok, strlen(tok), norm) != MT_OK) {
			*why = "invalid mx pattern in override";
			return -1;
		}
		n = strlen(norm) + 1;
		if (o->mx_len + n > sizeof(o->mx)) {
			*why = "override mx patterns too long";
			return -1;
		}
		memcpy(o->mx + o->mx_len, norm, n);
		o->mx_len += (uint32_t)n;
		o->n_mx++;
	}
	if (o->action == OVERRIDE_ENFORCE && o->n_mx == 0) {
		*why = "an enforce override needs at least one mx pattern";
		return -1;
	}
	cfg->n_overrides++;
	return 0;
}

int config_proxy_parse(const char *url, char *host, unsigned *port)
{
	static const char scheme[] = "http://";
	const char *h, *end, *p;
	char tmp[DOMAIN_BUFSZ], norm[DOMAIN_BUFSZ];
	unsigned char a[16];
	size_t hl;
	unsigned long v;
	char *e;

	if (url == NULL || strncasecmp(url, scheme, sizeof(scheme) - 1) != 0)
		return MT_EPARSE;
	h = url + sizeof(scheme) - 1;
	if (strpbrk(h, "@?#") != NULL)
		return MT_EPARSE;	/* no credentials, no query */
	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL || end[1] != ':')
			return MT_EPARSE;
		hl = (size_t)(end - h - 1);
		if (hl == 0 || hl >= sizeof(tmp))
			return MT_EPARSE;
		memcpy(tmp, h + 1, hl);
		tmp[hl] = '\0';
		if (inet_pton(AF_INET6, tmp, a) != 1)
			return MT_EPARSE;
		p = end + 2;
	} else {
		end = strchr(h, ':');
		if (end == NULL)
			return MT_EPARSE;	/* the port is required */
		hl = (size_t)(end - h);
		if (hl == 0 || hl >= sizeof(tmp))
			return MT_EPARSE;
		memcpy(tmp, h, hl);
		tmp[hl] = '\0';
		if (inet_pton(AF_INET, tmp, a) != 1) {
			if (domain_normalise(tmp, hl, norm) != MT_OK)
				return MT_EPARSE;
			memcpy(tmp, norm, strlen(norm) + 1);
		}
		p = end + 1;
	}
	if (!isdigit((unsigned char)*p))
		return MT_EPARSE;
	v = strtoul(p, &e, 10);
	if (v == 0 || v > 65535 || e - p > 5 ||
	    !(*e == '\0' || (e[0] == '/' && e[1] == '\0')))
		return MT_EPARSE;
	memcpy(host, tmp, strlen(tmp) + 1);
	*port = (unsigned)v;
	return MT_OK;
}

static int config_set(struct config *cfg, const char *k, char *v,
		      const char **why)
{
	int64_t x;
	int b;

	*why = "invalid value";
	if (!strcmp(k, "cache_path"))
		return v[0] == '/' ? set_path(cfg->cache_path,
					      sizeof(cfg->cache_path), v) : -1;
	if (!strcmp(k, "cache_size") || !strcmp(k, "cache_max_size")) {
		size_t *dst = !strcmp(k, "cache_size") ? &cfg->cache_size
						       : &cfg->cache_max_size;

		if (parse_size(v, dst) != 0) {
			*why = !strcmp(k, "cache_size") ?
				"cache_size must be between 1M and 16G" :
				"cache_max_size must be between 1M and 16G";
			return -1;
		}
		return 0;
	}
	if (!strcmp(k, "txt_check_interval"))
		return parse_duration(v, 60, 86400 * 30, &cfg->txt_check_interval);
	if (!strcmp(k, "negative_ttl"))
		return parse_duration(v, 60, 86400 * 7, &cfg->negative_ttl);
	if (!strcmp(k, "refresh_before"))
		return parse_duration(v, 60, 86400 * 365, &cfg->refresh_before);
	if (!strcmp(k, "refresh_interval")) {
		if (!strcmp(v, "0") || !strcmp(v, "none")) {
			cfg->refresh_interval = 0;
			return 0;
		}
		return parse_duration(v, 60, 86400 * 30, &cfg->refresh_interval);
	}
	if (!strcmp(k, "lease_time"))
		return parse_duration(v, 1, 600, &cfg->lease_time);
	if (!strcmp(k, "fetch_timeout")) {
		if (parse_duration(v, 1, 300, &x) != 0)
			return -1;
		cfg->fetch_timeout_ms = x * 1000;
		return 0;
	}
	if (!strcmp(k, "dns_timeout")) {
		if (parse_duration(v, 1, 120, &x) != 0)
			return -1;
		cfg->dns_timeout_ms = x * 1000;
		return 0;
	}
	if (!strcmp(k, "mx_probe_timeout")) {
		if (parse_duration(v, 1, 300, &x) != 0)
			return -1;
		cfg->mx_probe_timeout_ms = x * 1000;
		return 0;
	}
	if (!strcmp(k, "cert_expiry_warning"))
		return parse_duration(v, 86400, 86400 * 365,
				      &cfg->cert_expiry_warning);
	if (!strcmp(k, "ca_file"))
		return v[0] == '/' ? set_path(cfg->ca_file, sizeof(cfg->ca_file), v) : -1;
	if (!strcmp(k, "proxy")) {
		/* an HTTP CONNECT proxy for policy fetches and report
		 * delivery; never taken from the environment */
		char host[DOMAIN_BUFSZ];
		unsigned port;

		if (!strcmp(v, "none")) {
			cfg->proxy[0] = '\0';
			return 0;
		}
		if (config_proxy_parse(v, host, &port) != MT_OK) {
			*why = "proxy must be none or http://HOST:PORT";
			return -1;
		}
		return set_path(cfg->proxy, sizeof(cfg->proxy), v);
	}
	if (!strcmp(k, "resolver")) {
		if (!strcmp(v, "system")) {
			cfg->resolver[0] = '\0';
			return 0;
		}
		if (strcmp(v, "recursive") != 0 && v[0] != '/') {
			*why = "resolver must be system, recursive or a resolv.conf path";
			return -1;
		}
		return set_path(cfg->resolver, sizeof(cfg->resolver), v);
	}
	if (!strcmp(k, "dane")) {
		if (parse_bool(v, &b) != 0)
			return -1;
		cfg->dane = b;
		return 0;
	}
	if (!strcmp(k, "report_dir"))
		return v[0] == '/' ? set_path(cfg->report_dir, sizeof(cfg->report_dir), v) : -1;
	if (!strcmp(k, "report_org"))
		return set_path(cfg->report_org, sizeof(cfg->report_org), v);
	if (!strcmp(k, "report_contact"))
		return set_path(cfg->report_contact, sizeof(cfg->report_contact), v);
	if (!strcmp(k, "log_level")) {
		int l = log_level_from_str(v);

		if (l < 0) {
			*why = "log_level must be err, warning, notice, info or debug";
			return -1;
		}
		cfg->log_level = l;
		return 0;
	}
	if (!strcmp(k, "log_facility")) {
		int f = log_facility_from_str(v);

		if (f < 0) {
			*why = "unknown syslog facility";
			return -1;
		}
		cfg->log_facility = f;
		return 0;
	}
	if (!strcmp(k, "override"))
		return parse_override(cfg, v, why);
	*why = "unknown key";
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errsz)
{
	char line[CONFIG_LINE_MAX + 2];
	unsigned lineno = 0;
	FILE *f;
	int fd, rc = MT_OK;

	config_defaults(cfg);
	if (err && errsz)
		err[0] = '\0';
	if (path == NULL)
		return MT_OK;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return MT_EIO;
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return MT_EIO;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq, *k, *v;
		const char *why;

		lineno++;
		if (strlen(line) > CONFIG_LINE_MAX) {
			snprintf(err, errsz, "%s:%u: line too long", path, lineno);
			rc = MT_ECONFIG;
			break;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errsz, "%s:%u: expected 'key = value'",
				 path, lineno);
			rc = MT_ECONFIG;
			break;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (config_set(cfg, k, v, &why) != 0) {
			snprintf(err, errsz, "%s:%u: %s: %s", path, lineno, k, why);
			rc = MT_ECONFIG;
			break;
		}
	}
	if (rc == MT_OK && ferror(f)) {
		snprintf(err, errsz, "%s: read error", path);
		rc = MT_EIO;
	}
	fclose(f);
	return rc;
}

const struct config_override *config_override_find(const struct config *cfg,
						   const char *domain)
{
	for (size_t i = 0; i < cfg->n_overrides; i++)
		if (strcmp(cfg->overrides[i].domain, domain) == 0)
			return &cfg->overrides[i];
	return NULL;
}
