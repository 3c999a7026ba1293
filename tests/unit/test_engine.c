/* test_engine.c - the engine's decisions that need no network: overrides,
 * cached and negative entries, expiry, back-off, the fail-closed rule when
 * the cache is unavailable.  The network paths (TXT, fetch, leases across
 * processes) are tested with real servers in tests/integration/. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "config.h"
#include "cunit_main.h"
#include "engine.h"
#include "log.h"
#include "mem.h"
#include "status.h"

#define T0 1800000000	/* a fixed "now" */

static char dir[64];

static void quiet(void *ctx, enum log_level l, const char *line)
{
	(void)ctx;
	(void)l;
	(void)line;
}

static struct engine *make_engine(const char *extra_override)
{
	struct config cfg;
	struct engine *e = NULL;
	char rc_path[128];
	FILE *f;

	config_defaults(&cfg);
	snprintf(cfg.cache_path, sizeof(cfg.cache_path), "%s/cache", dir);
	cfg.cache_size = 1 << 20;
	cfg.dns_timeout_ms = 1000;
	cfg.fetch_timeout_ms = 1000;
	/* a resolver that answers nothing: any network use is a failure */
	snprintf(rc_path, sizeof(rc_path), "%s/resolv.conf", dir);
	f = fopen(rc_path, "w");
	if (f) {
		fputs("nameserver 127.0.0.254\n", f);
		fclose(f);
	}
	snprintf(cfg.resolver, sizeof(cfg.resolver), "%s", rc_path);
	if (extra_override) {
		struct config_override *o = &cfg.overrides[cfg.n_overrides++];

		memset(o, 0, sizeof(*o));
		snprintf(o->domain, sizeof(o->domain), "%s", extra_override);
		o->action = OVERRIDE_ENFORCE;
		memcpy(o->mx, "mx1.example.net\0*.mx.example.net\0", 33);
		o->mx_len = 33;
		o->n_mx = 2;
	}
	if (engine_create(&e, &cfg) != MT_OK)
		return NULL;
	return e;
}

static void put_policy(struct engine *e, const char *domain, int mode,
		       int64_t fetched, uint32_t max_age, int64_t txt_checked)
{
	struct cache_entry ce;
	static char blob[] = "mx.example.org\0*.example.org";

	memset(&ce, 0, sizeof(ce));
	snprintf(ce.domain, sizeof(ce.domain), "%s", domain);
	ce.kind = CACHE_POLICY;
	ce.mode = (uint8_t)mode;
	ce.max_age = max_age;
	ce.fetched = fetched;
	ce.expires = fetched + max_age;
	ce.txt_checked = txt_checked;
	snprintf(ce.id, sizeof(ce.id), "id1");
	ce.n_mx = 2;
	ce.mx_len = sizeof(blob);
	ce.mx = blob;
	/* Whatever was there goes: a put never replaces a later fetch. */
	(void)cache_delete(engine_cache(e), domain);
	CU_ASSERT_EQUAL(cache_put(engine_cache(e), &ce), MT_OK);
}

static void t_override(void)
{
	struct engine *e = make_engine("example.net");
	struct engine_policy p;
	struct engine_decision d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(engine_policy(e, "EXAMPLE.net.", 0, &p), MT_OK);
	CU_ASSERT_TRUE(p.have_policy);
	CU_ASSERT_EQUAL(p.mode, POLICY_MODE_ENFORCE);
	CU_ASSERT_EQUAL(p.source, SOURCE_OVERRIDE);
	CU_ASSERT_EQUAL(engine_decide(e, "example.net", &p, "MX1.example.net", &d), MT_OK);
	CU_ASSERT_EQUAL(d.verdict, VERDICT_REQUIRE_TLS);
	CU_ASSERT_EQUAL(engine_decide(e, "example.net", &p, "a.mx.example.net", &d), MT_OK);
	CU_ASSERT_EQUAL(d.verdict, VERDICT_REQUIRE_TLS);
	CU_ASSERT_EQUAL(engine_decide(e, "example.net", &p, "a.b.mx.example.net", &d), MT_OK);
	CU_ASSERT_EQUAL(d.verdict, VERDICT_REFUSE_MX);
	CU_ASSERT_EQUAL(engine_decide(e, "example.net", &p, "evil.test", &d), MT_OK);
	CU_ASSERT_EQUAL(d.verdict, VERDICT_REFUSE_MX);
	CU_ASSERT_EQUAL(engine_decide(e, "example.net", &p, "bad host", &d), MT_EPARSE);
	engine_policy_clear(&p);
	engine_destroy(e);
}

static void t_bad_domain(void)
{
	struct engine *e = make_engine(NULL);
	struct engine_policy p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(engine_policy(e, "a..b", 0, &p), MT_EPARSE);
	CU_ASSERT_EQUAL(engine_policy(e, "", 0, &p), MT_EPARSE);
	CU_ASSERT_EQUAL(engine_policy(e, "-x.example", 0, &p), MT_EPARSE);
	CU_ASSERT_EQUAL(engine_policy(e, NULL, 0, &p), MT_EINVAL);
	engine_destroy(e);
}

static void t_cached(void)
{
	struct engine *e = make_engine(NULL);
	struct engine_policy p;
	struct engine_decision d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	clock_set_fake(T0);
	put_policy(e, "example.org", POLICY_MODE_ENFORCE, T0 - 100, 86400, T0 - 10);
	/* fresh policy, id confirmed 10 s ago: no network at all */
	CU_ASSERT_EQUAL(engine_policy(e, "example.org", 0, &p), MT_OK);
	CU_ASSERT_TRUE(p.have_policy);
	CU_ASSERT_EQUAL(p.source, SOURCE_CACHE);
	CU_ASSERT_STRING_EQUAL(p.id, "id1");
	CU_ASSERT_EQUAL(p.expires, T0 - 100 + 86400);
	CU_ASSERT_EQUAL(p.n_mx, 2);
	CU_ASSERT_EQUAL(engine_decide(e, "example.org", &p, "mx.example.org", &d), MT_OK);
	CU_ASSERT_EQUAL(d.verdict, VERDICT_REQUIRE_TLS);
	CU_ASSERT_EQUAL(engine_decide(e, "example.org", &p, "other.example", &d), MT_OK);
	CU_ASSERT_EQUAL(d.verdict, VERDICT_REFUSE_MX);
	engine_policy_clear(&p);

	/* TXT check due and the DNS unreachable: the cached policy stays
	 * (a temporary failure never evicts) */
	clock_set_fake(T0 + 7200);
	CU_ASSERT_EQUAL(engine_policy(e, "example.org", 0, &p), MT_OK);
	CU_ASSERT_TRUE(p.have_policy);
	CU_ASSERT_EQUAL(p.mode, POLICY_MODE_ENFORCE);
	CU_ASSERT_EQUAL(p.source, SOURCE_CACHE);
	engine_policy_clear(&p);
	/* and is still there, now in back-off */
	CU_ASSERT_EQUAL(engine_policy(e, "example.org", 0, &p), MT_OK);
	CU_ASSERT_TRUE(p.have_policy);
	CU_ASSERT_STRING_EQUAL(reason_str(p.reason), "cached-backoff");
	engine_policy_clear(&p);

	/* after max_age the policy is gone (no network: not cached) */
	clock_set_fake(T0 + 86400);
	CU_ASSERT_EQUAL(engine_policy(e, "example.org", ENGINE_NO_NETWORK, &p), MT_OK);
	CU_ASSERT_FALSE(p.have_policy);
	CU_ASSERT_STRING_EQUAL(reason_str(p.reason), "not-cached");
	engine_policy_clear(&p);
	clock_set_fake(0);
	engine_destroy(e);
}

static void t_testing_and_none(void)
{
	struct engine *e = make_engine(NULL);
	struct engine_policy p;
	struct engine_decision d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	clock_set_fake(T0);
	put_policy(e, "t.example", POLICY_MODE_TESTING, T0, 86400, T0);
	CU_ASSERT_EQUAL(engine_policy(e, "t.example", 0, &p), MT_OK);
	CU_ASSERT_EQUAL(engine_decide(e, "t.example", &p, "elsewhere.example", &d), MT_OK);
	CU_ASSERT_EQUAL(d.verdict, VERDICT_REPORT_ONLY);
	engine_policy_clear(&p);
	clock_set_fake(0);
	engine_destroy(e);
}

static void t_negative(void)
{
	struct engine *e = make_engine(NULL);
	struct engine_policy p;
	struct cache_entry ce;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	clock_set_fake(T0);
	memset(&ce, 0, sizeof(ce));
	snprintf(ce.domain, sizeof(ce.domain), "nosts.example");
	ce.kind = CACHE_NEGATIVE;
	ce.fetched = T0;
	ce.expires = T0 + 3600;
	CU_ASSERT_EQUAL(cache_put(engine_cache(e), &ce), MT_OK);
	CU_ASSERT_EQUAL(engine_policy(e, "nosts.example", 0, &p), MT_OK);
	CU_ASSERT_FALSE(p.have_policy);
	CU_ASSERT_EQUAL(p.source, SOURCE_NEGATIVE);
	engine_policy_clear(&p);
	clock_set_fake(0);
	engine_destroy(e);
}

static void t_no_policy_without_network(void)
{
	struct engine *e = make_engine(NULL);
	struct engine_policy p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	/* DNS unreachable, nothing cached: availability wins, no policy */
	CU_ASSERT_EQUAL(engine_policy(e, "unknown.example", 0, &p), MT_OK);
	CU_ASSERT_FALSE(p.have_policy);
	CU_ASSERT_EQUAL(p.mode, POLICY_MODE_NONE);
	engine_policy_clear(&p);
	engine_destroy(e);
}

static void t_cache_unavailable(void)
{
	struct config cfg;
	struct engine *e = NULL;
	struct engine_policy p;
	char rc_path[128], link[128];
	FILE *f;

	config_defaults(&cfg);
	/* a symlink where the cache should be: refused */
	snprintf(link, sizeof(link), "%s/linked", dir);
	CU_ASSERT_EQUAL(symlink("/tmp/elsewhere-mtasts", link), 0);
	snprintf(cfg.cache_path, sizeof(cfg.cache_path), "%s", link);
	snprintf(rc_path, sizeof(rc_path), "%s/resolv.conf", dir);
	f = fopen(rc_path, "w");
	if (f) {
		fputs("nameserver 127.0.0.254\n", f);
		fclose(f);
	}
	snprintf(cfg.resolver, sizeof(cfg.resolver), "%s", rc_path);
	cfg.dns_timeout_ms = 1000;
	CU_ASSERT_EQUAL_FATAL(engine_create(&e, &cfg), MT_OK);
	CU_ASSERT_PTR_NULL(engine_cache(e));
	/* cannot know whether an enforce policy hides in the cache, and
	 * cannot ask the DNS: temporary failure, not "none" */
	CU_ASSERT_EQUAL(engine_policy(e, "example.org", 0, &p), MT_EPOLICY);
	engine_policy_clear(&p);
	engine_destroy(e);
	unlink(link);
}

/* Every allocation point fails in turn (from the k-th allocation on):
 * MT_ENOMEM with an empty answer, or the right answer - never "none" for
 * the cached enforce policy, never a leak (ASan and valgrind runs). */
static void t_oom(void)
{
	static const char *const doms[] = { "cached.example", "example.net" };
	struct engine *e = NULL;
	int n_oom = 0, done = 0, rc = MT_ENOMEM;

	/* An engine whose cache could not be opened for lack of memory is
	 * an engine (it fails closed and opens the cache later): go on
	 * until both are there. */
	for (long k = 0; k < 1000 && rc != MT_OK; k++) {
		mem_fail_after(k);
		e = make_engine("example.net");
		mem_fail_after(-1);
		rc = e != NULL && engine_cache(e) != NULL ? MT_OK : MT_ENOMEM;
		if (rc != MT_OK) {
			n_oom++;
			engine_destroy(e);
			e = NULL;
		}
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT(n_oom >= 1);
	clock_set_fake(T0);
	put_policy(e, "cached.example", POLICY_MODE_ENFORCE, T0 - 10, 86400,
		   T0 - 10);
	for (size_t i = 0; i < sizeof(doms) / sizeof(doms[0]); i++) {
		n_oom = 0;
		done = 0;
		for (long k = 0; k < 1000 && !done; k++) {
			struct engine_policy p;

			memset(&p, 0, sizeof(p));
			mem_fail_after(k);
			rc = engine_policy(e, doms[i], 0, &p);
			mem_fail_after(-1);
			if (rc == MT_ENOMEM) {
				n_oom++;
				CU_ASSERT_PTR_NULL(p.mx);
			} else {
				CU_ASSERT_EQUAL(rc, MT_OK);
				CU_ASSERT_TRUE(p.have_policy);
				CU_ASSERT_EQUAL(p.mode, POLICY_MODE_ENFORCE);
				CU_ASSERT_EQUAL(p.n_mx, 2);
				done = 1;
			}
			engine_policy_clear(&p);
		}
		CU_ASSERT_TRUE(done);
		CU_ASSERT(n_oom >= 1);	/* the cache copy, the answer */
	}
	clock_set_fake(0);
	engine_destroy(e);
}


/* RFC 8461 §5.1: before mail is failed for an enforced policy the TXT id
 * is re-checked.  ENGINE_RECHECK_SOON re-checks a cached policy whose id
 * was last confirmed over a minute ago, even inside txt_check_interval;
 * the back-off after a failed check still holds (no hammering). */
static void t_recheck_soon(void)
{
	struct engine *e = make_engine(NULL);
	struct engine_policy p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	clock_set_fake(T0);
	/* id confirmed 10 s ago: nothing to re-check */
	put_policy(e, "r.example", POLICY_MODE_ENFORCE, T0 - 100, 86400, T0 - 10);
	CU_ASSERT_EQUAL(engine_policy(e, "r.example", ENGINE_RECHECK_SOON, &p),
			MT_OK);
	CU_ASSERT_STRING_EQUAL(reason_str(p.reason), "cached");
	engine_policy_clear(&p);
	/* confirmed 2 min ago, inside the 1 h interval: a plain call uses the
	 * cache, the re-check asks the DNS (unreachable here: kept) */
	put_policy(e, "r.example", POLICY_MODE_ENFORCE, T0 - 200, 86400, T0 - 120);
	CU_ASSERT_EQUAL(engine_policy(e, "r.example", 0, &p), MT_OK);
	CU_ASSERT_STRING_EQUAL(reason_str(p.reason), "cached");
	engine_policy_clear(&p);
	CU_ASSERT_EQUAL(engine_policy(e, "r.example", ENGINE_RECHECK_SOON, &p),
			MT_OK);
	CU_ASSERT_TRUE(p.have_policy);
	CU_ASSERT_EQUAL(p.mode, POLICY_MODE_ENFORCE);
	CU_ASSERT_STRING_EQUAL(reason_str(p.reason), "cached-dns-tempfail");
	engine_policy_clear(&p);
	/* and the failure's back-off holds for the next re-check */
	CU_ASSERT_EQUAL(engine_policy(e, "r.example", ENGINE_RECHECK_SOON, &p),
			MT_OK);
	CU_ASSERT_TRUE(p.have_policy);
	CU_ASSERT_STRING_EQUAL(reason_str(p.reason), "cached-backoff");
	engine_policy_clear(&p);
	clock_set_fake(0);
	engine_destroy(e);
}


/* A cache that opened but cannot be read now (here: the child of a fork
 * re-attaches and finds the file made group/other-writable) may hide an
 * enforce policy just as much as one that never opened: with the DNS
 * failing too, the answer is a temporary failure, never "none". */
static void t_cache_read_error(void)
{
	struct engine *e = make_engine(NULL);
	struct engine_policy p;
	char path[128];
	int status = -1;
	pid_t pid;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	clock_set_fake(T0);
	put_policy(e, "hidden.example", POLICY_MODE_ENFORCE, T0 - 100, 86400,
		   T0 - 7200);
	snprintf(path, sizeof(path), "%s/cache", dir);
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0666), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int rc = engine_policy(e, "hidden.example", 0, &p);
		int bad = rc != MT_EPOLICY;

		if (bad)
			fprintf(stderr, "\n  child: %s have_policy=%d "
				"reason=%s\n", mt_strerror(rc), p.have_policy,
				reason_str(p.reason));
		engine_policy_clear(&p);
		engine_destroy(e);	/* the child's copy (leak checkers) */
		_exit(bad);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_EQUAL(chmod(path, 0600), 0);
	clock_set_fake(0);
	engine_destroy(e);
}

/* Break the data checksum of the domain's slot (cache_test_where tells
 * where it is). */
static void damage_slot(struct engine *e, const char *domain)
{
	struct cache_where w;
	char path[300];
	unsigned char b;
	int fd;

	CU_ASSERT_EQUAL_FATAL(cache_test_where(engine_cache(e), domain, &w),
			      MT_OK);
	snprintf(path, sizeof(path), "%s/cache", dir);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, &b, 1, (off_t)(w.slot_off + w.data_off)),
			1);
	b ^= 0x5a;
	CU_ASSERT_EQUAL(pwrite(fd, &b, 1, (off_t)(w.slot_off + w.data_off)),
			1);
	close(fd);
}

/* A damaged entry may be an enforce policy: with the DNS down the answer
 * is a temporary failure every time, and the slot is not overwritten with
 * a back-off entry that would read as "none". */
static void t_damaged_entry(void)
{
	struct engine *e = make_engine(NULL);
	struct engine_policy p;
	struct cache_entry g;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	clock_set_fake(T0);
	CU_ASSERT_EQUAL(cache_flush(engine_cache(e)), MT_OK);
	put_policy(e, "damaged.example", POLICY_MODE_ENFORCE, T0 - 100, 86400,
		   T0 - 10);
	damage_slot(e, "damaged.example");
	CU_ASSERT_EQUAL(cache_get(engine_cache(e), "damaged.example", &g),
			MT_ECORRUPT);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(engine_policy(e, "damaged.example", 0, &p),
				MT_EPOLICY);
		engine_policy_clear(&p);
	}
	/* what it held is unknown: kept as a lost entry, which fails
	 * closed until a policy is fetched (or it is deleted) */
	CU_ASSERT_EQUAL_FATAL(cache_get(engine_cache(e), "damaged.example",
					&g), MT_OK);
	CU_ASSERT_EQUAL(g.kind, CACHE_LOST);
	cache_entry_clear(&g);
	CU_ASSERT_EQUAL(engine_policy(e, "damaged.example", 0, &p),
			MT_EPOLICY);
	engine_policy_clear(&p);
	/* a domain without an entry is still "no policy" */
	CU_ASSERT_EQUAL(engine_policy(e, "other.example", 0, &p), MT_OK);
	CU_ASSERT_FALSE(p.have_policy);
	engine_policy_clear(&p);
	CU_ASSERT_EQUAL(cache_flush(engine_cache(e)), MT_OK);
	engine_destroy(e);
}

/* Issue: a stale copy written back.  This process reads the entry (a
 * testing policy, id 1, its check due) and takes the lease; meanwhile
 * another process stores the domain's new enforce policy (id 2); then the
 * DNS fails here.  The failure is recorded on the entry as it is now:
 * the enforce policy stays, with one failure and a back-off - never the
 * old copy, never "none". */
static struct engine *other;

static void store_newer(const char *domain)
{
	struct cache *c;
	struct cache_entry ce;
	char path[300];
	static char blob[] = "mx.example.org\0";

	snprintf(path, sizeof(path), "%s/cache", dir);
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	memset(&ce, 0, sizeof(ce));
	snprintf(ce.domain, sizeof(ce.domain), "%s", domain);
	ce.kind = CACHE_POLICY;
	ce.mode = POLICY_MODE_ENFORCE;
	ce.max_age = 86400;
	ce.fetched = T0;
	ce.expires = T0 + 86400;
	ce.txt_checked = T0;
	snprintf(ce.id, sizeof(ce.id), "id2");
	ce.n_mx = 1;
	ce.mx_len = sizeof(blob) - 1;
	ce.mx = blob;
	{
		int rc = cache_put(c, &ce);

		if (rc != MT_OK)
			fprintf(stderr, "\n  store_newer: %s\n",
				mt_strerror(rc));
		CU_ASSERT_EQUAL(rc, MT_OK);
	}
	cache_close(c);
	(void)other;
}

static void t_stale_write_back(void)
{
	struct engine *e = make_engine(NULL);
	struct engine_policy p;
	struct cache_entry g;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	clock_set_fake(T0);
	put_policy(e, "moved.example", POLICY_MODE_TESTING, T0 - 500, 86400,
		   T0 - 7200);
	engine_test_before_network = store_newer;
	CU_ASSERT_EQUAL(engine_policy(e, "moved.example", 0, &p), MT_OK);
	engine_test_before_network = NULL;
	engine_policy_clear(&p);
	CU_ASSERT_EQUAL_FATAL(cache_get(engine_cache(e), "moved.example", &g),
			      MT_OK);
	CU_ASSERT_EQUAL(g.kind, CACHE_POLICY);
	CU_ASSERT_EQUAL(g.mode, POLICY_MODE_ENFORCE);
	CU_ASSERT_STRING_EQUAL(g.id, "id2");
	CU_ASSERT_EQUAL(g.fail_count, 1);
	CU_ASSERT(g.retry_after >= T0 + RULES_BACKOFF_MIN);
	cache_entry_clear(&g);
	/* and the next lookup answers the enforce policy */
	CU_ASSERT_EQUAL(engine_policy(e, "moved.example", 0, &p), MT_OK);
	CU_ASSERT_EQUAL(p.mode, POLICY_MODE_ENFORCE);
	CU_ASSERT_STRING_EQUAL(p.id, "id2");
	engine_policy_clear(&p);
	clock_set_fake(0);
	engine_destroy(e);
}

/* RFC 8461 §3.4: an address literal has no policy, whatever is cached or
 * configured, and asks nothing of the network. */
static void t_address_literal(void)
{
	struct engine *e = make_engine(NULL);
	struct engine_policy p;
	struct engine_decision d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(engine_policy(e, "[192.0.2.1]", 0, &p), MT_OK);
	CU_ASSERT_FALSE(p.have_policy);
	CU_ASSERT_STRING_EQUAL(reason_str(p.reason), "address-literal");
	CU_ASSERT_EQUAL(engine_decide(e, "[192.0.2.1]", &p, "[192.0.2.1]",
				      &d), MT_OK);
	CU_ASSERT_EQUAL(d.verdict, VERDICT_NONE);
	engine_policy_clear(&p);
	CU_ASSERT_EQUAL(engine_policy(e, "[IPv6:2001:db8::1]", 0, &p), MT_OK);
	CU_ASSERT_FALSE(p.have_policy);
	engine_policy_clear(&p);
	engine_destroy(e);
}

/* ENGINE_NO_STORE: an administrator's look never writes (no lease, no
 * back-off, no answer stored). */
static void t_no_store(void)
{
	struct engine *e = make_engine(NULL);
	struct engine_policy p;
	struct cache_entry g;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	clock_set_fake(T0);
	put_policy(e, "look.example", POLICY_MODE_ENFORCE, T0 - 500, 86400,
		   T0 - 7200);
	CU_ASSERT_EQUAL(engine_policy(e, "look.example", ENGINE_NO_STORE, &p),
			MT_OK);
	CU_ASSERT_STRING_EQUAL(reason_str(p.reason), "cached-dns-tempfail");
	engine_policy_clear(&p);
	CU_ASSERT_EQUAL_FATAL(cache_get(engine_cache(e), "look.example", &g),
			      MT_OK);
	CU_ASSERT_EQUAL(g.fail_count, 0);
	CU_ASSERT_EQUAL(g.retry_after, 0);
	CU_ASSERT_EQUAL(g.lease_pid, 0);
	cache_entry_clear(&g);
	/* nothing cached: nothing written either */
	CU_ASSERT_EQUAL(engine_policy(e, "unseen.example", ENGINE_NO_STORE,
				      &p), MT_OK);
	engine_policy_clear(&p);
	CU_ASSERT_EQUAL(cache_get(engine_cache(e), "unseen.example", &g),
			MT_ENOTFOUND);
	clock_set_fake(0);
	engine_destroy(e);
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
	snprintf(dir, sizeof(dir), "/tmp/mtasts-engine-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	atexit(cleanup);
	log_set_sink(quiet, NULL);
	return 0;
}

static CU_TestInfo tests[] = {
	{ "override decides without network", t_override },
	{ "invalid domains rejected", t_bad_domain },
	{ "cached policy, tempfail keeps it, expiry", t_cached },
	{ "testing mode reports only", t_testing_and_none },
	{ "negative entry", t_negative },
	{ "no policy when DNS is unreachable", t_no_policy_without_network },
	{ "cache unavailable fails closed", t_cache_unavailable },
	{ "allocation failures", t_oom },
	{ "damaged entry fails closed", t_damaged_entry },
	{ "re-check before a deferral (5.1)", t_recheck_soon },
	{ "cache read error fails closed", t_cache_read_error },
	{ "a stale copy is never written back", t_stale_write_back },
	{ "address literals have no policy", t_address_literal },
	{ "a look never writes", t_no_store },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	if (setup() != 0)
		return -1;
	CUNIT_SUITE("engine", tests);
	return 0;
}
