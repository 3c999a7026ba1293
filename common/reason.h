/*
 * reason.h - why an answer is what it is: the closed vocabulary of the
 * `reason` field (mtasts.h, `mtasts query`, the log lines), one enum and
 * one string table.  Code branches on the enum, never on the text.  The
 * words are part of the public contract: never renamed, only added.
 */
#ifndef MTASTS_REASON_H
#define MTASTS_REASON_H

enum mt_reason {
	/* how the policy in force was obtained (engine) */
	R_NONE = 0,		  /* no reason recorded */
	R_CACHED,		  /* a cached policy, id confirmed recently */
	R_CACHED_BACKOFF,	  /* cached; a refresh failed and backs off */
	R_CACHED_DNS_TEMPFAIL,	  /* cached; the TXT check failed for now */
	R_CACHED_NO_TXT,	  /* cached; the TXT record is gone (§10.2) */
	R_CACHED_FETCH_FAILED,	  /* cached; the refetch failed (§5) */
	R_ID_UNCHANGED,		  /* cached; the TXT id was just confirmed */
	R_FETCHED,		  /* fetched just now */
	R_MODE_NONE,		  /* the policy says mode none */
	R_NO_POLICY,		  /* no policy (negative cache or no record) */
	R_NOT_CACHED,		  /* cache only was asked; nothing cached */
	R_BACKOFF,		  /* no policy known; lookups back off */
	R_FETCH_IN_PROGRESS,	  /* another process is fetching it */
	R_CACHE_UNAVAILABLE,	  /* the cache cannot tell: fail closed */
	R_OVERRIDE,		  /* the operator's per-domain override */
	R_ADDRESS_LITERAL,	  /* user@[192.0.2.1]: no policy (§3.4) */
	R_NO_TXT,		  /* no _mta-sts TXT record */
	R_TXT_INVALID,		  /* no valid STSv1 record (§3.1) */
	R_DNS_TEMPFAIL,		  /* the TXT lookup failed for now */
	R_DNS_BOGUS,		  /* DNSSEC validation failed */
	R_DNS_ERROR,		  /* the resolver itself failed */
	R_DNS_UNAVAILABLE,	  /* no resolver context */
	R_FETCH_INTERNAL,	  /* the fetch could not be made */
	R_STS_POLICY_FETCH_ERROR, /* RFC 8460 §4.3.2.2 result types */
	R_STS_WEBPKI_INVALID,
	R_STS_POLICY_INVALID,
	/* the verdict for one MX (decide) */
	R_MX_MATCH,
	R_MX_MISMATCH,
	R_TESTING,
	R_TESTING_MX_MISMATCH,
	R_DANE,
	R_MODE_INVALID,
	R_MX_INVALID, /* the MX name is not a host name */
	R_ERROR,      /* an error left the answer fail-closed */
	/* the module's network half cannot be loaded: an installation error */
	R_NET_UNAVAILABLE,
	R_DANE_FAILED, /* the TLSA lookup of a DANE host failed */
	R_COUNT_
};

/* Never NULL; out-of-range values give "unknown". */
const char *reason_str(enum mt_reason r);
/* R_COUNT_ when unknown. */
enum mt_reason reason_from_str(const char *s);

#endif
