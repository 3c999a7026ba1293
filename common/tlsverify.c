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
 * Trust: the certificate is remote data; GnuTLS parses it, every length
 * GnuTLS returns is checked against the bytes actually present.
 */
#include <string.h>
#include <strings.h>
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
			return 0;	/* an empty label, a trailing dot */
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
		return hlabels == idlabels + 1 &&
		       strlen(hrest) == idlen - 2 &&
		       strncasecmp(hrest, id + 2, idlen - 2) == 0;
	}
	if (!ldh_name(id, idlen, &idlabels))
		return 0;	/* "*", "m*.x.com", NUL, U-labels, ... */
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
			continue;	/* longer than any host name; not a
					 * name type GnuTLS knows */
		if (type < 0)
			break;	/* unreadable extension: no match */
		if (type != GNUTLS_SAN_DNSNAME || size >= sizeof(name))
			continue;	/* RFC 6125 §6.4: DNS-IDs only */
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
