/* test_tlsverify.c - DNS-ID matching (RFC 6125 §6.4, RFC 8461 §3.3/§4.2):
 * the pure name rule table-driven, then real certificates made here with
 * GnuTLS (one ECDSA key, certificates with chosen subjectAltNames and
 * common names) checked through the DER entry point.  Hermetic: nothing
 * is read from disk or the network. */
#include <string.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "cunit_main.h"
#include "status.h"
#include "tlsverify.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void t_name_rule(void)
{
	static const struct {
		const char *label;
		const char *id;
		const char *host;
		int want;
	} cases[] = {
		{"exact", "mta-sts.example.com", "mta-sts.example.com", 1},
		{"case-insensitive", "MTA-STS.Example.COM",
		 "mta-sts.example.com", 1},
		{"host upper case", "mta-sts.example.com",
		 "MTA-STS.EXAMPLE.COM", 1},
		{"other name", "www.example.com", "mta-sts.example.com", 0},
		{"suffix only", "example.com", "mta-sts.example.com", 0},
		{"longer id", "x.mta-sts.example.com", "mta-sts.example.com",
		 0},
		{"wildcard one label", "*.example.com", "mta-sts.example.com",
		 1},
		{"wildcard upper case", "*.EXAMPLE.com", "mx1.example.com", 1},
		{"wildcard two labels", "*.example.com",
		 "a.mta-sts.example.com", 0},
		{"wildcard zero labels", "*.example.com", "example.com", 0},
		{"wildcard other parent", "*.example.net",
		 "mta-sts.example.com", 0},
		{"wildcard over one label", "*.com", "example.com", 0},
		{"wildcard alone", "*", "example", 0},
		{"wildcard dot alone", "*.", "a.", 0},
		{"partial wildcard prefix", "m*.example.com",
		 "mta-sts.example.com", 0},
		{"partial wildcard suffix", "*s.example.com",
		 "mta-sts.example.com", 0},
		{"wildcard not left-most", "mta-sts.*.com",
		 "mta-sts.example.com", 0},
		{"double wildcard", "*.*.example.com", "a.b.example.com", 0},
		{"wildcard on an A-label host", "*.example.com",
		 "xn--bcher-kva.example.com", 1},
		{"A-label exact", "mta-sts.xn--bcher-kva.example",
		 "mta-sts.xn--bcher-kva.example", 1},
		{"A-label case", "MTA-STS.XN--BCHER-KVA.example",
		 "mta-sts.xn--bcher-kva.example", 1},
		{"U-label never matches", "mta-sts.b\xc3\xbc" "cher.example",
		 "mta-sts.xn--bcher-kva.example", 0},
		{"trailing dot", "mta-sts.example.com.",
		 "mta-sts.example.com", 0},
		{"empty label", "mta-sts..example.com",
		 "mta-sts..example.com", 0},
		{"empty id", "", "mta-sts.example.com", 0},
		{"underscore", "mta_sts.example.com", "mta_sts.example.com",
		 0},
		{"space", "mta-sts.example.com ", "mta-sts.example.com", 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int got = tlsverify_name_match(cases[i].id,
					       strlen(cases[i].id),
					       cases[i].host);

		if (got != cases[i].want)
			fprintf(stderr, "\n  case '%s': got %d\n",
				cases[i].label, got);
		CU_ASSERT_EQUAL(got, cases[i].want);
	}
	/* bytes after an embedded NUL are part of the identifier */
	CU_ASSERT_EQUAL(tlsverify_name_match("mta-sts.example.com\0.evil",
					     25, "mta-sts.example.com"), 0);
	CU_ASSERT_EQUAL(tlsverify_name_match("mta-sts.example.com\0", 20,
					     "mta-sts.example.com"), 0);
	CU_ASSERT_EQUAL(tlsverify_name_match(NULL, 0, "a.example"), 0);
	CU_ASSERT_EQUAL(tlsverify_name_match("a.example", 9, NULL), 0);
	/* the identifier's length is what counts, not a NUL after it */
	CU_ASSERT_EQUAL(tlsverify_name_match("mta-sts.example.comX", 19,
					     "mta-sts.example.com"), 1);
}

/* --- certificates made here --------------------------------------------- */

static gnutls_x509_privkey_t key;

static int suite_init(void)
{
	if (gnutls_global_init() < 0 || gnutls_x509_privkey_init(&key) < 0)
		return -1;
	return gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ?
		-1 : 0;
}

static int suite_clean(void)
{
	gnutls_x509_privkey_deinit(key);
	gnutls_global_deinit();
	return 0;
}

/* A self-signed leaf with subject CN cn (NULL: none) and the
 * subjectAltNames in sans, "dns:NAME", "ip:ADDR" (4 bytes raw) or
 * "mail:ADDR", NULL-terminated, or else the subjectAltName extension
 * given as DER in raw[0..rawlen).  DER into *der (gnutls_free). */
static int make_cert_raw(const char *cn, const char *const *sans,
			 const unsigned char *raw, size_t rawlen,
			 gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt = NULL;
	unsigned char serial[4] = { 1, 2, 3, 4 };
	int err;
	size_t i;

	err = gnutls_x509_crt_init(&crt);
	if (err == 0)
		err = gnutls_x509_crt_set_version(crt, 3);
	if (err == 0)
		err = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	if (err == 0)
		err = gnutls_x509_crt_set_activation_time(crt, 1000000000);
	if (err == 0)
		err = gnutls_x509_crt_set_expiration_time(crt, 2000000000);
	if (err == 0 && cn != NULL)
		err = gnutls_x509_crt_set_dn_by_oid(crt,
			GNUTLS_OID_X520_COMMON_NAME, 0, cn,
			(unsigned)strlen(cn));
	if (err == 0 && cn == NULL)
		err = gnutls_x509_crt_set_dn_by_oid(crt,
			GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "test", 4);
	for (i = 0; err == 0 && sans != NULL && sans[i] != NULL; i++) {
		const char *s = sans[i];

		if (strncmp(s, "dns:", 4) == 0)
			err = gnutls_x509_crt_set_subject_alt_name(crt,
				GNUTLS_SAN_DNSNAME, s + 4,
				(unsigned)strlen(s + 4), GNUTLS_FSAN_APPEND);
		else if (strncmp(s, "ip:", 3) == 0)
			err = gnutls_x509_crt_set_subject_alt_name(crt,
				GNUTLS_SAN_IPADDRESS, s + 3, 4,
				GNUTLS_FSAN_APPEND);
		else if (strncmp(s, "mail:", 5) == 0)
			err = gnutls_x509_crt_set_subject_alt_name(crt,
				GNUTLS_SAN_RFC822NAME, s + 5,
				(unsigned)strlen(s + 5), GNUTLS_FSAN_APPEND);
		else
			err = -1;
	}
	if (err == 0 && raw != NULL)
		err = gnutls_x509_crt_set_extension_by_oid(crt, "2.5.29.17",
							   raw, rawlen, 0);
	if (err == 0)
		err = gnutls_x509_crt_set_key(crt, key);
	if (err == 0)
		err = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256,
					    0);
	if (err == 0)
		err = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, der);
	gnutls_x509_crt_deinit(crt);
	return err;
}

static int make_cert(const char *cn, const char *const *sans,
		     gnutls_datum_t *der)
{
	return make_cert_raw(cn, sans, NULL, 0, der);
}

static void t_certificates(void)
{
	static const char *const none[] = { NULL };
	static const char *const one[] = { "dns:mta-sts.example.com", NULL };
	static const char *const other[] = { "dns:www.example.com", NULL };
	static const char *const several[] = {
		"dns:www.example.com", "mail:postmaster@example.com",
		"ip:\xc0\x00\x02\x01", "dns:MTA-STS.example.COM", NULL,
	};
	static const char *const wild[] = { "dns:*.example.com", NULL };
	static const char *const wildtld[] = { "dns:*.com", NULL };
	static const char *const mailonly[] = {
		"mail:mta-sts.example.com", NULL,
	};
	static const char *const aname[] = {
		"dns:mta-sts.xn--bcher-kva.example", NULL,
	};
	static const struct {
		const char *label;
		const char *cn;
		const char *const *sans;
		const char *host;
		int want;
	} cases[] = {
		{"SAN dNSName", NULL, one, "mta-sts.example.com", MT_OK},
		{"SAN and the same CN", "mta-sts.example.com", one,
		 "mta-sts.example.com", MT_OK},
		/* RFC 8461 §3.3: DNS-IDs only, no fallback to the CN */
		{"CN only, no SAN", "mta-sts.example.com", none,
		 "mta-sts.example.com", MT_ENOTFOUND},
		{"CN matches, SAN names another host", "mta-sts.example.com",
		 other, "mta-sts.example.com", MT_ENOTFOUND},
		{"the matching name among other SAN types", "x", several,
		 "mta-sts.example.com", MT_OK},
		{"wildcard SAN", "x", wild, "mta-sts.example.com", MT_OK},
		{"wildcard SAN, two labels", "x", wild,
		 "a.mta-sts.example.com", MT_ENOTFOUND},
		{"wildcard over a TLD", "x", wildtld, "example.com",
		 MT_ENOTFOUND},
		{"the name only as an email SAN", "mta-sts.example.com",
		 mailonly, "mta-sts.example.com", MT_ENOTFOUND},
		{"no subject, no SAN", NULL, none, "mta-sts.example.com",
		 MT_ENOTFOUND},
		{"A-label SAN", NULL, aname, "mta-sts.xn--bcher-kva.example",
		 MT_OK},
	};
	gnutls_datum_t der;
	size_t i;
	int got;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(&der, 0, sizeof(der));
		CU_ASSERT_EQUAL_FATAL(make_cert(cases[i].cn, cases[i].sans,
						&der), 0);
		got = tlsverify_dnsid_match_der(der.data, der.size,
						cases[i].host);
		if (got != cases[i].want)
			fprintf(stderr, "\n  case '%s': got %d\n",
				cases[i].label, got);
		CU_ASSERT_EQUAL(got, cases[i].want);
		gnutls_free(der.data);
	}
}

/* A dNSName with a NUL inside (GnuTLS will not write one, so the
 * extension is given as DER): the name before the NUL must not match,
 * whether GnuTLS hands the bytes over or refuses the extension. */
static void t_embedded_nul(void)
{
	/* RFC 5280 §4.2.1.6: SEQUENCE { [2] IA5String } */
	static const char nul[] = "mta-sts.example.com\0.evil.test";
	unsigned char ext[2 + 2 + sizeof(nul) - 1];
	gnutls_datum_t der = { NULL, 0 };
	gnutls_datum_t der2 = { NULL, 0 };

	ext[0] = 0x30;
	ext[1] = (unsigned char)(2 + sizeof(nul) - 1);
	ext[2] = 0x82;
	ext[3] = (unsigned char)(sizeof(nul) - 1);
	memcpy(ext + 4, nul, sizeof(nul) - 1);
	CU_ASSERT_EQUAL_FATAL(make_cert_raw("mta-sts.example.com", NULL, ext,
					    sizeof(ext), &der), 0);
	CU_ASSERT_EQUAL(tlsverify_dnsid_match_der(der.data, der.size,
		"mta-sts.example.com"), MT_ENOTFOUND);
	/* the same extension without the NUL and its tail does match */
	ext[1] = (unsigned char)(2 + 19);
	ext[3] = 19;
	CU_ASSERT_EQUAL_FATAL(make_cert_raw("x", NULL, ext, 4 + 19, &der2), 0);
	CU_ASSERT_EQUAL(tlsverify_dnsid_match_der(der2.data, der2.size,
		"mta-sts.example.com"), MT_OK);
	gnutls_free(der.data);
	gnutls_free(der2.data);
}

static void t_bad_input(void)
{
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	gnutls_datum_t der = { NULL, 0 };
	static const char *const one[] = { "dns:mta-sts.example.com", NULL };

	CU_ASSERT_EQUAL(tlsverify_dnsid_match_der(junk, sizeof(junk),
						  "mta-sts.example.com"),
			MT_EPARSE);
	CU_ASSERT_EQUAL(tlsverify_dnsid_match_der(NULL, 0, "a.example"),
			MT_EINVAL);
	CU_ASSERT_EQUAL(tlsverify_dnsid_match(NULL, "a.example"), MT_EINVAL);
	CU_ASSERT_EQUAL(tlsverify_session_dnsid(NULL, "a.example"),
			MT_EINVAL);
	CU_ASSERT_EQUAL_FATAL(make_cert(NULL, one, &der), 0);
	CU_ASSERT_EQUAL(tlsverify_dnsid_match_der(der.data, der.size, NULL),
			MT_EINVAL);
	/* cut short: not a certificate any more */
	CU_ASSERT_EQUAL(tlsverify_dnsid_match_der(der.data, der.size / 2,
						  "mta-sts.example.com"),
			MT_EPARSE);
	gnutls_free(der.data);
}

static CU_TestInfo tests[] = {
	{"name rule", t_name_rule},
	{"certificates", t_certificates},
	{"embedded NUL in a dNSName", t_embedded_nul},
	{"bad input", t_bad_input},
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CU_pSuite s = CU_add_suite("tlsverify", suite_init, suite_clean);
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; tests[i].pName != NULL; i++)
		if (CU_add_test(s, tests[i].pName, tests[i].pTestFunc) == NULL)
			return -1;
	return 0;
}
