/*
 * decide.c - the verdict for one MX: pure, no I/O (design.md's table).
 *
 *   no policy / mode none         -> none
 *   enforce, MX matches nothing   -> refuse-mx (§5: MUST NOT deliver to it;
 *                                    DANE does not lift the MX filter,
 *                                    docs/conformance.md)
 *   DANE usable (RFC 8461 §2)     -> dane: MTA-STS never overrides DANE;
 *                                    usable = secure TLSA for an MX named by
 *                                    a secure MX RRset (RFC 7672 §2.2.1)
 *   DANE failed                   -> refuse-mx: the TLSA lookup of such a
 *                                    host failed (RFC 7672 §2.1.2), whatever
 *                                    the mode: a report-only policy never
 *                                    overrides a failing DANE (§2)
 *   testing                       -> report-only (deliver, record failures)
 *   enforce, MX matches (§4.1)    -> require-tls (§4.2 validation)
 *   a mode outside the enum       -> as enforce without DANE (fail closed)
 */
#include "decide.h"
#include "str.h"

static const char *const verdict_names[] = {
	[VERDICT_NONE] = "none",
	[VERDICT_REQUIRE_TLS] = "require-tls",
	[VERDICT_REFUSE_MX] = "refuse-mx",
	[VERDICT_REPORT_ONLY] = "report-only",
	[VERDICT_DANE] = "dane",
};

const char *verdict_str(enum verdict v)
{
	if ((unsigned)v >= ARRAY_SIZE(verdict_names))
		return "unknown";
	return verdict_names[v];
}

enum dane_state dane_state_of(bool mx_secure, bool mx_listed, bool tlsa_secure,
			      size_t n_tlsa, bool tlsa_failed)
{
	if (!mx_secure || !mx_listed)
		return DANE_NONE;
	if (tlsa_failed)
		return DANE_FAILED;
	return tlsa_secure && n_tlsa > 0 ? DANE_USABLE : DANE_NONE;
}

enum verdict decide(bool have_policy, enum policy_mode mode, const char *mx,
		    uint32_t mx_len, const char *host, enum dane_state dane,
		    enum mt_reason *reason)
{
	enum mt_reason dummy;

	if (reason == NULL)
		reason = &dummy;
	if (!have_policy) {
		*reason = R_NO_POLICY;
		return VERDICT_NONE;
	}
	switch (mode) {
	case POLICY_MODE_NONE:
		*reason = R_MODE_NONE;
		return VERDICT_NONE;
	case POLICY_MODE_TESTING:
		if (dane == DANE_USABLE) {
			*reason = R_DANE;
			return VERDICT_DANE;
		}
		if (dane == DANE_FAILED) {
			*reason = R_DANE_FAILED;
			return VERDICT_REFUSE_MX;
		}
		*reason = policy_mx_matches(mx, mx_len, host) ?
				  R_TESTING :
				  R_TESTING_MX_MISMATCH;
		return VERDICT_REPORT_ONLY;
	case POLICY_MODE_ENFORCE:
		/* §5: no delivery to an MX outside the policy, DANE or not:
		 * DANE authenticates a host, it does not authorise it. */
		if (!policy_mx_matches(mx, mx_len, host)) {
			*reason = R_MX_MISMATCH;
			return VERDICT_REFUSE_MX;
		}
		if (dane == DANE_USABLE) {
			*reason = R_DANE;
			return VERDICT_DANE;
		}
		if (dane == DANE_FAILED) {
			*reason = R_DANE_FAILED;
			return VERDICT_REFUSE_MX;
		}
		*reason = R_MX_MATCH;
		return VERDICT_REQUIRE_TLS;
	}
	/* A mode outside the enum (a corrupt entry, a future value): never
	 * "none", which would send in clear where a policy exists.  Held to
	 * enforce, DANE not consulted. */
	*reason = R_MODE_INVALID;
	return policy_mx_matches(mx, mx_len, host) ? VERDICT_REQUIRE_TLS :
						     VERDICT_REFUSE_MX;
}
