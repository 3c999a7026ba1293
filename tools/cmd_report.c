/*
 * cmd_report.c - `mtasts report`: build and send the TLS-RPT reports
 * (RFC 8460) of a finished UTC day.
 *
 *   mtasts report [--dry-run] [--day YYYY-MM-DD]
 *
 * Argument parsing and printing only: aggregation is report.c, delivery
 * (https: POST, mailto: through sendmail, the markers and the 24-hour
 * retry window) report_send.c.  --dry-run prints each report instead of
 * sending it.  Only a finished UTC day is reported; results and markers
 * of days past report_retention are removed.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "cmd.h"
#include "report.h"
#include "report_send.h"
#include "status.h"

#define USAGE "usage: mtasts report [--dry-run] [--day YYYY-MM-DD]\n"

/* One line per event, in the words the reports' readers grep for. */
static void print_event(void *ctx, const struct report_event *ev)
{
	switch (ev->kind) {
	case REPORT_EV_SENT:
		printf("%s: %s sent\n", ev->domain, ev->uri);
		break;
	case REPORT_EV_FAILED:
		printf("%s: %s failed: %s\n", ev->domain, ev->uri, ev->detail);
		break;
	case REPORT_EV_ALREADY:
		printf("%s: %s already sent\n", ev->domain, ev->uri);
		break;
	case REPORT_EV_NO_RECORD:
		printf("%s: no TLS-RPT record, nothing to send\n", ev->domain);
		break;
	case REPORT_EV_DNS_TEMP:
		printf("%s: _smtp._tls.%s: DNS lookup failed temporarily\n",
		       ev->domain, ev->domain);
		break;
	case REPORT_EV_INVALID:
		fprintf(stderr, "mtasts report: skipping a record with an "
			"invalid domain\n");
		break;
	case REPORT_EV_BUSY:
		printf("%s: being sent by %s\n", ev->domain, ev->detail);
		break;
	case REPORT_EV_DRY_RUN:
		printf("%s\n", ev->json->data);
		break;
	case REPORT_EV_ERROR:
		fprintf(stderr, "mtasts report: %s: %s\n",
			ev->domain ? ev->domain : "-", ev->detail);
		break;
	case REPORT_EV_GIVEN_UP:
		printf("%s: not delivered within 24 hours of the day's end, "
		       "given up\n", ev->domain);
		break;
	}
}

/* RFC 8460 leaves old results to the sender: days that ended more than
 * report_retention ago go, results and markers. */
static void prune(const struct config *cfg, int64_t now)
{
	size_t removed = 0, kept = 0;
	int rc = report_prune(cfg, now, false, &removed, &kept);

	if (rc != MT_OK)
		fprintf(stderr, "mtasts report: %s: cannot remove old "
			"results: %s\n", cfg->report_dir, mt_strerror(rc));
	else if (removed > 0)
		printf("removed %zu file%s of days past the retention\n",
		       removed, removed == 1 ? "" : "s");
}

int cmd_report(int argc, char **argv, struct cmd_ctx *ctx)
{
	const struct config *cfg = &ctx->cfg;
	struct report_day *d = NULL;
	struct report_net *net = NULL;
	struct report_ident id;
	struct report_sender send;
	struct report_marks marks;
	struct report_marks_files files;
	struct report_run run;
	struct report_tally t;
	struct cache *cache = NULL;
	int64_t day, now = clock_now();
	const char *dayarg = NULL;
	int dry = 0, rc, ret = 2;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			dry = 1;
		else if (strcmp(argv[i], "--day") == 0 && i + 1 < argc)
			dayarg = argv[++i];
		else {
			fprintf(stderr, USAGE);
			return 2;
		}
	}
	if (dayarg != NULL) {
		if (report_parse_day(dayarg, &day) != MT_OK) {
			fprintf(stderr,
				"mtasts report: --day takes YYYY-MM-DD\n");
			return 2;
		}
		/* only a finished UTC day: a report of today would be
		 * partial, and marked sent it would never be completed */
		if (day + 86400 > now) {
			fprintf(stderr, "mtasts report: %s has not ended yet "
				"(UTC): only finished days are reported\n",
				dayarg);
			return 2;
		}
	} else {
		day = (now / 86400 - 1) * 86400;	/* yesterday, UTC */
	}
	if (!dry)
		prune(cfg, now);
	rc = report_day_create(&d, day);
	if (rc == MT_OK)
		rc = report_day_load_file(d, cfg);
	if (rc == MT_ENOTFOUND ||
	    (rc == MT_OK && report_day_n_domains(d) == 0)) {
		printf("no results recorded for that day\n");
		ret = 0;
		goto out;
	}
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts report: %s\n", mt_strerror(rc));
		goto out;
	}
	report_ident_init(&id, cfg, REPORT_MAILNAME);
	memset(&send, 0, sizeof(send));
	if (!dry) {
		if (report_net_create(&net, cfg) != MT_OK) {
			fprintf(stderr, "mtasts report: cannot set up DNS\n");
			goto out;
		}
		report_net_sender(net, &send);
	}
	/* the cache only lends the policy-string: never create it here (a
	 * file made by this command would belong to its user, not the MTA's) */
	if (access(cfg->cache_path, F_OK) != 0 ||
	    cache_open(&cache, cfg->cache_path, cfg->cache_size) != MT_OK)
		cache = NULL;	/* reports without policy-string */
	report_marks_local(&marks, &files, cfg, day);
	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	run.id = &id;
	run.now = now;
	run.dry_run = dry;
	run.cache = cache;
	run.send = &send;
	run.marks = &marks;
	run.event = print_event;
	rc = report_send_day(&run, d, &t);
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts report: %s\n", mt_strerror(rc));
		goto out;
	}
	ret = t.pending || t.errors ? 1 : 0;
out:
	cache_close(cache);
	report_net_destroy(net);
	report_day_destroy(d);
	return ret;
}
