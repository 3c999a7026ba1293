/*
 * test_cache.c - the policy cache in one process: every field round trips,
 * negative entries, delete, flush, 1,000 mx patterns, eviction order,
 * persistence, leases, corruption (bytes over entries and header: a miss,
 * never a wrong policy, never a crash), truncation, out of memory.
 */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "cunit_main.h"
#include "mem.h"
#include "policy.h"
#include "status.h"

static char dir[64];
static char path[128];

static void fresh(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mtasts-cache-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cache", dir);
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static void mk(struct cache_entry *e, const char *d, const char *blob,
	       uint32_t len, uint32_t n)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->domain, sizeof(e->domain), "%s", d);
	e->kind = CACHE_POLICY;
	e->mode = POLICY_MODE_ENFORCE;
	e->max_age = 86400;
	e->fetched = 1000;
	e->expires = clock_now() + 86400;
	e->txt_checked = 1234;
	snprintf(e->id, sizeof(e->id), "id%s", d);
	e->fail_count = 3;
	e->retry_after = 777;
	e->n_mx = n;
	e->mx_len = len;
	e->mx = (char *)blob;
}

static const char blob2[] = "mx1.example.com\0*.example.net\0";

static void test_roundtrip(void)
{
	struct cache *c;
	struct cache_entry e, g;

	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	mk(&e, "example.com", blob2, sizeof(blob2) - 1, 2);
	CU_ASSERT_EQUAL(cache_get(c, "example.com", &g), MT_ENOTFOUND);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "example.com", &g), MT_OK);
	CU_ASSERT_STRING_EQUAL(g.domain, "example.com");
	CU_ASSERT_EQUAL(g.kind, CACHE_POLICY);
	CU_ASSERT_EQUAL(g.mode, POLICY_MODE_ENFORCE);
	CU_ASSERT_EQUAL(g.max_age, 86400);
	CU_ASSERT_EQUAL(g.fetched, 1000);
	CU_ASSERT_EQUAL(g.expires, e.expires);
	CU_ASSERT_EQUAL(g.txt_checked, 1234);
	CU_ASSERT_STRING_EQUAL(g.id, "idexample.com");
	CU_ASSERT_EQUAL(g.fail_count, 3);
	CU_ASSERT_EQUAL(g.retry_after, 777);
	CU_ASSERT_EQUAL(g.n_mx, 2);
	CU_ASSERT_EQUAL(g.mx_len, sizeof(blob2) - 1);
	CU_ASSERT(memcmp(g.mx, blob2, sizeof(blob2) - 1) == 0);
	CU_ASSERT(policy_mx_matches(g.mx, g.mx_len, "a.example.net"));
	cache_entry_clear(&g);
	/* A negative answer never replaces an unexpired policy (RFC 8461
	 * §10: "no record" is what an attacker says first)... */
	memset(&e, 0, sizeof(e));
	snprintf(e.domain, sizeof(e.domain), "example.com");
	e.kind = CACHE_NEGATIVE;
	e.expires = 5555;
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_EEXIST);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "example.com", &g), MT_OK);
	CU_ASSERT_EQUAL(g.kind, CACHE_POLICY);
	cache_entry_clear(&g);
	/* ... an expired one, yes; then delete. */
	mk(&e, "example.com", blob2, sizeof(blob2) - 1, 2);
	e.expires = clock_now() - 1;
	e.fetched = 2000;
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	memset(&e, 0, sizeof(e));
	snprintf(e.domain, sizeof(e.domain), "example.com");
	e.kind = CACHE_NEGATIVE;
	e.expires = 5555;
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "example.com", &g), MT_OK);
	CU_ASSERT_EQUAL(g.kind, CACHE_NEGATIVE);
	CU_ASSERT_EQUAL(g.expires, 5555);
	CU_ASSERT_EQUAL(g.n_mx, 0);
	CU_ASSERT_PTR_NULL(g.mx);
	cache_entry_clear(&g);
	CU_ASSERT_EQUAL(cache_get(c, "example.org", &g), MT_ENOTFOUND);
	CU_ASSERT_EQUAL(cache_delete(c, "example.com"), MT_OK);
	CU_ASSERT_EQUAL(cache_get(c, "example.com", &g), MT_ENOTFOUND);
	CU_ASSERT_EQUAL(cache_delete(c, "example.com"), MT_ENOTFOUND);
	/* Invalid entries are refused. */
	mk(&e, "bad.example", "a\0b", 3, 1);	/* count mismatch */
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_EINVAL);
	cache_close(c);
	cleanup();
}

/* 1,000 patterns, then the same domain shrinks back to inline. */
static void test_many_mx(void)
{
	struct cache *c;
	struct cache_entry e, g;
	char *blob = malloc(70000);
	uint32_t len = 0;
	struct cache_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 8 << 20), MT_OK);
	for (int i = 0; i < 1000; i++)
		len += (uint32_t)snprintf(blob + len, 70000 - len,
					  "mx%04d.example.com", i) + 1;
	mk(&e, "big.example", blob, len, 1000);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "big.example", &g), MT_OK);
	CU_ASSERT_EQUAL(g.n_mx, 1000);
	CU_ASSERT_EQUAL(g.mx_len, len);
	CU_ASSERT(memcmp(g.mx, blob, len) == 0);
	CU_ASSERT(policy_mx_matches(g.mx, g.mx_len, "mx0999.example.com"));
	cache_entry_clear(&g);
	/* Rewriting many times never leaks big blocks. */
	for (int i = 0; i < 50; i++) {
		char d[32];

		snprintf(d, sizeof(d), "big%d.example", i % 3);
		mk(&e, d, blob, len, 1000);
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	}
	/* Over 64 KiB: too big. */
	memset(blob, 'a', 65600);
	blob[65599] = '\0';
	mk(&e, "huge.example", blob, 65600, 1);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_ETOOBIG);
	mk(&e, "big.example", blob2, sizeof(blob2) - 1, 2);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "big.example", &g), MT_OK);
	CU_ASSERT_EQUAL(g.n_mx, 2);
	cache_entry_clear(&g);
	CU_ASSERT_EQUAL(cache_stats(c, &st), MT_OK);
	CU_ASSERT_EQUAL(st.used, 4);
	CU_ASSERT_EQUAL(cache_flush(c), MT_OK);
	CU_ASSERT_EQUAL(cache_get(c, "big0.example", &g), MT_ENOTFOUND);
	CU_ASSERT_EQUAL(cache_stats(c, &st), MT_OK);
	CU_ASSERT_EQUAL(st.used, 0);
	cache_close(c);
	free(blob);
	cleanup();
}

static int count_fn(const struct cache_entry *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

/* The smallest file has 64+ slots but a domain can only live in its probe
 * window (32 slots): fill far beyond capacity and check the order. */
static void test_eviction(void)
{
	struct cache *c;
	struct cache_entry e, g;
	struct cache_stats st;
	char d[64];
	int n = 0, enforce_kept = 0, lost_testing = 0;
	int64_t now = clock_now();

	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1), MT_OK);
	CU_ASSERT_EQUAL(cache_stats(c, &st), MT_OK);
	/* Enforce policies (unexpired) in even domains, testing in odd. */
	for (unsigned i = 0; i < st.slots; i++) {
		snprintf(d, sizeof(d), "d%u.example", i);
		mk(&e, d, blob2, sizeof(blob2) - 1, 2);
		e.mode = (i % 4 == 0) ? POLICY_MODE_ENFORCE
				      : POLICY_MODE_TESTING;
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	}
	/* Expired entries go first. */
	mk(&e, "expired.example", blob2, sizeof(blob2) - 1, 2);
	e.mode = POLICY_MODE_TESTING;
	e.expires = now - 10;
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	for (unsigned i = 0; i < 3 * st.slots; i++) {
		snprintf(d, sizeof(d), "new%u.example", i);
		mk(&e, d, blob2, sizeof(blob2) - 1, 2);
		e.mode = POLICY_MODE_TESTING;
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	}
	CU_ASSERT_EQUAL(cache_get(c, "expired.example", &g), MT_ENOTFOUND);
	for (unsigned i = 0; i < st.slots; i++) {
		snprintf(d, sizeof(d), "d%u.example", i);
		if (cache_get(c, d, &g) == MT_OK) {
			if (i % 4 == 0)
				enforce_kept++;
			cache_entry_clear(&g);
		} else if (i % 4 != 0) {
			lost_testing++;
		}
	}
	/* Every enforce policy survived: testing ones could go instead. */
	CU_ASSERT_EQUAL(enforce_kept, (int)((st.slots + 3) / 4));
	CU_ASSERT(lost_testing > 0);
	CU_ASSERT_EQUAL(cache_stats(c, &st), MT_OK);
	CU_ASSERT(st.evictions > 0);
	CU_ASSERT_EQUAL(cache_foreach(c, count_fn, &n), MT_OK);
	CU_ASSERT_EQUAL((uint64_t)n, st.used);
	cache_close(c);
	cleanup();
}

static void test_lru(void)
{
	struct cache *c;
	struct cache_entry e, g;
	struct cache_stats st;
	char d[64];

	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1), MT_OK);
	CU_ASSERT_EQUAL(cache_stats(c, &st), MT_OK);
	clock_set_fake(100000);
	for (unsigned i = 0; i < st.slots; i++) {
		snprintf(d, sizeof(d), "d%u.example", i);
		mk(&e, d, blob2, sizeof(blob2) - 1, 2);
		e.mode = POLICY_MODE_TESTING;
		e.expires = 10000000;
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	}
	clock_set_fake(200000);	/* d0 is used later than the others */
	/* Filling every slot evicts within full probe windows, and the hash
	 * key is random per file: d0 itself may have gone.  Store it again
	 * (evicting another) so the test always starts with it present.
	 * (After the clock moved: a handle reads the clock for its LRU stamp
	 * once per 64 hits, this is the first.) */
	if (cache_get(c, "d0.example", &g) == MT_OK) {
		cache_entry_clear(&g);
	} else {
		mk(&e, "d0.example", blob2, sizeof(blob2) - 1, 2);
		e.mode = POLICY_MODE_TESTING;
		e.expires = 10000000;
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	}
	CU_ASSERT_EQUAL(cache_get(c, "d0.example", &g), MT_OK);
	cache_entry_clear(&g);
	for (unsigned i = 0; i < 2 * st.slots; i++) {
		snprintf(d, sizeof(d), "x%u.example", i);
		mk(&e, d, blob2, sizeof(blob2) - 1, 2);
		e.mode = POLICY_MODE_TESTING;
		e.expires = 10000000;
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
		if (i == st.slots / 4)
			break;
	}
	/* d0 was the most recently used of its window: kept. */
	CU_ASSERT_EQUAL(cache_get(c, "d0.example", &g), MT_OK);
	cache_entry_clear(&g);
	clock_set_fake(0);
	cache_close(c);
	cleanup();
}

static void test_persist_and_perms(void)
{
	struct cache *c;
	struct cache_entry e, g;
	char link[160];

	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	mk(&e, "keep.example", blob2, sizeof(blob2) - 1, 2);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	cache_close(c);
	{
		struct stat st;

		CU_ASSERT_EQUAL(stat(path, &st), 0);
		CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	}
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	CU_ASSERT_EQUAL(cache_get(c, "keep.example", &g), MT_OK);
	cache_entry_clear(&g);
	cache_close(c);
	/* Writable by others: refused, file untouched. */
	CU_ASSERT_EQUAL(chmod(path, 0666), 0);
	CU_ASSERT_EQUAL(cache_open(&c, path, 1 << 20), MT_EPERM);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(chmod(path, 0620), 0);
	CU_ASSERT_EQUAL(cache_open(&c, path, 1 << 20), MT_EPERM);
	CU_ASSERT_EQUAL(chmod(path, 0600), 0);
	/* Owned by someone else (tests run as root: chown to nobody). */
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(chown(path, 65534, 65534), 0);
		CU_ASSERT_EQUAL(cache_open(&c, path, 1 << 20), MT_EPERM);
		CU_ASSERT_EQUAL(chown(path, 0, 0), 0);
	} else {
		/* Non-root: a file we own but another euid would not. */
		CU_ASSERT_EQUAL(cache_open(&c, path, 1 << 20), MT_OK);
		cache_close(c);
	}
	/* A symlink is refused, even to a good file. */
	snprintf(link, sizeof(link), "%s/link", dir);
	CU_ASSERT_EQUAL(symlink(path, link), 0);
	CU_ASSERT_EQUAL(cache_open(&c, link, 1 << 20), MT_EPERM);
	/* Still intact. */
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	CU_ASSERT_EQUAL(cache_get(c, "keep.example", &g), MT_OK);
	cache_entry_clear(&g);
	cache_close(c);
	cleanup();
}

static void test_truncated_and_header(void)
{
	static char big[4096];
	struct cache *c, *c2;
	struct cache_entry e, g;
	struct cache_where w[60], wb;
	struct stat st, st2;
	uint32_t blen = 0;
	int fd, rc, kept = 0;
	char d[64];

	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	/* 60 small entries, and one whose mx list takes a chunk chain (the
	 * data area is the last quarter of the file). */
	for (int i = 0; i < 60; i++) {
		snprintf(d, sizeof(d), "t%d.example", i);
		mk(&e, d, blob2, sizeof(blob2) - 1, 2);
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
		CU_ASSERT_EQUAL_FATAL(cache_test_where(c, d, &w[i]), MT_OK);
	}
	for (uint32_t i = 0; i < 100; i++)
		blen += (uint32_t)snprintf(big + blen, sizeof(big) - blen,
					   "mx%02u.big.example", i) + 1;
	mk(&e, "big.example", big, blen, 100);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	CU_ASSERT_EQUAL_FATAL(cache_test_where(c, "big.example", &wb), MT_OK);
	CU_ASSERT(wb.ext_off != 0);
	cache_close(c);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	/* Truncated by someone else: rebuilt (a new inode) with every entry
	 * whose slot is still in the file; an entry whose name survived but
	 * whose data was cut off is kept as lost (it may have been an
	 * enforce policy). */
	CU_ASSERT_EQUAL(truncate(path, st.st_size / 2), 0);
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	CU_ASSERT_EQUAL(stat(path, &st2), 0);
	CU_ASSERT_NOT_EQUAL(st.st_ino, st2.st_ino);
	CU_ASSERT_EQUAL(st2.st_size, st.st_size);
	for (int i = 0; i < 60; i++) {
		bool inside = w[i].slot_off + 512 <= (uint64_t)st.st_size / 2;

		snprintf(d, sizeof(d), "t%d.example", i);
		rc = cache_get(c, d, &g);
		CU_ASSERT_EQUAL(rc, inside ? MT_OK : MT_ENOTFOUND);
		if (rc == MT_OK) {
			CU_ASSERT_EQUAL(g.n_mx, 2);
			kept++;
		}
		cache_entry_clear(&g);
	}
	CU_ASSERT(kept > 0);
	if (wb.slot_off + 512 <= (uint64_t)st.st_size / 2) {
		CU_ASSERT_EQUAL_FATAL(cache_get(c, "big.example", &g), MT_OK);
		CU_ASSERT_EQUAL(g.kind, CACHE_LOST);
		cache_entry_clear(&g);
	}
	mk(&e, "t.example", blob2, sizeof(blob2) - 1, 2);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	/* Empty file. */
	cache_close(c);
	CU_ASSERT_EQUAL(truncate(path, 0), 0);
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	/* Header garbage while another handle is attached: the new opener
	 * rebuilds by rename, the old handle notices (retired) and follows. */
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, "XXXXXXXX", 8, 0), 8);
	close(fd);
	CU_ASSERT_EQUAL(cache_get(c, "t.example", &g), MT_OK);	/* old map */
	cache_entry_clear(&g);
	CU_ASSERT_EQUAL_FATAL(cache_open(&c2, path, 1 << 20), MT_OK);
	CU_ASSERT_EQUAL(stat(path, &st2), 0);
	CU_ASSERT_NOT_EQUAL(st.st_ino, st2.st_ino);
	CU_ASSERT_EQUAL(cache_put(c2, &e), MT_OK);
	cache_close(c);	/* c was retired by the rebuild?  Only if it could
			 * read the mark: it shares the old inode, so yes. */
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	CU_ASSERT_EQUAL(cache_get(c, "t.example", &g), MT_OK);
	cache_entry_clear(&g);
	cache_close(c);
	cache_close(c2);
	cleanup();
}

static void test_retired_follow(void)
{
	struct cache *c, *c2;
	struct cache_entry e, g;
	int fd;

	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	mk(&e, "r.example", blob2, sizeof(blob2) - 1, 2);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	/* Corrupt the version (keeps magic): a rebuild by a second opener. */
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, "\x7f", 1, 8), 1);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(cache_open(&c2, path, 1 << 20), MT_OK);
	mk(&e, "new.example", blob2, sizeof(blob2) - 1, 2);
	CU_ASSERT_EQUAL(cache_put(c2, &e), MT_OK);
	/* The first handle re-attaches to the new file. */
	CU_ASSERT_EQUAL(cache_get(c, "new.example", &g), MT_OK);
	cache_entry_clear(&g);
	CU_ASSERT_EQUAL(cache_get(c, "r.example", &g), MT_ENOTFOUND);
	cache_close(c);
	cache_close(c2);
	cleanup();
}

/* Random bytes over every slot: never a crash, never a wrong policy. */
static void test_random_bytes(void)
{
	struct cache *c;
	struct cache_entry e, g;
	struct stat st;
	unsigned char junk[4096];
	int fd, wrong = 0;
	char d[64];

	fresh();
	srand(42);
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	for (int i = 0; i < 300; i++) {
		snprintf(d, sizeof(d), "r%d.example", i);
		mk(&e, d, blob2, sizeof(blob2) - 1, 2);
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	}
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	for (int round = 0; round < 200; round++) {
		off_t off = 256 + (off_t)(rand() % (int)(st.st_size - 4352));
		size_t n = 1 + (size_t)(rand() % 600);

		for (size_t k = 0; k < n; k++)
			junk[k] = (unsigned char)rand();
		CU_ASSERT_EQUAL(pwrite(fd, junk, n, off), (ssize_t)n);
	}
	close(fd);
	for (int i = 0; i < 300; i++) {
		snprintf(d, sizeof(d), "r%d.example", i);
		if (cache_get(c, d, &g) == MT_OK) {
			if (strcmp(g.domain, d) != 0 || g.n_mx != 2 ||
			    g.mx_len != sizeof(blob2) - 1 ||
			    memcmp(g.mx, blob2, g.mx_len) != 0 ||
			    g.mode != POLICY_MODE_ENFORCE)
				wrong++;
			cache_entry_clear(&g);
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	/* Writers repair: every domain can be stored again. */
	for (int i = 0; i < 300; i++) {
		snprintf(d, sizeof(d), "r%d.example", i);
		mk(&e, d, blob2, sizeof(blob2) - 1, 2);
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
		CU_ASSERT_EQUAL(cache_get(c, d, &g), MT_OK);
		cache_entry_clear(&g);
	}
	cache_close(c);
	cleanup();
}

/* Random bytes over the header: every open succeeds (the file is kept or
 * rebuilt), and what is read is either the stored policy or a miss. */
static void test_random_header(void)
{
	struct cache *c;
	struct cache_entry e, g;
	unsigned char junk[64];
	int fd, wrong = 0, rebuilt = 0;

	fresh();
	srand(7);
	for (int round = 0; round < 60; round++) {
		int rc = cache_open(&c, path, 1 << 20);

		if (rc != MT_OK)
			fprintf(stderr, "round %d: %s\n", round,
				mt_strerror(rc));
		CU_ASSERT_EQUAL_FATAL(rc, MT_OK);
		if (cache_get(c, "h.example", &g) == MT_OK) {
			if (g.n_mx != 2 || memcmp(g.mx, blob2, g.mx_len) != 0)
				wrong++;
			cache_entry_clear(&g);
		} else {
			rebuilt++;
		}
		mk(&e, "h.example", blob2, sizeof(blob2) - 1, 2);
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
		cache_close(c);
		fd = open(path, O_RDWR);
		CU_ASSERT_FATAL(fd >= 0);
		size_t n = 1 + (size_t)(rand() % 16);
		off_t off = rand() % 120;	/* descriptor and key */

		for (size_t k = 0; k < n; k++)
			junk[k] = (unsigned char)rand();
		CU_ASSERT_EQUAL(pwrite(fd, junk, n, off), (ssize_t)n);
		close(fd);
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT(rebuilt > 50);	/* the first round, then nearly all */
	cleanup();
}

static void test_lease(void)
{
	struct cache *c;
	struct cache_entry e, g;
	int64_t now = clock_now();
	pid_t pid;
	int status;

	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	CU_ASSERT_EQUAL(cache_lease(c, "l.example", now, now + 30), MT_OK);
	/* An empty entry holds the lease only. */
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "l.example", &g), MT_OK);
	CU_ASSERT_EQUAL(g.kind, CACHE_EMPTY);
	CU_ASSERT_EQUAL(g.lease_pid, getpid());
	CU_ASSERT_EQUAL(g.lease_deadline, now + 30);
	cache_entry_clear(&g);
	/* Same process again: fine.  Another live process: busy. */
	CU_ASSERT_EQUAL(cache_lease(c, "l.example", now, now + 30), MT_OK);
	pid = fork();
	if (pid == 0) {
		int rc1 = cache_lease(c, "l.example", now, now + 30);
		int rc2 = cache_lease(c, "l.example", now + 31, now + 60);

		_exit(rc1 == MT_EBUSY && rc2 == MT_OK ? 0 : 1);
	}
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The child took it at now+31 and died: a dead owner's lease is
	 * free at once, even before its deadline. */
	CU_ASSERT_EQUAL(cache_lease(c, "l.example", now, now + 30), MT_OK);
	/* put keeps the lease; unlease drops it. */
	mk(&e, "l.example", blob2, sizeof(blob2) - 1, 2);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "l.example", &g), MT_OK);
	CU_ASSERT_EQUAL(g.lease_pid, getpid());
	CU_ASSERT_EQUAL(g.kind, CACHE_POLICY);
	cache_entry_clear(&g);
	CU_ASSERT_EQUAL(cache_unlease(c, "l.example"), MT_OK);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, "l.example", &g), MT_OK);
	CU_ASSERT_EQUAL(g.lease_pid, 0);
	CU_ASSERT_EQUAL(g.n_mx, 2);
	cache_entry_clear(&g);
	/* A lease-only entry disappears on unlease. */
	CU_ASSERT_EQUAL(cache_lease(c, "o.example", now, now + 5), MT_OK);
	CU_ASSERT_EQUAL(cache_unlease(c, "o.example"), MT_OK);
	CU_ASSERT_EQUAL(cache_get(c, "o.example", &g), MT_ENOTFOUND);
	cache_close(c);
	cleanup();
}

static void test_oom(void)
{
	struct cache *c = NULL;
	struct cache_entry e, g;
	int rc;

	fresh();
	for (long n = 0; n < 4; n++) {
		mem_fail_after(n);
		rc = cache_open(&c, path, 1 << 20);
		mem_fail_after(-1);
		if (rc == MT_OK)
			break;
		CU_ASSERT_EQUAL(rc, MT_ENOMEM);
		CU_ASSERT_PTR_NULL(c);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	mk(&e, "m.example", blob2, sizeof(blob2) - 1, 2);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	mem_fail_after(0);
	CU_ASSERT_EQUAL(cache_get(c, "m.example", &g), MT_ENOMEM);
	mem_fail_after(-1);
	CU_ASSERT_EQUAL(cache_get(c, "m.example", &g), MT_OK);
	cache_entry_clear(&g);
	cache_close(c);
	cleanup();
}


/* A policy of n patterns for domain d (a chunk chain when n is large). */
static uint32_t big_blob(char *b, size_t cap, const char *d, unsigned n,
			 unsigned ver)
{
	uint32_t len = 0;

	for (unsigned i = 0; i < n; i++)
		len += (uint32_t)snprintf(b + len, cap - len,
					  "mx%03u-v%u.%s", i, ver, d) + 1;
	return len;
}

/* Issue: at most 63 large policies fitted the default file.  The file now
 * grows (by rebuild) up to cache_max_size, keeping every entry. */
static void test_growth(void)
{
	static char b[65536];
	struct cache_opts o = { 1 << 20, 32 << 20, 0 };
	struct cache *c;
	struct cache_entry e, g;
	struct cache_stats st;
	char d[64];
	int missing = 0;

	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open_opts(&c, path, &o), MT_OK);
	for (unsigned i = 0; i < 400; i++) {
		uint32_t len;

		snprintf(d, sizeof(d), "g%u.example", i);
		len = big_blob(b, sizeof(b), d, 40, 1);
		mk(&e, d, b, len, 40);
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	}
	for (unsigned i = 0; i < 400; i++) {
		snprintf(d, sizeof(d), "g%u.example", i);
		if (cache_get(c, d, &g) != MT_OK || g.n_mx != 40)
			missing++;
		cache_entry_clear(&g);
	}
	CU_ASSERT_EQUAL(missing, 0);
	CU_ASSERT_EQUAL(cache_stats(c, &st), MT_OK);
	CU_ASSERT(st.grows > 0);
	CU_ASSERT(st.file_size > (1u << 20));
	CU_ASSERT(st.file_size <= (32u << 20));
	CU_ASSERT_EQUAL(st.policies, 400);
	/* Another handle (another process) follows the new file. */
	{
		struct cache *c2;

		CU_ASSERT_EQUAL_FATAL(cache_open(&c2, path, 1 << 20), MT_OK);
		CU_ASSERT_EQUAL(cache_get(c2, "g399.example", &g), MT_OK);
		cache_entry_clear(&g);
		cache_close(c2);
	}
	cache_close(c);
	cleanup();
}

/* At the size limit: an unexpired enforce policy is never evicted for
 * another domain; testing policies go first; a new policy that finds no
 * room is refused (MT_EFULL); a cached large policy can always be replaced
 * by a new version (the reserve). */
static void test_full(void)
{
	static char b[65536];
	struct cache_opts o = { 1 << 20, 1 << 20, 0 };
	struct cache *c;
	struct cache_entry e, g;
	char d[64];
	unsigned stored = 0, lost = 0;
	int rc = MT_OK;

	fresh();
	CU_ASSERT_EQUAL_FATAL(cache_open_opts(&c, path, &o), MT_OK);
	/* testing policies with chains first, then enforce ones until full */
	for (unsigned i = 0; i < 20; i++) {
		uint32_t len;

		snprintf(d, sizeof(d), "t%u.example", i);
		len = big_blob(b, sizeof(b), d, 100, 1);
		mk(&e, d, b, len, 100);
		e.mode = POLICY_MODE_TESTING;
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	}
	for (unsigned i = 0; i < 2000 && rc == MT_OK; i++) {
		uint32_t len;

		snprintf(d, sizeof(d), "e%u.example", i);
		len = big_blob(b, sizeof(b), d, 100, 1);
		mk(&e, d, b, len, 100);
		rc = cache_put(c, &e);
		if (rc == MT_OK)
			stored++;
	}
	CU_ASSERT_EQUAL(rc, MT_EFULL);
	CU_ASSERT(stored > 20);
	/* every enforce policy stored is still there */
	for (unsigned i = 0; i < stored; i++) {
		snprintf(d, sizeof(d), "e%u.example", i);
		if (cache_get(c, d, &g) != MT_OK || g.n_mx != 100)
			lost++;
		cache_entry_clear(&g);
	}
	CU_ASSERT_EQUAL(lost, 0);
	/* the testing ones made room */
	CU_ASSERT_EQUAL(cache_get(c, "t0.example", &g), MT_ENOTFOUND);
	/* a new version of a cached large policy always fits */
	for (unsigned v = 2; v < 6; v++) {
		uint32_t len = big_blob(b, sizeof(b), "e3.example", 100, v);

		mk(&e, "e3.example", b, len, 100);
		e.fetched = 1000 + v;
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
		CU_ASSERT_EQUAL_FATAL(cache_get(c, "e3.example", &g), MT_OK);
		CU_ASSERT(strncmp(g.mx, "mx000-v", 7) == 0 &&
			  g.mx[7] == (char)('0' + v));
		cache_entry_clear(&g);
	}
	cache_close(c);
	cleanup();
}

/* Flip one byte of the domain's slot at offset off (from the slot). */
static void flip(uint64_t at)
{
	unsigned char b;
	int fd = open(path, O_RDWR);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, &b, 1, (off_t)at), 1);
	b ^= 0x01;
	CU_ASSERT_EQUAL(pwrite(fd, &b, 1, (off_t)at), 1);
	close(fd);
}

/* Issue: a flipped byte in a slot's state or hash was a plain miss.  Every
 * kind of damage to the wanted domain's slot is "cannot tell"; a writer
 * keeps the name as a lost entry; other domains are not affected. */
static void test_damage_bytes(void)
{
	static char b[65536];
	struct cache *c;
	struct cache_entry e, g;
	struct cache_where w;
	const char *what[] = { "state", "hash", "kind", "data", "fixed sum",
			       "chain" };
	char d[64];

	for (unsigned k = 0; k < 6; k++) {
		uint64_t at;
		uint32_t len;

		fresh();
		CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
		for (unsigned i = 0; i < 50; i++) {
			snprintf(d, sizeof(d), "o%u.example", i);
			mk(&e, d, blob2, sizeof(blob2) - 1, 2);
			CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
		}
		len = big_blob(b, sizeof(b), "hit.example", 100, 1);
		mk(&e, "hit.example", b, len, 100);
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
		CU_ASSERT_EQUAL_FATAL(cache_test_where(c, "hit.example", &w),
				      MT_OK);
		at = w.slot_off + (k == 0 ? w.state_off : k == 1 ? w.hash_off :
				   k == 2 ? w.kind_off : k == 3 ? w.data_off :
				   w.fixed_sum_off);
		if (k == 5)
			at = w.ext_off + 100;
		flip(at);
		if (cache_get(c, "hit.example", &g) != MT_ECORRUPT)
			fprintf(stderr, "\n  damage to the %s: not detected\n",
				what[k]);
		CU_ASSERT_EQUAL(cache_get(c, "hit.example", &g), MT_ECORRUPT);
		for (unsigned i = 0; i < 50; i++) {
			snprintf(d, sizeof(d), "o%u.example", i);
			CU_ASSERT_EQUAL(cache_get(c, d, &g), MT_OK);
			cache_entry_clear(&g);
		}
		/* a negative answer does not replace it; it becomes lost */
		memset(&e, 0, sizeof(e));
		snprintf(e.domain, sizeof(e.domain), "hit.example");
		e.kind = CACHE_NEGATIVE;
		e.expires = clock_now() + 60;
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_EEXIST);
		CU_ASSERT_EQUAL_FATAL(cache_get(c, "hit.example", &g), MT_OK);
		CU_ASSERT_EQUAL(g.kind, CACHE_LOST);
		cache_entry_clear(&g);
		/* a fetched policy repairs it */
		mk(&e, "hit.example", blob2, sizeof(blob2) - 1, 2);
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
		CU_ASSERT_EQUAL_FATAL(cache_get(c, "hit.example", &g), MT_OK);
		CU_ASSERT_EQUAL(g.kind, CACHE_POLICY);
		cache_entry_clear(&g);
		cache_close(c);
		cleanup();
	}
}

/* The file changed under a running handle: extended (used as described),
 * replaced by rename (followed within a second), truncated (noticed
 * before any cut-off byte is touched, then rebuilt with what is left). */
static void test_changed_under_running(void)
{
	struct cache *c, *c2;
	struct cache_entry e, g;
	struct cache_where w[40];
	struct stat st;
	char d[64], other[160];
	pid_t pid;
	int status, fd;

	fresh();
	clock_set_fake(2000000000);
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	for (int i = 0; i < 40; i++) {
		snprintf(d, sizeof(d), "u%d.example", i);
		mk(&e, d, blob2, sizeof(blob2) - 1, 2);
		e.expires = 2000000000 + 86400;
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
		CU_ASSERT_EQUAL(cache_test_where(c, d, &w[i]), MT_OK);
	}
	/* extended: nothing lost, no rebuild */
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	fd = open(path, O_RDWR | O_APPEND);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "tail", 4), 4);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(cache_open(&c2, path, 1 << 20), MT_OK);
	CU_ASSERT_EQUAL(cache_get(c2, "u1.example", &g), MT_OK);
	cache_entry_clear(&g);
	cache_close(c2);
	{
		struct stat st2;

		CU_ASSERT_EQUAL(stat(path, &st2), 0);
		CU_ASSERT_EQUAL(st2.st_ino, st.st_ino);
	}
	/* replaced by rename: another cache file moved over the name */
	snprintf(other, sizeof(other), "%s/other", dir);
	CU_ASSERT_EQUAL_FATAL(cache_open(&c2, other, 1 << 20), MT_OK);
	mk(&e, "moved-in.example", blob2, sizeof(blob2) - 1, 2);
	e.expires = 2000000000 + 86400;
	CU_ASSERT_EQUAL(cache_put(c2, &e), MT_OK);
	cache_close(c2);
	CU_ASSERT_EQUAL(rename(other, path), 0);
	clock_set_fake(2000000001);
	for (int i = 0; i < 70; i++) {	/* the check runs every 64 reads */
		if (cache_get(c, "moved-in.example", &g) == MT_OK) {
			cache_entry_clear(&g);
			break;
		}
	}
	CU_ASSERT_EQUAL(cache_get(c, "moved-in.example", &g), MT_OK);
	cache_entry_clear(&g);
	cache_close(c);
	/* truncated under a running handle (in a child: a SIGBUS would kill
	 * it, not the suite) */
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 1 << 20), MT_OK);
	for (int i = 0; i < 40; i++) {
		snprintf(d, sizeof(d), "u%d.example", i);
		mk(&e, d, blob2, sizeof(blob2) - 1, 2);
		e.expires = 2000000000 + 86400;
		CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
		CU_ASSERT_EQUAL(cache_test_where(c, d, &w[i]), MT_OK);
	}
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	pid = fork();
	if (pid == 0) {
		int bad = 0;

		if (truncate(path, st.st_size / 2) != 0)
			_exit(3);
		clock_set_fake(2000000003);
		/* lookups of entries still inside the file until the handle
		 * has noticed (at most 64) ... */
		for (int i = 0, n = 0; n < 70 && i < 40; i++) {
			if (w[i].slot_off + 512 > (uint64_t)st.st_size / 2)
				continue;
			snprintf(d, sizeof(d), "u%d.example", i);
			for (int k = 0; k < 70; k++, n++) {
				if (cache_get(c, d, &g) != MT_OK)
					bad++;
				cache_entry_clear(&g);
			}
			break;
		}
		/* ... then every one, the cut-off ones included */
		for (int i = 0; i < 40; i++) {
			bool inside = w[i].slot_off + 512 <=
				      (uint64_t)st.st_size / 2;

			snprintf(d, sizeof(d), "u%d.example", i);
			if (cache_get(c, d, &g) != (inside ? MT_OK
							   : MT_ENOTFOUND))
				bad++;
			cache_entry_clear(&g);
		}
		_exit(bad ? 1 : 0);
	}
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fprintf(stderr, "\n  truncated: child killed by signal %d\n",
			WTERMSIG(status));
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cache_close(c);
	clock_set_fake(0);
	cleanup();
}

/* Root (Debian's Exim routes as root) in the MTA user's directory: the
 * file it creates is that user's, so the MTA's processes and the timers
 * running as that user can use it; a file of root's own there is refused
 * (it may be a link to one root must not write).  Needs root: as another
 * user there is nothing to test. */
static void test_root_in_mta_dir(void)
{
	struct cache *c;
	struct cache_entry e, g;
	struct stat st;
	char sub[160], file[200];
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr, "\n  (not root: the root case is CI's)\n");
		return;
	}
	fresh();
	CU_ASSERT_EQUAL_FATAL(chmod(dir, 0711), 0);	/* the user passes */
	snprintf(sub, sizeof(sub), "%s/mta", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0700), 0);
	CU_ASSERT_EQUAL_FATAL(chown(sub, 65534, 65534), 0);
	snprintf(file, sizeof(file), "%s/cache", sub);
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, file, 1 << 20), MT_OK);
	CU_ASSERT_EQUAL(stat(file, &st), 0);
	CU_ASSERT_EQUAL(st.st_uid, 65534);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	mk(&e, "root.example", blob2, sizeof(blob2) - 1, 2);
	CU_ASSERT_EQUAL(cache_put(c, &e), MT_OK);
	cache_close(c);
	/* the MTA user itself opens it */
	{
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(2);
			if (cache_open(&c, file, 1 << 20) != MT_OK ||
			    cache_get(c, "root.example", &g) != MT_OK)
				_exit(1);
			_exit(0);
		}
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
		CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* a root-owned file there is refused */
	CU_ASSERT_EQUAL(unlink(file), 0);
	fd = open(file, O_RDWR | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(ftruncate(fd, 1 << 20), 0);
	close(fd);
	CU_ASSERT_EQUAL(cache_open(&c, file, 1 << 20), MT_EPERM);
	cleanup();
}

int register_tests(void)
{
	static CU_TestInfo tests[] = {
		{ "round trip, negative, delete", test_roundtrip },
		{ "1000 mx patterns, flush", test_many_mx },
		{ "eviction: expired, testing, enforce last", test_eviction },
		{ "eviction: least recently used", test_lru },
		{ "persistence, permissions, symlink", test_persist_and_perms },
		{ "truncated file, garbage header", test_truncated_and_header },
		{ "replaced file is followed", test_retired_follow },
		{ "random bytes over entries", test_random_bytes },
		{ "random bytes over the header", test_random_header },
		{ "fetch lease", test_lease },
		{ "out of memory", test_oom },
		{ "the file grows for large policies", test_growth },
		{ "at the limit: enforce kept, updates fit", test_full },
		{ "damaged bytes: never a miss", test_damage_bytes },
		{ "extended, replaced, truncated while attached",
		  test_changed_under_running },
		{ "root in the MTA user's directory", test_root_in_mta_dir },
		CU_TEST_INFO_NULL,
	};

	CUNIT_SUITE("cache", tests);
	return 0;
}
