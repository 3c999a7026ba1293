/*
 * bench_fleet.c - figures for docs/benchmarks.md "Fleet": what a push
 * and a merge cost for D domains x H hosts over a real redis-server
 * (bench_fleet.sh starts one).  Not a test: run by hand, prints its
 * figures.
 *
 *   bench_fleet STORE-URL [DOMAINS [HOSTS [ROUNDS]]]  (10000, 10, 5)
 *
 * Each host gets its own report directory with yesterday's results file:
 * per domain 5 successful sessions, and for one domain in ten 2 failures
 * with distinct details (the file format of report_rec.c, written
 * directly).  Timed, ROUNDS times each, median and worst:
 *   push    one host's `mtasts report --push` work: fleet_push() (read
 *           and aggregate the results file, the counts text, one
 *           MULTI/EXEC to the store; today's empty day too), per host;
 *   merge   the reporting host's: fleet_day_load() + fleet_merge() of
 *           every host's counts into one day;
 *   build   the JSON and gzip of every domain's report of the merged day
 *           (what `report` builds before sending).
 * Also the counts text per host (bytes) and the process's peak RSS.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "fleet.h"
#include "report.h"
#include "status.h"

static char base[] = "/tmp/mtasts-bench-fleet-XXXXXX";

static void host_cfg(struct config *cfg, const char *url, unsigned h)
{
	config_defaults(cfg);
	snprintf(cfg->report_dir, sizeof(cfg->report_dir), "%s/h%u", base, h);
	snprintf(cfg->report_store, sizeof(cfg->report_store), "%s", url);
	snprintf(cfg->report_host, sizeof(cfg->report_host), "bench-%u", h);
	snprintf(cfg->report_contact, sizeof(cfg->report_contact),
		 "tlsrpt@sender.example");
	cfg->report_store_timeout_ms = 30000;
}

static int write_results(const struct config *cfg, int64_t day,
			 unsigned domains, unsigned h)
{
	char path[CONFIG_PATH_MAX + 32];
	FILE *f;

	mkdir(cfg->report_dir, 0700);
	if (report_day_path(cfg, day, path, sizeof(path)) != MT_OK ||
	    (f = fopen(path, "w")) == NULL)
		return -1;
	for (unsigned d = 0; d < domains; d++) {
		for (int k = 0; k < 5; k++)
			fprintf(f, "%" PRId64 "\td%u.bench-%u.example\tsts\t"
				"20261128\tsuccess\t-\tmx1.d%u.example\t"
				"192.0.2.%u\t-\n", day + 3600, d, d % 97, d,
				1 + d % 200);
		if (d % 10 != 0)
			continue;
		fprintf(f, "%" PRId64 "\td%u.bench-%u.example\tsts\t20261128\t"
			"certificate-expired\t198.51.100.%u\tmx2.d%u.example\t"
			"192.0.2.7\t-\n", day + 7200, d, d % 97, h, d);
		fprintf(f, "%" PRId64 "\td%u.bench-%u.example\tsts\t20261128\t"
			"starttls-not-supported\t198.51.100.%u\t"
			"mx3.d%u.example\t-\t-\n", day + 9000, d, d % 97, h, d);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static void stats(const char *what, double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	printf("%-8s median %8.1f ms   worst %8.1f ms   (%u runs)\n", what,
	       v[n / 2] / 1e6, v[n - 1] / 1e6, n);
}

int main(int argc, char **argv)
{
	const char *url = argc > 1 ? argv[1] : NULL;
	unsigned domains = bench_count(argc > 2 ? argv[2] : NULL, 10000);
	unsigned hosts = bench_count(argc > 3 ? argv[3] : NULL, 10);
	unsigned rounds = bench_count(argc > 4 ? argv[4] : NULL, 5);
	int64_t now = clock_now(), day = (now / 86400 - 1) * 86400;
	struct config *cfg;
	struct fleet *f;
	double *push, *merge, *build;
	char err[512];
	size_t counts_len = 0;
	struct rusage ru;
	int rc = 1;

	if (url == NULL || domains == 0 || hosts == 0 || rounds == 0) {
		fprintf(stderr, "usage: bench_fleet STORE-URL [DOMAINS [HOSTS "
			"[ROUNDS]]]\n");
		return 2;
	}
	if (mkdtemp(base) == NULL)
		return 1;
	cfg = calloc(hosts, sizeof(*cfg));
	push = calloc((size_t)hosts * rounds, sizeof(*push));
	merge = calloc(rounds, sizeof(*merge));
	build = calloc(rounds, sizeof(*build));
	if (cfg == NULL || push == NULL || merge == NULL || build == NULL)
		return 1;
	for (unsigned h = 0; h < hosts; h++) {
		host_cfg(&cfg[h], url, h);
		if (write_results(&cfg[h], day, domains, h) != 0) {
			fprintf(stderr, "cannot write results\n");
			goto out;
		}
	}
	printf("fleet: %u domains x %u hosts, %u rounds\n", domains, hosts,
	       rounds);
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned h = 0; h < hosts; h++) {
			double t0 = now_ns();

			if (fleet_open(&f, &cfg[h], err, sizeof(err)) !=
			    MT_OK) {
				fprintf(stderr, "store: %s\n", err);
				goto out;
			}
			if (fleet_push(f, now, NULL, NULL) != MT_OK) {
				fprintf(stderr, "push: %s\n", fleet_error(f));
				fleet_close(f);
				goto out;
			}
			fleet_close(f);
			push[r * hosts + h] = now_ns() - t0;
		}
	}
	for (unsigned r = 0; r < rounds; r++) {
		struct fleet_day fd;
		struct report_day *d = NULL;
		struct report_ident id;
		struct buf js, gz;
		size_t bad_h, bad_l, n;
		uint64_t ok, failed;
		double t0 = now_ns();

		if (fleet_open(&f, &cfg[0], err, sizeof(err)) != MT_OK ||
		    fleet_day_load(f, day, now, &fd) != MT_OK ||
		    report_day_create(&d, day) != MT_OK ||
		    fleet_merge(f, &fd, d, &bad_h, &bad_l) != MT_OK) {
			fprintf(stderr, "merge failed\n");
			goto out;
		}
		merge[r] = now_ns() - t0;
		report_day_totals(d, NULL, &ok, &failed);
		n = report_day_n_domains(d);
		if (n != domains || bad_h || bad_l ||
		    ok != 5ull * domains * hosts) {
			fprintf(stderr, "merge wrong: %zu domains, ok %"
				PRIu64
				"\n", n, ok);
			goto out;
		}
		report_ident_init(&id, &cfg[0], NULL);
		t0 = now_ns();
		buf_init(&js, 16 << 20);
		buf_init(&gz, 16 << 20);
		for (size_t i = 0; i < n; i++) {
			buf_reset(&js);
			buf_reset(&gz);
			if (report_day_json(d, &id, report_day_domain(d, i),
					    NULL, &js) != MT_OK ||
			    report_gzip(js.data, js.len, &gz) != MT_OK) {
				fprintf(stderr, "build failed\n");
				goto out;
			}
		}
		build[r] = now_ns() - t0;
		if (r == 0) {
			buf_reset(&js);
			report_day_counts(d, &js);
			printf("merged: %zu domains, ok=%" PRIu64 " failed=%"
			       PRIu64 "\n", n, ok, failed);
		}
		buf_free(&js);
		buf_free(&gz);
		report_day_destroy(d);
		fleet_day_clear(&fd);
		fleet_close(f);
	}
	{
		struct report_day *d = NULL;
		struct buf c;

		buf_init(&c, REPORT_COUNTS_MAX);
		if (report_day_create(&d, day) == MT_OK &&
		    report_day_load_file(d, &cfg[0]) == MT_OK &&
		    report_day_counts(d, &c) == MT_OK)
			counts_len = c.len;
		buf_free(&c);
		report_day_destroy(d);
	}
	printf("counts text per host: %zu bytes\n", counts_len);
	stats("push", push, hosts * rounds);
	stats("merge", merge, rounds);
	stats("build", build, rounds);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS: %ld MiB\n", ru.ru_maxrss / 1024);
	rc = 0;
out:
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}
