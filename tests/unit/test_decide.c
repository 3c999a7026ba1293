/*
 * test_decide.c - the verdict table of design.md: (policy, mode, MX, DANE)
 * -> verdict and reason.  RFC 8461 §4.1 (MX matching), §5 (testing vs
 * enforce), §2 (DANE is never overridden; it does not lift an enforced
 * policy's MX filter either: docs/conformance.md), RFC 7672 §2.1.2 (a failed
 * TLSA lookup makes the host unusable).  Table-driven.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "cunit_main.h"
#include "decide.h"

/* patterns: "mx1.example.com", "*.example.net" */
static const char blob[] = "mx1.example.com\0*.example.net\0";
#define BLOB blob, (uint32_t)(sizeof(blob) - 1)

struct dcase {
	const char *label;
	bool have;
	enum policy_mode mode;
	const char *host;
	enum dane_state dane;
	enum verdict want;
	const char *reason;
};

static const struct dcase cases[] = {
	{ "no policy", false, POLICY_MODE_ENFORCE, "mx1.example.com", DANE_NONE,
	  VERDICT_NONE, "no-policy" },
	{ "no policy, DANE", false, POLICY_MODE_ENFORCE, "mx1.example.com",
	  DANE_USABLE, VERDICT_NONE, "no-policy" },
	{ "mode none", true, POLICY_MODE_NONE, "mx1.example.com", DANE_NONE,
	  VERDICT_NONE, "mode-none" },
	{ "mode none, unlisted MX", true, POLICY_MODE_NONE, "evil.example.org",
	  DANE_NONE, VERDICT_NONE, "mode-none" },
	{ "enforce, exact match", true, POLICY_MODE_ENFORCE, "mx1.example.com",
	  DANE_NONE, VERDICT_REQUIRE_TLS, "mx-match" },
	{ "enforce, wildcard match", true, POLICY_MODE_ENFORCE, "a.example.net",
	  DANE_NONE, VERDICT_REQUIRE_TLS, "mx-match" },
	{ "enforce, wildcard base", true, POLICY_MODE_ENFORCE, "example.net",
	  DANE_NONE, VERDICT_REFUSE_MX, "mx-mismatch" },
	{ "enforce, wildcard two labels", true, POLICY_MODE_ENFORCE,
	  "a.b.example.net", DANE_NONE, VERDICT_REFUSE_MX, "mx-mismatch" },
	{ "enforce, unlisted", true, POLICY_MODE_ENFORCE, "mx2.example.com",
	  DANE_NONE, VERDICT_REFUSE_MX, "mx-mismatch" },
	{ "enforce, DANE wins", true, POLICY_MODE_ENFORCE, "mx1.example.com",
	  DANE_USABLE, VERDICT_DANE, "dane" },
	{ "enforce, DANE on unlisted MX: the MX filter applies", true,
	  POLICY_MODE_ENFORCE, "mx2.example.com", DANE_USABLE,
	  VERDICT_REFUSE_MX, "mx-mismatch" },
	{ "enforce, DANE wildcard match", true, POLICY_MODE_ENFORCE,
	  "a.example.net", DANE_USABLE, VERDICT_DANE, "dane" },
	{ "enforce, TLSA lookup failed", true, POLICY_MODE_ENFORCE,
	  "mx1.example.com", DANE_FAILED, VERDICT_REFUSE_MX,
	  "dane-tlsa-failed" },
	{ "enforce, TLSA lookup failed, unlisted", true, POLICY_MODE_ENFORCE,
	  "mx2.example.com", DANE_FAILED, VERDICT_REFUSE_MX, "mx-mismatch" },
	{ "testing, match", true, POLICY_MODE_TESTING, "mx1.example.com",
	  DANE_NONE, VERDICT_REPORT_ONLY, "testing" },
	{ "testing, unlisted", true, POLICY_MODE_TESTING, "mx2.example.com",
	  DANE_NONE, VERDICT_REPORT_ONLY, "testing-mx-mismatch" },
	{ "testing, DANE", true, POLICY_MODE_TESTING, "mx1.example.com",
	  DANE_USABLE, VERDICT_DANE, "dane" },
	{ "testing, DANE on unlisted MX", true, POLICY_MODE_TESTING,
	  "mx2.example.com", DANE_USABLE, VERDICT_DANE, "dane" },
	{ "testing, TLSA lookup failed: never overridden", true,
	  POLICY_MODE_TESTING, "mx1.example.com", DANE_FAILED,
	  VERDICT_REFUSE_MX, "dane-tlsa-failed" },
	{ "mode none, TLSA lookup failed", true, POLICY_MODE_NONE,
	  "mx1.example.com", DANE_FAILED, VERDICT_NONE, "mode-none" },
	{ "no policy, TLSA lookup failed", false, POLICY_MODE_ENFORCE,
	  "mx1.example.com", DANE_FAILED, VERDICT_NONE, "no-policy" },
	{ NULL, false, 0, NULL, 0, 0, NULL },
};

/* Every case of a table: the verdict, the reason, and the same verdict
 * when the caller does not ask for the reason. */
static void run_cases(const struct dcase *t)
{
	for (; t->label; t++) {
		enum mt_reason r = R_COUNT_;
		enum verdict v = decide(t->have, t->mode, BLOB, t->host, t->dane,
					&r);
		const char *reason = reason_str(r);

		if (v != t->want || strcmp(reason, t->reason) != 0)
			fprintf(stderr, "\n  case '%s': %s/%s\n", t->label,
				verdict_str(v), reason);
		CU_ASSERT_EQUAL(v, t->want);
		CU_ASSERT_STRING_EQUAL(reason, t->reason);
		CU_ASSERT_EQUAL(decide(t->have, t->mode, BLOB, t->host, t->dane,
				       NULL), t->want);
	}
}

static void test_table(void)
{
	run_cases(cases);
}

static void test_words(void)
{
	CU_ASSERT_STRING_EQUAL(verdict_str(VERDICT_NONE), "none");
	CU_ASSERT_STRING_EQUAL(verdict_str(VERDICT_REQUIRE_TLS), "require-tls");
	CU_ASSERT_STRING_EQUAL(verdict_str(VERDICT_REFUSE_MX), "refuse-mx");
	CU_ASSERT_STRING_EQUAL(verdict_str(VERDICT_REPORT_ONLY), "report-only");
	CU_ASSERT_STRING_EQUAL(verdict_str(VERDICT_DANE), "dane");
	CU_ASSERT_STRING_EQUAL(verdict_str((enum verdict)99), "unknown");
}

/* Enforce with an empty pattern list cannot happen after policy_parse,
 * but a decision over it fails closed: refuse, never require nothing. */
static void test_fail_closed(void)
{
	enum mt_reason reason;

	CU_ASSERT_EQUAL(decide(true, POLICY_MODE_ENFORCE, NULL, 0,
			       "mx1.example.com", DANE_NONE, &reason),
			VERDICT_REFUSE_MX);
}

/* A policy whose mode byte is out of range (a corrupt entry, a future
 * value) is never "none": it is held to enforce, listed MX with verified
 * TLS, unlisted MX refused. */
static const struct dcase bad_mode[] = {
	{ "mode 3, listed", true, (enum policy_mode)3, "mx1.example.com",
	  DANE_NONE, VERDICT_REQUIRE_TLS, "mode-invalid" },
	{ "mode 42, wildcard", true, (enum policy_mode)42, "a.example.net",
	  DANE_NONE, VERDICT_REQUIRE_TLS, "mode-invalid" },
	{ "mode 42, unlisted", true, (enum policy_mode)42, "mx2.example.com",
	  DANE_NONE, VERDICT_REFUSE_MX, "mode-invalid" },
	{ "mode 255, unlisted", true, (enum policy_mode)255, "evil.example",
	  DANE_NONE, VERDICT_REFUSE_MX, "mode-invalid" },
	{ "mode -1, listed", true, (enum policy_mode)-1, "mx1.example.com",
	  DANE_NONE, VERDICT_REQUIRE_TLS, "mode-invalid" },
	{ "mode 42, DANE on unlisted", true, (enum policy_mode)42,
	  "evil.example", DANE_USABLE, VERDICT_REFUSE_MX, "mode-invalid" },
	{ "mode 42, no policy", false, (enum policy_mode)42, "evil.example",
	  DANE_NONE, VERDICT_NONE, "no-policy" },
	{ NULL, false, 0, NULL, 0, 0, NULL },
};

static void test_bad_mode(void)
{
	run_cases(bad_mode);
}

/* RFC 7672 §2.2.1: TLSA records speak for an MX host only when the MX
 * RRset that named it was DNSSEC-secure.  Otherwise whoever forged the MX
 * answer also chose the host and signed its TLSA: "dane" there would let
 * an unlisted MX escape an enforced policy. */
struct dane_case {
	const char *label;
	bool mx_secure, mx_listed, tlsa_secure;
	size_t n_tlsa;
	bool tlsa_failed;
	enum dane_state want;
};

static const struct dane_case dane_cases[] = {
	{ "secure MX, listed, secure TLSA", true, true, true, 1, false,
	  DANE_USABLE },
	{ "insecure MX, secure TLSA", false, true, true, 2, false, DANE_NONE },
	{ "secure MX without this host", true, false, true, 1, false,
	  DANE_NONE },
	{ "secure MX, insecure TLSA", true, true, false, 1, false, DANE_NONE },
	{ "secure MX, no TLSA", true, true, true, 0, false, DANE_NONE },
	{ "nothing secure", false, false, false, 0, false, DANE_NONE },
	/* RFC 7672 §2.1.2: a failed TLSA lookup (bogus, SERVFAIL) of a host
	 * that a secure MX RRset names: the host is unusable */
	{ "secure MX, listed, TLSA lookup failed", true, true, false, 0, true,
	  DANE_FAILED },
	/* RFC 7672 §2.2.1: without a secure MX RRset DANE does not apply */
	{ "insecure MX, TLSA lookup failed", false, true, false, 0, true,
	  DANE_NONE },
	{ "secure MX without this host, TLSA lookup failed", true, false,
	  false, 0, true, DANE_NONE },
	{ NULL, false, false, false, 0, false, DANE_NONE },
};

static void test_dane_state(void)
{
	for (const struct dane_case *t = dane_cases; t->label; t++) {
		enum dane_state got = dane_state_of(t->mx_secure, t->mx_listed,
						    t->tlsa_secure, t->n_tlsa,
						    t->tlsa_failed);

		if (got != t->want)
			fprintf(stderr, "\n  case '%s': %d\n", t->label, got);
		CU_ASSERT_EQUAL(got, t->want);
	}
	/* and so an unlisted MX under enforce with only a forged path to
	 * DANE is refused */
	CU_ASSERT_EQUAL(decide(true, POLICY_MODE_ENFORCE, BLOB, "evil.example",
			       dane_state_of(false, true, true, 1, false),
			       NULL),
			VERDICT_REFUSE_MX);
}

static CU_TestInfo tests[] = {
	{ "verdict table", test_table },
	{ "verdict words", test_words },
	{ "fail closed", test_fail_closed },
	{ "mode out of range held to enforce", test_bad_mode },
	{ "DANE only behind a secure MX RRset", test_dane_state },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("decide", tests);
	return 0;
}
