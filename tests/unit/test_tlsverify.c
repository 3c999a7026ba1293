/* test_tlsverify.c - DNS-ID matching (RFC 6125 §6.4, RFC 8461 §3.3/§4.2):
 * the pure name rule table-driven, then real certificates made here with
 * GnuTLS (one ECDSA key, certificates with chosen subjectAltNames and
 * common names) checked through the DER entry point; the chain check
 * (a CA and leaves made here, a trust list in memory, the clock given as
 * an argument: trust and dates apart), days left, the CN-only test for
 * messages, and the trust store loader's refusals (one temporary file).
 * Hermetic: no network, nothing read but the file written here. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

/* --- chains: a CA and leaves made here ---------------------------------- */

#define T2025 1735689600	/* 2025-01-01T00:00:00Z */
#define DAY 86400

/* A certificate signed by issuer/ikey (NULL: self-signed with key), with
 * subject CN cn, one dNSName san (NULL: none), valid nb..na; ca makes it
 * a CA.  DER into *der (gnutls_free); the certificate into *out when not
 * NULL (caller deinits). */
static int make_signed(const char *cn, const char *san, time_t nb, time_t na,
		       int ca, gnutls_x509_crt_t issuer,
		       gnutls_x509_privkey_t ikey, gnutls_x509_privkey_t k,
		       gnutls_datum_t *der, gnutls_x509_crt_t *out)
{
	static unsigned serial_no = 100;
	gnutls_x509_crt_t crt = NULL;
	unsigned char serial[4];
	int err;

	serial_no++;
	memcpy(serial, &serial_no, sizeof(serial));
	serial[0] &= 0x7f;
	err = gnutls_x509_crt_init(&crt);
	if (err == 0)
		err = gnutls_x509_crt_set_version(crt, 3);
	if (err == 0)
		err = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	if (err == 0)
		err = gnutls_x509_crt_set_activation_time(crt, nb);
	if (err == 0)
		err = gnutls_x509_crt_set_expiration_time(crt, na);
	if (err == 0)
		err = gnutls_x509_crt_set_dn_by_oid(crt,
			GNUTLS_OID_X520_COMMON_NAME, 0, cn,
			(unsigned)strlen(cn));
	if (err == 0 && san != NULL)
		err = gnutls_x509_crt_set_subject_alt_name(crt,
			GNUTLS_SAN_DNSNAME, san, (unsigned)strlen(san),
			GNUTLS_FSAN_APPEND);
	if (err == 0)
		err = gnutls_x509_crt_set_basic_constraints(crt, ca, -1);
	if (err == 0 && ca)
		err = gnutls_x509_crt_set_key_usage(crt,
			GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
	if (err == 0)
		err = gnutls_x509_crt_set_key(crt, k);
	if (err == 0)
		err = gnutls_x509_crt_sign2(crt, issuer ? issuer : crt,
					    ikey ? ikey : k, GNUTLS_DIG_SHA256,
					    0);
	if (err == 0 && der != NULL)
		err = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, der);
	if (err == 0 && out != NULL) {
		*out = crt;
		crt = NULL;
	}
	gnutls_x509_crt_deinit(crt);
	return err;
}

static void t_chain(void)
{
	gnutls_x509_privkey_t cakey = NULL, otherkey = NULL;
	gnutls_x509_crt_t ca = NULL, other = NULL, anchor = NULL;
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_datum_t leaf = { NULL, 0 }, cader = { NULL, 0 };
	gnutls_datum_t self = { NULL, 0 }, stranger = { NULL, 0 };
	gnutls_datum_t chain[2];
	struct tlsverify_chain ch;
	static const struct {
		const char *label;
		int which;	/* 0 leaf, 1 leaf + CA, 2 self, 3 other CA */
		int64_t now;
		int trusted, expired, not_yet, self_signed;
	} cases[] = {
		{"leaf alone, in its time", 0, T2025 + 100 * DAY, 1, 0, 0, 0},
		{"leaf and CA, in its time", 1, T2025 + 100 * DAY, 1, 0, 0, 0},
		{"leaf, the day it ends", 0, T2025 + 365 * DAY - 1, 1, 0, 0, 0},
		{"leaf, expired (dates apart from trust)", 0,
		 T2025 + 366 * DAY, 1, 1, 0, 0},
		{"leaf, not yet valid", 0, T2025 - DAY, 1, 0, 1, 0},
		{"self-signed", 2, T2025 + DAY, 0, 0, 0, 1},
		{"chain to an untrusted CA", 3, T2025 + DAY, 0, 0, 0, 0},
	};
	size_t i;

	CU_ASSERT_EQUAL_FATAL(gnutls_x509_privkey_init(&cakey), 0);
	CU_ASSERT_EQUAL_FATAL(gnutls_x509_privkey_generate(cakey,
		GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	CU_ASSERT_EQUAL_FATAL(gnutls_x509_privkey_init(&otherkey), 0);
	CU_ASSERT_EQUAL_FATAL(gnutls_x509_privkey_generate(otherkey,
		GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	CU_ASSERT_EQUAL_FATAL(make_signed("Test CA", NULL, T2025 - 10 * DAY,
		T2025 + 3650 * DAY, 1, NULL, NULL, cakey, &cader, &ca), 0);
	CU_ASSERT_EQUAL_FATAL(make_signed("Other CA", NULL, T2025 - 10 * DAY,
		T2025 + 3650 * DAY, 1, NULL, NULL, otherkey, NULL, &other), 0);
	CU_ASSERT_EQUAL_FATAL(make_signed("mx.example.com", "mx.example.com",
		T2025, T2025 + 365 * DAY, 0, ca, cakey, key, &leaf, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(make_signed("mx.example.com", "mx.example.com",
		T2025, T2025 + 365 * DAY, 0, NULL, NULL, key, &self, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(make_signed("mx.example.com", "mx.example.com",
		T2025, T2025 + 365 * DAY, 0, other, otherkey, key, &stranger,
		NULL), 0);
	/* the trust list owns what it is given */
	CU_ASSERT_EQUAL_FATAL(gnutls_x509_trust_list_init(&tl, 0), 0);
	CU_ASSERT_EQUAL_FATAL(make_signed("Test CA", NULL, T2025 - 10 * DAY,
		T2025 + 3650 * DAY, 1, NULL, NULL, cakey, NULL, &anchor), 0);
	gnutls_x509_crt_deinit(anchor);
	anchor = NULL;
	CU_ASSERT_EQUAL_FATAL(gnutls_x509_crt_init(&anchor), 0);
	CU_ASSERT_EQUAL_FATAL(gnutls_x509_crt_import(anchor, &cader,
		GNUTLS_X509_FMT_DER), 0);
	CU_ASSERT_EQUAL_FATAL(gnutls_x509_trust_list_add_cas(tl, &anchor, 1,
							     0), 1);

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned n = 1;
		int rc;

		switch (cases[i].which) {
		case 0:
		case 1:
			chain[0] = leaf;
			chain[1] = cader;
			n = cases[i].which == 1 ? 2 : 1;
			break;
		case 2:
			chain[0] = self;
			break;
		default:
			chain[0] = stranger;
			break;
		}
		rc = tlsverify_chain_check(tl, chain, n, cases[i].now, &ch);
		if (rc != MT_OK || ch.trusted != cases[i].trusted ||
		    ch.expired != cases[i].expired ||
		    ch.not_yet_valid != cases[i].not_yet ||
		    ch.self_signed != cases[i].self_signed)
			fprintf(stderr, "\n  case '%s': rc %d trusted %d "
				"expired %d not_yet %d self %d (%s)\n",
				cases[i].label, rc, ch.trusted, ch.expired,
				ch.not_yet_valid, ch.self_signed, ch.why);
		CU_ASSERT_EQUAL(rc, MT_OK);
		CU_ASSERT_EQUAL(ch.trusted, cases[i].trusted);
		CU_ASSERT_EQUAL(ch.expired, cases[i].expired);
		CU_ASSERT_EQUAL(ch.not_yet_valid, cases[i].not_yet);
		CU_ASSERT_EQUAL(ch.self_signed, cases[i].self_signed);
		CU_ASSERT_EQUAL(ch.not_after, T2025 + 365 * DAY);
		CU_ASSERT_EQUAL(ch.not_before, T2025);
		/* an untrusted chain says why, a trusted one not */
		CU_ASSERT_EQUAL(ch.why[0] != '\0', !cases[i].trusted);
		CU_ASSERT_EQUAL(ch.trusted, ch.status == 0);
	}
	/* an expired CA in the chain counts as an expired chain */
	{
		gnutls_datum_t oldca = { NULL, 0 }, leaf2 = { NULL, 0 };
		gnutls_x509_crt_t oc = NULL;

		CU_ASSERT_EQUAL_FATAL(make_signed("Test CA", NULL,
			T2025 - 10 * DAY, T2025 + 10 * DAY, 1, NULL, NULL,
			cakey, &oldca, &oc), 0);
		CU_ASSERT_EQUAL_FATAL(make_signed("mx.example.com",
			"mx.example.com", T2025, T2025 + 365 * DAY, 0, oc,
			cakey, key, &leaf2, NULL), 0);
		chain[0] = leaf2;
		chain[1] = oldca;
		CU_ASSERT_EQUAL(tlsverify_chain_check(tl, chain, 2,
			T2025 + 20 * DAY, &ch), MT_OK);
		CU_ASSERT_EQUAL(ch.expired, 1);
		CU_ASSERT(ch.not_after > T2025 + 20 * DAY);
		gnutls_x509_crt_deinit(oc);
		gnutls_free(oldca.data);
		gnutls_free(leaf2.data);
	}
	/* garbage and bad arguments */
	chain[0].data = (unsigned char *)"\x30\x03\x02\x01\x00";
	chain[0].size = 5;
	CU_ASSERT_EQUAL(tlsverify_chain_check(tl, chain, 1, T2025, &ch),
			MT_EPARSE);
	CU_ASSERT(ch.why[0] != '\0');
	CU_ASSERT_EQUAL(tlsverify_chain_check(tl, chain, 0, T2025, &ch),
			MT_EINVAL);
	CU_ASSERT_EQUAL(tlsverify_chain_check(NULL, &leaf, 1, T2025, &ch),
			MT_EINVAL);
	CU_ASSERT_EQUAL(tlsverify_chain_check(tl, &leaf, 1, T2025, NULL),
			MT_EINVAL);

	gnutls_x509_trust_list_deinit(tl, 1);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(other);
	gnutls_x509_privkey_deinit(cakey);
	gnutls_x509_privkey_deinit(otherkey);
	gnutls_free(leaf.data);
	gnutls_free(cader.data);
	gnutls_free(self.data);
	gnutls_free(stranger.data);
}

static void t_days_left(void)
{
	static const struct {
		int64_t delta, want;
	} cases[] = {
		{ 0, 0 }, { 1, 0 }, { DAY - 1, 0 }, { DAY, 1 },
		{ 5 * DAY + 3600, 5 }, { -1, -1 }, { -DAY, -1 },
		{ -DAY - 1, -2 }, { 3650 * (int64_t)DAY, 3650 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		CU_ASSERT_EQUAL(tlsverify_days_left(T2025 + cases[i].delta,
						    T2025), cases[i].want);
}

static void t_cn_only(void)
{
	static const char *const none[] = { NULL };
	static const char *const one[] = { "dns:mx.example.com", NULL };
	static const char *const mail[] = { "mail:mx@example.com", NULL };
	static const struct {
		const char *label, *cn;
		const char *const *sans;
		int want;
	} cases[] = {
		{"CN only", "mx.example.com", none, 1},
		{"CN and a dNSName", "mx.example.com", one, 0},
		{"CN for another host", "other.example.com", none, 0},
		{"CN and only an email SAN", "mx.example.com", mail, 1},
		{"no CN", NULL, none, 0},
	};
	gnutls_datum_t der;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int got;

		memset(&der, 0, sizeof(der));
		CU_ASSERT_EQUAL_FATAL(make_cert(cases[i].cn, cases[i].sans,
						&der), 0);
		got = tlsverify_cn_only_der(der.data, der.size,
					    "mx.example.com");
		if (got != cases[i].want)
			fprintf(stderr, "\n  case '%s': got %d\n",
				cases[i].label, got);
		CU_ASSERT_EQUAL(got, cases[i].want);
		gnutls_free(der.data);
	}
	CU_ASSERT_EQUAL(tlsverify_cn_only_der((const unsigned char *)"x", 1,
					      "mx.example.com"), MT_EPARSE);
	CU_ASSERT_EQUAL(tlsverify_cn_only_der(NULL, 0, "mx.example.com"),
			MT_EINVAL);
}

/* The trust store comes from a PEM file or the system: a file that is
 * missing or holds no certificate is an error, never an empty store that
 * would make every chain "untrusted". */
static void t_trust_store(void)
{
	char path[64];
	gnutls_x509_trust_list_t tl = NULL;
	FILE *f;

	CU_ASSERT_EQUAL(tlsverify_trust_create(&tl,
		"/nonexistent/mtasts-ca.pem"), MT_EIO);
	CU_ASSERT_PTR_NULL(tl);
	snprintf(path, sizeof(path), "/tmp/mtasts-tv-%d.pem", (int)getpid());
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("not a certificate\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(tlsverify_trust_create(&tl, path), MT_EIO);
	CU_ASSERT_PTR_NULL(tl);
	unlink(path);
	tlsverify_trust_destroy(NULL);
	CU_ASSERT_EQUAL(tlsverify_trust_create(NULL, NULL), MT_EINVAL);
}

static CU_TestInfo tests[] = {
	{"name rule", t_name_rule},
	{"certificates", t_certificates},
	{"embedded NUL in a dNSName", t_embedded_nul},
	{"bad input", t_bad_input},
	{"chain and dates", t_chain},
	{"days left", t_days_left},
	{"CN only (for messages)", t_cn_only},
	{"trust store", t_trust_store},
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
