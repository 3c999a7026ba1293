/*
 * domain.c - host name validation and normalisation, and the RFC 8461 §4.1
 * pattern match.
 *
 * Normal form: A-labels, lower case, LDH labels of 1..63 octets, no
 * trailing dot, at most 253 octets.  Input with non-ASCII octets is taken
 * as UTF-8 U-labels and converted by domain_idna_to_ascii() (idna.c,
 * libidn2): names with the UTS #46 mapping of a lookup, mx patterns as
 * strict IDNA2008 (below); anything libidn2 refuses is invalid.  The
 * loadable module's decision path links idna_none.c instead, which answers
 * MT_ENOTSUP: such a name is handed to the network half.  Input is
 * untrusted: lengths are
 * checked before any copy, NUL bytes inside the input are invalid.
 */
#include <string.h>

#include "domain.h"
#include "status.h"
#include "str.h"

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

/*
 * IDNA: how a name with non-ASCII octets becomes A-labels.
 *
 * A name that is looked up (a recipient domain, an MX host name) is
 * processed as a resolver would: UTS #46 non-transitional mapping with NFC
 * (libidn2's default), so "BÜCHER.de" is xn--bcher-kva.de.
 *
 * An mx pattern is strict IDNA2008 (RFC 5891 §5.4): its labels must
 * already be valid U-labels, in NFC, with nothing to map.  A pattern is a
 * protocol element chosen by the publisher, and UTS #46 mapping would make
 * it name hosts the publisher did not write: zero-width space dropped,
 * fullwidth letters and the ideographic full stop turned into ASCII
 * ("ｍｘ．example．com" would match mx.example.com).  A valid U-label and
 * its A-label are one name, so the conversion of a strict pattern loses
 * nothing (docs/conformance.md decision 10).
 */
/* RFC 5891 §4.2.3.1 for the labels of a name with U-labels, which libidn2
 * without UTS #46 processing does not check: no label starts or ends with
 * '-', and "--" in the third and fourth positions only in an A-label
 * ("xn--"). */
static bool hyphens_ok(const char *in, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		const char *l = in + start;
		size_t n = i - start;

		if (i < len && in[i] != '.')
			continue;
		if (n > 0 && (l[0] == '-' || l[n - 1] == '-'))
			return false;
		if (n >= 4 && l[2] == '-' && l[3] == '-' &&
		    !(str_lower((unsigned char)l[0]) == 'x' &&
		      str_lower((unsigned char)l[1]) == 'n'))
			return false;
		start = i + 1;
	}
	return true;
}

static int normalise(const char *in, size_t len, char *out,
		     enum domain_idna mode)
{
	/* A U-label name is longer than its A-label form by at most 4 octets
	 * of UTF-8 per punycode character: 4 * 253 fits, so no name whose
	 * A-label form is within 253 octets is refused here (the limit is
	 * checked after the conversion). */
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

	if (!hyphens_ok(in, len))
		return MT_EPARSE;
	/* ASCII is case-insensitive in every mode: lower-cased first, so
	 * that an "XN--" label is checked as the A-label it is */
	for (size_t i = 0; i < len; i++)
		tmp[i] = (char)str_lower((unsigned char)in[i]);
	tmp[len] = '\0';
	rc = domain_idna_to_ascii(tmp, alabel, sizeof(alabel), mode);
	if (rc != MT_OK)
		return rc;
	len = strlen(alabel);
	if (len > 0 && alabel[len - 1] == '.')
		len--;
	return len > DOMAIN_MAX ? MT_ETOOBIG :
				  ascii_normalise(alabel, len, out);
}

int domain_normalise(const char *in, size_t len, char *out)
{
	return normalise(in, len, out, DOMAIN_IDNA_LOOKUP);
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
		rc = normalise(in + 2, len - 2, rest, DOMAIN_IDNA_STRICT);
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
	return normalise(in, len, out, DOMAIN_IDNA_STRICT);
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
