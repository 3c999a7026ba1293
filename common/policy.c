/*
 * policy.c - the MTA-STS policy file parser, RFC 8461 §3.2.  Pure: takes a
 * buffer, fills a struct policy, never touches the network, clock or cache.
 *
 * The input is a hostile server's bytes: every byte is checked against the
 * grammar below, nothing is copied without a length check, and the first
 * violation of a MUST makes the policy invalid (a sender then behaves as if
 * the domain had no new policy).  Where the RFC is ambiguous the sender-safe
 * choice of docs/conformance.md is made and recorded as a warning.
 *
 *   sts-policy-record  = sts-policy-field *WSP
 *                        *(sts-policy-term sts-policy-field *WSP)
 *                        [sts-policy-term]
 *   sts-policy-field-delim = ":" *WSP
 *   version: STSv1 | mode: testing|enforce|none | max_age: 1*10DIGIT
 *   mx: ["*."] Domain | ext-name: ext-value
 *   sts-policy-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   sts-policy-ext-value = sts-policy-vchar
 *                          [*(%x20 / sts-policy-vchar) sts-policy-vchar]
 *   sts-policy-vchar     = VCHAR / UTF8-2 / UTF8-3 / UTF8-4
 *   sts-policy-term      = LF / CRLF
 *
 * Field names are case-sensitive (%s in the ABNF).
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "domain.h"
#include "mem.h"
#include "policy.h"
#include "status.h"

#define EXT_NAME_MAX 32
#define MAX_AGE_SHORT 86400	/* below a day protects almost no one */

static const char *const mode_names[] = {
	[POLICY_MODE_NONE] = "none",
	[POLICY_MODE_TESTING] = "testing",
	[POLICY_MODE_ENFORCE] = "enforce",
};

const char *policy_mode_str(enum policy_mode m)
{
	if ((unsigned)m >= sizeof(mode_names) / sizeof(mode_names[0]))
		return "unknown";
	return mode_names[m];
}

int policy_mode_from_str(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strlen(mode_names[i]) == len && memcmp(mode_names[i], s, len) == 0)
			return (int)i;
	return -1;
}

const char *policy_mx_next(const char *mx, uint32_t mx_len, uint32_t *it)
{
	const char *p, *nul;

	if (mx == NULL || *it >= mx_len)
		return NULL;
	p = mx + *it;
	nul = memchr(p, '\0', mx_len - *it);
	if (nul == NULL)
		return NULL;	/* unterminated: treat as the end */
	*it = (uint32_t)(nul - mx) + 1;
	return p;
}

bool policy_mx_matches(const char *mx, uint32_t mx_len, const char *host)
{
	uint32_t it = 0;
	const char *pat;

	while ((pat = policy_mx_next(mx, mx_len, &it)) != NULL)
		if (domain_pattern_match(pat, host))
			return true;
	return false;
}

void policy_clear(struct policy *p)
{
	if (p == NULL)
		return;
	mem_free(p->mx);
	memset(p, 0, sizeof(*p));
}

static int is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Length of a valid UTF-8 sequence of 2..4 bytes at s, or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Close enough to say "did you mean": equal but for case and '-' for '_',
 * or an edit distance of 1 (2 for words of 7 letters or more, so that a
 * real extension such as "note" is not taken for "mode"). */
static int near(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b), i, j;
	unsigned d[EXT_NAME_MAX + 2][EXT_NAME_MAX + 2];

	if (la > EXT_NAME_MAX || lb > EXT_NAME_MAX)
		return 0;
	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			unsigned char ca = (unsigned char)a[i - 1];
			unsigned char cb = (unsigned char)b[j - 1];
			unsigned cost, m;

			if (ca >= 'A' && ca <= 'Z')
				ca = (unsigned char)(ca - 'A' + 'a');
			if (ca == '-')
				ca = '_';
			cost = ca == cb ? 0 : 1;
			m = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < m)
				m = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < m)
				m = d[i - 1][j - 1] + cost;
			d[i][j] = m;
		}
	}
	return d[la][lb] <= (lb >= 7 ? 2u : 1u) &&
	       !(la == lb && memcmp(a, b, la) == 0);
}

static const char *const known_keys[] = { "version", "mode", "max_age", "mx" };

/* Copy at most max bytes of v into out (max + 1 bytes) for a message,
 * control characters (NUL too) shown as '?'. */
static void show(char *out, const char *v, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)v[i];

		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[i] = '\0';
}

/* Diagnose a value that is not a valid mx pattern, naming the pitfall. */
static void mx_pitfall(struct diag_list *d, unsigned line, const char *v,
		       size_t n)
{
	char shown[80];
	size_t i, digits_dots = 1;

	show(shown, v, n, 60);
	for (i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || v[i] == '.'))
			digits_dots = 0;
	if (n > 0 && (v[0] == '[' || digits_dots || memchr(v, ':', n) != NULL)) {
		if (memmem(v, n, "://", 3) != NULL)
			diag_add(d, DIAG_ERROR, "mx-url", line,
				 "mx '%s' is a URL; give the MX host name only", shown);
		else if (v[0] == '[' || digits_dots ||
			 (memchr(v, ':', n) != memrchr(v, ':', n)))
			diag_add(d, DIAG_ERROR, "mx-ip-literal", line,
				 "mx '%s' is an IP address; patterns must be host names",
				 shown);
		else
			diag_add(d, DIAG_ERROR, "mx-port", line,
				 "mx '%s' has a port; give the host name only", shown);
		return;
	}
	if (n == 1 && v[0] == '*') {
		diag_add(d, DIAG_ERROR, "mx-wildcard-alone", line,
			 "mx '*' matches nothing: a wildcard stands for one label of a name, as in *.example.net");
		return;
	}
	if (memchr(v, '*', n) != NULL) {
		diag_add(d, DIAG_ERROR, "mx-wildcard-position", line,
			 "mx '%s': a wildcard is allowed only as the whole left-most label ('*.')",
			 shown);
		return;
	}
	diag_add(d, DIAG_ERROR, "mx-invalid", line,
		 "mx '%s' is not a valid host name", shown);
}

/* A decimal max_age value: 1*10DIGIT (RFC 8461 §3.2). */
static int parse_max_age(const char *v, size_t n, uint32_t *out,
			 struct diag_list *d, unsigned line)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 10) {
		diag_add(d, DIAG_ERROR, n ? "max-age-too-long" : "max-age-invalid",
			 line, n ? "max_age has more than 10 digits" :
			 "max_age is empty");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9') {
			diag_add(d, DIAG_ERROR, "max-age-invalid", line,
				 "max_age must be a number of seconds (digits only, no sign or unit)");
			return -1;
		}
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (n > 1 && v[0] == '0')
		diag_add(d, DIAG_WARNING, "max-age-leading-zero", line,
			 "max_age has leading zeros; it is read as decimal %llu",
			 (unsigned long long)x);
	if (x > POLICY_MAX_AGE_MAX) {
		diag_add(d, DIAG_WARNING, "max-age-clamped", line,
			 "max_age %llu is above the maximum 31557600 (about a year); senders use 31557600",
			 (unsigned long long)x);
		x = POLICY_MAX_AGE_MAX;
	}
	if (x < MAX_AGE_SHORT)
		diag_add(d, DIAG_WARNING, "max-age-short", line,
			 "max_age %llu is under a day: the policy protects little against a downgrade; weeks are usual (RFC 8461 §3.2)",
			 (unsigned long long)x);
	*out = (uint32_t)x;
	return 0;
}

static int mx_listed(const char *blob, uint32_t len, const char *norm)
{
	uint32_t it = 0;
	const char *pat;

	while ((pat = policy_mx_next(blob, len, &it)) != NULL)
		if (strcmp(pat, norm) == 0)
			return 1;
	return 0;
}

struct seen {
	unsigned version, mode, max_age;	/* line of the first, 0 = none */
};

int policy_parse(const char *buf, size_t len, struct policy *out,
		 struct diag_list *d)
{
	const unsigned char *p = (const unsigned char *)buf;
	struct seen seen = { 0, 0, 0 };
	int first_field = 1;
	struct buf mx;
	size_t off = 0;
	unsigned line = 0, n_mx = 0, bad = 0;
	int mode = -1, rc;
	uint32_t max_age = 0;

	memset(out, 0, sizeof(*out));
	if (len > POLICY_MAX_BYTES) {
		diag_add(d, DIAG_ERROR, "too-big", 0,
			 "the policy is %zu bytes; senders accept at most 65536 (RFC 8461 §3.3)",
			 len);
		return MT_ETOOBIG;
	}
	if (len == 0) {
		diag_add(d, DIAG_ERROR, "empty", 0, "the policy is empty");
		return MT_EPARSE;
	}
	buf_init(&mx, POLICY_MAX_BYTES + 512);
	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
		diag_add(d, DIAG_ERROR, "bom", 1,
			 "the file starts with a UTF-8 byte order mark; remove it");
		bad++;
		off = 3;
	}

	while (off < len) {
		size_t start = off, end, eol, klen, vstart, vend;
		const char *key, *val;
		int blank = 1;

		line++;
		/* the line: up to LF; CR only as part of CRLF */
		eol = off;
		while (eol < len && p[eol] != '\n')
			eol++;
		end = eol;
		if (end > start && p[end - 1] == '\r')
			end--;
		off = eol < len ? eol + 1 : eol;

		for (size_t i = start; i < end; i++) {
			if (p[i] == '\r') {
				diag_add(d, DIAG_ERROR, "bare-cr", line,
					 "a carriage return not followed by a line feed");
				bad++;
				goto next;
			}
			if (p[i] == '\0') {
				diag_add(d, DIAG_ERROR, "nul", line,
					 "a NUL byte inside the line");
				bad++;
				goto next;
			}
			if (!is_wsp(p[i]))
				blank = 0;
		}
		if (blank) {
			/* Outside the grammar, tolerated (docs/conformance.md) */
			diag_add(d, DIAG_WARNING, end > start ? "whitespace-line" :
				 "blank-line", line, "blank line");
			continue;
		}
		if (is_wsp(p[start])) {
			diag_add(d, DIAG_ERROR, "leading-whitespace", line,
				 "the line starts with white space");
			bad++;
			continue;
		}
		/* trailing *WSP is part of the grammar; still worth a note */
		vend = end;
		while (vend > start && is_wsp(p[vend - 1]))
			vend--;
		if (vend < end)
			diag_add(d, DIAG_WARNING, "trailing-whitespace", line,
				 "trailing white space");

		/* key ":" *WSP value */
		klen = 0;
		while (start + klen < vend && p[start + klen] != ':')
			klen++;
		if (start + klen >= vend) {
			diag_add(d, DIAG_ERROR, "no-colon", line,
				 "expected 'key: value'");
			bad++;
			continue;
		}
		key = (const char *)p + start;
		vstart = start + klen + 1;
		while (vstart < vend && is_wsp(p[vstart]))
			vstart++;
		val = (const char *)p + vstart;

		/* the key itself: ext-name grammar covers the known keys */
		{
			int ok = klen >= 1 && klen <= EXT_NAME_MAX &&
				 is_alnum((unsigned char)key[0]);

			for (size_t i = 1; ok && i < klen; i++) {
				unsigned char c = (unsigned char)key[i];

				ok = is_alnum(c) || c == '_' || c == '-' || c == '.';
			}
			if (!ok) {
				char shown[41];

				show(shown, key, klen, 40);
				diag_add(d, DIAG_ERROR, "key-invalid", line,
					 "'%s' is not a valid field name", shown);
				bad++;
				continue;
			}
		}
		/* The ABNF lets fields come in any order; publishers' guides
		 * (and some receivers) expect version first: say so, do not
		 * reject (docs/conformance.md). */
		if (first_field) {
			first_field = 0;
			if (!(klen == 7 && memcmp(key, "version", 7) == 0))
				diag_add(d, DIAG_WARNING, "version-not-first", line,
					 "the first field should be 'version: STSv1'");
		}
		if (vstart >= vend) {
			diag_add(d, DIAG_ERROR, "value-empty", line,
				 "'%.*s' has no value", (int)klen, key);
			bad++;
			continue;
		}

		if (klen == 7 && memcmp(key, "version", 7) == 0) {
			if (seen.version) {
				diag_add(d, DIAG_WARNING, "duplicate-key", line,
					 "second 'version' ignored; the first (line %u) counts",
					 seen.version);
				continue;
			}
			seen.version = line;
			if (vend - vstart != 5 || memcmp(val, "STSv1", 5) != 0) {
				diag_add(d, DIAG_ERROR, "version-invalid", line,
					 "version must be STSv1");
				bad++;
			}
		} else if (klen == 4 && memcmp(key, "mode", 4) == 0) {
			if (seen.mode) {
				diag_add(d, DIAG_WARNING, "duplicate-key", line,
					 "second 'mode' ignored; the first (line %u) counts",
					 seen.mode);
				continue;
			}
			seen.mode = line;
			mode = policy_mode_from_str(val, vend - vstart);
			if (mode < 0) {
				const char *hint = "";

				for (int m = 0; m < 3; m++)
					if (near(val, vend - vstart, mode_names[m]))
						hint = mode_names[m];
				diag_add(d, DIAG_ERROR, "mode-invalid", line,
					 "mode must be enforce, testing or none (lower case)%s%s%s",
					 hint[0] ? "; did you mean '" : "", hint,
					 hint[0] ? "'?" : "");
				bad++;
			}
		} else if (klen == 7 && memcmp(key, "max_age", 7) == 0) {
			if (seen.max_age) {
				diag_add(d, DIAG_WARNING, "duplicate-key", line,
					 "second 'max_age' ignored; the first (line %u) counts",
					 seen.max_age);
				continue;
			}
			seen.max_age = line;
			if (parse_max_age(val, vend - vstart, &max_age, d, line) != 0)
				bad++;
		} else if (klen == 2 && memcmp(key, "mx", 2) == 0) {
			char norm[DOMAIN_BUFSZ];
			size_t n = vend - vstart;
			int pr = MT_EPARSE;

			/* ["*."] Domain; one trailing dot tolerated */
			if (n <= DOMAIN_MAX + 1 &&
			    memchr(val, '\0', n) == NULL)
				pr = domain_pattern_normalise(val, n, norm);
			if (pr == MT_OK) {
				int ascii = 1;

				for (size_t i = 0; i < n; i++)
					if ((unsigned char)val[i] >= 0x80)
						ascii = 0;
				if (!ascii)
					diag_add(d, DIAG_WARNING, "mx-ulabel", line,
						 "mx written as a U-label; senders compare its A-label form '%s'",
						 norm);
				if (val[n - 1] == '.')
					diag_add(d, DIAG_WARNING, "mx-trailing-dot", line,
						 "mx '%s.' has a trailing dot; it is ignored",
						 norm);
				/* IP-address-looking names: all-digit last label */
				{
					const char *last = strrchr(norm, '.');
					const char *q = last ? last + 1 : norm;
					int digits = *q != '\0';

					for (; *q; q++)
						if (*q < '0' || *q > '9')
							digits = 0;
					if (digits) {
						if (strspn(norm, "0123456789.") == strlen(norm))
							mx_pitfall(d, line, val, n);
						else
							diag_add(d, DIAG_ERROR, "mx-invalid", line,
								 "mx '%s': the last label is all digits; no top-level domain is numeric",
								 norm);
						bad++;
						continue;
					}
				}
				if (mx_listed(mx.data, (uint32_t)mx.len, norm))
					diag_add(d, DIAG_WARNING, "mx-duplicate", line,
						 "mx '%s' is listed twice", norm);
				rc = buf_add(&mx, norm, strlen(norm) + 1);
				if (rc != MT_OK) {
					buf_free(&mx);
					return rc;
				}
				n_mx++;
			} else {
				mx_pitfall(d, line, val, n);
				bad++;
			}
		} else {
			/* sts-policy-extension: the value is VCHAR / UTF-8 with
			 * inner spaces (not tabs); ignored by senders */
			for (size_t i = vstart; i < vend;) {
				size_t l = 1;

				if (p[i] >= 0x80)
					l = utf8_seq(p + i, vend - i);
				else if (!(p[i] == ' ' || (p[i] >= 0x21 && p[i] <= 0x7e)))
					l = 0;
				if (l == 0) {
					diag_add(d, DIAG_ERROR, "ext-value-invalid", line,
						 "field '%.*s' has a value with a tab, control characters or invalid UTF-8",
						 (int)(klen < 40 ? klen : 40), key);
					bad++;
					goto next;
				}
				i += l;
			}
			for (size_t k = 0; k < sizeof(known_keys) / sizeof(known_keys[0]); k++) {
				if (near(key, klen, known_keys[k])) {
					diag_add(d, DIAG_WARNING, "key-unknown", line,
						 "unknown field '%.*s' is ignored; did you mean '%s'? (field names are case-sensitive)",
						 (int)klen, key, known_keys[k]);
					goto next;
				}
			}
			diag_add(d, DIAG_WARNING, "key-extension", line,
				 "unknown field '%.*s' is ignored", (int)klen, key);
		}
next:;
	}

	if (!seen.version) {
		diag_add(d, DIAG_ERROR, "version-missing", 0,
			 "no 'version: STSv1' field");
		bad++;
	}
	if (!seen.mode) {
		diag_add(d, DIAG_ERROR, "mode-missing", 0, "no 'mode' field");
		bad++;
	}
	if (!seen.max_age) {
		diag_add(d, DIAG_ERROR, "max-age-missing", 0, "no 'max_age' field");
		bad++;
	}
	if ((mode == POLICY_MODE_ENFORCE || mode == POLICY_MODE_TESTING) &&
	    n_mx == 0) {
		/* design decision: a typo must not become "no MX allowed" */
		diag_add(d, DIAG_ERROR, "mx-missing", 0,
			 "mode %s needs at least one valid 'mx' field",
			 mode_names[mode]);
		bad++;
	}
	if (bad) {
		buf_free(&mx);
		return MT_EPARSE;
	}
	out->mode = (enum policy_mode)mode;
	out->max_age = max_age;
	out->n_mx = n_mx;
	out->mx_len = (uint32_t)mx.len;
	out->mx = n_mx ? buf_steal(&mx, NULL) : NULL;
	buf_free(&mx);
	return MT_OK;
}
