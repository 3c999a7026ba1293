/*
 * cmd_cache.c - `mtasts cache [--json] stats|list|show DOMAIN|check|
 * flush [DOMAIN]`: inspect and clear the shared policy cache
 * (common/cache.h).  `cache --prometheus stats` writes the figures as
 * Prometheus text exposition (node-exporter's textfile collector).
 *
 * Reads go through the same lock-free path as the plugin, so inspecting a
 * live cache never blocks deliveries.  Everything printed came from the
 * mapping after validation; strings are printed through log_sanitise (human
 * output) or the JSON writer's escaping.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "cache.h"
#include "clock.h"
#include "cmd.h"
#include "domain.h"
#include "json.h"
#include "log.h"
#include "policy.h"
#include "status.h"

static const char *kind_str(uint8_t k)
{
	switch (k) {
	case CACHE_POLICY:
		return "policy";
	case CACHE_NEGATIVE:
		return "negative";
	case CACHE_LOST:
		return "lost";
	default:
		return "empty";
	}
}

static void entry_json(struct json *j, const struct cache_entry *e)
{
	uint32_t it = 0;
	const char *pat;

	json_object_begin(j);
	json_key_string(j, "domain", e->domain);
	json_key_string(j, "kind", kind_str(e->kind));
	if (e->kind == CACHE_POLICY) {
		json_key_string(j, "mode",
				policy_mode_str((enum policy_mode)e->mode));
		json_key_int(j, "max_age", e->max_age);
		json_key_int(j, "fetched", e->fetched);
		json_key_string(j, "policy_id", e->id);
		json_key_int(j, "txt_checked", e->txt_checked);
	}
	json_key_int(j, "expires", e->expires);
	json_key_int(j, "fail_count", e->fail_count);
	json_key_int(j, "retry_after", e->retry_after);
	json_key_int(j, "lease_pid", e->lease_pid);
	json_key_int(j, "lease_deadline", e->lease_deadline);
	json_key(j, "mx_patterns");
	json_array_begin(j);
	while ((pat = policy_mx_next(e->mx, e->mx_len, &it)) != NULL)
		json_string(j, pat);
	json_array_end(j);
	json_object_end(j);
}

static void entry_human(const struct cache_entry *e, bool full)
{
	char d[DOMAIN_BUFSZ], id[TXT_ID_MAX + 1];
	uint32_t it = 0;
	const char *pat;

	log_sanitise(d, sizeof(d), e->domain, strlen(e->domain));
	log_sanitise(id, sizeof(id), e->id, strlen(e->id));
	if (e->kind == CACHE_POLICY)
		printf("%s policy mode=%s id=%s max_age=%u expires=%lld mx=%u",
		       d, policy_mode_str((enum policy_mode)e->mode), id,
		       e->max_age, (long long)e->expires, e->n_mx);
	else if (e->kind == CACHE_LOST)
		printf("%s lost (damaged; held as a possible enforce policy "
		       "until a policy is fetched or 'mtasts cache flush %s') "
		       "expires=%lld",
		       d, d, (long long)e->expires);
	else
		printf("%s %s expires=%lld", d, kind_str(e->kind),
		       (long long)e->expires);
	if (e->lease_pid)
		printf(" lease_pid=%d lease_deadline=%lld", e->lease_pid,
		       (long long)e->lease_deadline);
	if (e->fail_count)
		printf(" failures=%u retry_after=%lld", e->fail_count,
		       (long long)e->retry_after);
	printf("\n");
	if (!full)
		return;
	if (e->kind == CACHE_POLICY)
		printf("  fetched=%lld txt_checked=%lld\n",
		       (long long)e->fetched, (long long)e->txt_checked);
	while ((pat = policy_mx_next(e->mx, e->mx_len, &it)) != NULL) {
		char p[DOMAIN_BUFSZ + 2];

		log_sanitise(p, sizeof(p), pat, strlen(pat));
		printf("  mx: %s\n", p);
	}
}

struct list_ctx {
	struct json *j;
};

static int list_fn(const struct cache_entry *e, void *arg)
{
	struct list_ctx *l = arg;

	if (l->j != NULL)
		entry_json(l->j, e);
	else
		entry_human(e, false);
	return 0;
}

static int print_json(struct json *j, struct buf *b)
{
	int rc = json_finish(j);

	if (rc == MT_OK)
		printf("%s\n", b->data);
	else
		fprintf(stderr, "mtasts: cache: %s\n", mt_strerror(rc));
	buf_free(b);
	return rc == MT_OK ? 0 : 2;
}

static int usage(void)
{
	cmd_usage(stderr, "cache");
	return 2;
}

static int do_stats(struct cache *c, bool json)
{
	struct cache_stats st;
	struct buf b;
	struct json j;
	int rc = cache_stats(c, &st);

	if (rc != MT_OK) {
		fprintf(stderr, "mtasts: cache: %s\n", mt_strerror(rc));
		return 2;
	}
	if (!json) {
		printf("slots %llu\nused %llu\npolicies %llu\nnegatives %llu\n"
		       "lost %llu\ndamaged %llu\n"
		       "file_size %llu\nhits %llu\nmisses %llu\n"
		       "evictions %llu\ncorrupt_seen %llu\ntorn_reads %llu\n"
		       "locked_reads %llu\ngrows %llu\n",
		       (unsigned long long)st.slots,
		       (unsigned long long)st.used,
		       (unsigned long long)st.policies,
		       (unsigned long long)st.negatives,
		       (unsigned long long)st.lost,
		       (unsigned long long)st.damaged,
		       (unsigned long long)st.file_size,
		       (unsigned long long)st.hits,
		       (unsigned long long)st.misses,
		       (unsigned long long)st.evictions,
		       (unsigned long long)st.corrupt_seen,
		       (unsigned long long)st.torn_reads,
		       (unsigned long long)st.locked_reads,
		       (unsigned long long)st.grows);
		return 0;
	}
	buf_init(&b, 4096);
	json_init(&j, &b);
	json_object_begin(&j);
	json_key_int(&j, "slots", (int64_t)st.slots);
	json_key_int(&j, "used", (int64_t)st.used);
	json_key_int(&j, "policies", (int64_t)st.policies);
	json_key_int(&j, "negatives", (int64_t)st.negatives);
	json_key_int(&j, "file_size", (int64_t)st.file_size);
	json_key_int(&j, "hits", (int64_t)st.hits);
	json_key_int(&j, "misses", (int64_t)st.misses);
	json_key_int(&j, "evictions", (int64_t)st.evictions);
	json_key_int(&j, "corrupt_seen", (int64_t)st.corrupt_seen);
	json_key_int(&j, "lost", (int64_t)st.lost);
	json_key_int(&j, "damaged", (int64_t)st.damaged);
	json_key_int(&j, "torn_reads", (int64_t)st.torn_reads);
	json_key_int(&j, "locked_reads", (int64_t)st.locked_reads);
	json_key_int(&j, "grows", (int64_t)st.grows);
	json_object_end(&j);
	return print_json(&j, &b);
}

/* Entries in back-off (failed refreshes, no fetch before retry_after). */
struct backoff_ctx {
	int64_t now;
	uint64_t n;
};

static int backoff_fn(const struct cache_entry *e, void *arg)
{
	struct backoff_ctx *b = arg;

	if (e->fail_count > 0 && e->retry_after > b->now)
		b->n++;
	return 0;
}

/* Prometheus text exposition format: gauges for what the cache holds,
 * counters (_total) for what it counted since the file was made. */
static int do_stats_prom(struct cache *c)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} m[] = {
#define S(f) offsetof(struct cache_stats, f)
		{ "slots", "gauge", "Slots of the cache table", S(slots) },
		{ "entries", "gauge", "Entries in the cache", S(used) },
		{ "policies", "gauge", "Cached policies", S(policies) },
		{ "negatives", "gauge", "Cached no-policy answers",
		  S(negatives) },
		{ "lost_entries", "gauge",
		  "Entries lost to damage, held as "
		  "possible enforce policies",
		  S(lost) },
		{ "damaged_slots", "gauge", "Damaged slots", S(damaged) },
		{ "file_size_bytes", "gauge", "Size of the cache file",
		  S(file_size) },
		{ "hits_total", "counter",
		  "Look-ups answered from the cache "
		  "(approximate)",
		  S(hits) },
		{ "misses_total", "counter",
		  "Look-ups the cache could not "
		  "answer (approximate)",
		  S(misses) },
		{ "evictions_total", "counter",
		  "Entries evicted for room "
		  "(approximate)",
		  S(evictions) },
		{ "corrupt_seen_total", "counter",
		  "Corrupt slots met by "
		  "readers (approximate)",
		  S(corrupt_seen) },
		{ "torn_reads_total", "counter",
		  "Reads that met a write in "
		  "progress",
		  S(torn_reads) },
		{ "locked_reads_total", "counter",
		  "Reads that waited for a "
		  "write under the lock",
		  S(locked_reads) },
		{ "grows_total", "counter",
		  "Times the cache file grew "
		  "(approximate)",
		  S(grows) },
#undef S
	};
	struct cache_stats st;
	struct backoff_ctx b = { clock_now(), 0 };
	int rc = cache_stats(c, &st);

	if (rc == MT_OK)
		rc = cache_foreach(c, backoff_fn, &b);
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts: cache: %s\n", mt_strerror(rc));
		return 2;
	}
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		uint64_t v;

		memcpy(&v, (const char *)&st + m[i].off, sizeof(v));
		printf("# HELP mtasts_cache_%s %s\n# TYPE mtasts_cache_%s %s\n"
		       "mtasts_cache_%s %llu\n",
		       m[i].name, m[i].help, m[i].name, m[i].type, m[i].name,
		       (unsigned long long)v);
	}
	printf("# HELP mtasts_cache_backoff_entries Domains whose refresh "
	       "failed and waits out a back-off\n"
	       "# TYPE mtasts_cache_backoff_entries gauge\n"
	       "mtasts_cache_backoff_entries %llu\n",
	       (unsigned long long)b.n);
	return 0;
}

struct damage_ctx {
	struct json *j;
	unsigned n;
};

static int damaged_fn(uint32_t slot, const char *domain, void *arg)
{
	struct damage_ctx *d = arg;
	char name[DOMAIN_BUFSZ];

	d->n++;
	if (domain != NULL)
		log_sanitise(name, sizeof(name), domain, strlen(domain));
	if (d->j != NULL) {
		json_object_begin(d->j);
		json_key_int(d->j, "slot", slot);
		if (domain != NULL)
			json_key_string(d->j, "domain", name);
		json_object_end(d->j);
	} else {
		printf("slot %u damaged: %s\n", slot,
		       domain != NULL ? name : "owner unknown");
	}
	return 0;
}

/* Every damaged slot (exit 1 when there is one). */
static int do_check(struct cache *c, bool json)
{
	struct damage_ctx d = { NULL, 0 };
	struct buf b;
	struct json j;
	int rc, status;

	if (json) {
		buf_init(&b, 16u << 20);
		json_init(&j, &b);
		json_array_begin(&j);
		d.j = &j;
	}
	rc = cache_foreach_damaged(c, damaged_fn, &d);
	if (json) {
		json_array_end(&j);
		status = print_json(&j, &b);
	} else {
		status = 0;
		if (d.n == 0)
			printf("no damaged slot\n");
	}
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts: cache: %s\n", mt_strerror(rc));
		return 2;
	}
	return status ? status : d.n ? 1 : 0;
}

int cmd_cache(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct cache *c = NULL;
	struct cache_entry e;
	struct stat st;
	char dom[DOMAIN_BUFSZ];
	const char *args[3] = { NULL, NULL, NULL };
	bool json = false, prom = false;
	int nargs = 0, rc, status = 2;
	struct buf b;
	struct json j;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--prometheus") == 0)
			prom = true;
		else if (argv[i][0] == '-' || nargs == 3)
			return usage();
		else
			args[nargs++] = argv[i];
	}
	if (nargs == 0 || (prom && (json || strcmp(args[0], "stats") != 0)))
		return usage();
	if (nargs >= 2 &&
	    domain_normalise(args[1], strlen(args[1]), dom) != MT_OK) {
		fprintf(stderr, "mtasts: cache: invalid domain\n");
		return 2;
	}
	if (!((strcmp(args[0], "stats") == 0 && nargs == 1) ||
	      (strcmp(args[0], "list") == 0 && nargs == 1) ||
	      (strcmp(args[0], "show") == 0 && nargs == 2) ||
	      (strcmp(args[0], "check") == 0 && nargs == 1) ||
	      (strcmp(args[0], "flush") == 0 && nargs <= 2)))
		return usage();
	/* inspecting never creates the file: one made here would belong to
	 * this command's user, and the MTA's processes would refuse it */
	if (lstat(ctx->cfg.cache_path, &st) != 0 && errno == ENOENT) {
		fprintf(stderr,
			"mtasts: cache: %s: no cache file (nothing "
			"cached yet)\n",
			ctx->cfg.cache_path);
		return 1;
	}
	rc = cache_open(&c, ctx->cfg.cache_path, ctx->cfg.cache_size);
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts: cache: %s: %s\n", ctx->cfg.cache_path,
			mt_strerror(rc));
		return 2;
	}
	if (strcmp(args[0], "stats") == 0) {
		status = prom ? do_stats_prom(c) : do_stats(c, json);
	} else if (strcmp(args[0], "check") == 0) {
		status = do_check(c, json);
	} else if (strcmp(args[0], "list") == 0) {
		struct list_ctx l = { NULL };

		if (json) {
			buf_init(&b, 256u << 20);
			json_init(&j, &b);
			json_array_begin(&j);
			l.j = &j;
		}
		rc = cache_foreach(c, list_fn, &l);
		if (json) {
			json_array_end(&j);
			status = print_json(&j, &b);
		} else {
			status = 0;
		}
		if (rc != MT_OK) {
			fprintf(stderr, "mtasts: cache: %s\n", mt_strerror(rc));
			status = 2;
		}
	} else if (strcmp(args[0], "show") == 0) {
		rc = cache_get(c, dom, &e);
		if (rc == MT_ENOTFOUND) {
			fprintf(stderr, "mtasts: cache: %s: not cached\n", dom);
			status = 1;
		} else if (rc == MT_ECORRUPT) {
			fprintf(stderr,
				"mtasts: cache: %s: an entry where it "
				"would be is damaged (mail to it defers until "
				"a fetch succeeds; 'cache flush %s' drops it)\n",
				dom, dom);
			status = 1;
		} else if (rc != MT_OK) {
			fprintf(stderr, "mtasts: cache: %s\n", mt_strerror(rc));
			status = 2;
		} else if (json) {
			buf_init(&b, 1u << 20);
			json_init(&j, &b);
			entry_json(&j, &e);
			status = print_json(&j, &b);
		} else {
			entry_human(&e, true);
			status = 0;
		}
		cache_entry_clear(&e);
	} else {
		rc = nargs == 2 ? cache_delete(c, dom) : cache_flush(c);
		if (rc == MT_OK) {
			status = 0;
		} else if (rc == MT_ENOTFOUND) {
			fprintf(stderr, "mtasts: cache: %s: not cached\n", dom);
			status = 1;
		} else {
			fprintf(stderr, "mtasts: cache: %s\n", mt_strerror(rc));
		}
	}
	cache_close(c);
	return status;
}
