/*
 * config.c - the configuration file: `key = value`, '#' comments, one key
 * per line, every key optional.  Unknown keys and bad values are errors
 * reported as "file:line: key: message"; nothing is guessed.  What a key
 * accepts, its range, default and meaning are one row of config_table.
 *
 * Per-domain overrides:
 *   override = example.net none
 *   override = example.net testing
 *   override = example.net enforce mx1.example.net *.example.net
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "mtasts_build.h"
#include "status.h"
#include "str.h"

#define CONFIG_LINE_MAX 4096

/*
 * The keys.  Each row holds everything about one key: its type, its range,
 * its default (in the file's own syntax, applied by config_defaults()
 * through the same parser as the file, so a default is always in range),
 * the field it sets, and one line of documentation.  docs/configuration.md
 * lists exactly these keys (test_config checks it).
 */
#define FIELD(m) offsetof(struct config, m), sizeof(((struct config *)0)->m)

/* clang-format off: one key per block, in the order of mtasts.conf(5) */
static const struct config_word bool_words[] = {
	{ "yes", 1, NULL }, { "true", 1, NULL }, { "on", 1, NULL },
	{ "1", 1, NULL },   { "no", 0, NULL },	 { "false", 0, NULL },
	{ "off", 0, NULL }, { "0", 0, NULL },	 { NULL, 0, NULL },
};

static const struct config_word resolver_words[] = {
	{ "system", 0, "" }, /* /etc/resolv.conf */
	{ "recursive", 0, "recursive" },
	{ NULL, 0, NULL },
};

static const struct config_word none_words[] = {
	{ "none", 0, "" },
	{ NULL, 0, NULL },
};

static const struct config_word local_words[] = {
	{ "local", 0, "" },
	{ NULL, 0, NULL },
};

static const struct config_word refresh_interval_words[] = {
	{ "0", 0, NULL },
	{ "none", 0, NULL },
	{ NULL, 0, NULL },
};

static const struct config_key config_table[] = {
	{ "cache_path", CONFIG_PATH, 0, 0, 1, MTASTS_DEFAULT_CACHE,
	  FIELD(cache_path), NULL, "the shared-memory cache file" },
	{ "cache_size", CONFIG_SIZE, 1 << 20, (int64_t)16 << 30, 1, "64M",
	  FIELD(cache_size), NULL, "size of a newly created cache file" },
	{ "cache_max_size", CONFIG_SIZE, 1 << 20, (int64_t)16 << 30, 1, "1G",
	  FIELD(cache_max_size), NULL, "the cache file grows up to this size" },
	{ "txt_check_interval", CONFIG_DURATION, 60, 30 * 86400, 1, "1h",
	  FIELD(txt_check_interval), NULL,
	  "how often the TXT id of a cached policy is re-checked" },
	{ "negative_ttl", CONFIG_DURATION, 60, 7 * 86400, 1, "1h",
	  FIELD(negative_ttl), NULL, "how long \"no policy\" is remembered" },
	{ "fetch_timeout", CONFIG_DURATION, 1, 300, 1000, "10",
	  FIELD(fetch_timeout_ms), NULL, "total time for one policy fetch" },
	{ "dns_timeout", CONFIG_DURATION, 1, 120, 1000, "5",
	  FIELD(dns_timeout_ms), NULL, "time for one DNS lookup" },
	{ "lease_time", CONFIG_DURATION, 1, 600, 1, "30s", FIELD(lease_time),
	  NULL, "how long one process may hold a domain's fetch lease" },
	{ "mx_probe_timeout", CONFIG_DURATION, 1, 300, 1000, "20",
	  FIELD(mx_probe_timeout_ms), NULL,
	  "mtasts check: time for the SMTP session with one MX address" },
	{ "cert_expiry_warning", CONFIG_DURATION, 86400, 365 * 86400, 1, "14d",
	  FIELD(cert_expiry_warning), NULL,
	  "mtasts check: warn of a certificate ending within this time" },
	{ "refresh_before", CONFIG_DURATION, 60, 365 * 86400, 1, "1d",
	  FIELD(refresh_before), NULL,
	  "mtasts refresh renews policies expiring within this time" },
	{ "refresh_interval", CONFIG_DURATION, 60, 30 * 86400, 1, "1h",
	  FIELD(refresh_interval), refresh_interval_words,
	  "how often mtasts refresh runs; 0 or none: it only renews" },
	{ "ca_file", CONFIG_PATH, 0, 0, 1, NULL, FIELD(ca_file), NULL,
	  "PEM file of the CAs trusted for policy hosts; empty: the system store" },
	{ "proxy", CONFIG_PROXY, 0, 0, 1, "none", FIELD(proxy), none_words,
	  "http://HOST:PORT of an HTTP CONNECT proxy for policy fetches, or none" },
	{ "resolver", CONFIG_PATH, 0, 0, 1, "system", FIELD(resolver),
	  resolver_words, "system, a resolv.conf-style file, or recursive" },
	{ "trust_anchor", CONFIG_PATH, 0, 0, 1, NULL, FIELD(trust_anchor), NULL,
	  "DNSSEC trust anchors (DS or DNSKEY records) the module validates "
	  "with; empty: none when forwarding, the root key with recursive" },
	{ "dane", CONFIG_BOOL, 0, 1, 1, "no", FIELD(dane), bool_words,
	  "the host MTA does DANE" },
	{ "report_dir", CONFIG_PATH, 0, 0, 1, MTASTS_DEFAULT_REPORT_DIR,
	  FIELD(report_dir), NULL, "TLS-RPT results, one file per UTC day" },
	{ "report_org", CONFIG_STRING, 0, 0, 1, NULL, FIELD(report_org), NULL,
	  "organization-name of TLS-RPT reports; empty: the mail name" },
	{ "report_contact", CONFIG_STRING, 0, 0, 1, NULL, FIELD(report_contact),
	  NULL,
	  "contact-info and From of TLS-RPT reports; empty: "
	  "postmaster@ the submitter" },
	/* RFC 8460 §5.5: longer than the day and its 24 h retry window */
	{ "report_retention", CONFIG_DURATION, 3 * 86400, 400 * 86400, 1, "14d",
	  FIELD(report_retention), NULL,
	  "results and markers of days that ended longer ago are removed" },
	{ "report_store", CONFIG_STORE, 0, 0, 1, "local", FIELD(report_store),
	  local_words,
	  "local, or the fleet's Redis: redis://[[USER]:PASSWORD@]HOST[:PORT]"
	  "[/DB] or unix:/PATH[?db=DB]" },
	{ "report_store_password_file", CONFIG_PATH, 0, 0, 1, NULL,
	  FIELD(report_store_password_file), NULL,
	  "a file whose first line is the store's password" },
	{ "report_store_connect_timeout", CONFIG_DURATION, 1, 300, 1000, "2",
	  FIELD(report_store_connect_timeout_ms), NULL,
	  "time to connect to the store" },
	{ "report_store_timeout", CONFIG_DURATION, 1, 300, 1000, "5",
	  FIELD(report_store_timeout_ms), NULL, "time for one store command" },
	{ "report_host", CONFIG_HOST_ID, 0, 0, 1, NULL, FIELD(report_host),
	  NULL, "this host's id in the store; empty: the host name" },
	{ "report_hosts", CONFIG_HOST_LIST, 0, 0, 1, NULL, FIELD(report_hosts),
	  NULL, "the fleet's host ids, waited for and named when missing" },
	{ "report_push_deadline", CONFIG_DURATION, 0, 23 * 3600, 1, "1h",
	  FIELD(report_push_deadline), NULL,
	  "how long after a day's end reports wait for the hosts' pushes" },
	{ "report_claim_time", CONFIG_DURATION, 1, 6 * 3600, 1, "10m",
	  FIELD(report_claim_time), NULL,
	  "how long a host's claim to send a report lasts" },
	{ "log_level", CONFIG_LOG_LEVEL, 0, 0, 1, "info", FIELD(log_level),
	  NULL, "err, warning, notice, info or debug" },
	{ "log_facility", CONFIG_LOG_FACILITY, 0, 0, 1, "mail",
	  FIELD(log_facility), NULL, "syslog facility" },
	{ "override", CONFIG_OVERRIDE, 0, 0, 1, NULL, 0, 0, NULL,
	  "DOMAIN none|testing|enforce [MX-PATTERN...], repeatable" },
};
/* clang-format on */

const struct config_key *config_keys(size_t *n)
{
	*n = ARRAY_SIZE(config_table);
	return config_table;
}

const struct config_key *config_key_find(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_table); i++)
		if (strcmp(config_table[i].key, key) == 0)
			return &config_table[i];
	return NULL;
}

/* Digits only, in [lo, hi]. */
static int parse_int(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long x;

	if (!str_is_digit((unsigned char)v[0]))
		return -1;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno || *end != '\0' || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

struct unit {
	char c;
	int64_t mult;
};

static const struct unit duration_units[] = {
	{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 0, 0 },
};

static const struct unit size_units[] = {
	{ 'K', 1 << 10 }, { 'k', 1 << 10 }, { 'M', 1 << 20 }, { 'm', 1 << 20 },
	{ 'G', 1 << 30 }, { 'g', 1 << 30 }, { 0, 0 },
};

/* A number with an optional one-letter unit suffix, within [lo, hi]
 * after the unit is applied: "30", "5m", "64M". */
static int parse_scaled(const char *v, const struct unit *units, int64_t lo,
			int64_t hi, int64_t *out)
{
	char num[32];
	size_t n = strlen(v);
	int64_t mult = 1, x;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, v, n + 1);
	for (; units->c; units++) {
		if (num[n - 1] == units->c) {
			mult = units->mult;
			num[n - 1] = '\0';
			break;
		}
	}
	if (parse_int(num, 0, INT64_MAX / mult, &x) != 0)
		return -1;
	x *= mult;
	if (x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

/* 90 -> "90s", 3600 -> "1h": the largest unit that divides x (the first
 * of equal ones). */
static void fmt_scaled(char *out, size_t outsz, int64_t x,
		       const struct unit *units)
{
	const struct unit *best = NULL;

	for (; units->c; units++)
		if (x % units->mult == 0 && x > 0 &&
		    (best == NULL || units->mult > best->mult))
			best = units;
	if (best == NULL)
		snprintf(out, outsz, "%lld", (long long)x);
	else
		snprintf(out, outsz, "%lld%c", (long long)(x / best->mult),
			 best->c);
}

/* What a key wants, for the error message. */
static void describe(const struct config_key *k, char *why, size_t whysz)
{
	char lo[24], hi[24], words[128] = "";
	size_t n = 0;

	for (const struct config_word *w = k->words;
	     w && w->word && k->type != CONFIG_BOOL; w++) {
		int r = snprintf(words + n, sizeof(words) - n, "%s, ", w->word);

		if (r < 0 || (size_t)r >= sizeof(words) - n)
			break;
		n += (size_t)r;
	}
	switch (k->type) {
	case CONFIG_PATH:
		snprintf(why, whysz,
			 "want %san absolute path of at most %zu bytes", words,
			 k->size - 1);
		break;
	case CONFIG_STRING:
		snprintf(why, whysz, "want at most %zu bytes", k->size - 1);
		break;
	case CONFIG_PROXY:
		snprintf(why, whysz, "proxy must be none or http://HOST:PORT");
		break;
	case CONFIG_STORE:
		snprintf(why, whysz,
			 "want local, "
			 "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or "
			 "unix:/PATH[?db=DB]");
		break;
	case CONFIG_HOST_ID:
		snprintf(why, whysz, "want 1-%d of A-Z a-z 0-9 . _ -",
			 CONFIG_HOST_ID_MAX);
		break;
	case CONFIG_HOST_LIST:
		snprintf(why, whysz,
			 "want host ids (1-%d of A-Z a-z 0-9 . _ -) "
			 "separated by spaces or commas",
			 CONFIG_HOST_ID_MAX);
		break;
	case CONFIG_BOOL:
		snprintf(why, whysz, "want yes or no");
		break;
	case CONFIG_SIZE:
		fmt_scaled(lo, sizeof(lo), k->min, size_units);
		fmt_scaled(hi, sizeof(hi), k->max, size_units);
		snprintf(why, whysz, "want a size from %s to %s (k, M, G)", lo,
			 hi);
		break;
	case CONFIG_DURATION:
		fmt_scaled(lo, sizeof(lo), k->min, duration_units);
		fmt_scaled(hi, sizeof(hi), k->max, duration_units);
		snprintf(why, whysz,
			 "want %sa duration from %s to %s (s, m, h, d)", words,
			 lo, hi);
		break;
	case CONFIG_ENUM:
		if (n >= 2)
			words[n - 2] = '\0';
		snprintf(why, whysz, "want one of %s", words);
		break;
	case CONFIG_LOG_LEVEL:
		snprintf(
			why, whysz,
			"log_level must be err, warning, notice, info or debug");
		break;
	case CONFIG_LOG_FACILITY:
		snprintf(why, whysz, "unknown syslog facility");
		break;
	case CONFIG_OVERRIDE:
		snprintf(why, whysz, "invalid value");
		break;
	}
}

static const struct config_word *find_word(const struct config_word *w,
					   const char *v)
{
	for (; w && w->word; w++)
		if (strcmp(w->word, v) == 0)
			return w;
	return NULL;
}

/* Store into k's field: a string that fits it, or an integer of the
 * field's width. */
static int store_str(struct config *cfg, const struct config_key *k,
		     const char *v)
{
	size_t n = strlen(v);

	if (n >= k->size)
		return -1;
	memcpy((char *)cfg + k->off, v, n + 1);
	return 0;
}

static int store_int(struct config *cfg, const struct config_key *k, int64_t x)
{
	char *field = (char *)cfg + k->off;

	if (k->size == sizeof(int64_t)) {
		memcpy(field, &x, sizeof(x));
	} else if (k->size == sizeof(int) && x >= INT_MIN && x <= INT_MAX) {
		int i = (int)x;

		memcpy(field, &i, sizeof(i));
	} else {
		return -1; /* a table row that does not fit its field */
	}
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
	if (tok == NULL ||
	    domain_normalise(tok, strlen(tok), o->domain) != MT_OK) {
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

/* The host of a URL at h: "[IPv6]", an IPv4 address or a domain name
 * (normalised), into out; *rest is what follows it (":PORT", "/..." or
 * ""). */
static int url_host(const char *h, char out[DOMAIN_BUFSZ], const char **rest)
{
	char norm[DOMAIN_BUFSZ];
	unsigned char a[16];
	const char *end;
	size_t hl;

	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL)
			return MT_EPARSE;
		hl = (size_t)(end - h - 1);
		if (hl == 0 || hl >= DOMAIN_BUFSZ)
			return MT_EPARSE;
		memcpy(out, h + 1, hl);
		out[hl] = '\0';
		if (inet_pton(AF_INET6, out, a) != 1)
			return MT_EPARSE;
		*rest = end + 1;
		return MT_OK;
	}
	hl = strcspn(h, ":/");
	if (hl == 0 || hl >= DOMAIN_BUFSZ)
		return MT_EPARSE;
	memcpy(out, h, hl);
	out[hl] = '\0';
	if (inet_pton(AF_INET, out, a) != 1) {
		if (domain_normalise(out, hl, norm) != MT_OK)
			return MT_EPARSE;
		memcpy(out, norm, strlen(norm) + 1);
	}
	*rest = h + hl;
	return MT_OK;
}

int config_proxy_parse(const char *url, char *host, unsigned *port)
{
	static const char scheme[] = "http://";
	const char *h, *p;
	char tmp[DOMAIN_BUFSZ];
	unsigned long v;
	char *e;

	if (url == NULL || strncasecmp(url, scheme, sizeof(scheme) - 1) != 0)
		return MT_EPARSE;
	h = url + sizeof(scheme) - 1;
	if (strpbrk(h, "@?#") != NULL)
		return MT_EPARSE; /* no credentials, no query */
	if (url_host(h, tmp, &p) != MT_OK || *p++ != ':')
		return MT_EPARSE; /* the port is required */
	if (!str_is_digit((unsigned char)*p))
		return MT_EPARSE;
	v = strtoul(p, &e, 10);
	if (v == 0 || v > 65535 || e - p > 5 ||
	    !(*e == '\0' || (e[0] == '/' && e[1] == '\0')))
		return MT_EPARSE;
	memcpy(host, tmp, strlen(tmp) + 1);
	*port = (unsigned)v;
	return MT_OK;
}

/* user:password@ before a host, percent signs not decoded (the password
 * file holds what a URL cannot). */
static int store_userinfo(const char *s, size_t n, struct config_store_url *u)
{
	const char *colon = memchr(s, ':', n);
	size_t ul, pl;

	/* redis://USER@HOST: the password comes from the password file */
	ul = colon != NULL ? (size_t)(colon - s) : n;
	pl = colon != NULL ? n - ul - 1 : 0;
	if (ul >= sizeof(u->user) || pl >= sizeof(u->password))
		return MT_EPARSE;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return MT_EPARSE;
	memcpy(u->user, s, ul);
	u->user[ul] = '\0';
	if (pl > 0)
		memcpy(u->password, colon + 1, pl);
	u->password[pl] = '\0';
	return MT_OK;
}

/* Decimal digits, at most 5, value at most max. */
static int store_number(const char *p, unsigned long max, unsigned long *v,
			const char **end)
{
	char *e;

	if (!str_is_digit((unsigned char)*p))
		return MT_EPARSE;
	errno = 0;
	*v = strtoul(p, &e, 10);
	if (errno != 0 || *v > max || e - p > 5)
		return MT_EPARSE;
	*end = e;
	return MT_OK;
}

static int store_unix(const char *p, struct config_store_url *u)
{
	const char *end = strchr(p, '?');
	size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
	unsigned long v;

	if (p[0] != '/' || n >= sizeof(u->path) || n < 2)
		return MT_EPARSE;
	memcpy(u->path, p, n);
	u->path[n] = '\0';
	if (end != NULL) {
		if (strncmp(end, "?db=", 4) != 0 ||
		    store_number(end + 4, CONFIG_STORE_DB_MAX, &v, &p) !=
			    MT_OK ||
		    *p != '\0')
			return MT_EPARSE;
		u->db = (unsigned)v;
	}
	u->port = 0;
	return MT_OK;
}

/* HOST[:PORT][/DB] after redis:// and the user information. */
static int store_host(const char *h, struct config_store_url *u)
{
	char tmp[DOMAIN_BUFSZ];
	const char *p;
	unsigned long v;

	if (url_host(h, tmp, &p) != MT_OK)
		return MT_EPARSE;
	if (*p == ':') {
		if (store_number(p + 1, 65535, &v, &p) != MT_OK || v == 0)
			return MT_EPARSE;
		u->port = (unsigned)v;
	}
	if (*p == '/' && p[1] != '\0') {
		if (store_number(p + 1, CONFIG_STORE_DB_MAX, &v, &p) != MT_OK)
			return MT_EPARSE;
		u->db = (unsigned)v;
	} else if (*p == '/') {
		p++;
	}
	if (*p != '\0')
		return MT_EPARSE;
	memcpy(u->host, tmp, strlen(tmp) + 1);
	return MT_OK;
}

int config_store_parse(const char *url, struct config_store_url *out)
{
	static const char redis[] = "redis://", unix_[] = "unix:";
	struct config_store_url u;
	const char *h, *at;
	int rc;

	memset(&u, 0, sizeof(u));
	u.port = 6379;
	if (url == NULL)
		return MT_EPARSE;
	if (strncmp(url, unix_, sizeof(unix_) - 1) == 0) {
		rc = store_unix(url + sizeof(unix_) - 1, &u);
	} else if (strncmp(url, redis, sizeof(redis) - 1) == 0) {
		h = url + sizeof(redis) - 1;
		/* the last '@' ends the user information */
		at = strrchr(h, '@');
		rc = MT_OK;
		if (at != NULL) {
			rc = store_userinfo(h, (size_t)(at - h), &u);
			h = at + 1;
		}
		if (rc == MT_OK)
			rc = store_host(h, &u);
	} else {
		rc = MT_EPARSE;
	}
	if (rc == MT_OK)
		*out = u;
	explicit_bzero(&u, sizeof(u));
	return rc;
}

int config_host_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONFIG_HOST_ID_MAX || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!str_is_alnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* report_hosts: host identifiers separated by spaces or commas. */
static bool host_list_ok(const char *v)
{
	char id[CONFIG_HOST_ID_MAX + 2];

	while (*v != '\0') {
		size_t n = strcspn(v, " \t,");

		if (n > 0) {
			if (n > CONFIG_HOST_ID_MAX)
				return false;
			memcpy(id, v, n);
			id[n] = '\0';
			if (!config_host_id_ok(id))
				return false;
		}
		v += n;
		v += strspn(v, " \t,");
	}
	return true;
}

static int config_set(struct config *cfg, const char *key, char *v, char *why,
		      size_t whysz)
{
	const struct config_key *k = config_key_find(key);
	const struct config_word *w;
	const char *msg = NULL;
	int64_t x;
	int rc = -1;

	if (k == NULL) {
		snprintf(why, whysz, "unknown key");
		return -1;
	}
	w = find_word(k->words, v);
	switch (k->type) {
	case CONFIG_PATH:
		if (w)
			rc = store_str(cfg, k, w->str);
		else if (v[0] == '/')
			rc = store_str(cfg, k, v);
		break;
	case CONFIG_STRING:
		rc = store_str(cfg, k, v);
		break;
	case CONFIG_PROXY:
		/* never taken from the environment: only this key sets it */
		if (w) {
			rc = store_str(cfg, k, w->str);
		} else {
			char host[DOMAIN_BUFSZ];
			unsigned port;

			if (config_proxy_parse(v, host, &port) == MT_OK)
				rc = store_str(cfg, k, v);
		}
		break;
	case CONFIG_STORE:
		if (w) {
			rc = store_str(cfg, k, w->str);
		} else {
			struct config_store_url u;

			if (config_store_parse(v, &u) == MT_OK)
				rc = store_str(cfg, k, v);
			explicit_bzero(&u, sizeof(u));
		}
		break;
	case CONFIG_HOST_ID:
		if (config_host_id_ok(v))
			rc = store_str(cfg, k, v);
		break;
	case CONFIG_HOST_LIST:
		if (host_list_ok(v))
			rc = store_str(cfg, k, v);
		break;
	case CONFIG_BOOL:
	case CONFIG_ENUM:
		if (w)
			rc = store_int(cfg, k, w->num);
		break;
	case CONFIG_SIZE:
		if (parse_scaled(v, size_units, k->min, k->max, &x) == 0) {
			size_t z = (size_t)x;

			if (k->size == sizeof(z)) {
				memcpy((char *)cfg + k->off, &z, sizeof(z));
				rc = 0;
			}
		}
		break;
	case CONFIG_DURATION:
		if (w)
			rc = store_int(cfg, k, w->num);
		else if (parse_scaled(v, duration_units, k->min, k->max, &x) ==
			 0)
			rc = store_int(cfg, k, x * k->scale);
		break;
	case CONFIG_LOG_LEVEL:
		x = log_level_from_str(v);
		if (x >= 0)
			rc = store_int(cfg, k, x);
		break;
	case CONFIG_LOG_FACILITY:
		x = log_facility_from_str(v);
		if (x >= 0)
			rc = store_int(cfg, k, x);
		break;
	case CONFIG_OVERRIDE:
		rc = parse_override(cfg, v, &msg);
		if (rc != 0)
			snprintf(why, whysz, "%s", msg);
		return rc;
	}
	if (rc != 0)
		describe(k, why, whysz);
	return rc;
}

void config_defaults(struct config *cfg)
{
	char why[128], v[CONFIG_PATH_MAX];

	/* Everything but the override slots, which are read only up to
	 * n_overrides: a delivery process that loads the module must not
	 * touch (fault in) 200 KiB of slots it never uses. */
	memset(cfg, 0, offsetof(struct config, overrides));
	for (size_t i = 0; i < ARRAY_SIZE(config_table); i++) {
		const struct config_key *k = &config_table[i];

		if (k->def == NULL)
			continue;
		/* test_config checks that every default parses */
		snprintf(v, sizeof(v), "%s", k->def);
		(void)config_set(cfg, k->key, v, why, sizeof(why));
	}
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
		char why[160];

		lineno++;
		if (strlen(line) > CONFIG_LINE_MAX) {
			snprintf(err, errsz, "%s:%u: line too long", path,
				 lineno);
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
		if (config_set(cfg, k, v, why, sizeof(why)) != 0) {
			snprintf(err, errsz, "%s:%u: %s: %s", path, lineno, k,
				 why);
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
