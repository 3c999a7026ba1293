/*
 * conc.c - the no-downgrade promise under load (test_concurrency.sh).
 *
 *   conc seed CONFIG DOMAIN...
 *       fetch every domain's policy through the engine (cached, enforce)
 *   conc run MODULE CONFIG SECONDS READERS WRITERS DOMAIN...
 *       READERS processes dlopen() MODULE and ask mtasts_decide() for
 *       "mx1.DOMAIN" (a host every policy names) as fast as they can;
 *       WRITERS processes do what refreshing processes do to the same
 *       entries: re-checks (the TXT records are gone: NXDOMAIN), forced
 *       refetches that store the whole policy again, the refresh run,
 *       leases, failure back-offs.  Every ~200 ms one writer is SIGKILLed
 *       at a random point and replaced.  Prints the counts and exits 1 on
 *       any downgrade (a verdict other than require-tls, or no policy),
 *       any error other than a deferral, or no read at all.
 *
 * Readers link nothing of mtasts: they see the module as a host does.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../plugin/mtasts.h"
#include "cache.h"
#include "clock.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "status.h"

#define MAX_PROCS 16

struct counts {			/* shared with the children */
	long reads[MAX_PROCS], deferred[MAX_PROCS], errors[MAX_PROCS];
	long downgrades[MAX_PROCS], writes[MAX_PROCS * 2];
	char first_bad[MAX_PROCS][200];
};

static void quiet(void *ctx, enum log_level l, const char *line)
{
	(void)ctx;
	(void)l;
	(void)line;
}

static int load_config(const char *path, struct config *cfg)
{
	char err[256];

	if (config_load(cfg, path, err, sizeof(err)) != MT_OK) {
		fprintf(stderr, "conc: %s\n", err);
		return -1;
	}
	return 0;
}

static int seed(const char *conf, int n, char **doms)
{
	struct config cfg;
	struct engine *e;
	int bad = 0;

	if (load_config(conf, &cfg) != 0 || engine_create(&e, &cfg) != MT_OK)
		return 2;
	for (int i = 0; i < n; i++) {
		struct engine_policy p;
		int rc = engine_policy(e, doms[i], 0, &p);

		if (rc != MT_OK || p.mode != POLICY_MODE_ENFORCE) {
			fprintf(stderr, "conc: seed %s: %s mode %d\n", doms[i],
				mt_strerror(rc), p.mode);
			bad++;
		}
		engine_policy_clear(&p);
	}
	engine_destroy(e);
	return bad ? 1 : 0;
}

static int reader(int k, const char *module, const char *conf,
		  int64_t until_ms, int n, char **doms, struct counts *ct)
{
	int (*op)(struct mtasts **, const char *);
	int (*dec)(struct mtasts *, const char *, const char *,
		   struct mtasts_decision *);
	struct mtasts *h = NULL;
	char mx[300];
	void *so = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	unsigned r = (unsigned)getpid();

	if (so == NULL)
		return 2;
	*(void **)&op = dlsym(so, "mtasts_open");
	*(void **)&dec = dlsym(so, "mtasts_decide");
	if (!op || !dec || op(&h, conf) != MTASTS_OK)
		return 2;
	while (clock_mono_ms() < until_ms) {
		struct mtasts_decision d;
		const char *dom = doms[(r = r * 1103515245u + 12345u) % (unsigned)n];
		int rc;

		snprintf(mx, sizeof(mx), "mx1.%s", dom);
		rc = dec(h, dom, mx, &d);
		ct->reads[k]++;
		if (rc == MTASTS_EPOLICY) {
			ct->deferred[k]++;	/* fail closed: allowed */
		} else if (rc != MTASTS_OK) {
			if (ct->errors[k]++ == 0 && !ct->first_bad[k][0])
				snprintf(ct->first_bad[k], 200,
					 "%s: status %d", dom, rc);
		} else if (d.verdict != MTASTS_VERDICT_REQUIRE_TLS ||
			   !d.have_policy || d.mode != MTASTS_MODE_ENFORCE) {
			if (ct->downgrades[k]++ == 0)
				snprintf(ct->first_bad[k], 200,
					 "%s: verdict %d mode %d reason %s "
					 "source %s", dom, d.verdict, d.mode,
					 d.reason, d.source);
		}
	}
	return 0;
}

static void writer(int k, const char *conf, int n, char **doms,
		   struct counts *ct)
{
	struct config cfg;
	struct engine *e;
	unsigned r = (unsigned)getpid() * 2654435761u;

	log_set_sink(quiet, NULL);
	if (load_config(conf, &cfg) != 0 || engine_create(&e, &cfg) != MT_OK)
		_exit(2);
	for (;;) {
		const char *dom = doms[(r = r * 1103515245u + 12345u) % (unsigned)n];
		struct engine_policy p;
		struct engine_refresh_counts rc;
		int64_t now = clock_now();

		switch ((r >> 8) % 64 < 62 ? 3 + (r >> 8) % 13 : (r >> 8) % 3) {
		case 0:	/* §5.1 re-check: NXDOMAIN, the policy stays */
			engine_policy(e, dom, ENGINE_RECHECK, &p);
			engine_policy_clear(&p);
			break;
		case 1:	/* a forced refetch: the whole entry written */
			engine_policy(e, dom, ENGINE_RECHECK | ENGINE_FORCE |
				      ENGINE_REFRESH, &p);
			engine_policy_clear(&p);
			break;
		case 2:
			if ((r >> 16) % 16 == 0)	/* the refresh run */
				engine_refresh(e, &rc);
			break;
		case 3: case 4: case 5: case 6: case 7: {
			/* the policy stored again, data and chain included,
			 * as a fetch of the same file would */
			struct cache_entry ce;

			if (cache_get(engine_cache(e), dom, &ce) == MT_OK &&
			    ce.kind == CACHE_POLICY) {
				ce.fetched = now;
				ce.txt_checked = now;
				cache_put(engine_cache(e), &ce);
			}
			cache_entry_clear(&ce);
			break;
		}
		case 8: case 9: case 10:
			if (cache_lease(engine_cache(e), dom, now, now + 5) ==
			    MT_OK)
				cache_unlease(engine_cache(e), dom);
			break;
		case 11: case 12: case 13:	/* back-off state */
			cache_note_failure(engine_cache(e), dom, "x", now, 1,
					   2, NULL);
			break;
		default:	/* an id confirmation */
			cache_confirm(engine_cache(e), dom, "1", now);
			break;
		}
		ct->writes[k]++;
	}
}

static pid_t spawn_writer(int k, const char *conf, int n, char **doms,
			  struct counts *ct)
{
	pid_t pid = fork();

	if (pid == 0)
		writer(k, conf, n, doms, ct);
	return pid;
}

static int run(const char *module, const char *conf, int secs, int nr,
	       int nw, int n, char **doms)
{
	struct counts *ct;
	pid_t rp[MAX_PROCS], wp[MAX_PROCS];
	int64_t until = clock_mono_ms() + (int64_t)secs * 1000;
	long reads = 0, deferred = 0, errors = 0, downgrades = 0, writes = 0;
	int kills = 0, status, bad = 0;
	struct config cfg;
	struct cache *c;
	struct cache_stats st;

	if (nr > MAX_PROCS || nw > MAX_PROCS)
		return 2;
	ct = mmap(NULL, sizeof(*ct), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ct == MAP_FAILED)
		return 2;
	memset(ct, 0, sizeof(*ct));
	for (int i = 0; i < nw; i++)
		wp[i] = spawn_writer(i, conf, n, doms, ct);
	for (int i = 0; i < nr; i++) {
		rp[i] = fork();
		if (rp[i] == 0)
			_exit(reader(i, module, conf, until, n, doms, ct));
	}
	srand((unsigned)getpid());
	while (clock_mono_ms() < until) {
		struct timespec ts = { 0, 100000000L + (rand() % 200) * 1000000L };
		int k = rand() % nw;

		nanosleep(&ts, NULL);
		/* a writer dies wherever it is: inside a write, holding the
		 * lock, holding a lease */
		kill(wp[k], SIGKILL);
		waitpid(wp[k], &status, 0);
		kills++;
		wp[k] = spawn_writer(k, conf, n, doms, ct);
	}
	for (int i = 0; i < nr; i++) {
		waitpid(rp[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "conc: reader %d status %d\n", i,
				status);
			bad++;
		}
	}
	for (int i = 0; i < nw; i++) {
		kill(wp[i], SIGKILL);
		waitpid(wp[i], &status, 0);
	}
	for (int i = 0; i < nr; i++) {
		reads += ct->reads[i];
		deferred += ct->deferred[i];
		errors += ct->errors[i];
		downgrades += ct->downgrades[i];
		if (ct->first_bad[i][0])
			fprintf(stderr, "conc: reader %d: %s\n", i,
				ct->first_bad[i]);
	}
	for (int i = 0; i < nw; i++)
		writes += ct->writes[i];
	memset(&st, 0, sizeof(st));
	if (load_config(conf, &cfg) == 0 &&
	    cache_open(&c, cfg.cache_path, 0) == MT_OK) {
		cache_stats(c, &st);
		cache_close(c);
	}
	printf("reads=%ld deferred=%ld errors=%ld downgrades=%ld "
	       "writer_ops=%ld writers_killed=%d torn_reads=%llu "
	       "locked_reads=%llu damaged=%llu lost=%llu\n", reads, deferred,
	       errors, downgrades, writes, kills,
	       (unsigned long long)st.torn_reads,
	       (unsigned long long)st.locked_reads,
	       (unsigned long long)st.damaged, (unsigned long long)st.lost);
	return bad || errors || downgrades || reads == 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "seed") == 0)
		return seed(argv[2], argc - 3, argv + 3);
	if (argc >= 8 && strcmp(argv[1], "run") == 0)
		return run(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]),
			   atoi(argv[6]), argc - 7, argv + 7);
	fprintf(stderr, "usage: conc seed CONFIG DOMAIN... | conc run MODULE "
		"CONFIG SECONDS READERS WRITERS DOMAIN...\n");
	return 2;
}
