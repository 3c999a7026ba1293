/*
 * tlsverify.h - certificate checks RFC 8461 needs beyond what libcurl and
 * GnuTLS do, on GnuTLS.
 *
 * RFC 8461 §3.3 (the policy host) and §4.2 (the MX host) match the host
 * name against the certificate's DNS-IDs only: subjectAltName entries of
 * type dNSName (RFC 6125 §6.4).  GnuTLS falls back to the subject's common
 * name when a certificate has no dNSName; these functions never look at
 * the subject.  The chain check (§4.2: "chain to a root CA that is trusted
 * by the sending MTA") takes the time as an argument and reports trust and
 * validity dates apart, so a caller can say which one failed.  Every
 * function but tlsverify_trust_create() (which reads the trust store) is
 * pure over its arguments (no I/O, no global state) and thread-safe.
 */
#ifndef MTASTS_TLSVERIFY_H
#define MTASTS_TLSVERIFY_H
#include <stddef.h>
#include <stdint.h>
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

/* For messages only: does the DER certificate have no dNSName at all and
 * name host in its subject CN - what a client with GnuTLS's CN fallback
 * accepts and RFC 8461 does not?  1 yes, 0 no; MT_EPARSE, MT_EINVAL,
 * MT_ENOMEM. */
int tlsverify_cn_only_der(const unsigned char *der, size_t len,
			  const char *host);

/* The trust store an MTA-STS sender validates against: the PEM file
 * ca_file (the `ca_file` setting), else the system bundle
 * (TLSVERIFY_SYSTEM_BUNDLE, or GnuTLS's idea of the system store when that
 * file is missing) - what the policy fetch trusts (fetch.c).  MT_OK with
 * *out set (tlsverify_trust_destroy() it), MT_EIO when the file holds no
 * certificate or cannot be read, MT_ENOMEM. */
#define TLSVERIFY_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
int tlsverify_trust_create(gnutls_x509_trust_list_t *out, const char *ca_file);
void tlsverify_trust_destroy(gnutls_x509_trust_list_t tl); /* NULL ok */

/* What the chain check found. */
struct tlsverify_chain {
	/* the chain leads to a trust anchor of the list: signatures, CA
	 * constraints, key usage (dates are checked apart, below) */
	int trusted;
	/* the end-entity certificate is its own issuer */
	int self_signed;
	unsigned status;    /* GnuTLS GNUTLS_CERT_* bits, 0 when trusted */
	int expired;	    /* a presented certificate has ended */
	int not_yet_valid;  /* a presented certificate starts after now */
	int64_t not_before; /* of the end-entity certificate */
	int64_t not_after;
	char why[160]; /* when not trusted: what GnuTLS says */
};

/* Check the chain certs[0..n) as a TLS peer sent it (end entity first)
 * against tl at time now (seconds since the epoch; GnuTLS's own clock is
 * not used, so an injected clock holds).  MT_OK with *out filled (trusted
 * or not), MT_EPARSE when a certificate does not parse (out->why says
 * which), MT_EINVAL (NULL, n == 0), MT_ENOMEM. */
int tlsverify_chain_check(gnutls_x509_trust_list_t tl,
			  const gnutls_datum_t *certs, unsigned n, int64_t now,
			  struct tlsverify_chain *out);

/* Whole days from now until not_after, rounded down: 0 on the last day,
 * negative once it has passed. */
int64_t tlsverify_days_left(int64_t not_after, int64_t now);

/* The notAfter time of the end-entity certificate the peer of session
 * sent.  MT_OK, MT_ENOTFOUND (none, not X.509, unreadable), MT_EINVAL. */
int tlsverify_session_not_after(gnutls_session_t session, int64_t *not_after);

#endif
