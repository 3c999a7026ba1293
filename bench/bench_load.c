/*
 * bench_load.c - what a delivery process pays for the module, measured as
 * Exim uses it: in a fresh process, dlopen(mtasts.so), mtasts_open(), the
 * first decision, mtasts_close().  Exim forks a process per delivery and
 * loads the module there, so this - not the cached lookup - is the price
 * per message.  For comparison, the same process also loading the network
 * half (mtasts-net.so: libcurl, libunbound, GnuTLS, libidn2 - what the
 * module as a whole cost before it was split), which happens only when
 * the cache cannot answer.
 *
 * usage: bench_load MODULE CONFIG DOMAIN MX [RUNS]
 * The domain must be cached (bench_seed does it); prints p50/p90/p99 in
 * microseconds.  This process links libc and libdl alone.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../plugin/mtasts.h"
#include "bench_util.h"

/* One fresh process: load, open, decide, close; the time in ns to fd. */
static int one(const char *module, const char *conf, const char *dom,
	       const char *mx, int with_net, int fd)
{
	int (*op)(struct mtasts **, const char *);
	int (*dec)(struct mtasts *, const char *, const char *,
		   struct mtasts_decision *);
	void (*cl)(struct mtasts *);
	struct mtasts_decision d;
	struct mtasts *h = NULL;
	double t0 = now_ns(), t;
	void *so = dlopen(module, RTLD_NOW | RTLD_LOCAL);

	if (so == NULL)
		return 1;
	*(void **)&op = dlsym(so, "mtasts_open");
	*(void **)&dec = dlsym(so, "mtasts_decide");
	*(void **)&cl = dlsym(so, "mtasts_close");
	if (op(&h, conf) != MTASTS_OK || dec(h, dom, mx, &d) != MTASTS_OK ||
	    d.verdict != MTASTS_VERDICT_REQUIRE_TLS)
		return 1;
	if (with_net) {
		char path[4096];
		const char *slash = strrchr(module, '/');

		snprintf(path, sizeof(path), "%.*s/mtasts-net.so",
			 slash ? (int)(slash - module) : 1,
			 slash ? module : ".");
		if (dlopen(path, RTLD_NOW | RTLD_LOCAL) == NULL)
			return 1;
	}
	cl(h);
	t = now_ns() - t0;
	return write(fd, &t, sizeof(t)) == sizeof(t) ? 0 : 1;
}

static void series(const char *label, const char *module, const char *conf,
		   const char *dom, const char *mx, int with_net, int runs)
{
	double *v = calloc((size_t)runs, sizeof(double));
	int p[2], got = 0, status;

	if (v == NULL || pipe(p) != 0)
		exit(1);
	for (int i = 0; i < runs; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(one(module, conf, dom, mx, with_net, p[1]));
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		    read(p[0], &v[got], sizeof(v[got])) == sizeof(v[got]))
			got++;
	}
	qsort(v, (size_t)got, sizeof(double), cmp_d);
	if (got == 0) {
		printf("%-40s failed\n", label);
	} else {
		printf("%-40s runs %d  p50 %8.1f us  p90 %8.1f us  "
		       "p99 %8.1f us\n", label, got, v[got / 2] / 1e3,
		       v[got * 9 / 10] / 1e3, v[got * 99 / 100] / 1e3);
	}
	close(p[0]);
	close(p[1]);
	free(v);
}

int main(int argc, char **argv)
{
	int runs;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_load MODULE CONFIG DOMAIN MX "
			"[RUNS]\n");
		return 2;
	}
	runs = argc > 5 ? atoi(argv[5]) : 500;
	for (int round = 0; round < 3; round++) {
		series("mtasts.so: load+open+decide+close", argv[1], argv[2],
		       argv[3], argv[4], 0, runs);
		series("... and the network half loaded too", argv[1],
		       argv[2], argv[3], argv[4], 1, runs / 5);
	}
	return 0;
}
