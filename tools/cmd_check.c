/* cmd_check.c - bring-up placeholder, replaced by the real subcommand. */
#include <stdio.h>

#include "cmd.h"

int cmd_check(int argc, char **argv, struct cmd_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	fprintf(stderr, "mtasts: check: not built yet\n");
	return 2;
}
