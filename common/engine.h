/*
 * engine.h - policy resolution (RFC 8461 §3.3, §5, §5.1, §10) over the DNS,
 * the HTTPS fetch and the shared cache.
 *
 * engine_policy() answers "which policy is in force for this domain now":
 * from the cache when fresh, else TXT + fetch under the cache's lease.  The
 * rules themselves are pure functions (rules.h); this module does the I/O
 * around them.  A handle is per process and per thread; fork-safe (the
 * child re-attaches).
 */
#ifndef MTASTS_ENGINE_H
#define MTASTS_ENGINE_H
#include <stdbool.h>
#include <stdint.h>

#include "answer.h"
#include "config.h"
#include "decide.h"
#include "domain.h"
#include "policy.h"
#include "reason.h"
#include "rules.h"
#include "txt.h"

/* Flags for engine_create_flags(). */
#define ENGINE_OPEN_NOCREATE 0x1 /* never create the cache file */

struct engine;

/* cfg is copied.  MT_OK, MT_ENOMEM, MT_EINTERNAL (libcurl).  A cache that
 * cannot be opened is not an error here (see engine_policy). */
int engine_create(struct engine **out, const struct config *cfg);
int engine_create_flags(struct engine **out, const struct config *cfg,
			unsigned open_flags);
void engine_destroy(struct engine *e); /* accepts NULL */

/* domain: any case, trailing dot, U-labels accepted; an address literal
 * ("[192.0.2.1]", "[IPv6:...]") has no policy (RFC 8461 §3.4).
 * MT_OK: *out filled (have_policy may be false).
 * MT_EPOLICY: an enforce policy may exist but cannot be used (the cache
 *   cannot tell and the network did not answer with a policy): the caller
 *   must defer, never send in clear.
 * MT_EPARSE: domain is not a valid domain name.
 * MT_ENOMEM. */
int engine_policy(struct engine *e, const char *domain, unsigned flags,
		  struct engine_policy *out);
/* The verdict for one MX under an already resolved policy, with DANE state
 * looked up when the config enables DANE.  Logs one key=value line. */
int engine_decide(struct engine *e, const char *domain,
		  const struct engine_policy *pol, const char *mx,
		  struct engine_decision *out);

struct engine_refresh_counts {
	unsigned renewed; /* policies fetched */
	unsigned checked; /* ids confirmed */
	/* kept after a failure, mode testing or enforce: the administrator
	 * is alerted */
	unsigned failed;
	/* kept after a failure, mode none (§3.3: no alert) */
	unsigned failed_none;
};

/* Proactive refresh (`mtasts refresh`): every cached policy due for
 * renewal (rules_refresh_due) is fetched again, even when the TXT lookup
 * fails or the record is gone (§10.2); the others whose id check falls due
 * before the next run (cfg->refresh_interval) have it checked now.  A
 * failed renewal keeps the cached policy and logs one line per domain. */
int engine_refresh(struct engine *e, struct engine_refresh_counts *n);

/* Access for the command: the cache handle the engine uses (may be NULL
 * when the cache cannot be opened). */
struct cache *engine_cache(struct engine *e);
const struct config *engine_config(const struct engine *e);

/* Test hook: called after the cache was read and the lease taken, just
 * before the DNS is asked (NULL = none).  Tests change the cache there, as
 * another process would. */
extern void (*engine_test_before_network)(const char *domain);

#endif
