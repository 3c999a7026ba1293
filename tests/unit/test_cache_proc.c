/*
 * test_cache_proc.c - the cache across real processes: parallel writers
 * and lock-free readers checking that every entry they read is internally
 * consistent; a writer SIGKILLed in the middle of a slot write (through
 * shm_test_mid_write); fork after open.
 */
#include <CUnit/CUnit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "cunit_main.h"
#include "policy.h"
#include "shm.h"
#include "status.h"

static char dir[64];
static char path[128];

static void fresh(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mtasts-cproc-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cache", dir);
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static uint32_t fnv(const char *p, uint32_t n)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

/* An entry whose id encodes a hash of its mx blob and domain, with a
 * pattern count that varies (some need a big block). */
static void make(struct cache_entry *e, char *blob, size_t cap,
		 const char *d, unsigned ver)
{
	uint32_t len = 0, n = 1 + ver % 7;

	if (ver % 5 == 0)
		n = 400 + ver % 50;	/* big block */
	for (uint32_t i = 0; i < n && len + 40 < cap; i++)
		len += (uint32_t)snprintf(blob + len, cap - len,
					  "mx%u-%u.%s", i, ver, d) + 1;
	memset(e, 0, sizeof(*e));
	snprintf(e->domain, sizeof(e->domain), "%s", d);
	e->kind = CACHE_POLICY;
	e->mode = POLICY_MODE_ENFORCE;
	e->max_age = ver;
	e->expires = clock_now() + 3600;
	e->n_mx = n;
	e->mx_len = len;
	e->mx = blob;
	snprintf(e->id, sizeof(e->id), "%08x%08x", fnv(blob, len),
		 fnv(d, (uint32_t)strlen(d)) ^ ver);
}

static bool consistent(const struct cache_entry *g, const char *d)
{
	char want[TXT_ID_MAX + 1];

	if (strcmp(g->domain, d) != 0 || g->mx == NULL)
		return false;
	snprintf(want, sizeof(want), "%08x%08x", fnv(g->mx, g->mx_len),
		 fnv(d, (uint32_t)strlen(d)) ^ g->max_age);
	return strcmp(want, g->id) == 0;
}

#define NDOM 40
#define ITER 30000

/* A writer mixes what the engine does: stores (new versions, some in
 * chunk chains), id confirmations, failure back-offs, leases. */
static int writer(int w)
{
	struct cache *c;
	struct cache_entry e, g;
	static char blob[65536];
	char d[64];
	int bad = 0;

	if (cache_open(&c, path, 64 << 20) != MT_OK)
		return 1;
	for (unsigned i = 0; i < ITER / 3; i++) {
		int64_t now = clock_now();
		int rc = MT_OK;

		snprintf(d, sizeof(d), "d%u.example", (i * 7 + (unsigned)w) %
						      NDOM);
		switch (i % 4) {
		case 0:
			make(&e, blob, sizeof(blob), d, i * 4 + (unsigned)w + 1);
			rc = cache_put(c, &e);
			break;
		case 1:
			if (cache_get(c, d, &g) == MT_OK) {
				rc = cache_confirm(c, d, g.id, now);
				if (rc == MT_EEXIST)	/* a newer one came */
					rc = MT_OK;
				cache_entry_clear(&g);
			}
			break;
		case 2:
			rc = cache_note_failure(c, d, "x", now, 300, 3600,
						NULL);
			break;
		case 3:
			rc = cache_lease(c, d, now, now + 30);
			if (rc == MT_EBUSY)
				rc = MT_OK;
			else if (rc == MT_OK)
				rc = cache_unlease(c, d);
			break;
		}
		if (rc != MT_OK) {
			fprintf(stderr, "writer %d op %u: %s\n", w, i % 4,
				mt_strerror(rc));
			bad++;
		}
	}
	cache_close(c);
	return bad ? 1 : 0;
}

static int reader(int r)
{
	struct cache *c;
	struct cache_entry g;
	char d[64];
	int bad = 0;
	long hits = 0;

	if (cache_open(&c, path, 64 << 20) != MT_OK)
		return 1;
	for (unsigned i = 0; i < ITER; i++) {
		snprintf(d, sizeof(d), "d%u.example",
			 (i + (unsigned)r * 13) % NDOM);
		int rc = cache_get(c, d, &g);

		/* Every domain is present: a write in progress is waited
		 * out, never a miss and never "damaged". */
		if (rc == MT_OK) {
			hits++;
			if (!consistent(&g, d))
				bad++;
			cache_entry_clear(&g);
		} else {
			fprintf(stderr, "reader %d: %s: %s\n", r, d,
				mt_strerror(rc));
			bad++;
		}
	}
	cache_close(c);
	return bad ? 1 : (hits > 0 ? 0 : 3);
}

static void test_parallel(void)
{
	pid_t pids[8];
	int status, ok = 0;
	struct cache *c;

	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 64 << 20), MT_OK);
	/* Every domain present before the children start, so a reader that
	 * runs ahead of the writers (a loaded machine) still has hits to
	 * check: its "no hit at all" failure then means the readers really
	 * never got a consistent copy. */
	{
		static char blob[65536];
		struct cache_entry e;
		char d[64];

		for (unsigned k = 0; k < NDOM; k++) {
			snprintf(d, sizeof(d), "d%u.example", k);
			make(&e, blob, sizeof(blob), d, 100000 + k);
			CU_ASSERT_EQUAL_FATAL(cache_put(c, &e), MT_OK);
		}
	}
	cache_close(c);
	for (int i = 0; i < 8; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(i < 4 ? writer(i) : reader(i));
		CU_ASSERT_FATAL(pids[i] > 0);
	}
	for (int i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(waitpid(pids[i], &status, 0), pids[i]);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
		else
			fprintf(stderr, "child %d status %d\n", i, status);
	}
	CU_ASSERT_EQUAL(ok, 8);
	cleanup();
}

static void die_here(void)
{
	raise(SIGKILL);
}

static void test_kill_mid_write(void)
{
	struct cache *c;
	struct cache_entry e, g;
	static char blob[65536];
	pid_t pid;
	int status;
	struct cache_stats st;

	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 64 << 20), MT_OK);
	make(&e, blob, sizeof(blob), "k.example", 1);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	pid = fork();
	if (pid == 0) {
		struct cache_entry e2;
		static char b2[65536];

		make(&e2, b2, sizeof(b2), "k.example", 2);
		shm_test_mid_write = die_here;
		cache_put(c, &e2);
		_exit(0);	/* not reached */
	}
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The writer died inside the slot: the reader meets an odd slot,
	 * waits it out under the lock (the dead writer's lock is gone) and
	 * the journal finishes the write.  Never the half-written value,
	 * never a hang, nothing lost. */
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "k.example", &g), MT_OK);
	CU_ASSERT(consistent(&g, "k.example"));
	CU_ASSERT_EQUAL(g.max_age, 2);
	cache_entry_clear(&g);
	CU_ASSERT_EQUAL(cache_stats(c, &st), MT_OK);
	CU_ASSERT_EQUAL(st.damaged, 0);
	make(&e, blob, sizeof(blob), "k.example", 3);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "k.example", &g), MT_OK);
	CU_ASSERT(consistent(&g, "k.example"));
	CU_ASSERT_EQUAL(g.max_age, 3);
	cache_entry_clear(&g);
	/* Same with a big-block entry (killed before the slot is written). */
	pid = fork();
	if (pid == 0) {
		struct cache_entry e2;
		static char b2[65536];

		make(&e2, b2, sizeof(b2), "k.example", 5);
		shm_test_mid_write = die_here;
		cache_put(c, &e2);
		_exit(0);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFSIGNALED(status));
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "k.example", &g), MT_OK);
	CU_ASSERT(consistent(&g, "k.example"));
	CU_ASSERT_EQUAL(g.max_age, 5);
	cache_entry_clear(&g);
	/* Killed while writing the journal itself: the slot was never
	 * touched, the old value stays. */
	pid = fork();
	if (pid == 0) {
		struct cache_entry e2;
		static char b2[65536];

		make(&e2, b2, sizeof(b2), "k.example", 7);
		cache_test_mid_journal = die_here;
		cache_put(c, &e2);
		_exit(0);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFSIGNALED(status));
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "k.example", &g), MT_OK);
	CU_ASSERT(consistent(&g, "k.example"));
	CU_ASSERT_EQUAL(g.max_age, 5);
	cache_entry_clear(&g);
	for (unsigned v = 10; v < 40; v += 5) {	/* leaked chunks reclaimed */
		make(&e, blob, sizeof(blob), "k.example", v);
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	}
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "k.example", &g), MT_OK);
	CU_ASSERT(consistent(&g, "k.example"));
	cache_entry_clear(&g);
	cache_close(c);
	cleanup();
}

static void test_fork_after_open(void)
{
	struct cache *c;
	struct cache_entry e, g;
	static char blob[65536];
	pid_t pid;
	int status;

	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 64 << 20), MT_OK);
	make(&e, blob, sizeof(blob), "p.example", 1);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	pid = fork();
	if (pid == 0) {
		struct cache_entry e2, g2;
		static char b2[65536];
		int bad = 0;

		/* The child re-attaches (own fd, own OFD lock). */
		if (cache_get(c, "p.example", &g2) != MT_OK)
			bad |= 1;
		else
			cache_entry_clear(&g2);
		make(&e2, b2, sizeof(b2), "child.example", 2);
		if (cache_put(c, &e2) != MT_OK)
			bad |= 2;
		cache_close(c);
		_exit(bad);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "child.example", &g), MT_OK);
	CU_ASSERT(consistent(&g, "child.example"));
	cache_entry_clear(&g);
	/* The parent still writes: its lock was not taken by the child. */
	make(&e, blob, sizeof(blob), "p.example", 4);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	cache_close(c);
	cleanup();
}

int register_tests(void)
{
	static CU_TestInfo tests[] = {
		{ "4 writers x 4 readers", test_parallel },
		{ "writer SIGKILLed mid-write", test_kill_mid_write },
		{ "fork after open", test_fork_after_open },
		CU_TEST_INFO_NULL,
	};

	CUNIT_SUITE("cache_proc", tests);
	return 0;
}
