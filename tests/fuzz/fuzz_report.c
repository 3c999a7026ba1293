/*
 * fuzz_report.c - libFuzzer target for the TLS-RPT results file reader
 * and the report builder (common/report.c, RFC 8460 §4.4).  The input is
 * the content of one day's results file: whatever a crashed writer, a
 * full disk or another program left there must be skipped or reported,
 * never read out of bounds, and the JSON built from it stays one object
 * with every control character escaped.  The counts text a fleet host
 * pushes of that day merges back into the same totals, nothing skipped.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "report.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg;
static char path[300];

static char dir[] = "/tmp/mtasts-fuzz-report-XXXXXX";

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void setup(void)
{
	if (path[0] != '\0')
		return;
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	config_defaults(&cfg);
	snprintf(cfg.report_dir, sizeof(cfg.report_dir), "%s", dir);
	snprintf(cfg.report_contact, sizeof(cfg.report_contact), "%s",
		 "tlsrpt@sender.example");
	if (report_day_path(&cfg, 0, path, sizeof(path)) != MT_OK)
		abort();
}

static void check_json(const struct buf *j)
{
	if (j->len < 2 || j->data[0] != '{' || j->data[j->len - 1] != '}')
		abort();
	for (size_t i = 0; i < j->len; i++)
		if ((unsigned char)j->data[i] < 0x20)
			abort();	/* JSON strings escape control bytes */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_day *d = NULL, *back = NULL;
	struct report_ident id;
	struct buf js, counts;
	size_t n;
	int fd, rc;

	setup();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);

	report_ident_init(&id, &cfg, NULL);
	buf_init(&counts, 64 << 20);
	rc = report_day_create(&d, 0);
	if (rc == MT_OK)
		rc = report_day_load_file(d, &cfg);
	if (rc != MT_OK && rc != MT_ENOMEM)
		abort();
	n = rc == MT_OK ? report_day_n_domains(d) : 0;
	for (size_t k = 0; k < n && k < 8; k++) {
		const char *dn = report_day_domain(d, k);
		struct report_policy_info info = {
			true, "id1", 2, 86400, "mx.example\0*.example", 21
		};

		buf_init(&js, 16 << 20);
		rc = report_day_json(d, &id, dn, k % 2 ? &info : NULL, &js);
		if (rc == MT_OK)
			check_json(&js);
		else if (rc != MT_ETOOBIG && rc != MT_ENOMEM)
			abort();
		buf_free(&js);
	}
	/* what a host pushes, merged back, is the same day */
	if (d != NULL && report_day_counts(d, &counts) == MT_OK &&
	    report_day_create(&back, 0) == MT_OK) {
		size_t skipped = 0;
		uint64_t ok1, f1, ok2, f2;

		if (report_day_merge_counts(back, counts.data, counts.len,
					    &skipped) == MT_OK) {
			report_day_totals(d, NULL, &ok1, &f1);
			report_day_totals(back, NULL, &ok2, &f2);
			if (skipped != 0 || ok1 != ok2 || f1 != f2 ||
			    report_day_n_domains(back) != n)
				abort();
		}
	}
	report_day_destroy(back);
	report_day_destroy(d);
	buf_free(&counts);
	return 0;
}
