/*
 * cmd_report.c - `mtasts report`: build and send the TLS-RPT reports
 * (RFC 8460) of a finished UTC day.
 *
 *   mtasts report [--dry-run] [--day YYYY-MM-DD]
 *
 * For every policy domain with recorded results: the JSON report of §4.4,
 * gzip-compressed, delivered to every rua of _smtp._tls.<domain>:
 * https: by POST (application/tlsrpt+gzip, §5.2; the server is verified
 * against the system store and ca_file when set), mailto: through the
 * local MTA's sendmail (multipart/report; report-type=tlsrpt, §5.3).  A domain
 * whose reports all went out gets a marker file and is not sent again (with
 * several rua, each address that took the report gets one too);
 * failures are retried by later runs for 24 hours after the day ends.
 * --dry-run prints each report instead of sending it.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "clock.h"
#include "cmd.h"
#include "dns.h"
#include "domain.h"
#include "fetch.h"
#include "mem.h"
#include "report.h"
#include "status.h"
#include "txt.h"

#define SENDMAIL "/usr/sbin/sendmail"

static int parse_day(const char *s, int64_t *out)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static int post_https(const struct config *cfg, const char *uri,
		      const struct buf *gz, char *err, size_t errsz)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	long status = 0;
	CURLcode cc;

	if (c == NULL)
		return -1;
	h = curl_slist_append(h, "Content-Type: application/tlsrpt+gzip");
	curl_easy_setopt(c, CURLOPT_URL, uri);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* ca_file (a private CA of the site) on top of libcurl's system CA
	 * directory, which stays: collectors are mostly public hosts.  Once a
	 * day per domain, so the directory's load time does not matter. */
	if (cfg->ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, gz->data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)gz->len);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK) {
		snprintf(err, errsz, "%s", curl_easy_strerror(cc));
		return -1;
	}
	if (status < 200 || status > 299) {
		snprintf(err, errsz, "HTTP status %ld", status);
		return -1;
	}
	return 0;
}

static void base64(struct buf *out, const unsigned char *in, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, col = 0;

	for (i = 0; i + 2 < n + 2; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		char q[4];

		if (i >= n)
			break;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		buf_add(out, q, 4);
		col += 4;
		if (col >= 76) {
			buf_adds(out, "\n");
			col = 0;
		}
	}
	if (col)
		buf_adds(out, "\n");
}

static int send_mail(const struct config *cfg, const char *domain,
		     const char *rcpt, const char *report_id, int64_t day,
		     const struct buf *gz, char *err, size_t errsz)
{
	struct buf m;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	int pfd[2], status;
	pid_t pid;
	ssize_t w;
	size_t off = 0;
	const char *from = cfg->report_contact[0] ? cfg->report_contact :
				"postmaster";

	if (strpbrk(rcpt, "\r\n<>\"") != NULL || rcpt[0] == '-') {
		snprintf(err, errsz, "unsafe recipient");
		return -1;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_init(&m, 8 << 20);
	/* RFC 8460 §5.3 */
	buf_printf(&m, "From: %s\nTo: %s\nDate: %s\n"
		   "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\n"
		   "TLS-Report-Domain: %s\nTLS-Report-Submitter: %s\n"
		   "MIME-Version: 1.0\n"
		   "Content-Type: multipart/report; report-type=\"tlsrpt\";\n"
		   "\tboundary=\"mtasts-tlsrpt-boundary\"\n\n"
		   "--mtasts-tlsrpt-boundary\n"
		   "Content-Type: text/plain; charset=us-ascii\n\n"
		   "This is an aggregate TLS report from %s.\n\n"
		   "--mtasts-tlsrpt-boundary\n"
		   "Content-Type: application/tlsrpt+gzip\n"
		   "Content-Transfer-Encoding: base64\n"
		   "Content-Disposition: attachment;\n"
		   "\tfilename=\"%s!%s!%lld!%lld.json.gz\"\n\n",
		   from, rcpt, date, domain, report_submitter(cfg), report_id,
		   domain, report_submitter(cfg),
		   cfg->report_org[0] ? cfg->report_org : "mtasts",
		   report_submitter(cfg), domain, (long long)day,
		   (long long)day + 86399);
	base64(&m, (const unsigned char *)gz->data, gz->len);
	buf_adds(&m, "\n--mtasts-tlsrpt-boundary--\n");
	if (m.data == NULL || pipe(pfd) != 0) {
		buf_free(&m);
		snprintf(err, errsz, "cannot build message");
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(pfd[0], 0);
		close(pfd[0]);
		close(pfd[1]);
		execl(SENDMAIL, "sendmail", "-oi", "-t", (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	while (pid > 0 && off < m.len) {
		w = write(pfd[1], m.data + off, m.len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(pfd[1]);
	buf_free(&m);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		snprintf(err, errsz, "sendmail failed");
		return -1;
	}
	return 0;
}

static int marker_path(const struct config *cfg, int64_t day, const char *domain,
		       char *out, size_t n)
{
	char p[CONFIG_PATH_MAX + 32];
	char *slash;

	if (report_day_path(cfg, day, p, sizeof(p)) != MT_OK)
		return -1;
	slash = strrchr(p, '.');
	if (slash)
		*slash = '\0';
	return snprintf(out, n, "%s.sent.%s", p, domain) < (int)n ? 0 : -1;
}

/* The marker of one rua of a domain's report: a retry does not send
 * again to the addresses that already took it. */
static int rua_marker(const char *marker, const char *uri, char *out, size_t n)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
		h = (h ^ *p) * 16777619u;
	return snprintf(out, n, "%s.rua-%08x", marker, h) < (int)n ? 0 : -1;
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0)
		close(fd);
}

int cmd_report(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct buf names, js, gz;
	struct cache *cache = NULL;
	struct dns *d = NULL;
	struct dns_opts o;
	int64_t day, now = clock_now();
	size_t n = 0, off = 0;
	int dry = 0, rc, failures = 0;
	const char *dayarg = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			dry = 1;
		else if (strcmp(argv[i], "--day") == 0 && i + 1 < argc)
			dayarg = argv[++i];
		else {
			cmd_usage(stderr, "report");
			return 2;
		}
	}
	if (dayarg) {
		if (parse_day(dayarg, &day) != 0) {
			fprintf(stderr, "mtasts report: --day takes YYYY-MM-DD\n");
			return 2;
		}
	} else {
		day = (now / 86400 - 1) * 86400;	/* yesterday, UTC */
	}
	buf_init(&names, 1 << 20);
	rc = report_domains(&ctx->cfg, day, &names, &n);
	if (rc == MT_ENOTFOUND || (rc == MT_OK && n == 0)) {
		printf("no results recorded for that day\n");
		buf_free(&names);
		return 0;
	}
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts report: %s\n", mt_strerror(rc));
		buf_free(&names);
		return 2;
	}
	dns_opts_from_config(&o, &ctx->cfg);
	if (!dry && (dns_create(&d, &o) != MT_OK || fetch_global_init() != MT_OK)) {
		fprintf(stderr, "mtasts report: cannot set up DNS\n");
		buf_free(&names);
		return 2;
	}
	/* the cache only lends the policy-string: never create it here (a
	 * file made by this command would belong to its user, not the MTA's) */
	if (access(ctx->cfg.cache_path, F_OK) != 0 ||
	    cache_open(&cache, ctx->cfg.cache_path, ctx->cfg.cache_size) != MT_OK)
		cache = NULL;	/* reports without policy-string */

	for (size_t k = 0; k < n; k++) {
		const char *domain = names.data + off;
		struct report_policy_info info;
		struct cache_entry ce;
		char marker[CONFIG_PATH_MAX + 300], rid[2 * DOMAIN_BUFSZ + 300];
		char norm[DOMAIN_BUFSZ];
		int sent = 0, tried = 0;

		off += strlen(domain) + 1;
		/* the results file is data: a name that is not a normalised
		 * domain never reaches a marker path, DNS or a report */
		if (domain_normalise(domain, strlen(domain), norm) != MT_OK ||
		    strcmp(norm, domain) != 0) {
			fprintf(stderr, "mtasts report: skipping a record with "
				"an invalid domain\n");
			continue;
		}
		memset(&info, 0, sizeof(info));
		memset(&ce, 0, sizeof(ce));
		if (marker_path(&ctx->cfg, day, domain, marker, sizeof(marker)) == 0 &&
		    access(marker, F_OK) == 0 && !dry)
			continue;
		if (cache && cache_get(cache, domain, &ce) == MT_OK &&
		    ce.kind == CACHE_POLICY) {
			info.have = true;
			info.id = ce.id;
			info.mode = ce.mode;
			info.max_age = ce.max_age;
			info.mx = ce.mx;
			info.mx_len = ce.mx_len;
		}
		buf_init(&js, 16 << 20);
		buf_init(&gz, 16 << 20);
		rc = report_build_json(&ctx->cfg, domain, day, &info, &js);
		if (rc == MT_OK)
			rc = report_gzip(js.data, js.len, &gz);
		if (rc == MT_OK)
			rc = report_id(&ctx->cfg, domain, day, rid, sizeof(rid));
		if (rc != MT_OK) {
			fprintf(stderr, "mtasts report: %s: %s\n", domain, mt_strerror(rc));
			failures++;
		} else if (dry) {
			printf("%s\n", js.data);
		} else {
			char name[DOMAIN_BUFSZ + 16];
			struct dns_txt t;
			struct tlsrpt_txt rpt;

			snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
			memset(&t, 0, sizeof(t));
			if (dns_txt(d, name, &t) != MT_OK ||
			    t.status == DNS_TEMPFAIL) {
				/* not "no record": try again on a later run */
				printf("%s: %s: DNS lookup failed temporarily\n",
				       domain, name);
				tried++;
			} else if (t.status == DNS_ANSWER &&
			    txt_tlsrpt_select((const char *const *)t.rec, t.len, t.n,
					      &rpt, NULL) == MT_OK) {
				for (size_t r = 0; r < rpt.n_rua; r++) {
					char err[256] = "";
					char rm[sizeof(marker) + 16];
					int ok, have_rm;

					tried++;
					have_rm = rua_marker(marker, rpt.rua[r].uri,
							     rm, sizeof(rm)) == 0;
					if (have_rm && access(rm, F_OK) == 0) {
						printf("%s: %s already sent\n",
						       domain, rpt.rua[r].uri);
						sent++;
						continue;
					}
					if (rpt.rua[r].scheme == TLSRPT_HTTPS)
						ok = post_https(&ctx->cfg, rpt.rua[r].uri,
								&gz, err, sizeof(err)) == 0;
					else
						ok = send_mail(&ctx->cfg, domain,
							       rpt.rua[r].uri + 7, rid, day,
							       &gz, err, sizeof(err)) == 0;
					printf("%s: %s %s%s%s\n", domain, rpt.rua[r].uri,
					       ok ? "sent" : "failed",
					       ok ? "" : ": ", err);
					sent += ok;
					/* one address: the domain's marker
					 * says it all */
					if (ok && have_rm && rpt.n_rua > 1)
						touch(rm);
				}
			} else {
				printf("%s: no TLS-RPT record, nothing to send\n", domain);
			}
			dns_txt_clear(&t);
			/* done when all went out, or nothing to send, or the
			 * 24 h retry window is over */
			if (sent == tried || now > day + 2 * 86400) {
				touch(marker);
			} else {
				failures++;
			}
		}
		cache_entry_clear(&ce);
		buf_free(&js);
		buf_free(&gz);
	}
	cache_close(cache);
	dns_destroy(d);
	buf_free(&names);
	return failures ? 1 : 0;
}
