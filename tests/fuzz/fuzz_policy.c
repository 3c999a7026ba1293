/*
 * fuzz_policy.c - libFuzzer target for the policy parser (RFC 8461 §3.2).
 *
 * Feeds the input as a policy body, with and without a diagnostics list,
 * and checks the invariants a caller relies on: a valid policy has a mode,
 * a clamped max_age and an mx blob of exactly n_mx NUL-terminated,
 * re-normalisable patterns; an invalid one leaves *out empty.  The
 * publisher's view (policy_lint) gives the same verdict and patterns, and
 * the same number of findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "domain.h"
#include "policy.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list d, dl;
	struct policy p, q, l;
	int rc, rc2;

	diag_init(&d);
	diag_init(&dl);
	rc = policy_parse((const char *)data, size, &p, &d);
	rc2 = policy_parse((const char *)data, size, &q, NULL);
	if (rc != rc2)
		abort();	/* the verdict must not depend on diagnostics */
	if (policy_lint((const char *)data, size, &l, &dl) != rc ||
	    l.n_mx != p.n_mx || l.mx_len != p.mx_len ||
	    (p.mx_len && memcmp(l.mx, p.mx, p.mx_len) != 0) ||
	    dl.n_err + dl.n_warn != d.n_err + d.n_warn || dl.n_err < d.n_err)
		abort();	/* lint only raises the severity */
	if (rc == MT_OK) {
		uint32_t it = 0, n = 0;
		const char *pat;

		if (p.max_age > POLICY_MAX_AGE_MAX || p.mode > POLICY_MODE_ENFORCE)
			abort();
		if (d.n_err != 0)
			abort();
		while ((pat = policy_mx_next(p.mx, p.mx_len, &it)) != NULL) {
			char norm[DOMAIN_BUFSZ];

			if (domain_pattern_normalise(pat, strlen(pat), norm) != MT_OK ||
			    strcmp(norm, pat) != 0)
				abort();
			(void)policy_mx_matches(p.mx, p.mx_len, pat);
			n++;
		}
		if (n != p.n_mx)
			abort();
		if (p.mode != POLICY_MODE_NONE && n == 0)
			abort();
	} else {
		if (p.mx != NULL || p.n_mx != 0 || d.n_err == 0)
			abort();
	}
	policy_clear(&p);
	policy_clear(&q);
	policy_clear(&l);
	diag_free(&d);
	diag_free(&dl);
	return 0;
}
