/*
 * testlib.c - helpers shared by the parser tests (see testlib.h).
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

int test_has_code(const struct diag_list *d, const char *spec, size_t n)
{
	int sev = -1;

	if (n > 2 && spec[1] == ':') {
		sev = spec[0] == 'E' ? DIAG_ERROR : DIAG_WARNING;
		spec += 2;
		n -= 2;
	}
	for (size_t i = 0; i < d->n; i++)
		if (strlen(d->v[i].code) == n && memcmp(d->v[i].code, spec, n) == 0 &&
		    (sev < 0 || (int)d->v[i].sev == sev))
			return 1;
	return 0;
}

void test_check_codes(const char *label, const struct diag_list *d,
		      const char *codes)
{
	while (codes && *codes) {
		const char *e = strchr(codes, ',');
		size_t n = e ? (size_t)(e - codes) : strlen(codes);

		if (!test_has_code(d, codes, n)) {
			fprintf(stderr, "\n  case '%s': finding %.*s missing; got:",
				label, (int)n, codes);
			for (size_t i = 0; i < d->n; i++)
				fprintf(stderr, " %s", d->v[i].code);
			fprintf(stderr, "\n");
		}
		CU_ASSERT(test_has_code(d, codes, n));
		codes = e ? e + 1 : NULL;
	}
}

void test_expect(const char *label, int rc, int want_rc, const char *got,
		 const char *want)
{
	if (rc != want_rc)
		fprintf(stderr, "\n  case '%s': rc %d, want %d\n", label, rc,
			want_rc);
	CU_ASSERT_EQUAL(rc, want_rc);
	if (rc != 0 || want_rc != 0 || want == NULL)
		return;
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\n  case '%s': '%s', want '%s'\n", label, got,
			want);
	CU_ASSERT_STRING_EQUAL(got, want);
}

size_t test_ulabel_name(char *out, int labels)
{
	size_t n = 0;

	for (int l = 0; l < labels; l++) {
		for (int i = 0; i < 52; i++) {
			out[n++] = (char)0xc3;	/* ü */
			out[n++] = (char)0xbc;
		}
		out[n++] = '.';
	}
	memcpy(out + n, "example", 7);
	return n + 7;
}
