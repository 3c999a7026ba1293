/*
 * rules.c - the engine's RFC 8461 decisions as pure functions (rules.h).
 *
 * The rules, in the order they apply:
 *
 *  1. A cached policy is used until fetched + max_age (§5).  Its TXT id is
 *     re-checked every txt_check_interval (every minute with
 *     ENGINE_RECHECK_SOON, asked before mail is deferred or failed for the
 *     policy, §5.1); a new id triggers a refetch (§5.1); a failed refetch
 *     keeps the cached policy (§5: never replaced by "nothing" before it
 *     expires).  A missing TXT record does not remove it either (§10.2
 *     treats DNS as attacker-controlled).
 *  2. A fresh negative entry ("no policy", negative_ttl) answers without
 *     the network.
 *  3. After a failure, lookups back off (from 5 minutes, doubling, §3.3),
 *     keeping whatever answer the entry has; a fetch that failed for a
 *     TXT id is not retried for that id before the back-off ends, even by
 *     a re-check.
 *  4. Otherwise: the TXT record (§3.1; NXDOMAIN/NODATA/no valid record are
 *     final, SERVFAIL/timeout temporary and never evict), then the fetch
 *     (§3.3).  A policy with mode none replaces a cached policy at once
 *     (§5).
 *  5. No policy and no cached one -> no policy, never an error.
 *  6. When the cache cannot tell, an enforce policy may be hidden in it:
 *     a DNS failure or a failed fetch fails closed (ACT_FAIL_CLOSED),
 *     never "none"; a fetched policy answers.  When it is this domain's
 *     entry that cannot be read (a damaged slot on its probe path, a lost
 *     entry), a missing record fails closed too: it is what an attacker
 *     would answer (§10.2).  When the whole cache cannot be opened (a
 *     wrong owner, an I/O error: logged at error level), every domain is
 *     as on a first contact: a missing record means no policy, so mail to
 *     the domains without MTA-STS keeps flowing.
 *  7. Proactive refresh (ENGINE_REFRESH) also renews a cached policy over
 *     HTTPS when the TXT lookup fails or the record is gone, so that an
 *     attacker who blocks the DNS does not also age the policy out.
 */
#include "rules.h"

#include <string.h>

#include "policy.h"
#include "str.h"

static const char *const source_names[] = {
	[SOURCE_CACHE] = "cache",
	[SOURCE_FETCH] = "fetch",
	[SOURCE_NEGATIVE] = "negative-cache",
	[SOURCE_OVERRIDE] = "override",
	[SOURCE_NONE] = "none",
};

const char *engine_source_str(enum engine_source s)
{
	if ((unsigned)s >= ARRAY_SIZE(source_names))
		return "unknown";
	return source_names[s];
}

bool rules_usable(const struct cache_entry *ce, int64_t now)
{
	return ce != NULL && ce->kind == CACHE_POLICY && now < ce->expires;
}

/* This domain's entry cannot be read, or was lost. */
static bool entry_blind(const struct rules_in *in)
{
	return in->blind || (in->ce != NULL && in->ce->kind == CACHE_LOST &&
			     in->now < in->ce->expires);
}

bool rules_blind(const struct rules_in *in)
{
	return entry_blind(in) || in->no_cache;
}

static void set(struct rules_out *o, enum rules_act act, enum engine_source src,
		enum mt_reason why)
{
	o->act = act;
	o->source = src;
	o->reason = why;
}

/* The answer when the network cannot help now (or must not be used):
 * the cached policy, else fail closed when the cache cannot tell, else
 * none. */
static void fallback(const struct rules_in *in, enum mt_reason cached_why,
		     enum mt_reason none_why, struct rules_out *o)
{
	if (!rules_blind(in) && rules_usable(in->ce, in->now))
		set(o, ACT_USE_POLICY, SOURCE_CACHE, cached_why);
	else if (rules_blind(in))
		set(o, ACT_FAIL_CLOSED, SOURCE_NONE, R_CACHE_UNAVAILABLE);
	else
		set(o, ACT_NONE, SOURCE_NONE, none_why);
}

void rules_plan(const struct rules_in *in, struct rules_out *o)
{
	const struct cache_entry *ce = in->ce;
	bool blind = rules_blind(in);
	bool usable = !blind && rules_usable(ce, in->now);
	bool forced = (in->flags & (ENGINE_RECHECK | ENGINE_FORCE)) != 0;
	int64_t interval = in->txt_check_interval;

	memset(o, 0, sizeof(*o));
	if ((in->flags & ENGINE_RECHECK_SOON) && interval > ENGINE_RECHECK_MIN)
		interval = ENGINE_RECHECK_MIN;
	/* Rule 1: a cached policy whose id was confirmed recently. */
	if (usable && !forced && in->now - ce->txt_checked < interval) {
		set(o, ACT_USE_POLICY, SOURCE_CACHE, R_CACHED);
		return;
	}
	/* Rule 2: a fresh negative answer. */
	if (!blind && ce != NULL && ce->kind == CACHE_NEGATIVE &&
	    in->now < ce->expires && !forced) {
		set(o, ACT_NONE, SOURCE_NEGATIVE, R_NO_POLICY);
		return;
	}
	if (in->flags & ENGINE_NO_NETWORK) {
		fallback(in, R_CACHED, R_NOT_CACHED, o);
		return;
	}
	/* Rule 3: back off after failures. */
	if (ce != NULL && in->now < ce->retry_after && !forced) {
		fallback(in, R_CACHED_BACKOFF, R_BACKOFF, o);
		return;
	}
	set(o, ACT_LOOKUP_TXT, SOURCE_NONE, R_NONE);
}

void rules_after_txt(const struct rules_in *in, enum txt_result t,
		     const char *id, enum mt_reason why, struct rules_out *o)
{
	const struct cache_entry *ce = in->ce;
	bool blind = rules_blind(in);
	bool usable = !blind && rules_usable(ce, in->now);

	memset(o, 0, sizeof(*o));
	switch (t) {
	case TXT_TEMP:
		/* Temporary: never evicts (§5).  A refresh still renews
		 * the cached policy over HTTPS (rule 7). */
		if (usable && (in->flags & ENGINE_REFRESH)) {
			set(o, ACT_FETCH, SOURCE_NONE, why);
			return;
		}
		o->note_failure = true;
		fallback(in, R_CACHED_DNS_TEMPFAIL, why, o);
		return;
	case TXT_ABSENT:
		if (usable && (in->flags & ENGINE_REFRESH)) {
			set(o, ACT_FETCH, SOURCE_NONE, why);
			return;
		}
		if (usable) {
			/* §5, §10.2: it outlives a missing record. */
			set(o, ACT_KEEP_NO_TXT, SOURCE_CACHE, R_CACHED_NO_TXT);
			return;
		}
		if (entry_blind(in)) {
			/* Rule 6: "no record" may be the attacker's. */
			set(o, ACT_FAIL_CLOSED, SOURCE_NONE,
			    R_CACHE_UNAVAILABLE);
			return;
		}
		set(o, ACT_STORE_NEGATIVE, SOURCE_FETCH, why);
		return;
	case TXT_FOUND:
		break;
	}
	if (usable && !(in->flags & ENGINE_FORCE) && id != NULL &&
	    strcmp(id, ce->id) == 0) {
		set(o, ACT_CONFIRM, SOURCE_CACHE, R_ID_UNCHANGED);
		return;
	}
	/* Rule 3: a fetch failed for this very id not long ago. */
	if (ce != NULL && in->now < ce->retry_after && id != NULL &&
	    ce->fail_id[0] != '\0' && strcmp(id, ce->fail_id) == 0) {
		fallback(in, R_CACHED_BACKOFF, R_BACKOFF, o);
		return;
	}
	set(o, ACT_FETCH, SOURCE_NONE, R_NONE);
}

void rules_after_fetch(const struct rules_in *in, bool ok, enum mt_reason why,
		       struct rules_out *o)
{
	memset(o, 0, sizeof(*o));
	if (ok) {
		set(o, ACT_STORE_POLICY, SOURCE_FETCH, R_FETCHED);
		return;
	}
	/* §5: a failed refetch keeps the cached policy. */
	o->note_failure = true;
	fallback(in, R_CACHED_FETCH_FAILED, why, o);
}

void rules_refresh_due(const struct cache_entry *ce, int64_t now,
		       int64_t refresh_before, int64_t interval,
		       int64_t check_by, bool *renew, bool *recheck)
{
	int64_t horizon = refresh_before;

	*renew = false;
	*recheck = false;
	if (ce == NULL || ce->kind != CACHE_POLICY)
		return;
	/* Renew at most about twice per max_age when the id is unchanged:
	 * a policy of one day is renewed when half a day is left, not on
	 * every run. */
	if ((int64_t)ce->max_age / 2 < horizon)
		horizon = (int64_t)ce->max_age / 2;
	*renew = ce->expires - now <= horizon ||
		 now - ce->fetched >= RULES_DAILY;
	*recheck = ce->txt_checked + interval <= check_by;
}
