/*
 * engine.h - policy resolution (RFC 8461 §3.3, §5, §5.1, §10) over the DNS,
 * the HTTPS fetch and the shared cache.
 *
 * engine_policy() answers "which policy is in force for this domain now":
 * from the cache when fresh, else TXT + fetch under the cache's lease.  A
 * handle is per process and per thread; fork-safe (the child re-attaches).
 */
#ifndef MTASTS_ENGINE_H
#define MTASTS_ENGINE_H
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "decide.h"
#include "domain.h"
#include "policy.h"
#include "txt.h"

enum engine_source {
	SOURCE_CACHE = 0,
	SOURCE_FETCH = 1,
	SOURCE_NEGATIVE = 2,	/* negative cache entry */
	SOURCE_OVERRIDE = 3,	/* per-domain override from the config */
	SOURCE_NONE = 4,	/* nothing: no policy found just now */
};

struct engine_policy {
	bool have_policy;
	enum policy_mode mode;
	char id[TXT_ID_MAX + 1];
	uint32_t max_age;
	int64_t expires;
	uint32_t n_mx, mx_len;
	char *mx;		/* blob; owned, released by engine_policy_clear */
	enum engine_source source;
	const char *reason;	/* static, closed vocabulary */
};

struct engine_decision {
	enum verdict verdict;
	const char *reason;	/* static, closed vocabulary */
};

/* Flags for engine_policy(). */
#define ENGINE_NO_NETWORK 0x1	/* cache only: never query or fetch */
#define ENGINE_RECHECK 0x2	/* RFC 8461 §5.1: re-check the TXT id now */
#define ENGINE_FORCE 0x4	/* refetch even when fresh (mtasts refresh) */
#define ENGINE_RECHECK_SOON 0x8	/* §5.1 before mail is deferred or failed:
				 * re-check the id unless confirmed within
				 * ENGINE_RECHECK_MIN seconds; back-off holds */
#define ENGINE_RECHECK_MIN 60
#define ENGINE_NO_STORE 0x10	/* never write the cache: no lease, no
				 * back-off, no stored answer (mtasts query
				 * without --store) */

struct engine;

/* cfg is copied.  MT_OK, MT_ENOMEM, MT_EIO/MT_EPERM (cache). */
int engine_create(struct engine **out, const struct config *cfg);
void engine_destroy(struct engine *e);	/* accepts NULL */

/* domain: any case, trailing dot, U-labels accepted.
 * MT_OK: *out filled (have_policy may be false).
 * MT_EPOLICY: an enforce policy is known but cannot be used (cache error
 *   with an enforce entry, ...): the caller must defer, never send in clear.
 * MT_EPARSE: domain is not a valid domain name.
 * MT_ENOMEM. */
int engine_policy(struct engine *e, const char *domain, unsigned flags,
		  struct engine_policy *out);
void engine_policy_clear(struct engine_policy *p);

/* The verdict for one MX under an already resolved policy, with DANE state
 * looked up when the config enables DANE.  Logs one key=value line. */
int engine_decide(struct engine *e, const char *domain,
		  const struct engine_policy *pol, const char *mx,
		  struct engine_decision *out);

/* Proactive refresh (`mtasts refresh`): cached policies expiring within
 * cfg->refresh_before are fetched again; the others whose TXT id check
 * falls due before the next run (cfg->refresh_interval) have it checked
 * now (a new id fetches).  *refreshed counts fetched policies, *failed the
 * domains where a renewal or check failed and the cached policy stays
 * (either may be NULL). */
int engine_refresh(struct engine *e, unsigned *refreshed, unsigned *failed);

/* Access for the command: the cache handle the engine uses. */
struct cache *engine_cache(struct engine *e);
const struct config *engine_config(const struct engine *e);

const char *engine_source_str(enum engine_source s);

#endif
