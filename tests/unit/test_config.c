/* test_config.c - the configuration file: the key table (every key, its
 * bounds, its default), errors with line numbers, overrides, and
 * docs/configuration.md listing exactly the table's keys. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cunit_main.h"
#include "domain.h"
#include "status.h"
#include "str.h"

static char path[64];

static int load_text(struct config *cfg, const char *text, char *err,
		     size_t errsz)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/mtasts-cfg-%d.conf", (int)getpid());
	f = fopen(path, "w");
	if (f == NULL)
		return -100;
	fputs(text, f);
	fclose(f);
	return config_load(cfg, path, err, errsz);
}

static void t_defaults(void)
{
	struct config cfg;
	char err[256];

	CU_ASSERT_EQUAL(config_load(&cfg, NULL, err, sizeof(err)), MT_OK);
	CU_ASSERT_EQUAL(cfg.txt_check_interval, 3600);
	CU_ASSERT_EQUAL(cfg.negative_ttl, 3600);
	CU_ASSERT_EQUAL(cfg.refresh_interval, 3600);
	CU_ASSERT_EQUAL(cfg.cache_size, 64u << 20);
	CU_ASSERT_EQUAL(cfg.mx_probe_timeout_ms, 20000);
	CU_ASSERT_EQUAL(cfg.cert_expiry_warning, 14 * 86400);
	CU_ASSERT_STRING_EQUAL(cfg.ca_file, "");
	CU_ASSERT_STRING_EQUAL(cfg.proxy, "");
	CU_ASSERT_STRING_EQUAL(cfg.trust_anchor, "");
	CU_ASSERT_EQUAL(cfg.n_overrides, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(cfg.cache_path, "mtasts"));
}

/* Every key once, with what it must store.  A key added to the table must
 * be added here (t_keys checks that every row is covered). */
#define F(m) offsetof(struct config, m), sizeof(((struct config *)0)->m)

static const struct kcase {
	const char *line;
	size_t off, size;
	const char *s;		/* string fields */
	int64_t n;		/* integer fields */
} kcases[] = {
	{ "cache_path = /tmp/x/cache", F(cache_path), "/tmp/x/cache", 0 },
	{ "cache_size = 8M", F(cache_size), NULL, 8 << 20 },
	{ "cache_size = 2048k", F(cache_size), NULL, 2 << 20 },
	{ "cache_size = 1G", F(cache_size), NULL, 1 << 30 },
	{ "cache_size = 1048576", F(cache_size), NULL, 1 << 20 },
	{ "cache_max_size = 2G", F(cache_max_size), NULL, (int64_t)2 << 30 },
	{ "txt_check_interval = 5m", F(txt_check_interval), NULL, 300 },
	{ "negative_ttl = 2h", F(negative_ttl), NULL, 7200 },
	{ "fetch_timeout = 7", F(fetch_timeout_ms), NULL, 7000 },
	{ "fetch_timeout = 1m", F(fetch_timeout_ms), NULL, 60000 },
	{ "dns_timeout = 3s", F(dns_timeout_ms), NULL, 3000 },
	{ "lease_time = 2m", F(lease_time), NULL, 120 },
	{ "mx_probe_timeout = 1m", F(mx_probe_timeout_ms), NULL, 60000 },
	{ "mx_probe_timeout = 5", F(mx_probe_timeout_ms), NULL, 5000 },
	{ "cert_expiry_warning = 30d", F(cert_expiry_warning), NULL,
	  30 * 86400 },
	{ "refresh_before = 3d", F(refresh_before), NULL, 3 * 86400 },
	{ "refresh_interval = 15m", F(refresh_interval), NULL, 900 },
	{ "refresh_interval = 0", F(refresh_interval), NULL, 0 },
	{ "refresh_interval = none", F(refresh_interval), NULL, 0 },
	{ "ca_file = /etc/ssl/ca.pem", F(ca_file), "/etc/ssl/ca.pem", 0 },
	{ "proxy = http://[2001:db8::1]:3128/", F(proxy),
	  "http://[2001:db8::1]:3128/", 0 },
	{ "proxy = none", F(proxy), "", 0 },
	{ "resolver = recursive", F(resolver), "recursive", 0 },
	{ "resolver = /etc/mtasts/resolv.conf", F(resolver),
	  "/etc/mtasts/resolv.conf", 0 },
	{ "resolver = system", F(resolver), "", 0 },
	{ "trust_anchor = /usr/share/dns/root.key", F(trust_anchor),
	  "/usr/share/dns/root.key", 0 },
	{ "dane = yes", F(dane), NULL, 1 },
	{ "dane = on", F(dane), NULL, 1 },
	{ "dane = true", F(dane), NULL, 1 },
	{ "dane = 1", F(dane), NULL, 1 },
	{ "dane = off", F(dane), NULL, 0 },
	{ "report_dir = /tmp/r", F(report_dir), "/tmp/r", 0 },
	{ "report_org = Example Org", F(report_org), "Example Org", 0 },
	{ "report_contact = postmaster@example.net", F(report_contact),
	  "postmaster@example.net", 0 },
	{ "report_retention = 30d", F(report_retention), NULL, 30 * 86400 },
	{ "report_store = redis://:pw@redis.example.net:6380/2",
	  F(report_store), "redis://:pw@redis.example.net:6380/2", 0 },
	{ "report_store = unix:/run/redis/r.sock?db=1", F(report_store),
	  "unix:/run/redis/r.sock?db=1", 0 },
	{ "report_store = local", F(report_store), "", 0 },
	{ "report_store_password_file = /etc/mtasts/redis.pass",
	  F(report_store_password_file), "/etc/mtasts/redis.pass", 0 },
	{ "report_store_connect_timeout = 3", F(report_store_connect_timeout_ms),
	  NULL, 3000 },
	{ "report_store_timeout = 1m", F(report_store_timeout_ms), NULL,
	  60000 },
	{ "report_host = mx1.example.net", F(report_host), "mx1.example.net",
	  0 },
	{ "report_hosts = mx1.example.net, mx2 mx3_b", F(report_hosts),
	  "mx1.example.net, mx2 mx3_b", 0 },
	{ "report_push_deadline = 2h", F(report_push_deadline), NULL, 7200 },
	{ "report_push_deadline = 0", F(report_push_deadline), NULL, 0 },
	{ "report_claim_time = 90s", F(report_claim_time), NULL, 90 },
	{ "log_level = debug", F(log_level), NULL, 7 },
	{ "log_level = err", F(log_level), NULL, 3 },
	{ "log_facility = local3", F(log_facility), NULL, 19 << 3 },
	{ "override = t.example testing", F(n_overrides), NULL, 1 },
};

static int64_t field_int(const struct config *cfg, size_t off, size_t size)
{
	const char *f = (const char *)cfg + off;

	if (size == sizeof(int)) {
		int i;

		memcpy(&i, f, sizeof(i));
		return i;
	}
	if (size == sizeof(int64_t)) {	/* int64_t and size_t fields */
		int64_t n;

		memcpy(&n, f, sizeof(n));
		return n;
	}
	return INT64_MIN;
}

static void t_keys(void)
{
	size_t n_keys;
	const struct config_key *keys = config_keys(&n_keys);

	for (size_t i = 0; i < ARRAY_SIZE(kcases); i++) {
		const struct kcase *c = &kcases[i];
		struct config cfg;
		char text[256], err[256];
		int rc;

		snprintf(text, sizeof(text), "%s\n", c->line);
		rc = load_text(&cfg, text, err, sizeof(err));
		if (rc != MT_OK)
			fprintf(stderr, "\n  '%s': rc %d %s\n", c->line, rc, err);
		CU_ASSERT_EQUAL(rc, MT_OK);
		if (c->s) {
			CU_ASSERT_STRING_EQUAL((const char *)&cfg + c->off, c->s);
		} else {
			CU_ASSERT_EQUAL(field_int(&cfg, c->off, c->size), c->n);
		}
	}
	/* every row of the table is exercised above */
	for (size_t k = 0; k < n_keys; k++) {
		size_t klen = strlen(keys[k].key);
		int covered = 0;

		for (size_t i = 0; i < ARRAY_SIZE(kcases); i++)
			if (strncmp(kcases[i].line, keys[k].key, klen) == 0 &&
			    kcases[i].line[klen] == ' ')
				covered = 1;
		if (!covered)
			fprintf(stderr, "\n  key '%s' has no case\n", keys[k].key);
		CU_ASSERT(covered);
	}
	unlink(path);
}

/* The whole file at once, several overrides. */
static void t_file(void)
{
	struct config cfg;
	char err[256];
	int rc;

	rc = load_text(&cfg,
		       "# comment\n"
		       "\n"
		       "cache_path = /tmp/x/cache\n"
		       "  txt_check_interval=5m  \n"
		       "proxy = http://proxy.example.net:3128\n"
		       "report_org = Example Org\n"
		       "override = Example.NET. enforce mx1.example.net *.example.org\n"
		       "override = t.example testing\n",
		       err, sizeof(err));
	CU_ASSERT_EQUAL_FATAL(rc, MT_OK);
	CU_ASSERT_STRING_EQUAL(cfg.cache_path, "/tmp/x/cache");
	CU_ASSERT_EQUAL(cfg.txt_check_interval, 300);
	CU_ASSERT_STRING_EQUAL(cfg.proxy, "http://proxy.example.net:3128");
	CU_ASSERT_STRING_EQUAL(cfg.report_org, "Example Org");
	CU_ASSERT_EQUAL(cfg.negative_ttl, 3600);	/* untouched default */
	CU_ASSERT_EQUAL(cfg.n_overrides, 2);
	CU_ASSERT_STRING_EQUAL(cfg.overrides[0].domain, "example.net");
	CU_ASSERT_EQUAL(cfg.overrides[0].action, OVERRIDE_ENFORCE);
	CU_ASSERT_EQUAL(cfg.overrides[0].n_mx, 2);
	CU_ASSERT_EQUAL(memcmp(cfg.overrides[0].mx,
			       "mx1.example.net\0*.example.org\0",
			       cfg.overrides[0].mx_len), 0);
	CU_ASSERT_EQUAL(cfg.overrides[1].action, OVERRIDE_TESTING);
	CU_ASSERT_PTR_NOT_NULL(config_override_find(&cfg, "t.example"));
	CU_ASSERT_PTR_NULL(config_override_find(&cfg, "other.example"));
	unlink(path);
}

/* The table itself: unique keys, a doc line, fields that fit the type,
 * and every default accepted by the parser (the built-in configuration
 * equals a file that spells out every default). */
static void t_table(void)
{
	size_t n, len = 0;
	const struct config_key *keys = config_keys(&n);
	char text[4096], err[256];
	struct config a, b;

	CU_ASSERT_TRUE(n >= 18);
	for (size_t i = 0; i < n; i++) {
		const struct config_key *k = &keys[i];
		size_t want = 0;

		CU_ASSERT_PTR_NOT_NULL(k->doc);
		CU_ASSERT(k->doc && k->doc[0] != '\0' && !strchr(k->doc, '\n'));
		CU_ASSERT_PTR_EQUAL(config_key_find(k->key), k);
		for (size_t j = 0; j < i; j++)
			CU_ASSERT(strcmp(keys[j].key, k->key) != 0);
		switch (k->type) {
		case CONFIG_BOOL:
		case CONFIG_ENUM:
		case CONFIG_LOG_LEVEL:
		case CONFIG_LOG_FACILITY:
			want = sizeof(int);
			break;
		case CONFIG_SIZE:
			want = sizeof(size_t);
			break;
		case CONFIG_DURATION:
			want = sizeof(int64_t);
			CU_ASSERT(k->scale >= 1);
			break;
		case CONFIG_PATH:
		case CONFIG_STRING:
		case CONFIG_PROXY:
		case CONFIG_STORE:
		case CONFIG_HOST_ID:
		case CONFIG_HOST_LIST:
			want = k->size;
			CU_ASSERT(k->size > 1);
			break;
		case CONFIG_OVERRIDE:
			want = 0;
			break;
		}
		CU_ASSERT_EQUAL(k->size, want);
		CU_ASSERT(k->off + k->size <= sizeof(struct config));
		if (k->type == CONFIG_SIZE || k->type == CONFIG_DURATION)
			CU_ASSERT(k->min <= k->max);
		if (k->def)
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"%s = %s\n", k->key, k->def);
		CU_ASSERT_FATAL(len < sizeof(text));
	}
	config_defaults(&a);
	CU_ASSERT_EQUAL_FATAL(load_text(&b, text, err, sizeof(err)), MT_OK);
	/* the override slots past n_overrides are not part of the value */
	CU_ASSERT_EQUAL(memcmp(&a, &b, offsetof(struct config, overrides)), 0);
	unlink(path);
}

/* Sizes and durations: min and max are accepted, one below and one above
 * are errors that name the key and the line. */
static void t_bounds(void)
{
	size_t n;
	const struct config_key *keys = config_keys(&n);
	int checked = 0;

	for (size_t i = 0; i < n; i++) {
		const struct config_key *k = &keys[i];
		const int64_t v[4] = { k->min, k->max, k->min - 1, k->max + 1 };

		if (k->type != CONFIG_SIZE && k->type != CONFIG_DURATION)
			continue;
		for (int j = 0; j < 4; j++) {
			struct config cfg;
			char text[256], err[256], want[64];
			int rc;

			if (v[j] < 0)
				continue;	/* not a number the syntax has */
			/* line 3, behind a comment and a blank line */
			snprintf(text, sizeof(text), "# bounds\n\n%s = %lld\n",
				 k->key, (long long)v[j]);
			rc = load_text(&cfg, text, err, sizeof(err));
			if (j < 2) {
				int64_t got = field_int(&cfg, k->off, k->size);

				CU_ASSERT_EQUAL(rc, MT_OK);
				CU_ASSERT_EQUAL(got, v[j] * k->scale);
			} else {
				snprintf(want, sizeof(want), ":3: %s: ", k->key);
				CU_ASSERT_EQUAL(rc, MT_ECONFIG);
				CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
			}
			checked++;
		}
	}
	CU_ASSERT(checked >= 4 * 9 - 1);
	unlink(path);
}

static const struct {
	const char *label, *text, *want;
} bad[] = {
	{ "unknown key", "dane = no\nfoo = bar\n", ":2: foo: unknown key" },
	{ "unknown key after comments",
	  "# mtasts\n\n   # indented comment\ncache_path = /x\nlog_levle = info\n",
	  ":5: log_levle: unknown key" },
	{ "key case", "Dane = no\n", ":1: Dane: unknown key" },
	{ "empty key", " = no\n", ":1: : unknown key" },
	{ "line too long", "report_org = "
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	  ":1: report_org: want at most 255 bytes" },
	{ "relative ca_file", "ca_file = ca.pem\n", ":1: ca_file: want an absolute" },
	{ "resolver word", "resolver = local\n",
	  ":1: resolver: want system, recursive, an absolute path" },
	{ "duration unit", "lease_time = 5w\n", ":1: lease_time: want a duration from 1s to 10m" },
	{ "duration too long", "dns_timeout = 3m\n", ":1: dns_timeout: want a duration from 1s to 2m" },
	{ "duration overflow", "negative_ttl = 99999999999999999999d\n", ":1: negative_ttl" },
	{ "refresh_interval word", "refresh_interval = never\n",
	  ":1: refresh_interval: want 0, none, a duration" },
	{ "size overflow", "cache_size = 17179869184G\n", ":1: cache_size: want a size from 1M to 16G" },
	{ "size too big", "cache_size = 17G\n", ":1: cache_size: want a size from 1M to 16G (k, M, G)" },
	{ "size unit", "cache_size = 8T\n", ":1: cache_size" },
	{ "size empty", "cache_size =\n", ":1: cache_size" },
	{ "hex", "cache_size = 0x100000\n", ":1: cache_size" },
	{ "bad bool word", "dane = si\n", ":1: dane: want yes or no" },
	{ "no equals", "cache_path /x\n", ":1: expected" },
	{ "relative path", "cache_path = rel/x\n", ":1: cache_path" },
	{ "negative duration", "negative_ttl = -5\n", ":1: negative_ttl" },
	{ "too short interval", "txt_check_interval = 1\n", ":1: txt_check_interval" },
	{ "too short refresh", "refresh_interval = 10s\n", ":1: refresh_interval" },
	{ "bad number", "fetch_timeout = 10x\n", ":1: fetch_timeout" },
	{ "bad bool", "dane = maybe\n", ":1: dane" },
	{ "probe timeout 0", "mx_probe_timeout = 0\n", ":1: mx_probe_timeout" },
	{ "expiry warning under a day", "cert_expiry_warning = 12h\n",
	  ":1: cert_expiry_warning" },
	{ "bad level", "log_level = loud\n", ":1: log_level" },
	{ "bad facility", "log_facility = kern2\n", ":1: log_facility" },
	{ "override no mx", "override = a.example enforce\n", "at least one mx" },
	{ "override bad mx", "override = a.example enforce 1.2.3.4:25\n", "invalid mx" },
	{ "override bad action", "override = a.example block\n", "action" },
	{ "override bad domain", "override = -bad-.example none\n", "valid domain" },
	{ "testing with mx", "override = a.example testing mx.a.example\n", "only an enforce" },
	{ "cache too small", "cache_size = 1000\n", "cache_size" },
	{ "proxy without a port", "proxy = http://proxy.example\n",
	  ":1: proxy: proxy must be none or http://HOST:PORT" },
	{ "proxy of another scheme", "proxy = socks5://p.example:1080\n",
	  ":1: proxy" },
	{ "proxy with credentials", "proxy = http://u:p@p.example:3128\n",
	  ":1: proxy" },
};

static void t_errors(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct config cfg;
		char err[256];
		int rc = load_text(&cfg, bad[i].text, err, sizeof(err));

		if (rc != MT_ECONFIG || strstr(err, bad[i].want) == NULL)
			fprintf(stderr, "case '%s': rc=%d err='%s'\n", bad[i].label,
				rc, err);
		CU_ASSERT_EQUAL(rc, MT_ECONFIG);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].want));
	}
	unlink(path);
}

/* "none" is the default and undoes an earlier line */
static void t_proxy_none(void)
{
	struct config cfg;
	char err[256];

	CU_ASSERT_EQUAL(load_text(&cfg, "proxy = http://192.0.2.1:3128\n"
				  "proxy = none\n", err, sizeof(err)), MT_OK);
	CU_ASSERT_STRING_EQUAL(cfg.proxy, "");
	unlink(path);
}

static void t_proxy_parse(void)
{
	static const struct {
		const char *url;
		int rc;
		const char *host;
		unsigned port;
	} cases[] = {
		{"http://proxy.example.net:3128", MT_OK, "proxy.example.net",
		 3128},
		{"HTTP://Proxy.Example.NET:8080/", MT_OK, "proxy.example.net",
		 8080},
		{"http://192.0.2.1:3128", MT_OK, "192.0.2.1", 3128},
		{"http://[2001:db8::1]:3128", MT_OK, "2001:db8::1", 3128},
		{"http://p.example:1", MT_OK, "p.example", 1},
		{"http://p.example:65535", MT_OK, "p.example", 65535},
		{"http://p.example", MT_EPARSE, NULL, 0},	/* no port */
		{"http://p.example:", MT_EPARSE, NULL, 0},
		{"http://p.example:0", MT_EPARSE, NULL, 0},
		{"http://p.example:65536", MT_EPARSE, NULL, 0},
		{"http://p.example:003128", MT_EPARSE, NULL, 0},
		{"http://p.example:31x", MT_EPARSE, NULL, 0},
		{"http://p.example:3128/path", MT_EPARSE, NULL, 0},
		{"http://p.example:3128?x", MT_EPARSE, NULL, 0},
		{"http://user:pw@p.example:3128", MT_EPARSE, NULL, 0},
		{"https://p.example:3128", MT_EPARSE, NULL, 0},
		{"socks5://p.example:1080", MT_EPARSE, NULL, 0},
		{"p.example:3128", MT_EPARSE, NULL, 0},
		{"http://:3128", MT_EPARSE, NULL, 0},
		{"http://[2001:db8::1]3128", MT_EPARSE, NULL, 0},
		{"http://[not-v6]:3128", MT_EPARSE, NULL, 0},
		{"http://bad_name!:3128", MT_EPARSE, NULL, 0},
		{"http://p.example:-1", MT_EPARSE, NULL, 0},
		{"", MT_EPARSE, NULL, 0},
		{NULL, MT_EPARSE, NULL, 0},
	};
	char host[DOMAIN_BUFSZ];
	unsigned port;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		port = 0;
		rc = config_proxy_parse(cases[i].url, host, &port);
		if (rc != cases[i].rc)
			fprintf(stderr, "\n  case '%s': rc %d\n",
				cases[i].url ? cases[i].url : "(null)", rc);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc == MT_OK && cases[i].rc == MT_OK) {
			CU_ASSERT_STRING_EQUAL(host, cases[i].host);
			CU_ASSERT_EQUAL(port, cases[i].port);
		}
	}
}

static void t_missing_file(void)
{
	struct config cfg;
	char err[256];

	CU_ASSERT_EQUAL(config_load(&cfg, "/nonexistent/mtasts.conf", err,
				    sizeof(err)), MT_EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/mtasts.conf"));
}

/* The TLS-RPT keys' defaults: local reports, two weeks kept. */
static void t_report_keys(void)
{
	struct config cfg;
	char err[256];

	CU_ASSERT_EQUAL(config_load(&cfg, NULL, err, sizeof(err)), MT_OK);
	CU_ASSERT_EQUAL(cfg.report_retention, 14 * 86400);
	CU_ASSERT_STRING_EQUAL(cfg.report_store, "");	/* local */
	CU_ASSERT_STRING_EQUAL(cfg.report_host, "");	/* the host name */
	CU_ASSERT_STRING_EQUAL(cfg.report_org, "");	/* the mail name */
	CU_ASSERT_STRING_EQUAL(cfg.report_contact, "");
	CU_ASSERT_EQUAL(cfg.report_store_connect_timeout_ms, 2000);
	CU_ASSERT_EQUAL(cfg.report_store_timeout_ms, 5000);
	CU_ASSERT_EQUAL(cfg.report_push_deadline, 3600);
	CU_ASSERT_EQUAL(cfg.report_claim_time, 600);
}

static const struct {
	const char *label, *text, *want;
} bad_report[] = {
	{ "retention too short", "report_retention = 1d\n",
	  ":1: report_retention: want a duration from 3d to 400d" },
	{ "retention too long", "report_retention = 401d\n", "report_retention" },
	{ "store of another scheme", "report_store = http://r.example\n",
	  ":1: report_store: want local, redis://" },
	{ "store with a path", "report_store = redis://r.example/x\n",
	  ":1: report_store" },
	{ "store socket relative", "report_store = unix:r.sock\n",
	  ":1: report_store" },
	{ "password file relative", "report_store_password_file = pw\n",
	  ":1: report_store_password_file" },
	{ "store timeout 0", "report_store_timeout = 0\n",
	  ":1: report_store_timeout: want a duration from 1s to 5m" },
	{ "connect timeout too long", "report_store_connect_timeout = 10m\n",
	  ":1: report_store_connect_timeout" },
	{ "host id with a space", "report_host = mx 1\n",
	  ":1: report_host: want 1-64 of A-Z a-z 0-9 . _ -" },
	{ "host id with a colon", "report_host = mx:1\n", ":1: report_host" },
	{ "host id too long",
	  "report_host = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaa\n", ":1: report_host" },
	{ "host list with a bad id", "report_hosts = mx1, mx/2\n",
	  ":1: report_hosts" },
	{ "deadline a day", "report_push_deadline = 1d\n",
	  ":1: report_push_deadline" },
	{ "claim time 0", "report_claim_time = 0\n", ":1: report_claim_time" },
};

static void t_report_errors(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_report);
	     i++) {
		struct config cfg;
		char err[256];
		int rc = load_text(&cfg, bad_report[i].text, err, sizeof(err));

		if (rc != MT_ECONFIG || strstr(err, bad_report[i].want) == NULL)
			fprintf(stderr, "case '%s': rc=%d err='%s'\n",
				bad_report[i].label, rc, err);
		CU_ASSERT_EQUAL(rc, MT_ECONFIG);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad_report[i].want));
	}
	unlink(path);
}

static void t_store_parse(void)
{
	static const struct {
		const char *url;
		int rc;
		const char *host, *path, *user, *password;
		unsigned port, db;
	} cases[] = {
		{ "redis://r.example", MT_OK, "r.example", "", "", "", 6379, 0 },
		{ "redis://R.Example.:6380/", MT_OK, "r.example", "", "", "",
		  6380, 0 },
		{ "redis://r.example/3", MT_OK, "r.example", "", "", "", 6379, 3 },
		{ "redis://:s3cr%t@10.0.0.5:7000/15", MT_OK, "10.0.0.5", "", "",
		  "s3cr%t", 7000, 15 },
		{ "redis://mtasts:pw:with:colons@r.example", MT_OK, "r.example",
		  "", "mtasts", "pw:with:colons", 6379, 0 },
		{ "redis://mtasts@r.example", MT_OK, "r.example", "", "mtasts",
		  "", 6379, 0 },
		{ "redis://a:b@c@r.example", MT_OK, "r.example", "", "a", "b@c",
		  6379, 0 },
		{ "redis://[2001:db8::7]:6379/1", MT_OK, "2001:db8::7", "", "",
		  "", 6379, 1 },
		{ "unix:/run/redis/redis-server.sock", MT_OK, "",
		  "/run/redis/redis-server.sock", "", "", 0, 0 },
		{ "unix:/run/r.sock?db=4", MT_OK, "", "/run/r.sock", "", "", 0, 4 },
		{ "redis://", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "redis://:6379", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "redis://r.example:0", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "redis://r.example:65536", MT_EPARSE, NULL, NULL, NULL, NULL,
		  0, 0 },
		{ "redis://r.example:63x", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "redis://r.example/65536", MT_EPARSE, NULL, NULL, NULL, NULL,
		  0, 0 },
		{ "redis://r.example/1/2", MT_EPARSE, NULL, NULL, NULL, NULL,
		  0, 0 },
		{ "redis://r.example?db=1", MT_EPARSE, NULL, NULL, NULL, NULL,
		  0, 0 },
		{ "redis://bad_name!", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "redis://[not-v6]", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "redis://u p:x@r.example", MT_EPARSE, NULL, NULL, NULL, NULL,
		  0, 0 },
		{ "rediss://r.example", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "unix:", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "unix:/", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "unix:run/r.sock", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "unix:/r.sock?db=x", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "unix:/r.sock?x=1", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "", MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
		{ NULL, MT_EPARSE, NULL, NULL, NULL, NULL, 0, 0 },
	};
	struct config_store_url u;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc = config_store_parse(cases[i].url, &u);

		if (rc != cases[i].rc)
			fprintf(stderr, "\n  case '%s': rc %d\n",
				cases[i].url ? cases[i].url : "(null)", rc);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc != MT_OK || cases[i].rc != MT_OK)
			continue;
		CU_ASSERT_STRING_EQUAL(u.host, cases[i].host);
		CU_ASSERT_STRING_EQUAL(u.path, cases[i].path);
		CU_ASSERT_STRING_EQUAL(u.user, cases[i].user);
		CU_ASSERT_STRING_EQUAL(u.password, cases[i].password);
		CU_ASSERT_EQUAL(u.port, cases[i].port);
		CU_ASSERT_EQUAL(u.db, cases[i].db);
	}
}

/* docs/configuration.md: its key table lists exactly the table's keys, and
 * its default column shows the table's default where that is not a path
 * fixed at build time. */
static void t_doc(void)
{
	const char *root = getenv("MTASTS_SOURCE_ROOT");
	char doc[4096], line[1024];
	size_t n, n_doc = 0;
	const struct config_key *keys = config_keys(&n);
	int in_table = 0;
	char seen[64] = { 0 };
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_FATAL(n <= sizeof(seen));
	snprintf(doc, sizeof(doc), "%s/docs/configuration.md", root);
	f = fopen(doc, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *key, *end, *def, *dend;
		const struct config_key *k;

		if (strncmp(line, "| key | default |", 17) == 0) {
			in_table = 1;
			continue;
		}
		if (!in_table || strncmp(line, "|---", 4) == 0)
			continue;
		if (line[0] != '|')
			break;	/* the end of the key table */
		/* | `key` | default | meaning | */
		key = strchr(line, '`');
		end = key ? strchr(key + 1, '`') : NULL;
		if (key == NULL || end == NULL) {
			CU_FAIL("a key table row without a `key`");
			break;
		}
		*end = '\0';
		key++;
		n_doc++;
		k = config_key_find(key);
		if (k == NULL)
			fprintf(stderr, "\n  documented key '%s' is not in the table\n",
				key);
		CU_ASSERT_PTR_NOT_NULL(k);
		if (k == NULL)
			continue;
		seen[k - keys]++;
		def = strstr(end + 1, "| ");
		if (k->def && k->def[0] != '/' && def) {
			def += 2;
			dend = strstr(def, " |");
			if (dend == NULL) {
				CU_FAIL("a key table row without a default");
				break;
			}
			*dend = '\0';
			/* `1h` */
			if (def[0] == '`' && dend > def + 1 && dend[-1] == '`') {
				dend[-1] = '\0';
				def++;
			}
			if (strcmp(def, k->def) != 0)
				fprintf(stderr, "\n  %s: documented default '%s', table '%s'\n",
					key, def, k->def);
			CU_ASSERT_STRING_EQUAL(def, k->def);
		}
	}
	fclose(f);
	CU_ASSERT(in_table);
	CU_ASSERT_EQUAL(n_doc, n);
	for (size_t i = 0; i < n; i++) {
		if (seen[i] != 1)
			fprintf(stderr, "\n  key '%s' documented %d times\n",
				keys[i].key, seen[i]);
		CU_ASSERT_EQUAL(seen[i], 1);
	}
}

static CU_TestInfo tests[] = {
	{ "defaults", t_defaults },
	{ "the key table", t_table },
	{ "every key", t_keys },
	{ "a whole file", t_file },
	{ "bounds of sizes and durations", t_bounds },
	{ "docs/configuration.md lists the keys", t_doc },
	{ "errors name the line", t_errors },
	{ "proxy none", t_proxy_none },
	{ "proxy setting", t_proxy_parse },
	{ "missing file", t_missing_file },
	{ "report keys: defaults", t_report_keys },
	{ "report key errors", t_report_errors },
	{ "report_store URL", t_store_parse },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("config", tests);
	return 0;
}
