/* test_report.c - the TLS-RPT report's identity: submitter and report-id. */
#include <string.h>

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

static CU_TestInfo tests[] = {
	{ "submitter", t_submitter },
	{ "report-id", t_report_id },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("report", tests);
	return 0;
}
