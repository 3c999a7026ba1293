/*
 * test_txt.c - the _mta-sts TXT record (RFC 8461 §3.1) and the _smtp._tls
 * TXT record (RFC 8460 §3): every ABNF production, the RRset selection
 * rule ("discard records not starting with the version; exactly one must
 * remain"), URI checks, NUL and over-long inputs.  Table-driven.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "cunit_main.h"
#include "status.h"
#include "testlib.h"
#include "txt.h"

#define MAXR 20

struct tcase {
	const char *label;
	const char *recs[4];	/* up to 4 records, NULL-terminated */
	int want_rc;
	const char *want;	/* id, or rua URIs joined by ' ' */
	const char *codes;	/* findings that must be reported */
};

static const struct tcase sts_cases[] = {
	{ "RFC example", { "v=STSv1; id=20160831085700Z;" }, MT_OK,
	  "20160831085700Z", NULL },
	{ "no spaces", { "v=STSv1;id=abc" }, MT_OK, "abc", NULL },
	{ "spaces around ';'", { "v=STSv1 ; id=abc ; " }, MT_OK, "abc", NULL },
	{ "tab after ';'", { "v=STSv1;\tid=abc" }, MT_OK, "abc", NULL },
	{ "id 32 characters", { "v=STSv1; id=abcdefghij0123456789ABCDEFGHIJ01" },
	  MT_OK, "abcdefghij0123456789ABCDEFGHIJ01", NULL },
	{ "extension field", { "v=STSv1; id=1; foo=bar; x.y_z-1=~!\"#" }, MT_OK,
	  "1", NULL },
	{ "extension before id", { "v=STSv1; foo=bar; id=7" }, MT_OK, "7", NULL },
	{ "duplicate id: first wins", { "v=STSv1; id=first; id=second" }, MT_OK,
	  "first", "W:txt-duplicate-id" },
	/* §3.1: the record must match the ABNF as a whole, then the first id
	 * counts; a repeated id outside the grammar makes it invalid */
	{ "repeated id empty", { "v=STSv1; id=abc; id=" }, MT_EPARSE, NULL,
	  "E:txt-id-invalid" },
	{ "repeated id with a space", { "v=STSv1; id=abc; id=a b" }, MT_EPARSE,
	  NULL, "E:txt-id-invalid" },
	{ "repeated id with a control byte", { "v=STSv1; id=abc; id=a\x01" },
	  MT_EPARSE, NULL, "E:txt-id-invalid" },
	{ "repeated id non-ASCII", { "v=STSv1; id=abc; id=caf\xc3\xa9" },
	  MT_EPARSE, NULL, "E:txt-id-invalid" },
	{ "repeated id with '-'", { "v=STSv1; id=abc; id=a-b" }, MT_EPARSE, NULL,
	  "E:txt-id-invalid" },
	{ "repeated id 33 characters",
	  { "v=STSv1; id=abc; id=abcdefghij0123456789ABCDEFGHIJ012" }, MT_EPARSE,
	  NULL, "E:txt-id-invalid" },
	{ "id repeated three times", { "v=STSv1; id=a1; id=b2; id=c3;" }, MT_OK,
	  "a1", "W:txt-duplicate-id" },
	/* sts-field-delim = *WSP ";" *WSP: white space at the end needs the ';' */
	{ "trailing space without ';'", { "v=STSv1; id=abc " }, MT_EPARSE, NULL,
	  "E:txt-trailing-whitespace" },
	{ "trailing tab without ';'", { "v=STSv1; id=abc\t" }, MT_EPARSE, NULL,
	  "E:txt-trailing-whitespace" },
	{ "trailing space after an extension", { "v=STSv1; id=abc; x=y  " },
	  MT_EPARSE, NULL, "E:txt-trailing-whitespace" },
	{ "space before the final ';'", { "v=STSv1; id=abc ;" }, MT_OK, "abc",
	  NULL },
	{ "space after the final ';'", { "v=STSv1; id=abc;\t " }, MT_OK, "abc",
	  NULL },
	{ "version then a space", { "v=STSv1 " }, MT_EPARSE, NULL, NULL },
	{ "other records discarded", { "v=spf1 -all", "v=STSv1; id=x1", "hello" },
	  MT_OK, "x1", "W:txt-discarded" },
	{ "id 33 characters", { "v=STSv1; id=abcdefghij0123456789ABCDEFGHIJ012" },
	  MT_EPARSE, NULL, "E:txt-id-invalid" },
	{ "id with hyphen", { "v=STSv1; id=2016-08-31" }, MT_EPARSE, NULL,
	  "E:txt-id-invalid" },
	{ "id with dot", { "v=STSv1; id=1.2" }, MT_EPARSE, NULL,
	  "E:txt-id-invalid" },
	{ "id empty", { "v=STSv1; id=" }, MT_EPARSE, NULL, "E:txt-id-invalid" },
	{ "id with inner space", { "v=STSv1; id=ab cd" }, MT_EPARSE, NULL,
	  "E:txt-id-invalid" },
	{ "id missing", { "v=STSv1; foo=bar" }, MT_EPARSE, NULL,
	  "E:txt-id-missing" },
	{ "version only", { "v=STSv1" }, MT_EPARSE, NULL, "E:txt-no-fields" },
	{ "version and ';' only", { "v=STSv1;" }, MT_EPARSE, NULL,
	  "E:txt-no-fields" },
	{ "no separator", { "v=STSv1 id=1" }, MT_ENOTFOUND, NULL, "E:txt-none" },
	{ "missing ';' between fields", { "v=STSv1; id=1 foo=bar" }, MT_EPARSE,
	  NULL, "E:txt-id-invalid" },
	{ "missing ';' after an extension", { "v=STSv1; foo=bar id=1" }, MT_EPARSE,
	  NULL, "E:txt-ext-invalid" },
	{ "empty field", { "v=STSv1;; id=1" }, MT_EPARSE, NULL, "E:txt-field" },
	{ "field without '='", { "v=STSv1; id=1; foo" }, MT_EPARSE, NULL,
	  "E:txt-field" },
	{ "extension name with '_' first", { "v=STSv1; id=1; _x=1" }, MT_EPARSE,
	  NULL, "E:txt-field-name" },
	{ "extension name 33 characters",
	  { "v=STSv1; id=1; a12345678901234567890123456789012=1" }, MT_EPARSE, NULL,
	  "E:txt-field-name" },
	{ "extension value with '='", { "v=STSv1; id=1; foo=a=b" }, MT_EPARSE,
	  NULL, "E:txt-ext-invalid" },
	{ "extension value empty", { "v=STSv1; id=1; foo=" }, MT_EPARSE, NULL,
	  "E:txt-ext-invalid" },
	{ "extension value non-ASCII", { "v=STSv1; id=1; foo=caf\xc3\xa9" },
	  MT_EPARSE, NULL, "E:txt-ext-invalid" },
	{ "version is case-sensitive", { "V=STSv1; id=1" }, MT_ENOTFOUND, NULL,
	  "W:txt-discarded,E:txt-none" },
	{ "another version", { "v=STSv10; id=1" }, MT_ENOTFOUND, NULL,
	  "E:txt-none" },
	{ "STSv2", { "v=STSv2; id=1" }, MT_ENOTFOUND, NULL, "E:txt-none" },
	{ "leading space", { " v=STSv1; id=1" }, MT_ENOTFOUND, NULL,
	  "E:txt-none" },
	{ "two STSv1 records", { "v=STSv1; id=1", "v=STSv1; id=2" }, MT_EPARSE,
	  NULL, "E:txt-multiple" },
	{ "two, one of them invalid", { "v=STSv1; id=1", "v=STSv1; id=-" },
	  MT_EPARSE, NULL, "E:txt-multiple" },
	{ "no records", { NULL }, MT_ENOTFOUND, NULL, "E:txt-none" },
	{ "empty record", { "" }, MT_ENOTFOUND, NULL, "E:txt-none" },
	{ NULL, { NULL }, 0, NULL, NULL },
};

static const struct tcase rpt_cases[] = {
	{ "mailto", { "v=TLSRPTv1; rua=mailto:reports@example.com" }, MT_OK,
	  "mailto:reports@example.com", NULL },
	{ "https", { "v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt" },
	  MT_OK, "https://reporting.example.com/v1/tlsrpt", NULL },
	{ "two URIs", { "v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.net/x" },
	  MT_OK, "mailto:a@example.com https://r.example.net/x", NULL },
	{ "spaces around ','", { "v=TLSRPTv1; rua=mailto:a@example.com , mailto:b@example.org ;" },
	  MT_OK, "mailto:a@example.com mailto:b@example.org", NULL },
	{ "scheme case-insensitive", { "v=TLSRPTv1; rua=MAILTO:a@example.com" },
	  MT_OK, "MAILTO:a@example.com", NULL },
	{ "https with port and query", { "v=TLSRPTv1; rua=https://r.example:8443/p?a=b" },
	  MT_OK, "https://r.example:8443/p?a=b", NULL },
	{ "https IP literal host", { "v=TLSRPTv1; rua=https://[2001:db8::1]/r" },
	  MT_OK, "https://[2001:db8::1]/r", NULL },
	{ "mailto with header fields", { "v=TLSRPTv1; rua=mailto:a@example.com?subject=tlsrpt" },
	  MT_OK, "mailto:a@example.com?subject=tlsrpt", NULL },
	{ "percent-encoded", { "v=TLSRPTv1; rua=mailto:a%21b@example.com" }, MT_OK,
	  "mailto:a%21b@example.com", NULL },
	{ "extension field", { "v=TLSRPTv1; rua=mailto:a@example.com; ext=1" },
	  MT_OK, "mailto:a@example.com", NULL },
	{ "other records discarded", { "v=STSv1; id=1", "v=TLSRPTv1; rua=mailto:a@example.com" },
	  MT_OK, "mailto:a@example.com", "W:txt-discarded" },
	{ "duplicate rua: first wins", { "v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com" },
	  MT_OK, "mailto:a@example.com", "W:tlsrpt-duplicate-rua" },
	{ "repeated rua invalid", { "v=TLSRPTv1; rua=mailto:a@example.com; rua=http://r.example/" },
	  MT_EPARSE, NULL, "E:tlsrpt-scheme" },
	{ "repeated rua empty", { "v=TLSRPTv1; rua=mailto:a@example.com; rua=" },
	  MT_EPARSE, NULL, "E:tlsrpt-uri-invalid" },
	{ "trailing space without ';'", { "v=TLSRPTv1; rua=mailto:a@example.com " },
	  MT_EPARSE, NULL, "E:txt-trailing-whitespace" },
	{ "space before the final ';'", { "v=TLSRPTv1; rua=mailto:a@example.com ;" },
	  MT_OK, "mailto:a@example.com", NULL },
	{ "http scheme", { "v=TLSRPTv1; rua=http://r.example.com/" }, MT_EPARSE,
	  NULL, "E:tlsrpt-scheme" },
	{ "no scheme", { "v=TLSRPTv1; rua=reports@example.com" }, MT_EPARSE, NULL,
	  "E:tlsrpt-scheme" },
	{ "mailto without '@'", { "v=TLSRPTv1; rua=mailto:nobody" }, MT_EPARSE,
	  NULL, "E:tlsrpt-mailto-invalid" },
	{ "mailto empty local part", { "v=TLSRPTv1; rua=mailto:@example.com" },
	  MT_EPARSE, NULL, "E:tlsrpt-mailto-invalid" },
	{ "mailto two '@'", { "v=TLSRPTv1; rua=mailto:a@b@example.com" }, MT_EPARSE,
	  NULL, "E:tlsrpt-mailto-invalid" },
	{ "mailto bad domain", { "v=TLSRPTv1; rua=mailto:a@exa_mple..com" },
	  MT_EPARSE, NULL, "E:tlsrpt-mailto-invalid" },
	{ "https no host", { "v=TLSRPTv1; rua=https:///report" }, MT_EPARSE, NULL,
	  "E:tlsrpt-https-invalid" },
	{ "https bad port", { "v=TLSRPTv1; rua=https://r.example:x/" }, MT_EPARSE,
	  NULL, "E:tlsrpt-https-invalid" },
	{ "'!' not encoded", { "v=TLSRPTv1; rua=mailto:a!b@example.com" },
	  MT_EPARSE, NULL, "E:tlsrpt-uri-invalid" },
	{ "empty rua", { "v=TLSRPTv1; rua=" }, MT_EPARSE, NULL,
	  "E:tlsrpt-uri-invalid" },
	{ "empty list element", { "v=TLSRPTv1; rua=mailto:a@example.com,,mailto:b@example.com" },
	  MT_EPARSE, NULL, "E:tlsrpt-uri-invalid" },
	{ "trailing ','", { "v=TLSRPTv1; rua=mailto:a@example.com," }, MT_EPARSE,
	  NULL, "E:tlsrpt-uri-invalid" },
	{ "URIs separated by space only", { "v=TLSRPTv1; rua=mailto:a@example.com mailto:b@example.com" },
	  MT_EPARSE, NULL, "E:tlsrpt-uri-invalid" },
	{ "rua missing", { "v=TLSRPTv1; ext=1" }, MT_EPARSE, NULL,
	  "E:tlsrpt-rua-missing" },
	{ "version only", { "v=TLSRPTv1" }, MT_EPARSE, NULL, "E:txt-no-fields" },
	{ "version case", { "v=tlsrptv1; rua=mailto:a@example.com" }, MT_ENOTFOUND,
	  NULL, "E:txt-none" },
	{ "two records", { "v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:b@example.com" },
	  MT_EPARSE, NULL, "E:txt-multiple" },
	{ NULL, { NULL }, 0, NULL, NULL },
};

static size_t setup(const struct tcase *t, size_t *lens)
{
	size_t n = 0;

	while (n < 4 && t->recs[n]) {
		lens[n] = strlen(t->recs[n]);
		n++;
	}
	return n;
}

/* Run one table: kind 0 the _mta-sts selection (got: the id), 1 the
 * _smtp._tls one (got: the rua URIs joined by ' '). */
static int select_rec(int kind, const struct tcase *t, const size_t *lens,
		      size_t n, struct diag_list *d, char *got, size_t gotsz)
{
	struct sts_txt sts;
	struct tlsrpt_txt rpt;
	size_t off = 0;
	int rc;

	got[0] = '\0';
	if (kind == 0) {
		rc = txt_sts_select(t->recs, lens, n, &sts, d);
		snprintf(got, gotsz, "%s", sts.id);
		return rc;
	}
	rc = txt_tlsrpt_select(t->recs, lens, n, &rpt, d);
	for (size_t i = 0; i < rpt.n_rua; i++)
		off += (size_t)snprintf(got + off, gotsz - off, "%s%s",
				       i ? " " : "", rpt.rua[i].uri);
	return rc;
}

static void run_table(int kind, const struct tcase *t)
{
	for (; t->label; t++) {
		size_t lens[4], n = setup(t, lens);
		struct diag_list d;
		char got[2048];
		int rc;

		diag_init(&d);
		rc = select_rec(kind, t, lens, n, &d, got, sizeof(got));
		test_expect(t->label, rc, t->want_rc, got, t->want);
		if (rc == MT_OK)
			CU_ASSERT_EQUAL(d.n_err, 0);
		if (rc != MT_OK) {
			/* nothing is left in *out */
			CU_ASSERT_STRING_EQUAL(got, "");
			CU_ASSERT(d.n_err > 0);
		}
		test_check_codes(t->label, &d, t->codes);
		CU_ASSERT_EQUAL(select_rec(kind, t, lens, n, NULL, got, sizeof(got)),
				rc);
		diag_free(&d);
	}
}

static void test_sts(void)
{
	run_table(0, sts_cases);
}

static void test_tlsrpt(void)
{
	run_table(1, rpt_cases);
}

static void test_schemes(void)
{
	const char *r = "v=TLSRPTv1; rua=mailto:a@example.com,https://r.example/";
	size_t len = strlen(r);
	struct tlsrpt_txt out;

	CU_ASSERT_EQUAL(txt_tlsrpt_select(&r, &len, 1, &out, NULL), MT_OK);
	CU_ASSERT_EQUAL(out.n_rua, 2);
	CU_ASSERT_EQUAL(out.rua[0].scheme, TLSRPT_MAILTO);
	CU_ASSERT_EQUAL(out.rua[1].scheme, TLSRPT_HTTPS);
}

/* A NUL inside a record (DNS carries any octet) makes it invalid. */
static void test_nul(void)
{
	static const char a[] = "v=STSv1; id=ab\0cd";
	static const char b[] = "v=TLSRPTv1; rua=mailto:a@example.com\0x";
	const char *ra = a, *rb = b;
	size_t la = sizeof(a) - 1, lb = sizeof(b) - 1;
	struct sts_txt s;
	struct tlsrpt_txt t;
	struct diag_list d;

	diag_init(&d);
	CU_ASSERT_EQUAL(txt_sts_select(&ra, &la, 1, &s, &d), MT_EPARSE);
	CU_ASSERT_TRUE(test_has_code(&d, "E:txt-nul", 9));
	CU_ASSERT_EQUAL(txt_tlsrpt_select(&rb, &lb, 1, &t, &d), MT_EPARSE);
	diag_free(&d);
}

/* Only len bytes are read: the records need no terminator. */
static void test_lengths(void)
{
	const char *r = "v=STSv1; id=abcdefXXXX";
	size_t len = 18;
	struct sts_txt s;

	CU_ASSERT_EQUAL(txt_sts_select(&r, &len, 1, &s, NULL), MT_OK);
	CU_ASSERT_STRING_EQUAL(s.id, "abcdef");
}

/* More rua URIs than kept: the first TXT_RUA_MAX, and a warning. */
static void test_many_rua(void)
{
	char rec[4096];
	size_t off, len;
	const char *r = rec;
	struct tlsrpt_txt t;
	struct diag_list d;

	off = (size_t)snprintf(rec, sizeof(rec), "v=TLSRPTv1; rua=");
	for (int i = 0; i < MAXR; i++)
		off += (size_t)snprintf(rec + off, sizeof(rec) - off, "%smailto:r%d@example.com",
				       i ? "," : "", i);
	len = off;
	diag_init(&d);
	CU_ASSERT_EQUAL(txt_tlsrpt_select(&r, &len, 1, &t, &d), MT_OK);
	CU_ASSERT_EQUAL(t.n_rua, TXT_RUA_MAX);
	CU_ASSERT_STRING_EQUAL(t.rua[0].uri, "mailto:r0@example.com");
	CU_ASSERT_TRUE(test_has_code(&d, "W:tlsrpt-rua-many", 17));
	diag_free(&d);
}

/* Long records (several 255-octet strings joined): bounded, no overrun. */
static void test_long(void)
{
	static char rec[70000];
	const char *r = rec;
	size_t len;
	struct sts_txt s;
	struct tlsrpt_txt t;

	memcpy(rec, "v=STSv1; id=1; x=", 17);
	memset(rec + 17, 'y', sizeof(rec) - 17);
	len = sizeof(rec);
	CU_ASSERT_EQUAL(txt_sts_select(&r, &len, 1, &s, NULL), MT_OK);
	memcpy(rec, "v=TLSRPTv1; rua=https://", 24);
	memset(rec + 24, 'a', sizeof(rec) - 24);
	CU_ASSERT_EQUAL(txt_tlsrpt_select(&r, &len, 1, &t, NULL), MT_EPARSE);
	memcpy(rec, "v=STSv1; id=", 12);
	memset(rec + 12, 'z', sizeof(rec) - 12);
	CU_ASSERT_EQUAL(txt_sts_select(&r, &len, 1, &s, NULL), MT_EPARSE);
}

/* A NULL entry in the RRset (a failed string) is skipped. */
static void test_null_record(void)
{
	const char *recs[2] = { NULL, "v=STSv1; id=9" };
	size_t lens[2] = { 0, 13 };
	struct sts_txt s;

	CU_ASSERT_EQUAL(txt_sts_select(recs, lens, 2, &s, NULL), MT_OK);
	CU_ASSERT_STRING_EQUAL(s.id, "9");
}

static CU_TestInfo tests[] = {
	{ "RFC 8461 3.1 table", test_sts },
	{ "RFC 8460 3 table", test_tlsrpt },
	{ "rua schemes", test_schemes },
	{ "NUL in a record", test_nul },
	{ "lengths bound the scan", test_lengths },
	{ "many rua URIs", test_many_rua },
	{ "long records", test_long },
	{ "NULL record skipped", test_null_record },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("txt", tests);
	return 0;
}
