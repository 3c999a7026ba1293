/*
 * fuzz_counts.c - libFuzzer target for the counts text of the fleet
 * (common/report.c report_day_merge_counts): what another host pushed to
 * the store, read back as untrusted text.  The first byte chooses whether
 * the input follows a valid header (the fuzzer then explores the lines) or
 * stands alone (the header itself).  Whatever merges must serialise and
 * merge again to the same domains and totals with no line skipped, and
 * every domain's JSON report is one object with no raw control byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "report.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char head[] = "mtasts-counts 1 1970-01-01\n";

static void check_json(const struct buf *j)
{
	if (j->len < 2 || j->data[0] != '{' || j->data[j->len - 1] != '}')
		abort();
	for (size_t i = 0; i < j->len; i++)
		if ((unsigned char)j->data[i] < 0x20)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_day *d = NULL, *back = NULL;
	struct report_ident id;
	struct config cfg;
	struct buf in, out, js;
	uint64_t ok1, f1, ok2, f2;
	size_t skipped = 0, n;
	int rc;

	if (size == 0)
		return 0;
	buf_init(&in, 1 << 22);
	buf_init(&out, 1 << 24);
	if ((data[0] & 1) == 0 && buf_adds(&in, head) != MT_OK)
		abort();
	if (buf_add(&in, data + 1, size - 1) != MT_OK)
		goto done;
	if (report_day_create(&d, 0) != MT_OK)
		abort();
	rc = report_day_merge_counts(d, in.data ? in.data : "", in.len,
				     &skipped);
	if (rc != MT_OK && rc != MT_EPARSE)
		abort();
	n = report_day_n_domains(d);
	if (rc == MT_EPARSE && n != 0)
		abort();	/* a bad header adds nothing */
	if (report_day_counts(d, &out) != MT_OK ||
	    report_day_create(&back, 0) != MT_OK ||
	    report_day_merge_counts(back, out.data, out.len, &skipped) !=
		    MT_OK || skipped != 0)
		abort();
	report_day_totals(d, NULL, &ok1, &f1);
	report_day_totals(back, NULL, &ok2, &f2);
	if (ok1 != ok2 || f1 != f2 || report_day_n_domains(back) != n)
		abort();
	config_defaults(&cfg);
	report_ident_init(&id, &cfg, NULL);
	for (size_t k = 0; k < n && k < 4; k++) {
		buf_init(&js, 1 << 24);
		rc = report_day_json(d, &id, report_day_domain(d, k), NULL,
				     &js);
		if (rc == MT_OK)
			check_json(&js);
		else if (rc != MT_ETOOBIG && rc != MT_ENOTFOUND)
			abort();
		buf_free(&js);
	}
done:
	report_day_destroy(back);
	report_day_destroy(d);
	buf_free(&in);
	buf_free(&out);
	return 0;
}
