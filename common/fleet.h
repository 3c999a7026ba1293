/*
 * fleet.h - TLS-RPT for a fleet of MTAs: every host records locally (the
 * delivery path never talks to the store), pushes its day's counts to
 * the store, and one host sends one report per policy domain and day,
 * with the counts of every host.
 *
 * Keys (D = YYYY-MM-DD, H = a host id, all under FLEET_PREFIX):
 *   D:counts:H      string  host H's counts of day D (report_day_counts
 *                           text); H owns it and overwrites it on every
 *                           push, so a repeated push never counts twice
 *   D:hosts         hash    H -> "pushed=T final=0|1 ok=N failed=N
 *                           domains=N": who pushed, when, and whether
 *                           after the day ended (final)
 *   D:claim:DOMAIN  string  "H pid ms": the host sending the report now
 *                           (SET NX PX report_claim_time)
 *   D:state         hash    DOMAIN -> "OUTCOME at=T host=H" once the
 *                           report is done (sent, no-record, given-up);
 *                           "DOMAIN rua-XXXXXXXX" -> "sent ..." for each
 *                           address that took it when there are several
 *   hosts           hash    H -> the time of its last push: the fleet
 * Day keys expire report_retention after the day's end; `hosts` too
 * after its last push, and a host whose last push is older is no longer
 * expected.
 */
#ifndef MTASTS_FLEET_H
#define MTASTS_FLEET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "report.h"
#include "report_send.h"

#define FLEET_PREFIX "mtasts:tlsrpt:"

struct fleet;

/* Connect to the store (store_open) as this host: cfg->report_host, else
 * the host name.  MT_OK, MT_ECONFIG (no usable host id, URL or password
 * file), MT_ETEMP (the store is unreachable), MT_ENOMEM; err says why.
 * cfg must outlive the fleet. */
int fleet_open(struct fleet **out, const struct config *cfg, char *err,
	       size_t errsz);
void fleet_close(struct fleet *f); /* accepts NULL */
const char *fleet_host(const struct fleet *f);
const char *fleet_error(const struct fleet *f);
const char *fleet_where(const struct fleet *f);

/* This host's push of one day. */
struct fleet_pushed {
	int64_t day;
	bool final; /* pushed after the day ended */
	uint64_t ok, failed;
	size_t domains;
	int rc; /* MT_OK, or why this day failed */
};

/* Push this host's counts: today, yesterday, and every older day within
 * report_retention whose results changed since their last push after the
 * day ended (a push that failed, the store down for days).  A finished
 * day's push is remembered beside its results (report_pushed_mark).
 * fn (may be NULL) is told each day.  MT_OK when every day went, else
 * the first failure. */
int fleet_push(struct fleet *f, int64_t now,
	       void (*fn)(void *ctx, const struct fleet_pushed *p), void *ctx);

/* One host's state for a day. */
struct fleet_host {
	char id[CONFIG_HOST_ID_MAX + 1];
	bool pushed, final;
	/* in report_hosts, or pushed within the retention period */
	bool expected;
	int64_t pushed_at;
	uint64_t ok, failed;
	size_t domains;
};

struct fleet_day {
	int64_t day;
	size_t n;
	struct fleet_host *hosts; /* sorted by id */
};

/* Who pushed the day, and who is expected but did not push after the
 * day ended.  MT_OK or MT_ETEMP, MT_ENOMEM.  fleet_day_clear() it. */
int fleet_day_load(struct fleet *f, int64_t day, int64_t now,
		   struct fleet_day *out);
void fleet_day_clear(struct fleet_day *fd);
/* Hosts expected for the day that have not made their final push. */
size_t fleet_day_missing(const struct fleet_day *fd, char *list, size_t listsz);

/* Add every pushed host's counts of the day to d.  *bad_hosts counts
 * hosts whose counts were not readable (missing, over the cap, not of
 * this day), *bad_lines the lines skipped in the others.  MT_OK,
 * MT_ETEMP, MT_ENOMEM. */
int fleet_merge(struct fleet *f, const struct fleet_day *fd,
		struct report_day *d, size_t *bad_hosts, size_t *bad_lines);

/* The day's delivery state and claims, for report_send_day(). */
void fleet_marks(struct fleet *f, int64_t day, struct report_marks *m);

/* Each domain whose report of the day is done, with its outcome word
 * ("sent", "no-record", "given-up").  MT_OK or MT_ETEMP. */
int fleet_outcomes(struct fleet *f, int64_t day,
		   void (*fn)(void *ctx, const char *domain,
			      const char *outcome),
		   void *ctx);
/* Who holds the claim of a domain's report (holder "" when nobody). */
int fleet_claim_holder(struct fleet *f, int64_t day, const char *domain,
		       char *holder, size_t n);

#endif
