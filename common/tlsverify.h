/*
 * tlsverify.h - certificate checks RFC 8461 needs beyond what libcurl and
 * GnuTLS do, on GnuTLS.
 *
 * RFC 8461 §3.3 (the policy host) and §4.2 (the MX host) match the host
 * name against the certificate's DNS-IDs only: subjectAltName entries of
 * type dNSName (RFC 6125 §6.4).  GnuTLS falls back to the subject's common
 * name when a certificate has no dNSName; these functions never look at
 * the subject.  Every function is pure over its arguments (no I/O, no
 * global state) and thread-safe.
 */
#ifndef MTASTS_TLSVERIFY_H
#define MTASTS_TLSVERIFY_H
#include <stddef.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* Does the presented identifier id[0..idlen) (one dNSName as it stands in
 * the certificate) match host (a host name: A-labels, no trailing dot)?
 * RFC 6125 §6.4 with RFC 8461 §4.2's wildcard rule: ASCII letters compare
 * without case; "*" only as the complete left-most label, standing for
 * exactly one non-empty label, and only above two or more labels
 * ("*.example.com", never "*.com" or "*"); partial wildcards ("m*.x.com"),
 * U-labels, NUL bytes, empty labels and a trailing dot never match.
 * Returns 1 for a match, else 0. */
int tlsverify_name_match(const char *id, size_t idlen, const char *host);

/* Does any subjectAltName dNSName of crt match host?  The subject CN is
 * never consulted.  MT_OK: a DNS-ID matches; MT_ENOTFOUND: none does (or
 * the certificate has none); MT_EINVAL: NULL argument. */
int tlsverify_dnsid_match(gnutls_x509_crt_t crt, const char *host);

/* The same for a DER-encoded certificate; MT_EPARSE when der is not one,
 * MT_ENOMEM. */
int tlsverify_dnsid_match_der(const unsigned char *der, size_t len,
			      const char *host);

/* The same for the end-entity certificate the peer of session sent:
 * MT_ENOTFOUND also when it sent none or not an X.509 one. */
int tlsverify_session_dnsid(gnutls_session_t session, const char *host);

#endif
