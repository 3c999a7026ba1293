/*
 * str.c - ABNF name classes and the UTF-8 decoder (see str.h).  Pure; the
 * input is untrusted and bounded by the length given.
 */
#include <stdint.h>

#include "str.h"

bool str_is_ext_name(const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max || !str_is_alnum((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(str_is_alnum(c) || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

size_t str_utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	/* RFC 3629 §4: UTF8-2 = %xC2-DF UTF8-tail, UTF8-3 from %xE0,
	 * UTF8-4 from %xF0 to %xF4 */
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}
