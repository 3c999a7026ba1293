/*
 * domain.c - host name validation and normalisation, and the RFC 8461 §4.1
 * pattern match.
 *
 * Normal form: A-labels, lower case, LDH labels of 1..63 octets, no
 * trailing dot, at most 253 octets.  Input with non-ASCII octets is taken
 * as UTF-8 U-labels and converted by domain_idna_to_ascii() (idna.c:
 * libidn2, IDNA2008, non-transitional; anything libidn2 refuses is
 * invalid).  The loadable module's decision path links idna_none.c instead,
 * which answers MT_ENOTSUP: such a name is handed to the network half.  Input is untrusted: lengths are
 * checked before any copy, NUL bytes inside the input are invalid.
 */
#include <string.h>

#include "domain.h"
#include "status.h"

static int is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Validate and lower-case an ASCII name of len octets (no trailing dot). */
static int ascii_normalise(const char *in, size_t len, char *out)
{
	size_t i, lab = 0;

	if (len == 0)
		return MT_EPARSE;
	if (len > DOMAIN_MAX)
		return MT_ETOOBIG;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c == '.') {
			/* empty label, or label ending in '-' */
			if (lab == 0 || out[i - 1] == '-')
				return MT_EPARSE;
			lab = 0;
		} else if (is_ldh(c)) {
			/* RFC 5891 §4.2.3.1: no leading hyphen */
			if (lab == 0 && c == '-')
				return MT_EPARSE;
			if (++lab > 63)
				return MT_EPARSE;
		} else {
			return MT_EPARSE;
		}
		out[i] = (char)c;
	}
	if (lab == 0 || out[len - 1] == '-')
		return MT_EPARSE;
	out[len] = '\0';
	return MT_OK;
}

int domain_normalise(const char *in, size_t len, char *out)
{
	char tmp[4 * DOMAIN_BUFSZ];
	char alabel[4 * DOMAIN_BUFSZ];
	int ascii = 1, rc;

	if (in == NULL || out == NULL)
		return MT_EINVAL;
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0)
		return MT_EPARSE;
	if (len >= sizeof(tmp))
		return MT_ETOOBIG;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\0')
			return MT_EPARSE;
		if (c >= 0x80)
			ascii = 0;
	}
	if (ascii)
		return ascii_normalise(in, len, out);

	memcpy(tmp, in, len);
	tmp[len] = '\0';
	rc = domain_idna_to_ascii(tmp, alabel, sizeof(alabel));
	if (rc != MT_OK)
		return rc;
	len = strlen(alabel);
	if (len > 0 && alabel[len - 1] == '.')
		len--;
	return len > DOMAIN_MAX ? MT_ETOOBIG : ascii_normalise(alabel, len, out);
}

int domain_pattern_normalise(const char *in, size_t len, char *out)
{
	int rc;

	if (in == NULL || out == NULL)
		return MT_EINVAL;
	if (len >= 2 && in[0] == '*' && in[1] == '.') {
		char rest[DOMAIN_BUFSZ];
		size_t rlen;

		/* The rest must itself be a valid name.  It is normalised
		 * into its own buffer: a U-label rest grows when converted
		 * to A-labels and could otherwise run past out. */
		rc = domain_normalise(in + 2, len - 2, rest);
		if (rc != MT_OK)
			return rc;
		rlen = strlen(rest);
		if (rlen + 2 > DOMAIN_MAX)
			return MT_ETOOBIG;
		out[0] = '*';
		out[1] = '.';
		memcpy(out + 2, rest, rlen + 1);
		return MT_OK;
	}
	return domain_normalise(in, len, out);
}

bool domain_pattern_match(const char *pattern, const char *host)
{
	const char *dot;

	if (pattern[0] == '*' && pattern[1] == '.') {
		/* RFC 8461 §4.1: the wildcard matches exactly one left-most,
		 * non-empty label. */
		dot = strchr(host, '.');
		if (dot == NULL || dot == host)
			return false;
		return strcmp(dot + 1, pattern + 2) == 0;
	}
	return strcmp(pattern, host) == 0;
}
