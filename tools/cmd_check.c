/*
 * cmd_check.c - `mtasts check DOMAIN...`: audit a live MTA-STS deployment
 * the way a sending MTA will see it, and name every pitfall domain owners
 * meet:
 *
 *   txt       _mta-sts TXT: exactly one v=STSv1 record with a valid id
 *   fetch     https://mta-sts.DOMAIN/.well-known/mta-sts.txt: certificate
 *             (and how long it stays valid), redirects, status, content
 *             type, size (every §3.3 rule)
 *   policy    the policy file's syntax (the same parser the plugin uses),
 *             and whether it differs from the copy cached here under the
 *             same id (senders that cached it keep the old one)
 *   mx        every MX host of the domain covered by an mx: pattern, with
 *             the pattern to add when one is not
 *   mx-tls    every address of every MX host, probed as an enforcing
 *             sender connects (mxprobe.c: STARTTLS, TLS >= 1.2, chain,
 *             DNS-ID, dates); not with --no-mx-probe
 *   tlsrpt    _smtp._tls TXT (RFC 8460 §3), a warning when absent
 *
 * Every finding has a level (ok, info, warning, error), an area (the names
 * above) and a stable code: the parsers' diagnostic codes, or one of
 *   txt-ok txt-missing txt-tempfail txt-no-stsv1 txt-invalid txt-unannounced
 *   fetch-ok fetch-ERR (ERR as in fetch.h: dns, connect, tls, cert,
 *   timeout, redirect, status, content-type, too-big, internal)
 *   fetch-cert-expiring
 *   policy-ok policy-testing policy-invalid policy-outdated
 *   policy-cache-unread
 *   mx-covered mx-uncovered mx-none-covered mx-implicit mx-null mx-tempfail
 *   mx-tls-ok mx-connect-failed mx-timeout mx-smtp-error mx-smtp-protocol
 *   mx-starttls-missing mx-tls-version mx-tls-failed mx-cert-name-mismatch
 *   mx-cert-untrusted mx-cert-expired mx-cert-not-yet-valid
 *   mx-cert-expiring mx-no-address mx-dns-tempfail mx-port25-blocked
 *   mx-not-probed
 *   tlsrpt-ok tlsrpt-missing tlsrpt-tempfail tlsrpt-invalid
 * A missing TLS-RPT record is a warning; a published one that senders
 * cannot use is an error (its owner expects reports that never come).  An
 * MX address that fails a check an enforcing sender makes is an error
 * under mode enforce (mail to it is deferred) and a warning under testing
 * (reports will show it); a certificate ending within cert_expiry_warning
 * is a warning in every mode.
 *
 * Output: one line per finding (human), one JSON object per domain
 * (--json), or Prometheus text exposition for node-exporter's textfile
 * collector (--prometheus: per domain and check a pass/fail gauge, per MX
 * address a pass/fail gauge and the days left on its certificate).
 *
 * Exit status, by the worst finding of all domains: 0 nothing worse than
 * info, 3 warnings and no error, 1 at least one error; 2 usage errors and
 * local failures (a trust store that cannot be read).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cache.h"
#include "clock.h"
#include "cmd.h"
#include "diag.h"
#include "dns.h"
#include "fetch.h"
#include "json.h"
#include "mem.h"
#include "mxprobe.h"
#include "policy.h"
#include "status.h"
#include "txt.h"

enum finding { F_OK, F_WARN, F_ERROR, F_INFO };

static const char *const finding_names[] = {
	[F_OK] = "ok",
	[F_WARN] = "warning",
	[F_ERROR] = "error",
	[F_INFO] = "info",
};

enum area { A_TXT, A_FETCH, A_POLICY, A_MX, A_MXTLS, A_TLSRPT, A_N };

static const char *const area_names[A_N] = {
	[A_TXT] = "txt", [A_FETCH] = "fetch",  [A_POLICY] = "policy",
	[A_MX] = "mx",	 [A_MXTLS] = "mx-tls", [A_TLSRPT] = "tlsrpt",
};

/* Prometheus metric families, printed after every domain was checked (a
 * family's samples must stand together under one HELP and TYPE). */
enum family {
	P_CHECK_OK,
	P_ERRORS,
	P_WARNINGS,
	P_MX_TLS_OK,
	P_MX_CERT_DAYS,
	P_POLICY_CERT_DAYS,
	P_TIMESTAMP,
	P_N,
};

static const struct {
	const char *name, *help;
} families[P_N] = {
	[P_CHECK_OK] = { "mtasts_check_ok",
			 "1 when the check of the domain "
			 "found no error (warnings allowed), else 0" },
	[P_ERRORS] = { "mtasts_check_errors", "Error findings of mtasts "
					      "check for the domain" },
	[P_WARNINGS] = { "mtasts_check_warnings", "Warning findings of mtasts "
						  "check for the domain" },
	[P_MX_TLS_OK] = { "mtasts_mx_tls_ok",
			  "1 when the MX address passed "
			  "every check an enforcing MTA-STS sender makes, else 0" },
	[P_MX_CERT_DAYS] = { "mtasts_mx_cert_expiry_days",
			     "Whole days until "
			     "the MX address's certificate expires (negative: expired)" },
	[P_POLICY_CERT_DAYS] = { "mtasts_policy_cert_expiry_days",
				 "Whole days "
				 "until the policy host's certificate expires" },
	[P_TIMESTAMP] = { "mtasts_check_timestamp_seconds",
			  "When mtasts "
			  "check ran, seconds since the epoch" },
};

enum output { OUT_HUMAN, OUT_JSON, OUT_PROM };

/* At most this many MX addresses are probed per domain. */
#define PROBE_MAX 64
/* Consecutive addresses with no answer to the TCP connect (and none that
 * answered) after which outbound port 25 is taken for blocked. */
#define PROBE_BLOCKED_AFTER 3

struct check {
	enum output out;
	int no_probe;
	int local_err;		    /* exit 2 */
	unsigned any_err, any_warn; /* over every domain */
	const struct config *cfg;
	struct mxprobe *probe; /* made at the first probe */
	int probe_failed;
	int64_t now;
	/* the domain being checked */
	const char *domain;
	unsigned n_err, n_warn;
	unsigned area_seen[A_N], area_err[A_N];
	struct buf out_buf; /* JSON: the document */
	struct json j;
	struct buf prom[P_N]; /* Prometheus: samples by family */
};

static void report(struct check *c, enum finding f, enum area area,
		   const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void report(struct check *c, enum finding f, enum area area,
		   const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->area_seen[area]++;
	if (f == F_ERROR) {
		c->n_err++;
		c->area_err[area]++;
	}
	if (f == F_WARN)
		c->n_warn++;
	if (c->out == OUT_JSON) {
		json_object_begin(&c->j);
		json_key_string(&c->j, "check", area_names[area]);
		json_key_string(&c->j, "result", finding_names[f]);
		json_key_string(&c->j, "code", code);
		json_key_string(&c->j, "message", msg);
		json_object_end(&c->j);
	} else if (c->out == OUT_HUMAN) {
		printf("%-7s %-8s %s [%s]\n", finding_names[f],
		       area_names[area], msg, code);
	}
}

/* One Prometheus sample: name{labels} value, label values escaped (text
 * exposition format: backslash, double quote, line feed). */
static void prom_label(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, "%s%s=\"",
		   b->len && b->data[b->len - 1] != '{' ? "," : "", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			buf_adds(b, "\\n");
		else
			buf_add(b, v, 1);
	}
	buf_adds(b, "\"");
}

static void prom_sample(struct check *c, enum family f, const char *mx,
			const char *addr, const char *chk, long long value)
{
	struct buf *b = &c->prom[f];

	if (c->out != OUT_PROM)
		return;
	buf_printf(b, "%s{", families[f].name);
	prom_label(b, "domain", c->domain);
	if (chk != NULL)
		prom_label(b, "check", chk);
	if (mx != NULL)
		prom_label(b, "mx", mx);
	if (addr != NULL)
		prom_label(b, "address", addr);
	buf_printf(b, "} %lld\n", value);
}

static void day_str(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%d", &tm) == 0)
		snprintf(out, outsz, "?");
}

/* The parser's diagnostics as findings; with errors_as_warnings, an error
 * is only a warning (about a record the domain need not publish). */
static void report_diags(struct check *c, enum area area,
			 const struct diag_list *d, int errors_as_warnings)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *x = &d->v[i];
		enum finding f = x->sev == DIAG_ERROR && !errors_as_warnings ?
					 F_ERROR :
					 F_WARN;

		if (x->line)
			report(c, f, area, x->code, "line %u: %s", x->line,
			       x->msg);
		else
			report(c, f, area, x->code, "%s", x->msg);
	}
}

static void check_txt(struct check *c, struct dns *d, const char *domain,
		      struct sts_txt *txt, int *have_txt)
{
	char name[DOMAIN_BUFSZ + 16];
	struct dns_txt t;
	struct diag_list dl;
	int rc;

	*have_txt = 0;
	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	memset(&t, 0, sizeof(t));
	if (dns_txt(d, name, &t) != MT_OK || t.status == DNS_TEMPFAIL) {
		report(c, F_ERROR, A_TXT, "txt-tempfail",
		       "%s: DNS lookup failed temporarily "
		       "(SERVFAIL or timeout)%s",
		       name, t.sec == DNS_SEC_BOGUS ? ", DNSSEC bogus" : "");
		dns_txt_clear(&t);
		return;
	}
	if (t.status != DNS_ANSWER) {
		report(c, F_ERROR, A_TXT, "txt-missing",
		       "%s: %s: the domain does not publish "
		       "MTA-STS",
		       name,
		       t.status == DNS_NXDOMAIN ? "NXDOMAIN" : "no TXT record");
		dns_txt_clear(&t);
		return;
	}
	diag_init(&dl);
	rc = txt_sts_select((const char *const *)t.rec, t.len, t.n, txt, &dl);
	report_diags(c, A_TXT, &dl, 0);
	diag_free(&dl);
	if (rc == MT_OK) {
		*have_txt = 1;
		report(c, F_OK, A_TXT, "txt-ok", "%s: v=STSv1 id=%s%s", name,
		       txt->id,
		       t.sec == DNS_SEC_SECURE ? " (DNSSEC signed)" : "");
	} else if (rc == MT_ENOTFOUND) {
		report(c, F_ERROR, A_TXT, "txt-no-stsv1",
		       "%s: no record starts with v=STSv1", name);
	} else {
		report(c, F_ERROR, A_TXT, "txt-invalid",
		       "%s: senders ignore the domain's "
		       "policy: not exactly one valid v=STSv1 record",
		       name);
	}
	dns_txt_clear(&t);
}

static int check_policy(struct check *c, struct dns *d, const char *domain,
			struct policy *pol)
{
	struct fetch_opts fo;
	struct fetch_result fr;
	struct diag_list dl;
	char until[16] = "";
	int64_t days = 0;
	int rc;

	fetch_opts_from_config(&fo, c->cfg, d);
	memset(&fr, 0, sizeof(fr));
	rc = fetch_policy(domain, &fo, &fr);
	if (rc != MT_OK || fr.err != FETCH_OK) {
		char code[32];

		snprintf(code, sizeof(code), "fetch-%s",
			 rc != MT_OK ? "internal" : fetch_error_str(fr.err));
		report(c, F_ERROR, A_FETCH, code,
		       "https://mta-sts.%s/.well-known/mta-sts.txt: %s (%s)%s%s",
		       domain,
		       rc != MT_OK ? mt_strerror(rc) : fetch_error_str(fr.err),
		       rc != MT_OK ? "-" : fetch_error_tlsrpt(fr.err),
		       fr.detail[0] ? ": " : "", fr.detail);
		fetch_result_clear(&fr);
		return -1;
	}
	if (fr.cert_not_after != 0) {
		days = tlsverify_days_left(fr.cert_not_after, c->now);
		day_str(fr.cert_not_after, until, sizeof(until));
		prom_sample(c, P_POLICY_CERT_DAYS, NULL, NULL, NULL, days);
	}
	report(c, F_OK, A_FETCH, "fetch-ok",
	       "https://mta-sts.%s/.well-known/mta-sts.txt: "
	       "200, text/plain, %zu bytes, certificate valid%s%s%s%lld%s",
	       domain, fr.body_len, until[0] ? " until " : "", until,
	       until[0] ? " (" : "", (long long)days, until[0] ? " days)" : "");
	/* the policy host's certificate: once expired, no sender can fetch
	 * the policy (a cached one lives on until its max_age) */
	if (fr.cert_not_after != 0 &&
	    fr.cert_not_after - c->now < c->cfg->cert_expiry_warning)
		report(c, F_WARN, A_FETCH, "fetch-cert-expiring",
		       "the certificate of mta-sts.%s expires on %s, in %lld "
		       "day%s: renew it before senders can no longer fetch "
		       "the policy",
		       domain, until, (long long)days, days == 1 ? "" : "s");
	diag_init(&dl);
	/* the publisher's view: a pattern senders leave out is an error */
	rc = policy_lint(fr.body, fr.body_len, pol, &dl);
	report_diags(c, A_POLICY, &dl, 0);
	diag_free(&dl);
	fetch_result_clear(&fr);
	if (rc != MT_OK) {
		report(c, F_ERROR, A_POLICY, "policy-invalid",
		       "invalid: senders treat the domain "
		       "as having no policy");
		return -1;
	}
	report(c, F_OK, A_POLICY, "policy-ok",
	       "mode %s, max_age %u, %u mx pattern%s",
	       policy_mode_str(pol->mode), pol->max_age, pol->n_mx,
	       pol->n_mx == 1 ? "" : "s");
	if (pol->mode == POLICY_MODE_TESTING)
		report(c, F_INFO, A_POLICY, "policy-testing",
		       "mode testing: failures are "
		       "reported, mail is still delivered");
	return 0;
}

/* Append the patterns of blob a that are not in blob b to out, after
 * label; nothing when there is none. */
static void pattern_diff(struct buf *out, const char *label, const char *a,
			 uint32_t alen, const char *b, uint32_t blen)
{
	uint32_t it = 0;
	const char *pa;
	int n = 0;

	while ((pa = policy_mx_next(a, alen, &it)) != NULL) {
		uint32_t jt = 0;
		const char *pb;
		int found = 0;

		while (!found && (pb = policy_mx_next(b, blen, &jt)) != NULL)
			found = strcmp(pa, pb) == 0;
		if (!found)
			buf_printf(out, "%s%s", n++ ? " " : label, pa);
	}
}

/* The "outdated policy" pitfall: the policy served now differs from the
 * copy this host cached under the same TXT id.  Senders that cached the
 * old one do not refetch before the id changes (RFC 8461 §3.1: the id
 * tells them the policy changed), so the new one only reaches them when
 * the old one expires.  The cache is read, never created. */
static void check_cached(struct check *c, const char *domain, const char *id,
			 const struct policy *pol)
{
	struct cache *cache = NULL;
	struct cache_entry e;
	struct buf diff;
	int rc;

	rc = cache_open_flags(&cache, c->cfg->cache_path, c->cfg->cache_size,
			      CACHE_OPEN_NOCREATE);
	if (rc == MT_ENOTFOUND)
		return; /* nothing cached on this host */
	if (rc != MT_OK) {
		report(c, F_INFO, A_POLICY, "policy-cache-unread",
		       "the local cache %s cannot be read here (%s): the "
		       "policy was not compared with its cached copy (run "
		       "the check as the MTA's user)",
		       c->cfg->cache_path, mt_strerror(rc));
		return;
	}
	memset(&e, 0, sizeof(e));
	buf_init(&diff, 400);
	rc = cache_get(cache, domain, &e);
	if (rc == MT_OK && e.kind == CACHE_POLICY && strcmp(e.id, id) == 0) {
		if (e.mode != pol->mode || e.max_age != pol->max_age)
			buf_printf(&diff,
				   "; cached mode %s, max_age %u; "
				   "served mode %s, max_age %u",
				   policy_mode_str((enum policy_mode)e.mode),
				   e.max_age, policy_mode_str(pol->mode),
				   pol->max_age);
		pattern_diff(&diff, "; mx served, not cached: ", pol->mx,
			     pol->mx_len, e.mx, e.mx_len);
		pattern_diff(&diff, "; mx cached, no longer served: ", e.mx,
			     e.mx_len, pol->mx, pol->mx_len);
		if (diff.len > 0)
			report(c, F_WARN, A_POLICY, "policy-outdated",
			       "the policy served differs from the copy cached "
			       "here under the same id %s (%s): senders that "
			       "cached it keep it until it expires (max_age "
			       "%u), as only a new id makes them refetch: "
			       "publish the change with a new id",
			       id, diff.data + 2, e.max_age);
	}
	buf_free(&diff);
	cache_entry_clear(&e);
	cache_close(cache);
}

struct mx_list {
	struct dns_mx mx;
	size_t order[DNS_MAX_RECORDS]; /* by preference, then name */
};

/* What to add to the policy to cover host: the host itself, and a
 * wildcard when another MX host of the domain has the same parent (RFC
 * 8461 §4.1: "*" stands for one label). */
static void suggest(const struct mx_list *l, const char *host, char *out,
		    size_t outsz)
{
	const char *parent = strchr(host, '.');

	snprintf(out, outsz, "add \"mx: %s\" to the policy", host);
	if (parent == NULL || strchr(parent + 1, '.') == NULL)
		return;
	for (size_t i = 0; i < l->mx.n; i++) {
		const char *o = l->mx.host[i];
		const char *op = strchr(o, '.');

		if (strcmp(o, host) != 0 && op != NULL &&
		    strcmp(op, parent) == 0) {
			snprintf(out, outsz,
				 "add \"mx: %s\" (or \"mx: *%s\") "
				 "to the policy",
				 host, parent);
			return;
		}
	}
}

static void check_mx(struct check *c, struct dns *d, const char *domain,
		     const struct policy *pol, struct mx_list *l)
{
	struct dns_mx *mx = &l->mx;
	unsigned uncovered = 0;
	char hint[2 * DOMAIN_BUFSZ + 64];

	memset(mx, 0, sizeof(*mx));
	if (dns_mx(d, domain, mx) != MT_OK || mx->status == DNS_TEMPFAIL) {
		report(c, F_ERROR, A_MX, "mx-tempfail",
		       "MX lookup for %s failed temporarily", domain);
		mx->n = 0;
		return;
	}
	if (mx->status != DNS_ANSWER || mx->n == 0) {
		mx->n = 1;
		mx->pref[0] = 0;
		snprintf(mx->host[0], sizeof(mx->host[0]), "%s", domain);
		report(c, F_INFO, A_MX, "mx-implicit",
		       "no MX records: the domain itself is "
		       "the implicit MX");
	}
	/* by preference, then name: the order senders try them in, and the
	 * same output whatever order the DNS answer had */
	for (size_t k = 0; k < mx->n; k++) {
		size_t m = k;

		while (m > 0 &&
		       (mx->pref[l->order[m - 1]] > mx->pref[k] ||
			(mx->pref[l->order[m - 1]] == mx->pref[k] &&
			 strcmp(mx->host[l->order[m - 1]], mx->host[k]) > 0))) {
			l->order[m] = l->order[m - 1];
			m--;
		}
		l->order[m] = k;
	}
	for (size_t k = 0; k < mx->n; k++) {
		size_t i = l->order[k];

		if (mx->host[i][0] == '\0') {
			report(c, F_INFO, A_MX, "mx-null",
			       "null MX: the domain accepts no mail");
			continue;
		}
		if (policy_mx_matches(pol->mx, pol->mx_len, mx->host[i])) {
			report(c, F_OK, A_MX, "mx-covered",
			       "%s (preference %u) is covered", mx->host[i],
			       mx->pref[i]);
		} else {
			uncovered++;
			suggest(l, mx->host[i], hint, sizeof(hint));
			report(c,
			       pol->mode == POLICY_MODE_ENFORCE ? F_ERROR :
								  F_WARN,
			       A_MX, "mx-uncovered",
			       "%s (preference %u) matches no mx: pattern%s; "
			       "%s and publish it with a new id",
			       mx->host[i], mx->pref[i],
			       pol->mode == POLICY_MODE_ENFORCE ?
				       ": senders will refuse it" :
				       "",
			       hint);
		}
	}
	if (uncovered == mx->n && pol->mode == POLICY_MODE_ENFORCE)
		report(c, F_ERROR, A_MX, "mx-none-covered",
		       "no MX host is covered: mail to %s will "
		       "be deferred by every MTA-STS sender",
		       domain);
}

/* The certificate findings of one probed address; 1 when all passed. */
static int report_cert(struct check *c, const char *where, const char *host,
		       const char *addr, const struct mxprobe_result *r,
		       enum finding bad)
{
	const struct tlsverify_chain *ch = &r->chain;
	char until[16];
	int64_t days;
	int ok = 1;

	if (r->cert_rc != MT_OK) {
		report(c, bad, A_MXTLS, "mx-cert-untrusted", "%s: %s", where,
		       r->cert_rc == MT_ENOTFOUND ?
			       "no certificate sent" :
			       "the certificate does not parse");
		return 0;
	}
	day_str(ch->not_after, until, sizeof(until));
	days = tlsverify_days_left(ch->not_after, c->now);
	prom_sample(c, P_MX_CERT_DAYS, host, addr, NULL, days);
	/* RFC 8461 §4.2: a DNS-ID for the MX host; RFC 6125 §6.4.4's CN
	 * fallback is not taken */
	if (!r->dnsid_match) {
		ok = 0;
		report(c, bad, A_MXTLS, "mx-cert-name-mismatch",
		       "%s: no subjectAltName dNSName of the certificate "
		       "matches %s%s",
		       where, host,
		       r->cn_only ?
			       " (only its subject CN names the host, and MTA-STS "
			       "senders do not look there)" :
			       "");
	}
	if (!ch->trusted) {
		ok = 0;
		if (ch->self_signed)
			report(c, bad, A_MXTLS, "mx-cert-untrusted",
			       "%s: the certificate is self-signed", where);
		else
			report(c, bad, A_MXTLS, "mx-cert-untrusted",
			       "%s: the certificate does not chain to a "
			       "trusted root: %s",
			       where, ch->why);
	}
	if (ch->expired) {
		ok = 0;
		if (ch->not_after < c->now)
			report(c, bad, A_MXTLS, "mx-cert-expired",
			       "%s: the certificate expired on %s (%lld "
			       "day%s ago)",
			       where, until, (long long)-days,
			       days == -1 ? "" : "s");
		else
			report(c, bad, A_MXTLS, "mx-cert-expired",
			       "%s: a certificate of its chain has expired",
			       where);
	}
	if (ch->not_yet_valid) {
		ok = 0;
		report(c, bad, A_MXTLS, "mx-cert-not-yet-valid",
		       "%s: a certificate of its chain is not valid yet",
		       where);
	}
	if (ok && r->status == MXPROBE_OK)
		report(c, F_OK, A_MXTLS, "mx-tls-ok",
		       "%s: STARTTLS, %s, %s, certificate for %s, trusted, "
		       "valid until %s (%lld days)",
		       where, r->protocol, r->cipher, host, until,
		       (long long)days);
	if (!ch->expired &&
	    ch->not_after - c->now < c->cfg->cert_expiry_warning)
		report(c, F_WARN, A_MXTLS, "mx-cert-expiring",
		       "%s: the certificate expires on %s, in %lld day%s",
		       where, until, (long long)days, days == 1 ? "" : "s");
	return ok;
}

/* An IPv6 address this host has no route to: a limit of where the check
 * runs (senders without IPv6 use the IPv4 addresses), not of the MX. */
static int no_ipv6_here(int family, const struct mxprobe_result *r)
{
	return family == AF_INET6 && r->status == MXPROBE_CONNECT &&
	       (r->err == ENETUNREACH || r->err == EADDRNOTAVAIL ||
		r->err == EAFNOSUPPORT);
}

/* The findings of one probed address. */
static void report_probe(struct check *c, const char *host, const char *addr,
			 int family, const struct mxprobe_result *r,
			 enum finding bad)
{
	char where[DOMAIN_BUFSZ + DNS_ADDRSTRLEN + 4];
	int secs = (int)(c->cfg->mx_probe_timeout_ms / 1000);
	int ok = 0;

	snprintf(where, sizeof(where), "%s [%s]", host, addr);
	if (no_ipv6_here(family, r)) {
		report(c, F_INFO, A_MXTLS, "mx-not-probed",
		       "%s: no IPv6 "
		       "route from here (%s): not probed",
		       where, strerror(r->err));
		return;
	}
	switch (r->status) {
	case MXPROBE_OK:
		ok = 1;
		break;
	case MXPROBE_CONNECT:
		if (r->err == 0)
			report(c, bad, A_MXTLS, "mx-connect-failed",
			       "%s: port 25: no answer to the TCP connect "
			       "within %d s (filtered?)",
			       where, secs);
		else
			report(c, bad, A_MXTLS, "mx-connect-failed",
			       "%s: port 25: %s", where, strerror(r->err));
		break;
	case MXPROBE_TIMEOUT:
		report(c, bad, A_MXTLS, "mx-timeout",
		       "%s: %s "
		       "(mx_probe_timeout %d s): senders give up on it",
		       where, r->detail, secs);
		break;
	case MXPROBE_SMTP:
		report(c, bad, A_MXTLS, "mx-smtp-error", "%s: %s", where,
		       r->detail);
		break;
	case MXPROBE_PROTOCOL:
		report(c, bad, A_MXTLS, "mx-smtp-protocol", "%s: %s", where,
		       r->detail);
		break;
	case MXPROBE_NO_STARTTLS:
		report(c, bad, A_MXTLS, "mx-starttls-missing",
		       "%s: STARTTLS is not offered: MTA-STS senders cannot "
		       "use TLS with it",
		       where);
		break;
	case MXPROBE_TLS_VERSION:
		report(c, bad, A_MXTLS, "mx-tls-version",
		       "%s: no TLS 1.2 or later (RFC 8461 §4.2): %s", where,
		       r->detail);
		break;
	case MXPROBE_TLS:
		report(c, bad, A_MXTLS, "mx-tls-failed",
		       "%s: TLS handshake failed: %s", where, r->detail);
		break;
	case MXPROBE_LOCAL:
		c->local_err = 1;
		fprintf(stderr, "mtasts check: %s: %s\n", where, r->detail);
		return;
	}
	if (r->tls && !report_cert(c, where, host, addr, r, bad))
		ok = 0;
	prom_sample(c, P_MX_TLS_OK, host, addr, NULL, ok);
}

/* Address order: IPv6 first (RFC 8305 §4), then by value, so the output
 * does not depend on the order of the DNS answer. */
static int addr_cmp(const struct dns_addr *a, size_t i, size_t k)
{
	unsigned char x[16], y[16];
	size_t n = a->family[i] == AF_INET6 ? 16 : 4;

	if (a->family[i] != a->family[k])
		return a->family[i] == AF_INET6 ? -1 : 1;
	if (inet_pton(a->family[i], a->addr[i], x) != 1 ||
	    inet_pton(a->family[k], a->addr[k], y) != 1)
		return strcmp(a->addr[i], a->addr[k]);
	return memcmp(x, y, n);
}

static void addr_sort(const struct dns_addr *a, size_t *order)
{
	for (size_t k = 0; k < a->n; k++) {
		size_t m = k;

		while (m > 0 && addr_cmp(a, order[m - 1], k) > 0) {
			order[m] = order[m - 1];
			m--;
		}
		order[m] = k;
	}
}

/* Every address of every MX host, in the order senders try them. */
static void probe_mx(struct check *c, struct dns *d, const struct mx_list *l,
		     const struct policy *pol)
{
	enum finding bad = pol->mode == POLICY_MODE_ENFORCE ? F_ERROR : F_WARN;
	unsigned probed = 0, answered = 0, silent = 0, skipped = 0;
	struct mxprobe_opts po;
	static struct dns_addr a;
	size_t order[DNS_MAX_RECORDS];
	struct mxprobe_result r;
	int rc;

	if (c->probe == NULL && !c->probe_failed) {
		memset(&po, 0, sizeof(po));
		po.ca_file = c->cfg->ca_file[0] ? c->cfg->ca_file : NULL;
		po.timeout_ms = (int)c->cfg->mx_probe_timeout_ms;
		rc = mxprobe_create(&c->probe, &po);
		if (rc != MT_OK) {
			fprintf(stderr,
				"mtasts check: MX probe: trust store "
				"%s: %s\n",
				po.ca_file ? po.ca_file : "(system)",
				mt_strerror(rc));
			c->probe_failed = 1;
		}
	}
	if (c->probe == NULL) {
		c->local_err = 1;
		return;
	}
	for (size_t k = 0; k < l->mx.n; k++) {
		const char *host = l->mx.host[l->order[k]];

		if (host[0] == '\0')
			continue; /* null MX */
		memset(&a, 0, sizeof(a));
		rc = dns_addr(d, host, (int)c->cfg->dns_timeout_ms, &a);
		if (rc != MT_OK || a.status == DNS_TEMPFAIL) {
			report(c, F_WARN, A_MXTLS, "mx-dns-tempfail",
			       "%s: the address lookup failed temporarily: "
			       "not probed",
			       host);
			continue;
		}
		if (a.n == 0) {
			report(c, bad, A_MXTLS, "mx-no-address",
			       "%s has no A or AAAA record: senders cannot "
			       "deliver to it",
			       host);
			continue;
		}
		addr_sort(&a, order);
		for (size_t j = 0; j < a.n; j++) {
			size_t i = order[j];

			if (probed == PROBE_MAX ||
			    (answered == 0 && silent >= PROBE_BLOCKED_AFTER)) {
				skipped++;
				continue;
			}
			rc = mxprobe_run(c->probe, host, a.addr[i], &r);
			probed++;
			if (rc != MT_OK) {
				c->local_err = 1;
				fprintf(stderr, "mtasts check: %s [%s]: %s\n",
					host, a.addr[i], mt_strerror(rc));
				continue;
			}
			if (no_ipv6_here(a.family[i], &r))
				; /* says nothing about port 25 */
			else if (r.status == MXPROBE_CONNECT &&
				 (r.err == 0 || r.err == EHOSTUNREACH ||
				  r.err == ENETUNREACH || r.err == EACCES ||
				  r.err == EPERM))
				silent++;
			else if (r.status != MXPROBE_CONNECT &&
				 r.status != MXPROBE_LOCAL)
				answered++;
			report_probe(c, host, a.addr[i], a.family[i], &r, bad);
		}
	}
	if (answered == 0 && silent > 0)
		report(c, F_WARN, A_MXTLS, "mx-port25-blocked",
		       "no MX address answered on port 25 (%u tried, %u with "
		       "no answer or unreachable): if outbound port 25 is "
		       "blocked here, check from another host or use "
		       "--no-mx-probe",
		       probed, silent);
	if (skipped > 0)
		report(c, F_INFO, A_MXTLS, "mx-not-probed",
		       "%u more address%s not probed%s", skipped,
		       skipped == 1 ? "" : "es",
		       probed == PROBE_MAX ? " (at most 64 per domain)" :
					     " (port 25 seems blocked)");
}

static void check_tlsrpt(struct check *c, struct dns *d, const char *domain)
{
	char name[DOMAIN_BUFSZ + 16];
	struct dns_txt t;
	struct tlsrpt_txt rpt;
	struct diag_list dl;
	int rc;

	snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	memset(&t, 0, sizeof(t));
	if (dns_txt(d, name, &t) != MT_OK || t.status == DNS_TEMPFAIL) {
		report(c, F_WARN, A_TLSRPT, "tlsrpt-tempfail",
		       "%s: DNS lookup failed temporarily", name);
		dns_txt_clear(&t);
		return;
	}
	if (t.status != DNS_ANSWER) {
		report(c, F_WARN, A_TLSRPT, "tlsrpt-missing",
		       "%s: no TLS-RPT record: you will not "
		       "hear about delivery failures (RFC 8460)",
		       name);
		dns_txt_clear(&t);
		return;
	}
	diag_init(&dl);
	rc = txt_tlsrpt_select((const char *const *)t.rec, t.len, t.n, &rpt,
			       &dl);
	/* no v=TLSRPTv1 record at all is the same as none: a warning */
	report_diags(c, A_TLSRPT, &dl, rc == MT_ENOTFOUND);
	diag_free(&dl);
	if (rc == MT_OK)
		report(c, F_OK, A_TLSRPT, "tlsrpt-ok",
		       "%s: %zu reporting address%s", name, rpt.n_rua,
		       rpt.n_rua == 1 ? "" : "es");
	else if (rc == MT_ENOTFOUND)
		report(c, F_WARN, A_TLSRPT, "tlsrpt-missing",
		       "%s: no record "
		       "starts with v=TLSRPTv1: you will not hear about "
		       "delivery failures (RFC 8460)",
		       name);
	else
		report(c, F_ERROR, A_TLSRPT, "tlsrpt-invalid",
		       "%s: not "
		       "exactly one valid v=TLSRPTv1 record: senders send no "
		       "reports",
		       name);
	dns_txt_clear(&t);
}

/* Every check of one domain, and its output. */
static void check_domain(struct check *c, struct dns *d, const char *domain)
{
	static struct mx_list l;
	struct sts_txt txt;
	struct policy pol;
	int have_txt = 0;

	c->domain = domain;
	c->n_err = c->n_warn = 0;
	memset(c->area_seen, 0, sizeof(c->area_seen));
	memset(c->area_err, 0, sizeof(c->area_err));
	memset(&pol, 0, sizeof(pol));
	memset(&txt, 0, sizeof(txt));
	if (c->out == OUT_JSON) {
		buf_reset(&c->out_buf);
		json_init(&c->j, &c->out_buf);
		json_object_begin(&c->j);
		json_key_string(&c->j, "domain", domain);
		json_key(&c->j, "findings");
		json_array_begin(&c->j);
	}

	check_txt(c, d, domain, &txt, &have_txt);
	if (check_policy(c, d, domain, &pol) == 0) {
		if (!have_txt)
			report(c, F_ERROR, A_TXT, "txt-unannounced",
			       "a policy is served but no valid TXT record "
			       "announces it: senders never fetch it");
		else
			check_cached(c, domain, txt.id, &pol);
		if (pol.mode != POLICY_MODE_NONE) {
			check_mx(c, d, domain, &pol, &l);
			if (!c->no_probe)
				probe_mx(c, d, &l, &pol);
		}
	}
	check_tlsrpt(c, d, domain);

	if (c->out == OUT_JSON) {
		json_array_end(&c->j);
		json_key_bool(&c->j, "ok", c->n_err == 0);
		json_key_int(&c->j, "errors", c->n_err);
		json_key_int(&c->j, "warnings", c->n_warn);
		json_object_end(&c->j);
		if (json_finish(&c->j) == MT_OK)
			printf("%s\n", c->out_buf.data);
		else
			c->local_err = 1;
	} else if (c->out == OUT_HUMAN) {
		printf("%s: %u error%s, %u warning%s\n", domain, c->n_err,
		       c->n_err == 1 ? "" : "s", c->n_warn,
		       c->n_warn == 1 ? "" : "s");
	} else {
		for (int a = 0; a < A_N; a++)
			if (c->area_seen[a])
				prom_sample(c, P_CHECK_OK, NULL, NULL,
					    area_names[a], c->area_err[a] == 0);
		prom_sample(c, P_ERRORS, NULL, NULL, NULL, c->n_err);
		prom_sample(c, P_WARNINGS, NULL, NULL, NULL, c->n_warn);
		prom_sample(c, P_TIMESTAMP, NULL, NULL, NULL, c->now);
	}
	c->any_err += c->n_err;
	c->any_warn += c->n_warn;
	policy_clear(&pol);
}

static void prom_print(struct check *c)
{
	for (int f = 0; f < P_N; f++) {
		if (c->prom[f].len == 0)
			continue;
		printf("# HELP %s %s\n# TYPE %s gauge\n%s", families[f].name,
		       families[f].help, families[f].name, c->prom[f].data);
	}
}

int cmd_check(int argc, char **argv, struct cmd_ctx *ctx)
{
	char(*domains)[DOMAIN_BUFSZ];
	struct check c;
	struct dns *d = NULL;
	struct dns_opts o;
	size_t nd = 0;
	int i, rc, status;

	memset(&c, 0, sizeof(c));
	c.cfg = &ctx->cfg;
	domains = mem_calloc((size_t)argc, sizeof(*domains));
	if (domains == NULL) {
		fprintf(stderr, "mtasts check: %s\n", mt_strerror(MT_ENOMEM));
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && c.out != OUT_PROM) {
			c.out = OUT_JSON;
		} else if (strcmp(argv[i], "--prometheus") == 0 &&
			   c.out != OUT_JSON) {
			c.out = OUT_PROM;
		} else if (strcmp(argv[i], "--no-mx-probe") == 0) {
			c.no_probe = 1;
		} else if (argv[i][0] == '-') {
			nd = 0;
			break;
		} else if (domain_normalise(argv[i], strlen(argv[i]),
					    domains[nd]) != MT_OK) {
			fprintf(stderr,
				"mtasts check: '%s' is not a valid "
				"domain\n",
				argv[i]);
			mem_free(domains);
			return 2;
		} else {
			nd++;
		}
	}
	if (nd == 0) {
		cmd_usage(stderr, "check");
		mem_free(domains);
		return 2;
	}
	dns_opts_from_config(&o, &ctx->cfg);
	rc = dns_create(&d, &o);
	if (rc == MT_OK)
		rc = fetch_global_init();
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts check: %s\n", mt_strerror(rc));
		dns_destroy(d);
		mem_free(domains);
		return 2;
	}
	c.now = clock_now();
	buf_init(&c.out_buf, 4 << 20);
	for (int f = 0; f < P_N; f++)
		buf_init(&c.prom[f], 16 << 20);

	for (size_t k = 0; k < nd; k++)
		check_domain(&c, d, domains[k]);
	if (c.out == OUT_PROM)
		prom_print(&c);

	status = c.local_err ? 2 : c.any_err ? 1 : c.any_warn ? 3 : 0;
	for (int f = 0; f < P_N; f++)
		buf_free(&c.prom[f]);
	buf_free(&c.out_buf);
	mxprobe_destroy(c.probe);
	dns_destroy(d);
	mem_free(domains);
	return status;
}
