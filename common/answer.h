/*
 * answer.h - the policy answer (struct engine_policy) and the cache-only
 * step of a lookup, shared by the engine (engine.c, with the network
 * behind it) and the loadable module's decision path (plugin/api.c, which
 * must not load the network code): read the domain's entry, apply
 * rules_plan(), answer - or say that the network is needed.
 *
 * libc only.  The decision line logged for every verdict is written here
 * too, so both halves log the same thing.
 */
#ifndef MTASTS_ANSWER_H
#define MTASTS_ANSWER_H
#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "decide.h"
#include "policy.h"
#include "reason.h"
#include "rules.h"
#include "txt.h"

struct engine_policy {
	bool have_policy; /* a policy with mode testing or enforce */
	enum policy_mode mode;
	char id[TXT_ID_MAX + 1];
	uint32_t max_age;
	int64_t expires;
	uint32_t n_mx, mx_len;
	char *mx; /* blob; owned, released by engine_policy_clear */
	enum engine_source source;
	enum mt_reason reason;
};

struct engine_decision {
	enum verdict verdict;
	enum mt_reason reason;
};

void engine_policy_clear(struct engine_policy *p);

void answer_none(struct engine_policy *out, enum engine_source src,
		 enum mt_reason reason);
/* The entry's policy (a copy of the mx blob).  MT_OK or MT_ENOMEM. */
int answer_from_entry(struct engine_policy *out, const struct cache_entry *ce,
		      enum engine_source src, enum mt_reason reason);
int answer_from_override(struct engine_policy *out,
			 const struct config_override *o);

/* One lookup: the domain (normalised), what the cache said of it. */
struct answer_ctx {
	char domain[DOMAIN_BUFSZ];
	struct cache_entry ce;
	bool have_entry;
	bool blind;    /* this entry cannot be read */
	bool no_cache; /* no cache at all */
	struct rules_in in;
};

/* Read the domain's entry from c (NULL: no cache; missing_ok: a cache
 * file that does not exist hides nothing - inspection).  Fills have_entry,
 * blind, no_cache.  MT_OK or MT_ENOMEM. */
int answer_read(struct answer_ctx *a, struct cache *c, bool missing_ok);
/* Fill a->in for flags at now. */
void answer_set_in(struct answer_ctx *a, unsigned flags, int64_t now,
		   int64_t txt_check_interval);
/* An answer step of rules (USE_POLICY, CONFIRM, KEEP_NO_TXT: the cached
 * policy; FAIL_CLOSED: MT_EPOLICY; else none). */
int answer_act(struct answer_ctx *a, const struct rules_out *r,
	       struct engine_policy *out);
void answer_ctx_clear(struct answer_ctx *a);

/* The verdict for normalised mx under pol, given the DANE state, and the
 * decision line in the log (domain= mx= mode= policy_id= verdict= reason=
 * source=). */
void answer_decide(const char *domain, const char *mx,
		   const struct engine_policy *pol, enum dane_state dane,
		   struct engine_decision *out);

/* Is s an RFC 5321 address literal ("[...]")?  Pure. */
bool answer_is_address_literal(const char *s);

#endif
