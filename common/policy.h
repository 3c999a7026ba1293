/*
 * policy.h - the MTA-STS policy file (RFC 8461 §3.2): parser and the
 * in-memory form every other module uses.  Pure: no I/O, no clock.
 *
 * The mx patterns are stored as one blob of consecutive NUL-terminated,
 * normalised patterns ("mx1.example.net\0*.example.org\0"), which the cache
 * copies as it is.
 */
#ifndef MTASTS_POLICY_H
#define MTASTS_POLICY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define POLICY_MAX_BYTES 65536	    /* RFC 8461 §3.3: 64 KiB body cap */
#define POLICY_MAX_AGE_MAX 31557600 /* RFC 8461 §3.2: about one year */
/* mx patterns as A-labels, NULs included: what a cache entry holds */
#define POLICY_MX_BLOB_MAX 65536

enum policy_mode {
	POLICY_MODE_NONE = 0,
	POLICY_MODE_TESTING = 1,
	POLICY_MODE_ENFORCE = 2,
};

struct policy {
	enum policy_mode mode;
	uint32_t max_age; /* clamped to POLICY_MAX_AGE_MAX */
	uint32_t n_mx;	  /* patterns in mx */
	uint32_t mx_len;  /* bytes of mx, including every NUL */
	char *mx;	  /* mem_alloc'ed blob, NULL when n_mx == 0 */
};

/* Parse buf[0..len).  On MT_OK *out is filled (release with policy_clear);
 * on MT_EPARSE / MT_ETOOBIG the policy is invalid (a sender must treat the
 * domain as having no new policy) and *out is left empty; MT_ENOMEM.
 * Findings go to diags (may be NULL). */
int policy_parse(const char *buf, size_t len, struct policy *out,
		 struct diag_list *diags);
/* The publisher's view (mtasts lint, mtasts check): the same verdict and
 * *out as policy_parse(), the same findings, but a finding the sender
 * only warns about because it skips what it names (an mx pattern no MX
 * host can match: "mx-ip-literal", "mx-numeric-tld") is an error for the
 * publisher.  So a valid policy may come with errors: the sender applies
 * it without the patterns they name. */
int policy_lint(const char *buf, size_t len, struct policy *out,
		struct diag_list *diags);
void policy_clear(struct policy *p);

/* Iterate the patterns: start with *it = 0; returns NULL at the end. */
const char *policy_mx_next(const char *mx, uint32_t mx_len, uint32_t *it);
/* Does the normalised host match any pattern of the blob? */
bool policy_mx_matches(const char *mx, uint32_t mx_len, const char *host);

const char *policy_mode_str(enum policy_mode m);
/* -1 when not one of "none", "testing", "enforce" (exact, lower case). */
int policy_mode_from_str(const char *s, size_t len);

#endif
