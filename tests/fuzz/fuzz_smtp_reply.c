/*
 * fuzz_smtp_reply.c - libFuzzer target for the SMTP reply parser of the MX
 * probe (common/mxprobe.c, mxprobe_reply_parse()): what an MX host, or
 * anything listening on port 25, sends to `mtasts check`.
 *
 * Invariants: the result is MT_OK, MT_ETEMP, MT_EPARSE or MT_ETOOBIG; a
 * complete reply ends in LF within the input, has a code of 200..599 and
 * 1..MXPROBE_LINES_MAX lines, its text is printable ASCII; parsing just
 * that reply again gives the same, and one byte less of it is incomplete
 * (MT_ETEMP): a reply is never taken before its last line ended.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxprobe.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct mxprobe_reply r, r2;
	size_t used = 0, used2 = 0;
	int rc;

	rc = mxprobe_reply_parse(buf, size, &r, &used);
	if (rc != MT_OK && rc != MT_ETEMP && rc != MT_EPARSE &&
	    rc != MT_ETOOBIG)
		abort();
	if (rc != MT_OK)
		return 0;
	if (used == 0 || used > size || buf[used - 1] != '\n' ||
	    r.code < 200 || r.code > 599 || r.lines == 0 ||
	    r.lines > MXPROBE_LINES_MAX || r.starttls > 1)
		abort();
	if (memchr(r.text, '\0', sizeof(r.text)) == NULL)
		abort();
	for (const char *t = r.text; *t; t++)
		if ((unsigned char)*t < 0x20 || (unsigned char)*t > 0x7e)
			abort();
	if (mxprobe_reply_parse(buf, used, &r2, &used2) != MT_OK ||
	    used2 != used || r2.code != r.code || r2.lines != r.lines ||
	    r2.starttls != r.starttls || strcmp(r2.text, r.text) != 0)
		abort();
	if (mxprobe_reply_parse(buf, used - 1, &r2, &used2) != MT_ETEMP)
		abort();
	return 0;
}
