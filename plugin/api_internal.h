/*
 * api_internal.h - module-private variants of the public API for the
 * adapters in plugin/ (hidden: neither exported nor part of the ABI).
 */
#ifndef MTASTS_API_INTERNAL_H
#define MTASTS_API_INTERNAL_H
#include "mtasts.h"

/* mtasts_policy() asked just before mail is deferred or failed for an
 * enforced policy (RFC 8461 §5.1): a cached policy's TXT id is re-checked
 * unless it was confirmed within the last minute (a failing check still
 * backs off).  Same results as mtasts_policy(). */
int mtasts_policy_recheck(struct mtasts *h, const char *domain,
			  struct mtasts_policy *p, char *mx, size_t mxsz);

/* mtasts_policy() from the cache alone: never the DNS or a fetch (for
 * callers that must not wait, such as TLS-RPT events).  A policy not in
 * the cache, or expired, reads as none with reason "not-cached". */
int mtasts_policy_cached(struct mtasts *h, const char *domain,
			 struct mtasts_policy *p);

/* mtasts_open() that also gives the configuration error's text ("file:
 * line: what") in err (errsz bytes), for hosts that show it (Exim's panic
 * log). */
int mtasts_open_err(struct mtasts **h, const char *config_path, char *err,
		    size_t errsz);

/* mtasts_report_result() for a session that DANE judged (RFC 7672): the
 * result is recorded under the policy type "tlsa" and, as RFC 8460 §3
 * defines DANE's policy domain, under the TLSA base domain: the MX host
 * mx. */
int mtasts_report_result_tlsa(struct mtasts *h, const char *mx, const char *ip,
			      int success, const char *result_type);

/* Has this process loaded the network half (mtasts-net.so)?  For tests. */
int mtasts_loaded_net(void);

#endif
