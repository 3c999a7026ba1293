/*
 * engine.c - the policy in force for a domain, RFC 8461 §3.3, §5, §5.1, §10,
 * over the DNS (dns.c), the HTTPS fetch (fetch.c) and the shared cache
 * (cache.c).
 *
 * The decisions are the pure steps of rules.c (their rules are listed
 * there); this file does the I/O around them:
 *
 *   override?  -> the operator's word, no I/O
 *   cache_get  -> rules_plan         -> answer, or:
 *   lease      -> one process does the network work for a domain; the
 *                 others use what is cached, or wait (bounded) for the
 *                 holder's answer
 *   TXT lookup -> rules_after_txt    -> answer / confirm / store negative,
 *                                       or:
 *   fetch      -> rules_after_fetch  -> store the policy, or keep the
 *                                       cached one and back off
 *
 * Every cache write is an operation that re-reads the entry under the
 * writer lock (cache.h): a confirmation, a back-off or a negative answer
 * never replaces a policy another process stored meanwhile.  When the
 * cache refuses a store because it holds something newer or stronger
 * (MT_EEXIST), the answer is read again from the cache.
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

#define LEASE_POLL_MS 20

void (*engine_test_before_network)(const char *domain);

struct engine {
	struct config cfg;
	struct cache *cache; /* NULL when the cache cannot be opened */
	int cache_rc;	     /* why, when NULL */
	struct dns *dns;     /* created on first use */
	pid_t dns_pid;
	unsigned open_flags; /* ENGINE_OPEN_* */
};

static int engine_open_cache(struct engine *e)
{
	struct cache_opts o;

	o.size = e->cfg.cache_size;
	o.max_size = e->cfg.cache_max_size;
	o.flags = (e->open_flags & ENGINE_OPEN_NOCREATE) ? CACHE_OPEN_NOCREATE :
							   0;
	e->cache_rc = cache_open_opts(&e->cache, e->cfg.cache_path, &o);
	if (e->cache_rc == MT_ENOTFOUND && (o.flags & CACHE_OPEN_NOCREATE)) {
		/* A look before anything was cached: nothing is hidden. */
		e->cache = NULL;
		log_msg(LOG_LVL_INFO, "event=cache-absent path=%s",
			e->cfg.cache_path);
	} else if (e->cache_rc != MT_OK) {
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
	 * (rules.c rule 6).  It is logged loudly. */
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
	dns_opts_from_config(&o, &e->cfg);
	if (dns_create(&e->dns, &o) != MT_OK) {
		e->dns = NULL;
		return NULL;
	}
	e->dns_pid = getpid();
	return e->dns;
}

/* The TXT step.  TXT_FOUND with *txt filled, TXT_ABSENT (final), TXT_TEMP;
 * *why says which.  MT_ENOMEM is returned in *rc. */
static enum txt_result lookup_txt(struct engine *e, const char *domain,
				  struct sts_txt *txt, enum mt_reason *why,
				  int *rc)
{
	char name[DOMAIN_BUFSZ + 16];
	struct dns_txt t;
	struct dns *d;
	enum txt_result res;

	*rc = MT_OK;
	d = engine_dns(e);
	if (d == NULL) {
		*why = R_DNS_UNAVAILABLE;
		return TXT_TEMP;
	}
	/* "_mta-sts." + 253 octets may exceed a DNS name: then the domain
	 * cannot have a record. */
	if ((size_t)snprintf(name, sizeof(name), "_mta-sts.%s", domain) >
	    DOMAIN_MAX) {
		*why = R_NO_TXT;
		return TXT_ABSENT;
	}
	memset(&t, 0, sizeof(t));
	if (dns_txt(d, name, &t) != MT_OK) {
		dns_txt_clear(&t);
		*why = R_DNS_ERROR;
		return TXT_TEMP;
	}
	switch (t.status) {
	case DNS_ANSWER: {
		int r = txt_sts_select((const char *const *)t.rec, t.len, t.n,
				       txt, NULL);

		if (r == MT_OK) {
			*why = R_NONE;
			res = TXT_FOUND;
		} else if (r == MT_ENOMEM) {
			*rc = MT_ENOMEM;
			*why = R_DNS_ERROR;
			res = TXT_TEMP;
		} else {
			/* §3.1: not exactly one valid STSv1 record */
			*why = r == MT_ENOTFOUND ? R_NO_TXT : R_TXT_INVALID;
			res = TXT_ABSENT;
		}
		break;
	}
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		*why = R_NO_TXT;
		res = TXT_ABSENT;
		break;
	case DNS_TEMPFAIL:
	default:
		*why = t.sec == DNS_SEC_BOGUS ? R_DNS_BOGUS : R_DNS_TEMPFAIL;
		res = TXT_TEMP;
		break;
	}
	dns_txt_clear(&t);
	return res;
}

/* The fetch step: policy into *pol.  MT_OK, MT_EFETCH (*why set),
 * MT_ENOMEM (a local allocation, never the server's doing). */
static int fetch_and_parse(struct engine *e, const char *domain,
			   struct policy *pol, enum mt_reason *why)
{
	struct fetch_opts fo;
	struct fetch_result fr;
	const char *type;
	int rc;

	fetch_opts_from_config(&fo, &e->cfg, engine_dns(e));
	memset(&fr, 0, sizeof(fr));
	rc = fetch_policy(domain, &fo, &fr);
	if (rc != MT_OK) {
		fetch_result_clear(&fr);
		*why = R_FETCH_INTERNAL;
		return rc == MT_ENOMEM ? MT_ENOMEM : MT_EFETCH;
	}
	if (fr.err != FETCH_OK) {
		type = fetch_error_tlsrpt(fr.err);
		log_msg(LOG_LVL_WARN,
			"event=fetch-failed domain=%s error=%s result_type=%s "
			"detail=\"%s\"",
			domain, fetch_error_str(fr.err), type, fr.detail);
		*why = reason_from_str(type);
		if (*why == R_COUNT_)
			*why = R_STS_POLICY_FETCH_ERROR;
		fetch_result_clear(&fr);
		return MT_EFETCH;
	}
	rc = policy_parse(fr.body, fr.body_len, pol, NULL);
	fetch_result_clear(&fr);
	if (rc == MT_ENOMEM)
		return rc;
	if (rc != MT_OK) {
		log_msg(LOG_LVL_WARN,
			"event=policy-invalid domain=%s "
			"result_type=sts-policy-invalid",
			domain);
		*why = R_STS_POLICY_INVALID;
		return MT_EFETCH;
	}
	return MT_OK;
}

/* One lookup in progress: what the cache said (answer.h), the flags. */
struct lookup {
	struct engine *e;
	unsigned flags;
	struct answer_ctx a;
};

static bool may_write(const struct lookup *l)
{
	return l->e->cache != NULL && !(l->flags & ENGINE_NO_STORE);
}

/* Read the domain's entry into l->a. */
static int read_entry(struct lookup *l)
{
	struct engine *e = l->e;

	if (e->cache == NULL && e->cache_rc != MT_OK &&
	    !(e->open_flags & ENGINE_OPEN_NOCREATE))
		engine_open_cache(e); /* the operator may have fixed it */
	return answer_read(&l->a, e->cache,
			   (e->open_flags & ENGINE_OPEN_NOCREATE) &&
				   e->cache_rc == MT_ENOTFOUND);
}

static void set_in(struct lookup *l, int64_t now)
{
	answer_set_in(&l->a, l->flags, now, l->e->cfg.txt_check_interval);
}

static int answer(struct lookup *l, const struct rules_out *r,
		  struct engine_policy *out)
{
	return answer_act(&l->a, r, out);
}

/* The cache holds something newer or stronger than what we wanted to
 * write: answer from it, without the network. */
static int answer_from_cache(struct lookup *l, struct engine_policy *out)
{
	struct rules_out r;
	unsigned flags = l->flags;
	int rc;

	if ((rc = read_entry(l)) != MT_OK)
		return rc;
	l->flags = ENGINE_NO_NETWORK;
	set_in(l, clock_now());
	rules_plan(&l->a.in, &r);
	l->flags = flags;
	return answer(l, &r, out);
}

static void note_failure(struct lookup *l, const char *id)
{
	int rc;

	if (!may_write(l))
		return;
	rc = cache_note_failure(l->e->cache, l->a.domain, id ? id : "",
				l->a.in.now, RULES_BACKOFF_MIN,
				RULES_BACKOFF_MAX, NULL);
	if (rc != MT_OK)
		log_msg(LOG_LVL_WARN,
			"event=cache-write-failed domain=%s "
			"op=backoff error=\"%s\"",
			l->a.domain, mt_strerror(rc));
}

/* Wait (bounded) for the lease holder to finish, then answer from the
 * cache when it holds an answer now. */
static int wait_for_holder(struct lookup *l, struct engine_policy *out)
{
	int64_t deadline = clock_mono_ms() + l->e->cfg.lease_time * 1000;
	struct timespec ts = { 0, LEASE_POLL_MS * 1000000L };
	struct rules_out r;

	while (clock_mono_ms() < deadline) {
		nanosleep(&ts, NULL);
		if (read_entry(l) != MT_OK || !l->a.have_entry)
			continue;
		if (l->a.ce.lease_deadline == 0 || l->a.ce.lease_pid == 0 ||
		    (l->a.ce.lease_pid > 0 && kill(l->a.ce.lease_pid, 0) != 0 &&
		     errno == ESRCH))
			break;
	}
	set_in(l, clock_now());
	l->a.in.flags = ENGINE_NO_NETWORK;
	rules_plan(&l->a.in, &r);
	if (r.act == ACT_NONE && r.source != SOURCE_NEGATIVE)
		r.reason = R_FETCH_IN_PROGRESS;
	return answer(l, &r, out);
}

/* Store a fetched policy (pol's mx is taken). */
static int store_policy(struct lookup *l, struct policy *pol, const char *id,
			struct engine_policy *out)
{
	struct cache_entry ne;
	int rc;

	memset(&ne, 0, sizeof(ne));
	memcpy(ne.domain, l->a.domain, sizeof(ne.domain));
	ne.kind = CACHE_POLICY;
	ne.mode = (uint8_t)pol->mode;
	ne.max_age = pol->max_age;
	ne.fetched = l->a.in.now;
	ne.expires = l->a.in.now + (int64_t)pol->max_age;
	ne.txt_checked = l->a.in.now;
	snprintf(ne.id, sizeof(ne.id), "%s", id);
	ne.n_mx = pol->n_mx;
	ne.mx_len = pol->mx_len;
	ne.mx = pol->mx;
	if (may_write(l)) {
		rc = cache_put(l->e->cache, &ne);
		if (rc == MT_EEXIST) {
			/* Another process stored a newer fetch. */
			return answer_from_cache(l, out);
		}
		if (rc != MT_OK)
			log_msg(LOG_LVL_WARN,
				"event=cache-write-failed domain=%s op=policy "
				"error=\"%s\"",
				l->a.domain, mt_strerror(rc));
	}
	return answer_from_entry(out, &ne, SOURCE_FETCH,
				 ne.mode == POLICY_MODE_NONE ? R_MODE_NONE :
							       R_FETCHED);
}

static int store_negative(struct lookup *l, enum mt_reason why,
			  struct engine_policy *out)
{
	struct cache_entry ne;
	int rc;

	if (may_write(l)) {
		memset(&ne, 0, sizeof(ne));
		memcpy(ne.domain, l->a.domain, sizeof(ne.domain));
		ne.kind = CACHE_NEGATIVE;
		ne.mode = POLICY_MODE_NONE;
		ne.fetched = l->a.in.now;
		ne.expires = l->a.in.now + l->e->cfg.negative_ttl;
		ne.txt_checked = l->a.in.now;
		rc = cache_put(l->e->cache, &ne);
		if (rc == MT_EEXIST) {
			/* A policy arrived meanwhile (or the entry is lost):
			 * "no record" never replaces it (§10.2). */
			return answer_from_cache(l, out);
		}
		if (rc != MT_OK)
			log_msg(LOG_LVL_WARN,
				"event=cache-write-failed domain=%s "
				"op=negative error=\"%s\"",
				l->a.domain, mt_strerror(rc));
	}
	answer_none(out, SOURCE_FETCH, why);
	return MT_OK;
}

static int confirm(struct lookup *l, struct engine_policy *out,
		   const struct rules_out *r)
{
	int rc;

	if (may_write(l)) {
		rc = cache_confirm(l->e->cache, l->a.domain, l->a.ce.id,
				   l->a.in.now);
		if (rc == MT_EEXIST || rc == MT_ENOTFOUND)
			return answer_from_cache(l, out);
		if (rc != MT_OK)
			log_msg(LOG_LVL_WARN,
				"event=cache-write-failed domain=%s "
				"op=confirm error=\"%s\"",
				l->a.domain, mt_strerror(rc));
	}
	return answer(l, r, out);
}

/* The network part, lease held when there is one. */
static int resolve(struct lookup *l, struct engine_policy *out)
{
	struct rules_out r;
	struct sts_txt txt;
	struct policy pol;
	enum txt_result t;
	enum mt_reason why = R_NONE;
	const char *id;
	int rc;

	memset(&txt, 0, sizeof(txt));
	t = lookup_txt(l->e, l->a.domain, &txt, &why, &rc);
	if (rc != MT_OK)
		return rc;
	rules_after_txt(&l->a.in, t, t == TXT_FOUND ? txt.id : NULL, why, &r);
	if (r.note_failure)
		note_failure(l, "");
	switch (r.act) {
	case ACT_CONFIRM:
	case ACT_KEEP_NO_TXT:
		return confirm(l, out, &r);
	case ACT_STORE_NEGATIVE:
		return store_negative(l, r.reason, out);
	case ACT_FETCH:
		break;
	default:
		return answer(l, &r, out);
	}
	/* A refresh without a TXT answer renews under the cached id. */
	id = t == TXT_FOUND ? txt.id : l->a.ce.id;
	memset(&pol, 0, sizeof(pol));
	rc = fetch_and_parse(l->e, l->a.domain, &pol, &why);
	if (rc == MT_ENOMEM) {
		policy_clear(&pol);
		return rc;
	}
	rules_after_fetch(&l->a.in, rc == MT_OK, why, &r);
	if (r.note_failure)
		note_failure(l, id);
	if (r.act == ACT_STORE_POLICY)
		rc = store_policy(l, &pol, id, out);
	else
		rc = answer(l, &r, out);
	policy_clear(&pol);
	return rc;
}

int engine_policy(struct engine *e, const char *domain_in, unsigned flags,
		  struct engine_policy *out)
{
	const struct config_override *ov;
	struct lookup l;
	struct rules_out r;
	bool leased = false;
	int rc;

	memset(out, 0, sizeof(*out));
	answer_none(out, SOURCE_NONE, R_NO_POLICY);
	if (domain_in == NULL)
		return MT_EINVAL;
	/* RFC 8461 §3.4 applies to domain names: an address literal has no
	 * policy, and mail to it must not wait on one. */
	if (answer_is_address_literal(domain_in)) {
		out->reason = R_ADDRESS_LITERAL;
		return MT_OK;
	}
	memset(&l, 0, sizeof(l));
	l.e = e;
	l.flags = flags;
	rc = domain_normalise(domain_in, strlen(domain_in), l.a.domain);
	if (rc != MT_OK)
		return MT_EPARSE;

	ov = config_override_find(&e->cfg, l.a.domain);
	if (ov)
		return answer_from_override(out, ov);

	if ((rc = read_entry(&l)) != MT_OK)
		goto out;
	set_in(&l, clock_now());
	rules_plan(&l.a.in, &r);
	if (r.act != ACT_LOOKUP_TXT) {
		rc = answer(&l, &r, out);
		goto out;
	}

	/* One process does the network work for a domain.  Taking the
	 * lease never changes the entry's answer (a damaged entry becomes
	 * a lost one, which still fails closed). */
	if (may_write(&l)) {
		rc = cache_lease(e->cache, l.a.domain, l.a.in.now,
				 l.a.in.now + e->cfg.lease_time);
		if (rc == MT_EBUSY) {
			if (!rules_blind(&l.a.in) &&
			    rules_usable(l.a.in.ce, l.a.in.now)) {
				rc = answer_from_entry(out, &l.a.ce,
						       SOURCE_CACHE, R_CACHED);
				goto out;
			}
			rc = wait_for_holder(&l, out);
			goto out;
		}
		leased = rc == MT_OK;
		/* Any other lease error: go on without it (availability). */
		if (leased) {
			/* What another process stored before we got the
			 * lease is what we start from. */
			if ((rc = read_entry(&l)) != MT_OK)
				goto out;
			set_in(&l, l.a.in.now);
			rules_plan(&l.a.in, &r);
			if (r.act != ACT_LOOKUP_TXT) {
				rc = answer(&l, &r, out);
				goto out;
			}
		}
	}
	if (engine_test_before_network != NULL)
		engine_test_before_network(l.a.domain);
	rc = resolve(&l, out);
out:
	if (leased)
		cache_unlease(e->cache, l.a.domain);
	cache_entry_clear(&l.a.ce);
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
	out->reason = R_NO_POLICY;
	if (answer_is_address_literal(domain)) {
		out->reason = R_ADDRESS_LITERAL;
		return MT_OK;
	}
	if (domain_normalise(domain, strlen(domain), dom) != MT_OK)
		return MT_EPARSE;
	if (domain_normalise(mx_in, strlen(mx_in), mx) != MT_OK)
		return MT_EPARSE;
	active = pol->have_policy && pol->mode != POLICY_MODE_NONE;

	/* RFC 8461 §2: where DANE applies, MTA-STS does not override it.
	 * (An enforced policy refuses an MX outside it whatever DANE says:
	 * no lookup for that one.) */
	if (active && e->cfg.dane &&
	    (pol->mode == POLICY_MODE_TESTING ||
	     (pol->mode == POLICY_MODE_ENFORCE &&
	      policy_mx_matches(pol->mx, pol->mx_len, mx)))) {
		struct dns *d = engine_dns(e);
		struct dns_tlsa tl;
		struct dns_mx mxs;
		bool listed = false, usable = false, failed = false;

		memset(&tl, 0, sizeof(tl));
		memset(&mxs, 0, sizeof(mxs));
		/* TLSA alone is not enough: an MX answer forged for an
		 * unsigned domain names a host whose TLSA the forger signed
		 * (RFC 7672 §2.2.1).  The MX RRset must be secure and list
		 * this host.  A TLSA lookup that failed (bogus, SERVFAIL,
		 * timeout: not a proven NXDOMAIN or NODATA) leaves such a
		 * host unusable (RFC 7672 §2.1.2, §2.2.3). */
		if (d && dns_tlsa(d, mx, 25, &tl) == MT_OK) {
			usable = tl.status == DNS_ANSWER &&
				 tl.sec == DNS_SEC_SECURE && tl.n > 0;
			failed = tl.status == DNS_TEMPFAIL ||
				 tl.sec == DNS_SEC_BOGUS;
		}
		if ((usable || failed) && dns_mx(d, dom, &mxs) == MT_OK &&
		    mxs.status == DNS_ANSWER)
			for (size_t i = 0; i < mxs.n && !listed; i++)
				listed = strcmp(mxs.host[i], mx) == 0;
		dane = dane_state_of(mxs.status == DNS_ANSWER &&
					     mxs.sec == DNS_SEC_SECURE,
				     listed, usable, tl.n, failed);
	}
	answer_decide(dom, mx, pol, dane, out);
	return MT_OK;
}

struct refresh_list {
	char (*names)[DOMAIN_BUFSZ];
	unsigned char *what; /* per name: 1 renew, 2 re-check */
	size_t n, cap;
	int64_t now, refresh_before, interval, check_by;
	bool nomem;
};

static int collect_due(const struct cache_entry *ce, void *arg)
{
	struct refresh_list *l = arg;
	bool renew, recheck;

	rules_refresh_due(ce, l->now, l->refresh_before, l->interval,
			  l->check_by, &renew, &recheck);
	if (!renew && !recheck)
		return 0;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		void *p = mem_realloc(l->names, ncap * sizeof(*l->names));

		if (p == NULL) {
			l->nomem = true;
			return 1;
		}
		l->names = p;
		p = mem_realloc(l->what, ncap * sizeof(*l->what));
		if (p == NULL) {
			l->nomem = true;
			return 1;
		}
		l->what = p;
		l->cap = ncap;
	}
	memcpy(l->names[l->n], ce->domain, DOMAIN_BUFSZ);
	l->names[l->n][DOMAIN_MAX] = '\0';
	l->what[l->n] = renew ? 1 : 2;
	l->n++;
	return 0;
}

int engine_refresh(struct engine *e, struct engine_refresh_counts *n)
{
	struct engine_refresh_counts cnt;
	struct refresh_list l;
	int rc;

	memset(&cnt, 0, sizeof(cnt));
	if (n != NULL)
		*n = cnt;
	if (e->cache == NULL)
		return e->cache_rc ? e->cache_rc : MT_EIO;
	memset(&l, 0, sizeof(l));
	l.now = clock_now();
	l.refresh_before = e->cfg.refresh_before;
	/* An id whose check falls due before the next run is checked now, so
	 * the delivery that would have found it due does not wait on the
	 * DNS.  Without a refresh interval: only renewals. */
	l.interval = e->cfg.txt_check_interval;
	l.check_by = e->cfg.refresh_interval > 0 ?
			     l.now + e->cfg.refresh_interval :
			     INT64_MIN / 2;
	rc = cache_foreach(e->cache, collect_due, &l);
	if (rc == MT_OK && l.nomem)
		rc = MT_ENOMEM;
	if (rc != MT_OK) {
		mem_free(l.names);
		mem_free(l.what);
		return rc;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct engine_policy p;
		unsigned flags = ENGINE_RECHECK | ENGINE_REFRESH;
		bool renew = l.what[i] == 1, good;
		enum policy_mode mode = POLICY_MODE_ENFORCE;
		struct cache_entry ce;

		/* The mode the administrator is alerted about is the cached
		 * one (§3.3: a failed refresh of mode none is no alarm). */
		if (cache_get(e->cache, l.names[i], &ce) == MT_OK) {
			mode = (enum policy_mode)ce.mode;
			cache_entry_clear(&ce);
		}
		if (renew)
			flags |= ENGINE_FORCE;
		memset(&p, 0, sizeof(p));
		rc = engine_policy(e, l.names[i], flags, &p);
		good = rc == MT_OK && (p.source == SOURCE_FETCH ||
				       (!renew && p.reason == R_ID_UNCHANGED));
		if (good && p.source == SOURCE_FETCH)
			cnt.renewed++;
		else if (good)
			cnt.checked++;
		else if (mode == POLICY_MODE_NONE)
			cnt.failed_none++;
		else
			cnt.failed++;
		log_msg(good			 ? LOG_LVL_INFO :
			mode == POLICY_MODE_NONE ? LOG_LVL_NOTICE :
						   LOG_LVL_WARN,
			"event=refresh domain=%s mode=%s result=%s reason=%s",
			l.names[i], policy_mode_str(mode),
			!good			 ? "failed-kept" :
			p.source == SOURCE_FETCH ? "renewed" :
						   "checked",
			rc == MT_OK ? reason_str(p.reason) : mt_strerror(rc));
		engine_policy_clear(&p);
	}
	mem_free(l.names);
	mem_free(l.what);
	if (n != NULL)
		*n = cnt;
	return MT_OK;
}
