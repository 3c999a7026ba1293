/* test_config.c - the configuration file: defaults, every key, errors with
 * line numbers, overrides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cunit_main.h"
#include "domain.h"
#include "status.h"

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
	CU_ASSERT_EQUAL(cfg.n_overrides, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(cfg.cache_path, "mtasts"));
}

static void t_keys(void)
{
	struct config cfg;
	char err[256];
	int rc;

	rc = load_text(&cfg,
		       "# comment\n"
		       "\n"
		       "cache_path = /tmp/x/cache\n"
		       "cache_size = 8M\n"
		       "txt_check_interval = 5m\n"
		       "negative_ttl = 2h\n"
		       "refresh_interval = 15m\n"
		       "fetch_timeout = 7\n"
		       "dns_timeout = 3s\n"
		       "mx_probe_timeout = 1m\n"
		       "cert_expiry_warning = 30d\n"
		       "ca_file = /etc/ssl/ca.pem\n"
		       "proxy = http://proxy.example.net:3128\n"
		       "resolver = recursive\n"
		       "dane = yes\n"
		       "report_dir = /tmp/r\n"
		       "report_org = Example Org\n"
		       "report_contact = postmaster@example.net\n"
		       "log_level = debug\n"
		       "log_facility = local3\n"
		       "override = Example.NET. enforce mx1.example.net *.example.org\n"
		       "override = t.example testing\n",
		       err, sizeof(err));
	CU_ASSERT_EQUAL_FATAL(rc, MT_OK);
	CU_ASSERT_STRING_EQUAL(cfg.cache_path, "/tmp/x/cache");
	CU_ASSERT_EQUAL(cfg.cache_size, 8u << 20);
	CU_ASSERT_EQUAL(cfg.txt_check_interval, 300);
	CU_ASSERT_EQUAL(cfg.negative_ttl, 7200);
	CU_ASSERT_EQUAL(cfg.refresh_interval, 900);
	CU_ASSERT_EQUAL(cfg.fetch_timeout_ms, 7000);
	CU_ASSERT_EQUAL(cfg.dns_timeout_ms, 3000);
	CU_ASSERT_EQUAL(cfg.mx_probe_timeout_ms, 60000);
	CU_ASSERT_EQUAL(cfg.cert_expiry_warning, 30 * 86400);
	CU_ASSERT_STRING_EQUAL(cfg.ca_file, "/etc/ssl/ca.pem");
	CU_ASSERT_STRING_EQUAL(cfg.proxy, "http://proxy.example.net:3128");
	CU_ASSERT_STRING_EQUAL(cfg.resolver, "recursive");
	CU_ASSERT_EQUAL(cfg.dane, 1);
	CU_ASSERT_STRING_EQUAL(cfg.report_org, "Example Org");
	CU_ASSERT_EQUAL(cfg.n_overrides, 2);
	CU_ASSERT_STRING_EQUAL(cfg.overrides[0].domain, "example.net");
	CU_ASSERT_EQUAL(cfg.overrides[0].action, OVERRIDE_ENFORCE);
	CU_ASSERT_EQUAL(cfg.overrides[0].n_mx, 2);
	CU_ASSERT_EQUAL(memcmp(cfg.overrides[0].mx,
			       "mx1.example.net\0*.example.org\0",
			       cfg.overrides[0].mx_len), 0);
	CU_ASSERT_PTR_NOT_NULL(config_override_find(&cfg, "t.example"));
	CU_ASSERT_PTR_NULL(config_override_find(&cfg, "other.example"));
	unlink(path);
}

static const struct {
	const char *label, *text, *want;
} bad[] = {
	{ "unknown key", "dane = no\nfoo = bar\n", ":2: foo: unknown key" },
	{ "no equals", "cache_path /x\n", ":1: expected" },
	{ "relative path", "cache_path = rel/x\n", ":1: cache_path" },
	{ "negative duration", "negative_ttl = -5\n", ":1: negative_ttl" },
	{ "too short interval", "txt_check_interval = 1\n", ":1: txt_check_interval" },
	{ "too short refresh", "refresh_interval = 10s\n", ":1: refresh_interval" },
	{ "bad number", "fetch_timeout = 10x\n", ":1: fetch_timeout" },
	{ "bad bool", "dane = maybe\n", ":1: dane" },
	{ "probe timeout 0", "mx_probe_timeout = 0\n", ":1: mx_probe_timeout" },
	{ "expiry warning in hours", "cert_expiry_warning = 12h\n",
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
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
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

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
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

static CU_TestInfo tests[] = {
	{ "defaults", t_defaults },
	{ "every key", t_keys },
	{ "errors name the line", t_errors },
	{ "proxy none", t_proxy_none },
	{ "proxy setting", t_proxy_parse },
	{ "missing file", t_missing_file },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("config", tests);
	return 0;
}
