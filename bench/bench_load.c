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
 * usage: bench_load MODULE CONFIG DOMAIN MX [RUNS [EMPTY_MODULE]]
 * The domain must be cached (bench_seed does it); prints p50/p90/p99 in
 * microseconds of each phase and of the whole, three rounds.  This process
 * links libc and libdl alone.  EMPTY_MODULE (empty_module.so) gives the
 * floor: what dlopen() of a module that does nothing costs here.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../plugin/mtasts.h"
#include "bench_util.h"

/* The phases of one fresh process, in ns. */
enum { PH_DLOPEN, PH_OPEN, PH_DECIDE, PH_CLOSE, PH_TOTAL, PH_N };

static const char *const phase_names[PH_N] = {
	"dlopen", "mtasts_open", "mtasts_decide", "mtasts_close", "total",
};

/* One fresh process: load, open, decide, close; the phase times to fd. */
static int one(const char *module, const char *conf, const char *dom,
	       const char *mx, int with_net, int fd)
{
	int (*op)(struct mtasts **, const char *);
	int (*dec)(struct mtasts *, const char *, const char *,
		   struct mtasts_decision *);
	void (*cl)(struct mtasts *);
	struct mtasts_decision d;
	struct mtasts *h = NULL;
	double t[PH_N + 1], ph[PH_N];
	void *so;

	t[0] = now_ns();
	so = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (so == NULL)
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
	*(void **)&op = dlsym(so, "mtasts_open");
	*(void **)&dec = dlsym(so, "mtasts_decide");
	*(void **)&cl = dlsym(so, "mtasts_close");
	t[1] = now_ns();
	if (op == NULL) { /* the empty module: dlopen alone */
		for (int i = 0; i < PH_N; i++)
			ph[i] = 0;
		ph[PH_DLOPEN] = ph[PH_TOTAL] = t[1] - t[0];
		return write(fd, ph, sizeof(ph)) == sizeof(ph) ? 0 : 1;
	}
	if (op(&h, conf) != MTASTS_OK)
		return 1;
	t[2] = now_ns();
	if (dec(h, dom, mx, &d) != MTASTS_OK ||
	    d.verdict != MTASTS_VERDICT_REQUIRE_TLS)
		return 1;
	t[3] = now_ns();
	cl(h);
	t[4] = now_ns();
	for (int i = 0; i < PH_TOTAL; i++)
		ph[i] = t[i + 1] - t[i];
	ph[PH_TOTAL] = t[4] - t[0];
	return write(fd, ph, sizeof(ph)) == sizeof(ph) ? 0 : 1;
}

static void series(const char *label, const char *module, const char *conf,
		   const char *dom, const char *mx, int with_net, int runs)
{
	double *v[PH_N];
	int p[2], got = 0, status;

	for (int k = 0; k < PH_N; k++)
		if ((v[k] = calloc((size_t)runs, sizeof(double))) == NULL)
			exit(1);
	if (pipe(p) != 0)
		exit(1);
	for (int i = 0; i < runs; i++) {
		double ph[PH_N];
		pid_t pid = fork();

		if (pid == 0)
			_exit(one(module, conf, dom, mx, with_net, p[1]));
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		    read(p[0], ph, sizeof(ph)) == sizeof(ph)) {
			for (int k = 0; k < PH_N; k++)
				v[k][got] = ph[k];
			got++;
		}
	}
	printf("%s (%d runs)\n", label, got);
	for (int k = 0; k < PH_N && got > 0; k++) {
		qsort(v[k], (size_t)got, sizeof(double), cmp_d);
		if (v[k][got - 1] == 0)
			continue; /* a phase the series does not have */
		printf("  %-14s p50 %8.1f us  p90 %8.1f us  p99 %8.1f us\n",
		       phase_names[k], v[k][got / 2] / 1e3,
		       v[k][got * 9 / 10] / 1e3, v[k][got * 99 / 100] / 1e3);
	}
	if (got == 0)
		printf("  failed\n");
	close(p[0]);
	close(p[1]);
	for (int k = 0; k < PH_N; k++)
		free(v[k]);
}

int main(int argc, char **argv)
{
	int runs;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_load MODULE CONFIG DOMAIN MX "
			"[RUNS [EMPTY_MODULE]]\n");
		return 2;
	}
	runs = (int)bench_count(argc > 5 ? argv[5] : NULL, 500);
	for (int round = 0; round < 3; round++) {
		if (argc > 6)
			series("an empty module: dlopen alone (the floor)",
			       argv[6], argv[2], argv[3], argv[4], 0, runs);
		series("mtasts.so: load, open, decide, close", argv[1],
		       argv[2], argv[3], argv[4], 0, runs);
		series("the same with the network half loaded too", argv[1],
		       argv[2], argv[3], argv[4], 1, runs / 5);
	}
	return 0;
}
