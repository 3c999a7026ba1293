/*
 * report_send.h - delivering a day's TLS-RPT reports (RFC 8460 §5): for
 * every policy domain of a report_day, the §4.4 JSON, gzip-compressed, to
 * every rua of _smtp._tls.<domain>: https: by POST (§5.2), mailto: as a
 * multipart/report message through the local MTA (§5.3); failures are
 * retried by later runs for 24 hours after the day ends (§5.5).
 *
 * Three seams, each replaceable by a test:
 *   struct report_sender  how a report leaves (POST, mail) and where the
 *                         rua come from (DNS); report_net gives the real
 *                         one (libcurl set up by fetch_curl_setup(), the
 *                         sendmail program, libunbound);
 *   struct report_marks   where the delivery state of a day lives: marker
 *                         files beside the results (report_marks_local) or
 *                         the fleet's store (fleet.h), which also claims a
 *                         report before it is sent;
 *   an event callback     what happened, for the command to print.
 */
#ifndef MTASTS_REPORT_SEND_H
#define MTASTS_REPORT_SEND_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "report.h"
#include "txt.h"

/* the local MTA's submission program (§5.3: "sendmail -oi -t") */
#define REPORT_SENDMAIL "/usr/sbin/sendmail"
/* one POST, address lookup and connect included */
#define REPORT_POST_TIMEOUT_MS 60000L
/* §5.5: a failed delivery is retried for 24 hours after the day's end */
#define REPORT_RETRY_WINDOW 86400

struct report_sender {
	/* POST gz to an https: rua.  MT_OK, or a status with err set. */
	int (*post)(void *ctx, const char *uri, const struct buf *gz, char *err,
		    size_t errsz);
	/* Submit msg (a complete message, LF line ends) for rcpt.  MT_OK, or
	 * a status with err set. */
	int (*mail)(void *ctx, const char *rcpt, const struct buf *msg,
		    char *err, size_t errsz);
	/* The rua of the domain's TLS-RPT record (RFC 8460 §3): MT_OK with
	 * rpt filled, MT_ENOTFOUND (no valid record: nothing to send),
	 * MT_ETEMP (ask again later), MT_ENOMEM. */
	int (*rua)(void *ctx, const char *domain, struct tlsrpt_txt *rpt);
	void *ctx;
};

struct report_marks {
	/* Did the domain's report go out (rua NULL), or did this rua take
	 * it?  1 yes, 0 no, or a negative status. */
	int (*get)(void *ctx, const char *domain, const char *rua);
	/* Record it; outcome ("sent", "no-record", "given-up") with rua
	 * NULL, "sent" for a rua.  MT_OK or a status. */
	int (*set)(void *ctx, const char *domain, const char *rua,
		   const char *outcome);
	/* The right to send the domain's report now: MT_OK, MT_EBUSY (held
	 * by another sender, named in holder) or a status.  NULL: no claim
	 * is needed (one host). */
	int (*claim)(void *ctx, const char *domain, char *holder,
		     size_t holdersz);
	void (*release)(void *ctx, const char *domain);
	void *ctx;
};

/* Marker files of report_dir: results-DAY.sent.DOMAIN once a domain's
 * report is done (its content the outcome), results-DAY.sent.DOMAIN.rua-H
 * (H a hash of the URI) for each address that took it when there are
 * several.  st is the storage the marks point into. */
struct report_marks_files {
	const struct config *cfg;
	int64_t day_start;
};
void report_marks_local(struct report_marks *m, struct report_marks_files *st,
			const struct config *cfg, int64_t day_start);
/* The hash naming a rua in marks (FNV-1a of the URI). */
uint32_t report_rua_hash(const char *uri);

enum report_event_kind {
	REPORT_EV_SENT,	     /* uri took the report */
	REPORT_EV_FAILED,    /* uri did not (detail says why) */
	REPORT_EV_ALREADY,   /* uri took it on an earlier run */
	REPORT_EV_NO_RECORD, /* no TLS-RPT record: nothing to send */
	REPORT_EV_DNS_TEMP,  /* the record lookup failed: retried later */
	REPORT_EV_INVALID,   /* a name in the results that is no domain */
	REPORT_EV_BUSY,	     /* another sender holds the claim (detail) */
	REPORT_EV_DRY_RUN,   /* json: the report that would be sent */
	REPORT_EV_ERROR,     /* building or recording failed (detail) */
	REPORT_EV_GIVEN_UP,  /* failed, and the retry window is over */
};

struct report_event {
	enum report_event_kind kind;
	const char *domain;
	const char *uri;	/* SENT, FAILED, ALREADY */
	const char *detail;	/* FAILED, BUSY, ERROR, DNS_TEMP */
	const struct buf *json; /* DRY_RUN */
};

struct cache;

struct report_run {
	const struct config *cfg;
	const struct report_ident *id;
	int64_t now;	     /* for the retry window, Date: */
	bool dry_run;	     /* build and tell, send nothing */
	struct cache *cache; /* policy-string source, or NULL */
	const struct report_sender *send;
	const struct report_marks *marks;
	void (*event)(void *ctx, const struct report_event *ev);
	void *event_ctx;
};

struct report_tally {
	size_t done;	/* domains finished on this run */
	size_t pending; /* domains to retry (a rua failed) */
	size_t busy;	/* claimed by another sender */
	size_t errors;	/* could not be built or recorded */
};

/* Deliver the reports of every domain of d that is not done yet (every
 * domain, printed and not recorded, with run->dry_run).  Returns MT_OK
 * (what happened is in *t and the events) or MT_ENOMEM. */
int report_send_day(const struct report_run *run, const struct report_day *d,
		    struct report_tally *t);

/* The RFC 8460 §5.3 message for a mailto: rua: From (the contact), To,
 * Date (now), Subject "Report Domain: D Submitter: S Report-ID: <ID>",
 * TLS-Report-Domain, TLS-Report-Submitter, multipart/report;
 * report-type="tlsrpt" with a text part and the application/tlsrpt+gzip
 * part, base64, named as §5.1 says: submitter!domain!begin!end.json.gz.
 * MT_OK, MT_EINVAL (rcpt unfit for a header or a command line),
 * MT_ENOMEM, MT_ETOOBIG. */
int report_send_mime(const struct report_ident *id, const char *domain,
		     const char *rcpt, int64_t day_start, int64_t now,
		     const struct buf *gz, struct buf *msg);

/* The real sender: HTTPS through fetch_curl_setup() with the
 * configuration's ca_file (on top of the system CAs), proxy and resolver;
 * mail through REPORT_SENDMAIL; rua through the configured resolver.
 * MT_OK, MT_ENOMEM, MT_EINTERNAL (resolver or libcurl set-up). */
struct report_net;
int report_net_create(struct report_net **out, const struct config *cfg);
void report_net_destroy(struct report_net *n); /* accepts NULL */
void report_net_sender(struct report_net *n, struct report_sender *s);

#endif
