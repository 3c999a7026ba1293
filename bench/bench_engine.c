/*
 * bench_engine.c - figures for docs/benchmarks.md "Engine" and "Peer":
 * what a policy lookup costs against real servers (the test world's
 * unbound and nginx), cold and warm, and how often deliveries wait on the
 * network in a steady state with `mtasts refresh` run periodically.
 * Not a test: run by bench/bench_engine.sh inside the world's namespace;
 * prints its figures.
 *
 * usage: bench_engine -c CONF -m MODULE [-n N] [-k ROUNDS] [-s S]
 *                     [-d DAYS] [-r RATE[,RATE...]] [-p PORT] [-q PORT]
 *   CONF    mtasts configuration (cache_path, ca_file, ... for the world)
 *   MODULE  path of mtasts.so (the public API is timed through dlopen)
 *   N       cold-lookup domains bI.bench.test (default 50), each a policy
 *           domain of the world whose A and TXT records have TTL 0, so no
 *           resolver cache (libunbound's, c-ares') keeps them: every cold
 *           lookup reaches unbound and nginx.  ROUNDS passes over them
 *           (default 4); before each engine_policy the domain's cache
 *           entry is deleted.
 *   S       domains of the delivery simulation, eI.bench.test (default 40)
 *   DAYS    simulated days (default 14; the first half is warm-up)
 *   RATE    deliveries per hour over the S domains (default 60,600)
 *   -p PORT postfix-mta-sts-resolver on 127.0.0.1 (0: skip), for cached
 *           lookups; -q PORT a second one with a one-entry cache, so a
 *           lookup cycling over the N domains is always a cold one
 */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "cache.h"
#include "clock.h"
#include "config.h"
#include "dns.h"
#include "engine.h"
#include "fetch.h"
#include "log.h"
#include "mtasts.h"
#include "policy.h"
#include "status.h"

#define MX "mx1.example.test"
#define WARM_ROUNDS 200		/* cache-hit passes over a cold set */
#define FORKS 200		/* per-process cost samples */
#define MAX_RATES 4

/* Sorts v; prints "label: n=.. p50 .. p99 .. max .." in µs. */
static void report(const char *label, double *v, size_t n)
{
	size_t i99;

	if (n == 0) {
		printf("%-44s n=0\n", label);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_d);
	i99 = n * 99 / 100;
	if (i99 >= n)
		i99 = n - 1;
	printf("%-44s n=%-7zu p50 %9.1f us  p99 %9.1f us  max %9.1f us\n",
	       label, n, v[n / 2] / 1e3, v[i99] / 1e3, v[n - 1] / 1e3);
}

static void dom(char *buf, size_t sz, char set, unsigned i)
{
	snprintf(buf, sz, "%c%u.bench.test", set, i);
}

static unsigned long long rng = 88172645463325252ull;

static double uniform(void)	/* (0, 1) */
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

/* Memory shared with forked children. */
static void *shared(size_t sz)
{
	void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static int wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* --- (a) cold: TXT alone, fetch alone, engine_policy ------------------ */

static unsigned rounds = 4;

static int bench_txt(const struct config *cfg, unsigned nd)
{
	unsigned n = nd * rounds;
	struct dns_opts o;
	struct dns *d;
	struct dns_txt t;
	double *v = calloc(n, sizeof(*v)), t0;
	char name[300], dd[64];
	unsigned bad = 0;

	dns_opts_from_config(&o, cfg);	/* as engine.c does */
	t0 = now_ns();
	if (v == NULL || dns_create(&d, &o) != MT_OK) {
		fprintf(stderr, "dns_create failed\n");
		return 1;
	}
	printf("%-44s %.1f us\n", "dns_create (once per process)", (now_ns() - t0) / 1e3);
	for (unsigned i = 0; i < n; i++) {
		dom(dd, sizeof(dd), 'b', i % nd);
		snprintf(name, sizeof(name), "_mta-sts.%s", dd);
		memset(&t, 0, sizeof(t));
		t0 = now_ns();
		if (dns_txt(d, name, &t) != MT_OK || t.status != DNS_ANSWER)
			bad++;
		v[i] = now_ns() - t0;
		dns_txt_clear(&t);
	}
	report("cold TXT (dns_txt, libunbound)", v, n);
	if (bad)
		printf("  !! %u TXT lookups failed\n", bad);
	dns_destroy(d);
	free(v);
	return bad != 0;
}

static int bench_fetch(const struct config *cfg, unsigned nd)
{
	unsigned n = nd * rounds;
	struct fetch_opts fo;
	struct fetch_result fr;
	struct dns_opts o;
	struct dns *d = NULL;
	struct policy pol;
	double *v = calloc(n, sizeof(*v)), *vp = calloc(n, sizeof(*vp)), t0;
	char dd[64];
	unsigned bad = 0;

	if (v == NULL || vp == NULL)
		return 1;
	/* as engine.c does: the policy host is resolved through the
	 * process's libunbound context */
	dns_opts_from_config(&o, cfg);
	if (dns_create(&d, &o) != MT_OK) {
		fprintf(stderr, "dns_create failed\n");
		free(v);
		free(vp);
		return 1;
	}
	fetch_opts_from_config(&fo, cfg, d);
	for (unsigned i = 0; i < n; i++) {
		dom(dd, sizeof(dd), 'b', i % nd);
		memset(&fr, 0, sizeof(fr));
		t0 = now_ns();
		if (fetch_policy(dd, &fo, &fr) != MT_OK || fr.err != FETCH_OK) {
			bad++;
			if (bad == 1)
				fprintf(stderr, "fetch %s: %s %s\n", dd,
					fetch_error_str(fr.err), fr.detail);
		}
		v[i] = now_ns() - t0;
		memset(&pol, 0, sizeof(pol));
		t0 = now_ns();
		if (fr.err == FETCH_OK &&
		    policy_parse(fr.body, fr.body_len, &pol, NULL) != MT_OK)
			bad++;
		vp[i] = now_ns() - t0;
		policy_clear(&pol);
		fetch_result_clear(&fr);
	}
	report("cold fetch (fetch_policy: A/AAAA + TCP + TLS + GET)", v, n);
	report("policy_parse of the fetched body", vp, n);
	if (bad)
		printf("  !! %u fetches failed\n", bad);
	dns_destroy(d);
	free(v);
	free(vp);
	return bad != 0;
}

/* Reference: the same GET with libcurl alone, to show where the fetch's
 * time goes: libcurl-gnutls also loads its default CA directory
 * (CURLOPT_CAPATH, /etc/ssl/certs) into every new handle. */
static size_t discard(char *p, size_t sz, size_t nm, void *u)
{
	(void)p;
	(void)u;
	return sz * nm;
}

static int bench_curl_ref(const struct config *cfg, unsigned nd)
{
	unsigned n = nd * rounds;
	double *v = calloc(n, sizeof(*v)), *vt = calloc(n, sizeof(*vt)), t0;
	char url[300], dd[64];
	unsigned bad = 0;

	if (v == NULL || vt == NULL)
		return 1;
	for (int capath = 1; capath >= 0; capath--) {
		for (unsigned i = 0; i < n; i++) {
			CURL *h = curl_easy_init();
			double tls = 0;

			if (h == NULL)
				return 1;
			dom(dd, sizeof(dd), 'b', i % nd);
			snprintf(url, sizeof(url),
				 "https://mta-sts.%s/.well-known/mta-sts.txt", dd);
			curl_easy_setopt(h, CURLOPT_URL, url);
			curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
			curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
			curl_easy_setopt(h, CURLOPT_SSLVERSION,
					 (long)CURL_SSLVERSION_TLSv1_2);
			if (cfg->ca_file[0])
				curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
			if (!capath)
				curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
			t0 = now_ns();
			if (curl_easy_perform(h) != CURLE_OK)
				bad++;
			v[i] = now_ns() - t0;
			curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME, &tls);
			vt[i] = tls * 1e9;
			curl_easy_cleanup(h);
		}
		report(capath ? "libcurl GET, default CAPATH: total"
			      : "libcurl GET, CAPATH unset: total", v, n);
		report("  ... of which until TLS established", vt, n);
	}
	if (bad)
		printf("  !! %u libcurl GETs failed\n", bad);
	free(v);
	free(vt);
	return bad != 0;
}

static int bench_engine_cold(struct engine *e, unsigned nd)
{
	unsigned n = nd * rounds;
	struct engine_policy p;
	double *v = calloc(n, sizeof(*v)), *w, t0;
	size_t nw = (size_t)nd * WARM_ROUNDS;
	char dd[64];
	unsigned bad = 0;

	w = calloc(nw, sizeof(*w));
	if (v == NULL || w == NULL)
		return 1;
	/* the engine's DNS context is made on first use: not per lookup */
	if (engine_policy(e, "good.test", 0, &p) == MT_OK)
		engine_policy_clear(&p);
	for (unsigned i = 0; i < n; i++) {
		dom(dd, sizeof(dd), 'b', i % nd);
		cache_delete(engine_cache(e), dd);
		t0 = now_ns();
		if (engine_policy(e, dd, 0, &p) != MT_OK ||
		    p.source != SOURCE_FETCH || !p.have_policy)
			bad++;
		v[i] = now_ns() - t0;
		engine_policy_clear(&p);
	}
	report("cold engine_policy (TXT+fetch+parse+store)", v, n);
	for (size_t k = 0; k < nw; k++) {
		dom(dd, sizeof(dd), 'b', (unsigned)(k % nd));
		t0 = now_ns();
		if (engine_policy(e, dd, 0, &p) != MT_OK || p.source != SOURCE_CACHE)
			bad++;
		w[k] = now_ns() - t0;
		engine_policy_clear(&p);
	}
	report("warm engine_policy (cache hit)", w, nw);
	if (bad)
		printf("  !! %u engine lookups had an unexpected result\n", bad);
	free(v);
	free(w);
	return bad != 0;
}

/* --- (a) warm, through the public API --------------------------------- */

struct api {
	int (*open)(struct mtasts **, const char *);
	void (*close)(struct mtasts *);
	int (*decide)(struct mtasts *, const char *, const char *,
		      struct mtasts_decision *);
};

static int bench_api(const char *module, const char *conf, unsigned n)
{
	struct api a;
	struct mtasts *h;
	struct mtasts_decision dc;
	void *so;
	size_t nw = (size_t)n * WARM_ROUNDS;
	double *w = calloc(nw, sizeof(*w)), *fa, *fb, t0;
	char dd[64];
	unsigned bad = 0;

	so = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (so == NULL || w == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", module, dlerror());
		return 1;
	}
	*(void **)&a.open = dlsym(so, "mtasts_open");
	*(void **)&a.close = dlsym(so, "mtasts_close");
	*(void **)&a.decide = dlsym(so, "mtasts_decide");
	if (!a.open || !a.close || !a.decide)
		return 1;
	if (a.open(&h, conf) != MTASTS_OK) {
		fprintf(stderr, "mtasts_open %s failed\n", conf);
		return 1;
	}
	for (size_t k = 0; k < nw; k++) {
		dom(dd, sizeof(dd), 'b', (unsigned)(k % n));
		t0 = now_ns();
		if (a.decide(h, dd, MX, &dc) != MTASTS_OK ||
		    dc.verdict != MTASTS_VERDICT_REQUIRE_TLS ||
		    strcmp(dc.source, "cache") != 0)
			bad++;
		w[k] = now_ns() - t0;
	}
	report("warm mtasts_decide (cache hit, public API)", w, nw);

	/* A delivery process: fork, then (A) mtasts_open + first decide +
	 * close in the child, or (B) the handle opened before fork, as Exim
	 * does, and the child's first decide (re-attaches the cache). */
	fa = shared(FORKS * sizeof(double));
	fb = shared(FORKS * sizeof(double));
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < FORKS; k++) {
			pid_t pid = fork();

			if (pid == 0) {
				struct mtasts *hc = NULL;
				int ok;

				dom(dd, sizeof(dd), 'b', (unsigned)k % n);
				t0 = now_ns();
				if (pass == 0)
					ok = a.open(&hc, conf) == MTASTS_OK &&
					     a.decide(hc, dd, MX, &dc) == MTASTS_OK;
				else
					ok = a.decide(h, dd, MX, &dc) == MTASTS_OK;
				ok = ok && strcmp(dc.source, "cache") == 0;
				if (pass == 0)
					a.close(hc);
				(pass == 0 ? fa : fb)[k] = now_ns() - t0;
				_exit(ok ? 0 : 1);
			}
			if (pid < 0 || wait_child(pid) != 0)
				bad++;
		}
	}
	report("child: mtasts_open + first decide + close", fa, FORKS);
	report("child: first decide, handle opened before fork", fb, FORKS);
	if (bad)
		printf("  !! %u API calls had an unexpected result\n", bad);
	a.close(h);
	free(w);
	return bad != 0;
}

/* --- (c) the peer daemon over its socketmap socket -------------------- */

static int sm_query(int fd, const char *domain, char *resp, size_t rsz)
{
	char req[512], buf[4096];
	size_t have = 0, need = 0, hdr = 0;
	int len;

	len = snprintf(req, sizeof(req), "%zu:tls-policy %s,",
		       strlen("tls-policy ") + strlen(domain), domain);
	if (len < 0 || (size_t)len >= sizeof(req) ||
	    write(fd, req, (size_t)len) != len)
		return -1;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		if (hdr == 0) {
			char *colon = memchr(buf, ':', have);

			if (colon == NULL)
				continue;
			need = strtoul(buf, NULL, 10);
			hdr = (size_t)(colon - buf) + 1;
		}
		if (have >= hdr + need + 1)
			break;
		if (have >= sizeof(buf) - 1)
			return -1;
	}
	if (need >= rsz)
		need = rsz - 1;
	memcpy(resp, buf + hdr, need);
	resp[need] = '\0';
	return 0;
}

static int peer_connect(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("peer connect");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* count sequential requests cycling over the nd domains on one
 * connection (as Postfix keeps its socketmap connection), timed into v
 * when v is not NULL.  Returns the answers that were not "OK secure". */
static long peer_pass(int fd, unsigned nd, size_t count, double *v)
{
	char dd[64], resp[1024];
	long bad = 0;
	double t0;

	for (size_t k = 0; k < count; k++) {
		dom(dd, sizeof(dd), 'b', (unsigned)(k % nd));
		t0 = now_ns();
		if (sm_query(fd, dd, resp, sizeof(resp)) != 0)
			return -1;
		if (v)
			v[k] = now_ns() - t0;
		if (strncmp(resp, "OK secure", 9) != 0 && bad++ == 0)
			printf("  peer answer for %s: '%s'\n", dd, resp);
	}
	return bad;
}

static int bench_peer(int port, int cold_port, unsigned nd)
{
	size_t n = (size_t)nd * rounds, nw = (size_t)nd * WARM_ROUNDS / 10;
	double *v = calloc(n, sizeof(*v)), *w = calloc(nw, sizeof(*w));
	long bad = 0, b;
	int fd;

	if (v == NULL || w == NULL)
		return 1;
	if (cold_port > 0) {
		if ((fd = peer_connect(cold_port)) < 0)
			return 1;
		b = peer_pass(fd, nd, n, v);
		bad += b < 0 ? 1 : b;
		report("peer cold lookup (TXT+fetch, socketmap)", v, n);
		close(fd);
	}
	if ((fd = peer_connect(port)) < 0)
		return 1;
	/* fill its cache, then time hits: within its cache_grace (60 s) a
	 * cached domain is answered without any DNS query */
	b = peer_pass(fd, nd, nd, NULL);
	bad += b < 0 ? 1 : b;
	b = peer_pass(fd, nd, nw, w);
	bad += b < 0 ? 1 : b;
	report("peer cached lookup (socketmap, TCP)", w, nw);
	if (bad)
		printf("  !! %ld peer answers were not 'OK secure ...'\n", bad);
	close(fd);
	free(v);
	free(w);
	return bad != 0;
}

/* --- (b) steady state with proactive refresh ------------------------- */

/* The policies a refresh run at `now` renews or re-checks (engine.c's
 * collect_due): each costs one TXT query. */
struct due_count {
	int64_t now, before, interval, every;
	long n;
};

static int count_due(const struct cache_entry *ce, void *arg)
{
	struct due_count *d = arg;

	bool renew, recheck;

	rules_refresh_due(ce, d->now, d->before, d->interval,
			  d->every > 0 ? d->now + d->every : INT64_MIN / 2,
			  &renew, &recheck);
	if (renew || recheck)
		d->n++;
	return 0;
}

struct simstat {
	long deliveries, cached, negative, txt_only, fetched, other;
	long all_txt, all_fetch;	/* whole run, warm-up included */
	long refresh_runs, refresh_ok, refresh_bad;
	long n_net;
	size_t n_dt, cap;
	double dt[];			/* per delivery, counted part only */
};

static void sim_deliver(struct engine *e, struct simstat *st,
			const int64_t *when, const unsigned *which, size_t k,
			int64_t count_from)
{
	struct engine_policy p;
	char dd[64];
	double t0, dt;

	for (size_t i = 0; i < k; i++) {
		int net = 1, txt = 1, fetch = 0, txt_only = 0, rc;

		dom(dd, sizeof(dd), 'e', which[i]);
		clock_set_fake(when[i]);
		t0 = now_ns();
		rc = engine_policy(e, dd, 0, &p);
		dt = now_ns() - t0;
		if (rc == MT_OK && ((p.source == SOURCE_CACHE &&
				     p.reason == R_CACHED) ||
				    p.source == SOURCE_NEGATIVE))
			net = txt = 0;
		else if (rc == MT_OK && p.source == SOURCE_FETCH)
			fetch = 1;
		else if (rc == MT_OK && p.reason == R_ID_UNCHANGED)
			txt_only = 1;
		engine_policy_clear(&p);
		st->all_txt += txt;
		st->all_fetch += fetch;
		if (when[i] < count_from)
			continue;
		st->deliveries++;
		if (!net)
			st->cached++;
		else if (fetch)
			st->fetched++;
		else if (txt_only)
			st->txt_only++;
		else
			st->other++;
		if (st->n_dt < st->cap)
			st->dt[st->n_dt++] = dt;
	}
}

static int bench_sim(const struct config *base, unsigned s, unsigned days,
		     double rate, int tag)
{
	struct config cfg = *base;
	struct engine *e;
	struct simstat *st;
	double *cum, mean = 3600.0 / rate, t;
	size_t cap = (size_t)(rate * 24 * days / 2 * 1.3) + 1000, per_hour;
	int64_t t0 = clock_now(), count_from;
	unsigned hours = days * 24;
	int64_t *when;
	unsigned *which;
	char cp[CONFIG_PATH_MAX];

	/* a cache of its own: only the simulated domains get refreshed */
	snprintf(cp, sizeof(cp), "%.1000s.sim%d", base->cache_path, tag);
	memcpy(cfg.cache_path, cp, sizeof(cfg.cache_path));
	unlink(cfg.cache_path);
	if (engine_create(&e, &cfg) != MT_OK)
		return 1;
	st = shared(sizeof(*st) + cap * sizeof(double));
	st->cap = cap;
	per_hour = (size_t)(rate * 4) + 64;
	when = calloc(per_hour, sizeof(*when));
	which = calloc(per_hour, sizeof(*which));
	cum = calloc(s, sizeof(*cum));
	if (!when || !which || !cum)
		return 1;
	/* Zipf popularity: domain i gets a share 1/(i+1) */
	for (unsigned i = 0; i < s; i++)
		cum[i] = (i ? cum[i - 1] : 0) + 1.0 / (i + 1);
	count_from = t0 + (int64_t)(days / 2) * 86400;
	t = (double)t0;
	for (unsigned h = 0; h < hours; h++) {
		int64_t start = t0 + (int64_t)h * 3600;
		size_t k = 0;
		pid_t pid;

		/* `mtasts refresh` from cron, hourly: a process of its own */
		pid = fork();
		if (pid == 0) {
			struct engine_refresh_counts rn;
			struct due_count dc = { start, cfg.refresh_before,
						cfg.txt_check_interval,
						cfg.refresh_interval, 0 };

			clock_set_fake(start);
			/* what refresh will touch: one TXT query each */
			(void)cache_foreach(engine_cache(e), count_due, &dc);
			engine_refresh(e, &rn);
			st->refresh_runs++;
			st->refresh_ok += rn.renewed;
			st->refresh_bad += rn.failed + rn.failed_none;
			st->all_txt += dc.n;
			st->all_fetch += rn.renewed;
			_exit(0);
		}
		wait_child(pid);
		/* this hour's deliveries: Poisson arrivals */
		while (k < per_hour) {
			double x = uniform() * cum[s - 1];
			unsigned lo = 0, hi = s - 1;

			t += -log(uniform()) * mean;
			if (t >= (double)(start + 3600))
				break;
			while (lo < hi) {
				unsigned mid = (lo + hi) / 2;

				if (cum[mid] < x)
					lo = mid + 1;
				else
					hi = mid;
			}
			when[k] = (int64_t)t;
			which[k++] = lo;
		}
		/* one delivery process per hour: each TXT re-check of the hour
		 * reaches the name server (a fresh libunbound context) */
		pid = fork();
		if (pid == 0) {
			sim_deliver(e, st, when, which, k, count_from);
			_exit(0);
		}
		wait_child(pid);
		if (t < (double)(start + 3600))
			t = (double)(start + 3600);
	}
	clock_set_fake(0);
	printf("simulation %d: %u domains (Zipf), %.0f deliveries/hour, %u days"
	       " (counted: last %u), max_age 604800, txt_check_interval %lld,"
	       " refresh hourly (refresh_before %lld)\n", tag, s, rate, days,
	       days - days / 2, (long long)cfg.txt_check_interval,
	       (long long)cfg.refresh_before);
	printf("  deliveries %ld: no network %ld (%.2f %%), TXT re-check only %ld"
	       " (%.2f %%), TXT+fetch %ld (%.2f %%), other %ld\n",
	       st->deliveries, st->cached, 100.0 * st->cached / st->deliveries,
	       st->txt_only, 100.0 * st->txt_only / st->deliveries,
	       st->fetched, 100.0 * st->fetched / st->deliveries, st->other);
	printf("  waited on the network: %.2f %% of deliveries\n",
	       100.0 * (st->txt_only + st->fetched + st->other) / st->deliveries);
	printf("  refresh runs %ld, renewed %ld, failed %ld\n", st->refresh_runs,
	       st->refresh_ok, st->refresh_bad);
	printf("  whole run (warm-up included): TXT queries %ld, fetches %ld"
	       " (delivery path + refresh)\n", st->all_txt, st->all_fetch);
	report("  delivery-path engine_policy, all", st->dt, st->n_dt);
	engine_destroy(e);
	unlink(cfg.cache_path);
	munmap(st, sizeof(*st) + cap * sizeof(double));
	free(when);
	free(which);
	free(cum);
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *module = NULL;
	char err[256];
	const char *rates = NULL;
	struct config cfg;
	struct engine *e;
	unsigned n = 50, s = 40, days = 14;
	int port = 0, cold_port = 0, opt, rc = 0, tag = 0;

	while ((opt = getopt(argc, argv, "c:m:n:k:s:d:r:p:q:")) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'm': module = optarg; break;
		case 'n': n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': days = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': rates = optarg; break;
		case 'k': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': port = (int)strtol(optarg, NULL, 10); break;
		case 'q': cold_port = (int)strtol(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (conf == NULL || module == NULL || n == 0 || s == 0 || days < 2 ||
	    rounds == 0)
		goto usage;
	if (config_load(&cfg, conf, err, sizeof(err)) != MT_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	log_set_sink(log_sink_stderr, NULL);
	log_set_level(LOG_LVL_ERR);
	if (engine_create(&e, &cfg) != MT_OK)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("== (a) cold, %u domains x %u rounds\n", n, rounds);
	rc |= bench_txt(&cfg, n);
	rc |= bench_fetch(&cfg, n);
	rc |= bench_curl_ref(&cfg, n);
	rc |= bench_engine_cold(e, n);
	printf("== (a) warm\n");
	rc |= bench_api(module, conf, n);
	if (port > 0) {
		printf("== (c) peer: postfix-mta-sts-resolver on 127.0.0.1:%d\n", port);
		rc |= bench_peer(port, cold_port, n);
	}
	printf("== (b) steady state\n");
	for (const char *r = rates ? rates : "60,600"; *r && tag < MAX_RATES; tag++) {
		char *end;
		double rate = strtod(r, &end);

		if (end == r || rate <= 0)
			goto usage;
		rc |= bench_sim(&cfg, s, days, rate, tag);
		r = *end == ',' ? end + 1 : end;
	}
	engine_destroy(e);
	return rc ? 1 : 0;
usage:
	fprintf(stderr, "usage: bench_engine -c CONF -m MODULE [-n N] [-k ROUNDS]"
		" [-s S] [-d DAYS] [-r RATE,...] [-p PORT] [-q PORT]\n");
	return 2;
}
