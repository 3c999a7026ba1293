/*
 * fuzz_txt_sts.c - libFuzzer target for the _mta-sts TXT RRset selection
 * and parser (RFC 8461 §3.1).  The input is split into records at every
 * 0xff byte, so one input can stand for an RRset of several records.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "fuzz_rrset.h"
#include "status.h"
#include "txt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *recs[FUZZ_MAX_RECS];
	size_t lens[FUZZ_MAX_RECS], n = fuzz_rrset(data, size, recs, lens);
	struct sts_txt t;
	struct diag_list d;
	int rc;

	diag_init(&d);
	rc = txt_sts_select(recs, lens, n, &t, &d);
	if (rc == MT_OK) {
		size_t l = strlen(t.id);

		if (l == 0 || l > TXT_ID_MAX || d.n_err != 0)
			abort();
	} else if (t.id[0] != '\0' || d.n_err == 0) {
		abort();
	}
	diag_free(&d);
	return 0;
}
