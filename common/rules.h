/*
 * rules.h - the engine's RFC 8461 decisions (§3.3, §5, §5.1, §10) as pure
 * functions over (cache entry, flags, now) and the answers of the network.
 *
 * No I/O here: engine.c does the DNS, the fetch, the cache writes and the
 * lease around these steps, and the loadable module's decision path (which
 * must not load the network code) answers from the cache with rules_plan()
 * alone.  Every rule is a row of tests/unit/test_rules.c.
 *
 *   rules_plan()        what the cache entry allows without the network
 *   rules_after_txt()   what the _mta-sts TXT answer means for the entry
 *   rules_after_fetch() what the HTTPS fetch means for the entry
 *   rules_refresh_due() which cached policies `mtasts refresh` renews
 */
#ifndef MTASTS_RULES_H
#define MTASTS_RULES_H
#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "reason.h"

/* Flags of a policy lookup (engine_policy()). */
#define ENGINE_NO_NETWORK 0x1 /* cache only: never query or fetch */
#define ENGINE_RECHECK 0x2    /* RFC 8461 §5.1: re-check the TXT id now */
#define ENGINE_FORCE 0x4      /* refetch even when the id is unchanged */
/* §5.1 before mail is deferred or failed: re-check the id unless confirmed
 * within ENGINE_RECHECK_MIN seconds; back-off holds */
#define ENGINE_RECHECK_SOON 0x8
/* look, never write: no lease, no stored answer, no back-off state
 * (inspection commands run by an administrator) */
#define ENGINE_NO_STORE 0x10
/* proactive refresh: when the TXT lookup fails or the record is gone, still
 * renew a cached policy over HTTPS (§10.2) */
#define ENGINE_REFRESH 0x20
#define ENGINE_RECHECK_MIN 60

/* RFC 8461 §3.3: after a failed fetch, "limit further attempts to a period
 * of five minutes or longer per version ID".  Doubling to the cap. */
#define RULES_BACKOFF_MIN 300
#define RULES_BACKOFF_MAX 3600
/* RFC 8461 §3.3: a policy is refreshed at least once a day. */
#define RULES_DAILY 86400

enum engine_source {
	SOURCE_CACHE = 0,
	SOURCE_FETCH = 1,
	SOURCE_NEGATIVE = 2, /* negative cache entry */
	SOURCE_OVERRIDE = 3, /* per-domain override from the config */
	SOURCE_NONE = 4,     /* nothing: no policy found just now */
};

enum rules_act {
	ACT_USE_POLICY,	 /* answer with the cached policy */
	ACT_NONE,	 /* answer "no policy" */
	ACT_FAIL_CLOSED, /* an enforce policy may be hidden: defer */
	ACT_LOOKUP_TXT,	 /* ask the DNS for the TXT record */
	/* the id is confirmed: record it, answer with the cached policy */
	ACT_CONFIRM,
	/* the record is gone, the cached policy lives until it expires (§5,
	 * §10.2) */
	ACT_KEEP_NO_TXT,
	ACT_STORE_NEGATIVE, /* remember "no policy", answer none */
	ACT_FETCH,	    /* fetch the policy over HTTPS */
	ACT_STORE_POLICY,   /* store the fetched policy, answer it */
};

struct rules_in {
	const struct cache_entry *ce; /* NULL: nothing cached */
	/* this domain's entry cannot be read (a damaged slot on its probe
	 * path, a write that could not be waited out) */
	bool blind;
	/* the whole cache cannot be opened or read (wrong owner, mode, I/O
	 * error) */
	bool no_cache;
	unsigned flags; /* ENGINE_* */
	int64_t now;
	int64_t txt_check_interval;
};

struct rules_out {
	enum rules_act act;
	enum engine_source source;
	enum mt_reason reason;
	bool note_failure; /* record a failed refresh (back-off) */
};

enum txt_result {
	TXT_FOUND,  /* exactly one valid STSv1 record */
	TXT_ABSENT, /* NXDOMAIN, NODATA, or no valid record: final */
	TXT_TEMP,   /* SERVFAIL, timeout, bogus: try later */
};

/* Is the entry a policy in force at now (not lost, not expired)? */
bool rules_usable(const struct cache_entry *ce, int64_t now);
/* Is the cache unable to tell for this domain (blind, no cache, or a
 * lost entry)? */
bool rules_blind(const struct rules_in *in);

void rules_plan(const struct rules_in *in, struct rules_out *out);
/* id: the record's id when t == TXT_FOUND; why: the lookup's reason when
 * t != TXT_FOUND (R_NO_TXT, R_TXT_INVALID, R_DNS_TEMPFAIL, ...). */
void rules_after_txt(const struct rules_in *in, enum txt_result t,
		     const char *id, enum mt_reason why, struct rules_out *out);
/* why: the failure's reason (RFC 8460 result type words) when !ok. */
void rules_after_fetch(const struct rules_in *in, bool ok, enum mt_reason why,
		       struct rules_out *out);

/* `mtasts refresh`: should this cached policy be renewed (fetched) or its
 * id re-checked now?  Renewal: when it expires within refresh_before or
 * half its max_age, whichever is shorter (at most about twice per
 * max_age), or when it was fetched a day ago or more (§3.3).  Re-check:
 * when its id check falls due before check_by. */
void rules_refresh_due(const struct cache_entry *ce, int64_t now,
		       int64_t refresh_before, int64_t interval,
		       int64_t check_by, bool *renew, bool *recheck);

const char *engine_source_str(enum engine_source s);

#endif
