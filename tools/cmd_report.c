/*
 * cmd_report.c - `mtasts report`: build and send the TLS-RPT reports
 * (RFC 8460) of a finished UTC day.
 *
 *   mtasts report [--dry-run] [--day YYYY-MM-DD]
 *   mtasts report --push
 *   mtasts report --status [YYYY-MM-DD]
 *
 * Argument parsing and printing only: aggregation is report.c, delivery
 * (https: POST, mailto: through sendmail, the markers and the 24-hour
 * retry window) report_send.c, the fleet's store fleet.c.  --dry-run
 * prints each report instead of sending it.  Only a finished UTC day is
 * reported; results and markers of days past report_retention are
 * removed.  With report_store set (a fleet), `report` first pushes this
 * host's counts, then merges every host's and sends each report once
 * for the fleet; --push only pushes (a timer runs it every 15 minutes);
 * --status tells a day's pushes, totals and delivery state.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "cmd.h"
#include "fleet.h"
#include "log.h"
#include "report.h"
#include "report_send.h"
#include "status.h"

struct args {
	bool dry, push, status;
	const char *day;
};

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
		       "given up\n",
		       ev->domain);
		break;
	}
}

/* RFC 8460 leaves old results to the sender: days that ended more than
 * report_retention ago go, results and markers; in a fleet, only once
 * their counts were pushed after the day ended. */
static void prune(const struct config *cfg, int64_t now, bool fleet)
{
	size_t removed = 0, kept = 0;
	int rc = report_prune(cfg, now, fleet, &removed, &kept);

	if (rc != MT_OK)
		fprintf(stderr,
			"mtasts report: %s: cannot remove old "
			"results: %s\n",
			cfg->report_dir, mt_strerror(rc));
	if (removed > 0)
		printf("removed %zu file%s of days past the retention\n",
		       removed, removed == 1 ? "" : "s");
	if (kept > 0)
		printf("kept %zu day%s past the retention: not pushed yet\n",
		       kept, kept == 1 ? "" : "s");
}

static int parse_args(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			a->dry = true;
		else if (strcmp(argv[i], "--push") == 0)
			a->push = true;
		else if (strcmp(argv[i], "--day") == 0 && i + 1 < argc)
			a->day = argv[++i];
		else if (strcmp(argv[i], "--status") == 0) {
			a->status = true;
			if (i + 1 < argc && argv[i + 1][0] != '-')
				a->day = argv[++i];
		} else
			return -1;
	}
	/* one action at a time */
	if (a->push && (a->dry || a->status || a->day != NULL))
		return -1;
	if (a->status && a->dry)
		return -1;
	return 0;
}

/* The day: --day (a finished one, unless only looked at), else
 * yesterday. */
static int pick_day(const char *arg, int64_t now, bool finished, int64_t *day)
{
	if (arg == NULL) {
		*day = (now / 86400 - 1) * 86400; /* yesterday, UTC */
		return 0;
	}
	if (report_parse_day(arg, day) != MT_OK) {
		fprintf(stderr, "mtasts report: the day is YYYY-MM-DD\n");
		return 2;
	}
	/* only a finished UTC day: a report of today would be partial,
	 * and marked sent it would never be completed */
	if (finished && *day + 86400 > now) {
		fprintf(stderr,
			"mtasts report: %s has not ended yet (UTC): "
			"only finished days are reported\n",
			arg);
		return 2;
	}
	return 0;
}

/* Build and deliver (or print) every report of d: the exit status. */
static int send_reports(const struct config *cfg, const struct report_day *d,
			int64_t now, bool dry, const struct report_marks *marks)
{
	struct report_net *net = NULL;
	struct report_ident id;
	struct report_sender send;
	struct report_run run;
	struct report_tally t;
	struct cache *cache = NULL;
	int rc, ret = 2;

	report_ident_init(&id, cfg, REPORT_MAILNAME);
	memset(&send, 0, sizeof(send));
	if (!dry) {
		if (report_net_create(&net, cfg) != MT_OK) {
			fprintf(stderr, "mtasts report: cannot set up DNS\n");
			return 2;
		}
		report_net_sender(net, &send);
	}
	/* the cache only lends the policy-string: never create it here (a
	 * file made by this command would belong to its user, not the MTA's) */
	if (access(cfg->cache_path, F_OK) != 0 ||
	    cache_open(&cache, cfg->cache_path, cfg->cache_size) != MT_OK)
		cache = NULL; /* reports without policy-string */
	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	run.id = &id;
	run.now = now;
	run.dry_run = dry;
	run.cache = cache;
	run.send = &send;
	run.marks = marks;
	run.event = print_event;
	rc = report_send_day(&run, d, &t);
	if (rc != MT_OK)
		fprintf(stderr, "mtasts report: %s\n", mt_strerror(rc));
	else
		ret = t.pending || t.errors ? 1 : 0;
	cache_close(cache);
	report_net_destroy(net);
	return ret;
}

/* One host: the day's results file, marker files beside it. */
static int report_local(const struct config *cfg, int64_t day, int64_t now,
			bool dry)
{
	struct report_day *d = NULL;
	struct report_marks marks;
	struct report_marks_files files;
	int rc, ret = 2;

	if (!dry)
		prune(cfg, now, false);
	rc = report_day_create(&d, day);
	if (rc == MT_OK)
		rc = report_day_load_file(d, cfg);
	if (rc == MT_ENOTFOUND ||
	    (rc == MT_OK && report_day_n_domains(d) == 0)) {
		printf("no results recorded for that day\n");
		ret = 0;
	} else if (rc != MT_OK) {
		fprintf(stderr, "mtasts report: %s\n", mt_strerror(rc));
	} else {
		report_marks_local(&marks, &files, cfg, day);
		ret = send_reports(cfg, d, now, dry, &marks);
	}
	report_day_destroy(d);
	return ret;
}

static int open_store(const struct config *cfg, struct fleet **f)
{
	char err[CONFIG_PATH_MAX + 512];
	int rc = fleet_open(f, cfg, err, sizeof(err));

	if (rc == MT_OK)
		return 0;
	fprintf(stderr, "mtasts report: report store: %s\n", err);
	/* unreachable: the next run tries again */
	return rc == MT_ECONFIG ? 2 : 1;
}

static void print_pushed(void *ctx, const struct fleet_pushed *p)
{
	struct fleet *f = ctx;
	char day[11];

	report_day_str(p->day, day);
	if (p->rc == MT_OK)
		printf("pushed %s as %s: %zu domain%s, ok=%" PRIu64
		       " failed=%" PRIu64 "%s\n",
		       day, fleet_host(f), p->domains,
		       p->domains == 1 ? "" : "s", p->ok, p->failed,
		       p->final ? " (final)" : "");
	else
		fprintf(stderr,
			"mtasts report: push of %s failed: %s; the "
			"results stay here and the next run pushes them\n",
			day,
			p->rc == MT_ETEMP ? fleet_error(f) :
					    mt_strerror(p->rc));
}

/* Push this host's counts: the exit status. */
static int push(struct fleet *f, int64_t now, bool verbose)
{
	int rc = fleet_push(f, now, verbose ? print_pushed : NULL, f);

	if (rc != MT_OK && !verbose)
		fprintf(stderr,
			"mtasts report: push to %s failed: %s; the "
			"results stay here and the next run pushes them\n",
			fleet_where(f),
			rc == MT_ETEMP ? fleet_error(f) : mt_strerror(rc));
	return rc == MT_OK ? 0 : 1;
}

/* A fleet: push ours, wait for the others until the deadline, merge
 * everybody's, send each report once for the fleet. */
static int report_fleet(const struct config *cfg, int64_t day, int64_t now,
			bool dry)
{
	struct fleet *f = NULL;
	struct fleet_day fd;
	struct report_day *d = NULL;
	struct report_marks marks;
	char ds[11], missing[1024];
	size_t n_missing, bad_hosts = 0, bad_lines = 0;
	int64_t deadline = day + 86400 + cfg->report_push_deadline;
	int rc, ret;

	memset(&fd, 0, sizeof(fd));
	report_day_str(day, ds);
	ret = open_store(cfg, &f);
	if (ret != 0)
		return ret;
	ret = 1;
	if (!dry) {
		if (push(f, now, false) != 0)
			goto out;
		prune(cfg, now, true);
	}
	rc = fleet_day_load(f, day, now, &fd);
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts report: %s\n",
			rc == MT_ETEMP ? fleet_error(f) : mt_strerror(rc));
		goto out;
	}
	n_missing = fleet_day_missing(&fd, missing, sizeof(missing));
	if (n_missing > 0 && now < deadline && !dry) {
		printf("%s: waiting for %s to push (until %02d:%02d UTC)\n", ds,
		       missing, (int)(deadline % 86400 / 3600),
		       (int)(deadline % 3600 / 60));
		ret = 0;
		goto out;
	}
	if (n_missing > 0) {
		log_msg(LOG_LVL_WARN,
			"event=fleet-hosts-missing day=%s "
			"hosts=\"%s\"",
			ds, missing);
		printf("%s: no final push from %s: the reports go out "
		       "without their counts\n",
		       ds, missing);
	}
	rc = report_day_create(&d, day);
	if (rc == MT_OK)
		rc = fleet_merge(f, &fd, d, &bad_hosts, &bad_lines);
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts report: %s\n",
			rc == MT_ETEMP ? fleet_error(f) : mt_strerror(rc));
		goto out;
	}
	if (bad_hosts > 0 || bad_lines > 0)
		fprintf(stderr,
			"mtasts report: %s: counts of %zu host%s "
			"unreadable, %zu line%s skipped\n",
			ds, bad_hosts, bad_hosts == 1 ? "" : "s", bad_lines,
			bad_lines == 1 ? "" : "s");
	if (report_day_n_domains(d) == 0) {
		printf("no results recorded for that day\n");
		ret = 0;
	} else {
		fleet_marks(f, day, &marks);
		ret = send_reports(cfg, d, now, dry, &marks);
	}
out:
	report_day_destroy(d);
	fleet_day_clear(&fd);
	fleet_close(f);
	return ret;
}

static void iso_time(int64_t t, char out[21])
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct tally {
	const struct report_day *d;
	size_t sent, no_record, given_up, other, stale;
};

static void count_outcome(void *ctx, const char *domain, const char *outcome)
{
	struct tally *t = ctx;
	uint64_t ok, failed;

	report_day_totals(t->d, domain, &ok, &failed);
	if (ok + failed == 0)
		t->stale++; /* a domain no host pushed (any more) */
	else if (strcmp(outcome, "sent") == 0)
		t->sent++;
	else if (strcmp(outcome, "no-record") == 0)
		t->no_record++;
	else if (strcmp(outcome, "given-up") == 0)
		t->given_up++;
	else
		t->other++;
}

/* The pending domains of a fleet's day, with who holds their claim. */
static int print_pending(struct fleet *f, const struct report_day *d,
			 int64_t day)
{
	struct report_marks m;
	char holder[CONFIG_HOST_ID_MAX + 1];
	size_t n = report_day_n_domains(d);
	int r;

	fleet_marks(f, day, &m);
	for (size_t i = 0; i < n; i++) {
		const char *dom = report_day_domain(d, i);

		r = m.get(m.ctx, dom, NULL);
		if (r < 0)
			return r;
		if (r == 1)
			continue;
		r = fleet_claim_holder(f, day, dom, holder, sizeof(holder));
		if (r != MT_OK)
			return r;
		printf("pending: %s%s%s\n", dom,
		       holder[0] ? " claimed-by=" : "", holder);
	}
	return MT_OK;
}

static int status_fleet(const struct config *cfg, int64_t day, int64_t now)
{
	struct fleet *f = NULL;
	struct fleet_day fd;
	struct report_day *d = NULL;
	struct tally t;
	char ds[11], at[21];
	size_t bad_hosts, bad_lines, done;
	uint64_t ok, failed;
	int rc, ret;

	memset(&fd, 0, sizeof(fd));
	ret = open_store(cfg, &f);
	if (ret != 0)
		return ret;
	report_day_str(day, ds);
	rc = fleet_day_load(f, day, now, &fd);
	if (rc == MT_OK)
		rc = report_day_create(&d, day);
	if (rc == MT_OK)
		rc = fleet_merge(f, &fd, d, &bad_hosts, &bad_lines);
	if (rc != MT_OK)
		goto out;
	printf("day: %s\nstore: %s\nthis-host: %s\n", ds, fleet_where(f),
	       fleet_host(f));
	for (size_t i = 0; i < fd.n; i++) {
		const struct fleet_host *h = &fd.hosts[i];

		if (!h->pushed) {
			printf("host: %s not-pushed\n", h->id);
			continue;
		}
		iso_time(h->pushed_at, at);
		printf("host: %s pushed=%s %s ok=%" PRIu64 " failed=%" PRIu64
		       " domains=%zu\n",
		       h->id, at, h->final ? "final" : "partial", h->ok,
		       h->failed, h->domains);
	}
	report_day_totals(d, NULL, &ok, &failed);
	printf("total: domains=%zu ok=%" PRIu64 " failed=%" PRIu64 "\n",
	       report_day_n_domains(d), ok, failed);
	memset(&t, 0, sizeof(t));
	t.d = d;
	rc = fleet_outcomes(f, day, count_outcome, &t);
	if (rc != MT_OK)
		goto out;
	done = t.sent + t.no_record + t.given_up + t.other;
	printf("reports: sent=%zu no-record=%zu given-up=%zu pending=%zu\n",
	       t.sent, t.no_record, t.given_up, report_day_n_domains(d) - done);
	rc = print_pending(f, d, day);
out:
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts report: %s\n",
			rc == MT_ETEMP ? fleet_error(f) : mt_strerror(rc));
		ret = 1;
	}
	report_day_destroy(d);
	fleet_day_clear(&fd);
	fleet_close(f);
	return ret;
}

/* One host: the day's file and its markers. */
static int status_local(const struct config *cfg, int64_t day)
{
	struct report_day *d = NULL;
	struct report_marks m;
	struct report_marks_files files;
	char ds[11];
	size_t n, done = 0;
	uint64_t ok, failed;
	int rc;

	report_day_str(day, ds);
	rc = report_day_create(&d, day);
	if (rc == MT_OK)
		rc = report_day_load_file(d, cfg);
	if (rc != MT_OK && rc != MT_ENOTFOUND) {
		fprintf(stderr, "mtasts report: %s\n", mt_strerror(rc));
		report_day_destroy(d);
		return 2;
	}
	report_marks_local(&m, &files, cfg, day);
	n = report_day_n_domains(d);
	report_day_totals(d, NULL, &ok, &failed);
	printf("day: %s\nstore: local\n", ds);
	printf("total: domains=%zu ok=%" PRIu64 " failed=%" PRIu64 "\n", n, ok,
	       failed);
	for (size_t i = 0; i < n; i++)
		done += m.get(m.ctx, report_day_domain(d, i), NULL) == 1;
	printf("reports: done=%zu pending=%zu\n", done, n - done);
	report_day_destroy(d);
	return 0;
}

int cmd_report(int argc, char **argv, struct cmd_ctx *ctx)
{
	const struct config *cfg = &ctx->cfg;
	bool fleet = cfg->report_store[0] != '\0';
	struct fleet *f = NULL;
	struct args a;
	int64_t day, now = clock_now();
	int ret;

	if (parse_args(argc, argv, &a) != 0) {
		cmd_usage(stderr, "report");
		return 2;
	}
	if (a.push) {
		if (!fleet) {
			printf("report_store is local: nothing to push\n");
			return 0;
		}
		ret = open_store(cfg, &f);
		if (ret == 0)
			ret = push(f, now, true);
		fleet_close(f);
		return ret;
	}
	ret = pick_day(a.day, now, !a.status, &day);
	if (ret != 0)
		return ret;
	if (a.status)
		return fleet ? status_fleet(cfg, day, now) :
			       status_local(cfg, day);
	return fleet ? report_fleet(cfg, day, now, a.dry) :
		       report_local(cfg, day, now, a.dry);
}
