/* test_dns.c - the pure rdata helpers of dns.c: TXT string joining and
 * record-set capping, wire-format names, MX rdata; status/sec names.  The
 * lookups themselves are tested against a real resolver in
 * tests/integration/test_fetch_dns.sh. */
#include <string.h>

#include "cunit_main.h"
#include "dns.h"
#include "mem.h"
#include "status.h"

static char out[DNS_TXT_MAX + 1];

#define U(s) ((const unsigned char *)(s))

static void t_join(void)
{
	static const struct {
		const char *label;
		const char *rd;
		size_t len;
		long want;
		const char *text;
	} cases[] = {
		{"one string", "\x07v=STSv1", 8, 7, "v=STSv1"},
		{"three strings", "\x03v=S\x04TSv1\x02; ", 12, 9, "v=STSv1; "},
		{"empty string", "\x00", 1, 0, ""},
		{"empty rdata", "", 0, 0, ""},
		{"length past end", "\x09v=STSv1", 8, -1, NULL},
		{"second past end", "\x01v\x05=S", 5, -1, NULL},
		{"NUL kept", "\x03" "a\0b", 4, 3, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long got = dns_txt_rdata_join(U(cases[i].rd), cases[i].len,
					      out);

		CU_ASSERT_EQUAL(got, cases[i].want);
		if (got >= 0 && cases[i].text)
			CU_ASSERT_STRING_EQUAL(out, cases[i].text);
	}
}

/* 17 strings of 255 octets = 4335 > DNS_TXT_MAX */
static void t_join_cap(void)
{
	static unsigned char rd[17 * 256];
	size_t i;

	for (i = 0; i < 17; i++) {
		rd[i * 256] = 255;
		memset(rd + i * 256 + 1, 'a', 255);
	}
	CU_ASSERT_EQUAL(dns_txt_rdata_join(rd, 16 * 256, out), 16 * 255);
	CU_ASSERT_EQUAL(dns_txt_rdata_join(rd, sizeof(rd), out), -2);
	CU_ASSERT_EQUAL(strlen(out), DNS_TXT_MAX);
}

static void t_from_rdata(void)
{
	char *data[5];
	int len[5];
	struct dns_txt t;

	data[0] = (char *)"\x0cunrelated=ok";
	len[0] = 13;
	data[1] = (char *)"\x0ev=STSv1; id=1;";
	len[1] = 15;
	data[2] = (char *)"\x07v=STS";	/* malformed: length 7, 5 bytes */
	len[2] = 6;
	data[3] = (char *)"\x04v=ST\x0aSv1; id=2;";
	len[3] = 16;
	data[4] = NULL;
	len[4] = 0;
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(dns_txt_from_rdata(data, len, &t), MT_OK);
	CU_ASSERT_EQUAL(t.n, 3);
	/* version-tagged first, in order; malformed dropped */
	CU_ASSERT_STRING_EQUAL(t.rec[0], "v=STSv1; id=1;");
	CU_ASSERT_STRING_EQUAL(t.rec[1], "v=STSv1; id=2;");
	CU_ASSERT_STRING_EQUAL(t.rec[2], "unrelated=ok");
	CU_ASSERT_EQUAL(t.len[2], 12);
	dns_txt_clear(&t);
	CU_ASSERT_EQUAL(t.n, 0);
	CU_ASSERT_PTR_NULL(t.rec[0]);
}

/* More records than DNS_MAX_RECORDS: the "v=" ones are never pushed out. */
static void t_from_rdata_many(void)
{
	static char bufs[DNS_MAX_RECORDS + 3][8];
	char *data[DNS_MAX_RECORDS + 4];
	int len[DNS_MAX_RECORDS + 4];
	struct dns_txt t;
	size_t i, sts = 0;

	for (i = 0; i < DNS_MAX_RECORDS + 2; i++) {
		memcpy(bufs[i], "\x06junk00", 7);
		bufs[i][5] = (char)('0' + i / 10);
		bufs[i][6] = (char)('0' + i % 10);
		data[i] = bufs[i];
		len[i] = 7;
	}
	memcpy(bufs[i], "\x06v=STS2", 7);
	data[i] = bufs[i];
	len[i] = 7;
	data[i + 1] = NULL;
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(dns_txt_from_rdata(data, len, &t), MT_OK);
	CU_ASSERT_EQUAL(t.n, DNS_MAX_RECORDS);
	for (i = 0; i < t.n; i++)
		sts += strncmp(t.rec[i], "v=", 2) == 0;
	CU_ASSERT_EQUAL(sts, 1);
	CU_ASSERT_STRING_EQUAL(t.rec[0], "v=STS2");
	dns_txt_clear(&t);
}

/* A record over DNS_TXT_MAX still counts but can never parse. */
static void t_from_rdata_long(void)
{
	static char rd[18 * 256];
	char *data[2] = {rd, NULL};
	int len[2] = {(int)sizeof(rd), 0};
	struct dns_txt t;
	size_t i;

	for (i = 0; i < 18; i++) {
		rd[i * 256] = (char)255;
		memset(rd + i * 256 + 1, 'x', 255);
	}
	memcpy(rd + 1, "v=STSv1; id=1;", 14);
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(dns_txt_from_rdata(data, len, &t), MT_OK);
	CU_ASSERT_EQUAL(t.n, 1);
	CU_ASSERT_EQUAL(t.len[0], DNS_TXT_MAX);
	CU_ASSERT_EQUAL(t.rec[0][DNS_TXT_MAX - 1], '\0');
	CU_ASSERT_EQUAL(strlen(t.rec[0]), DNS_TXT_MAX - 1);
	CU_ASSERT_EQUAL(strncmp(t.rec[0], "v=STSv1; id=1;xxx", 17), 0);
	CU_ASSERT_EQUAL(strspn(t.rec[0] + 14, "x"), DNS_TXT_MAX - 15);
	dns_txt_clear(&t);
}

static void t_from_rdata_oom(void)
{
	char *data[3] = {(char *)"\x03" "abc", (char *)"\x03" "def", NULL};
	int len[3] = {4, 4, 0};
	struct dns_txt t;
	long n;
	int rc;

	/* fail each allocation in turn: ENOMEM and nothing left behind */
	for (n = 0; n < 3; n++) {
		memset(&t, 0, sizeof(t));
		mem_fail_after(n);
		rc = dns_txt_from_rdata(data, len, &t);
		mem_fail_after(-1);
		CU_ASSERT_EQUAL(rc, MT_ENOMEM);
		CU_ASSERT_EQUAL(t.n, 0);
		CU_ASSERT_PTR_NULL(t.rec[0]);
	}
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(dns_txt_from_rdata(data, len, &t), MT_OK);
	CU_ASSERT_EQUAL(t.n, 2);
	dns_txt_clear(&t);
}

static void t_wire_name(void)
{
	char name[254];
	unsigned char longname[300];
	size_t i, o = 0;

	CU_ASSERT_EQUAL(dns_wire_name(U("\x03mx1\x07" "example\x04test\x00"),
				      18, name), 0);
	CU_ASSERT_STRING_EQUAL(name, "mx1.example.test");
	CU_ASSERT_EQUAL(dns_wire_name(U("\x00"), 1, name), 0);
	CU_ASSERT_STRING_EQUAL(name, "");
	/* no terminating root label */
	CU_ASSERT_EQUAL(dns_wire_name(U("\x03mx1"), 4, name), -1);
	/* label length past the end */
	CU_ASSERT_EQUAL(dns_wire_name(U("\x09mx1\x00"), 5, name), -1);
	/* compression pointer (never in libunbound's rdata) */
	CU_ASSERT_EQUAL(dns_wire_name(U("\xc0\x0c"), 2, name), -1);
	CU_ASSERT_EQUAL(dns_wire_name(U(""), 0, name), -1);
	/* 5 labels of 63 = 319 octets: over 253 */
	for (i = 0; i < 4; i++) {
		longname[o++] = 63;
		memset(longname + o, 'a', 63);
		o += 63;
	}
	longname[o++] = 0;
	CU_ASSERT_EQUAL(dns_wire_name(longname, o, name), -1);
}

static void t_mx_rdata(void)
{
	uint16_t pref = 0;
	char host[254];

	CU_ASSERT_EQUAL(dns_mx_rdata(U("\x00\x0a\x03MX1\x04Test\x00"), 12,
				     &pref, host), MT_OK);
	CU_ASSERT_EQUAL(pref, 10);
	CU_ASSERT_STRING_EQUAL(host, "mx1.test");
	CU_ASSERT_EQUAL(dns_mx_rdata(U("\x01\x00\x00"), 3, &pref, host), MT_OK);
	CU_ASSERT_EQUAL(pref, 256);
	CU_ASSERT_STRING_EQUAL(host, "");	/* null MX */
	CU_ASSERT_EQUAL(dns_mx_rdata(U("\x00\x0a"), 2, &pref, host), MT_EPARSE);
	/* not a host name */
	CU_ASSERT_EQUAL(dns_mx_rdata(U("\x00\x0a\x03" "a b\x00"), 7, &pref,
				     host), MT_EPARSE);
}

static void t_names(void)
{
	CU_ASSERT_STRING_EQUAL(dns_status_str(DNS_ANSWER), "answer");
	CU_ASSERT_STRING_EQUAL(dns_status_str(DNS_NXDOMAIN), "nxdomain");
	CU_ASSERT_STRING_EQUAL(dns_status_str(DNS_NODATA), "nodata");
	CU_ASSERT_STRING_EQUAL(dns_status_str(DNS_TEMPFAIL), "tempfail");
	CU_ASSERT_STRING_EQUAL(dns_status_str((enum dns_status)99), "unknown");
	CU_ASSERT_STRING_EQUAL(dns_sec_str(DNS_SEC_SECURE), "secure");
	CU_ASSERT_STRING_EQUAL(dns_sec_str(DNS_SEC_BOGUS), "bogus");
	CU_ASSERT_STRING_EQUAL(dns_sec_str(DNS_SEC_INSECURE), "insecure");
}

static void t_create_bad_resolv(void)
{
	struct dns *d = (struct dns *)1;
	struct dns_opts o;

	memset(&o, 0, sizeof(o));
	o.resolv_conf = "/nonexistent/resolv.conf";
	CU_ASSERT_NOT_EQUAL(dns_create(&d, &o), MT_OK);
	CU_ASSERT_PTR_NULL(d);
	dns_destroy(NULL);
}

/* Recursive mode loads the root trust anchor (Debian: dns-root-data);
 * nothing is sent until a lookup. */
static void t_create_recursive(void)
{
	struct dns *d = NULL;
	struct dns_opts o;

	memset(&o, 0, sizeof(o));
	o.recursive = 1;
	CU_ASSERT_EQUAL(dns_create(&d, &o), MT_OK);
	CU_ASSERT_PTR_NOT_NULL(d);
	dns_destroy(d);
	o.trust_anchor = "/nonexistent/root.key";
	CU_ASSERT_NOT_EQUAL(dns_create(&d, &o), MT_OK);
	CU_ASSERT_PTR_NULL(d);
}

/* Arguments checked before anything is sent. */
static void t_bad_args(void)
{
	struct dns *d = NULL;
	struct dns_opts o;
	struct dns_txt t;
	struct dns_mx m;
	struct dns_tlsa l;
	char longname[300];

	memset(&o, 0, sizeof(o));
	o.recursive = 1;
	CU_ASSERT_EQUAL_FATAL(dns_create(&d, &o), MT_OK);
	CU_ASSERT_EQUAL(dns_txt(d, "a b.test", &t), MT_EINVAL);
	CU_ASSERT_EQUAL(t.n, 0);
	CU_ASSERT_EQUAL(t.status, DNS_TEMPFAIL);
	CU_ASSERT_EQUAL(dns_txt(d, "", &t), MT_EINVAL);
	CU_ASSERT_EQUAL(dns_txt(NULL, "x.test", &t), MT_EINVAL);
	CU_ASSERT_EQUAL(dns_mx(d, "x.test\n", &m), MT_EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CU_ASSERT_EQUAL(dns_mx(d, longname, &m), MT_EINVAL);
	CU_ASSERT_EQUAL(dns_tlsa(d, "mx.test", 70000, &l), MT_EINVAL);
	longname[250] = '\0';
	CU_ASSERT_EQUAL(dns_tlsa(d, longname, 25, &l), MT_EINVAL);
	dns_destroy(d);
}

static CU_TestInfo tests[] = {
	{"txt rdata join", t_join},
	{"txt rdata join cap", t_join_cap},
	{"txt rrset from rdata", t_from_rdata},
	{"txt rrset over the record cap", t_from_rdata_many},
	{"txt record over the length cap", t_from_rdata_long},
	{"txt rrset out of memory", t_from_rdata_oom},
	{"wire-format names", t_wire_name},
	{"mx rdata", t_mx_rdata},
	{"status names", t_names},
	{"bad resolv.conf", t_create_bad_resolv},
	{"recursive mode", t_create_recursive},
	{"bad arguments", t_bad_args},
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("dns", tests);
	return 0;
}
