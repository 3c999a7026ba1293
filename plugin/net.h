/*
 * net.h - the interface between the loadable module's two halves.
 *
 * mtasts.so holds the decision path: configuration, the shared cache, the
 * pure rules and the verdict, TLS-RPT recording - libc alone, so that a
 * delivery process that finds its answer in the cache loads nothing else.
 * mtasts-net.so holds what needs the network (the engine over libunbound
 * and libcurl, IDNA through libidn2).  mtasts.so dlopen()s it from its own
 * directory the first time the cache cannot answer, and keeps it loaded
 * for the life of the process.
 *
 * Both halves are built from the same tree: the structs below cross the
 * boundary as they are, and MTASTS_NET_ABI (checked on load) changes with
 * the version and with the size of every struct that crosses.  Memory the
 * net half allocates (an engine_policy's mx blob) is released with its
 * policy_clear.  Not an interface for anything but mtasts.so.
 */
#ifndef MTASTS_NET_H
#define MTASTS_NET_H
#include "config.h"
#include "engine.h"
#include "log.h"

#define MTASTS_NET_SO "mtasts-net.so"
#define MTASTS_NET_SYM "mtasts_net_ops"

#define NET_STR_(x) #x
#define NET_STR(x) NET_STR_(x)

#include "mtasts_build.h"

struct mtasts_net_ops {
	char abi[64]; /* must equal net_abi() of the caller */
	size_t sizes; /* must equal NET_SIZES of the caller */
	/* A handle over its own engine (own cache mapping, own resolver).
	 * The log lines go to sink/ctx at level (the caller's settings). */
	int (*open)(void **h, const struct config *cfg, log_sink_fn *sink,
		    void *ctx, int level);
	void (*close)(void *h);
	int (*policy)(void *h, const char *domain, unsigned flags,
		      struct engine_policy *out);
	int (*decide)(void *h, const char *domain,
		      const struct engine_policy *pol, const char *mx,
		      struct engine_decision *out);
	void (*policy_clear)(struct engine_policy *p);
};

/* The ABI string: version and the sizes that cross the boundary. */
static inline const char *net_abi(void)
{
	return "mtasts-net/" MTASTS_VERSION "/" NET_STR(__SIZEOF_POINTER__);
}

#define NET_SIZES                                                         \
	(sizeof(struct config) * 7u + sizeof(struct engine_policy) * 5u + \
	 sizeof(struct engine_decision) * 3u + sizeof(struct mtasts_net_ops))

#endif
