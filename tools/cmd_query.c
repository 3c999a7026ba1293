/* cmd_query.c - bring-up placeholder, replaced by the real subcommand. */
#include <stdio.h>

#include "cmd.h"

int cmd_query(int argc, char **argv, struct cmd_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	fprintf(stderr, "mtasts: query: not built yet\n");
	return 2;
}

int cmd_refresh(int argc, char **argv, struct cmd_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	fprintf(stderr, "mtasts: refresh: not built yet\n");
	return 2;
}
