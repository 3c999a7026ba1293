/*
 * str.h - the character classes of the ABNF (RFC 5234 Appendix B.1), the
 * UTF-8 decoder of RFC 3629, and ARRAY_SIZE.
 *
 * The classes are ASCII-only and ignore the locale, unlike <ctype.h>: a
 * policy, a TXT record or a host name means the same bytes whatever
 * LC_CTYPE the host MTA runs with.
 */
#ifndef MTASTS_STR_H
#define MTASTS_STR_H
#include <stdbool.h>
#include <stddef.h>

/* Elements of an array; a pointer argument does not compile. */
#define STR_IS_ARRAY(a) \
	(!__builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0])))
#define ARRAY_SIZE(a)                 \
	(sizeof(a) / sizeof((a)[0]) + \
	 0 * sizeof(char[STR_IS_ARRAY(a) ? 1 : -1]))

/* ALPHA, DIGIT, ALPHA / DIGIT, WSP (SP / HTAB), VCHAR (%x21-7E). */
static inline bool str_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool str_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool str_is_alnum(unsigned char c)
{
	return str_is_alpha(c) || str_is_digit(c);
}

static inline bool str_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static inline bool str_is_vchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}

/* A control character: %x00-1F / %x7F. */
static inline bool str_is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static inline unsigned char str_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Is s[0..n) a name of the form (ALPHA / DIGIT) *(ALPHA / DIGIT / "_" /
 * "-" / "."), 1 to max octets: the extension names of RFC 8461 §3.1
 * (sts-ext-name) and §3.2 (sts-policy-ext-name), max 32. */
bool str_is_ext_name(const char *s, size_t n, size_t max);

/* Length (1..4) of the well-formed UTF-8 sequence at s, n bytes available
 * (RFC 3629 §4: no overlong form, no surrogate, nothing above U+10FFFF);
 * 0 when n is 0 or the bytes are not one. */
size_t str_utf8_len(const unsigned char *s, size_t n);

#endif
