/*
 * domain.h - domain names: validation, normalisation, RFC 8461 §4.1 matching.
 *
 * The normal form used everywhere in mtasts (cache keys, policy patterns,
 * MX names, log lines) is: A-labels (U-labels converted with libidn2),
 * lower case, no trailing dot, LDH labels of 1..63 octets, total <= 253.
 */
#ifndef MTASTS_DOMAIN_H
#define MTASTS_DOMAIN_H
#include <stdbool.h>
#include <stddef.h>

#define DOMAIN_MAX 253
#define DOMAIN_BUFSZ (DOMAIN_MAX + 1)

/* Normalise in[0..len) into out (DOMAIN_BUFSZ bytes).  One trailing dot is
 * accepted and dropped.  Non-ASCII input is converted as a lookup does
 * (UTS #46 mapping, NFC).  Returns MT_OK, MT_EPARSE (not a valid host
 * name), MT_ETOOBIG (over 253 octets as A-labels), MT_ENOTSUP (non-ASCII
 * input in a build without IDNA: the module's decision path). */
int domain_normalise(const char *in, size_t len, char *out);

/* Normalise an mx pattern: a domain, optionally prefixed by "*." (the
 * wildcard stands for exactly one label).  Non-ASCII input must be valid
 * IDNA2008 U-labels as they are (no mapping, already NFC).  Same return
 * values. */
int domain_pattern_normalise(const char *in, size_t len, char *out);

/* Both arguments already normalised.  RFC 8461 §4.1: exact match, or a
 * "*.rest" pattern matching "label.rest" with exactly one non-empty label. */
bool domain_pattern_match(const char *pattern, const char *host);

/* How U-labels become A-labels (domain.c explains the choice). */
enum domain_idna {
	DOMAIN_IDNA_LOOKUP, /* UTS #46 non-transitional mapping, NFC */
	DOMAIN_IDNA_STRICT, /* IDNA2008 as written: no mapping, NFC */
};

/* UTF-8 name (NUL-terminated) -> A-labels into out (outsz bytes).  MT_OK,
 * MT_EPARSE (refused by IDNA2008), MT_ETOOBIG, MT_ENOTSUP (no IDNA in this
 * build).  idna.c (libidn2) or idna_none.c. */
int domain_idna_to_ascii(const char *in, char *out, size_t outsz,
			 enum domain_idna mode);

#endif
