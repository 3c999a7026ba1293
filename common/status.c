/*
 * status.c - text for the status codes of status.h, one table.
 */
#include "status.h"

static const char *const status_text[] = {
	[0] = "success",
	[1] = "out of memory",
	[2] = "invalid argument",
	[3] = "syntax error",
	[4] = "input too large",
	[5] = "input/output error",
	[6] = "temporary failure",
	[7] = "not found",
	[8] = "corrupt data",
	[9] = "permission refused",
	[10] = "busy",
	[11] = "timed out",
	[12] = "internal error",
	[13] = "configuration error",
	[14] = "no space left",
	[15] = "policy fetch failed",
	[16] = "enforced policy cannot be applied",
	[17] = "a newer or stronger entry is kept",
	[18] = "not supported here",
};

const char *mt_strerror(int status)
{
	if (status > 0 || status < MT_STATUS_MIN)
		return "unknown status";
	return status_text[-status];
}
