/*
 * report.h - TLS-RPT (RFC 8460): recording session results and building the
 * daily aggregate reports.
 *
 * Recording (report_rec.c, libc only: the module's decision path) is cheap
 * and never affects delivery: one line appended to a per-UTC-day file
 * under report_dir (O_APPEND, one write(2) per line, lines shorter than
 * PIPE_BUF so concurrent writers never interleave).
 * Aggregation (report.c, `mtasts report`) reads a finished day, groups by
 * policy domain and builds the JSON of RFC 8460 §4.4, gzip-compressed
 * (§5.3); delivery is report_send.h, the fleet's shared counts fleet.h.
 */
#ifndef MTASTS_REPORT_H
#define MTASTS_REPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "domain.h"

#define REPORT_LINE_MAX 1024
#define REPORT_ADDR_MAX 64

/* RFC 8460 §4.3 result types, plus success. */
enum report_result {
	RESULT_SUCCESS = 0,
	RESULT_STARTTLS_NOT_SUPPORTED,
	RESULT_CERTIFICATE_HOST_MISMATCH,
	RESULT_CERTIFICATE_EXPIRED,
	RESULT_CERTIFICATE_NOT_TRUSTED,
	RESULT_VALIDATION_FAILURE,
	RESULT_STS_POLICY_FETCH_ERROR,
	RESULT_STS_POLICY_INVALID,
	RESULT_STS_WEBPKI_INVALID,
	RESULT_TLSA_INVALID,
	RESULT_DNSSEC_INVALID,
	RESULT_DANE_REQUIRED,
	RESULT_COUNT_
};

struct report_rec {
	int64_t when;
	char domain[DOMAIN_BUFSZ]; /* policy domain */
	char policy_type[16];	   /* "sts", "tlsa", "no-policy-found" */
	char policy_id[33];
	enum report_result result;
	char sending_ip[REPORT_ADDR_MAX];   /* may be "" */
	char mx_host[DOMAIN_BUFSZ];	    /* may be "" */
	char receiving_ip[REPORT_ADDR_MAX]; /* may be "" */
	char reason_code[64];		    /* short, sanitised */
};

const char *report_result_str(enum report_result r);
/* -1 when unknown */
int report_result_from_str(const char *s);

/* Append one record to the day's file.  MT_OK, MT_EIO, MT_EINVAL. */
int report_record(const struct config *cfg, const struct report_rec *r);

/* Path of the results file of the UTC day containing t. */
int report_day_path(const struct config *cfg, int64_t t, char *out,
		    size_t outsz);

struct report_policy_info {
	/* what the cache knows of the policy, for "policy-string" */
	bool have;
	/* its TXT id: the policy-string goes only to results recorded under
	 * this id (NULL: all) */
	const char *id;
	int mode;
	uint32_t max_age;
	const char *mx;
	uint32_t mx_len;
};

/*
 * One UTC day's results, aggregated: per policy domain, per policy (type
 * and id), the success and failure session counts and the distinct
 * failure details with their counts.  Filled from the day's results file
 * (report_day_load_file) and/or from the counts other hosts pushed
 * (report_day_merge_counts); merging adds.  Caps: REPORT_DOMAINS_MAX
 * domains, REPORT_GROUPS_MAX policies per domain, REPORT_DETAILS_MAX
 * failure details per policy (failures beyond the detail cap still count
 * in the totals).  Owned by the caller: report_day_destroy().
 */
#define REPORT_DOMAINS_MAX 1000000
#define REPORT_GROUPS_MAX 16
#define REPORT_DETAILS_MAX 1000
#define REPORT_COUNTS_MAX (16u << 20) /* bytes of counts text read */

struct report_day;

/* day_start: midnight UTC.  MT_OK or MT_ENOMEM. */
int report_day_create(struct report_day **out, int64_t day_start);
void report_day_destroy(struct report_day *d);
int64_t report_day_start(const struct report_day *d);

/* Add the records of the day's results file.  Lines that are not records
 * (a crashed writer, another program) are skipped.  MT_OK, MT_ENOTFOUND
 * (no file), MT_EIO, MT_ENOMEM. */
int report_day_load_file(struct report_day *d, const struct config *cfg);

/* The day's counts as text, for another host to merge (the fleet store):
 *   mtasts-counts 1 YYYY-MM-DD
 *   G <tab> domain type id ok failed                 one per policy
 *   D <tab> domain type id result sip mx rip reason count   its details
 * Fields as in the results file ("-" for empty).  MT_OK, MT_ENOMEM,
 * MT_ETOOBIG. */
int report_day_counts(const struct report_day *d, struct buf *out);

/* Add counts text made by report_day_counts() (by any host: the text is
 * untrusted; lines that do not parse are skipped and counted in
 * *skipped when not NULL).  MT_OK; MT_EPARSE when the first line is not
 * the header of this day; MT_ENOMEM. */
int report_day_merge_counts(struct report_day *d, const char *text, size_t len,
			    size_t *skipped);

/* The domains with results, sorted; valid until d changes.  Names come
 * from the results: the caller checks them (domain_normalise) before
 * they reach a path, DNS or a report. */
size_t report_day_n_domains(const struct report_day *d);
const char *report_day_domain(const struct report_day *d, size_t i);

/* Session totals over every domain (or one domain when domain != NULL). */
void report_day_totals(const struct report_day *d, const char *domain,
		       uint64_t *ok, uint64_t *failed);

/* Who the reports are from (RFC 8460 §4.4 organization-name,
 * contact-info; §5.1 and §5.3 the submitter domain).  From report_org and
 * report_contact; what they leave open defaults to the mail name of the
 * host: the first line of mailname_path (Debian's /etc/mailname), else
 * the host name, else "localhost". */
struct report_ident {
	char org[256];
	char contact[DOMAIN_BUFSZ + 16]; /* report_contact: 256 */
	char submitter[DOMAIN_BUFSZ];
};
#define REPORT_MAILNAME "/etc/mailname"
void report_ident_init(struct report_ident *id, const struct config *cfg,
		       const char *mailname_path);

/* The report-id of a domain's report for a day: DAY_DOMAIN@SUBMITTER
 * (RFC 8460 §4.4; also the Report-ID of §5.3's Subject). */
int report_id(const struct report_ident *id, const char *domain,
	      int64_t day_start, char *out, size_t n);

/* Build the RFC 8460 §4.4 JSON report of one policy domain.  info may be
 * NULL.  MT_OK, MT_ENOTFOUND (no result for the domain), MT_ENOMEM,
 * MT_ETOOBIG. */
int report_day_json(const struct report_day *d, const struct report_ident *id,
		    const char *domain, const struct report_policy_info *info,
		    struct buf *json);

/* gzip in[0..n) into *out (RFC 8460 §5.3: application/tlsrpt+gzip). */
int report_gzip(const char *in, size_t n, struct buf *out);

/* The UTC midnight of YYYY-MM-DD; MT_OK or MT_EPARSE. */
int report_parse_day(const char *s, int64_t *day_start);
/* YYYY-MM-DD of the UTC day containing t (11 bytes). */
void report_day_str(int64_t t, char out[11]);

/* Files of report_dir that belong to a day D (results-D.tsv and the
 * markers results-D.*), for days that ended more than cfg->report_retention
 * seconds before now, are removed; with keep_unpushed, a day whose
 * results were not pushed after it ended (report_pushed_ok) is kept.
 * *removed counts the files removed, *kept the days kept for want of a
 * push.  MT_OK or MT_EIO (the directory could not be read; a missing one
 * is MT_OK). */
int report_prune(const struct config *cfg, int64_t now, bool keep_unpushed,
		 size_t *removed, size_t *kept);

/* The push marker of a day: results-D.pushed holds the size of the
 * results file that was pushed after the day ended.  report_pushed_ok():
 * does it match the file now (true also when neither exists)? */
int report_pushed_path(const struct config *cfg, int64_t day_start, char *out,
		       size_t n);
bool report_pushed_ok(const struct config *cfg, int64_t day_start);
/* Size of the day's results file: 0 when there is none, -1 on error. */
long long report_results_size(const struct config *cfg, int64_t day_start);
/* Write the marker: size is report_results_size() taken before the file
 * was read for the push (a record added since makes the marker stale:
 * pushed again).  MT_OK or MT_EIO. */
int report_pushed_mark(const struct config *cfg, int64_t day_start,
		       long long size);

#endif
