/*
 * cmd.h - the subcommands of the mtasts command.  Each returns the process
 * exit status: 0 success / valid, 1 a finding (invalid policy, failed
 * check), 2 usage or I/O error.  argv[0] is the subcommand name.
 */
#ifndef MTASTS_CMD_H
#define MTASTS_CMD_H

#include <stdio.h>

#include "config.h"

struct cmd_ctx {
	const char *config_path; /* -c FILE, or NULL: the system file */
	const char *config_name; /* what was loaded, for messages */
	struct config cfg;	 /* loaded */
};

/* The synopsis of command name and where to read more (mtasts.c), for a
 * subcommand's usage error. */
void cmd_usage(FILE *f, const char *name);

int cmd_lint(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_query(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_refresh(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_cache(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_check(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_report(int argc, char **argv, struct cmd_ctx *ctx);

#endif
