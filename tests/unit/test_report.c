/*
 * test_report.c - TLS-RPT reports without a network: the identity
 * (submitter, organisation, contact, report-id), the day's aggregation
 * from the results file, the counts text a fleet host pushes (round trip,
 * merge, hostile input), the RFC 8460 §5.3 message, the delivery loop
 * over a sender that records what it is given (markers, retries, the
 * 24-hour window, claims), and the retention of old days.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "config.h"
#include "cunit_main.h"
#include "domain.h"
#include "mem.h"
#include "report.h"
#include "report_send.h"
#include "status.h"
#include "str.h"

/* 2026-11-28 00:00:00 UTC */
#define DAY 1795824000
#define NOON (DAY + 43200)

static char dir[64];

static void fresh_dir(struct config *cfg)
{
	char cmd[128];

	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CU_ASSERT_EQUAL(system(cmd), 0);
	}
	snprintf(dir, sizeof(dir), "/tmp/mtasts-test-report-%d", (int)getpid());
	CU_ASSERT_EQUAL(mkdir(dir, 0700), 0);
	config_defaults(cfg);
	snprintf(cfg->report_dir, sizeof(cfg->report_dir), "%s", dir);
	snprintf(cfg->report_org, sizeof(cfg->report_org), "Sender Org");
	snprintf(cfg->report_contact, sizeof(cfg->report_contact),
		 "tlsrpt@sender.example");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static int exists(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static void rec(const struct config *cfg, int64_t when, const char *domain,
		const char *mx, const char *ip, enum report_result r, int n)
{
	struct report_rec x;

	memset(&x, 0, sizeof(x));
	x.when = when;
	snprintf(x.domain, sizeof(x.domain), "%s", domain);
	snprintf(x.policy_type, sizeof(x.policy_type), "sts");
	snprintf(x.policy_id, sizeof(x.policy_id), "1");
	x.result = r;
	snprintf(x.mx_host, sizeof(x.mx_host), "%s", mx);
	snprintf(x.receiving_ip, sizeof(x.receiving_ip), "%s", ip);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(report_record(cfg, &x), MT_OK);
}

/* ------------------------------------------------------------------ */

static void t_ident(void)
{
	static const struct {
		const char *contact, *org, *mailname;
		const char *submitter, *want_org, *want_contact;
	} cases[] = {
		{ "tlsrpt@sender.example", "Sender Org", "mail.site.example",
		  "sender.example", "Sender Org", "tlsrpt@sender.example" },
		{ "", "mail.example.org", "mail.site.example",
		  "mail.example.org", "mail.example.org",
		  "postmaster@mail.example.org" },
		/* Debian's /etc/mailname when nothing names a domain */
		{ "postmaster", "Sender Org", "mx.site.example\n",
		  "mx.site.example", "Sender Org", "postmaster" },
		{ "", "", "Mail.Site.Example.\n",
		  "mail.site.example", "mail.site.example",
		  "postmaster@mail.site.example" },
		{ "x@", "", "mail.site.example",
		  "mail.site.example", "mail.site.example", "x@" },
		{ "a@bad..domain", "", "mail.site.example",
		  "mail.site.example", "mail.site.example", "a@bad..domain" },
	};
	struct report_ident id;
	struct config cfg;
	char mn[96];

	snprintf(mn, sizeof(mn), "/tmp/mtasts-test-mailname-%d", (int)getpid());
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		config_defaults(&cfg);
		snprintf(cfg.report_contact, sizeof(cfg.report_contact), "%s",
			 cases[i].contact);
		snprintf(cfg.report_org, sizeof(cfg.report_org), "%s",
			 cases[i].org);
		write_file(mn, cases[i].mailname);
		report_ident_init(&id, &cfg, mn);
		CU_ASSERT_STRING_EQUAL(id.submitter, cases[i].submitter);
		CU_ASSERT_STRING_EQUAL(id.org, cases[i].want_org);
		CU_ASSERT_STRING_EQUAL(id.contact, cases[i].want_contact);
	}
	unlink(mn);
}

/* No usable mail name: the host name (as a domain), else localhost. */
static void t_ident_hostname(void)
{
	static const char *const bad[] = { "not a name!\n", "", NULL };
	struct report_ident id;
	struct config cfg;
	char host[DOMAIN_BUFSZ + 1] = "", want[DOMAIN_BUFSZ], mn[96];

	if (gethostname(host, sizeof(host) - 1) != 0 ||
	    domain_normalise(host, strlen(host), want) != MT_OK)
		snprintf(want, sizeof(want), "localhost");
	snprintf(mn, sizeof(mn), "/tmp/mtasts-test-mailname-%d", (int)getpid());
	config_defaults(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (bad[i] != NULL)
			write_file(mn, bad[i]);
		else
			unlink(mn);
		report_ident_init(&id, &cfg, mn);
		CU_ASSERT_STRING_EQUAL(id.submitter, want);
		CU_ASSERT_STRING_EQUAL(id.org, want);
		CU_ASSERT_EQUAL(strncmp(id.contact, "postmaster@", 11), 0);
		CU_ASSERT_STRING_EQUAL(id.contact + 11, want);
	}
	/* never "localhost" when the host has a name */
	if (strcmp(want, "localhost") != 0)
		CU_ASSERT_STRING_NOT_EQUAL(id.submitter, "localhost");
	unlink(mn);
}

static void t_report_id(void)
{
	struct report_ident id;
	struct config cfg;
	char rid[600], small[20];

	config_defaults(&cfg);
	snprintf(cfg.report_contact, sizeof(cfg.report_contact), "%s",
		 "tlsrpt@sender.example");
	report_ident_init(&id, &cfg, NULL);
	CU_ASSERT_EQUAL(report_id(&id, "example.net", DAY, rid, sizeof(rid)),
			MT_OK);
	CU_ASSERT_STRING_EQUAL(rid, "2026-11-28_example.net@sender.example");
	CU_ASSERT_EQUAL(report_id(&id, "example.net", DAY, small,
				  sizeof(small)), MT_ETOOBIG);
}

static void t_parse_day(void)
{
	static const struct {
		const char *s;
		int rc;
		int64_t want;
	} cases[] = {
		{ "2026-11-28", MT_OK, DAY },
		{ "1970-01-01", MT_OK, 0 },
		{ "2024-02-29", MT_OK, 1709164800 },
		{ "2026-02-29", MT_EPARSE, 0 },	/* not a leap year */
		{ "2026-11-31", MT_EPARSE, 0 },
		{ "2026-13-01", MT_EPARSE, 0 },
		{ "2026-1-1", MT_EPARSE, 0 },
		{ "2026-11-28x", MT_EPARSE, 0 },
		{ "", MT_EPARSE, 0 },
	};
	char back[11];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int64_t t = -1;

		CU_ASSERT_EQUAL(report_parse_day(cases[i].s, &t), cases[i].rc);
		if (cases[i].rc == MT_OK) {
			CU_ASSERT_EQUAL(t, cases[i].want);
			report_day_str(t + 86399, back);
			CU_ASSERT_STRING_EQUAL(back, cases[i].s);
		}
	}
}

/* ------------------------------------------------------------------ */

static void t_aggregate(void)
{
	struct config cfg;
	struct report_day *d;
	struct report_ident id;
	struct buf js;
	char path[300], line[2000];
	uint64_t ok, failed;
	FILE *f;

	fresh_dir(&cfg);
	rec(&cfg, NOON, "b.example", "mx1.b.example", "192.0.2.1",
	    RESULT_SUCCESS, 5);
	rec(&cfg, NOON, "b.example", "mx2.b.example", "192.0.2.2",
	    RESULT_CERTIFICATE_EXPIRED, 2);
	rec(&cfg, NOON, "b.example", "mx2.b.example", "",
	    RESULT_STARTTLS_NOT_SUPPORTED, 1);
	rec(&cfg, NOON, "a.example", "mx.a.example", "", RESULT_SUCCESS, 3);
	/* another day's file is another day */
	rec(&cfg, NOON + 86400, "a.example", "mx.a.example", "",
	    RESULT_SUCCESS, 7);
	/* what a crashed writer or another program leaves: skipped */
	CU_ASSERT_EQUAL(report_day_path(&cfg, DAY, path, sizeof(path)), MT_OK);
	f = fopen(path, "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "1\tb.example\tsts\t1\tno-such-result\t-\t-\t-\t-\n");
	fprintf(f, "1\tb.example\tsts\t1\tsuccess\n");
	fprintf(f, "1\tb.example\tsts\t1\tsuccess\t-\t-\t-\t-\textra\n");
	fprintf(f, "1\tb.ex\x01mple\tsts\t1\tsuccess\t-\t-\t-\t-\n");
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	fprintf(f, "1\t%s\tsts\t1\tsuccess\t-\t-\t-\t-\n", line);
	fprintf(f, "1\tb.example\tsts\t1\tsuccess\t-\t-\t-");	/* torn */
	fclose(f);

	CU_ASSERT_EQUAL_FATAL(report_day_create(&d, DAY), MT_OK);
	CU_ASSERT_EQUAL(report_day_load_file(d, &cfg), MT_OK);
	CU_ASSERT_EQUAL(report_day_n_domains(d), 2);
	CU_ASSERT_STRING_EQUAL(report_day_domain(d, 0), "a.example");
	CU_ASSERT_STRING_EQUAL(report_day_domain(d, 1), "b.example");
	CU_ASSERT_PTR_NULL(report_day_domain(d, 2));
	report_day_totals(d, NULL, &ok, &failed);
	CU_ASSERT_EQUAL(ok, 8);
	CU_ASSERT_EQUAL(failed, 3);
	report_day_totals(d, "b.example", &ok, &failed);
	CU_ASSERT_EQUAL(ok, 5);
	CU_ASSERT_EQUAL(failed, 3);

	report_ident_init(&id, &cfg, NULL);
	buf_init(&js, 1 << 20);
	CU_ASSERT_EQUAL(report_day_json(d, &id, "b.example", NULL, &js), MT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data,
		"\"organization-name\":\"Sender Org\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data,
		"\"report-id\":\"2026-11-28_b.example@sender.example\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data,
		"\"start-datetime\":\"2026-11-28T00:00:00Z\","
		"\"end-datetime\":\"2026-11-28T23:59:59Z\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data,
		"\"total-successful-session-count\":5,"
		"\"total-failure-session-count\":3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data,
		"{\"result-type\":\"certificate-expired\","
		"\"receiving-mx-hostname\":\"mx2.b.example\","
		"\"receiving-ip\":\"192.0.2.2\",\"failed-session-count\":2}"));
	buf_reset(&js);
	CU_ASSERT_EQUAL(report_day_json(d, &id, "c.example", NULL, &js),
			MT_ENOTFOUND);
	buf_free(&js);
	report_day_destroy(d);

	/* a day without a file */
	CU_ASSERT_EQUAL_FATAL(report_day_create(&d, DAY - 86400), MT_OK);
	CU_ASSERT_EQUAL(report_day_load_file(d, &cfg), MT_ENOTFOUND);
	report_day_destroy(d);
}

/* Results recorded under "sts", "tlsa" (a DANE session: the policy domain
 * is the MX host's TLSA base domain, RFC 8460 §3) and "no-policy-found"
 * come back as those policy types (§4.4), each with its own counts. */
static void t_policy_types(void)
{
	static const struct {
		const char *domain, *type, *id;
		enum report_result res;
	} recs[] = {
		{ "mx.example.net", "tlsa", "", RESULT_SUCCESS },
		{ "mx.example.net", "tlsa", "", RESULT_SUCCESS },
		{ "mx.example.net", "tlsa", "", RESULT_DNSSEC_INVALID },
		{ "example.net", "sts", "id1", RESULT_VALIDATION_FAILURE },
		{ "example.org", "no-policy-found", "", RESULT_SUCCESS },
	};
	struct config cfg;
	struct report_day *d;
	struct report_ident id;
	struct buf js;

	fresh_dir(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(recs); i++) {
		struct report_rec r;

		memset(&r, 0, sizeof(r));
		r.when = NOON;
		snprintf(r.domain, sizeof(r.domain), "%s", recs[i].domain);
		snprintf(r.policy_type, sizeof(r.policy_type), "%s",
			 recs[i].type);
		snprintf(r.policy_id, sizeof(r.policy_id), "%s", recs[i].id);
		snprintf(r.mx_host, sizeof(r.mx_host), "mx.example.net");
		r.result = recs[i].res;
		CU_ASSERT_EQUAL(report_record(&cfg, &r), MT_OK);
	}
	CU_ASSERT_EQUAL_FATAL(report_day_create(&d, DAY), MT_OK);
	CU_ASSERT_EQUAL(report_day_load_file(d, &cfg), MT_OK);
	report_ident_init(&id, &cfg, NULL);
	buf_init(&js, 1 << 20);
	CU_ASSERT_EQUAL(report_day_json(d, &id, "mx.example.net", NULL, &js),
			MT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data, "\"policy-type\":\"tlsa\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data,
				      "\"total-successful-session-count\":2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data,
				      "\"result-type\":\"dnssec-invalid\""));
	CU_ASSERT_PTR_NULL(strstr(js.data, "no-policy-found"));
	buf_reset(&js);
	CU_ASSERT_EQUAL(report_day_json(d, &id, "example.net", NULL, &js),
			MT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data, "\"policy-type\":\"sts\""));
	CU_ASSERT_PTR_NULL(strstr(js.data, "tlsa"));
	buf_reset(&js);
	CU_ASSERT_EQUAL(report_day_json(d, &id, "example.org", NULL, &js),
			MT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data,
				      "\"policy-type\":\"no-policy-found\""));
	buf_free(&js);
	report_day_destroy(d);
}

/* What a host pushes is what the others merge: the same report, and two
 * hosts' counts add up. */
static void t_counts(void)
{
	struct config cfg;
	struct report_day *d, *m;
	struct report_ident id;
	struct buf c, j1, j2;
	uint64_t ok, failed;
	size_t skipped = 99;

	fresh_dir(&cfg);
	rec(&cfg, NOON, "b.example", "mx1.b.example", "192.0.2.1",
	    RESULT_SUCCESS, 5);
	rec(&cfg, NOON, "b.example", "mx2.b.example", "192.0.2.2",
	    RESULT_CERTIFICATE_EXPIRED, 2);
	rec(&cfg, NOON, "a.example", "mx.a.example", "", RESULT_SUCCESS, 3);
	CU_ASSERT_EQUAL_FATAL(report_day_create(&d, DAY), MT_OK);
	CU_ASSERT_EQUAL(report_day_load_file(d, &cfg), MT_OK);
	buf_init(&c, 1 << 20);
	CU_ASSERT_EQUAL(report_day_counts(d, &c), MT_OK);
	CU_ASSERT_EQUAL(strncmp(c.data, "mtasts-counts 1 2026-11-28\n", 27), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.data,
		"G\tb.example\tsts\t1\t5\t2\n"
		"D\tb.example\tsts\t1\tcertificate-expired\t-\tmx2.b.example\t"
		"192.0.2.2\t-\t2\n"));

	/* one host: the same report */
	report_ident_init(&id, &cfg, NULL);
	CU_ASSERT_EQUAL_FATAL(report_day_create(&m, DAY), MT_OK);
	CU_ASSERT_EQUAL(report_day_merge_counts(m, c.data, c.len, &skipped),
			MT_OK);
	CU_ASSERT_EQUAL(skipped, 0);
	buf_init(&j1, 1 << 20);
	buf_init(&j2, 1 << 20);
	CU_ASSERT_EQUAL(report_day_json(d, &id, "b.example", NULL, &j1), MT_OK);
	CU_ASSERT_EQUAL(report_day_json(m, &id, "b.example", NULL, &j2), MT_OK);
	CU_ASSERT_STRING_EQUAL(j1.data, j2.data);
	/* a second host with the same counts: everything doubles */
	CU_ASSERT_EQUAL(report_day_merge_counts(m, c.data, c.len, NULL), MT_OK);
	report_day_totals(m, NULL, &ok, &failed);
	CU_ASSERT_EQUAL(ok, 16);
	CU_ASSERT_EQUAL(failed, 4);
	buf_reset(&j2);
	CU_ASSERT_EQUAL(report_day_json(m, &id, "b.example", NULL, &j2), MT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(j2.data,
		"\"total-successful-session-count\":10,"
		"\"total-failure-session-count\":4"));
	CU_ASSERT_PTR_NOT_NULL(strstr(j2.data, "\"failed-session-count\":4"));
	CU_ASSERT_EQUAL(report_day_n_domains(m), 2);
	buf_free(&j1);
	buf_free(&j2);
	buf_free(&c);
	report_day_destroy(m);
	report_day_destroy(d);
}

static void t_counts_hostile(void)
{
	static const char head[] = "mtasts-counts 1 2026-11-28\n";
	static const struct {
		const char *text;
		int rc;
		size_t skipped;
		uint64_t ok, failed;
	} cases[] = {
		{ "", MT_EPARSE, 0, 0, 0 },
		{ "mtasts-counts 1 2026-11-27\nG\ta.example\tsts\t1\t1\t0\n",
		  MT_EPARSE, 0, 0, 0 },		/* another day */
		{ "mtasts-counts 2 2026-11-28\n", MT_EPARSE, 0, 0, 0 },
		{ "G\ta.example\tsts\t1\t3\t1\n", MT_OK, 0, 3, 1 },
		{ "G\ta.example\tsts\t1\t-3\t1\n", MT_OK, 1, 0, 0 },
		{ "G\ta.example\tsts\t1\t3\n", MT_OK, 1, 0, 0 },
		{ "G\ta.example\tsts\t1\t3\t1\t9\n", MT_OK, 1, 0, 0 },
		{ "G\ta.example\tsts\t1\t99999999999999\t1\n", MT_OK, 1, 0, 0 },
		{ "G\ta.ex\x7fmple\tsts\t1\t3\t1\n", MT_OK, 1, 0, 0 },
		{ "X\ta.example\tsts\t1\t3\t1\n", MT_OK, 1, 0, 0 },
		{ "G\ta.example\tsts\t1\t3\t1", MT_OK, 1, 0, 0 }, /* torn */
		{ "D\ta.example\tsts\t1\tsuccess\t-\t-\t-\t-\t2\n",
		  MT_OK, 1, 0, 0 },
		{ "D\ta.example\tsts\t1\tnope\t-\t-\t-\t-\t2\n",
		  MT_OK, 1, 0, 0 },
		{ "D\ta.example\tsts\t1\tdane-required\t-\t-\t-\t-\t0\n",
		  MT_OK, 1, 0, 0 },
		/* a detail adds no session (its policy's G line did) */
		{ "D\ta.example\tsts\t1\tdane-required\t-\t-\t-\t-\t2\n",
		  MT_OK, 0, 0, 0 },
		{ "G\t-\tsts\t1\t3\t1\n", MT_OK, 0, 0, 0 },
	};
	struct report_day *d;
	struct buf t;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t skipped = 77;
		uint64_t ok, failed;
		int rc;

		buf_init(&t, 1 << 16);
		if (strncmp(cases[i].text, "mtasts-counts", 13) != 0 &&
		    cases[i].text[0] != '\0')
			CU_ASSERT_EQUAL(buf_adds(&t, head), MT_OK);
		CU_ASSERT_EQUAL(buf_adds(&t, cases[i].text), MT_OK);
		CU_ASSERT_EQUAL_FATAL(report_day_create(&d, DAY), MT_OK);
		rc = report_day_merge_counts(d, t.data ? t.data : "", t.len,
					     &skipped);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc == MT_OK)
			CU_ASSERT_EQUAL(skipped, cases[i].skipped);
		report_day_totals(d, NULL, &ok, &failed);
		CU_ASSERT_EQUAL(ok, cases[i].ok);
		CU_ASSERT_EQUAL(failed, cases[i].failed);
		if (ok != cases[i].ok || rc != cases[i].rc)
			fprintf(stderr, "case %zu\n", i);
		report_day_destroy(d);
		buf_free(&t);
	}
}

/* Counts over the caps: failures beyond the detail cap still count. */
static void t_caps(void)
{
	struct report_day *d;
	struct buf t;
	uint64_t ok, failed;

	buf_init(&t, 8 << 20);
	CU_ASSERT_EQUAL(buf_adds(&t, "mtasts-counts 1 2026-11-28\n"), MT_OK);
	CU_ASSERT_EQUAL(buf_printf(&t, "G\ta.example\tsts\t1\t0\t%d\n",
				   REPORT_DETAILS_MAX + 5), MT_OK);
	for (int i = 0; i < REPORT_DETAILS_MAX + 5; i++)
		CU_ASSERT_EQUAL(buf_printf(&t, "D\ta.example\tsts\t1\t"
			"validation-failure\t-\tmx%d.a.example\t-\t-\t1\n",
			i), MT_OK);
	for (int i = 0; i < REPORT_GROUPS_MAX + 3; i++)
		CU_ASSERT_EQUAL(buf_printf(&t,
			"G\tb.example\tsts\tid%d\t1\t0\n", i), MT_OK);
	CU_ASSERT_EQUAL_FATAL(report_day_create(&d, DAY), MT_OK);
	CU_ASSERT_EQUAL(report_day_merge_counts(d, t.data, t.len, NULL), MT_OK);
	report_day_totals(d, "a.example", &ok, &failed);
	CU_ASSERT_EQUAL(failed, REPORT_DETAILS_MAX + 5);
	report_day_totals(d, "b.example", &ok, &failed);
	CU_ASSERT_EQUAL(ok, REPORT_GROUPS_MAX);
	buf_reset(&t);
	CU_ASSERT_EQUAL(report_day_counts(d, &t), MT_OK);
	/* the cap holds in what is pushed on */
	{
		size_t n = 0;

		for (const char *p = t.data; (p = strstr(p, "\nD\t")); p++)
			n++;
		CU_ASSERT_EQUAL(n, REPORT_DETAILS_MAX);
	}
	report_day_destroy(d);
	buf_free(&t);
}

/* Many domains: the table grows, the order is by name. */
static void t_many_domains(void)
{
	struct report_day *d;
	struct buf t;
	char name[32];
	uint64_t ok, failed;

	buf_init(&t, 8 << 20);
	CU_ASSERT_EQUAL(buf_adds(&t, "mtasts-counts 1 2026-11-28\n"), MT_OK);
	for (int i = 4999; i >= 0; i--)
		CU_ASSERT_EQUAL(buf_printf(&t,
			"G\td%04d.example\tsts\t1\t1\t0\n", i), MT_OK);
	CU_ASSERT_EQUAL_FATAL(report_day_create(&d, DAY), MT_OK);
	CU_ASSERT_EQUAL(report_day_merge_counts(d, t.data, t.len, NULL), MT_OK);
	CU_ASSERT_EQUAL(report_day_merge_counts(d, t.data, t.len, NULL), MT_OK);
	CU_ASSERT_EQUAL(report_day_n_domains(d), 5000);
	for (size_t i = 0; i < 5000; i += 1249) {
		snprintf(name, sizeof(name), "d%04zu.example", i);
		CU_ASSERT_STRING_EQUAL(report_day_domain(d, i), name);
		report_day_totals(d, name, &ok, &failed);
		CU_ASSERT_EQUAL(ok, 2);
	}
	report_day_destroy(d);
	buf_free(&t);
}

/* Every allocation failing in turn: a status, never a crash or a leak
 * (valgrind and ASan watch the second part). */
static void t_oom(void)
{
	struct report_day *d = NULL;
	struct buf t;
	int rc = MT_ENOMEM;

	buf_init(&t, 1 << 20);
	CU_ASSERT_EQUAL(buf_adds(&t, "mtasts-counts 1 2026-11-28\n"
				 "G\ta.example\tsts\t1\t1\t2\n"
				 "D\ta.example\tsts\t1\tdane-required\t-\t-\t-"
				 "\t-\t2\nG\tb.example\tsts\t1\t1\t0\n"),
			MT_OK);
	for (long n = 0; n < 100 && rc == MT_ENOMEM; n++) {
		mem_fail_after(n);
		rc = report_day_create(&d, DAY);
		if (rc == MT_OK)
			rc = report_day_merge_counts(d, t.data, t.len, NULL);
		mem_fail_after(-1);
		CU_ASSERT(rc == MT_OK || rc == MT_ENOMEM);
		report_day_destroy(d);
		d = NULL;
	}
	CU_ASSERT_EQUAL(rc, MT_OK);
	buf_free(&t);
}

/* ------------------------------------------------------------------ */
/* the §5.3 message                                                   */

static int gunzip(const unsigned char *in, size_t n, struct buf *out)
{
	z_stream zs;
	unsigned char chunk[4096];
	int zrc;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -1;
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zrc = inflate(&zs, Z_NO_FLUSH);
		if (zrc != Z_OK && zrc != Z_STREAM_END)
			break;
		buf_add(out, chunk, sizeof(chunk) - zs.avail_out);
	} while (zrc != Z_STREAM_END);
	inflateEnd(&zs);
	return zrc == Z_STREAM_END ? 0 : -1;
}

static int b64val(char c)
{
	const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			"0123456789+/";
	const char *p = c ? strchr(t, c) : NULL;

	return p ? (int)(p - t) : -1;
}

/* Decode base64 lines up to the first line that is not base64. */
static void unbase64(const char *s, struct buf *out)
{
	unsigned v = 0;
	int bits = 0;

	for (; *s && *s != '-'; s++) {
		int x = b64val(*s);

		if (x < 0)
			continue;	/* newline, '=' */
		v = (v << 6) | (unsigned)x;
		bits += 6;
		if (bits >= 8) {
			unsigned char c = (unsigned char)(v >> (bits - 8));

			buf_add(out, &c, 1);
			bits -= 8;
		}
	}
}

static void t_mime(void)
{
	struct report_ident id;
	struct config cfg;
	struct buf gz, m, raw, plain;
	const char *json = "{\"organization-name\":\"Sender Org\"}";
	const char *p;
	static const char *const unsafe[] = {
		"a@b.example\nBcc: x@y", "a@b.example\r", "<a@b.example>",
		"\"a\"@b.example", "-oQ/tmp@b.example", "",
	};

	config_defaults(&cfg);
	snprintf(cfg.report_org, sizeof(cfg.report_org), "Sender Org");
	snprintf(cfg.report_contact, sizeof(cfg.report_contact),
		 "tlsrpt@sender.example");
	report_ident_init(&id, &cfg, NULL);
	buf_init(&gz, 1 << 20);
	buf_init(&m, 1 << 20);
	buf_init(&raw, 1 << 20);
	buf_init(&plain, 1 << 20);
	CU_ASSERT_EQUAL(report_gzip(json, strlen(json), &gz), MT_OK);
	CU_ASSERT_EQUAL(report_send_mime(&id, "rcpt.example",
					 "tlsrpt@rcpt.example", DAY,
					 DAY + 86400 + 3600, &gz, &m), MT_OK);
	/* RFC 8460 §5.3 headers, in this order */
	CU_ASSERT_EQUAL(strncmp(m.data,
		"From: tlsrpt@sender.example\n"
		"To: tlsrpt@rcpt.example\n"
		"Date: Sun, 29 Nov 2026 01:00:00 +0000\n"
		"Subject: Report Domain: rcpt.example "
		"Submitter: sender.example Report-ID: <2026-11-28_rcpt.example@sender.example>\n"
		"TLS-Report-Domain: rcpt.example\n"
		"TLS-Report-Submitter: sender.example\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=\"tlsrpt\";\n",
		strlen("From: tlsrpt@sender.example\n")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(m.data, "\nDate: Sun, 29 Nov 2026 "
				      "01:00:00 +0000\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.data, "\nSubject: Report Domain: "
		"rcpt.example Submitter: sender.example Report-ID: "
		"<2026-11-28_rcpt.example@sender.example>\n"
		"TLS-Report-Domain: rcpt.example\n"
		"TLS-Report-Submitter: sender.example\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=\"tlsrpt\";\n"));
	/* the report part: §5.3 media type, §5.1 file name */
	p = strstr(m.data, "\nContent-Type: application/tlsrpt+gzip\n"
		   "Content-Transfer-Encoding: base64\n"
		   "Content-Disposition: attachment;\n"
		   "\tfilename=\"sender.example!rcpt.example!1795824000!"
		   "1795910399.json.gz\"\n\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p = strstr(p, "\n\n") + 2;
	for (const char *l = p; *l != '-'; l = strchr(l, '\n') + 1)
		CU_ASSERT(strchr(l, '\n') - l <= 76);
	unbase64(p, &raw);
	CU_ASSERT_EQUAL(raw.len, gz.len);
	CU_ASSERT_EQUAL(gunzip((const unsigned char *)raw.data, raw.len,
			       &plain), 0);
	CU_ASSERT_STRING_EQUAL(plain.data, json);
	CU_ASSERT_PTR_NOT_NULL(strstr(m.data,
				      "\n--mtasts-tlsrpt-boundary--\n"));
	for (size_t i = 0; i < ARRAY_SIZE(unsafe); i++) {
		buf_reset(&m);
		CU_ASSERT_EQUAL(report_send_mime(&id, "rcpt.example", unsafe[i],
						 DAY, DAY, &gz, &m), MT_EINVAL);
	}
	buf_free(&gz);
	buf_free(&m);
	buf_free(&raw);
	buf_free(&plain);
}

/* ------------------------------------------------------------------ */
/* the delivery loop, through a sender that records what it is given   */

struct fake {
	/* per domain: which rua; a URI containing "down" fails, one
	 * containing "hang" fails until "heal" is set */
	int heal;
	int temp_dns;		/* d.example: DNS fails temporarily */
	int posts, mails;
	char last_uri[256];
	struct buf last_body;
	struct buf last_mail;
	char events[4096];
	char busy_domain[64];	/* claim() says EBUSY for this one */
};

static int f_post(void *ctx, const char *uri, const struct buf *gz,
		  char *err, size_t errsz)
{
	struct fake *f = ctx;

	f->posts++;
	snprintf(f->last_uri, sizeof(f->last_uri), "%s", uri);
	if (strstr(uri, "down") || (strstr(uri, "hang") && !f->heal)) {
		snprintf(err, errsz, "HTTP status 503");
		return MT_EFETCH;
	}
	buf_reset(&f->last_body);
	buf_add(&f->last_body, gz->data, gz->len);
	return MT_OK;
}

static int f_mail(void *ctx, const char *rcpt, const struct buf *msg,
		  char *err, size_t errsz)
{
	struct fake *f = ctx;

	f->mails++;
	buf_reset(&f->last_mail);
	buf_add(&f->last_mail, msg->data, msg->len);
	return MT_OK;
}

static int f_rua(void *ctx, const char *domain, struct tlsrpt_txt *rpt)
{
	struct fake *f = ctx;

	memset(rpt, 0, sizeof(*rpt));
	if (strcmp(domain, "a.example") == 0) {
		rpt->n_rua = 2;
		snprintf(rpt->rua[0].uri, sizeof(rpt->rua[0].uri),
			 "https://rua.a.example/ok");
		snprintf(rpt->rua[1].uri, sizeof(rpt->rua[1].uri),
			 "https://hang.a.example/x");
		rpt->rua[0].scheme = rpt->rua[1].scheme = TLSRPT_HTTPS;
		return MT_OK;
	}
	if (strcmp(domain, "b.example") == 0) {
		rpt->n_rua = 1;
		snprintf(rpt->rua[0].uri, sizeof(rpt->rua[0].uri),
			 "mailto:tlsrpt@b.example");
		rpt->rua[0].scheme = TLSRPT_MAILTO;
		return MT_OK;
	}
	if (strcmp(domain, "d.example") == 0 && f->temp_dns)
		return MT_ETEMP;
	if (strcmp(domain, "d.example") == 0) {
		rpt->n_rua = 1;
		snprintf(rpt->rua[0].uri, sizeof(rpt->rua[0].uri),
			 "https://down.d.example/");
		rpt->rua[0].scheme = TLSRPT_HTTPS;
		return MT_OK;
	}
	return MT_ENOTFOUND;
}

static void f_event(void *ctx, const struct report_event *ev)
{
	static const char *const k[] = {
		[REPORT_EV_SENT] = "sent", [REPORT_EV_FAILED] = "failed",
		[REPORT_EV_ALREADY] = "already", [REPORT_EV_NO_RECORD] = "none",
		[REPORT_EV_DNS_TEMP] = "dns-temp",
		[REPORT_EV_INVALID] = "invalid",
		[REPORT_EV_BUSY] = "busy", [REPORT_EV_DRY_RUN] = "dry",
		[REPORT_EV_ERROR] = "error", [REPORT_EV_GIVEN_UP] = "given-up",
	};
	struct fake *f = ctx;
	size_t n = strlen(f->events);

	snprintf(f->events + n, sizeof(f->events) - n, "%s%s:%s%s%s",
		 n ? " " : "", ev->domain ? ev->domain : "-", k[ev->kind],
		 ev->uri ? ":" : "", ev->uri ? ev->uri : "");
}

static int f_claim(void *ctx, const char *domain, char *holder, size_t n)
{
	struct fake *f = ((void **)ctx)[1];

	if (strcmp(domain, f->busy_domain) == 0) {
		snprintf(holder, n, "host-b");
		return MT_EBUSY;
	}
	return MT_OK;
}

static int f_get(void *ctx, const char *domain, const char *rua)
{
	const struct report_marks *inner = ((void **)ctx)[0];

	return inner->get(inner->ctx, domain, rua);
}

static int f_set(void *ctx, const char *domain, const char *rua,
		 const char *outcome)
{
	const struct report_marks *inner = ((void **)ctx)[0];

	return inner->set(inner->ctx, domain, rua, outcome);
}

static void run_day(const struct config *cfg, struct fake *f, int64_t now,
		    bool dry, const struct report_marks *marks,
		    struct report_tally *t)
{
	struct report_day *d;
	struct report_ident id;
	struct report_sender s = { f_post, f_mail, f_rua, f };
	struct report_run run;

	report_ident_init(&id, cfg, NULL);
	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	run.id = &id;
	run.now = now;
	run.dry_run = dry;
	run.send = &s;
	run.marks = marks;
	run.event = f_event;
	run.event_ctx = f;
	f->events[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(report_day_create(&d, DAY), MT_OK);
	CU_ASSERT_EQUAL(report_day_load_file(d, cfg), MT_OK);
	CU_ASSERT_EQUAL(report_send_day(&run, d, t), MT_OK);
	report_day_destroy(d);
}

static void t_deliver(void)
{
	struct config cfg;
	struct fake f;
	struct report_marks marks;
	struct report_marks_files files;
	struct report_tally t;
	struct buf plain;
	int64_t now = DAY + 86400 + 3600;	/* the next morning */

	fresh_dir(&cfg);
	memset(&f, 0, sizeof(f));
	buf_init(&f.last_body, 1 << 20);
	buf_init(&f.last_mail, 4 << 20);
	f.temp_dns = 1;
	rec(&cfg, NOON, "a.example", "mx.a.example", "", RESULT_SUCCESS, 2);
	rec(&cfg, NOON, "b.example", "mx.b.example", "",
	    RESULT_CERTIFICATE_NOT_TRUSTED, 4);
	rec(&cfg, NOON, "c.example", "mx.c.example", "", RESULT_SUCCESS, 1);
	rec(&cfg, NOON, "d.example", "mx.d.example", "", RESULT_SUCCESS, 1);
	rec(&cfg, NOON, "bad..name", "mx.d.example", "", RESULT_SUCCESS, 1);
	report_marks_local(&marks, &files, &cfg, DAY);

	/* dry run: every report built, nothing sent, nothing recorded */
	run_day(&cfg, &f, now, true, &marks, &t);
	CU_ASSERT_STRING_EQUAL(f.events, "a.example:dry b.example:dry "
			       "-:invalid c.example:dry d.example:dry");
	CU_ASSERT_EQUAL(f.posts + f.mails, 0);
	CU_ASSERT_FALSE(exists("results-2026-11-28.sent.c.example"));

	/* first run: a's second rua fails, d's DNS fails for now */
	run_day(&cfg, &f, now, false, &marks, &t);
	CU_ASSERT_STRING_EQUAL(f.events,
		"a.example:sent:https://rua.a.example/ok "
		"a.example:failed:https://hang.a.example/x "
		"b.example:sent:mailto:tlsrpt@b.example -:invalid "
		"c.example:none d.example:dns-temp");
	CU_ASSERT_EQUAL(t.done, 2);
	CU_ASSERT_EQUAL(t.pending, 2);
	CU_ASSERT_EQUAL(f.posts, 2);
	CU_ASSERT_EQUAL(f.mails, 1);
	CU_ASSERT_TRUE(exists("results-2026-11-28.sent.b.example"));
	CU_ASSERT_TRUE(exists("results-2026-11-28.sent.c.example"));
	CU_ASSERT_FALSE(exists("results-2026-11-28.sent.a.example"));
	CU_ASSERT_FALSE(exists("results-2026-11-28.sent.d.example"));
	CU_ASSERT_FALSE(exists("results-2026-11-28.sent.bad..name"));
	/* the mail carries b's report */
	CU_ASSERT_PTR_NOT_NULL(strstr(f.last_mail.data,
		"\nTLS-Report-Domain: b.example\n"));
	/* the POST body is a's report, gzip'ed */
	buf_init(&plain, 1 << 20);
	CU_ASSERT_EQUAL(gunzip((const unsigned char *)f.last_body.data,
			       f.last_body.len, &plain), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(plain.data,
		"\"policy-domain\":\"a.example\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(plain.data,
		"\"total-successful-session-count\":2"));
	buf_free(&plain);

	/* second run: the rua that took it is not sent again */
	f.heal = 1;
	f.temp_dns = 0;
	run_day(&cfg, &f, now + 3600, false, &marks, &t);
	CU_ASSERT_STRING_EQUAL(f.events,
		"a.example:already:https://rua.a.example/ok "
		"a.example:sent:https://hang.a.example/x -:invalid "
		"d.example:failed:https://down.d.example/");
	CU_ASSERT_EQUAL(f.posts, 4);
	CU_ASSERT_EQUAL(f.mails, 1);
	CU_ASSERT_TRUE(exists("results-2026-11-28.sent.a.example"));
	CU_ASSERT_EQUAL(t.pending, 1);

	/* within the window: still retried */
	run_day(&cfg, &f, DAY + 2 * 86400, false, &marks, &t);
	CU_ASSERT_STRING_EQUAL(f.events, "-:invalid "
			       "d.example:failed:https://down.d.example/");
	CU_ASSERT_EQUAL(t.pending, 1);
	CU_ASSERT_FALSE(exists("results-2026-11-28.sent.d.example"));
	/* §5.5: 24 hours after the day's end, the last try, then given up */
	run_day(&cfg, &f, DAY + 2 * 86400 + 1, false, &marks, &t);
	CU_ASSERT_STRING_EQUAL(f.events, "-:invalid "
			       "d.example:failed:https://down.d.example/ "
			       "d.example:given-up");
	CU_ASSERT_EQUAL(t.pending, 0);
	CU_ASSERT_EQUAL(t.done, 1);
	CU_ASSERT_TRUE(exists("results-2026-11-28.sent.d.example"));
	/* and then nothing at all */
	run_day(&cfg, &f, DAY + 3 * 86400, false, &marks, &t);
	CU_ASSERT_STRING_EQUAL(f.events, "-:invalid");
	CU_ASSERT_EQUAL(f.posts, 6);
	buf_free(&f.last_body);
	buf_free(&f.last_mail);
}

/* A store with claims: a report claimed by another sender is left to it. */
static void t_claim(void)
{
	struct config cfg;
	struct fake f;
	struct report_marks inner, outer;
	struct report_marks_files files;
	struct report_tally t;
	void *pair[2];

	fresh_dir(&cfg);
	memset(&f, 0, sizeof(f));
	buf_init(&f.last_body, 1 << 20);
	buf_init(&f.last_mail, 4 << 20);
	rec(&cfg, NOON, "b.example", "mx.b.example", "", RESULT_SUCCESS, 1);
	rec(&cfg, NOON, "c.example", "mx.c.example", "", RESULT_SUCCESS, 1);
	report_marks_local(&inner, &files, &cfg, DAY);
	pair[0] = &inner;
	pair[1] = &f;
	memset(&outer, 0, sizeof(outer));
	outer.get = f_get;
	outer.set = f_set;
	outer.claim = f_claim;
	outer.ctx = pair;
	snprintf(f.busy_domain, sizeof(f.busy_domain), "b.example");
	run_day(&cfg, &f, DAY + 86400 + 60, false, &outer, &t);
	CU_ASSERT_STRING_EQUAL(f.events, "b.example:busy c.example:none");
	CU_ASSERT_EQUAL(t.busy, 1);
	CU_ASSERT_EQUAL(t.done, 1);
	CU_ASSERT_EQUAL(f.mails, 0);
	f.busy_domain[0] = '\0';
	run_day(&cfg, &f, DAY + 86400 + 60, false, &outer, &t);
	CU_ASSERT_STRING_EQUAL(f.events,
			       "b.example:sent:mailto:tlsrpt@b.example");
	CU_ASSERT_EQUAL(f.mails, 1);
	buf_free(&f.last_body);
	buf_free(&f.last_mail);
}

/* ------------------------------------------------------------------ */

static void t_prune(void)
{
	struct config cfg;
	char p[300];
	size_t removed, kept;
	int64_t now = DAY + 20 * 86400 + 100;

	fresh_dir(&cfg);
	cfg.report_retention = 14 * 86400;
	/* 2026-11-28 ended 19 days before now: over; 2026-12-03 ended 14
	 * days and 100 s before now: over; 2026-12-04 within */
	rec(&cfg, NOON, "a.example", "mx", "", RESULT_SUCCESS, 1);
	rec(&cfg, NOON + 5 * 86400, "a.example", "mx", "", RESULT_SUCCESS, 1);
	rec(&cfg, NOON + 6 * 86400, "a.example", "mx", "", RESULT_SUCCESS, 1);
	snprintf(p, sizeof(p), "%s/results-2026-11-28.sent.a.example", dir);
	write_file(p, "sent\n");
	snprintf(p, sizeof(p), "%s/results-2026-11-28.notes", dir);
	write_file(p, "x");
	snprintf(p, sizeof(p), "%s/other-file", dir);
	write_file(p, "x");

	/* fleet: a day not pushed after its end is kept */
	CU_ASSERT_EQUAL(report_prune(&cfg, now, true, &removed, &kept), MT_OK);
	CU_ASSERT_EQUAL(removed, 0);
	CU_ASSERT_EQUAL(kept, 2);
	CU_ASSERT_FALSE(report_pushed_ok(&cfg, DAY));
	CU_ASSERT_EQUAL(report_pushed_mark(&cfg, DAY,
					report_results_size(&cfg, DAY)), MT_OK);
	CU_ASSERT_TRUE(report_pushed_ok(&cfg, DAY));
	CU_ASSERT_EQUAL(report_pushed_mark(&cfg, DAY + 5 * 86400,
		report_results_size(&cfg, DAY + 5 * 86400)), MT_OK);
	/* a record after the push: the marker no longer matches */
	rec(&cfg, NOON + 5 * 86400, "a.example", "mx", "", RESULT_SUCCESS, 1);
	CU_ASSERT_FALSE(report_pushed_ok(&cfg, DAY + 5 * 86400));
	CU_ASSERT_EQUAL(report_prune(&cfg, now, true, &removed, &kept), MT_OK);
	/* .tsv .sent.a.example .notes .pushed */
	CU_ASSERT_EQUAL(removed, 4);
	CU_ASSERT_EQUAL(kept, 1);
	CU_ASSERT_FALSE(exists("results-2026-11-28.tsv"));
	CU_ASSERT_FALSE(exists("results-2026-11-28.pushed"));
	CU_ASSERT_FALSE(exists("results-2026-11-28.sent.a.example"));
	CU_ASSERT_TRUE(exists("results-2026-12-03.tsv"));
	CU_ASSERT_TRUE(exists("results-2026-12-04.tsv"));
	CU_ASSERT_TRUE(exists("other-file"));
	/* local: retention alone */
	CU_ASSERT_EQUAL(report_prune(&cfg, now, false, &removed, &kept), MT_OK);
	CU_ASSERT_EQUAL(removed, 2);
	CU_ASSERT_EQUAL(kept, 0);
	CU_ASSERT_FALSE(exists("results-2026-12-03.tsv"));
	CU_ASSERT_TRUE(exists("results-2026-12-04.tsv"));
	/* no directory: nothing to do */
	snprintf(cfg.report_dir, sizeof(cfg.report_dir), "%s/none", dir);
	CU_ASSERT_EQUAL(report_prune(&cfg, now, false, &removed, &kept), MT_OK);
}

static CU_TestInfo tests[] = {
	{ "identity", t_ident },
	{ "identity from the host name", t_ident_hostname },
	{ "report-id", t_report_id },
	{ "days", t_parse_day },
	{ "aggregate a day's file", t_aggregate },
	{ "policy types sts, tlsa, no-policy-found", t_policy_types },
	{ "counts round trip and merge", t_counts },
	{ "counts from a hostile host", t_counts_hostile },
	{ "caps", t_caps },
	{ "many domains", t_many_domains },
	{ "out of memory", t_oom },
	{ "the RFC 8460 message", t_mime },
	{ "delivery, markers, retry window", t_deliver },
	{ "claims", t_claim },
	{ "retention", t_prune },
	CU_TEST_INFO_NULL,
};

static int cleanup(void)
{
	char cmd[128];

	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		return system(cmd) == 0 ? 0 : -1;
	}
	return 0;
}

int register_tests(void)
{
	CU_pSuite s = CU_add_suite("report", NULL, cleanup);

	if (s == NULL)
		return -1;
	for (CU_TestInfo *t = tests; t->pName; t++)
		if (CU_add_test(s, t->pName, t->pTestFunc) == NULL)
			return -1;
	return 0;
}
