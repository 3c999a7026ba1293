/*
 * test_domain.c - host name normalisation, mx pattern normalisation and
 * the RFC 8461 §4.1 wildcard match.  Table-driven: {label, input, want}.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "cunit_main.h"
#include "domain.h"
#include "status.h"
#include "testlib.h"

struct norm_case {
	const char *label;
	const char *in;
	size_t len;	/* 0: strlen(in) */
	int want_rc;
	const char *want;	/* normal form when MT_OK */
};

static const struct norm_case name_cases[] = {
	{ "lower case", "mx.example.com", 0, MT_OK, "mx.example.com" },
	{ "upper case folded", "MX.Example.COM", 0, MT_OK, "mx.example.com" },
	{ "one trailing dot dropped", "mx.example.com.", 0, MT_OK, "mx.example.com" },
	{ "two trailing dots", "mx.example.com..", 0, MT_EPARSE, NULL },
	{ "single label", "localhost", 0, MT_OK, "localhost" },
	{ "digits", "123.example", 0, MT_OK, "123.example" },
	{ "inner hyphens", "a--b.x-y.com", 0, MT_OK, "a--b.x-y.com" },
	{ "A-label kept", "xn--bcher-kva.de", 0, MT_OK, "xn--bcher-kva.de" },
	{ "U-label to A-label", "b\xc3\xbc" "cher.de", 0, MT_OK, "xn--bcher-kva.de" },
	{ "U-label upper case", "B\xc3\x9c" "CHER.DE", 0, MT_OK, "xn--bcher-kva.de" },
	/* names that are looked up (a recipient domain, an MX host) keep the
	 * UTS #46 mapping a resolver applies (docs/conformance.md) */
	{ "lookup maps fullwidth letters", "\xef\xbd\x8d\xef\xbd\x98.example.com", 0,
	  MT_OK, "mx.example.com" },
	{ "empty", "", 0, MT_EPARSE, NULL },
	{ "only a dot", ".", 0, MT_EPARSE, NULL },
	{ "leading dot", ".example.com", 0, MT_EPARSE, NULL },
	{ "empty label", "a..example.com", 0, MT_EPARSE, NULL },
	{ "leading hyphen", "-mx.example.com", 0, MT_EPARSE, NULL },
	{ "trailing hyphen", "mx-.example.com", 0, MT_EPARSE, NULL },
	{ "last label trailing hyphen", "mx.example-", 0, MT_EPARSE, NULL },
	{ "underscore", "mx_1.example.com", 0, MT_EPARSE, NULL },
	{ "space", "mx example.com", 0, MT_EPARSE, NULL },
	{ "wildcard is not a name", "*.example.com", 0, MT_EPARSE, NULL },
	{ "port", "mx.example.com:25", 0, MT_EPARSE, NULL },
	{ "IPv6 literal", "[2001:db8::1]", 0, MT_EPARSE, NULL },
	{ "NUL inside", "mx\0.example.com", 15, MT_EPARSE, NULL },
	{ "invalid UTF-8", "\xff\xfe.example", 0, MT_EPARSE, NULL },
	{ "overlong UTF-8", "\xc0\xaf.example", 0, MT_EPARSE, NULL },
	{ "emoji refused by IDNA2008", "\xf0\x9f\x98\x80.example", 0, MT_EPARSE, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct norm_case pattern_cases[] = {
	{ "plain name", "mx.example.com", 0, MT_OK, "mx.example.com" },
	{ "wildcard", "*.example.com", 0, MT_OK, "*.example.com" },
	{ "wildcard upper case", "*.EXAMPLE.com.", 0, MT_OK, "*.example.com" },
	{ "wildcard U-label", "*.b\xc3\xbc" "cher.de", 0, MT_OK, "*.xn--bcher-kva.de" },
	{ "U-label", "mx.b\xc3\xbc" "cher.de", 0, MT_OK, "mx.xn--bcher-kva.de" },
	{ "sharp s kept (IDNA2008)", "stra\xc3\x9f" "e.de", 0, MT_OK, "xn--strae-oqa.de" },
	{ "ASCII upper case beside a U-label", "MX.b\xc3\xbc" "cher.DE", 0, MT_OK,
	  "mx.xn--bcher-kva.de" },
	/* patterns are strict IDNA2008: no UTS #46 mapping, so a pattern
	 * never names a host other than the one written */
	{ "zero-width space", "m\xe2\x80\x8bx.example.com", 0, MT_EPARSE, NULL },
	{ "fullwidth letters", "\xef\xbd\x8d\xef\xbd\x98.example.com", 0, MT_EPARSE,
	  NULL },
	{ "ideographic full stop", "mx\xe3\x80\x82" "example.com", 0, MT_EPARSE,
	  NULL },
	{ "wildcard over fullwidth", "*.\xef\xbd\x85xample.com", 0, MT_EPARSE, NULL },
	{ "U-label upper case", "B\xc3\x9c" "CHER.de", 0, MT_EPARSE, NULL },
	{ "not NFC", "bu\xcc\x88" "cher.de", 0, MT_EPARSE, NULL },
	/* RFC 5891 §4.2.3.1 hyphen rules, which libidn2 leaves to UTS #46 */
	{ "U-label with a leading hyphen", "-ab\xc3\xbc" "cher.de", 0, MT_EPARSE, NULL },
	{ "U-label with a trailing hyphen", "ab\xc3\xbc" "cher-.de", 0, MT_EPARSE, NULL },
	{ "'--' at 3-4 beside a U-label", "\xc3\xbc.ab--c.de", 0, MT_EPARSE, NULL },
	{ "A-label beside a U-label", "\xc3\xbc.xn--bcher-kva.de", 0, MT_OK,
	  "xn--tda.xn--bcher-kva.de" },
	{ "bad A-label in upper case beside a U-label", "\xca\x9f.xN--b", 0,
	  MT_EPARSE, NULL },
	{ "A-label in upper case beside a U-label", "\xc3\xbc.XN--BCHER-KVA.de", 0,
	  MT_OK, "xn--tda.xn--bcher-kva.de" },
	{ "star alone", "*", 0, MT_EPARSE, NULL },
	{ "star dot", "*.", 0, MT_EPARSE, NULL },
	{ "star dot dot", "*..", 0, MT_EPARSE, NULL },
	{ "wildcard mid-label", "mx.*.example.com", 0, MT_EPARSE, NULL },
	{ "two wildcards", "*.*.example.com", 0, MT_EPARSE, NULL },
	{ "partial wildcard", "mx*.example.com", 0, MT_EPARSE, NULL },
	{ "wildcard without dot", "*example.com", 0, MT_EPARSE, NULL },
	{ "double star", "**.example.com", 0, MT_EPARSE, NULL },
	{ "wildcard on empty label", "*..example.com", 0, MT_EPARSE, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static void run_norm(const struct norm_case *t, int pattern)
{
	for (; t->label; t++) {
		char out[DOMAIN_BUFSZ];
		size_t len = t->len ? t->len : strlen(t->in);
		int rc = pattern ? domain_pattern_normalise(t->in, len, out) :
				   domain_normalise(t->in, len, out);

		test_expect(t->label, rc, t->want_rc, out, t->want);
	}
}

static void test_names(void)
{
	run_norm(name_cases, 0);
}

static void test_patterns(void)
{
	run_norm(pattern_cases, 1);
}

/* Length limits: labels <= 63, names <= 253 (RFC 1035 §2.3.4). */
static void test_limits(void)
{
	char in[600], out[DOMAIN_BUFSZ];
	size_t n;

	memset(in, 'a', 63);
	memcpy(in + 63, ".example", 9);
	CU_ASSERT_EQUAL(domain_normalise(in, strlen(in), out), MT_OK);
	memset(in, 'a', 64);
	memcpy(in + 64, ".example", 9);
	CU_ASSERT_EQUAL(domain_normalise(in, strlen(in), out), MT_EPARSE);

	/* 4 labels of 63 = 255 with dots: too long; 253 exactly is fine */
	n = 0;
	for (int i = 0; i < 4; i++) {
		memset(in + n, 'b', 63);
		n += 63;
		in[n++] = '.';
	}
	in[--n] = '\0';	/* 255 octets */
	CU_ASSERT_EQUAL(domain_normalise(in, n, out), MT_ETOOBIG);
	in[251] = '\0';	/* 63.63.63.61 = 251 + ... */
	memset(in + 192, 'c', 61);
	in[253] = '\0';
	CU_ASSERT_EQUAL(strlen(in), 253);
	CU_ASSERT_EQUAL(domain_normalise(in, 253, out), MT_OK);
	CU_ASSERT_EQUAL(strlen(out), 253);
	/* 253 with a trailing dot is still 253 */
	in[253] = '.';
	in[254] = '\0';
	CU_ASSERT_EQUAL(domain_normalise(in, 254, out), MT_OK);

	/* a wildcard pattern counts its "*." too */
	in[0] = '*';
	in[1] = '.';
	memset(in + 2, 'd', 60);
	in[62] = '.';
	memset(in + 63, 'e', 60);
	in[123] = '.';
	memset(in + 124, 'f', 60);
	in[184] = '.';
	memset(in + 185, 'g', 60);
	in[245] = '.';
	memcpy(in + 246, "example", 8);	/* 253 */
	CU_ASSERT_EQUAL(domain_pattern_normalise(in, 253, out), MT_OK);
	memcpy(in + 246, "exampled", 9);	/* 254 */
	CU_ASSERT_NOT_EQUAL(domain_pattern_normalise(in, 254, out), MT_OK);
}

/* The length limit applies to the A-label form: a U-label name of 322
 * octets whose A-label form is 184 is a valid pattern; one whose A-label
 * form is over 253 is not. */
static void test_idn_length(void)
{
	char in[1200], out[DOMAIN_BUFSZ];
	size_t n = test_ulabel_name(in, 3);

	CU_ASSERT_EQUAL(n, 322);
	CU_ASSERT_EQUAL(domain_pattern_normalise(in, n, out), MT_OK);
	CU_ASSERT_EQUAL(strlen(out), 184);
	CU_ASSERT_EQUAL(strncmp(out, "xn--tda", 7), 0);
	CU_ASSERT_EQUAL(domain_normalise(in, n, out), MT_OK);
	/* five such labels: 5 * 58 + 4 + 7 = 301 octets as A-labels */
	n = test_ulabel_name(in, 5);
	CU_ASSERT_EQUAL(domain_pattern_normalise(in, n, out), MT_ETOOBIG);
}

/* U-labels grow when converted: "*." + a name whose A-label form is
 * longer than the input must not write past the output (a fuzzer found
 * this; ASan builds check it). */
static void test_idn_growth(void)
{
	char in[600], out[DOMAIN_BUFSZ + 16];
	size_t n = 0;

	memset(out, 0x5a, sizeof(out));
	in[n++] = '*';
	in[n++] = '.';
	for (int l = 0; l < 3; l++) {
		for (int i = 0; i < 25; i++) {
			in[n++] = (char)0xc3;	/* é */
			in[n++] = (char)0xa9;
		}
		in[n++] = '.';
	}
	memcpy(in + n, "example", 7);
	n += 7;
	{
		int rc = domain_pattern_normalise(in, n, out);

		CU_ASSERT(rc == MT_OK || rc == MT_EPARSE || rc == MT_ETOOBIG);
		if (rc == MT_OK)
			CU_ASSERT(strlen(out) <= DOMAIN_MAX);
	}
	for (size_t i = DOMAIN_BUFSZ; i < sizeof(out); i++)
		CU_ASSERT_EQUAL((unsigned char)out[i], 0x5a);
	CU_ASSERT_EQUAL(domain_normalise(NULL, 1, out), MT_EINVAL);
	CU_ASSERT_EQUAL(domain_pattern_normalise("a", 1, NULL), MT_EINVAL);
}

struct match_case {
	const char *label;
	const char *pattern;
	const char *host;
	bool want;
};

/* RFC 8461 §4.1: "*.example.com" matches "mail.example.com" but not
 * "example.com" nor "foo.bar.example.com". */
static const struct match_case match_cases[] = {
	{ "exact", "mx.example.com", "mx.example.com", true },
	{ "exact differs", "mx.example.com", "mx2.example.com", false },
	{ "exact is not a suffix match", "example.com", "mx.example.com", false },
	{ "wildcard one label", "*.example.com", "mail.example.com", true },
	{ "wildcard not the base", "*.example.com", "example.com", false },
	{ "wildcard not two labels", "*.example.com", "foo.bar.example.com", false },
	{ "wildcard needs a label boundary", "*.example.com", "mailexample.com", false },
	{ "wildcard empty label", "*.example.com", ".example.com", false },
	{ "wildcard over a TLD", "*.com", "example.com", true },
	{ "wildcard other domain", "*.example.com", "mail.example.org", false },
	{ "host star is literal", "mx.example.com", "*.example.com", false },
	{ NULL, NULL, NULL, false },
};

static void test_match(void)
{
	for (const struct match_case *t = match_cases; t->label; t++) {
		bool m = domain_pattern_match(t->pattern, t->host);

		if (m != t->want)
			fprintf(stderr, "\n  case '%s': %d\n", t->label, m);
		CU_ASSERT_EQUAL(m, t->want);
	}
}

/* Case and trailing dots compare equal once normalised (§4.1). */
static void test_match_normalised(void)
{
	char p[DOMAIN_BUFSZ], h[DOMAIN_BUFSZ];

	CU_ASSERT_EQUAL(domain_pattern_normalise("*.EXAMPLE.com.", 14, p), MT_OK);
	CU_ASSERT_EQUAL(domain_normalise("Mail.Example.COM.", 17, h), MT_OK);
	CU_ASSERT_TRUE(domain_pattern_match(p, h));
	CU_ASSERT_EQUAL(domain_pattern_normalise("*.b\xc3\xbc" "cher.de", 12, p),
			MT_OK);
	CU_ASSERT_EQUAL(domain_normalise("mx.xn--bcher-kva.de", 19, h), MT_OK);
	CU_ASSERT_TRUE(domain_pattern_match(p, h));
}

static CU_TestInfo tests[] = {
	{ "names", test_names },
	{ "patterns", test_patterns },
	{ "length limits", test_limits },
	{ "U-label growth stays in bounds", test_idn_growth },
	{ "U-label length after conversion", test_idn_length },
	{ "RFC 8461 4.1 match", test_match },
	{ "match after normalisation", test_match_normalised },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("domain", tests);
	return 0;
}
