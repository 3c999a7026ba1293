/* test_fetch.c - the pure parts of fetch.c: the media-type rule, the error
 * names and their RFC 8460 §4.3 result types, the options built from the
 * configuration, argument checks.  The fetch
 * itself is tested against real HTTPS servers (and a real proxy) in
 * tests/integration/test_fetch_dns.sh. */
#include <string.h>

#include "config.h"
#include "cunit_main.h"
#include "dns.h"
#include "domain.h"
#include "fetch.h"
#include "status.h"

static void t_content_type(void)
{
	static const struct {
		const char *ct;
		int want;
	} cases[] = {
		{"text/plain", 1},
		{"text/plain; charset=utf-8", 1},
		{"text/plain;charset=UTF-8", 1},
		{"TEXT/Plain", 1},
		{"  text/plain  ", 1},
		{"text/plain ; format=flowed", 1},
		{"text/html", 0},
		{"text/plainx", 0},
		{"text/plain-x", 0},
		{"text/", 0},
		{"", 0},
		{"application/octet-stream", 0},
		{"text/plain\x01", 0},
		{NULL, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(fetch_content_type_ok(cases[i].ct),
				cases[i].want);
}

static void t_tlsrpt(void)
{
	/* RFC 8460 §4.3.2.2 */
	static const struct {
		enum fetch_error e;
		const char *want;
	} cases[] = {
		{FETCH_ERR_CERT, "sts-webpki-invalid"},
		{FETCH_ERR_DNS, "sts-policy-fetch-error"},
		{FETCH_ERR_CONNECT, "sts-policy-fetch-error"},
		{FETCH_ERR_TLS, "sts-policy-fetch-error"},
		{FETCH_ERR_TIMEOUT, "sts-policy-fetch-error"},
		{FETCH_ERR_REDIRECT, "sts-policy-fetch-error"},
		{FETCH_ERR_STATUS, "sts-policy-fetch-error"},
		{FETCH_ERR_CONTENT_TYPE, "sts-policy-invalid"},
		{FETCH_ERR_TOO_BIG, "sts-policy-invalid"},
		{FETCH_ERR_HEADER, "sts-policy-fetch-error"},
		{FETCH_ERR_INTERNAL, "sts-policy-fetch-error"},
		{(enum fetch_error)99, "sts-policy-fetch-error"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_STRING_EQUAL(fetch_error_tlsrpt(cases[i].e),
				       cases[i].want);
}

static void t_names(void)
{
	int e;

	for (e = FETCH_OK; e <= FETCH_ERR_INTERNAL; e++)
		CU_ASSERT_STRING_NOT_EQUAL(fetch_error_str((enum fetch_error)e),
					   "unknown");
	CU_ASSERT_STRING_EQUAL(fetch_error_str(FETCH_ERR_TOO_BIG), "too-big");
	CU_ASSERT_STRING_EQUAL(fetch_error_str(FETCH_ERR_HEADER),
			       "header-too-big");
	CU_ASSERT_STRING_EQUAL(fetch_error_str((enum fetch_error)99),
			       "unknown");
}

/* Names that cannot be a policy domain never reach libcurl: nothing is
 * fetched from a URL built out of them. */
static void t_bad_domain(void)
{
	static const char *bad[] = {
		"", "a..b", "good.test/evil", "good.test:8443",
		"user@good.test", "good.test?x", "-x.test", "a b.test",
	};
	struct fetch_result r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(fetch_policy(bad[i], NULL, &r), MT_EINVAL);
		CU_ASSERT_EQUAL(r.err, FETCH_ERR_INTERNAL);
		CU_ASSERT_PTR_NULL(r.body);
		fetch_result_clear(&r);
	}
	CU_ASSERT_EQUAL(fetch_policy(NULL, NULL, &r), MT_EINVAL);
	fetch_result_clear(NULL);
}

/* One place builds the options from the configuration (issue: four hand
 * copies drifted apart). */
static void t_from_config(void)
{
	struct config cfg;
	struct fetch_opts fo;
	struct dns_opts dop;
	struct dns *fake = (struct dns *)&cfg;	/* only compared */

	config_defaults(&cfg);
	fetch_opts_from_config(&fo, &cfg, NULL);
	CU_ASSERT_PTR_NULL(fo.ca_file);
	CU_ASSERT_PTR_NULL(fo.proxy);
	CU_ASSERT_PTR_NULL(fo.dns);
	CU_ASSERT_EQUAL(fo.total_timeout_ms, 10000);
	CU_ASSERT_EQUAL(fo.connect_timeout_ms, FETCH_CONNECT_MAX_MS);
	dns_opts_from_config(&dop, &cfg);
	CU_ASSERT_PTR_NULL(dop.resolv_conf);
	CU_ASSERT_EQUAL(dop.recursive, 0);
	CU_ASSERT_PTR_NULL(dop.trust_anchor);
	CU_ASSERT_EQUAL(dop.timeout_ms, 5000);

	snprintf(cfg.ca_file, sizeof(cfg.ca_file), "/etc/ca.pem");
	snprintf(cfg.proxy, sizeof(cfg.proxy), "http://192.0.2.1:3128");
	cfg.fetch_timeout_ms = 3000;
	cfg.dns_timeout_ms = 2000;
	snprintf(cfg.resolver, sizeof(cfg.resolver), "/etc/alt.conf");
	fetch_opts_from_config(&fo, &cfg, fake);
	CU_ASSERT_STRING_EQUAL(fo.ca_file, "/etc/ca.pem");
	CU_ASSERT_STRING_EQUAL(fo.proxy, "http://192.0.2.1:3128");
	CU_ASSERT_PTR_EQUAL(fo.dns, fake);
	CU_ASSERT_EQUAL(fo.total_timeout_ms, 3000);
	CU_ASSERT_EQUAL(fo.connect_timeout_ms, 3000);
	dns_opts_from_config(&dop, &cfg);
	CU_ASSERT_STRING_EQUAL(dop.resolv_conf, "/etc/alt.conf");
	CU_ASSERT_EQUAL(dop.recursive, 0);
	CU_ASSERT_EQUAL(dop.timeout_ms, 2000);
	snprintf(cfg.resolver, sizeof(cfg.resolver), "recursive");
	dns_opts_from_config(&dop, &cfg);
	CU_ASSERT_PTR_NULL(dop.resolv_conf);
	CU_ASSERT_EQUAL(dop.recursive, 1);
	CU_ASSERT_PTR_NULL(dop.trust_anchor);
	snprintf(cfg.trust_anchor, sizeof(cfg.trust_anchor), "/etc/ta.ds");
	dns_opts_from_config(&dop, &cfg);
	CU_ASSERT_STRING_EQUAL(dop.trust_anchor, "/etc/ta.ds");
}

/* A proxy setting that is not one is refused before anything is sent. */
static void t_setup_bad_proxy(void)
{
	struct fetch_opts fo;
	struct fetch_result r;

	memset(&fo, 0, sizeof(fo));
	fo.proxy = "socks5://192.0.2.1:1080";
	CU_ASSERT_EQUAL(fetch_policy("example.com", &fo, &r), MT_OK);
	CU_ASSERT_EQUAL(r.err, FETCH_ERR_INTERNAL);
	CU_ASSERT_STRING_EQUAL(r.detail, "invalid proxy setting");
	CU_ASSERT_PTR_NULL(r.body);
	fetch_result_clear(&r);
}

static void t_init(void)
{
	CU_ASSERT_EQUAL(fetch_global_init(), MT_OK);
	CU_ASSERT_EQUAL(fetch_global_init(), MT_OK);
}

static CU_TestInfo tests[] = {
	{"content type", t_content_type},
	{"tlsrpt result types", t_tlsrpt},
	{"error names", t_names},
	{"invalid domains", t_bad_domain},
	{"options from the configuration", t_from_config},
	{"invalid proxy refused", t_setup_bad_proxy},
	{"global init idempotent", t_init},
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("fetch", tests);
	return 0;
}
