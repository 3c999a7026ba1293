/*
 * test_front.c - the module's decision path loads libc alone: a host
 * (front_probe, which links nothing of mtasts) asks for a decision the
 * cache can answer and must not have libcurl, libunbound, GnuTLS, libidn2
 * or the network half mapped afterwards; a miss loads the network half
 * (mtasts-net.so, from the module's own directory) and answers as the
 * engine does; without the network half the cached answer still holds and
 * a lookup that needs the network fails closed (an installation error).
 */
#include <CUnit/CUnit.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "cunit_main.h"
#include "policy.h"
#include "status.h"

static char dir[64], conf[128], cpath[128], probe[1024], module[1024];

static void seed(const char *domain, int mode, const char *blob,
		 uint32_t len, uint32_t n)
{
	struct cache *c;
	struct cache_entry e;

	CU_ASSERT_EQUAL_FATAL(cache_open(&c, cpath, 1 << 20), MT_OK);
	memset(&e, 0, sizeof(e));
	snprintf(e.domain, sizeof(e.domain), "%s", domain);
	e.kind = CACHE_POLICY;
	e.mode = (uint8_t)mode;
	e.max_age = 86400;
	e.fetched = clock_now();
	e.expires = e.fetched + 86400;
	e.txt_checked = e.fetched;
	snprintf(e.id, sizeof(e.id), "seed1");
	e.n_mx = n;
	e.mx_len = len;
	e.mx = (char *)blob;
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	cache_close(c);
}

/* Run the probe; its one line into out. */
static void run(const char *mod, const char *domain, const char *mx,
		char *out, size_t n)
{
	char cmd[4096];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' '%s' '%s'", probe, mod,
		 conf, domain, mx);
	out[0] = '\0';
	p = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	if (fgets(out, (int)n, p) == NULL)
		out[0] = '\0';
	CU_ASSERT_EQUAL(pclose(p), 0);
	fprintf(stderr, "\n    %s %s: %s", domain, mx, out);
}

static void t_cached_loads_nothing(void)
{
	static const char blob[] = "mx.cached.example\0";
	char out[512];

	seed("cached.example", POLICY_MODE_ENFORCE, blob, sizeof(blob) - 1, 1);
	run(module, "cached.example", "mx.cached.example", out, sizeof(out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "verdict=require-tls reason=mx-match "
				      "source=cache status=0 net=0 curl=0 "
				      "unbound=0 gnutls=0 idn2=0"));
	run(module, "cached.example", "elsewhere.example", out, sizeof(out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "verdict=refuse-mx reason=mx-mismatch "
				      "source=cache status=0 net=0 curl=0"));
	/* an address literal needs nothing either */
	run(module, "[192.0.2.1]", "[192.0.2.1]", out, sizeof(out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "verdict=none reason=address-literal "
				      "source=none status=0 net=0 curl=0"));
}

static void t_miss_loads_network_half(void)
{
	char out[512];

	/* Not cached: the network half is loaded; the DNS does not answer
	 * here (127.0.0.254), so: no policy, as the engine says. */
	run(module, "miss.example", "mx.miss.example", out, sizeof(out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "verdict=none "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "status=0 net=1 curl=1 unbound=1"));
}

static void t_without_network_half(void)
{
	static const char blob[] = "mx.cached.example\0";
	char lone[256], out[512], cmd[2048];

	/* The module alone in a directory of its own. */
	snprintf(lone, sizeof(lone), "%s/lone", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(lone, 0755), 0);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/mtasts.so'", module, lone);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	snprintf(lone + strlen(lone), sizeof(lone) - strlen(lone),
		 "/mtasts.so");
	seed("cached.example", POLICY_MODE_ENFORCE, blob, sizeof(blob) - 1, 1);
	run(lone, "cached.example", "mx.cached.example", out, sizeof(out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "verdict=require-tls "));
	/* a miss needs the network: an installation error, never "no
	 * policy" - the host defers (refuse-mx, MTASTS_EPOLICY) */
	run(lone, "other.example", "mx.other.example", out, sizeof(out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "verdict=refuse-mx "
				      "reason=network-module-unavailable "
				      "source=- status=-16 net=0 curl=0"));
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

static void cleanup(void)
{
	if (dir[0] != '\0')
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void)
{
	const char *root = getenv("MTASTS_BUILD_ROOT");
	FILE *f;

	if (root == NULL)
		return -1;
	snprintf(probe, sizeof(probe), "%s/tests/unit/front_probe", root);
	snprintf(module, sizeof(module), "%s/plugin/mtasts.so", root);
	snprintf(dir, sizeof(dir), "/tmp/mtasts-front-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	atexit(cleanup);
	snprintf(cpath, sizeof(cpath), "%s/cache", dir);
	snprintf(conf, sizeof(conf), "%s/mtasts.conf", dir);
	f = fopen(conf, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "cache_path = %s\ncache_size = 1M\nreport_dir = %s/r\n"
		"resolver = %s/resolv.conf\ndns_timeout = 1s\n"
		"fetch_timeout = 1s\nlog_level = err\n", cpath, dir, dir);
	fclose(f);
	snprintf(cpath + 0, sizeof(cpath), "%s/resolv.conf", dir);
	f = fopen(cpath, "w");
	if (f == NULL)
		return -1;
	fputs("nameserver 127.0.0.254\n", f);
	fclose(f);
	snprintf(cpath, sizeof(cpath), "%s/cache", dir);
	return 0;
}

static CU_TestInfo tests[] = {
	{ "a cached answer maps libc alone", t_cached_loads_nothing },
	{ "a miss loads the network half", t_miss_loads_network_half },
	{ "no network half: cached holds, a miss defers",
	  t_without_network_half },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	if (setup() != 0)
		return -1;
	CUNIT_SUITE("front", tests);
	return 0;
}
