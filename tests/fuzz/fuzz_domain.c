/*
 * fuzz_domain.c - libFuzzer target for host name normalisation and the
 * RFC 8461 §4.1 wildcard match.  The first byte chooses where the input is
 * split into a pattern and a host.
 *
 * Invariants: a normalised name is at most 253 octets, lower-case LDH
 * labels, and normalising it again gives the same name; a pattern matches
 * itself; "*.rest" never matches "rest" nor a name two labels deeper.  A
 * pattern without a wildcard (strict IDNA2008) normalises as the same name
 * looked up (UTS #46): what a publisher writes is what a host is called.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_normal(const char *s, int pattern)
{
	char again[DOMAIN_BUFSZ];
	size_t n = strlen(s);

	if (n == 0 || n > DOMAIN_MAX)
		abort();
	for (size_t i = pattern ? 2 : 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			abort();
	}
	if ((pattern ? domain_pattern_normalise(s, n, again) :
		       domain_normalise(s, n, again)) != MT_OK ||
	    strcmp(again, s) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char pat[DOMAIN_BUFSZ], host[DOMAIN_BUFSZ];
	const char *in = (const char *)data;
	size_t cut;
	int rp, rh;

	if (size == 0)
		return 0;
	cut = 1 + data[0] % size;
	if (cut > size)
		cut = size;
	rp = domain_pattern_normalise(in + 1, cut - 1, pat);
	rh = domain_normalise(in + cut, size - cut, host);
	if (rp == MT_OK) {
		check_normal(pat, pat[0] == '*');
		if (pat[0] != '*') {
			char as_host[DOMAIN_BUFSZ];

			if (domain_normalise(in + 1, cut - 1, as_host) != MT_OK ||
			    strcmp(as_host, pat) != 0)
				abort();
		}
	}
	if (rh == MT_OK)
		check_normal(host, 0);
	if (rp == MT_OK && rh == MT_OK) {
		bool m = domain_pattern_match(pat, host);

		if (pat[0] == '*') {
			const char *dot = strchr(host, '.');

			if (strcmp(pat + 2, host) == 0 && m)
				abort();	/* the wildcard needs a label */
			if (m && (dot == NULL || strcmp(dot + 1, pat + 2) != 0))
				abort();
		} else if (m != (strcmp(pat, host) == 0)) {
			abort();
		}
	}
	if (rh == MT_OK && !domain_pattern_match(host, host))
		abort();
	return 0;
}
