/*
 * mtasts.c - the mtasts command: global options, then one subcommand.
 *
 *   mtasts [-c FILE] lint|check|query|cache|refresh|report ...
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "mtasts_build.h"
#include "status.h"

static const struct {
	const char *name;
	int (*fn)(int, char **, struct cmd_ctx *);
	const char *usage;
} commands[] = {
	{ "lint", cmd_lint,
	  "lint [--json] [--mx HOST]... FILE|-\n"
	  "       lint [--json] --txt RECORD...\n"
	  "       lint [--json] --tlsrpt RECORD..." },
	{ "check", cmd_check,
	  "check [--json | --prometheus] [--no-mx-probe] DOMAIN..." },
	{ "query", cmd_query,
	  "query [--json] [--no-network] [--recheck] DOMAIN [MX...]" },
	{ "cache", cmd_cache, "cache stats|list|show DOMAIN|flush [DOMAIN]" },
	{ "refresh", cmd_refresh, "refresh" },
	{ "report", cmd_report, "report [--dry-run] [--day YYYY-MM-DD]" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mtasts [-c FILE] COMMAND ...\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "       mtasts [-c FILE] %s\n", commands[i].usage);
}

int main(int argc, char **argv)
{
	static struct cmd_ctx ctx;
	char err[512];
	int i = 1, rc;

	while (i < argc && argv[i][0] == '-') {
		if ((strcmp(argv[i], "-c") == 0 ||
		     strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
			ctx.config_path = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("mtasts %s\n", MTASTS_VERSION);
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	log_set_sink(log_sink_stderr, NULL);
	log_set_level(LOG_LVL_WARN);
	rc = config_load(&ctx.cfg, ctx.config_path, err, sizeof(err));
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts: %s\n", err);
		return 2;
	}
	log_set_level((enum log_level)ctx.cfg.log_level < LOG_LVL_WARN ?
			      (enum log_level)ctx.cfg.log_level : LOG_LVL_WARN);
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(argv[i], commands[k].name) == 0)
			return commands[k].fn(argc - i, argv + i, &ctx);
	fprintf(stderr, "mtasts: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
