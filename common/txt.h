/*
 * txt.h - the DNS TXT records of MTA-STS (RFC 8461 §3.1) and TLS-RPT
 * (RFC 8460 §3).  Pure parsers over the record strings (each TXT RR's
 * character-strings already concatenated).
 */
#ifndef MTASTS_TXT_H
#define MTASTS_TXT_H
#include <stddef.h>

#include "diag.h"

#define TXT_ID_MAX 32
#define TXT_RUA_MAX 16 /* rua URIs kept per record */
#define TXT_URI_MAX 1024

struct sts_txt {
	char id[TXT_ID_MAX + 1];
};

/* RFC 8461 §3.1: discard records not starting with "v=STSv1"; exactly one
 * must remain and parse.  Returns MT_OK, MT_ENOTFOUND (no STSv1 record),
 * MT_EPARSE (several, or the one is invalid).  Line numbers in diags are
 * 1-based record indexes. */
int txt_sts_select(const char *const *recs, const size_t *lens, size_t n,
		   struct sts_txt *out, struct diag_list *diags);

enum tlsrpt_scheme { TLSRPT_MAILTO, TLSRPT_HTTPS };

struct tlsrpt_uri {
	enum tlsrpt_scheme scheme;
	char uri[TXT_URI_MAX + 1];
};

struct tlsrpt_txt {
	size_t n_rua;
	struct tlsrpt_uri rua[TXT_RUA_MAX];
};

/* RFC 8460 §3: same selection rule with "v=TLSRPTv1".  Same returns. */
int txt_tlsrpt_select(const char *const *recs, const size_t *lens, size_t n,
		      struct tlsrpt_txt *out, struct diag_list *diags);

#endif
