/*
 * bench_cache.c - figures for docs/benchmarks.md "Cache": cache-hit lookup
 * latency (p50/p99 of per-operation times measured over batches) at 1k,
 * 100k and 1M domains, lookups per second with 1 and 2 processes, the
 * per-process attach cost (open, map, validate, close), file size per
 * domain.  Not a test: run by hand, prints its figures.
 *
 * usage: bench_cache [DIR] [MAX_DOMAINS]   (default /tmp, 1000000)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "cache.h"
#include "policy.h"
#include "status.h"

#define BATCH 1000
#define NBATCH 2000

/* Three patterns; the string's own NUL ends the third. */
static const char blob[] =
	"mx1.example.com\0mx2.example.com\0*.mail.example.net";

static void name(char *d, size_t n, unsigned i)
{
	snprintf(d, n, "domain%u.example%u.com", i, i % 97);
}

static unsigned long long rng = 88172645463325252ull;

static unsigned next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}

/* Lookups in a loop for secs seconds; returns the count. */
static long spin(struct cache *c, unsigned n, double secs)
{
	struct cache_entry g;
	char d[64];
	double end = now_ns() + secs * 1e9;
	long ops = 0;

	while (now_ns() < end) {
		for (int k = 0; k < BATCH; k++) {
			name(d, sizeof(d), next_rand() % n);
			if (cache_get(c, d, &g) == MT_OK)
				cache_entry_clear(&g);
			ops++;
		}
	}
	return ops;
}

static int run(const char *dir, unsigned n)
{
	char path[512], d[64];
	struct cache *c;
	struct cache_entry e, g;
	struct stat st;
	static double lat[NBATCH];
	static char names[BATCH][64];
	double t0, t1;
	size_t size = (size_t)n * 800 + (4u << 20);
	long misses = 0, ops1, ops2 = 0;
	int rc, pfd[2];

	/* as the module opens it: growth (by rebuild) allowed up to the
	 * default cache_max_size, so that a probe window full of unexpired
	 * enforce policies - which are never evicted - grows the file; at
	 * the limit such a put is refused (counted, not cached) */
	struct cache_opts opts = { size, CACHE_DEFAULT_MAX_SIZE, 0 };
	unsigned refused = 0;

	snprintf(path, sizeof(path), "%s/bench-cache-%u", dir, n);
	unlink(path);
	rc = cache_open_opts(&c, path, &opts);
	if (rc != MT_OK) {
		fprintf(stderr, "open: %s\n", mt_strerror(rc));
		return 1;
	}
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		name(e.domain, sizeof(e.domain), i);
		e.kind = CACHE_POLICY;
		e.mode = POLICY_MODE_ENFORCE;
		e.max_age = 604800;
		e.fetched = time(NULL);
		e.expires = e.fetched + 604800;
		snprintf(e.id, sizeof(e.id), "20260101T%u", i);
		e.n_mx = 3;
		e.mx_len = sizeof(blob);
		e.mx = (char *)blob;
		rc = cache_put(c, &e);
		if (rc == MT_EFULL) {
			refused++;
			continue;
		}
		if (rc != MT_OK) {
			fprintf(stderr, "put %u: %s\n", i, mt_strerror(rc));
			return 1;
		}
	}
	t1 = now_ns();
	stat(path, &st);
	printf("domains %u: fill %.2f s (%.0f ns/put), file %lld bytes "
	       "(%.0f bytes/domain), %u refused (the file at its limit)\n", n,
	       (t1 - t0) / 1e9, (t1 - t0) / n, (long long)st.st_size,
	       (double)st.st_size / n, refused);
	/* Hit latency: per-op time of each batch of random lookups. */
	for (int b = 0; b < NBATCH; b++) {
		for (int k = 0; k < BATCH; k++)
			name(names[k], sizeof(names[k]), next_rand() % n);
		t0 = now_ns();
		for (int k = 0; k < BATCH; k++) {
			if (cache_get(c, names[k], &g) == MT_OK)
				cache_entry_clear(&g);
			else
				misses++;
		}
		lat[b] = (now_ns() - t0) / BATCH;
	}
	qsort(lat, NBATCH, sizeof(lat[0]), cmp_d);
	printf("  hit latency: p50 %.0f ns, p99 %.0f ns (batches of %d, "
	       "%ld misses)\n", lat[NBATCH / 2], lat[NBATCH * 99 / 100],
	       BATCH, misses);
	/* Throughput, 1 and 2 processes. */
	ops1 = spin(c, n, 1.0);
	if (pipe(pfd) != 0)
		return 1;
	for (int p = 0; p < 2; p++) {
		if (fork() == 0) {
			long o;

			rng += (unsigned long long)p * 7919;
			o = spin(c, n, 1.0);	/* child re-attaches */
			if (write(pfd[1], &o, sizeof(o)) != sizeof(o))
				_exit(1);
			_exit(0);
		}
	}
	for (int p = 0; p < 2; p++) {
		long o = 0;

		if (read(pfd[0], &o, sizeof(o)) == sizeof(o))
			ops2 += o;
		wait(NULL);
	}
	close(pfd[0]);
	close(pfd[1]);
	printf("  lookups/s: 1 process %.2f M, 2 processes %.2f M "
	       "(name formatting included)\n", ops1 / 1e6, ops2 / 1e6);
	cache_close(c);
	/* Attach cost: open (fstat, mmap, validate) + one lookup + close. */
	for (int b = 0; b < NBATCH / 2; b++) {
		name(d, sizeof(d), next_rand() % n);
		t0 = now_ns();
		if (cache_open(&c, path, size) != MT_OK)
			return 1;
		if (cache_get(c, d, &g) == MT_OK)
			cache_entry_clear(&g);
		cache_close(c);
		lat[b] = now_ns() - t0;
	}
	qsort(lat, NBATCH / 2, sizeof(lat[0]), cmp_d);
	printf("  attach+first lookup+close: p50 %.1f us, p99 %.1f us\n",
	       lat[NBATCH / 4] / 1e3, lat[NBATCH / 2 * 99 / 100] / 1e3);
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	unsigned max = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10)
				: 1000000;
	unsigned sizes[] = { 1000, 100000, 1000000 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i] > max)
			break;
		if (run(dir, sizes[i]) != 0)
			return 1;
	}
	return 0;
}
