/*
 * report_send.c - TLS-RPT report delivery (RFC 8460 §5): the day loop,
 * the §5.3 message, the marker files, and the real sender (libcurl,
 * sendmail, libunbound).
 *
 * For each policy domain of the day, in name order: skip it when its
 * report is done; claim it (a fleet: one sender per report); build the
 * §4.4 JSON (with the policy-string the cache holds for the policy the
 * results were judged by) and gzip it; look up the rua; give the report
 * to each rua that has not taken it yet; record each rua that took it
 * (when there are several: a retry sends only to the others) and the
 * domain as done when every rua took it, when there is nothing to send,
 * or when the 24 h retry window of §5.5 is over (given up).  The report
 * is the same bytes on every retry (same report-id), so a receiver can
 * tell a repeat.
 *
 * Trust: domain names come from the results (local file or other hosts'
 * counts): a name that is not a normalised domain never reaches a path,
 * DNS or a report.  rua come from DNS, parsed by txt.c; a mailto:
 * address unfit for a header or the sendmail command line is refused.
 * Ownership: nothing returned needs freeing; report_net is freed by
 * report_net_destroy().
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "cache.h"
#include "clock.h"
#include "dns.h"
#include "domain.h"
#include "fetch.h"
#include "log.h"
#include "mem.h"
#include "mtasts_build.h"
#include "report_send.h"
#include "status.h"

#define BOUNDARY "mtasts-tlsrpt-boundary"
#define REPORT_JSON_MAX (16u << 20)
#define MAIL_MAX (24u << 20)

/* ---------------------------------------------------------------- */
/* the §5.3 message                                                  */

static int base64(struct buf *out, const unsigned char *in, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;
	int rc = MT_OK;

	for (size_t i = 0; rc == MT_OK && i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		rc = buf_add(out, q, 4);
		col += 4;
		/* RFC 2045 §6.8: lines of at most 76 characters */
		if (rc == MT_OK && col >= 76) {
			rc = buf_adds(out, "\n");
			col = 0;
		}
	}
	if (rc == MT_OK && col)
		rc = buf_adds(out, "\n");
	return rc;
}

int report_send_mime(const struct report_ident *id, const char *domain,
		     const char *rcpt, int64_t day_start, int64_t now,
		     const struct buf *gz, struct buf *m)
{
	char date[64], rid[2 * DOMAIN_BUFSZ + 16];
	time_t t = (time_t)now;
	struct tm tm;
	int rc;

	/* the address goes into a header and onto sendmail's input: no
	 * line break, no angle bracket or quote, no option */
	if (rcpt[0] == '\0' || rcpt[0] == '-' ||
	    strpbrk(rcpt, "\r\n<>\"") != NULL)
		return MT_EINVAL;
	rc = report_id(id, domain, day_start, rid, sizeof(rid));
	if (rc != MT_OK)
		return rc;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	/* RFC 8460 §5.3: Subject, TLS-Report-Domain, TLS-Report-Submitter,
	 * multipart/report with report-type "tlsrpt"; §5.1 the file name
	 * submitter!policy-domain!begin!end.json.gz (UNIX times) */
	rc = buf_printf(m,
			"From: %s\nTo: %s\nDate: %s\n"
			"Subject: Report Domain: %s Submitter: %s "
			"Report-ID: <%s>\n"
			"TLS-Report-Domain: %s\nTLS-Report-Submitter: %s\n"
			"MIME-Version: 1.0\n"
			"Content-Type: multipart/report; "
			"report-type=\"tlsrpt\";\n"
			"\tboundary=\"" BOUNDARY "\"\n\n"
			"--" BOUNDARY "\n"
			"Content-Type: text/plain; charset=us-ascii\n\n"
			"This is an aggregate TLS report from %s.\n\n"
			"--" BOUNDARY "\n"
			"Content-Type: application/tlsrpt+gzip\n"
			"Content-Transfer-Encoding: base64\n"
			"Content-Disposition: attachment;\n"
			"\tfilename=\"%s!%s!%lld!%lld.json.gz\"\n\n",
			id->contact, rcpt, date, domain, id->submitter, rid,
			domain, id->submitter, id->org, id->submitter, domain,
			(long long)day_start, (long long)day_start + 86399);
	if (rc == MT_OK)
		rc = base64(m, (const unsigned char *)gz->data, gz->len);
	if (rc == MT_OK)
		rc = buf_adds(m, "\n--" BOUNDARY "--\n");
	return rc;
}

/* ---------------------------------------------------------------- */
/* marker files                                                      */

uint32_t report_rua_hash(const char *uri)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

static int marker_path(const struct report_marks_files *st, const char *domain,
		       const char *rua, char *out, size_t n)
{
	char day[11];
	int len;

	report_day_str(st->day_start, day);
	if (rua == NULL) {
		len = snprintf(out, n, "%s/results-%s.sent.%s",
			       st->cfg->report_dir, day, domain);
	} else {
		/* one marker per address: a retry does not send again to
		 * the addresses that already took the report */
		len = snprintf(out, n, "%s/results-%s.sent.%s.rua-%08x",
			       st->cfg->report_dir, day, domain,
			       report_rua_hash(rua));
	}
	return len > 0 && (size_t)len < n ? MT_OK : MT_ETOOBIG;
}

static int files_get(void *ctx, const char *domain, const char *rua)
{
	char path[CONFIG_PATH_MAX + 2 * DOMAIN_BUFSZ];
	int rc = marker_path(ctx, domain, rua, path, sizeof(path));

	if (rc != MT_OK)
		return rc;
	if (access(path, F_OK) == 0)
		return 1;
	return errno == ENOENT ? 0 : MT_EIO;
}

static int files_set(void *ctx, const char *domain, const char *rua,
		     const char *outcome)
{
	char path[CONFIG_PATH_MAX + 2 * DOMAIN_BUFSZ];
	size_t n = strlen(outcome);
	int fd, rc = marker_path(ctx, domain, rua, path, sizeof(path));

	if (rc != MT_OK)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return MT_EIO;
	if (write(fd, outcome, n) != (ssize_t)n || write(fd, "\n", 1) != 1)
		rc = MT_EIO;
	close(fd);
	return rc;
}

void report_marks_local(struct report_marks *m, struct report_marks_files *st,
			const struct config *cfg, int64_t day_start)
{
	st->cfg = cfg;
	st->day_start = day_start;
	memset(m, 0, sizeof(*m));
	m->get = files_get;
	m->set = files_set;
	m->ctx = st;
}

/* ---------------------------------------------------------------- */
/* the day loop                                                      */

static void tell(const struct report_run *run, enum report_event_kind kind,
		 const char *domain, const char *uri, const char *detail,
		 const struct buf *json)
{
	struct report_event ev = { kind, domain, uri, detail, json };

	if (run->event != NULL)
		run->event(run->event_ctx, &ev);
}

/* The policy the cache holds for the domain, for the policy-string. */
static void policy_info(struct cache *c, const char *domain,
			struct cache_entry *ce, struct report_policy_info *info)
{
	memset(info, 0, sizeof(*info));
	if (c == NULL || cache_get(c, domain, ce) != MT_OK ||
	    ce->kind != CACHE_POLICY)
		return;
	info->have = true;
	info->id = ce->id;
	info->mode = ce->mode;
	info->max_age = ce->max_age;
	info->mx = ce->mx;
	info->mx_len = ce->mx_len;
}

/* Give the report to one rua.  1 it took it, 0 it did not, or
 * MT_ENOMEM. */
static int send_one(const struct report_run *run, const char *domain,
		    int64_t day_start, const struct tlsrpt_uri *u,
		    const struct buf *gz)
{
	char err[256] = "";
	struct buf msg;
	int rc;

	if (u->scheme == TLSRPT_HTTPS) {
		rc = run->send->post(run->send->ctx, u->uri, gz, err,
				     sizeof(err));
	} else {
		const char *rcpt = u->uri + strlen("mailto:");

		buf_init(&msg, MAIL_MAX);
		rc = report_send_mime(run->id, domain, rcpt, day_start,
				      run->now, gz, &msg);
		if (rc == MT_EINVAL)
			snprintf(err, sizeof(err), "unsafe recipient");
		else if (rc != MT_OK)
			snprintf(err, sizeof(err), "cannot build message: %s",
				 mt_strerror(rc));
		else
			rc = run->send->mail(run->send->ctx, rcpt, &msg, err,
					     sizeof(err));
		buf_free(&msg);
	}
	if (rc == MT_ENOMEM)
		return rc;
	tell(run, rc == MT_OK ? REPORT_EV_SENT : REPORT_EV_FAILED, domain,
	     u->uri, err, NULL);
	return rc == MT_OK;
}

/* Deliver to every rua that has not taken the report yet.  *sent and
 * *tried count the addresses; MT_OK or MT_ENOMEM. */
static int send_rua(const struct report_run *run, const char *domain,
		    int64_t day_start, const struct tlsrpt_txt *rpt,
		    const struct buf *gz, size_t *sent, size_t *tried)
{
	const struct report_marks *mk = run->marks;
	int r;

	for (size_t i = 0; i < rpt->n_rua; i++) {
		const char *uri = rpt->rua[i].uri;

		(*tried)++;
		r = mk->get(mk->ctx, domain, uri);
		if (r == 1) {
			tell(run, REPORT_EV_ALREADY, domain, uri, NULL, NULL);
			(*sent)++;
			continue;
		}
		r = send_one(run, domain, day_start, &rpt->rua[i], gz);
		if (r < 0)
			return r;
		*sent += (size_t)r;
		/* with one address, the domain's mark says it all */
		if (r == 1 && rpt->n_rua > 1) {
			r = mk->set(mk->ctx, domain, uri, "sent");
			if (r != MT_OK)
				tell(run, REPORT_EV_ERROR, domain, uri,
				     mt_strerror(r), NULL);
		}
	}
	return MT_OK;
}

/* Before sending: is the report done, and may this run send it?
 * 1 go on, 0 not now (done, or claimed elsewhere), or a status. */
static int may_send(const struct report_run *run, const char *domain,
		    bool *claimed, struct report_tally *t)
{
	const struct report_marks *mk = run->marks;
	char holder[128] = "";
	int r;

	r = mk->get(mk->ctx, domain, NULL);
	if (r != 0)
		return r == 1 ? 0 : r;
	if (mk->claim == NULL)
		return 1;
	r = mk->claim(mk->ctx, domain, holder, sizeof(holder));
	if (r == MT_EBUSY) {
		tell(run, REPORT_EV_BUSY, domain, NULL, holder, NULL);
		t->busy++;
		return 0;
	}
	if (r != MT_OK)
		return r;
	*claimed = true;
	/* finished by the sender whose claim just ended? */
	r = mk->get(mk->ctx, domain, NULL);
	return r == 0 ? 1 : r == 1 ? 0 : r;
}

/* After sending: done (every address took it, none to send, or the retry
 * window of §5.5 is over), or to retry. */
static void finish(const struct report_run *run, const char *domain,
		   int64_t day_start, const char *outcome, size_t sent,
		   size_t tried, struct report_tally *t)
{
	const struct report_marks *mk = run->marks;
	int r;

	if (sent != tried) {
		if (run->now <= day_start + 86400 + REPORT_RETRY_WINDOW) {
			t->pending++;
			return;
		}
		tell(run, REPORT_EV_GIVEN_UP, domain, NULL, NULL, NULL);
		outcome = "given-up";
	}
	r = mk->set(mk->ctx, domain, NULL, outcome);
	if (r != MT_OK) {
		tell(run, REPORT_EV_ERROR, domain, NULL, mt_strerror(r), NULL);
		t->errors++;
		return;
	}
	t->done++;
}

static int send_domain(const struct report_run *run, const struct report_day *d,
		       const char *domain, struct report_tally *t)
{
	const struct report_marks *mk = run->marks;
	char norm[DOMAIN_BUFSZ];
	struct report_policy_info info;
	struct cache_entry ce;
	struct tlsrpt_txt rpt;
	struct buf js, gz;
	int64_t day = report_day_start(d);
	size_t sent = 0, tried = 0;
	const char *outcome = "sent";
	bool claimed = false;
	int rc = MT_OK, r;

	/* the results are data: a name that is not a normalised domain
	 * never reaches a marker path, DNS or a report */
	if (domain_normalise(domain, strlen(domain), norm) != MT_OK ||
	    strcmp(norm, domain) != 0) {
		tell(run, REPORT_EV_INVALID, NULL, NULL, NULL, NULL);
		return MT_OK;
	}
	memset(&ce, 0, sizeof(ce));
	buf_init(&js, REPORT_JSON_MAX);
	buf_init(&gz, REPORT_JSON_MAX);
	if (!run->dry_run) {
		r = may_send(run, domain, &claimed, t);
		if (r != 1) {
			if (r < 0) {
				tell(run, REPORT_EV_ERROR, domain, NULL,
				     mt_strerror(r), NULL);
				t->errors++;
			}
			goto out;
		}
	}
	policy_info(run->cache, domain, &ce, &info);
	r = report_day_json(d, run->id, domain, &info, &js);
	if (r == MT_OK)
		r = report_gzip(js.data, js.len, &gz);
	if (r != MT_OK) {
		tell(run, REPORT_EV_ERROR, domain, NULL, mt_strerror(r), NULL);
		t->errors++;
		rc = r == MT_ENOMEM ? r : MT_OK;
		goto out;
	}
	if (run->dry_run) {
		tell(run, REPORT_EV_DRY_RUN, domain, NULL, NULL, &js);
		goto out;
	}
	r = run->send->rua(run->send->ctx, domain, &rpt);
	if (r == MT_ETEMP) {
		/* not "no record": tried again on a later run */
		tell(run, REPORT_EV_DNS_TEMP, domain, NULL, NULL, NULL);
		tried++;
	} else if (r == MT_ENOTFOUND) {
		tell(run, REPORT_EV_NO_RECORD, domain, NULL, NULL, NULL);
		outcome = "no-record";
	} else if (r == MT_OK) {
		rc = send_rua(run, domain, day, &rpt, &gz, &sent, &tried);
		if (rc != MT_OK)
			goto out;
	} else {
		rc = r;
		goto out;
	}
	finish(run, domain, day, outcome, sent, tried, t);
out:
	if (claimed && mk->release != NULL)
		mk->release(mk->ctx, domain);
	cache_entry_clear(&ce);
	buf_free(&js);
	buf_free(&gz);
	return rc;
}

int report_send_day(const struct report_run *run, const struct report_day *d,
		    struct report_tally *t)
{
	size_t n = report_day_n_domains(d);
	int rc = MT_OK;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; rc == MT_OK && i < n; i++)
		rc = send_domain(run, d, report_day_domain(d, i), t);
	return rc;
}

/* ---------------------------------------------------------------- */
/* the real sender                                                   */

struct report_net {
	const struct config *cfg;
	struct dns *dns;
	struct fetch_opts fo;
};

/* The collector's answer body is not needed: read and dropped. */
static size_t drop_body(char *p, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

/* host and port of an https: URI, host without IPv6 brackets. */
static int uri_host(const char *uri, char *host, size_t hostsz, unsigned *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL;
	size_t n;
	int rc = MT_EINVAL;

	if (u == NULL)
		return MT_ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) !=
		    CURLUE_OK)
		goto out;
	n = strlen(h);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		memmove(h, h + 1, n - 2);
		h[n - 2] = '\0';
		n -= 2;
	}
	if (n == 0 || n >= hostsz)
		goto out;
	memcpy(host, h, n + 1);
	*port = (unsigned)strtoul(p, NULL, 10);
	rc = *port > 0 && *port < 65536 ? MT_OK : MT_EINVAL;
out:
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}

/* RFC 8460 §5.2: POST, Content-Type application/tlsrpt+gzip; any 2xx
 * means the collector took it. */
static int net_post(void *ctx, const char *uri, const struct buf *gz, char *err,
		    size_t errsz)
{
	struct report_net *n = ctx;
	struct curl_slist *hdrs = NULL, *resolve = NULL;
	struct fetch_result res;
	char host[DOMAIN_BUFSZ], errbuf[CURL_ERROR_SIZE] = "";
	unsigned port = 0;
	long status = 0;
	CURL *h = NULL;
	CURLcode c = CURLE_OK;
	int rc;

	memset(&res, 0, sizeof(res));
	rc = uri_host(uri, host, sizeof(host), &port);
	if (rc != MT_OK) {
		snprintf(err, errsz, "%s",
			 rc == MT_ENOMEM ? "out of memory" :
					   "not an https URI");
		return rc;
	}
	h = curl_easy_init();
	hdrs = curl_slist_append(NULL, "Content-Type: application/tlsrpt+gzip");
	if (h == NULL || hdrs == NULL) {
		rc = MT_ENOMEM;
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	/* the settings every HTTPS request of mtasts shares: https only, no
	 * redirect, TLS >= 1.2 verified, the configured proxy or none */
	rc = fetch_curl_setup(h, &n->fo, host, port,
			      clock_mono_ms() + REPORT_POST_TIMEOUT_MS,
			      &resolve, &res);
	if (rc == MT_OK && res.err != FETCH_OK) {
		snprintf(err, errsz, "%s", res.detail);
		rc = MT_EFETCH;
		goto out;
	}
	if (rc != MT_OK) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
#define SET(opt, val)                                      \
	do {                                               \
		if (c == CURLE_OK)                         \
			c = curl_easy_setopt(h, opt, val); \
	} while (0)
	SET(CURLOPT_URL, uri);
	SET(CURLOPT_USERAGENT, "mtasts/" MTASTS_VERSION);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_POSTFIELDS, gz->data);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)gz->len);
	SET(CURLOPT_WRITEFUNCTION, drop_body);
	SET(CURLOPT_ERRORBUFFER, errbuf);
#undef SET
	if (c != CURLE_OK) {
		rc = c == CURLE_OUT_OF_MEMORY ? MT_ENOMEM : MT_EINTERNAL;
		snprintf(err, errsz, "curl option: %s", curl_easy_strerror(c));
		goto out;
	}
	c = curl_easy_perform(h);
	if (c != CURLE_OK) {
		const char *why = errbuf[0] ? errbuf : curl_easy_strerror(c);

		/* curl's words about a remote server: sanitised */
		log_sanitise(err, errsz, why, strlen(why));
		rc = MT_EFETCH;
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(err, errsz, "HTTP status %ld", status);
		rc = MT_EFETCH;
		goto out;
	}
	rc = MT_OK;
out:
	curl_slist_free_all(hdrs);
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_slist_free_all(resolve);
	return rc;
}

/* Write all of msg to fd with SIGPIPE held back (sendmail may exit
 * early: that is its exit status, not a signal to the command).  MT_OK
 * or MT_EIO. */
static int write_all(int fd, const struct buf *msg)
{
	sigset_t pipe_set, old;
	struct timespec zero = { 0, 0 };
	size_t off = 0;
	ssize_t w;
	int rc = MT_OK;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (off < msg->len) {
		w = write(fd, msg->data + off, msg->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = MT_EIO;
			break;
		}
		off += (size_t)w;
	}
	/* a SIGPIPE raised here is taken before the old mask returns */
	if (rc != MT_OK)
		while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* §5.3 through the local MTA: sendmail -oi -t (recipients from To:). */
static int net_mail(void *ctx, const char *rcpt, const struct buf *msg,
		    char *err, size_t errsz)
{
	int pfd[2], status = 0, rc;
	pid_t pid, w;

	if (pipe2(pfd, O_CLOEXEC) != 0) {
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		return MT_EIO;
	}
	pid = fork();
	if (pid == 0) {
		/* dup2 clears close-on-exec on the copy */
		if (dup2(pfd[0], STDIN_FILENO) == STDIN_FILENO)
			execl(REPORT_SENDMAIL, "sendmail", "-oi", "-t",
			      (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	if (pid < 0) {
		close(pfd[1]);
		snprintf(err, errsz, "fork: %s", strerror(errno));
		return MT_EIO;
	}
	rc = write_all(pfd[1], msg);
	close(pfd[1]);
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    rc != MT_OK) {
		snprintf(err, errsz, "sendmail failed");
		return MT_EIO;
	}
	return MT_OK;
}

/* RFC 8460 §3: the _smtp._tls TXT record; a temporary DNS failure is
 * not "no record". */
static int net_rua(void *ctx, const char *domain, struct tlsrpt_txt *rpt)
{
	struct report_net *n = ctx;
	char name[DOMAIN_BUFSZ + 16];
	struct dns_txt t;
	int rc;

	memset(&t, 0, sizeof(t));
	if (snprintf(name, sizeof(name), "_smtp._tls.%s", domain) >=
	    (int)sizeof(name))
		return MT_ENOTFOUND;
	rc = dns_txt(n->dns, name, &t);
	if (rc == MT_OK && t.status == DNS_TEMPFAIL)
		rc = MT_ETEMP;
	else if (rc == MT_OK &&
		 (t.status != DNS_ANSWER ||
		  txt_tlsrpt_select((const char *const *)t.rec, t.len, t.n, rpt,
				    NULL) != MT_OK))
		rc = MT_ENOTFOUND;
	else if (rc != MT_OK && rc != MT_ENOMEM)
		rc = MT_ETEMP;
	dns_txt_clear(&t);
	return rc;
}

int report_net_create(struct report_net **out, const struct config *cfg)
{
	struct report_net *n = mem_calloc(1, sizeof(*n));
	struct dns_opts o;
	int rc;

	*out = NULL;
	if (n == NULL)
		return MT_ENOMEM;
	n->cfg = cfg;
	dns_opts_from_config(&o, cfg);
	rc = dns_create(&n->dns, &o);
	if (rc == MT_OK)
		rc = fetch_global_init();
	if (rc != MT_OK) {
		report_net_destroy(n);
		return rc == MT_ENOMEM ? rc : MT_EINTERNAL;
	}
	fetch_opts_from_config(&n->fo, cfg, n->dns);
	/* one report POST: 60 s for everything, connect included */
	n->fo.total_timeout_ms = REPORT_POST_TIMEOUT_MS;
	n->fo.connect_timeout_ms = REPORT_POST_TIMEOUT_MS;
	n->fo.ca_add_system = 1;
	*out = n;
	return MT_OK;
}

void report_net_destroy(struct report_net *n)
{
	if (n == NULL)
		return;
	dns_destroy(n->dns);
	mem_free(n);
}

void report_net_sender(struct report_net *n, struct report_sender *s)
{
	memset(s, 0, sizeof(*s));
	s->post = net_post;
	s->mail = net_mail;
	s->rua = net_rua;
	s->ctx = n;
}
