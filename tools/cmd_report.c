/* cmd_report.c - bring-up placeholder, replaced by the real subcommand. */
#include <stdio.h>

#include "cmd.h"

int cmd_report(int argc, char **argv, struct cmd_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	fprintf(stderr, "mtasts: report: not built yet\n");
	return 2;
}
