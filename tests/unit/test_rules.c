/*
 * test_rules.c - the engine's RFC 8461 rules (common/rules.c) as rows:
 * (what the cache holds, flags, the network's answers) -> (what to do,
 * the source, the reason, whether a failure is recorded).  Each row names
 * the clause it rests on.  Pure: no cache file, no DNS, no network.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "cunit_main.h"
#include "policy.h"
#include "rules.h"

#define NOW 1800000000
#define IVL 3600	/* txt_check_interval */

/* What the cache holds for the domain. */
enum held {
	H_NOTHING,	/* a miss */
	H_ENFORCE,	/* enforce policy id "a", fetched 100 s ago */
	H_ENF_STALE,	/* enforce "a", id last confirmed 2 h ago */
	H_ENF_EXPIRED,	/* enforce "a", past its max_age */
	H_TESTING,	/* testing "a", confirmed 10 s ago */
	H_MODE_NONE,	/* mode none "a", confirmed 10 s ago */
	H_NEGATIVE,	/* "no policy" until NOW + 600 */
	H_NEG_EXPIRED,	/* "no policy", expired */
	H_ENF_BACKOFF,	/* enforce "a", stale, a fetch of id "b" failed,
			 * retry after NOW + 200 */
	H_EMPTY_BACKOFF,/* nothing but a DNS failure's back-off */
	H_LOST,		/* a damaged entry of this domain, kept as lost */
};

enum step { S_PLAN, S_TXT, S_FETCH };

struct row {
	const char *label;
	enum held held;
	bool blind, no_cache;
	unsigned flags;
	enum step step;
	enum txt_result txt;	/* S_TXT */
	const char *id;		/* S_TXT, TXT_FOUND */
	bool fetch_ok;		/* S_FETCH */
	enum rules_act act;
	enum engine_source src;
	enum mt_reason reason;
	bool note_failure;
};

static void entry(enum held h, struct cache_entry *ce)
{
	memset(ce, 0, sizeof(*ce));
	snprintf(ce->domain, sizeof(ce->domain), "example.com");
	snprintf(ce->id, sizeof(ce->id), "a");
	ce->kind = CACHE_POLICY;
	ce->mode = POLICY_MODE_ENFORCE;
	ce->max_age = 86400;
	ce->fetched = NOW - 100;
	ce->expires = ce->fetched + 86400;
	ce->txt_checked = NOW - 10;
	switch (h) {
	case H_NOTHING:
	case H_ENFORCE:
		break;
	case H_ENF_STALE:
		ce->txt_checked = NOW - 7200;
		break;
	case H_ENF_EXPIRED:
		ce->fetched = NOW - 90000;
		ce->expires = ce->fetched + 86400;
		break;
	case H_TESTING:
		ce->mode = POLICY_MODE_TESTING;
		break;
	case H_MODE_NONE:
		ce->mode = POLICY_MODE_NONE;
		break;
	case H_NEGATIVE:
	case H_NEG_EXPIRED:
		ce->kind = CACHE_NEGATIVE;
		ce->mode = POLICY_MODE_NONE;
		ce->id[0] = '\0';
		ce->expires = h == H_NEGATIVE ? NOW + 600 : NOW - 1;
		break;
	case H_ENF_BACKOFF:
		ce->txt_checked = NOW - 7200;
		ce->fail_count = 1;
		ce->retry_after = NOW + 200;
		snprintf(ce->fail_id, sizeof(ce->fail_id), "b");
		break;
	case H_EMPTY_BACKOFF:
		ce->kind = CACHE_EMPTY;
		ce->id[0] = '\0';
		ce->fail_count = 1;
		ce->retry_after = NOW + 200;
		break;
	case H_LOST:
		ce->kind = CACHE_LOST;
		ce->id[0] = '\0';
		ce->fetched = 0;
		ce->expires = NOW + CACHE_LOST_TTL;
		break;
	}
}

#define RC RULES_BACKOFF_MIN
static const struct row rows[] = {
	/* --- rules_plan: what the cache allows without the network --- */
	{ "§5: fresh policy, id confirmed recently: cached",
	  H_ENFORCE, 0, 0, 0, S_PLAN, 0, 0, 0,
	  ACT_USE_POLICY, SOURCE_CACHE, R_CACHED, 0 },
	{ "§5.1: id check due: ask the TXT",
	  H_ENF_STALE, 0, 0, 0, S_PLAN, 0, 0, 0,
	  ACT_LOOKUP_TXT, SOURCE_NONE, R_NONE, 0 },
	{ "§5.1 before a deferral: confirmed 10 s ago is recent enough",
	  H_ENFORCE, 0, 0, ENGINE_RECHECK_SOON, S_PLAN, 0, 0, 0,
	  ACT_USE_POLICY, SOURCE_CACHE, R_CACHED, 0 },
	{ "explicit re-check: ask the TXT even when fresh",
	  H_ENFORCE, 0, 0, ENGINE_RECHECK, S_PLAN, 0, 0, 0,
	  ACT_LOOKUP_TXT, SOURCE_NONE, R_NONE, 0 },
	{ "§5: expired policy: as if nothing were cached",
	  H_ENF_EXPIRED, 0, 0, 0, S_PLAN, 0, 0, 0,
	  ACT_LOOKUP_TXT, SOURCE_NONE, R_NONE, 0 },
	{ "testing policy cached", H_TESTING, 0, 0, 0, S_PLAN, 0, 0, 0,
	  ACT_USE_POLICY, SOURCE_CACHE, R_CACHED, 0 },
	{ "mode none policy cached", H_MODE_NONE, 0, 0, 0, S_PLAN, 0, 0, 0,
	  ACT_USE_POLICY, SOURCE_CACHE, R_CACHED, 0 },
	{ "fresh negative answer", H_NEGATIVE, 0, 0, 0, S_PLAN, 0, 0, 0,
	  ACT_NONE, SOURCE_NEGATIVE, R_NO_POLICY, 0 },
	{ "expired negative answer: ask again",
	  H_NEG_EXPIRED, 0, 0, 0, S_PLAN, 0, 0, 0,
	  ACT_LOOKUP_TXT, SOURCE_NONE, R_NONE, 0 },
	{ "miss: ask the TXT", H_NOTHING, 0, 0, 0, S_PLAN, 0, 0, 0,
	  ACT_LOOKUP_TXT, SOURCE_NONE, R_NONE, 0 },
	{ "cache only, miss: none", H_NOTHING, 0, 0, ENGINE_NO_NETWORK,
	  S_PLAN, 0, 0, 0, ACT_NONE, SOURCE_NONE, R_NOT_CACHED, 0 },
	{ "cache only, stale policy still in force",
	  H_ENF_STALE, 0, 0, ENGINE_NO_NETWORK, S_PLAN, 0, 0, 0,
	  ACT_USE_POLICY, SOURCE_CACHE, R_CACHED, 0 },
	{ "§3.3 back-off: stale policy kept, no network",
	  H_ENF_BACKOFF, 0, 0, 0, S_PLAN, 0, 0, 0,
	  ACT_USE_POLICY, SOURCE_CACHE, R_CACHED_BACKOFF, 0 },
	{ "back-off with nothing cached: none",
	  H_EMPTY_BACKOFF, 0, 0, 0, S_PLAN, 0, 0, 0,
	  ACT_NONE, SOURCE_NONE, R_BACKOFF, 0 },
	{ "back-off holds for the §5.1 re-check before a deferral",
	  H_ENF_BACKOFF, 0, 0, ENGINE_RECHECK_SOON, S_PLAN, 0, 0, 0,
	  ACT_USE_POLICY, SOURCE_CACHE, R_CACHED_BACKOFF, 0 },
	{ "§10: unreadable entry, back-off: fail closed",
	  H_EMPTY_BACKOFF, 1, 0, 0, S_PLAN, 0, 0, 0,
	  ACT_FAIL_CLOSED, SOURCE_NONE, R_CACHE_UNAVAILABLE, 0 },
	{ "unreadable entry: ask the network",
	  H_NOTHING, 1, 0, 0, S_PLAN, 0, 0, 0,
	  ACT_LOOKUP_TXT, SOURCE_NONE, R_NONE, 0 },
	{ "lost entry, cache only: fail closed",
	  H_LOST, 0, 0, ENGINE_NO_NETWORK, S_PLAN, 0, 0, 0,
	  ACT_FAIL_CLOSED, SOURCE_NONE, R_CACHE_UNAVAILABLE, 0 },
	{ "no cache at all, cache only: fail closed",
	  H_NOTHING, 0, 1, ENGINE_NO_NETWORK, S_PLAN, 0, 0, 0,
	  ACT_FAIL_CLOSED, SOURCE_NONE, R_CACHE_UNAVAILABLE, 0 },

	/* --- rules_after_txt --- */
	{ "§5.1: same id: confirmed", H_ENF_STALE, 0, 0, 0, S_TXT,
	  TXT_FOUND, "a", 0, ACT_CONFIRM, SOURCE_CACHE, R_ID_UNCHANGED, 0 },
	{ "§5.1: new id: fetch", H_ENF_STALE, 0, 0, 0, S_TXT,
	  TXT_FOUND, "b", 0, ACT_FETCH, SOURCE_NONE, R_NONE, 0 },
	{ "renewal: same id, fetch anyway", H_ENF_STALE, 0, 0,
	  ENGINE_RECHECK | ENGINE_FORCE, S_TXT, TXT_FOUND, "a", 0,
	  ACT_FETCH, SOURCE_NONE, R_NONE, 0 },
	{ "miss, a record: fetch", H_NOTHING, 0, 0, 0, S_TXT,
	  TXT_FOUND, "a", 0, ACT_FETCH, SOURCE_NONE, R_NONE, 0 },
	{ "§3.3: the id whose fetch failed is not retried in the back-off",
	  H_ENF_BACKOFF, 0, 0, ENGINE_RECHECK, S_TXT, TXT_FOUND, "b", 0,
	  ACT_USE_POLICY, SOURCE_CACHE, R_CACHED_BACKOFF, 0 },
	{ "§3.3: a newer id is tried at once", H_ENF_BACKOFF, 0, 0,
	  ENGINE_RECHECK, S_TXT, TXT_FOUND, "c", 0,
	  ACT_FETCH, SOURCE_NONE, R_NONE, 0 },
	{ "§5: TXT temporary failure keeps the policy, backs off",
	  H_ENF_STALE, 0, 0, 0, S_TXT, TXT_TEMP, 0, 0,
	  ACT_USE_POLICY, SOURCE_CACHE, R_CACHED_DNS_TEMPFAIL, 1 },
	{ "TXT temporary failure, nothing cached: none, backs off",
	  H_NOTHING, 0, 0, 0, S_TXT, TXT_TEMP, 0, 0,
	  ACT_NONE, SOURCE_NONE, R_DNS_TEMPFAIL, 1 },
	{ "§10: TXT temporary failure, unreadable entry: fail closed",
	  H_NOTHING, 1, 0, 0, S_TXT, TXT_TEMP, 0, 0,
	  ACT_FAIL_CLOSED, SOURCE_NONE, R_CACHE_UNAVAILABLE, 1 },
	{ "§10: TXT temporary failure, no cache: fail closed",
	  H_NOTHING, 0, 1, 0, S_TXT, TXT_TEMP, 0, 0,
	  ACT_FAIL_CLOSED, SOURCE_NONE, R_CACHE_UNAVAILABLE, 1 },
	{ "§10.2: record gone, policy kept until it expires",
	  H_ENF_STALE, 0, 0, 0, S_TXT, TXT_ABSENT, 0, 0,
	  ACT_KEEP_NO_TXT, SOURCE_CACHE, R_CACHED_NO_TXT, 0 },
	{ "§3.1: no record, nothing cached: remember none",
	  H_NOTHING, 0, 0, 0, S_TXT, TXT_ABSENT, 0, 0,
	  ACT_STORE_NEGATIVE, SOURCE_FETCH, R_NO_TXT, 0 },
	{ "§10.2: no record, unreadable entry: fail closed",
	  H_NOTHING, 1, 0, 0, S_TXT, TXT_ABSENT, 0, 0,
	  ACT_FAIL_CLOSED, SOURCE_NONE, R_CACHE_UNAVAILABLE, 0 },
	{ "§10.2: no record, lost entry: fail closed",
	  H_LOST, 0, 0, 0, S_TXT, TXT_ABSENT, 0, 0,
	  ACT_FAIL_CLOSED, SOURCE_NONE, R_CACHE_UNAVAILABLE, 0 },
	{ "no record, no cache at all: as on a first contact",
	  H_NOTHING, 0, 1, 0, S_TXT, TXT_ABSENT, 0, 0,
	  ACT_STORE_NEGATIVE, SOURCE_FETCH, R_NO_TXT, 0 },
	{ "§10.2 refresh: TXT fails, renew over HTTPS anyway",
	  H_ENF_STALE, 0, 0, ENGINE_RECHECK | ENGINE_REFRESH, S_TXT,
	  TXT_TEMP, 0, 0, ACT_FETCH, SOURCE_NONE, R_DNS_TEMPFAIL, 0 },
	{ "§10.2 refresh: record gone, renew over HTTPS anyway",
	  H_ENF_STALE, 0, 0, ENGINE_RECHECK | ENGINE_REFRESH, S_TXT,
	  TXT_ABSENT, 0, 0, ACT_FETCH, SOURCE_NONE, R_NO_TXT, 0 },
	{ "refresh, record gone, nothing cached: remember none",
	  H_NOTHING, 0, 0, ENGINE_RECHECK | ENGINE_REFRESH, S_TXT,
	  TXT_ABSENT, 0, 0, ACT_STORE_NEGATIVE, SOURCE_FETCH, R_NO_TXT, 0 },

	/* --- rules_after_fetch --- */
	{ "fetched: store it", H_ENF_STALE, 0, 0, 0, S_FETCH, 0, 0, 1,
	  ACT_STORE_POLICY, SOURCE_FETCH, R_FETCHED, 0 },
	{ "fetched over an unreadable entry: store it (repair)",
	  H_NOTHING, 1, 0, 0, S_FETCH, 0, 0, 1,
	  ACT_STORE_POLICY, SOURCE_FETCH, R_FETCHED, 0 },
	{ "§5: failed refetch keeps the policy, backs off",
	  H_ENF_STALE, 0, 0, 0, S_FETCH, 0, 0, 0,
	  ACT_USE_POLICY, SOURCE_CACHE, R_CACHED_FETCH_FAILED, 1 },
	{ "failed fetch, nothing cached: none, backs off",
	  H_NOTHING, 0, 0, 0, S_FETCH, 0, 0, 0,
	  ACT_NONE, SOURCE_NONE, R_STS_POLICY_FETCH_ERROR, 1 },
	{ "§10: failed fetch, unreadable entry: fail closed",
	  H_NOTHING, 1, 0, 0, S_FETCH, 0, 0, 0,
	  ACT_FAIL_CLOSED, SOURCE_NONE, R_CACHE_UNAVAILABLE, 1 },
	{ "§10: failed fetch, lost entry: fail closed",
	  H_LOST, 0, 0, 0, S_FETCH, 0, 0, 0,
	  ACT_FAIL_CLOSED, SOURCE_NONE, R_CACHE_UNAVAILABLE, 1 },
	{ NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
};

static void t_rows(void)
{
	for (const struct row *t = rows; t->label; t++) {
		struct cache_entry ce;
		struct rules_in in;
		struct rules_out o;

		entry(t->held, &ce);
		memset(&in, 0, sizeof(in));
		in.ce = t->held == H_NOTHING ? NULL : &ce;
		in.blind = t->blind;
		in.no_cache = t->no_cache;
		in.flags = t->flags;
		in.now = NOW;
		in.txt_check_interval = IVL;
		switch (t->step) {
		case S_PLAN:
			rules_plan(&in, &o);
			break;
		case S_TXT:
			rules_after_txt(&in, t->txt, t->id,
					t->txt == TXT_TEMP ? R_DNS_TEMPFAIL
							   : R_NO_TXT, &o);
			break;
		case S_FETCH:
			rules_after_fetch(&in, t->fetch_ok,
					  R_STS_POLICY_FETCH_ERROR, &o);
			break;
		}
		if (o.act != t->act || o.source != t->src ||
		    o.reason != t->reason || o.note_failure != t->note_failure)
			fprintf(stderr, "\n  row '%s': act %d source %s "
				"reason %s note %d\n", t->label, o.act,
				engine_source_str(o.source),
				reason_str(o.reason), o.note_failure);
		CU_ASSERT_EQUAL(o.act, t->act);
		CU_ASSERT_EQUAL(o.source, t->src);
		CU_ASSERT_EQUAL(o.reason, t->reason);
		CU_ASSERT_EQUAL(o.note_failure, t->note_failure);
	}
}

/* mtasts refresh: which policies are renewed, which only re-checked. */
static void t_refresh_due(void)
{
	static const struct {
		const char *label;
		uint32_t max_age;
		int64_t fetched_ago, checked_ago;
		bool renew, recheck;
	} t[] = {
		/* refresh_before 1 day, interval 1 h, next run in 10 min */
		{ "1-day policy, fresh: neither", 86400, 100, 10, 0, 0 },
		{ "1-day policy at 11 h: not yet (at most twice per max_age)",
		  86400, 11 * 3600, 10, 0, 0 },
		{ "1-day policy at 13 h: renew", 86400, 13 * 3600, 10, 1, 0 },
		{ "1-week policy, 2 days left... no: fetched 5 days ago, "
		  "§3.3 daily", 604800, 5 * 86400, 10, 1, 0 },
		{ "1-week policy fetched 2 h ago, id check due before the "
		  "next run", 604800, 7200, 3000, 0, 1 },
		{ "1-week policy fetched 23 h ago: not yet daily", 604800,
		  23 * 3600, 10, 0, 0 },
		{ "1-week policy fetched 24 h ago: daily", 604800, 86400, 10,
		  1, 0 },
		{ "1-year policy, 12 h left: renew", 31557600,
		  31557600 - 43200, 10, 1, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct cache_entry ce;
		bool renew, recheck;

		entry(H_ENFORCE, &ce);
		ce.max_age = t[i].max_age;
		ce.fetched = NOW - t[i].fetched_ago;
		ce.expires = ce.fetched + t[i].max_age;
		ce.txt_checked = NOW - t[i].checked_ago;
		rules_refresh_due(&ce, NOW, 86400, IVL, NOW + 600, &renew,
				  &recheck);
		if (renew != t[i].renew || recheck != t[i].recheck)
			fprintf(stderr, "\n  '%s': renew %d recheck %d\n",
				t[i].label, renew, recheck);
		CU_ASSERT_EQUAL(renew, t[i].renew);
		CU_ASSERT_EQUAL(recheck, t[i].recheck);
	}
}

static void t_reason_words(void)
{
	for (unsigned r = 0; r < R_COUNT_; r++) {
		const char *w = reason_str((enum mt_reason)r);

		CU_ASSERT_STRING_NOT_EQUAL(w, "unknown");
		CU_ASSERT_EQUAL(reason_from_str(w), (enum mt_reason)r);
	}
	CU_ASSERT_STRING_EQUAL(reason_str(R_COUNT_), "unknown");
	CU_ASSERT_EQUAL(reason_from_str("no-such-word"), R_COUNT_);
	CU_ASSERT_STRING_EQUAL(reason_str(R_ID_UNCHANGED), "id-unchanged");
	CU_ASSERT_STRING_EQUAL(reason_str(R_ADDRESS_LITERAL),
			       "address-literal");
}

static CU_TestInfo tests[] = {
	{ "the rules, row by row", t_rows },
	{ "refresh: renew or re-check", t_refresh_due },
	{ "reason words: one table, both ways", t_reason_words },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("rules", tests);
	return 0;
}
