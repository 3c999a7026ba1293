/* test_report.c - the TLS-RPT report's identity: submitter and report-id;
 * the policy types of recorded results in the report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cunit_main.h"
#include "report.h"
#include "status.h"

static void t_submitter(void)
{
	static const struct {
		const char *contact, *org, *want;
	} cases[] = {
		{ "tlsrpt@sender.example", "Sender Org", "sender.example" },
		{ "postmaster", "mail.example.org", "mail.example.org" },
		{ "postmaster", "Sender Org", "localhost" },	/* no domain */
		{ "x@", "", "localhost" },
		{ "", "", "localhost" },
	};
	struct config cfg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_defaults(&cfg);
		snprintf(cfg.report_contact, sizeof(cfg.report_contact), "%s",
			 cases[i].contact);
		snprintf(cfg.report_org, sizeof(cfg.report_org), "%s",
			 cases[i].org);
		CU_ASSERT_STRING_EQUAL(report_submitter(&cfg), cases[i].want);
	}
}

static void t_report_id(void)
{
	struct config cfg;
	char id[600], small[20];

	config_defaults(&cfg);
	snprintf(cfg.report_contact, sizeof(cfg.report_contact), "%s",
		 "tlsrpt@sender.example");
	/* 2026-11-28 00:00:00 UTC */
	CU_ASSERT_EQUAL(report_id(&cfg, "example.net", 1795824000, id,
				  sizeof(id)), MT_OK);
	CU_ASSERT_STRING_EQUAL(id, "2026-11-28_example.net@sender.example");
	CU_ASSERT_EQUAL(report_id(&cfg, "example.net", 1795824000, small,
				  sizeof(small)), MT_ETOOBIG);
}

/* Results recorded under "sts", "tlsa" (a DANE session: the policy
 * domain is the MX host, RFC 8460 §3) and "no-policy-found" come back as
 * those policy types (§4.4), each with its own counts. */
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
	char dir[] = "/tmp/mtasts-test-report-XXXXXX", path[400];
	struct config cfg;
	struct buf js;
	const int64_t day = 1795824000;	/* 2026-11-28 */

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	config_defaults(&cfg);
	snprintf(cfg.report_dir, sizeof(cfg.report_dir), "%s", dir);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		struct report_rec r;

		memset(&r, 0, sizeof(r));
		r.when = day + 60;
		snprintf(r.domain, sizeof(r.domain), "%s", recs[i].domain);
		snprintf(r.policy_type, sizeof(r.policy_type), "%s",
			 recs[i].type);
		snprintf(r.policy_id, sizeof(r.policy_id), "%s", recs[i].id);
		snprintf(r.mx_host, sizeof(r.mx_host), "mx.example.net");
		r.result = recs[i].res;
		CU_ASSERT_EQUAL(report_record(&cfg, &r), MT_OK);
	}
	buf_init(&js, 1 << 20);
	CU_ASSERT_EQUAL(report_build_json(&cfg, "mx.example.net", day, NULL,
					  &js), MT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data, "\"policy-type\":\"tlsa\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data,
				      "\"total-successful-session-count\":2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data,
				      "\"result-type\":\"dnssec-invalid\""));
	CU_ASSERT_PTR_NULL(strstr(js.data, "no-policy-found"));
	buf_free(&js);
	buf_init(&js, 1 << 20);
	CU_ASSERT_EQUAL(report_build_json(&cfg, "example.net", day, NULL,
					  &js), MT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data, "\"policy-type\":\"sts\""));
	CU_ASSERT_PTR_NULL(strstr(js.data, "tlsa"));
	buf_free(&js);
	buf_init(&js, 1 << 20);
	CU_ASSERT_EQUAL(report_build_json(&cfg, "example.org", day, NULL,
					  &js), MT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(js.data,
				      "\"policy-type\":\"no-policy-found\""));
	buf_free(&js);
	CU_ASSERT_EQUAL(report_day_path(&cfg, day, path, sizeof(path)), MT_OK);
	unlink(path);
	rmdir(dir);
}

static CU_TestInfo tests[] = {
	{ "submitter", t_submitter },
	{ "report-id", t_report_id },
	{ "policy types", t_policy_types },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("report", tests);
	return 0;
}
