/*
 * txt.c - the TXT records of MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460
 * §3).  Pure parsers over record strings from the DNS, which are hostile
 * input: lengths bound every scan, NUL bytes are invalid, no copy is
 * unchecked.
 *
 *   sts-text-record = sts-version 1*(sts-sep sts-field) [sts-sep]
 *   sts-version     = %s"v=STSv1"
 *   sts-field       = sts-id / sts-extension
 *   sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
 *   sts-sep         = *WSP %x3B *WSP
 *   sts-extension   = sts-ext-name "=" sts-ext-value
 *   sts-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   sts-ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 *   tlsrpt-record   = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
 *   tlsrpt-version  = %s"v=TLSRPTv1"
 *   tlsrpt-rua      = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *   (extensions as above)
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "status.h"
#include "txt.h"

static int is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Does rec start with the version tag, followed by a separator or the
 * end?  ("v=STSv10" is another version.) */
static int has_version(const char *rec, size_t len, const char *tag)
{
	size_t n = strlen(tag), i;

	if (len < n || memcmp(rec, tag, n) != 0)
		return 0;
	for (i = n; i < len && is_wsp((unsigned char)rec[i]); i++)
		;
	return i == len || rec[i] == ';';
}

struct field {
	const char *name;
	size_t nlen;
	const char *val;
	size_t vlen;
};

/* Split rec (after the version tag) into fields.  Calls fn for each;
 * returns 0 or -1 after a grammar error (reported). */
static int split_fields(const char *rec, size_t len, size_t off, unsigned recno,
			struct diag_list *d,
			int (*fn)(const struct field *f, void *arg,
				  struct diag_list *d, unsigned recno),
			void *arg)
{
	size_t nfields = 0;

	for (;;) {
		struct field f;
		size_t i;

		/* sep = *WSP ";" *WSP, or the end */
		while (off < len && is_wsp((unsigned char)rec[off]))
			off++;
		if (off == len)
			break;
		if (rec[off] != ';') {
			diag_add(d, DIAG_ERROR, "txt-separator", recno,
				 "expected ';' between fields at offset %zu", off);
			return -1;
		}
		off++;
		while (off < len && is_wsp((unsigned char)rec[off]))
			off++;
		if (off == len)
			break;	/* [sep] at the end */
		f.name = rec + off;
		for (i = off; i < len && rec[i] != '=' && rec[i] != ';' &&
			      !is_wsp((unsigned char)rec[i]); i++)
			;
		f.nlen = i - off;
		if (i == len || rec[i] != '=') {
			diag_add(d, DIAG_ERROR, "txt-field", recno,
				 "expected 'name=value' at offset %zu", off);
			return -1;
		}
		if (f.nlen == 0 || f.nlen > 32 ||
		    !is_alnum((unsigned char)f.name[0])) {
			diag_add(d, DIAG_ERROR, "txt-field-name", recno,
				 "invalid field name at offset %zu", off);
			return -1;
		}
		for (size_t k = 1; k < f.nlen; k++) {
			unsigned char c = (unsigned char)f.name[k];

			if (!(is_alnum(c) || c == '_' || c == '-' || c == '.')) {
				diag_add(d, DIAG_ERROR, "txt-field-name", recno,
					 "invalid field name at offset %zu", off);
				return -1;
			}
		}
		off = i + 1;
		f.val = rec + off;
		while (off < len && rec[off] != ';' && !is_wsp((unsigned char)rec[off]))
			off++;
		f.vlen = (size_t)(rec + off - f.val);
		/* a value may contain WSP only where a field allows it (rua
		 * lists); let the callback see the rest up to ';' */
		{
			size_t e = off;

			while (e < len && rec[e] != ';')
				e++;
			while (e > off && is_wsp((unsigned char)rec[e - 1]))
				e--;
			if (e > off) {
				f.vlen = (size_t)(rec + e - f.val);
				off = e;
			}
		}
		if (fn(&f, arg, d, recno) != 0)
			return -1;
		nfields++;
	}
	if (nfields == 0) {
		diag_add(d, DIAG_ERROR, "txt-no-fields", recno,
			 "the record has no fields after the version");
		return -1;
	}
	return 0;
}

/* sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E) */
static int ext_value_ok(const char *v, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
			return 0;
	}
	return 1;
}

struct sts_state {
	struct sts_txt *out;
	int have_id;
};

static int sts_field(const struct field *f, void *arg, struct diag_list *d,
		     unsigned recno)
{
	struct sts_state *st = arg;

	if (f->nlen == 2 && memcmp(f->name, "id", 2) == 0) {
		if (st->have_id) {
			diag_add(d, DIAG_WARNING, "txt-duplicate-id", recno,
				 "second id ignored");
			return 0;
		}
		if (f->vlen == 0 || f->vlen > TXT_ID_MAX) {
			diag_add(d, DIAG_ERROR, "txt-id-invalid", recno,
				 "id must be 1 to 32 letters and digits (it is %zu characters)",
				 f->vlen);
			return -1;
		}
		for (size_t i = 0; i < f->vlen; i++) {
			if (!is_alnum((unsigned char)f->val[i])) {
				diag_add(d, DIAG_ERROR, "txt-id-invalid", recno,
					 "id must be letters and digits only (no '-', '.', '_' or spaces)");
				return -1;
			}
		}
		memcpy(st->out->id, f->val, f->vlen);
		st->out->id[f->vlen] = '\0';
		st->have_id = 1;
		return 0;
	}
	if (!ext_value_ok(f->val, f->vlen)) {
		diag_add(d, DIAG_ERROR, "txt-ext-invalid", recno,
			 "field '%.*s' has an invalid value", (int)f->nlen, f->name);
		return -1;
	}
	return 0;
}

/* Shared selection: RFC 8461 §3.1 / RFC 8460 §3: discard records without the
 * version tag; exactly one must remain.  Returns its index, or -1 (none) or
 * -2 (several). */
static long select_one(const char *const *recs, const size_t *lens, size_t n,
		       const char *tag, struct diag_list *d)
{
	long found = -1;
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		if (recs[i] == NULL)
			continue;
		if (has_version(recs[i], lens[i], tag)) {
			if (found < 0)
				found = (long)i;
			count++;
		} else {
			diag_add(d, DIAG_WARNING, "txt-discarded", (unsigned)i + 1,
				 "record does not start with %s and is ignored", tag);
		}
	}
	if (count == 0) {
		diag_add(d, DIAG_ERROR, "txt-none", 0, "no record starts with %s",
			 tag);
		return -1;
	}
	if (count > 1) {
		diag_add(d, DIAG_ERROR, "txt-multiple", 0,
			 "%zu records start with %s; exactly one is allowed, so none is used",
			 count, tag);
		return -2;
	}
	return found;
}

int txt_sts_select(const char *const *recs, const size_t *lens, size_t n,
		   struct sts_txt *out, struct diag_list *d)
{
	struct sts_state st = { out, 0 };
	long i;

	memset(out, 0, sizeof(*out));
	i = select_one(recs, lens, n, "v=STSv1", d);
	if (i == -1)
		return MT_ENOTFOUND;
	if (i < 0)
		return MT_EPARSE;
	if (memchr(recs[i], '\0', lens[i]) != NULL) {
		diag_add(d, DIAG_ERROR, "txt-nul", (unsigned)i + 1,
			 "the record contains a NUL byte");
		return MT_EPARSE;
	}
	if (split_fields(recs[i], lens[i], 7, (unsigned)i + 1, d, sts_field,
			 &st) != 0) {
		memset(out, 0, sizeof(*out));
		return MT_EPARSE;
	}
	if (!st.have_id) {
		diag_add(d, DIAG_ERROR, "txt-id-missing", (unsigned)i + 1,
			 "the record has no id field");
		memset(out, 0, sizeof(*out));
		return MT_EPARSE;
	}
	return MT_OK;
}

/* URI characters of RFC 3986 (unreserved, reserved, '%'), minus ',' and
 * '!' which RFC 8460 §3 requires encoded, and ';' the field separator. */
static int uri_char(unsigned char c)
{
	if (is_alnum(c))
		return 1;
	return c != ',' && c != '!' && c != ';' &&
	       strchr("-._~:/?#[]@$&'()*+=%", c) != NULL && c != '\0';
}

static int check_uri(const char *u, size_t n, struct tlsrpt_uri *out,
		     struct diag_list *d, unsigned recno)
{
	size_t i;

	if (n == 0 || n > TXT_URI_MAX) {
		diag_add(d, DIAG_ERROR, "tlsrpt-uri-invalid", recno,
			 "empty or over-long rua URI");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!uri_char((unsigned char)u[i])) {
			diag_add(d, DIAG_ERROR, "tlsrpt-uri-invalid", recno,
				 "rua URI has a character that must be percent-encoded");
			return -1;
		}
	}
	if (n > 7 && strncasecmp(u, "mailto:", 7) == 0) {
		/* RFC 6068: mailto:addr-spec[?hfields]; one address, whose
		 * domain must be a host name a report can be mailed to */
		const char *end = memchr(u + 7, '?', n - 7);
		const char *at;
		char dom[DOMAIN_BUFSZ];

		if (end == NULL)
			end = u + n;
		at = memchr(u + 7, '@', (size_t)(end - u - 7));
		if (at == NULL || at == u + 7 || at == end - 1 ||
		    memchr(at + 1, '@', (size_t)(end - at - 1)) != NULL ||
		    domain_normalise(at + 1, (size_t)(end - at - 1), dom) != MT_OK) {
			diag_add(d, DIAG_ERROR, "tlsrpt-mailto-invalid", recno,
				 "mailto: URI needs one address local@domain with a valid domain");
			return -1;
		}
		out->scheme = TLSRPT_MAILTO;
	} else if (n > 8 && strncasecmp(u, "https://", 8) == 0) {
		/* RFC 3986 authority: [userinfo@]host[:port] */
		size_t h = 8, e, hs;
		char dom[DOMAIN_BUFSZ];

		while (h < n && u[h] != '/' && u[h] != '?' && u[h] != '#')
			h++;
		hs = 8;
		for (size_t k = 8; k < h; k++)
			if (u[k] == '@')
				hs = k + 1;
		e = h;
		if (hs < h && u[hs] != '[') {
			const char *colon = memchr(u + hs, ':', h - hs);

			if (colon != NULL) {
				e = (size_t)(colon - u);
				for (size_t k = e + 1; k < h; k++)
					if (u[k] < '0' || u[k] > '9')
						e = hs;	/* bad port: invalid */
			}
		}
		if (hs >= e || (u[hs] != '[' &&
				domain_normalise(u + hs, e - hs, dom) != MT_OK)) {
			diag_add(d, DIAG_ERROR, "tlsrpt-https-invalid", recno,
				 "https: URI needs a valid host name");
			return -1;
		}
		out->scheme = TLSRPT_HTTPS;
	} else {
		diag_add(d, DIAG_ERROR, "tlsrpt-scheme", recno,
			 "rua URI scheme must be mailto: or https:");
		return -1;
	}
	memcpy(out->uri, u, n);
	out->uri[n] = '\0';
	return 0;
}

struct rpt_state {
	struct tlsrpt_txt *out;
	int have_rua;
};

static int rpt_field(const struct field *f, void *arg, struct diag_list *d,
		     unsigned recno)
{
	struct rpt_state *st = arg;

	if (f->nlen == 3 && memcmp(f->name, "rua", 3) == 0) {
		size_t off = 0;

		if (st->have_rua) {
			diag_add(d, DIAG_WARNING, "tlsrpt-duplicate-rua", recno,
				 "second rua field ignored");
			return 0;
		}
		st->have_rua = 1;
		while (off <= f->vlen) {
			size_t s = off, e;

			while (s < f->vlen && is_wsp((unsigned char)f->val[s]))
				s++;
			e = s;
			while (e < f->vlen && f->val[e] != ',' &&
			       !is_wsp((unsigned char)f->val[e]))
				e++;
			if (st->out->n_rua >= TXT_RUA_MAX) {
				diag_add(d, DIAG_WARNING, "tlsrpt-rua-many", recno,
					 "more than %d rua URIs; the rest are ignored",
					 TXT_RUA_MAX);
				return 0;
			}
			if (check_uri(f->val + s, e - s,
				      &st->out->rua[st->out->n_rua], d, recno) != 0)
				return -1;
			st->out->n_rua++;
			while (e < f->vlen && is_wsp((unsigned char)f->val[e]))
				e++;
			if (e >= f->vlen)
				break;
			if (f->val[e] != ',') {
				diag_add(d, DIAG_ERROR, "tlsrpt-uri-invalid", recno,
					 "rua URIs must be separated by ','");
				return -1;
			}
			off = e + 1;
		}
		return 0;
	}
	if (!ext_value_ok(f->val, f->vlen)) {
		diag_add(d, DIAG_ERROR, "txt-ext-invalid", recno,
			 "field '%.*s' has an invalid value", (int)f->nlen, f->name);
		return -1;
	}
	return 0;
}

int txt_tlsrpt_select(const char *const *recs, const size_t *lens, size_t n,
		      struct tlsrpt_txt *out, struct diag_list *d)
{
	struct rpt_state st = { out, 0 };
	long i;

	memset(out, 0, sizeof(*out));
	i = select_one(recs, lens, n, "v=TLSRPTv1", d);
	if (i == -1)
		return MT_ENOTFOUND;
	if (i < 0)
		return MT_EPARSE;
	if (memchr(recs[i], '\0', lens[i]) != NULL) {
		diag_add(d, DIAG_ERROR, "txt-nul", (unsigned)i + 1,
			 "the record contains a NUL byte");
		return MT_EPARSE;
	}
	if (split_fields(recs[i], lens[i], 10, (unsigned)i + 1, d, rpt_field,
			 &st) != 0) {
		memset(out, 0, sizeof(*out));
		return MT_EPARSE;
	}
	if (!st.have_rua) {
		diag_add(d, DIAG_ERROR, "tlsrpt-rua-missing", (unsigned)i + 1,
			 "the record has no rua field");
		memset(out, 0, sizeof(*out));
		return MT_EPARSE;
	}
	return MT_OK;
}
