/*
 * decide.h - (policy in force, MX, DANE state) -> verdict.  Pure.
 *
 * The verdict words are the public contract of design.md.
 */
#ifndef MTASTS_DECIDE_H
#define MTASTS_DECIDE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "reason.h"

enum verdict {
	VERDICT_NONE = 0,
	VERDICT_REQUIRE_TLS = 1,
	VERDICT_REFUSE_MX = 2,
	VERDICT_REPORT_ONLY = 3,
	VERDICT_DANE = 4,
};

enum dane_state {
	DANE_NONE = 0,	 /* no DNSSEC-validated TLSA, or DANE not in use */
	DANE_USABLE = 1, /* DNSSEC-validated TLSA and the host MTA does DANE */
	/* the host MTA does DANE and the TLSA lookup of a host named by a
	 * secure MX RRset failed (bogus, SERVFAIL, timeout): RFC 7672
	 * §2.1.2, DANE itself makes the host unusable */
	DANE_FAILED = 2,
};

/* have_policy false -> VERDICT_NONE.  mx must be normalised.  *reason
 * (may be NULL) gets R_NO_POLICY, R_MODE_NONE, R_MX_MATCH, R_MX_MISMATCH,
 * R_TESTING, R_TESTING_MX_MISMATCH, R_DANE, R_DANE_FAILED or
 * R_MODE_INVALID. */
enum verdict decide(bool have_policy, enum policy_mode mode, const char *mx,
		    uint32_t mx_len, const char *host, enum dane_state dane,
		    enum mt_reason *reason);

/* RFC 7672 §2.2.1: DNSSEC-validated TLSA records (n_tlsa of them) make DANE
 * usable for an MX host only when the MX RRset that named the host was
 * itself secure and lists it; otherwise whoever forged the MX answer chose
 * the host and signed its TLSA.  tlsa_failed: the TLSA lookup failed (not
 * NXDOMAIN or NODATA); for a host of a secure MX RRset that is
 * DANE_FAILED (RFC 7672 §2.1.2: never a fallback to other authentication). */
enum dane_state dane_state_of(bool mx_secure, bool mx_listed, bool tlsa_secure,
			      size_t n_tlsa, bool tlsa_failed);

const char *verdict_str(enum verdict v);

#endif
