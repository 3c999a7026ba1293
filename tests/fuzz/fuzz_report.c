/*
 * fuzz_report.c - libFuzzer target for the TLS-RPT results file reader
 * and the report builder (common/report.c, RFC 8460 §4.4).  The input is
 * the content of one day's results file: whatever a crashed writer, a
 * full disk or another program left there must be skipped or reported,
 * never read out of bounds, and the JSON built from it stays one object
 * with every control character escaped.
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
	struct buf names, js;
	size_t n = 0, off = 0;
	int fd, rc;

	setup();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);

	buf_init(&names, 1 << 20);
	rc = report_domains(&cfg, 0, &names, &n);
	if (rc != MT_OK && rc != MT_ETOOBIG && rc != MT_ENOMEM)
		abort();
	for (size_t k = 0; rc == MT_OK && k < n && k < 8; k++) {
		const char *d = names.data + off;
		struct report_policy_info info = { true, "id1", 2, 86400,
						   "mx.example\0*.example", 21 };

		off += strlen(d) + 1;
		buf_init(&js, 16 << 20);
		rc = report_build_json(&cfg, d, 0, k % 2 ? &info : NULL, &js);
		if (rc == MT_OK)
			check_json(&js);
		else if (rc != MT_ENOTFOUND && rc != MT_ETOOBIG &&
			 rc != MT_ENOMEM && rc != MT_EINVAL)
			abort();
		buf_free(&js);
		rc = MT_OK;
	}
	buf_free(&names);
	return 0;
}
