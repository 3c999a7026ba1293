/*
 * net.c - mtasts-net.so, the network half of the loadable module (net.h):
 * the engine (TXT lookups through libunbound, the HTTPS fetch through
 * libcurl, IDNA through libidn2) behind one exported table.  mtasts.so
 * loads it on demand; nothing else should.
 */
#include <string.h>

#include "engine.h"
#include "log.h"
#include "mem.h"
#include "net.h"
#include "status.h"

static int net_open(void **h, const struct config *cfg, log_sink_fn *sink,
		    void *ctx, int level)
{
	struct engine *e = NULL;
	int rc;

	*h = NULL;
	/* This half has its own copy of the log module: send its lines
	 * where the caller sends its own. */
	log_set_sink(sink, ctx);
	log_set_level((enum log_level)level);
	rc = engine_create(&e, cfg);
	if (rc != MT_OK)
		return rc;
	*h = e;
	return MT_OK;
}

static void net_close(void *h)
{
	engine_destroy(h);
}

static int net_policy(void *h, const char *domain, unsigned flags,
		      struct engine_policy *out)
{
	return engine_policy(h, domain, flags, out);
}

static int net_decide(void *h, const char *domain,
		      const struct engine_policy *pol, const char *mx,
		      struct engine_decision *out)
{
	return engine_decide(h, domain, pol, mx, out);
}

__attribute__((visibility("default")))
const struct mtasts_net_ops mtasts_net_ops = {
	.abi = "mtasts-net/" MTASTS_VERSION "/" NET_STR(__SIZEOF_POINTER__),
	.sizes = NET_SIZES,
	.open = net_open,
	.close = net_close,
	.policy = net_policy,
	.decide = net_decide,
	.policy_clear = engine_policy_clear,
};
