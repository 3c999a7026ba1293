/* cmd_cache.c - bring-up placeholder, replaced by the real subcommand. */
#include <stdio.h>

#include "cmd.h"

int cmd_cache(int argc, char **argv, struct cmd_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	fprintf(stderr, "mtasts: cache: not built yet\n");
	return 2;
}
