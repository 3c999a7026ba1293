/*
 * mtasts.c - the mtasts command: global options, then one subcommand.
 *
 *   mtasts [-c FILE] [-v] COMMAND [ARG...]
 *   mtasts help [COMMAND]          mtasts COMMAND --help
 *
 * The configuration is -c FILE, else the system file MTASTS_DEFAULT_CONF
 * (/etc/mtasts/mtasts.conf: the file the Exim module reads by default), so
 * that the command sees what the MTA sees.  A missing system file means
 * the built-in defaults; a missing -c FILE is an error.  `lint` and `help`
 * read no configuration.  -v says which file (and which user) is used, and
 * a configuration error names the file and line.
 *
 * Run as root, every command that reads the configuration first becomes
 * the owner of the directory holding the policy cache (cache_path's
 * directory, /var/lib/mtasts: the Exim user on Debian):
 * initgroups(3), setgid(2), setuid(2), then proof that root cannot be
 * regained.  Whatever it creates then belongs to the MTA (a root-owned
 * cache is refused by every delivery process, and a root-owned results or
 * marker file cannot be written by them), and it reads the cache the MTA
 * writes.  When that directory belongs to root or does not exist, the
 * command stays root.  Inspection never writes (query without --store,
 * check, cache stats/list/show): that is the commands' part.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "mtasts_build.h"
#include "status.h"

#define CMD_CONFIG 0x1 /* reads the configuration (and acts as the MTA) */

static const struct command {
	const char *name;
	int (*fn)(int, char **, struct cmd_ctx *);
	unsigned flags;
	const char *synopsis; /* lines after "mtasts [-c FILE] " */
	const char *summary;  /* one line, for the command list */
	const char *help;     /* options and exit status */
} commands[] = {
	{ "lint", cmd_lint, 0,
	  "lint [--json] [--mx HOST]... FILE|-\n"
	  "lint [--json] --txt RECORD...\n"
	  "lint [--json] --tlsrpt RECORD...",
	  "validate a policy file or TXT record before publishing it",
	  "Validate an MTA-STS policy file (RFC 8461 section 3.2), an\n"
	  "_mta-sts TXT RRset or an _smtp._tls TLS-RPT RRset with the\n"
	  "parsers a sender uses.  Reads no configuration.\n"
	  "  --json      print one JSON object (valid, errors, ...)\n"
	  "  --mx HOST   also tell whether the policy covers HOST\n"
	  "  --txt       the arguments are _mta-sts TXT records\n"
	  "  --tlsrpt    the arguments are _smtp._tls TXT records\n"
	  "Exit status: 0 valid, 1 invalid, 2 usage or I/O error." },
	{ "check", cmd_check, CMD_CONFIG,
	  "check [--json | --prometheus] [--no-mx-probe] DOMAIN...",
	  "audit a domain's live MTA-STS and TLS-RPT deployment",
	  "Audit each DOMAIN as a sending MTA sees it: TXT record, HTTPS\n"
	  "policy fetch, policy syntax, MX coverage, every MX address over\n"
	  "SMTP (STARTTLS, TLS >= 1.2, certificate chain, name, expiry; no\n"
	  "mail is sent), TLS-RPT record.  Compares the policy with the\n"
	  "cached copy (the cache is read, never written or created).\n"
	  "  --json          one JSON object per domain (findings, ok, ...)\n"
	  "  --prometheus    Prometheus text exposition (node-exporter)\n"
	  "  --no-mx-probe   do not connect to the MX hosts (port 25)\n"
	  "Exit status: 0 nothing worse than info, 3 warnings, 1 an error\n"
	  "finding, 2 usage error or a trust store that cannot be read." },
	{ "query", cmd_query, CMD_CONFIG,
	  "query [--json] [--store] [--no-network] [--recheck] "
	  "DOMAIN [MX...]",
	  "what the MTA decides for a domain and its MX hosts now",
	  "Resolve the policy in force for DOMAIN through the MTA's\n"
	  "cache and print the verdict for each MX (the domain's MX\n"
	  "records when none is given).  The cache is left as it was:\n"
	  "what a query fetches, or fails to fetch, is not stored, so\n"
	  "it never changes what the MTA decides.\n"
	  "  --store       store what was fetched, as a delivery would\n"
	  "  --no-network  answer from the cache only\n"
	  "  --recheck     re-check the TXT id now (RFC 8461 section 5.1)\n"
	  "  --json        one JSON object per MX\n"
	  "Exit status: 0 answered, 1 a temporary failure (the MTA\n"
	  "defers), 2 usage or I/O error." },
	{ "cache", cmd_cache, CMD_CONFIG,
	  "cache [--json] stats|list|show DOMAIN|check|flush [DOMAIN]\n"
	  "cache --prometheus stats",
	  "inspect, check or flush the shared policy cache",
	  "stats, list, show and check read the cache without writing it\n"
	  "(and never create it); check lists damaged slots; flush drops\n"
	  "every entry, or DOMAIN's.\n"
	  "  --json        JSON output\n"
	  "  --prometheus  stats as Prometheus text exposition\n"
	  "Exit status: 0 done, 1 no cache file, DOMAIN not cached or a\n"
	  "damaged slot, 2 error." },
	{ "refresh", cmd_refresh, CMD_CONFIG, "refresh",
	  "renew cached policies before they expire (run by a timer)",
	  "Renew the cached policies expiring within refresh_before and\n"
	  "re-check the TXT ids falling due before the next run.\n"
	  "Exit status: 0 done, 1 a policy was kept after a failed\n"
	  "renewal, 2 error." },
	{ "report", cmd_report, CMD_CONFIG,
	  "report [--dry-run] [--day YYYY-MM-DD] | --push | "
	  "--status [YYYY-MM-DD]",
	  "send the TLS-RPT reports of a finished day (run by a timer)",
	  "Build the RFC 8460 reports of a finished UTC day (yesterday\n"
	  "by default) and deliver them to every rua of the policy\n"
	  "domain: HTTPS POST, or mail through /usr/sbin/sendmail.\n"
	  "Removes results older than report_retention.  With\n"
	  "report_store (a fleet), first pushes this host's counts,\n"
	  "then sends each report once for every host's counts.\n"
	  "  --dry-run   print the reports instead of sending them\n"
	  "  --day DAY   report DAY (YYYY-MM-DD, a finished day)\n"
	  "  --push      only push this host's counts to report_store\n"
	  "              (a timer, every 15 minutes)\n"
	  "  --status    a day's pushes, totals and delivery state\n"
	  "Exit status: 0 done, 1 a report could not be delivered or\n"
	  "the store not reached (the next run retries), 2 error." },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t k = 0; k < N_COMMANDS; k++)
		if (strcmp(commands[k].name, name) == 0)
			return &commands[k];
	return NULL;
}

static void print_synopsis(FILE *f, const struct command *c)
{
	const char *s = c->synopsis, *nl;
	const char *lead = "usage:";

	for (;;) {
		nl = strchr(s, '\n');
		fprintf(f, "%-6s mtasts [-c FILE] %.*s\n", lead,
			nl ? (int)(nl - s) : (int)strlen(s), s);
		if (nl == NULL)
			break;
		s = nl + 1;
		lead = "";
	}
}

void cmd_usage(FILE *f, const char *name)
{
	const struct command *c = find_command(name);

	if (c == NULL)
		return;
	print_synopsis(f, c);
	fprintf(f, "'mtasts help %s' describes it.\n", name);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mtasts [-c FILE] [-v] COMMAND [ARG...]\n"
		   "       mtasts help [COMMAND]\n"
		   "       mtasts --version\n"
		   "commands:\n");
	for (size_t k = 0; k < N_COMMANDS; k++)
		fprintf(f, "  %-9s %s\n", commands[k].name,
			commands[k].summary);
	fprintf(f,
		"options:\n"
		"  -c, --config FILE  configuration (default %s;\n"
		"                     without it, built-in defaults)\n"
		"  -v, --verbose      say which configuration and user "
		"are used\n"
		"'mtasts help COMMAND' or 'mtasts COMMAND --help' "
		"describes a command.\n",
		MTASTS_DEFAULT_CONF);
}

static void help(FILE *f, const struct command *c)
{
	print_synopsis(f, c);
	fprintf(f, "%s\n", c->help);
}

/* Does the subcommand's argument list ask for help?  Arguments after "--"
 * are operands. */
static int wants_help(int argc, char **argv)
{
	for (int k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--") == 0)
			break;
		if (strcmp(argv[k], "--help") == 0 ||
		    strcmp(argv[k], "-h") == 0)
			return 1;
	}
	return 0;
}

/* Load -c FILE, or the system file when it exists, else the defaults. */
static int load_config(struct cmd_ctx *ctx, int verbose)
{
	char err[CONFIG_PATH_MAX + 256];
	const char *path = ctx->config_path;
	struct stat st;
	int rc;

	if (path == NULL && stat(MTASTS_DEFAULT_CONF, &st) != 0 &&
	    errno == ENOENT) {
		rc = config_load(&ctx->cfg, NULL, err, sizeof(err));
		ctx->config_name = "built-in defaults (no " MTASTS_DEFAULT_CONF
				   ")";
	} else {
		if (path == NULL)
			path = MTASTS_DEFAULT_CONF;
		rc = config_load(&ctx->cfg, path, err, sizeof(err));
		ctx->config_name = path;
	}
	if (rc != MT_OK) {
		/* config_load's message starts with the file (and line) */
		fprintf(stderr, "mtasts: configuration: %s\n", err);
		return -1;
	}
	if (verbose)
		fprintf(stderr, "mtasts: configuration: %s\n",
			ctx->config_name);
	return 0;
}

/* Run as root: become the owner of the cache's directory (see the top of
 * this file).  0 done or nothing to do, -1 failed (message printed). */
static int become_state_owner(const struct config *cfg, int verbose)
{
	char dir[CONFIG_PATH_MAX];
	const struct passwd *pw;
	struct stat st;
	char *slash;
	uid_t uid;
	gid_t gid;
	int rc = -1, serr;

	if (geteuid() != 0)
		return 0;
	snprintf(dir, sizeof(dir), "%s", cfg->cache_path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return 0; /* config.c takes absolute paths only */
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	serr = stat(dir, &st) == 0 ? 0 : errno;
	if (serr != 0 || st.st_uid == 0) {
		if (verbose)
			fprintf(stderr, "mtasts: running as root (%s: %s)\n",
				dir, serr ? strerror(serr) : "owned by root");
		return 0;
	}
	uid = st.st_uid;
	errno = 0;
	pw = getpwuid(uid);
	gid = pw ? pw->pw_gid : st.st_gid;
	if (pw ? initgroups(pw->pw_name, gid) != 0 : setgroups(0, NULL) != 0) {
		fprintf(stderr,
			"mtasts: cannot set the groups of uid %ld: "
			"%s\n",
			(long)uid, strerror(errno));
		goto out;
	}
	if (setgid(gid) != 0 || setuid(uid) != 0) {
		fprintf(stderr,
			"mtasts: cannot become uid %ld (owner of %s): "
			"%s\n",
			(long)uid, dir, strerror(errno));
		goto out;
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		fprintf(stderr, "mtasts: root could not be given up\n");
		goto out;
	}
	if (verbose)
		fprintf(stderr,
			"mtasts: running as %s (uid %ld), the owner of "
			"%s\n",
			pw ? pw->pw_name : "?", (long)uid, dir);
	/* The MTA refuses a cache file that is not its own: say so now,
	 * with the way out, rather than "permission denied" later. */
	if (lstat(cfg->cache_path, &st) == 0 && st.st_uid != uid)
		fprintf(stderr,
			"mtasts: warning: %s belongs to uid %ld, not "
			"to the owner of %s: the MTA cannot use it (remove it; "
			"the MTA creates a new one)\n",
			cfg->cache_path, (long)st.st_uid, dir);
	rc = 0;
out:
	return rc;
}

int main(int argc, char **argv)
{
	static struct cmd_ctx ctx;
	const struct command *c;
	int i = 1, verbose = 0;

	while (i < argc && argv[i][0] == '-') {
		if ((strcmp(argv[i], "-c") == 0 ||
		     strcmp(argv[i], "--config") == 0) &&
		    i + 1 < argc) {
			ctx.config_path = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-v") == 0 ||
			   strcmp(argv[i], "--verbose") == 0) {
			verbose = 1;
			i++;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("mtasts %s\n", MTASTS_VERSION);
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "mtasts: unknown option '%s'\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		c = find_command(argv[i + 1]);
		if (c == NULL || i + 2 < argc) {
			fprintf(stderr, "mtasts: help: %s\n",
				c == NULL ? "no such command" :
					    "one COMMAND only");
			usage(stderr);
			return 2;
		}
		help(stdout, c);
		return 0;
	}
	c = find_command(argv[i]);
	if (c == NULL) {
		fprintf(stderr, "mtasts: unknown command '%s'\n", argv[i]);
		usage(stderr);
		return 2;
	}
	if (wants_help(argc - i, argv + i)) {
		help(stdout, c);
		return 0;
	}
	log_set_sink(log_sink_stderr, NULL);
	log_set_level(LOG_LVL_WARN);
	if (c->flags & CMD_CONFIG) {
		if (load_config(&ctx, verbose) != 0)
			return 2;
		if (become_state_owner(&ctx.cfg, verbose) != 0)
			return 2;
		log_set_level((enum log_level)ctx.cfg.log_level < LOG_LVL_WARN ?
				      (enum log_level)ctx.cfg.log_level :
				      LOG_LVL_WARN);
	} else {
		config_defaults(&ctx.cfg);
	}
	return c->fn(argc - i, argv + i, &ctx);
}
