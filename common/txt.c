/*
 * txt.c - the TXT records of MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460
 * §3).  Pure parsers over record strings from the DNS, which are hostile
 * input: lengths bound every scan, NUL bytes are invalid, no copy is
 * unchecked.
 *
 *   sts-text-record = sts-version 1*(sts-field-delim sts-field)
 *                     [sts-field-delim]
 *   sts-field       = sts-id / sts-extension
 *   sts-field-delim = *WSP ";" *WSP
 *   sts-version     = %s"v=STSv1"
 *   sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
 *   sts-extension   = sts-ext-name "=" sts-ext-value
 *   sts-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   sts-ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 *   tlsrpt-record   = tlsrpt-version 1*(field-delim tlsrpt-field)
 *                     [field-delim]
 *   field-delim     = *WSP ";" *WSP
 *   tlsrpt-version  = %s"v=TLSRPTv1"
 *   tlsrpt-rua      = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *   (extensions as above)
 *
 * One rule for both (docs/conformance.md): the record must match its
 * grammar as a whole, every field included, and only then does the first
 * of a repeated field count.  A field named as a defined one (id, rua) is
 * that field, never an extension: a malformed repeat makes the record
 * invalid, and §3.1 makes an invalid record "no policy".
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "status.h"
#include "str.h"
#include "txt.h"

/* Does rec start with the version tag, followed by a separator or the
 * end?  ("v=STSv10" is another version.) */
static int has_version(const char *rec, size_t len, const char *tag)
{
	size_t n = strlen(tag), i;

	if (len < n || memcmp(rec, tag, n) != 0)
		return 0;
	for (i = n; i < len && str_is_wsp((unsigned char)rec[i]); i++)
		;
	return i == len || rec[i] == ';';
}

struct field {
	const char *name;
	size_t nlen;
	const char *val;
	size_t vlen;
};

/* A defined field: check f (and store it when first is set); 0 or -1
 * after an error was reported. */
typedef int field_fn(void *out, const struct field *f, int first,
		     struct diag_list *d, unsigned recno);

/* One record type: its version tag, its one defined field (required),
 * and the codes of its findings. */
struct txt_kind {
	const char *tag;
	const char *field; /* "id", "rua" */
	field_fn *parse;
	const char *dup_code, *dup_msg; /* a repeat of the field */
	const char *missing_code, *missing_msg;
	size_t out_size;
};

/* sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E) */
static int ext_value_ok(const char *v, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (!str_is_vchar(c) || c == ';' || c == '=')
			return 0;
	}
	return 1;
}

/* One field: the kind's defined field (the first occurrence stored, every
 * one checked), or an extension, whose value must fit the grammar and is
 * then ignored. */
static int one_field(const struct txt_kind *k, void *out, const struct field *f,
		     unsigned *seen, struct diag_list *d, unsigned recno)
{
	if (f->nlen == strlen(k->field) &&
	    memcmp(f->name, k->field, f->nlen) == 0) {
		if (k->parse(out, f, *seen == 0, d, recno) != 0)
			return -1;
		if (*seen)
			diag_add(d, DIAG_WARNING, k->dup_code, recno, "%s",
				 k->dup_msg);
		(*seen)++;
		return 0;
	}
	if (!ext_value_ok(f->val, f->vlen)) {
		diag_add(d, DIAG_ERROR, "txt-ext-invalid", recno,
			 "field '%.*s' has an invalid value", (int)f->nlen,
			 f->name);
		return -1;
	}
	return 0;
}

/* Parse rec after the version tag (at off) field by field; returns 0 or
 * -1 after a grammar error (reported).  *seen counts the defined field. */
static int parse_fields(const struct txt_kind *k, void *out, const char *rec,
			size_t len, size_t off, unsigned recno, unsigned *seen,
			struct diag_list *d)
{
	size_t nfields = 0;

	for (;;) {
		struct field f;
		size_t i, ws = off, e;

		/* sep = *WSP ";" *WSP, or the end of the record */
		while (off < len && str_is_wsp((unsigned char)rec[off]))
			off++;
		if (off == len) {
			if (off > ws && nfields > 0) {
				/* the *WSP of a delimiter comes with its ';' */
				diag_add(
					d, DIAG_ERROR,
					"txt-trailing-whitespace", recno,
					"white space after the last field: end the record with the field or with ';'");
				return -1;
			}
			break;
		}
		if (rec[off] != ';') {
			diag_add(d, DIAG_ERROR, "txt-separator", recno,
				 "expected ';' between fields at offset %zu",
				 off);
			return -1;
		}
		off++;
		while (off < len && str_is_wsp((unsigned char)rec[off]))
			off++;
		if (off == len)
			break; /* [sep] at the end */
		f.name = rec + off;
		for (i = off; i < len && rec[i] != '=' && rec[i] != ';' &&
			      !str_is_wsp((unsigned char)rec[i]);
		     i++)
			;
		f.nlen = i - off;
		if (i == len || rec[i] != '=') {
			diag_add(d, DIAG_ERROR, "txt-field", recno,
				 "expected 'name=value' at offset %zu", off);
			return -1;
		}
		if (!str_is_ext_name(f.name, f.nlen, 32)) {
			diag_add(d, DIAG_ERROR, "txt-field-name", recno,
				 "invalid field name at offset %zu", off);
			return -1;
		}
		/* the value runs to the next ';' less the delimiter's *WSP;
		 * white space inside it is for the field to judge (a rua list
		 * allows it around ',') */
		off = i + 1;
		f.val = rec + off;
		for (e = off; e < len && rec[e] != ';'; e++)
			;
		while (e > off && str_is_wsp((unsigned char)rec[e - 1]))
			e--;
		f.vlen = e - off;
		off = e;
		if (one_field(k, out, &f, seen, d, recno) != 0)
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
			diag_add(d, DIAG_WARNING, "txt-discarded",
				 (unsigned)i + 1,
				 "record does not start with %s and is ignored",
				 tag);
		}
	}
	if (count == 0) {
		diag_add(d, DIAG_ERROR, "txt-none", 0,
			 "no record starts with %s", tag);
		return -1;
	}
	if (count > 1) {
		diag_add(
			d, DIAG_ERROR, "txt-multiple", 0,
			"%zu records start with %s; exactly one is allowed, so none is used",
			count, tag);
		return -2;
	}
	return found;
}

/* Both selections: RFC 8461 §3.1 / RFC 8460 §3: exactly one record with
 * the version tag, and it must parse ("if the resulting record is
 * syntactically invalid, senders MUST assume ... no policy"). */
static int txt_select(const struct txt_kind *k, const char *const *recs,
		      const size_t *lens, size_t n, void *out,
		      struct diag_list *d)
{
	unsigned seen = 0;
	long i;

	memset(out, 0, k->out_size);
	i = select_one(recs, lens, n, k->tag, d);
	if (i == -1)
		return MT_ENOTFOUND;
	if (i < 0)
		return MT_EPARSE;
	if (memchr(recs[i], '\0', lens[i]) != NULL) {
		diag_add(d, DIAG_ERROR, "txt-nul", (unsigned)i + 1,
			 "the record contains a NUL byte");
		return MT_EPARSE;
	}
	if (parse_fields(k, out, recs[i], lens[i], strlen(k->tag),
			 (unsigned)i + 1, &seen, d) != 0) {
		memset(out, 0, k->out_size);
		return MT_EPARSE;
	}
	if (seen == 0) {
		diag_add(d, DIAG_ERROR, k->missing_code, (unsigned)i + 1, "%s",
			 k->missing_msg);
		memset(out, 0, k->out_size);
		return MT_EPARSE;
	}
	return MT_OK;
}

/* sts-id = %s"id=" 1*32(ALPHA / DIGIT) */
static int sts_id(void *out, const struct field *f, int first,
		  struct diag_list *d, unsigned recno)
{
	struct sts_txt *t = out;

	if (f->vlen == 0 || f->vlen > TXT_ID_MAX) {
		diag_add(
			d, DIAG_ERROR, "txt-id-invalid", recno,
			"id must be 1 to 32 letters and digits (it is %zu characters)",
			f->vlen);
		return -1;
	}
	for (size_t i = 0; i < f->vlen; i++) {
		if (!str_is_alnum((unsigned char)f->val[i])) {
			diag_add(
				d, DIAG_ERROR, "txt-id-invalid", recno,
				"id must be letters and digits only (no '-', '.', '_' or spaces)");
			return -1;
		}
	}
	if (first) {
		memcpy(t->id, f->val, f->vlen);
		t->id[f->vlen] = '\0';
	}
	return 0;
}

/* URI characters of RFC 3986 (unreserved, reserved, '%'), minus ',' and
 * '!' which RFC 8460 §3 requires encoded, and ';' the field separator. */
static int uri_char(unsigned char c)
{
	if (str_is_alnum(c))
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
			diag_add(
				d, DIAG_ERROR, "tlsrpt-uri-invalid", recno,
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
		    domain_normalise(at + 1, (size_t)(end - at - 1), dom) !=
			    MT_OK) {
			diag_add(
				d, DIAG_ERROR, "tlsrpt-mailto-invalid", recno,
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
						e = hs; /* bad port: invalid */
			}
		}
		if (hs >= e ||
		    (u[hs] != '[' &&
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

/* tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri); a repeat
 * is checked the same way, into scratch space, and not kept. */
static int rpt_rua(void *out, const struct field *f, int first,
		   struct diag_list *d, unsigned recno)
{
	struct tlsrpt_txt *t = out;
	struct tlsrpt_uri scratch;
	size_t off = 0;

	for (;;) {
		size_t s = off, e;
		struct tlsrpt_uri *u = &scratch;

		while (s < f->vlen && str_is_wsp((unsigned char)f->val[s]))
			s++;
		e = s;
		while (e < f->vlen && f->val[e] != ',' &&
		       !str_is_wsp((unsigned char)f->val[e]))
			e++;
		if (first && t->n_rua < TXT_RUA_MAX)
			u = &t->rua[t->n_rua];
		if (check_uri(f->val + s, e - s, u, d, recno) != 0)
			return -1;
		if (u != &scratch) {
			t->n_rua++;
		} else if (first && t->n_rua == TXT_RUA_MAX) {
			diag_add(d, DIAG_WARNING, "tlsrpt-rua-many", recno,
				 "more than %d rua URIs; the rest are ignored",
				 TXT_RUA_MAX);
			first = 0; /* warn once */
		}
		while (e < f->vlen && str_is_wsp((unsigned char)f->val[e]))
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

/* The two record types: tag, defined field, handler, findings, size. */
static const struct txt_kind kinds[] = {
	{ "v=STSv1", "id", sts_id, "txt-duplicate-id", "second id ignored",
	  "txt-id-missing", "the record has no id field",
	  sizeof(struct sts_txt) },
	{ "v=TLSRPTv1", "rua", rpt_rua, "tlsrpt-duplicate-rua",
	  "second rua field ignored", "tlsrpt-rua-missing",
	  "the record has no rua field", sizeof(struct tlsrpt_txt) },
};

int txt_sts_select(const char *const *recs, const size_t *lens, size_t n,
		   struct sts_txt *out, struct diag_list *d)
{
	return txt_select(&kinds[0], recs, lens, n, out, d);
}

int txt_tlsrpt_select(const char *const *recs, const size_t *lens, size_t n,
		      struct tlsrpt_txt *out, struct diag_list *d)
{
	return txt_select(&kinds[1], recs, lens, n, out, d);
}
