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
 *
 * The parse is a loop over lines and a table of keys (keys[]): each line
 * must satisfy the grammar of its field, the first occurrence of a field
 * counts, later ones are checked and ignored.  An mx pattern that fits the
 * grammar but that no MX host can match is left out with a warning (an
 * error in policy_lint(), the publisher's view).  Advice for the publisher
 * is computed only when findings are wanted: the sender passes no list.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "domain.h"
#include "mem.h"
#include "policy.h"
#include "status.h"
#include "str.h"

#define EXT_NAME_MAX 32
#define MAX_AGE_SHORT 86400 /* below a day protects almost no one */

static const char *const mode_names[] = {
	[POLICY_MODE_NONE] = "none",
	[POLICY_MODE_TESTING] = "testing",
	[POLICY_MODE_ENFORCE] = "enforce",
};

const char *policy_mode_str(enum policy_mode m)
{
	if ((unsigned)m >= ARRAY_SIZE(mode_names))
		return "unknown";
	return mode_names[m];
}

int policy_mode_from_str(const char *s, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (strlen(mode_names[i]) == len &&
		    memcmp(mode_names[i], s, len) == 0)
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
		return NULL; /* unterminated: treat as the end */
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
			unsigned char ca = str_lower((unsigned char)a[i - 1]);
			unsigned char cb = (unsigned char)b[j - 1];
			unsigned cost, m;

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

/* Copy at most max bytes of v into out (max + 1 bytes) for a message,
 * control characters (NUL too) shown as '?'. */
static void show(char *out, const char *v, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)v[i];

		out[i] = str_is_ctl(c) ? '?' : (char)c;
	}
	out[i] = '\0';
}

/*
 * The parse: one pass over the lines.  Each field line goes to the handler
 * of its key (keys[] below) or, for any other name, to the extension
 * handler.  A handler checks the value against its production whatever the
 * line's position, so every line must satisfy the grammar; only then does
 * the first occurrence of a field count (RFC 8461 §3.2).  Advice for the
 * publisher (did you mean, pitfalls, version first) is computed only when
 * someone reads the findings.
 */
struct line {
	unsigned no; /* 1-based */
	const char *key, *val;
	size_t klen, vlen;
};

struct pstate {
	struct diag_list *d; /* NULL: the sender, no findings wanted */
	bool publisher;	     /* policy_lint: errors for the publisher */
	struct buf mx;	     /* the pattern blob */
	uint32_t n_mx;
	unsigned bad; /* grammar errors */
	int mode;
	uint32_t max_age;
	unsigned first_line; /* the first field line, and its key */
	bool first_is_version;
};

/* MT_OK (valid value), MT_EPARSE (reported) or MT_ENOMEM.  first: no
 * earlier line had this key. */
typedef int key_fn(struct pstate *st, const struct line *l, bool first);

static key_fn key_version, key_mode, key_max_age, key_mx;

static const struct key {
	const char *name;
	key_fn *parse;
	bool repeated;				/* every line counts (mx) */
	const char *missing_code, *missing_msg; /* required once */
} keys[] = {
	{ "version", key_version, false, "version-missing",
	  "no 'version: STSv1' field" },
	{ "mode", key_mode, false, "mode-missing", "no 'mode' field" },
	{ "max_age", key_max_age, false, "max-age-missing",
	  "no 'max_age' field" },
	{ "mx", key_mx, true, NULL, NULL },
};

/* sts-policy-version-value = %s"STSv1" */
static int key_version(struct pstate *st, const struct line *l, bool first)
{
	if (l->vlen != 5 || memcmp(l->val, "STSv1", 5) != 0) {
		diag_add(st->d, DIAG_ERROR, "version-invalid", l->no,
			 "version must be STSv1");
		return MT_EPARSE;
	}
	return MT_OK;
}

/* sts-policy-mode-value = %s"testing" / %s"enforce" / %s"none" */
static int key_mode(struct pstate *st, const struct line *l, bool first)
{
	const char *hint = "";
	int m = policy_mode_from_str(l->val, l->vlen);

	if (m >= 0) {
		if (first)
			st->mode = m;
		return MT_OK;
	}
	for (size_t i = 0; st->d && i < ARRAY_SIZE(mode_names); i++)
		if (near(l->val, l->vlen, mode_names[i]))
			hint = mode_names[i];
	diag_add(st->d, DIAG_ERROR, "mode-invalid", l->no,
		 "mode must be enforce, testing or none (lower case)%s%s%s",
		 hint[0] ? "; did you mean '" : "", hint, hint[0] ? "'?" : "");
	return MT_EPARSE;
}

/* sts-policy-max-age-value = 1*10DIGIT; above 31557600 it is clamped
 * (docs/conformance.md decision 2). */
static int key_max_age(struct pstate *st, const struct line *l, bool first)
{
	uint64_t x = 0;

	if (l->vlen > 10) {
		diag_add(st->d, DIAG_ERROR, "max-age-too-long", l->no,
			 "max_age has more than 10 digits");
		return MT_EPARSE;
	}
	for (size_t i = 0; i < l->vlen; i++) {
		if (!str_is_digit((unsigned char)l->val[i])) {
			diag_add(
				st->d, DIAG_ERROR, "max-age-invalid", l->no,
				"max_age must be a number of seconds (digits only, no sign or unit)");
			return MT_EPARSE;
		}
		x = x * 10 + (uint64_t)(l->val[i] - '0');
	}
	if (!first)
		return MT_OK;
	if (l->vlen > 1 && l->val[0] == '0')
		diag_add(
			st->d, DIAG_WARNING, "max-age-leading-zero", l->no,
			"max_age has leading zeros; it is read as decimal %llu",
			(unsigned long long)x);
	if (x > POLICY_MAX_AGE_MAX) {
		diag_add(
			st->d, DIAG_WARNING, "max-age-clamped", l->no,
			"max_age %llu is above the maximum 31557600 (about a year); senders use 31557600",
			(unsigned long long)x);
		x = POLICY_MAX_AGE_MAX;
	}
	if (x < MAX_AGE_SHORT)
		diag_add(
			st->d, DIAG_WARNING, "max-age-short", l->no,
			"max_age %llu is under a day: the policy protects little against a downgrade; weeks are usual (RFC 8461 §3.2)",
			(unsigned long long)x);
	st->max_age = (uint32_t)x;
	return MT_OK;
}

/* Diagnose a value that is not a valid mx pattern, naming the pitfall. */
static void mx_pitfall(struct diag_list *d, unsigned line, const char *v,
		       size_t n)
{
	char shown[80];
	size_t i, rest, digits_dots = 1;

	if (d == NULL)
		return;
	show(shown, v, n, 60);
	for (i = 0; i < n; i++)
		if (!(str_is_digit((unsigned char)v[i]) || v[i] == '.'))
			digits_dots = 0;
	if (n > 0 &&
	    (v[0] == '[' || digits_dots || memchr(v, ':', n) != NULL)) {
		if (memmem(v, n, "://", 3) != NULL)
			diag_add(d, DIAG_ERROR, "mx-url", line,
				 "mx '%s' is a URL; give the MX host name only",
				 shown);
		else if (v[0] == '[' || digits_dots ||
			 (memchr(v, ':', n) != memrchr(v, ':', n)))
			diag_add(
				d, DIAG_ERROR, "mx-ip-literal", line,
				"mx '%s' is an IP address; patterns must be host names",
				shown);
		else
			diag_add(d, DIAG_ERROR, "mx-port", line,
				 "mx '%s' has a port; give the host name only",
				 shown);
		return;
	}
	if (n == 1 && v[0] == '*') {
		diag_add(
			d, DIAG_ERROR, "mx-wildcard-alone", line,
			"mx '*' matches nothing: a wildcard stands for one label of a name, as in *.example.net");
		return;
	}
	/* a "*." prefix is the one allowed place */
	rest = n >= 2 && v[0] == '*' && v[1] == '.' ? 2 : 0;
	if (memchr(v + rest, '*', n - rest) != NULL || (rest && n == rest)) {
		diag_add(
			d, DIAG_ERROR, "mx-wildcard-position", line,
			"mx '%s': a wildcard is allowed only as the whole left-most label ('*.')",
			shown);
		return;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)v[i] >= 0x80) {
			diag_add(
				d, DIAG_ERROR, "mx-invalid", line,
				"mx '%s' is not a valid IDNA2008 name (lower case, NFC, no full-width or invisible characters, dots only '.'); or give its A-label",
				shown);
			return;
		}
	}
	diag_add(d, DIAG_ERROR, "mx-invalid", line,
		 "mx '%s' is not a valid host name", shown);
}

/* Is the normalised pattern one no MX host can match?  Its last label is
 * all digits: an IPv4 address written as a name, or a numeric top-level
 * domain, which does not exist (RFC 3696 §2).  The line fits the Domain
 * grammar of RFC 5321, so it is no grammar error; the sender leaves the
 * pattern out, the publisher gets an error (docs/conformance.md
 * decision 11). */
static bool mx_unusable(struct pstate *st, const struct line *l,
			const char *norm)
{
	const char *last = strrchr(norm, '.');
	const char *q = last ? last + 1 : norm;
	enum diag_severity sev = st->publisher ? DIAG_ERROR : DIAG_WARNING;

	if (*q == '\0' || strspn(q, "0123456789") != strlen(q))
		return false;
	if (strspn(norm, "0123456789.") == strlen(norm))
		diag_add(
			st->d, sev, "mx-ip-literal", l->no,
			"mx '%s' is an IP address, which no MX host name matches; senders leave it out (patterns must be host names)",
			norm);
	else
		diag_add(
			st->d, sev, "mx-numeric-tld", l->no,
			"mx '%s': the last label is all digits, so no MX host name matches it (no top-level domain is numeric); senders leave it out",
			norm);
	return true;
}

/* Advice on a valid pattern: how it was written, whether it repeats. */
static void mx_advice(struct pstate *st, const struct line *l, const char *norm)
{
	uint32_t it = 0;
	const char *pat;

	if (st->d == NULL)
		return;
	for (size_t i = 0; i < l->vlen; i++) {
		if ((unsigned char)l->val[i] >= 0x80) {
			diag_add(
				st->d, DIAG_WARNING, "mx-ulabel", l->no,
				"mx written as a U-label; senders compare its A-label form '%s'",
				norm);
			break;
		}
	}
	if (l->val[l->vlen - 1] == '.')
		diag_add(st->d, DIAG_WARNING, "mx-trailing-dot", l->no,
			 "mx '%s.' has a trailing dot; it is ignored", norm);
	while ((pat = policy_mx_next(st->mx.data, (uint32_t)st->mx.len, &it)) !=
	       NULL) {
		if (strcmp(pat, norm) == 0) {
			diag_add(st->d, DIAG_WARNING, "mx-duplicate", l->no,
				 "mx '%s' is listed twice", norm);
			break;
		}
	}
}

/* sts-policy-mx-value = ["*."] Domain; U-labels are taken as strict
 * IDNA2008 and compared as A-labels, whose length is what is limited
 * (docs/conformance.md decision 10). */
static int key_mx(struct pstate *st, const struct line *l, bool first)
{
	char norm[DOMAIN_BUFSZ];
	size_t n;
	int rc;

	if (domain_pattern_normalise(l->val, l->vlen, norm) != MT_OK) {
		mx_pitfall(st->d, l->no, l->val, l->vlen);
		return MT_EPARSE;
	}
	if (mx_unusable(st, l, norm))
		return MT_OK;
	mx_advice(st, l, norm);
	n = strlen(norm) + 1;
	rc = buf_add(&st->mx, norm, n);
	if (rc == MT_ETOOBIG) {
		/* more than a cache entry holds: only a policy of thousands
		 * of U-label patterns gets here */
		diag_add(st->d, DIAG_ERROR, "mx-too-many", l->no,
			 "the mx patterns take more than %u bytes as A-labels",
			 POLICY_MX_BLOB_MAX);
		return MT_EPARSE;
	}
	if (rc != MT_OK)
		return rc;
	st->n_mx++;
	return MT_OK;
}

/* Advice on an unknown field name: a near miss of a defined one. */
static void key_advice(struct pstate *st, const struct line *l)
{
	if (st->d == NULL)
		return;
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		if (near(l->key, l->klen, keys[k].name)) {
			diag_add(
				st->d, DIAG_WARNING, "key-unknown", l->no,
				"unknown field '%.*s' is ignored; did you mean '%s'? (field names are case-sensitive)",
				(int)l->klen, l->key, keys[k].name);
			return;
		}
	}
	diag_add(st->d, DIAG_WARNING, "key-extension", l->no,
		 "unknown field '%.*s' is ignored", (int)l->klen, l->key);
}

/* sts-policy-extension: the value is sts-policy-vchar (VCHAR, UTF-8) with
 * inner spaces, no tab; checked, then ignored by senders. */
static int key_extension(struct pstate *st, const struct line *l)
{
	const unsigned char *v = (const unsigned char *)l->val;

	for (size_t i = 0; i < l->vlen;) {
		size_t n = 1;

		if (v[i] >= 0x80)
			n = str_utf8_len(v + i, l->vlen - i);
		else if (!(v[i] == ' ' || str_is_vchar(v[i])))
			n = 0;
		if (n == 0) {
			diag_add(
				st->d, DIAG_ERROR, "ext-value-invalid", l->no,
				"field '%.*s' has a value with a tab, control characters or invalid UTF-8",
				(int)(l->klen < 40 ? l->klen : 40), l->key);
			return MT_EPARSE;
		}
		i += n;
	}
	key_advice(st, l);
	return MT_OK;
}

/*
 * Cut the next line out of p[*off..len): sts-policy-term = LF / CRLF.
 * Returns MT_OK with a field line in *l, MT_ENOTFOUND for a blank line
 * (tolerated, decision 5) or MT_EPARSE after reporting a line outside the
 * grammar.
 */
static int next_line(struct pstate *st, const unsigned char *p, size_t len,
		     size_t *off, unsigned no, struct line *l)
{
	size_t start = *off, end, eol, klen, vstart, vend;
	bool blank = true;

	for (eol = start; eol < len && p[eol] != '\n'; eol++)
		;
	end = eol;
	if (end > start && p[end - 1] == '\r')
		end--;
	*off = eol < len ? eol + 1 : eol;
	l->no = no;
	for (size_t i = start; i < end; i++) {
		if (p[i] == '\r') {
			diag_add(
				st->d, DIAG_ERROR, "bare-cr", no,
				"a carriage return not followed by a line feed");
			return MT_EPARSE;
		}
		if (p[i] == '\0') {
			diag_add(st->d, DIAG_ERROR, "nul", no,
				 "a NUL byte inside the line");
			return MT_EPARSE;
		}
		if (!str_is_wsp(p[i]))
			blank = false;
	}
	if (blank) {
		diag_add(st->d, DIAG_WARNING,
			 end > start ? "whitespace-line" : "blank-line", no,
			 "blank line");
		return MT_ENOTFOUND;
	}
	if (str_is_wsp(p[start])) {
		diag_add(st->d, DIAG_ERROR, "leading-whitespace", no,
			 "the line starts with white space");
		return MT_EPARSE;
	}
	/* trailing *WSP is part of the grammar; still worth a note */
	for (vend = end; vend > start && str_is_wsp(p[vend - 1]); vend--)
		;
	if (vend < end)
		diag_add(st->d, DIAG_WARNING, "trailing-whitespace", no,
			 "trailing white space");
	/* key ":" *WSP value */
	for (klen = 0; start + klen < vend && p[start + klen] != ':'; klen++)
		;
	if (start + klen >= vend) {
		diag_add(st->d, DIAG_ERROR, "no-colon", no,
			 "expected 'key: value'");
		return MT_EPARSE;
	}
	l->key = (const char *)p + start;
	l->klen = klen;
	/* sts-policy-ext-name; it covers the defined names too */
	if (!str_is_ext_name(l->key, klen, EXT_NAME_MAX)) {
		char shown[41];

		show(shown, l->key, klen, 40);
		diag_add(st->d, DIAG_ERROR, "key-invalid", no,
			 "'%s' is not a valid field name", shown);
		return MT_EPARSE;
	}
	for (vstart = start + klen + 1; vstart < vend && str_is_wsp(p[vstart]);
	     vstart++)
		;
	l->val = (const char *)p + vstart;
	l->vlen = vend - vstart;
	return MT_OK;
}

static const struct key *key_find(const char *name, size_t n)
{
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		if (strlen(keys[k].name) == n &&
		    memcmp(keys[k].name, name, n) == 0)
			return &keys[k];
	return NULL;
}

/* One field line: the empty value, the handler, the first occurrence. */
static int field(struct pstate *st, const struct line *l, unsigned *first_at)
{
	const struct key *k = key_find(l->key, l->klen);
	unsigned *first;
	int rc;

	if (st->first_line == 0) {
		st->first_line = l->no;
		st->first_is_version = k && k->parse == key_version;
	}
	if (l->vlen == 0) {
		/* every value of the ABNF has at least one character */
		diag_add(st->d, DIAG_ERROR, "value-empty", l->no,
			 "'%.*s' has no value", (int)l->klen, l->key);
		return MT_EPARSE;
	}
	if (k == NULL)
		return key_extension(st, l);
	first = &first_at[k - keys];
	rc = k->parse(st, l, *first == 0);
	/* RFC 8461 §3.2: of a repeated field, all entries but the first
	 * SHALL be ignored; each one was checked all the same */
	if (rc == MT_OK && *first != 0 && !k->repeated)
		diag_add(st->d, DIAG_WARNING, "duplicate-key", l->no,
			 "repeated '%s' ignored; the first (line %u) counts",
			 k->name, *first);
	if (*first == 0)
		*first = l->no;
	return rc;
}

/* After the last line: what must be there, and advice on the order. */
static void finish(struct pstate *st, const unsigned *first_at)
{
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		if (keys[k].missing_code && first_at[k] == 0) {
			diag_add(st->d, DIAG_ERROR, keys[k].missing_code, 0,
				 "%s", keys[k].missing_msg);
			st->bad++;
		}
	}
	if ((st->mode == POLICY_MODE_ENFORCE ||
	     st->mode == POLICY_MODE_TESTING) &&
	    st->n_mx == 0) {
		/* design decision: a typo must not become "no MX allowed" */
		diag_add(st->d, DIAG_ERROR, "mx-missing", 0,
			 "mode %s needs at least one valid 'mx' field",
			 mode_names[st->mode]);
		st->bad++;
	}
	/* The ABNF lets fields come in any order; publishers' guides (and
	 * some receivers) expect version first: say so, do not reject
	 * (decision 12). */
	if (st->first_line && !st->first_is_version)
		diag_add(st->d, DIAG_WARNING, "version-not-first",
			 st->first_line,
			 "the first field should be 'version: STSv1'");
}

static int parse(const char *buf, size_t len, struct policy *out,
		 struct diag_list *d, bool publisher)
{
	const unsigned char *p = (const unsigned char *)buf;
	unsigned first_at[ARRAY_SIZE(keys)] = { 0 };
	struct pstate st;
	size_t off = 0;
	unsigned no = 0;
	int rc = MT_OK;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.d = d;
	st.publisher = publisher;
	st.mode = -1;
	buf_init(&st.mx, POLICY_MX_BLOB_MAX);
	if (len > POLICY_MAX_BYTES) {
		diag_add(
			d, DIAG_ERROR, "too-big", 0,
			"the policy is %zu bytes; senders accept at most 65536 (RFC 8461 §3.3)",
			len);
		rc = MT_ETOOBIG;
		goto out;
	}
	if (len == 0) {
		diag_add(d, DIAG_ERROR, "empty", 0, "the policy is empty");
		rc = MT_EPARSE;
		goto out;
	}
	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
		diag_add(
			d, DIAG_ERROR, "bom", 1,
			"the file starts with a UTF-8 byte order mark; remove it");
		st.bad++;
		off = 3;
	}
	while (off < len) {
		struct line l;

		rc = next_line(&st, p, len, &off, ++no, &l);
		if (rc == MT_OK)
			rc = field(&st, &l, first_at);
		if (rc == MT_ENOMEM)
			goto out;
		if (rc == MT_EPARSE)
			st.bad++;
	}
	finish(&st, first_at);
	if (st.bad) {
		rc = MT_EPARSE;
		goto out;
	}
	rc = MT_OK;
	out->mode = (enum policy_mode)st.mode;
	out->max_age = st.max_age;
	out->n_mx = st.n_mx;
	out->mx_len = (uint32_t)st.mx.len;
	out->mx = st.n_mx ? buf_steal(&st.mx, NULL) : NULL;
out:
	buf_free(&st.mx);
	return rc;
}

int policy_parse(const char *buf, size_t len, struct policy *out,
		 struct diag_list *d)
{
	return parse(buf, len, out, d, false);
}

int policy_lint(const char *buf, size_t len, struct policy *out,
		struct diag_list *d)
{
	return parse(buf, len, out, d, true);
}
