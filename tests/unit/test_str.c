/*
 * test_str.c - the ABNF character classes (ASCII only, whatever the
 * locale), extension names, the UTF-8 decoder of RFC 3629 and ARRAY_SIZE.
 */
#include <CUnit/CUnit.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cunit_main.h"
#include "str.h"

static const struct {
	const char *label;
	const char *in;
	size_t len;
	size_t want;
} utf8[] = {
	{ "ASCII", "a", 1, 1 },
	{ "NUL is one ASCII byte", "\0", 1, 1 },
	{ "nothing left", "", 0, 0 },
	{ "2 bytes", "\xc3\xa9", 2, 2 },
	{ "3 bytes", "\xe2\x82\xac", 3, 3 },
	{ "4 bytes", "\xf0\x9f\x98\x80", 4, 4 },
	{ "U+10FFFF", "\xf4\x8f\xbf\xbf", 4, 4 },
	{ "above U+10FFFF", "\xf4\x90\x80\x80", 4, 0 },
	{ "lone continuation", "\x80", 1, 0 },
	{ "overlong 2 bytes", "\xc0\xaf", 2, 0 },
	{ "overlong 3 bytes", "\xe0\x80\xaf", 3, 0 },
	{ "overlong 4 bytes", "\xf0\x80\x80\xaf", 4, 0 },
	{ "surrogate", "\xed\xa0\x80", 3, 0 },
	{ "truncated by the length", "\xe2\x82\xac", 2, 0 },
	{ "bad continuation", "\xe2\x28\xac", 3, 0 },
	{ "0xff", "\xff", 1, 0 },
};

static void test_utf8(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(utf8); i++) {
		size_t got = str_utf8_len((const unsigned char *)utf8[i].in,
					  utf8[i].len);

		if (got != utf8[i].want)
			fprintf(stderr, "\n  case '%s': %zu\n", utf8[i].label, got);
		CU_ASSERT_EQUAL(got, utf8[i].want);
	}
}

/* Every octet against the ABNF definitions (RFC 5234 B.1), in a locale
 * where <ctype.h> would call some octets above 0x7f letters. */
static void test_classes(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
	for (unsigned c = 0; c < 256; c++) {
		int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
		int digit = c >= '0' && c <= '9';

		CU_ASSERT_EQUAL(str_is_alpha((unsigned char)c), alpha);
		CU_ASSERT_EQUAL(str_is_digit((unsigned char)c), digit);
		CU_ASSERT_EQUAL(str_is_alnum((unsigned char)c), alpha || digit);
		CU_ASSERT_EQUAL(str_is_wsp((unsigned char)c), c == ' ' || c == '\t');
		CU_ASSERT_EQUAL(str_is_vchar((unsigned char)c), c >= 0x21 && c <= 0x7e);
		CU_ASSERT_EQUAL(str_is_ctl((unsigned char)c), c < 0x20 || c == 0x7f);
		CU_ASSERT_EQUAL(str_lower((unsigned char)c),
				c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	setlocale(LC_CTYPE, "C");
}

static void test_ext_name(void)
{
	static const struct {
		const char *in;
		int want;
	} t[] = {
		{ "a", 1 }, { "9x", 1 }, { "a_b-c.d", 1 }, { "", 0 }, { "_a", 0 },
		{ "-a", 0 }, { ".a", 0 }, { "a b", 0 }, { "a:b", 0 },
		{ "a1234567890123456789012345678901", 1 },	/* 32 */
		{ "a12345678901234567890123456789012", 0 },	/* 33 */
		{ "caf\xc3\xa9", 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		CU_ASSERT_EQUAL(str_is_ext_name(t[i].in, strlen(t[i].in), 32),
				t[i].want);
}

static void test_array_size(void)
{
	static const int four[4] = { 1, 2, 3, 4 };
	static const char *const names[] = { "a", "b", "c" };
	static const struct {
		int x;
	} two[2] = { { 1 }, { 2 } };

	CU_ASSERT_EQUAL(ARRAY_SIZE(four), 4);
	CU_ASSERT_EQUAL(ARRAY_SIZE(names), 3);
	CU_ASSERT_EQUAL(ARRAY_SIZE(two), 2);
	CU_ASSERT_EQUAL(four[3] + two[1].x + (int)strlen(names[2]), 7);
}

static CU_TestInfo tests[] = {
	{ "UTF-8 decoder (RFC 3629)", test_utf8 },
	{ "ABNF classes, any locale", test_classes },
	{ "extension names", test_ext_name },
	{ "ARRAY_SIZE", test_array_size },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("str", tests);
	return 0;
}
