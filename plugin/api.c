/*
 * api.c - the public C API (mtasts.h): the module's decision path.
 *
 * A handle owns a copy of the configuration and a mapping of the shared
 * cache.  A lookup reads the cache and applies the engine's pure rules
 * (rules.c, answer.c); when they say the network is needed (a miss, an id
 * check due, a name that needs IDNA, DANE), the network half mtasts-net.so
 * is loaded from this module's directory (once per process: net.h) and its
 * engine answers.  So a delivery process whose answer is cached loads and
 * runs libc alone.  Everything returned to the caller is copied into
 * caller-owned structs: no pointer into the module escapes.  Trusts: the
 * cache's validated entries, the config file named by the host, the
 * network half built from the same tree (checked on load).  Never exits
 * or aborts inside the host process.
 */
#include <assert.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "clock.h"
#include "config.h"
#include "decide.h"
#include "domain.h"
#include "answer.h"
#include "cache.h"
#include "api_internal.h"
#include "log.h"
#include "net.h"
#include "mem.h"
#include "mtasts.h"
#include "policy.h"
#include "report.h"
#include "rules.h"
#include "status.h"

/* The public codes are the internal ones (ABI: never renumber). */
static_assert((int)MTASTS_OK == (int)MT_OK, "status");
static_assert((int)MTASTS_ENOMEM == (int)MT_ENOMEM, "status");
static_assert((int)MTASTS_EINVAL == (int)MT_EINVAL, "status");
static_assert((int)MTASTS_EPARSE == (int)MT_EPARSE, "status");
static_assert((int)MTASTS_ETOOBIG == (int)MT_ETOOBIG, "status");
static_assert((int)MTASTS_EIO == (int)MT_EIO, "status");
static_assert((int)MTASTS_ETEMP == (int)MT_ETEMP, "status");
static_assert((int)MTASTS_ENOTFOUND == (int)MT_ENOTFOUND, "status");
static_assert((int)MTASTS_ECORRUPT == (int)MT_ECORRUPT, "status");
static_assert((int)MTASTS_EPERM == (int)MT_EPERM, "status");
static_assert((int)MTASTS_EBUSY == (int)MT_EBUSY, "status");
static_assert((int)MTASTS_ETIMEOUT == (int)MT_ETIMEOUT, "status");
static_assert((int)MTASTS_EINTERNAL == (int)MT_EINTERNAL, "status");
static_assert((int)MTASTS_ECONFIG == (int)MT_ECONFIG, "status");
static_assert((int)MTASTS_EFULL == (int)MT_EFULL, "status");
static_assert((int)MTASTS_EFETCH == (int)MT_EFETCH, "status");
static_assert((int)MTASTS_EPOLICY == (int)MT_EPOLICY, "status");
static_assert((int)MTASTS_EEXIST == (int)MT_EEXIST, "status");
static_assert((int)MTASTS_ENOTSUP == (int)MT_ENOTSUP, "status");
static_assert(MT_STATUS_MIN == (int)MTASTS_ENOTSUP,
	      "status: a new code is not public");
static_assert((int)MTASTS_VERDICT_NONE == (int)VERDICT_NONE, "verdict");
static_assert((int)MTASTS_VERDICT_REQUIRE_TLS == (int)VERDICT_REQUIRE_TLS,
	      "verdict");
static_assert((int)MTASTS_VERDICT_REFUSE_MX == (int)VERDICT_REFUSE_MX,
	      "verdict");
static_assert((int)MTASTS_VERDICT_REPORT_ONLY == (int)VERDICT_REPORT_ONLY,
	      "verdict");
static_assert((int)MTASTS_VERDICT_DANE == (int)VERDICT_DANE, "verdict");
static_assert((int)MTASTS_MODE_NONE == (int)POLICY_MODE_NONE, "mode");
static_assert((int)MTASTS_MODE_TESTING == (int)POLICY_MODE_TESTING, "mode");
static_assert((int)MTASTS_MODE_ENFORCE == (int)POLICY_MODE_ENFORCE, "mode");

#define STR_(x) #x
#define STR(x) STR_(x)

struct mtasts {
	struct cache *cache; /* NULL when it cannot be opened */
	int cache_rc;	     /* why, when NULL */
	void *net;	     /* the network half's handle, on demand */
	int net_rc;	     /* MT_OK, or why it could not be opened */
	/* last: its unused override slots are never touched
	 * (config_defaults) */
	struct config cfg;
};

/* The network half, loaded at most once per process (net.h). */
static void *net_dl;
static const struct mtasts_net_ops *net_ops;
static int net_load_rc = 1; /* 1: not tried yet */

/* Log lines go to syslog WITHOUT openlog(): the module lives inside the
 * host MTA, whose own syslog ident and facility must stay as they are.
 * The line is tagged "mtasts:" instead; the facility rides in ctx. */
static void host_sink(void *ctx, enum log_level level, const char *line)
{
	syslog((int)(intptr_t)ctx | (int)level, "mtasts: %s", line);
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* Load mtasts-net.so from the directory this module was loaded from. */
static int net_load(void)
{
	char path[4096], why[256];
	const struct mtasts_net_ops *ops;
	const char *slash;
	Dl_info info;
	void *dl;
	int n;

	if (net_load_rc != 1)
		return net_load_rc;
	net_load_rc = MT_ENOTSUP;
	if (dladdr(&net_load_rc, &info) == 0 || info.dli_fname == NULL ||
	    (slash = strrchr(info.dli_fname, '/')) == NULL) {
		log_msg(LOG_LVL_ERR,
			"event=net-module-error "
			"error=\"cannot tell where mtasts.so was loaded from\"");
		return net_load_rc;
	}
	n = snprintf(path, sizeof(path), "%.*s/%s",
		     (int)(slash - info.dli_fname), info.dli_fname,
		     MTASTS_NET_SO);
	if (n < 0 || (size_t)n >= sizeof(path))
		return net_load_rc;
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		const char *e = dlerror();

		log_sanitise(why, sizeof(why), e ? e : "?", e ? strlen(e) : 1);
		log_msg(LOG_LVL_ERR,
			"event=net-module-error path=%s "
			"error=\"%s\"",
			path, why);
		return net_load_rc;
	}
	ops = dlsym(dl, MTASTS_NET_SYM);
	if (ops == NULL || strcmp(ops->abi, net_abi()) != 0 ||
	    ops->sizes != NET_SIZES) {
		log_msg(LOG_LVL_ERR,
			"event=net-module-error path=%s "
			"error=\"not the network half of this version\"",
			path);
		dlclose(dl);
		return net_load_rc;
	}
	net_dl = dl;
	net_ops = ops;
	net_load_rc = MT_OK;
	return MT_OK;
}

/* The handle's network half; MT_OK or why not (logged). */
static int net_handle(struct mtasts *h)
{
	int rc;

	if (h->net != NULL)
		return MT_OK;
	if (h->net_rc != MT_OK)
		return h->net_rc;
	rc = net_load();
	if (rc == MT_OK)
		rc = net_ops->open(&h->net, &h->cfg, host_sink,
				   (void *)(intptr_t)h->cfg.log_facility,
				   h->cfg.log_level);
	if (rc != MT_OK) {
		h->net = NULL;
		h->net_rc = rc;
		log_msg(LOG_LVL_ERR, "event=net-unavailable error=\"%s\"",
			mt_strerror(rc));
	}
	return rc;
}

static int open_cache(struct mtasts *h)
{
	struct cache_opts o;

	o.size = h->cfg.cache_size;
	o.max_size = h->cfg.cache_max_size;
	o.flags = 0;
	h->cache_rc = cache_open_opts(&h->cache, h->cfg.cache_path, &o);
	if (h->cache_rc != MT_OK) {
		h->cache = NULL;
		log_msg(LOG_LVL_ERR,
			"event=cache-unavailable path=%s error=\"%s\"",
			h->cfg.cache_path, mt_strerror(h->cache_rc));
	}
	return h->cache_rc;
}

int mtasts_open_err(struct mtasts **out, const char *config_path, char *err,
		    size_t errsz)
{
	struct mtasts *h = NULL;
	int rc;

	if (err != NULL && errsz)
		err[0] = '\0';
	if (out == NULL)
		return MT_EINVAL;
	*out = NULL;
	/* Not calloc: zeroing 200 KiB of override slots would fault in pages
	 * a delivery process never reads (config_defaults sets the rest). */
	h = mem_alloc(sizeof(*h));
	if (h == NULL)
		return MT_ENOMEM;
	memset(h, 0, offsetof(struct mtasts, cfg));
	log_set_sink(host_sink, (void *)(intptr_t)LOG_MAIL);
	rc = config_load(&h->cfg, config_path, err, errsz);
	if (rc != MT_OK) {
		log_msg(LOG_LVL_ERR, "event=config-error status=%s what=\"%s\"",
			mt_strerror(rc), err ? err : "");
		mem_free(h);
		return rc;
	}
	log_set_level((enum log_level)h->cfg.log_level);
	log_set_sink(host_sink, (void *)(intptr_t)h->cfg.log_facility);
	/* A cache that cannot be opened is not fatal: lookups go on without
	 * it, failing closed where an enforce policy may be hidden. */
	open_cache(h);
	*out = h;
	return MT_OK;
}

MTASTS_API int mtasts_open(struct mtasts **out, const char *config_path)
{
	char err[256];

	return mtasts_open_err(out, config_path, err, sizeof(err));
}

MTASTS_API void mtasts_close(struct mtasts *h)
{
	if (h == NULL)
		return;
	if (h->net != NULL && net_ops != NULL)
		net_ops->close(h->net);
	cache_close(h->cache);
	mem_free(h);
}

/* The policy in force: from the cache when the rules allow, else from the
 * network half.  Same results as engine_policy(). */
static int lookup(struct mtasts *h, const char *domain, unsigned flags,
		  struct engine_policy *out)
{
	const struct config_override *ov;
	struct answer_ctx a;
	struct rules_out r;
	int rc;

	memset(out, 0, sizeof(*out));
	answer_none(out, SOURCE_NONE, R_NO_POLICY);
	if (domain == NULL)
		return MT_EINVAL;
	/* RFC 8461 §3.4 is about domain names: an address literal has no
	 * policy, and mail to it must not wait on one. */
	if (answer_is_address_literal(domain)) {
		out->reason = R_ADDRESS_LITERAL;
		return MT_OK;
	}
	memset(&a, 0, sizeof(a));
	rc = domain_normalise(domain, strlen(domain), a.domain);
	if (rc == MT_ENOTSUP) /* U-labels: IDNA lives in the net half */
		goto net;
	if (rc != MT_OK)
		return MT_EPARSE;
	ov = config_override_find(&h->cfg, a.domain);
	if (ov)
		return answer_from_override(out, ov);
	if (h->cache == NULL)
		open_cache(h); /* the operator may have fixed it */
	rc = answer_read(&a, h->cache, false);
	if (rc != MT_OK)
		goto out;
	answer_set_in(&a, flags, clock_now(), h->cfg.txt_check_interval);
	rules_plan(&a.in, &r);
	if (r.act != ACT_LOOKUP_TXT) {
		rc = answer_act(&a, &r, out);
		goto out;
	}
net:
	rc = net_handle(h);
	if (rc == MT_OK) {
		struct engine_policy np;

		memset(&np, 0, sizeof(np));
		rc = net_ops->policy(h->net, domain, flags, &np);
		/* Copied out of the net half's allocations. */
		*out = np;
		out->mx = NULL;
		out->n_mx = out->mx_len = 0;
		if (np.mx_len) {
			out->mx = mem_alloc(np.mx_len);
			if (out->mx == NULL) {
				rc = MT_ENOMEM;
			} else {
				memcpy(out->mx, np.mx, np.mx_len);
				out->mx_len = np.mx_len;
				out->n_mx = np.n_mx;
			}
		}
		net_ops->policy_clear(&np);
		goto out;
	}
	/* The network is needed and its half cannot be loaded: an
	 * installation error (logged).  Never "no policy" for it: the host
	 * defers and the administrator is told. */
	answer_none(out, SOURCE_NONE, R_NET_UNAVAILABLE);
	rc = MT_EPOLICY;
out:
	answer_ctx_clear(&a);
	return rc;
}

static void fill_policy(struct mtasts_policy *p,
			const struct engine_policy *pol)
{
	memset(p, 0, sizeof(*p));
	p->have_policy = pol->have_policy;
	p->mode = (enum mtasts_mode)pol->mode;
	copy_str(p->policy_id, sizeof(p->policy_id), pol->id);
	p->expires = pol->have_policy ? (long long)pol->expires : 0;
	p->n_mx = pol->n_mx;
	copy_str(p->source, sizeof(p->source), engine_source_str(pol->source));
	copy_str(p->reason, sizeof(p->reason), reason_str(pol->reason));
}

/* What an error leaves in the caller's structs: the shape of an enforced
 * policy with no pattern, so that a host which forgets the status refuses
 * the MX (and defers) instead of reading "none". */
static void closed_policy(struct mtasts_policy *p, char *mx, size_t mxsz)
{
	p->have_policy = 1;
	p->mode = MTASTS_MODE_ENFORCE;
	p->n_mx = 0;
	p->expires = 0;
	if (mx && mxsz)
		mx[0] = '\0';
	if (p->reason[0] == '\0')
		copy_str(p->reason, sizeof(p->reason), "error");
}

static void closed_decision(struct mtasts_decision *d)
{
	d->verdict = MTASTS_VERDICT_REFUSE_MX;
	d->mode = MTASTS_MODE_ENFORCE;
	d->have_policy = 1;
	d->matched[0] = '\0';
	if (d->reason[0] == '\0')
		copy_str(d->reason, sizeof(d->reason), "error");
}

static int policy_flags(struct mtasts *h, const char *domain,
			struct mtasts_policy *p, char *mx, size_t mxsz,
			unsigned flags)
{
	struct engine_policy pol;
	int rc;

	if (p == NULL)
		return MT_EINVAL;
	memset(p, 0, sizeof(*p));
	memset(&pol, 0, sizeof(pol));
	if (h == NULL || domain == NULL || (mx == NULL && mxsz)) {
		closed_policy(p, mx, mxsz);
		return MT_EINVAL;
	}
	rc = lookup(h, domain, flags, &pol);
	if (rc != MT_OK) {
		if (rc == MT_EPOLICY)
			copy_str(p->reason, sizeof(p->reason),
				 reason_str(pol.reason));
		goto out;
	}
	fill_policy(p, &pol);
	if (mxsz) {
		/* the blob plus the terminating empty string */
		if ((size_t)pol.mx_len + 1 > mxsz) {
			rc = MT_ETOOBIG;
			goto out;
		}
		if (pol.mx_len)
			memcpy(mx, pol.mx, pol.mx_len);
		mx[pol.mx_len] = '\0';
	}
out:
	if (rc != MT_OK && rc != MT_ETOOBIG)
		closed_policy(p, mx, mxsz);
	engine_policy_clear(&pol);
	return rc;
}

MTASTS_API int mtasts_policy(struct mtasts *h, const char *domain,
			     struct mtasts_policy *p, char *mx, size_t mxsz)
{
	return policy_flags(h, domain, p, mx, mxsz, 0);
}

int mtasts_policy_recheck(struct mtasts *h, const char *domain,
			  struct mtasts_policy *p, char *mx, size_t mxsz)
{
	return policy_flags(h, domain, p, mx, mxsz, ENGINE_RECHECK_SOON);
}

int mtasts_policy_cached(struct mtasts *h, const char *domain,
			 struct mtasts_policy *p)
{
	return policy_flags(h, domain, p, NULL, 0, ENGINE_NO_NETWORK);
}

int mtasts_loaded_net(void)
{
	return net_ops != NULL;
}

MTASTS_API int mtasts_decide(struct mtasts *h, const char *domain,
			     const char *mx, struct mtasts_decision *d)
{
	struct engine_policy pol;
	struct engine_decision dec;
	char host[DOMAIN_BUFSZ], dom[DOMAIN_BUFSZ];
	const char *pat;
	uint32_t it = 0;
	bool literal, idna = false;
	int rc;

	if (d == NULL)
		return MT_EINVAL;
	memset(d, 0, sizeof(*d));
	memset(&pol, 0, sizeof(pol));
	if (h == NULL || domain == NULL || mx == NULL) {
		closed_decision(d);
		return MT_EINVAL;
	}
	literal = answer_is_address_literal(domain);
	rc = literal ? MT_OK : domain_normalise(mx, strlen(mx), host);
	if (rc == MT_ENOTSUP) {
		idna = true; /* a U-label MX name: the net half */
	} else if (rc != MT_OK) {
		copy_str(d->reason, sizeof(d->reason), "mx-invalid");
		closed_decision(d);
		return MT_EPARSE;
	}
	rc = lookup(h, domain, 0, &pol);
	if (rc != MT_OK) {
		if (rc == MT_EPOLICY)
			copy_str(d->reason, sizeof(d->reason),
				 reason_str(pol.reason));
		goto out;
	}
	if (literal) {
		/* RFC 8461 §3.4: no policy for an address literal. */
		dec.verdict = VERDICT_NONE;
		dec.reason = R_ADDRESS_LITERAL;
		host[0] = '\0';
	} else {
		rc = domain_normalise(domain, strlen(domain), dom);
		if (rc == MT_ENOTSUP)
			idna = true;
		else if (rc != MT_OK)
			goto out;
		if (idna || (h->cfg.dane && pol.have_policy)) {
			/* IDNA or DANE (a TLSA lookup): the net half. */
			rc = net_handle(h);
			if (rc == MT_OK)
				rc = net_ops->decide(h->net, domain, &pol, mx,
						     &dec);
			else
				rc = MT_EPOLICY;
			if (rc != MT_OK)
				goto out;
			if (idna)
				host[0] = '\0';
		} else {
			answer_decide(dom, host, &pol, DANE_NONE, &dec);
		}
	}
	d->verdict = (enum mtasts_verdict)dec.verdict;
	d->mode = (enum mtasts_mode)pol.mode;
	d->have_policy = pol.have_policy;
	copy_str(d->policy_id, sizeof(d->policy_id), pol.id);
	d->expires = pol.have_policy ? (long long)pol.expires : 0;
	copy_str(d->reason, sizeof(d->reason), reason_str(dec.reason));
	copy_str(d->source, sizeof(d->source), engine_source_str(pol.source));
	while (pol.have_policy && host[0] &&
	       (pat = policy_mx_next(pol.mx, pol.mx_len, &it)) != NULL) {
		if (domain_pattern_match(pat, host)) {
			copy_str(d->matched, sizeof(d->matched), pat);
			break;
		}
	}
out:
	if (rc != MT_OK)
		closed_decision(d);
	engine_policy_clear(&pol);
	return rc;
}

/* One session result.  tlsa: the session was judged by DANE, whose policy
 * domain is the TLSA base domain (RFC 8460 §3): domain is then that name
 * and the policy type "tlsa"; else the policy in force for domain (cache
 * only) gives "sts" or "no-policy-found". */
static int report_result(struct mtasts *h, const char *domain, const char *mx,
			 const char *ip, int success, const char *result_type,
			 bool tlsa)
{
	struct report_rec r;
	struct engine_policy pol;
	int res = RESULT_SUCCESS, rc;

	if (h == NULL || domain == NULL || mx == NULL)
		return MT_EINVAL;
	if (!success) {
		if (result_type == NULL)
			return MT_EINVAL;
		res = report_result_from_str(result_type);
		if (res < 0 || res == RESULT_SUCCESS)
			return MT_EINVAL;
	}
	memset(&r, 0, sizeof(r));
	if (domain_normalise(domain, strlen(domain), r.domain) != MT_OK ||
	    domain_normalise(mx, strlen(mx), r.mx_host) != MT_OK)
		return MT_EINVAL;
	r.when = clock_now();
	r.result = (enum report_result)res;
	copy_str(r.receiving_ip, sizeof(r.receiving_ip), ip);
	memset(&pol, 0, sizeof(pol));
	if (tlsa) {
		copy_str(r.policy_type, sizeof(r.policy_type), "tlsa");
	} else if (lookup(h, r.domain, ENGINE_NO_NETWORK, &pol) == MT_OK &&
		   pol.have_policy) {
		/* The policy the session was judged against: cache only,
		 * never the network (recording must stay cheap). */
		copy_str(r.policy_type, sizeof(r.policy_type), "sts");
		copy_str(r.policy_id, sizeof(r.policy_id), pol.id);
	} else {
		copy_str(r.policy_type, sizeof(r.policy_type),
			 "no-policy-found");
	}
	engine_policy_clear(&pol);
	rc = report_record(&h->cfg, &r);
	if (rc != MT_OK)
		log_msg(LOG_LVL_WARN, "event=report-error domain=%s status=%s",
			r.domain, mt_strerror(rc));
	return rc;
}

MTASTS_API int mtasts_report_result(struct mtasts *h, const char *domain,
				    const char *mx, const char *ip, int success,
				    const char *result_type)
{
	return report_result(h, domain, mx, ip, success, result_type, false);
}

int mtasts_report_result_tlsa(struct mtasts *h, const char *mx, const char *ip,
			      int success, const char *result_type)
{
	return report_result(h, mx, mx, ip, success, result_type, true);
}

MTASTS_API const char *mtasts_strerror(int status)
{
	return mt_strerror(status);
}

MTASTS_API const char *mtasts_verdict_str(enum mtasts_verdict v)
{
	return verdict_str((enum verdict)v);
}

MTASTS_API const char *mtasts_mode_str(enum mtasts_mode m)
{
	return policy_mode_str((enum policy_mode)m);
}

MTASTS_API const char *mtasts_version(void)
{
	return STR(MTASTS_VERSION_MAJOR) "." STR(MTASTS_VERSION_MINOR) "." STR(
		MTASTS_VERSION_PATCH);
}

MTASTS_API int mtasts_abi_version(void)
{
	return MTASTS_ABI_VERSION;
}
