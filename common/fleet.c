/*
 * fleet.c - TLS-RPT across a fleet of MTAs over the store (fleet.h has
 * the keys).
 *
 * Why it holds:
 *   - nothing counted twice: a host's counts of a day are one key that
 *     only that host writes, replaced whole by every push (idempotent);
 *     the counts, the host's entry in D:hosts and the fleet registry
 *     change in one MULTI/EXEC, so a push that dies half way changes
 *     nothing;
 *   - nothing sent twice: a report is sent under a claim (SET NX PX) and
 *     its outcome recorded in D:state before the claim is released; a
 *     host that finds the outcome sends nothing.  A sender that dies
 *     leaves the claim to expire (report_claim_time), and another host
 *     sends.  The one window left is a sender dying between the POST and
 *     the record: the report then goes twice, with the same report-id
 *     (RFC 8460 §4.4), which the receiver can recognise;
 *   - nothing lost: the local results file stays until a push after the
 *     day ended took it (report_pushed_ok) and the retention period is
 *     over, and every run pushes what was not pushed yet.
 * Trust: what other hosts wrote is parsed as untrusted text
 * (report_day_merge_counts, host ids checked, numbers bounded).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "domain.h"
#include "fleet.h"
#include "log.h"
#include "mem.h"
#include "status.h"
#include "store.h"
#include "str.h"

#define KEY_MAX (sizeof(FLEET_PREFIX) + 16 + 8 + DOMAIN_BUFSZ + 16)

struct fleet {
	const struct config *cfg;
	struct store *s;
	char host[CONFIG_HOST_ID_MAX + 1];
	int64_t mark_day;		     /* fleet_marks() */
	char token[CONFIG_HOST_ID_MAX + 64]; /* the claim this run holds */
};

static void day_key(char *out, size_t n, int64_t day, const char *what,
		    const char *name)
{
	char d[11];

	report_day_str(day, d);
	snprintf(out, n, FLEET_PREFIX "%s:%s%s%s", d, what, name ? ":" : "",
		 name ? name : "");
}

/* The day's keys live until the retention period after its end. */
static int64_t day_expiry(const struct fleet *f, int64_t day)
{
	return day + 86400 + f->cfg->report_retention;
}

int fleet_open(struct fleet **out, const struct config *cfg, char *err,
	       size_t errsz)
{
	struct fleet *f;
	char host[256] = "";
	int rc;

	*out = NULL;
	if (cfg->report_host[0] != '\0')
		snprintf(host, sizeof(host), "%s", cfg->report_host);
	else if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	if (!config_host_id_ok(host)) {
		snprintf(err, errsz,
			 "no usable host id (the host name is "
			 "not one): set report_host");
		return MT_ECONFIG;
	}
	f = mem_calloc(1, sizeof(*f));
	if (f == NULL) {
		snprintf(err, errsz, "out of memory");
		return MT_ENOMEM;
	}
	f->cfg = cfg;
	snprintf(f->host, sizeof(f->host), "%s", host);
	rc = store_open(&f->s, cfg, err, errsz);
	if (rc != MT_OK) {
		mem_free(f);
		return rc;
	}
	*out = f;
	return MT_OK;
}

void fleet_close(struct fleet *f)
{
	if (f == NULL)
		return;
	store_close(f->s);
	mem_free(f);
}

const char *fleet_host(const struct fleet *f)
{
	return f->host;
}

const char *fleet_error(const struct fleet *f)
{
	return store_error(f->s);
}

const char *fleet_where(const struct fleet *f)
{
	return store_where(f->s);
}

/* ---------------------------------------------------------------- */
/* push                                                              */

/* One day's counts, its host entry and the registry, in one
 * transaction. */
static int push_one(struct fleet *f, const struct report_day *d, int64_t now,
		    struct fleet_pushed *p)
{
	char kc[KEY_MAX], kh[KEY_MAX], kr[KEY_MAX], meta[160], exp[24];
	char nows[24], ret[24];
	struct buf counts;
	struct store_cmd c[6];
	int rc;

	buf_init(&counts, REPORT_COUNTS_MAX);
	rc = report_day_counts(d, &counts);
	if (rc != MT_OK)
		goto out;
	day_key(kc, sizeof(kc), p->day, "counts", f->host);
	day_key(kh, sizeof(kh), p->day, "hosts", NULL);
	snprintf(kr, sizeof(kr), FLEET_PREFIX "hosts");
	snprintf(meta, sizeof(meta),
		 "pushed=%" PRId64 " final=%d ok=%" PRIu64 " failed=%" PRIu64
		 " domains=%zu",
		 now, p->final ? 1 : 0, p->ok, p->failed, p->domains);
	snprintf(exp, sizeof(exp), "%" PRId64, day_expiry(f, p->day));
	snprintf(nows, sizeof(nows), "%" PRId64, now);
	snprintf(ret, sizeof(ret), "%" PRId64, f->cfg->report_retention);
	memset(c, 0, sizeof(c));
	c[0] = (struct store_cmd){ 3, { "SET", kc, counts.data }, { 0 } };
	c[0].len[2] = counts.len;
	c[1] = (struct store_cmd){ 3, { "EXPIREAT", kc, exp }, { 0 } };
	c[2] = (struct store_cmd){ 4, { "HSET", kh, f->host, meta }, { 0 } };
	c[3] = (struct store_cmd){ 3, { "EXPIREAT", kh, exp }, { 0 } };
	c[4] = (struct store_cmd){ 4, { "HSET", kr, f->host, nows }, { 0 } };
	c[5] = (struct store_cmd){ 3, { "EXPIRE", kr, ret }, { 0 } };
	rc = store_tx(f->s, c, 6);
out:
	buf_free(&counts);
	return rc;
}

static int push_day(struct fleet *f, int64_t day, int64_t now,
		    struct fleet_pushed *p)
{
	struct report_day *d = NULL;
	long long size = report_results_size(f->cfg, day);
	int rc;

	memset(p, 0, sizeof(*p));
	p->day = day;
	/* counts taken after the day ended are its final ones: the module
	 * records a session in the day it happened */
	p->final = now >= day + 86400;
	rc = size < 0 ? MT_EIO : report_day_create(&d, day);
	if (rc == MT_OK)
		rc = report_day_load_file(d, f->cfg);
	if (rc == MT_ENOTFOUND)
		rc = MT_OK; /* no session that day: pushed as zero */
	if (rc == MT_OK) {
		report_day_totals(d, NULL, &p->ok, &p->failed);
		p->domains = report_day_n_domains(d);
		rc = push_one(f, d, now, p);
	}
	/* remembered only after the store took it */
	if (rc == MT_OK && p->final)
		rc = report_pushed_mark(f->cfg, day, size);
	report_day_destroy(d);
	p->rc = rc;
	return rc;
}

/* Older days with results not pushed since they ended, within the
 * retention period. */
static int stale_days(const struct config *cfg, int64_t now, int64_t *days,
		      size_t max, size_t *n)
{
	DIR *dir = opendir(cfg->report_dir);
	struct dirent *e;
	int64_t day;
	char ds[11];

	*n = 0;
	if (dir == NULL)
		return errno == ENOENT ? MT_OK : MT_EIO;
	while ((e = readdir(dir)) != NULL && *n < max) {
		size_t len = strlen(e->d_name);

		if (len != 8 + 10 + 4 || strncmp(e->d_name, "results-", 8) ||
		    strcmp(e->d_name + 18, ".tsv") != 0)
			continue;
		memcpy(ds, e->d_name + 8, 10);
		ds[10] = '\0';
		if (report_parse_day(ds, &day) != MT_OK ||
		    day >= (now / 86400 - 1) * 86400 ||
		    day + 86400 + cfg->report_retention <= now ||
		    report_pushed_ok(cfg, day))
			continue;
		days[(*n)++] = day;
	}
	closedir(dir);
	return MT_OK;
}

int fleet_push(struct fleet *f, int64_t now,
	       void (*fn)(void *ctx, const struct fleet_pushed *p), void *ctx)
{
	int64_t today = now / 86400 * 86400, days[402];
	struct fleet_pushed p;
	size_t n = 0;
	int rc, first = MT_OK;

	rc = stale_days(f->cfg, now, days, ARRAY_SIZE(days) - 2, &n);
	if (rc != MT_OK)
		return rc;
	/* yesterday and today every time: cheap, and the store may have
	 * lost them (a restart without persistence) */
	days[n++] = today - 86400;
	days[n++] = today;
	for (size_t i = 0; i < n; i++) {
		rc = push_day(f, days[i], now, &p);
		if (fn != NULL)
			fn(ctx, &p);
		if (rc != MT_OK && first == MT_OK)
			first = rc;
		/* the connection is gone: the others would fail alike */
		if (rc == MT_ETEMP)
			break;
	}
	return first;
}

/* ---------------------------------------------------------------- */
/* the day's hosts                                                   */

static struct fleet_host *host_get(struct fleet_day *fd, const char *id,
				   size_t idlen, int *rc)
{
	struct fleet_host *h;
	char name[CONFIG_HOST_ID_MAX + 1];

	*rc = MT_OK;
	if (idlen > CONFIG_HOST_ID_MAX)
		return NULL;
	memcpy(name, id, idlen);
	name[idlen] = '\0';
	if (!config_host_id_ok(name))
		return NULL; /* not a host id: not ours */
	for (size_t i = 0; i < fd->n; i++)
		if (strcmp(fd->hosts[i].id, name) == 0)
			return &fd->hosts[i];
	if (fd->n % 16 == 0) {
		struct fleet_host *nh =
			mem_realloc(fd->hosts, (fd->n + 16) * sizeof(*nh));

		if (nh == NULL) {
			*rc = MT_ENOMEM;
			return NULL;
		}
		fd->hosts = nh;
	}
	h = &fd->hosts[fd->n++];
	memset(h, 0, sizeof(*h));
	memcpy(h->id, name, idlen + 1);
	return h;
}

struct load_ctx {
	struct fleet_day *fd;
	int64_t now, retention;
};

static int on_pushed(void *arg, const char *field, size_t flen, const char *val,
		     size_t vlen)
{
	struct load_ctx *lc = arg;
	struct fleet_host *h;
	char meta[200];
	long long at;
	unsigned long long ok, failed;
	size_t domains;
	int final, rc;

	h = host_get(lc->fd, field, flen, &rc);
	if (h == NULL || vlen >= sizeof(meta))
		return rc;
	memcpy(meta, val, vlen);
	meta[vlen] = '\0';
	if (sscanf(meta,
		   "pushed=%lld final=%d ok=%llu failed=%llu "
		   "domains=%zu",
		   &at, &final, &ok, &failed, &domains) != 5)
		return MT_OK; /* unreadable: counts as not pushed */
	h->pushed = true;
	h->final = final == 1;
	h->pushed_at = at;
	h->ok = ok;
	h->failed = failed;
	h->domains = domains;
	return MT_OK;
}

static int on_registered(void *arg, const char *field, size_t flen,
			 const char *val, size_t vlen)
{
	struct load_ctx *lc = arg;
	struct fleet_host *h;
	char t[24];
	long long at;
	int rc;

	if (vlen >= sizeof(t))
		return MT_OK;
	memcpy(t, val, vlen);
	t[vlen] = '\0';
	if (sscanf(t, "%lld", &at) != 1 || at + lc->retention < lc->now)
		return MT_OK; /* gone from the fleet */
	h = host_get(lc->fd, field, flen, &rc);
	if (h != NULL)
		h->expected = true;
	return rc;
}

static int host_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fleet_host *)a)->id,
		      ((const struct fleet_host *)b)->id);
}

int fleet_day_load(struct fleet *f, int64_t day, int64_t now,
		   struct fleet_day *fd)
{
	struct load_ctx lc = { fd, now, f->cfg->report_retention };
	char key[KEY_MAX];
	const char *p = f->cfg->report_hosts;
	int rc;

	memset(fd, 0, sizeof(*fd));
	fd->day = day;
	day_key(key, sizeof(key), day, "hosts", NULL);
	rc = store_hgetall(f->s, key, on_pushed, &lc);
	if (rc == MT_OK)
		rc = store_hgetall(f->s, FLEET_PREFIX "hosts", on_registered,
				   &lc);
	/* the hosts the configuration names (report_hosts) */
	while (rc == MT_OK && *p != '\0') {
		size_t n = strcspn(p, " \t,");
		struct fleet_host *h = n ? host_get(fd, p, n, &rc) : NULL;

		if (h != NULL)
			h->expected = true;
		p += n;
		p += strspn(p, " \t,");
	}
	if (rc != MT_OK) {
		fleet_day_clear(fd);
		return rc;
	}
	if (fd->n > 1)
		qsort(fd->hosts, fd->n, sizeof(*fd->hosts), host_cmp);
	return MT_OK;
}

void fleet_day_clear(struct fleet_day *fd)
{
	mem_free(fd->hosts);
	fd->hosts = NULL;
	fd->n = 0;
}

size_t fleet_day_missing(const struct fleet_day *fd, char *list, size_t listsz)
{
	size_t n = 0, off = 0;

	if (listsz > 0)
		list[0] = '\0';
	for (size_t i = 0; i < fd->n; i++) {
		const struct fleet_host *h = &fd->hosts[i];

		if (!h->expected || h->final)
			continue;
		n++;
		if (off < listsz)
			off += (size_t)snprintf(list + off, listsz - off,
						"%s%s", n > 1 ? ", " : "",
						h->id);
	}
	return n;
}

int fleet_merge(struct fleet *f, const struct fleet_day *fd,
		struct report_day *d, size_t *bad_hosts, size_t *bad_lines)
{
	char key[KEY_MAX];
	struct buf counts;
	int rc = MT_OK;

	*bad_hosts = *bad_lines = 0;
	buf_init(&counts, REPORT_COUNTS_MAX);
	for (size_t i = 0; rc == MT_OK && i < fd->n; i++) {
		size_t skipped = 0;

		if (!fd->hosts[i].pushed)
			continue;
		day_key(key, sizeof(key), fd->day, "counts", fd->hosts[i].id);
		buf_reset(&counts);
		rc = store_get(f->s, key, &counts);
		if (rc == MT_OK)
			rc = report_day_merge_counts(
				d, counts.data ? counts.data : "", counts.len,
				&skipped);
		if (rc == MT_ENOTFOUND || rc == MT_ETOOBIG || rc == MT_EPARSE) {
			log_msg(LOG_LVL_WARN,
				"event=fleet-counts-unreadable "
				"day=%s host=%s status=%s",
				key + sizeof(FLEET_PREFIX) - 1, fd->hosts[i].id,
				mt_strerror(rc));
			(*bad_hosts)++;
			rc = MT_OK;
		}
		*bad_lines += skipped;
	}
	buf_free(&counts);
	return rc;
}

/* ---------------------------------------------------------------- */
/* delivery state and claims                                         */

static void state_field(char *out, size_t n, const char *domain,
			const char *rua)
{
	if (rua == NULL)
		snprintf(out, n, "%s", domain);
	else
		snprintf(out, n, "%s rua-%08x", domain, report_rua_hash(rua));
}

static int marks_get(void *ctx, const char *domain, const char *rua)
{
	struct fleet *f = ctx;
	char key[KEY_MAX], field[DOMAIN_BUFSZ + 16];
	struct buf v;
	int rc;

	day_key(key, sizeof(key), f->mark_day, "state", NULL);
	state_field(field, sizeof(field), domain, rua);
	buf_init(&v, 4096);
	rc = store_hget(f->s, key, field, &v);
	buf_free(&v);
	return rc == MT_OK ? 1 : rc == MT_ENOTFOUND ? 0 : rc;
}

static int marks_set(void *ctx, const char *domain, const char *rua,
		     const char *outcome)
{
	struct fleet *f = ctx;
	char key[KEY_MAX], field[DOMAIN_BUFSZ + 16], val[160], exp[24];
	struct store_cmd c[2];

	day_key(key, sizeof(key), f->mark_day, "state", NULL);
	state_field(field, sizeof(field), domain, rua);
	snprintf(val, sizeof(val), "%s at=%" PRId64 " host=%s", outcome,
		 clock_now(), f->host);
	snprintf(exp, sizeof(exp), "%" PRId64, day_expiry(f, f->mark_day));
	memset(c, 0, sizeof(c));
	c[0] = (struct store_cmd){ 4, { "HSET", key, field, val }, { 0 } };
	c[1] = (struct store_cmd){ 3, { "EXPIREAT", key, exp }, { 0 } };
	return store_tx(f->s, c, 2);
}

static int marks_claim(void *ctx, const char *domain, char *holder,
		       size_t holdersz)
{
	struct fleet *f = ctx;
	char key[KEY_MAX];
	struct buf v;
	int rc;

	day_key(key, sizeof(key), f->mark_day, "claim", domain);
	snprintf(f->token, sizeof(f->token), "%s %ld %" PRId64, f->host,
		 (long)getpid(), clock_mono_ms());
	rc = store_set_nx(f->s, key, f->token,
			  f->cfg->report_claim_time * 1000);
	if (rc != MT_EEXIST)
		return rc;
	/* name the holder: its host id, the first word */
	buf_init(&v, 256);
	if (store_get(f->s, key, &v) == MT_OK && v.data != NULL)
		log_sanitise(holder, holdersz, v.data, strcspn(v.data, " "));
	else
		snprintf(holder, holdersz, "another host");
	buf_free(&v);
	return MT_EBUSY;
}

static void marks_release(void *ctx, const char *domain)
{
	struct fleet *f = ctx;
	char key[KEY_MAX];

	day_key(key, sizeof(key), f->mark_day, "claim", domain);
	/* only our own claim: one that expired may be another host's now */
	store_del_if(f->s, key, f->token);
}

void fleet_marks(struct fleet *f, int64_t day, struct report_marks *m)
{
	f->mark_day = day;
	memset(m, 0, sizeof(*m));
	m->get = marks_get;
	m->set = marks_set;
	m->claim = marks_claim;
	m->release = marks_release;
	m->ctx = f;
}

struct outcome_ctx {
	void (*fn)(void *ctx, const char *domain, const char *outcome);
	void *ctx;
};

static int on_state(void *arg, const char *field, size_t flen, const char *val,
		    size_t vlen)
{
	struct outcome_ctx *oc = arg;
	char d[DOMAIN_BUFSZ], o[32];
	const char *sp = memchr(val, ' ', vlen);
	size_t ol = sp != NULL ? (size_t)(sp - val) : vlen;

	/* per-rua fields ("DOMAIN rua-...") are not outcomes */
	if (flen >= sizeof(d) || memchr(field, ' ', flen) != NULL)
		return MT_OK;
	memcpy(d, field, flen);
	d[flen] = '\0';
	log_sanitise(o, sizeof(o), val, ol);
	oc->fn(oc->ctx, d, o);
	return MT_OK;
}

int fleet_outcomes(struct fleet *f, int64_t day,
		   void (*fn)(void *ctx, const char *domain,
			      const char *outcome),
		   void *ctx)
{
	struct outcome_ctx oc = { fn, ctx };
	char key[KEY_MAX];

	day_key(key, sizeof(key), day, "state", NULL);
	return store_hgetall(f->s, key, on_state, &oc);
}

int fleet_claim_holder(struct fleet *f, int64_t day, const char *domain,
		       char *holder, size_t n)
{
	char key[KEY_MAX];
	struct buf v;
	int rc;

	holder[0] = '\0';
	day_key(key, sizeof(key), day, "claim", domain);
	buf_init(&v, 256);
	rc = store_get(f->s, key, &v);
	if (rc == MT_OK && v.data != NULL)
		log_sanitise(holder, n, v.data, strcspn(v.data, " "));
	buf_free(&v);
	return rc == MT_ENOTFOUND ? MT_OK : rc;
}
