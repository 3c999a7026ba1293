/*
 * bench_seed.c - put an enforce policy for a domain into a cache file, for
 * bench_load (which must link nothing but libc and libdl).
 *
 * usage: bench_seed CACHE_PATH DOMAIN MX
 */
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "clock.h"
#include "policy.h"
#include "status.h"

int main(int argc, char **argv)
{
	struct cache *c;
	struct cache_entry e;
	char blob[300];
	int n, rc;

	if (argc != 4)
		return 2;
	n = snprintf(blob, sizeof(blob), "%s", argv[3]);
	if (n <= 0 || (size_t)n >= sizeof(blob) - 1 ||
	    cache_open(&c, argv[1], 1 << 20) != MT_OK)
		return 1;
	memset(&e, 0, sizeof(e));
	snprintf(e.domain, sizeof(e.domain), "%s", argv[2]);
	e.kind = CACHE_POLICY;
	e.mode = POLICY_MODE_ENFORCE;
	e.max_age = 86400;
	e.fetched = clock_now();
	e.expires = e.fetched + 86400;
	e.txt_checked = e.fetched;
	snprintf(e.id, sizeof(e.id), "bench");
	e.n_mx = 1;
	e.mx_len = (uint32_t)n + 1;
	e.mx = blob;
	rc = cache_put(c, &e);
	cache_close(c);
	return rc == MT_OK ? 0 : 1;
}
