/*
 * tlsverify.c - certificate checks RFC 8461 needs beyond libcurl's, on
 * GnuTLS: the host name against DNS-IDs only.
 *
 * RFC 8461 §3.3: the policy host "MUST present an X.509 certificate that
 * is valid for the "mta-sts" DNS-ID ([RFC6125])"; §4.2, of the MX host:
 * "The certificate MUST have a subject alternative name (SAN) [RFC5280]
 * with a DNS-ID [RFC6125] matching the hostname".  RFC 6125 §6.4.4 lets a
 * client fall back to the subject's CN only as a last resort ("MAY"), and
 * RFC 9525, which replaces it, drops CN-IDs altogether.  GnuTLS
 * (gnutls_x509_crt_check_hostname, what libcurl calls) does fall back
 * when a certificate has no dNSName, so the name check is made again
 * here, over subjectAltName dNSName entries alone.
 *
 * Matching (RFC 6125 §6.4.1-§6.4.3, RFC 8461 §4.2 for the wildcard):
 *   - a presented identifier is the dNSName's bytes as they stand: LDH
 *     labels of 1..63 octets, at most 253 octets, no trailing dot; any
 *     other byte (NUL, non-ASCII: a U-label is not a valid dNSName, RFC
 *     5280 §4.2.1.6 requires the IA5 preferred name syntax) never matches;
 *   - letters compare without case (RFC 4343); A-labels compare as ASCII;
 *   - "*" only as the complete left-most label, standing for exactly one
 *     non-empty label of the host, and only when two or more labels follow
 *     (a wildcard over a single label, "*.com", is refused: RFC 6125 §7.2);
 *     partial wildcards ("m*.example.com", "*x.example.com") never match.
 * Chain (RFC 8461 §4.2: the certificate "MUST chain to a root CA that is
 * trusted by the sending MTA", be non-expired, ...): GnuTLS's trust list
 * verifies signatures, CA constraints and the serverAuth purpose with its
 * time checks turned off; the dates of every presented certificate are
 * compared here with the caller's clock.  A caller so tells "untrusted"
 * from "expired", and an injected test clock is what counts.
 * Trust: the certificate is remote data; GnuTLS parses it, every length
 * GnuTLS returns is checked against the bytes actually present.  The
 * trust store is the operator's (ca_file) or the system's.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "domain.h"
#include "status.h"
#include "tlsverify.h"

/* One label of a presented identifier: LDH only (RFC 1034 §3.5 preferred
 * syntax, RFC 5280 §4.2.1.6). */
static int ldh_label(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

/* Is s[0..n) a dotted name of LDH labels?  *labels gets their number. */
static int ldh_name(const char *s, size_t n, size_t *labels)
{
	size_t start = 0, i;

	*labels = 0;
	if (n == 0 || n > DOMAIN_MAX)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (!ldh_label(s + start, i - start))
			return 0; /* an empty label, a trailing dot */
		(*labels)++;
		start = i + 1;
	}
	return 1;
}

int tlsverify_name_match(const char *id, size_t idlen, const char *host)
{
	size_t hlen, idlabels, hlabels;
	const char *hrest;

	if (id == NULL || host == NULL)
		return 0;
	hlen = strlen(host);
	if (!ldh_name(host, hlen, &hlabels))
		return 0;
	if (idlen >= 2 && id[0] == '*' && id[1] == '.') {
		/* RFC 8461 §4.2: the wildcard is the whole left-most label
		 * and matches exactly one label; two or more labels below it
		 * (RFC 6125 §7.2) */
		if (!ldh_name(id + 2, idlen - 2, &idlabels) || idlabels < 2)
			return 0;
		hrest = memchr(host, '.', hlen);
		if (hrest == NULL || hrest == host)
			return 0;
		hrest++;
		return hlabels == idlabels + 1 && strlen(hrest) == idlen - 2 &&
		       strncasecmp(hrest, id + 2, idlen - 2) == 0;
	}
	if (!ldh_name(id, idlen, &idlabels))
		return 0; /* "*", "m*.x.com", NUL, U-labels, ... */
	return idlen == hlen && strncasecmp(id, host, hlen) == 0;
}

int tlsverify_dnsid_match(gnutls_x509_crt_t crt, const char *host)
{
	char name[DOMAIN_BUFSZ + 1];
	unsigned seq, critical;
	size_t size;
	int type, rc = MT_ENOTFOUND;

	if (crt == NULL || host == NULL)
		return MT_EINVAL;
	for (seq = 0;; seq++) {
		size = sizeof(name);
		type = gnutls_x509_crt_get_subject_alt_name(crt, seq, name,
							    &size, &critical);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER ||
		    type == GNUTLS_E_X509_UNKNOWN_SAN)
			/* longer than any host name; not a name type GnuTLS
			 * knows */
			continue;
		if (type < 0)
			break; /* unreadable extension: no match */
		if (type != GNUTLS_SAN_DNSNAME || size >= sizeof(name))
			continue; /* RFC 6125 §6.4: DNS-IDs only */
		/* size counts the bytes present: an embedded NUL stays in
		 * and fails the LDH check */
		if (tlsverify_name_match(name, size, host)) {
			rc = MT_OK;
			break;
		}
	}
	return rc;
}

int tlsverify_dnsid_match_der(const unsigned char *der, size_t len,
			      const char *host)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	int err, rc;

	if (der == NULL || host == NULL || len == 0 || len > 0xffffffffu)
		return MT_EINVAL;
	err = gnutls_x509_crt_init(&crt);
	if (err < 0)
		return MT_ENOMEM;
	d.data = (unsigned char *)der;
	d.size = (unsigned)len;
	err = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (err == GNUTLS_E_MEMORY_ERROR)
		rc = MT_ENOMEM;
	else if (err < 0)
		rc = MT_EPARSE;
	else
		rc = tlsverify_dnsid_match(crt, host);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

int tlsverify_cn_only_der(const unsigned char *der, size_t len,
			  const char *host)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	char name[DOMAIN_BUFSZ + 1];
	unsigned seq, critical;
	size_t size;
	int err, type, rc = 1;

	if (der == NULL || host == NULL || len == 0 || len > 0xffffffffu)
		return MT_EINVAL;
	if (gnutls_x509_crt_init(&crt) < 0)
		return MT_ENOMEM;
	d.data = (unsigned char *)der;
	d.size = (unsigned)len;
	err = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (err < 0) {
		gnutls_x509_crt_deinit(crt);
		return err == GNUTLS_E_MEMORY_ERROR ? MT_ENOMEM : MT_EPARSE;
	}
	for (seq = 0; rc == 1; seq++) {
		size = sizeof(name);
		type = gnutls_x509_crt_get_subject_alt_name(crt, seq, name,
							    &size, &critical);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_SAN_DNSNAME ||
		    type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			rc = 0; /* a dNSName (or one too long to read) */
	}
	/* with no dNSName GnuTLS compares the CN (RFC 6125 §6.4.4) */
	if (rc == 1)
		rc = gnutls_x509_crt_check_hostname2(crt, host, 0) ? 1 : 0;
	gnutls_x509_crt_deinit(crt);
	return rc;
}

int tlsverify_session_dnsid(gnutls_session_t session, const char *host)
{
	const gnutls_datum_t *peers;
	unsigned n = 0;
	int rc;

	if (session == NULL || host == NULL)
		return MT_EINVAL;
	if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509)
		return MT_ENOTFOUND;
	peers = gnutls_certificate_get_peers(session, &n);
	if (peers == NULL || n == 0)
		return MT_ENOTFOUND;
	/* the first is the peer's own certificate (RFC 8446 §4.4.2) */
	rc = tlsverify_dnsid_match_der(peers[0].data, peers[0].size, host);
	return rc == MT_EPARSE ? MT_ENOTFOUND : rc;
}

int tlsverify_trust_create(gnutls_x509_trust_list_t *out, const char *ca_file)
{
	gnutls_x509_trust_list_t tl = NULL;
	const char *file = ca_file;
	int err, rc = MT_OK;

	if (out == NULL)
		return MT_EINVAL;
	*out = NULL;
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		return MT_ENOMEM;
	if (file == NULL && access(TLSVERIFY_SYSTEM_BUNDLE, R_OK) == 0)
		file = TLSVERIFY_SYSTEM_BUNDLE;
	if (file != NULL)
		err = gnutls_x509_trust_list_add_trust_file(
			tl, file, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	else
		err = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	/* the number of certificates added: none is no trust store */
	if (err == GNUTLS_E_MEMORY_ERROR)
		rc = MT_ENOMEM;
	else if (err <= 0)
		rc = MT_EIO;
	if (rc != MT_OK)
		gnutls_x509_trust_list_deinit(tl, 1);
	else
		*out = tl;
	return rc;
}

void tlsverify_trust_destroy(gnutls_x509_trust_list_t tl)
{
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
}

int64_t tlsverify_days_left(int64_t not_after, int64_t now)
{
	int64_t d = not_after - now;

	return d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
}

/* Certificates looked at in a chain; a peer sending more is odd, the rest
 * is ignored (GnuTLS's own limit is 16 as well). */
#define CHAIN_MAX 16

int tlsverify_chain_check(gnutls_x509_trust_list_t tl,
			  const gnutls_datum_t *certs, unsigned n, int64_t now,
			  struct tlsverify_chain *out)
{
	gnutls_x509_crt_t crt[CHAIN_MAX];
	gnutls_typed_vdata_st purpose;
	gnutls_datum_t txt = { NULL, 0 };
	unsigned i, have = 0, status = 0;
	int err, rc = MT_OK;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (tl == NULL || certs == NULL || n == 0 || out == NULL)
		return MT_EINVAL;
	if (n > CHAIN_MAX)
		n = CHAIN_MAX;
	for (i = 0; i < n; i++) {
		time_t nb, na;

		if (gnutls_x509_crt_init(&crt[i]) < 0) {
			rc = MT_ENOMEM;
			goto out;
		}
		have++;
		err = gnutls_x509_crt_import(crt[i], &certs[i],
					     GNUTLS_X509_FMT_DER);
		nb = err < 0 ? (time_t)-1 :
			       gnutls_x509_crt_get_activation_time(crt[i]);
		na = err < 0 ? (time_t)-1 :
			       gnutls_x509_crt_get_expiration_time(crt[i]);
		if (err == GNUTLS_E_MEMORY_ERROR) {
			rc = MT_ENOMEM;
			goto out;
		}
		if (err < 0 || nb == (time_t)-1 || na == (time_t)-1) {
			snprintf(out->why, sizeof(out->why),
				 "certificate %u "
				 "of the chain does not parse",
				 i + 1);
			rc = MT_EPARSE;
			goto out;
		}
		if ((int64_t)na < now)
			out->expired = 1;
		if ((int64_t)nb > now)
			out->not_yet_valid = 1;
		if (i == 0) {
			out->not_before = (int64_t)nb;
			out->not_after = (int64_t)na;
		}
	}
	out->self_signed = gnutls_x509_crt_check_issuer(crt[0], crt[0]) != 0;
	/* RFC 8461 §4.2 by way of RFC 6125: a TLS server certificate (the
	 * extended key usage, when present, must allow serverAuth) */
	memset(&purpose, 0, sizeof(purpose));
	purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
	purpose.data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	err = gnutls_x509_trust_list_verify_crt2(
		tl, crt, n, &purpose, 1,
		GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
			GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
		&status, NULL);
	if (err == GNUTLS_E_MEMORY_ERROR) {
		rc = MT_ENOMEM;
		goto out;
	}
	if (err < 0)
		status |= GNUTLS_CERT_INVALID;
	out->status = status;
	out->trusted = status == 0;
	if (!out->trusted) {
		if (gnutls_certificate_verification_status_print(
			    status, GNUTLS_CRT_X509, &txt, 0) == 0 &&
		    txt.data != NULL) {
			size_t k;

			snprintf(out->why, sizeof(out->why), "%.*s",
				 (int)txt.size, (const char *)txt.data);
			k = strlen(out->why);
			while (k > 0 && out->why[k - 1] == ' ')
				out->why[--k] = '\0';
		} else
			snprintf(out->why, sizeof(out->why),
				 "the chain does not verify");
		gnutls_free(txt.data);
	}
out:
	for (i = 0; i < have; i++)
		gnutls_x509_crt_deinit(crt[i]);
	return rc;
}

int tlsverify_session_not_after(gnutls_session_t session, int64_t *not_after)
{
	const gnutls_datum_t *peers;
	gnutls_x509_crt_t crt = NULL;
	unsigned n = 0;
	time_t na = (time_t)-1;
	int rc = MT_ENOTFOUND;

	if (session == NULL || not_after == NULL)
		return MT_EINVAL;
	if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509)
		return MT_ENOTFOUND;
	peers = gnutls_certificate_get_peers(session, &n);
	if (peers == NULL || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return MT_ENOTFOUND;
	if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) >= 0)
		na = gnutls_x509_crt_get_expiration_time(crt);
	if (na != (time_t)-1) {
		*not_after = (int64_t)na;
		rc = MT_OK;
	}
	gnutls_x509_crt_deinit(crt);
	return rc;
}
