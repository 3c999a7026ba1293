/*
 * fuzz_txt_tlsrpt.c - libFuzzer target for the _smtp._tls TXT RRset
 * selection and parser (RFC 8460 §3).  Records are split at 0xff bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "fuzz_rrset.h"
#include "status.h"
#include "txt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *recs[FUZZ_MAX_RECS];
	size_t lens[FUZZ_MAX_RECS], n = fuzz_rrset(data, size, recs, lens);
	struct tlsrpt_txt t;
	struct diag_list d;
	int rc;

	diag_init(&d);
	rc = txt_tlsrpt_select(recs, lens, n, &t, &d);
	if (rc == MT_OK) {
		if (t.n_rua == 0 || t.n_rua > TXT_RUA_MAX || d.n_err != 0)
			abort();
		for (size_t i = 0; i < t.n_rua; i++) {
			const char *u = t.rua[i].uri;

			if (strlen(u) > TXT_URI_MAX)
				abort();
			if (t.rua[i].scheme == TLSRPT_MAILTO ?
			    strncasecmp(u, "mailto:", 7) != 0 :
			    strncasecmp(u, "https://", 8) != 0)
				abort();
			if (strpbrk(u, ",;! \t") != NULL)
				abort();
		}
	} else if (t.n_rua != 0 || d.n_err == 0) {
		abort();
	}
	diag_free(&d);
	return 0;
}
