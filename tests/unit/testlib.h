/*
 * testlib.h - helpers shared by the parser tests: expected findings, and
 * test input that several modules need.
 */
#ifndef MTASTS_TESTLIB_H
#define MTASTS_TESTLIB_H
#include <stddef.h>

#include "diag.h"

/* Is the finding spec[0..n) reported?  "E:code" / "W:code" also check the
 * severity, a bare "code" does not. */
int test_has_code(const struct diag_list *d, const char *spec, size_t n);
/* Assert every finding of the ','-separated list codes (may be NULL);
 * print what was reported instead when one is missing. */
void test_check_codes(const char *label, const struct diag_list *d,
		      const char *codes);
/* One case of a table: assert rc == want_rc and, when both are 0 (MT_OK)
 * and want is not NULL, got == want; print the case when not. */
void test_expect(const char *label, int rc, int want_rc, const char *got,
		 const char *want);
/* Write "üüü...ü.üü...ü.[...]example": labels of 52 "ü" (104 octets of
 * UTF-8, a 58-octet A-label) into out (at least 106 * labels + 8 bytes);
 * returns the length, no NUL written. */
size_t test_ulabel_name(char *out, int labels);

#endif
