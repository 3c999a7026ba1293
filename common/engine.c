/*
 * engine.c - the policy in force for a domain, RFC 8461 §3.3, §5, §5.1, §10,
 * over the DNS (dns.c), the HTTPS fetch (fetch.c) and the shared cache
 * (cache.c).
 *
 * The rules, in the order engine_policy() applies them:
 *
 *  1. A per-domain override from the configuration wins (operator's word).
 *  2. A cached policy is used until fetched + max_age (§5).  Its TXT id is
 *     re-checked every txt_check_interval (every minute with
 *     ENGINE_RECHECK_SOON, asked before mail is deferred or failed for the
 *     policy, §5.1); a new id triggers a refetch
 *     (§5.1 "Policy Discovery"); a failed refetch keeps the cached policy
 *     (§5: a cached policy is never replaced by "nothing" before it
 *     expires).  A missing TXT record does not remove it either (§10.2
 *     treats DNS as attacker-controlled).
 *  3. A fresh negative entry ("no policy", negative_ttl) answers without the
 *     network, so a domain without MTA-STS costs one TXT query per interval
 *     per host, not one per delivery.
 *  4. Otherwise: TXT _mta-sts.<domain> (§3.1; NXDOMAIN/NODATA are final and
 *     cached negatively; SERVFAIL/timeout is temporary and never evicts), then
 *     the HTTPS fetch (§3.3).  A policy with mode none replaces a cached
 *     policy at once (§5).
 *  5. All network work for a domain happens under the cache's fetch lease:
 *     one process fetches, the others use what is cached, or wait (bounded)
 *     for the holder's answer.  Failures back off exponentially.
 *  6. No policy and no cached one -> no policy ("none"), never an error:
 *     availability of mail to domains without MTA-STS never depends on us.
 *  7. When the cache itself cannot be read (never opened, or a read that
 *     fails other than by a miss, e.g. a child that cannot re-attach), an
 *     enforce policy may be hidden in it: if the DNS fails, or the domain
 *     publishes an STSv1 TXT record and the fetch fails, the answer is
 *     MT_EPOLICY (defer), not "none".
 *
 * Nothing here blocks longer than dns_timeout + fetch_timeout (+ the lease
 * wait, itself bounded by the lease time).  A handle is per process and per
 * thread; after fork() the child's first call re-creates the DNS context and
 * the cache re-attaches (both keyed on the pid).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "dns.h"
#include "engine.h"
#include "fetch.h"
#include "log.h"
#include "mem.h"
#include "status.h"

#define BACKOFF_MIN 60		/* seconds after the first failure */
#define BACKOFF_MAX 3600
#define LEASE_POLL_MS 20

struct engine {
	struct config cfg;
	struct cache *cache;	/* NULL when the cache cannot be opened */
	int cache_rc;		/* why, when NULL */
	struct dns *dns;	/* created on first use */
	pid_t dns_pid;
	unsigned open_flags;	/* ENGINE_OPEN_* */
};

static const char *const source_names[] = {
	[SOURCE_CACHE] = "cache",
	[SOURCE_FETCH] = "fetch",
	[SOURCE_NEGATIVE] = "negative-cache",
	[SOURCE_OVERRIDE] = "override",
	[SOURCE_NONE] = "none",
};

const char *engine_source_str(enum engine_source s)
{
	if ((unsigned)s >= sizeof(source_names) / sizeof(source_names[0]))
		return "unknown";
	return source_names[s];
}

static int engine_open_cache(struct engine *e)
{
	e->cache_rc = cache_open_flags(&e->cache, e->cfg.cache_path,
				       e->cfg.cache_size,
				       (e->open_flags & ENGINE_OPEN_NOCREATE) ?
				       CACHE_OPEN_NOCREATE : 0);
	if (e->cache_rc != MT_OK) {
		e->cache = NULL;
		log_msg(LOG_LVL_ERR,
			"event=cache-unavailable path=%s error=\"%s\"",
			e->cfg.cache_path, mt_strerror(e->cache_rc));
	}
	return e->cache_rc;
}

int engine_create(struct engine **out, const struct config *cfg)
{
	return engine_create_flags(out, cfg, 0);
}

int engine_create_flags(struct engine **out, const struct config *cfg,
			unsigned open_flags)
{
	struct engine *e;
	int rc;

	*out = NULL;
	e = mem_calloc(1, sizeof(*e));
	if (e == NULL)
		return MT_ENOMEM;
	e->cfg = *cfg;
	e->open_flags = open_flags;
	rc = fetch_global_init();
	if (rc != MT_OK) {
		mem_free(e);
		return rc;
	}
	/* A cache that cannot be opened is not fatal: resolution goes on
	 * without it, failing closed where an enforce policy may be hidden
	 * (rule 7).  It is logged loudly. */
	engine_open_cache(e);
	*out = e;
	return MT_OK;
}

void engine_destroy(struct engine *e)
{
	if (e == NULL)
		return;
	cache_close(e->cache);
	if (e->dns && e->dns_pid == getpid())
		dns_destroy(e->dns);
	mem_free(e);
}

struct cache *engine_cache(struct engine *e)
{
	return e->cache;
}

const struct config *engine_config(const struct engine *e)
{
	return &e->cfg;
}

static struct dns *engine_dns(struct engine *e)
{
	struct dns_opts o;

	if (e->dns && e->dns_pid == getpid())
		return e->dns;
	/* After fork the parent's context belongs to the parent: drop the
	 * pointer without touching it (its fds are the parent's too). */
	e->dns = NULL;
	memset(&o, 0, sizeof(o));
	if (strcmp(e->cfg.resolver, "recursive") == 0)
		o.recursive = 1;
	else if (e->cfg.resolver[0] != '\0')
		o.resolv_conf = e->cfg.resolver;
	o.timeout_ms = (int)e->cfg.dns_timeout_ms;
	if (dns_create(&e->dns, &o) != MT_OK) {
		e->dns = NULL;
		return NULL;
	}
	e->dns_pid = getpid();
	return e->dns;
}

void engine_policy_clear(struct engine_policy *p)
{
	if (p == NULL)
		return;
	mem_free(p->mx);
	memset(p, 0, sizeof(*p));
}

static void result_none(struct engine_policy *out, enum engine_source src,
			const char *reason)
{
	memset(out, 0, sizeof(*out));
	out->have_policy = false;
	out->mode = POLICY_MODE_NONE;
	out->source = src;
	out->reason = reason;
}

/* Move a cached policy entry into *out (takes the mx blob). */
static void result_from_entry(struct engine_policy *out, struct cache_entry *ce,
			      enum engine_source src, const char *reason)
{
	memset(out, 0, sizeof(*out));
	out->have_policy = true;
	out->mode = (enum policy_mode)ce->mode;
	memcpy(out->id, ce->id, sizeof(out->id));
	out->id[TXT_ID_MAX] = '\0';
	out->max_age = ce->max_age;
	out->expires = ce->expires;
	out->n_mx = ce->n_mx;
	out->mx_len = ce->mx_len;
	out->mx = ce->mx;
	ce->mx = NULL;
	ce->n_mx = ce->mx_len = 0;
	out->source = src;
	out->reason = reason;
}

static int result_from_override(struct engine_policy *out,
				const struct config_override *o)
{
	memset(out, 0, sizeof(*out));
	out->source = SOURCE_OVERRIDE;
	out->reason = "override";
	switch (o->action) {
	case OVERRIDE_NONE:
		out->have_policy = false;
		out->mode = POLICY_MODE_NONE;
		return MT_OK;
	case OVERRIDE_TESTING:
		/* Downgrade to testing: keep reporting, never block. */
		out->have_policy = true;
		out->mode = POLICY_MODE_TESTING;
		return MT_OK;
	case OVERRIDE_ENFORCE:
		out->have_policy = true;
		out->mode = POLICY_MODE_ENFORCE;
		out->mx = mem_alloc(o->mx_len);
		if (out->mx == NULL)
			return MT_ENOMEM;
		memcpy(out->mx, o->mx, o->mx_len);
		out->mx_len = o->mx_len;
		out->n_mx = o->n_mx;
		snprintf(out->id, sizeof(out->id), "override");
		return MT_OK;
	}
	return MT_EINTERNAL;
}

static int64_t backoff_for(uint32_t fails)
{
	int64_t b = BACKOFF_MIN;

	while (fails > 1 && b < BACKOFF_MAX) {
		b *= 2;
		fails--;
	}
	return b < BACKOFF_MAX ? b : BACKOFF_MAX;
}

/* Write back an entry; a cache failure is logged, never fatal: the answer
 * just computed is still right for this delivery. */
static void engine_store(struct engine *e, const struct cache_entry *ce,
			 unsigned flags)
{
	int rc;

	if (e->cache == NULL || (flags & ENGINE_NO_STORE))
		return;
	rc = cache_put(e->cache, ce);
	if (rc != MT_OK)
		log_msg(LOG_LVL_WARN, "event=cache-write-failed domain=%s error=\"%s\"",
			ce->domain, mt_strerror(rc));
}

/* Record a failed refresh: back off, keep whatever answer the entry has. */
static void note_failure(struct engine *e, struct cache_entry *ce, int64_t now,
			 bool blind, unsigned flags)
{
	ce->fail_count++;
	ce->retry_after = now + backoff_for(ce->fail_count);
	/* Blind (the entry could not be read): a back-off entry written now
	 * would replace what may be an enforce policy with "none, backing
	 * off".  Leave the slot alone; every delivery defers and retries. */
	if (!blind && !(flags & ENGINE_NO_STORE))
		engine_store(e, ce, flags);
}

/* The TXT step.  Returns MT_OK with *txt filled, MT_ENOTFOUND when the
 * domain has no (usable) STSv1 record (final), MT_ETEMP on a temporary DNS
 * failure. */
static int lookup_txt(struct engine *e, const char *domain,
		      struct sts_txt *txt, const char **why)
{
	char name[DOMAIN_BUFSZ + 16];
	struct dns_txt t;
	struct dns *d;
	int rc;

	d = engine_dns(e);
	if (d == NULL) {
		*why = "dns-unavailable";
		return MT_ETEMP;
	}
	/* The name fits: domain <= 253, but "_mta-sts." + 253 may exceed a DNS
	 * name; then the domain cannot have a record. */
	if ((size_t)snprintf(name, sizeof(name), "_mta-sts.%s", domain) > DOMAIN_MAX) {
		*why = "no-txt";
		return MT_ENOTFOUND;
	}
	memset(&t, 0, sizeof(t));
	rc = dns_txt(d, name, &t);
	if (rc != MT_OK) {
		*why = "dns-error";
		return rc == MT_ENOMEM ? MT_ENOMEM : MT_ETEMP;
	}
	switch (t.status) {
	case DNS_ANSWER:
		rc = txt_sts_select((const char *const *)t.rec, t.len, t.n, txt,
				    NULL);
		if (rc == MT_OK) {
			*why = "txt-ok";
		} else {
			/* §3.1: not exactly one valid STSv1 record = no policy */
			*why = rc == MT_ENOTFOUND ? "no-txt" : "txt-invalid";
			rc = MT_ENOTFOUND;
		}
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		*why = "no-txt";
		rc = MT_ENOTFOUND;
		break;
	case DNS_TEMPFAIL:
	default:
		*why = t.sec == DNS_SEC_BOGUS ? "dns-bogus" : "dns-tempfail";
		rc = MT_ETEMP;
		break;
	}
	dns_txt_clear(&t);
	return rc;
}

/* The fetch step: policy into *pol.  MT_OK, MT_EFETCH (*why set), MT_ENOMEM. */
static int fetch_and_parse(struct engine *e, const char *domain,
			   struct policy *pol, const char **why)
{
	struct fetch_opts fo;
	struct fetch_result fr;
	int rc;

	memset(&fo, 0, sizeof(fo));
	fo.ca_file = e->cfg.ca_file[0] ? e->cfg.ca_file : NULL;
	fo.total_timeout_ms = (long)e->cfg.fetch_timeout_ms;
	fo.connect_timeout_ms = fo.total_timeout_ms < 5000 ? fo.total_timeout_ms : 5000;
	memset(&fr, 0, sizeof(fr));
	rc = fetch_policy(domain, &fo, &fr);
	if (rc != MT_OK) {
		fetch_result_clear(&fr);
		*why = "fetch-internal";
		return rc == MT_ENOMEM ? MT_ENOMEM : MT_EFETCH;
	}
	if (fr.err != FETCH_OK) {
		log_msg(LOG_LVL_WARN,
			"event=fetch-failed domain=%s error=%s result_type=%s detail=\"%s\"",
			domain, fetch_error_str(fr.err),
			fetch_error_tlsrpt(fr.err), fr.detail);
		*why = fetch_error_tlsrpt(fr.err);
		fetch_result_clear(&fr);
		return MT_EFETCH;
	}
	rc = policy_parse(fr.body, fr.body_len, pol, NULL);
	fetch_result_clear(&fr);
	if (rc == MT_ENOMEM)
		return rc;
	if (rc != MT_OK) {
		log_msg(LOG_LVL_WARN,
			"event=policy-invalid domain=%s result_type=sts-policy-invalid",
			domain);
		*why = "sts-policy-invalid";
		return MT_EFETCH;
	}
	return MT_OK;
}

/* Wait (bounded) for the lease holder to finish, then read the cache once
 * more.  Returns MT_OK with *ce refreshed, or MT_ENOTFOUND. */
static int wait_for_holder(struct engine *e, const char *domain,
			   struct cache_entry *ce)
{
	int64_t deadline = clock_mono_ms() + e->cfg.lease_time * 1000;
	struct timespec ts = { 0, LEASE_POLL_MS * 1000000L };
	int rc = MT_ENOTFOUND;

	while (clock_mono_ms() < deadline) {
		nanosleep(&ts, NULL);
		cache_entry_clear(ce);
		rc = cache_get(e->cache, domain, ce);
		if (rc != MT_OK)
			continue;
		if (ce->lease_deadline == 0 || ce->lease_pid == 0 ||
		    (ce->lease_pid > 0 && kill(ce->lease_pid, 0) != 0 &&
		     errno == ESRCH))
			return MT_OK;
	}
	return rc;
}

int engine_policy(struct engine *e, const char *domain_in, unsigned flags,
		  struct engine_policy *out)
{
	char domain[DOMAIN_BUFSZ];
	const struct config_override *ov;
	struct cache_entry ce;
	struct sts_txt txt;
	struct policy pol;
	const char *why = NULL;
	bool have_entry = false, usable = false, leased = false;
	bool blind = false;	/* the cache could not be read (rule 7) */
	int64_t now, interval = e->cfg.txt_check_interval;
	int rc;

	memset(&ce, 0, sizeof(ce));
	memset(&pol, 0, sizeof(pol));
	result_none(out, SOURCE_NONE, "no-policy");
	if (domain_in == NULL)
		return MT_EINVAL;
	rc = domain_normalise(domain_in, strlen(domain_in), domain);
	if (rc != MT_OK)
		return MT_EPARSE;

	ov = config_override_find(&e->cfg, domain);
	if (ov)
		return result_from_override(out, ov);

	now = clock_now();
	if (e->cache == NULL && e->cache_rc != MT_OK)
		engine_open_cache(e);	/* the operator may have fixed it */
	if (e->cache) {
		rc = cache_get(e->cache, domain, &ce);
		if (rc == MT_OK)
			have_entry = true;
		else if (rc == MT_ENOMEM)
			return rc;
		else if (rc != MT_ENOTFOUND) {
			blind = true;
			log_msg(LOG_LVL_ERR,
				"event=cache-read-failed domain=%s error=\"%s\"",
				domain, mt_strerror(rc));
		}
	}
	if (e->cache == NULL)
		blind = true;
	if (!have_entry) {
		memset(&ce, 0, sizeof(ce));
		snprintf(ce.domain, sizeof(ce.domain), "%s", domain);
	}
	usable = have_entry && ce.kind == CACHE_POLICY && now < ce.expires;

	/* Rule 2: a fresh cached policy whose id was confirmed recently.
	 * Before mail is deferred or failed for it, "recently" is a minute
	 * (§5.1); the back-off below still spaces failing re-checks. */
	if ((flags & ENGINE_RECHECK_SOON) && interval > ENGINE_RECHECK_MIN)
		interval = ENGINE_RECHECK_MIN;
	if (usable && !(flags & (ENGINE_RECHECK | ENGINE_FORCE)) &&
	    now - ce.txt_checked < interval) {
		result_from_entry(out, &ce, SOURCE_CACHE, "cached");
		goto out;
	}
	/* Rule 3: a fresh negative answer. */
	if (have_entry && ce.kind == CACHE_NEGATIVE && now < ce.expires &&
	    !(flags & (ENGINE_RECHECK | ENGINE_FORCE))) {
		result_none(out, SOURCE_NEGATIVE, "no-policy");
		goto out;
	}
	if (flags & ENGINE_NO_NETWORK) {
		if (usable)
			result_from_entry(out, &ce, SOURCE_CACHE, "cached");
		else
			result_none(out, SOURCE_NONE, "not-cached");
		goto out;
	}
	/* Back-off after failures: keep what we have, do not hammer. */
	if (have_entry && now < ce.retry_after &&
	    !(flags & (ENGINE_RECHECK | ENGINE_FORCE))) {
		if (usable)
			result_from_entry(out, &ce, SOURCE_CACHE, "cached-backoff");
		else
			result_none(out, SOURCE_NONE, "backoff");
		goto out;
	}

	/* Rule 5: one process does the network work.  Not when the entry is
	 * unreadable: taking the lease would repair (erase) the damaged slot
	 * that may still be an enforce policy; only a fetched policy or a
	 * final "no record" may replace it. */
	if (e->cache && !blind && !(flags & ENGINE_NO_STORE)) {
		rc = cache_lease(e->cache, domain, now, now + e->cfg.lease_time);
		if (rc == MT_EBUSY) {
			rc = MT_OK;	/* an answer, not an error */
			if (usable) {
				result_from_entry(out, &ce, SOURCE_CACHE, "cached");
				goto out;
			}
			if (wait_for_holder(e, domain, &ce) == MT_OK) {
				now = clock_now();
				if (ce.kind == CACHE_POLICY && now < ce.expires) {
					result_from_entry(out, &ce, SOURCE_CACHE,
							  "cached");
					goto out;
				}
				if (ce.kind == CACHE_NEGATIVE && now < ce.expires) {
					result_none(out, SOURCE_NEGATIVE, "no-policy");
					goto out;
				}
			}
			result_none(out, SOURCE_NONE, "fetch-in-progress");
			goto out;
		}
		leased = rc == MT_OK;
		/* Any other lease error: go on without it (availability). */
	}

	rc = lookup_txt(e, domain, &txt, &why);
	if (rc == MT_ENOMEM)
		goto out;
	if (rc == MT_ETEMP) {
		/* Temporary: never evicts (§5); back off, so a broken name
		 * server is asked once per back-off period, not per delivery. */
		if (!have_entry)
			ce.kind = CACHE_EMPTY;
		note_failure(e, &ce, now, blind, flags);
		if (usable) {
			result_from_entry(out, &ce, SOURCE_CACHE, "cached-dns-tempfail");
			rc = MT_OK;
		} else if (blind) {
			/* Rule 7: a cache we cannot read may hide an enforce
			 * policy, and we cannot learn whether one exists. */
			rc = MT_EPOLICY;
			out->reason = "cache-unavailable";
		} else {
			result_none(out, SOURCE_NONE, why);
			rc = MT_OK;
		}
		goto out;
	}
	if (rc == MT_ENOTFOUND) {
		if (usable) {
			/* §5 / §10.2: a cached policy outlives a missing
			 * record until it expires. */
			ce.txt_checked = now;
			ce.fail_count = 0;
			ce.retry_after = 0;
			engine_store(e, &ce, flags);
			result_from_entry(out, &ce, SOURCE_CACHE, "cached-no-txt");
		} else {
			/* Rule 3: remember "no policy". */
			mem_free(ce.mx);
			ce.mx = NULL;
			ce.n_mx = ce.mx_len = 0;
			ce.kind = CACHE_NEGATIVE;
			ce.mode = POLICY_MODE_NONE;
			ce.fetched = now;
			ce.expires = now + e->cfg.negative_ttl;
			ce.txt_checked = now;
			ce.id[0] = '\0';
			ce.fail_count = 0;
			ce.retry_after = 0;
			engine_store(e, &ce, flags);
			result_none(out, SOURCE_FETCH, why);
		}
		rc = MT_OK;
		goto out;
	}

	/* A valid TXT record.  Same id and a fresh policy: confirmed. */
	if (usable && strcmp(txt.id, ce.id) == 0 && !(flags & ENGINE_FORCE)) {
		ce.txt_checked = now;
		ce.fail_count = 0;
		ce.retry_after = 0;
		engine_store(e, &ce, flags);
		result_from_entry(out, &ce, SOURCE_CACHE, "id-unchanged");
		rc = MT_OK;
		goto out;
	}

	rc = fetch_and_parse(e, domain, &pol, &why);
	if (rc == MT_ENOMEM)
		goto out;
	if (rc != MT_OK) {
		if (!have_entry)
			ce.kind = CACHE_EMPTY;
		note_failure(e, &ce, now, blind, flags);
		if (usable) {
			/* §5: a failed refetch keeps the cached policy. */
			result_from_entry(out, &ce, SOURCE_CACHE, "cached-fetch-failed");
			rc = MT_OK;
		} else if (blind) {
			/* Rule 7. */
			result_none(out, SOURCE_NONE, why);
			out->reason = "cache-unavailable";
			rc = MT_EPOLICY;
		} else {
			/* §5: no cached policy and no fetch: no policy. */
			result_none(out, SOURCE_NONE, why);
			rc = MT_OK;
		}
		goto out;
	}

	/* A new policy (mode none included: it replaces at once, §5). */
	mem_free(ce.mx);
	ce.kind = CACHE_POLICY;
	ce.mode = (uint8_t)pol.mode;
	ce.max_age = pol.max_age;
	ce.fetched = now;
	ce.expires = now + (int64_t)pol.max_age;
	ce.txt_checked = now;
	memcpy(ce.id, txt.id, sizeof(ce.id));
	ce.fail_count = 0;
	ce.retry_after = 0;
	ce.n_mx = pol.n_mx;
	ce.mx_len = pol.mx_len;
	ce.mx = pol.mx;
	pol.mx = NULL;
	pol.n_mx = pol.mx_len = 0;
	engine_store(e, &ce, flags);
	if (ce.mode == POLICY_MODE_NONE) {
		result_from_entry(out, &ce, SOURCE_FETCH, "mode-none");
		out->have_policy = false;
	} else {
		result_from_entry(out, &ce, SOURCE_FETCH, "fetched");
	}
	rc = MT_OK;
out:
	if (leased)
		cache_unlease(e->cache, domain);
	policy_clear(&pol);
	cache_entry_clear(&ce);
	return rc;
}

int engine_decide(struct engine *e, const char *domain,
		  const struct engine_policy *pol, const char *mx_in,
		  struct engine_decision *out)
{
	char mx[DOMAIN_BUFSZ], dom[DOMAIN_BUFSZ];
	enum dane_state dane = DANE_NONE;
	bool active;

	out->verdict = VERDICT_NONE;
	out->reason = "no-policy";
	if (domain_normalise(domain, strlen(domain), dom) != MT_OK)
		return MT_EPARSE;
	if (domain_normalise(mx_in, strlen(mx_in), mx) != MT_OK)
		return MT_EPARSE;
	active = pol->have_policy && pol->mode != POLICY_MODE_NONE;

	/* RFC 8461 §2: where DANE applies, MTA-STS does not override it. */
	if (active && e->cfg.dane && (pol->mode == POLICY_MODE_ENFORCE ||
				      pol->mode == POLICY_MODE_TESTING)) {
		struct dns *d = engine_dns(e);
		struct dns_tlsa tl;
		struct dns_mx mxs;
		bool listed = false;

		memset(&tl, 0, sizeof(tl));
		memset(&mxs, 0, sizeof(mxs));
		/* TLSA alone is not enough: an MX answer forged for an
		 * unsigned domain names a host whose TLSA the forger signed
		 * (RFC 7672 §2.2.1).  The MX RRset must be secure and list
		 * this host. */
		if (d && dns_tlsa(d, mx, 25, &tl) == MT_OK &&
		    tl.status == DNS_ANSWER && tl.sec == DNS_SEC_SECURE &&
		    tl.n > 0 && dns_mx(d, dom, &mxs) == MT_OK &&
		    mxs.status == DNS_ANSWER)
			for (size_t i = 0; i < mxs.n && !listed; i++)
				listed = strcmp(mxs.host[i], mx) == 0;
		dane = dane_state_of(mxs.status == DNS_ANSWER &&
				     mxs.sec == DNS_SEC_SECURE, listed,
				     tl.status == DNS_ANSWER &&
				     tl.sec == DNS_SEC_SECURE, tl.n);
	}
	out->verdict = decide(active, pol->mode, pol->mx, pol->mx_len, mx, dane,
			      &out->reason);
	log_msg(LOG_LVL_INFO,
		"domain=%s mx=%s mode=%s policy_id=%s verdict=%s reason=%s source=%s",
		dom, mx, policy_mode_str(pol->mode),
		pol->id[0] ? pol->id : "-", verdict_str(out->verdict),
		out->reason, engine_source_str(pol->source));
	return MT_OK;
}

struct refresh_list {
	char (*names)[DOMAIN_BUFSZ];
	bool *renew;		/* per name: renew (fetch) or re-check the id */
	size_t n, cap;
	int64_t horizon;	/* renew what expires before this */
	int64_t check_by;	/* re-check ids due before this */
	int64_t interval;	/* txt_check_interval */
};

static int collect_due(const struct cache_entry *ce, void *arg)
{
	struct refresh_list *l = arg;

	bool renew, recheck;

	if (ce->kind != CACHE_POLICY)
		return 0;
	renew = ce->expires <= l->horizon;
	recheck = ce->txt_checked + l->interval <= l->check_by;
	if (!renew && !recheck)
		return 0;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		void *p = mem_realloc(l->names, ncap * sizeof(*l->names));

		if (p == NULL)
			return 1;
		l->names = p;
		p = mem_realloc(l->renew, ncap * sizeof(*l->renew));
		if (p == NULL)
			return 1;
		l->renew = p;
		l->cap = ncap;
	}
	memcpy(l->names[l->n], ce->domain, DOMAIN_BUFSZ);
	l->names[l->n][DOMAIN_MAX] = '\0';
	l->renew[l->n] = renew;
	l->n++;
	return 0;
}

int engine_refresh(struct engine *e, unsigned *refreshed, unsigned *failed)
{
	struct refresh_list l;
	unsigned ok = 0, bad = 0;
	int rc;

	if (refreshed)
		*refreshed = 0;
	if (failed)
		*failed = 0;
	if (e->cache == NULL)
		return e->cache_rc ? e->cache_rc : MT_EIO;
	memset(&l, 0, sizeof(l));
	l.horizon = clock_now() + e->cfg.refresh_before;
	/* An id whose check falls due before the next run is checked now, so
	 * the delivery that would have found it due does not wait on the
	 * DNS.  Without a refresh interval: only renewals. */
	l.interval = e->cfg.txt_check_interval;
	l.check_by = e->cfg.refresh_interval > 0 ?
		clock_now() + e->cfg.refresh_interval : INT64_MIN / 2;
	rc = cache_foreach(e->cache, collect_due, &l);
	if (rc != MT_OK) {
		mem_free(l.names);
		mem_free(l.renew);
		return rc;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct engine_policy p;
		bool good;

		if (l.renew[i]) {
			rc = engine_policy(e, l.names[i], ENGINE_FORCE, &p);
			good = rc == MT_OK && p.source == SOURCE_FETCH;
			if (good)
				ok++;
		} else {
			/* The id: same -> confirmed; new -> refetched. */
			rc = engine_policy(e, l.names[i], ENGINE_RECHECK, &p);
			good = rc == MT_OK && (p.source == SOURCE_FETCH ||
					       (p.reason != NULL &&
						strcmp(p.reason, "id-unchanged") == 0));
			if (good && p.source == SOURCE_FETCH)
				ok++;
		}
		if (!good)
			bad++;
		log_msg(LOG_LVL_INFO, "event=refresh domain=%s result=%s reason=%s",
			l.names[i], !good ? "kept" :
			p.source == SOURCE_FETCH ? "renewed" : "checked",
			p.reason ? p.reason : "-");
		engine_policy_clear(&p);
	}
	mem_free(l.names);
	mem_free(l.renew);
	if (refreshed)
		*refreshed = ok;
	if (failed)
		*failed = bad;
	return MT_OK;
}
