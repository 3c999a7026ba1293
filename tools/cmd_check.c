/*
 * cmd_check.c - `mtasts check DOMAIN`: audit a live MTA-STS deployment the
 * way a sending MTA will see it, and name every pitfall domain owners meet:
 *
 *   txt       _mta-sts TXT: exactly one v=STSv1 record with a valid id
 *   fetch     https://mta-sts.DOMAIN/.well-known/mta-sts.txt: certificate,
 *             redirects, status, content type, size (every §3.3 rule)
 *   policy    the policy file's syntax (the same parser the plugin uses)
 *   mx        every MX host of the domain covered by an mx: pattern
 *   tlsrpt    _smtp._tls TXT (RFC 8460 §3), a warning when absent
 *
 * Every finding has a level (ok, info, warning, error), an area (the names
 * above) and a stable code: the parsers' diagnostic codes, or one of
 *   txt-ok txt-missing txt-tempfail txt-no-stsv1 txt-invalid txt-unannounced
 *   fetch-ok fetch-ERR (ERR as in fetch.h: dns, connect, tls, cert,
 *   timeout, redirect, status, content-type, too-big, internal)
 *   policy-ok policy-testing policy-invalid
 *   mx-covered mx-uncovered mx-none-covered mx-implicit mx-null mx-tempfail
 *   tlsrpt-ok tlsrpt-missing tlsrpt-tempfail tlsrpt-invalid
 * A missing TLS-RPT record is a warning; a published one that senders
 * cannot use is an error (its owner expects reports that never come).
 *
 * Exit 0 when a sender would apply the policy and every MX is covered, 1 on
 * any error finding, 2 on usage errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "diag.h"
#include "dns.h"
#include "fetch.h"
#include "json.h"
#include "mem.h"
#include "policy.h"
#include "status.h"
#include "txt.h"

enum finding { F_OK, F_WARN, F_ERROR, F_INFO };

static const char *const finding_names[] = {
	[F_OK] = "ok", [F_WARN] = "warning", [F_ERROR] = "error", [F_INFO] = "info",
};

struct check {
	int json;
	unsigned n_err, n_warn;
	struct buf out;		/* JSON: the findings array */
	struct json j;
};

static void report(struct check *c, enum finding f, const char *area,
		   const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void report(struct check *c, enum finding f, const char *area,
		   const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f == F_ERROR)
		c->n_err++;
	if (f == F_WARN)
		c->n_warn++;
	if (c->json) {
		json_object_begin(&c->j);
		json_key_string(&c->j, "check", area);
		json_key_string(&c->j, "result", finding_names[f]);
		json_key_string(&c->j, "code", code);
		json_key_string(&c->j, "message", msg);
		json_object_end(&c->j);
	} else {
		printf("%-7s %-8s %s [%s]\n", finding_names[f], area, msg, code);
	}
}

/* The parser's diagnostics as findings; with errors_as_warnings, an error
 * is only a warning (about a record the domain need not publish). */
static void report_diags(struct check *c, const char *area,
			 const struct diag_list *d, int errors_as_warnings)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *x = &d->v[i];
		enum finding f = x->sev == DIAG_ERROR && !errors_as_warnings ?
				 F_ERROR : F_WARN;

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
		report(c, F_ERROR, "txt", "txt-tempfail",
		       "%s: DNS lookup failed temporarily "
		       "(SERVFAIL or timeout)%s", name,
		       t.sec == DNS_SEC_BOGUS ? ", DNSSEC bogus" : "");
		dns_txt_clear(&t);
		return;
	}
	if (t.status != DNS_ANSWER) {
		report(c, F_ERROR, "txt", "txt-missing",
		       "%s: %s: the domain does not publish "
		       "MTA-STS", name, t.status == DNS_NXDOMAIN ? "NXDOMAIN" :
		       "no TXT record");
		dns_txt_clear(&t);
		return;
	}
	diag_init(&dl);
	rc = txt_sts_select((const char *const *)t.rec, t.len, t.n, txt, &dl);
	report_diags(c, "txt", &dl, 0);
	diag_free(&dl);
	if (rc == MT_OK) {
		*have_txt = 1;
		report(c, F_OK, "txt", "txt-ok", "%s: v=STSv1 id=%s%s", name,
		       txt->id,
		       t.sec == DNS_SEC_SECURE ? " (DNSSEC signed)" : "");
	} else if (rc == MT_ENOTFOUND) {
		report(c, F_ERROR, "txt", "txt-no-stsv1",
		       "%s: no record starts with v=STSv1", name);
	} else {
		report(c, F_ERROR, "txt", "txt-invalid",
		       "%s: senders ignore the domain's "
		       "policy: not exactly one valid v=STSv1 record", name);
	}
	dns_txt_clear(&t);
}

static int check_policy(struct check *c, const struct config *cfg,
			struct dns *d, const char *domain, struct policy *pol)
{
	struct fetch_opts fo;
	struct fetch_result fr;
	struct diag_list dl;
	int rc;

	fetch_opts_from_config(&fo, cfg, d);
	memset(&fr, 0, sizeof(fr));
	rc = fetch_policy(domain, &fo, &fr);
	if (rc != MT_OK || fr.err != FETCH_OK) {
		char code[32];

		snprintf(code, sizeof(code), "fetch-%s", rc != MT_OK ?
			 "internal" : fetch_error_str(fr.err));
		report(c, F_ERROR, "fetch", code,
		       "https://mta-sts.%s/.well-known/mta-sts.txt: %s (%s)%s%s",
		       domain, rc != MT_OK ? mt_strerror(rc) :
		       fetch_error_str(fr.err), rc != MT_OK ? "-" :
		       fetch_error_tlsrpt(fr.err), fr.detail[0] ? ": " : "",
		       fr.detail);
		fetch_result_clear(&fr);
		return -1;
	}
	report(c, F_OK, "fetch", "fetch-ok",
	       "https://mta-sts.%s/.well-known/mta-sts.txt: "
	       "200, text/plain, %zu bytes, certificate valid", domain,
	       fr.body_len);
	diag_init(&dl);
	rc = policy_parse(fr.body, fr.body_len, pol, &dl);
	report_diags(c, "policy", &dl, 0);
	diag_free(&dl);
	fetch_result_clear(&fr);
	if (rc != MT_OK) {
		report(c, F_ERROR, "policy", "policy-invalid",
		       "invalid: senders treat the domain "
		       "as having no policy");
		return -1;
	}
	report(c, F_OK, "policy", "policy-ok",
	       "mode %s, max_age %u, %u mx pattern%s",
	       policy_mode_str(pol->mode), pol->max_age, pol->n_mx,
	       pol->n_mx == 1 ? "" : "s");
	if (pol->mode == POLICY_MODE_TESTING)
		report(c, F_INFO, "policy", "policy-testing",
		       "mode testing: failures are "
		       "reported, mail is still delivered");
	return 0;
}

static void check_mx(struct check *c, struct dns *d, const char *domain,
		     const struct policy *pol)
{
	static struct dns_mx mx;
	size_t order[DNS_MAX_RECORDS];
	unsigned uncovered = 0;

	memset(&mx, 0, sizeof(mx));
	if (dns_mx(d, domain, &mx) != MT_OK || mx.status == DNS_TEMPFAIL) {
		report(c, F_ERROR, "mx", "mx-tempfail",
		       "MX lookup for %s failed temporarily", domain);
		return;
	}
	if (mx.status != DNS_ANSWER || mx.n == 0) {
		mx.n = 1;
		mx.pref[0] = 0;
		snprintf(mx.host[0], sizeof(mx.host[0]), "%s", domain);
		report(c, F_INFO, "mx", "mx-implicit",
		       "no MX records: the domain itself is "
		       "the implicit MX");
	}
	/* by preference, then name: the order senders try them in, and the
	 * same output whatever order the DNS answer had */
	for (size_t k = 0; k < mx.n; k++) {
		size_t m = k;

		while (m > 0 && (mx.pref[order[m - 1]] > mx.pref[k] ||
				 (mx.pref[order[m - 1]] == mx.pref[k] &&
				  strcmp(mx.host[order[m - 1]], mx.host[k]) > 0))) {
			order[m] = order[m - 1];
			m--;
		}
		order[m] = k;
	}
	for (size_t k = 0; k < mx.n; k++) {
		size_t i = order[k];

		if (mx.host[i][0] == '\0') {
			report(c, F_INFO, "mx", "mx-null",
			       "null MX: the domain accepts no mail");
			continue;
		}
		if (policy_mx_matches(pol->mx, pol->mx_len, mx.host[i])) {
			report(c, F_OK, "mx", "mx-covered",
			       "%s (preference %u) is covered",
			       mx.host[i], mx.pref[i]);
		} else {
			uncovered++;
			report(c, pol->mode == POLICY_MODE_ENFORCE ? F_ERROR : F_WARN,
			       "mx", "mx-uncovered",
			       "%s (preference %u) matches no mx: pattern%s",
			       mx.host[i], mx.pref[i],
			       pol->mode == POLICY_MODE_ENFORCE ?
			       ": senders will refuse it" : "");
		}
	}
	if (uncovered == mx.n && pol->mode == POLICY_MODE_ENFORCE)
		report(c, F_ERROR, "mx", "mx-none-covered",
		       "no MX host is covered: mail to %s will "
		       "be deferred by every MTA-STS sender", domain);
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
		report(c, F_WARN, "tlsrpt", "tlsrpt-tempfail",
		       "%s: DNS lookup failed temporarily", name);
		dns_txt_clear(&t);
		return;
	}
	if (t.status != DNS_ANSWER) {
		report(c, F_WARN, "tlsrpt", "tlsrpt-missing",
		       "%s: no TLS-RPT record: you will not "
		       "hear about delivery failures (RFC 8460)", name);
		dns_txt_clear(&t);
		return;
	}
	diag_init(&dl);
	rc = txt_tlsrpt_select((const char *const *)t.rec, t.len, t.n, &rpt, &dl);
	/* no v=TLSRPTv1 record at all is the same as none: a warning */
	report_diags(c, "tlsrpt", &dl, rc == MT_ENOTFOUND);
	diag_free(&dl);
	if (rc == MT_OK)
		report(c, F_OK, "tlsrpt", "tlsrpt-ok",
		       "%s: %zu reporting address%s", name,
		       rpt.n_rua, rpt.n_rua == 1 ? "" : "es");
	else if (rc == MT_ENOTFOUND)
		report(c, F_WARN, "tlsrpt", "tlsrpt-missing", "%s: no record "
		       "starts with v=TLSRPTv1: you will not hear about "
		       "delivery failures (RFC 8460)", name);
	else
		report(c, F_ERROR, "tlsrpt", "tlsrpt-invalid", "%s: not "
		       "exactly one valid v=TLSRPTv1 record: senders send no "
		       "reports", name);
	dns_txt_clear(&t);
}

int cmd_check(int argc, char **argv, struct cmd_ctx *ctx)
{
	char domain[DOMAIN_BUFSZ];
	struct check c;
	struct dns *d = NULL;
	struct dns_opts o;
	struct sts_txt txt;
	struct policy pol;
	int i = 1, have_txt = 0, rc;

	memset(&c, 0, sizeof(c));
	memset(&pol, 0, sizeof(pol));
	if (i < argc && strcmp(argv[i], "--json") == 0) {
		c.json = 1;
		i++;
	}
	if (i + 1 != argc) {
		cmd_usage(stderr, "check");
		return 2;
	}
	if (domain_normalise(argv[i], strlen(argv[i]), domain) != MT_OK) {
		fprintf(stderr, "mtasts check: '%s' is not a valid domain\n", argv[i]);
		return 2;
	}
	dns_opts_from_config(&o, &ctx->cfg);
	rc = dns_create(&d, &o);
	if (rc == MT_OK)
		rc = fetch_global_init();
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts check: %s\n", mt_strerror(rc));
		dns_destroy(d);
		return 2;
	}
	buf_init(&c.out, 4 << 20);
	if (c.json) {
		json_init(&c.j, &c.out);
		json_object_begin(&c.j);
		json_key_string(&c.j, "domain", domain);
		json_key(&c.j, "findings");
		json_array_begin(&c.j);
	}

	check_txt(&c, d, domain, &txt, &have_txt);
	if (check_policy(&c, &ctx->cfg, d, domain, &pol) == 0) {
		if (!have_txt)
			report(&c, F_ERROR, "txt", "txt-unannounced",
			       "a policy is served but no valid TXT record "
			       "announces it: senders never fetch it");
		if (pol.mode != POLICY_MODE_NONE)
			check_mx(&c, d, domain, &pol);
	}
	check_tlsrpt(&c, d, domain);

	if (c.json) {
		json_array_end(&c.j);
		json_key_bool(&c.j, "ok", c.n_err == 0);
		json_key_int(&c.j, "errors", c.n_err);
		json_key_int(&c.j, "warnings", c.n_warn);
		json_object_end(&c.j);
		if (json_finish(&c.j) == MT_OK)
			printf("%s\n", c.out.data);
	} else {
		printf("%s: %u error%s, %u warning%s\n", domain, c.n_err,
		       c.n_err == 1 ? "" : "s", c.n_warn, c.n_warn == 1 ? "" : "s");
	}
	buf_free(&c.out);
	policy_clear(&pol);
	dns_destroy(d);
	return c.n_err ? 1 : 0;
}
