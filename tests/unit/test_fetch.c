/* test_fetch.c - the pure parts of fetch.c: the media-type rule, the error
 * names and their RFC 8460 §4.3 result types, argument checks.  The fetch
 * itself is tested against real HTTPS servers in
 * tests/integration/test_fetch_dns.sh. */
#include <string.h>

#include "cunit_main.h"
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
	{"global init idempotent", t_init},
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("fetch", tests);
	return 0;
}
