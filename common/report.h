/*
 * report.h - TLS-RPT (RFC 8460): recording session results and building the
 * daily aggregate reports.
 *
 * Recording is cheap and never affects delivery: one line appended to a
 * per-UTC-day file under report_dir (O_APPEND, one write(2) per line, lines
 * shorter than PIPE_BUF so concurrent writers never interleave).
 * Aggregation (`mtasts report`) reads a finished day, groups by policy
 * domain and builds the JSON of RFC 8460 §4.4, gzip-compressed (§5.3).
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
	char domain[DOMAIN_BUFSZ];	/* policy domain */
	char policy_type[16];		/* "sts", "tlsa", "no-policy-found" */
	char policy_id[33];
	enum report_result result;
	char sending_ip[REPORT_ADDR_MAX];	/* may be "" */
	char mx_host[DOMAIN_BUFSZ];		/* may be "" */
	char receiving_ip[REPORT_ADDR_MAX];	/* may be "" */
	char reason_code[64];			/* short, sanitised */
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
	const char *id;		/* its TXT id: the policy-string goes only to
				 * results recorded under this id (NULL: all) */
	int mode;
	uint32_t max_age;
	const char *mx;
	uint32_t mx_len;
};

/* Build the RFC 8460 §4.4 JSON report for one policy domain from the
 * records of one UTC day (day_start = midnight UTC).  info may be NULL.
 * Returns MT_OK, MT_ENOTFOUND (no record for the domain), MT_ENOMEM,
 * MT_EIO. */
int report_build_json(const struct config *cfg, const char *domain,
		      int64_t day_start, const struct report_policy_info *info,
		      struct buf *json);

/* The distinct policy domains with records on that day (a NUL-separated
 * list in *out, count in *n). */
int report_domains(const struct config *cfg, int64_t day_start,
		   struct buf *out, size_t *n);

/* The submitting organisation's domain (RFC 8460 §5.1 "sender", §5.3
 * TLS-Report-Submitter): the domain of report_contact, else report_org
 * when it is a domain name, else "localhost". */
const char *report_submitter(const struct config *cfg);

/* The report-id of a domain's report for a day: DAY_DOMAIN@SUBMITTER
 * (RFC 8460 §4.4; also the Report-ID of §5.3's Subject). */
int report_id(const struct config *cfg, const char *domain, int64_t day_start,
	      char *out, size_t n);

/* gzip in[0..n) into *out (RFC 8460 §5.3: application/tlsrpt+gzip). */
int report_gzip(const char *in, size_t n, struct buf *out);

#endif
