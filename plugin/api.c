/*
 * api.c - the public C API (mtasts.h) over the engine.
 *
 * A handle owns a copy of the configuration and one engine (which owns the
 * cache mapping, the resolver and the fetcher).  Everything returned to the
 * caller is copied into caller-owned structs: no pointer into the module
 * escapes.  Trusts: the engine's policies (already validated), the config
 * file named by the host.  Never exits or aborts inside the host process.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "clock.h"
#include "config.h"
#include "decide.h"
#include "domain.h"
#include "engine.h"
#include "api_internal.h"
#include "log.h"
#include "mem.h"
#include "mtasts.h"
#include "policy.h"
#include "report.h"
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
static_assert(MT_STATUS_MIN == (int)MTASTS_EEXIST,
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
	struct config cfg;
	struct engine *engine;
};

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

MTASTS_API int mtasts_open(struct mtasts **out, const char *config_path)
{
	struct mtasts *h = NULL;
	char err[256];
	int rc;

	if (out == NULL)
		return MT_EINVAL;
	*out = NULL;
	h = mem_calloc(1, sizeof(*h));
	if (h == NULL)
		return MT_ENOMEM;
	err[0] = '\0';
	log_set_sink(host_sink, (void *)(intptr_t)LOG_MAIL);
	rc = config_load(&h->cfg, config_path, err, sizeof(err));
	if (rc != MT_OK) {
		log_msg(LOG_LVL_ERR, "event=config-error status=%s what=\"%s\"",
			mt_strerror(rc), err);
		goto out;
	}
	log_set_level((enum log_level)h->cfg.log_level);
	log_set_sink(host_sink, (void *)(intptr_t)h->cfg.log_facility);
	rc = engine_create(&h->engine, &h->cfg);
	if (rc != MT_OK) {
		log_msg(LOG_LVL_ERR, "event=open-error status=%s",
			mt_strerror(rc));
		goto out;
	}
	*out = h;
	h = NULL;
out:
	if (h) {
		engine_destroy(h->engine);
		mem_free(h);
	}
	return rc;
}

MTASTS_API void mtasts_close(struct mtasts *h)
{
	if (h == NULL)
		return;
	engine_destroy(h->engine);
	mem_free(h);
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
	rc = engine_policy(h->engine, domain, flags, &pol);
	if (rc != MT_OK) {
		if (rc == MT_EPOLICY)
			copy_str(p->reason, sizeof(p->reason), reason_str(pol.reason));
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

MTASTS_API int mtasts_decide(struct mtasts *h, const char *domain,
			     const char *mx, struct mtasts_decision *d)
{
	struct engine_policy pol;
	struct engine_decision dec;
	char host[DOMAIN_BUFSZ];
	const char *pat;
	uint32_t it = 0;
	int rc;

	if (d == NULL)
		return MT_EINVAL;
	memset(d, 0, sizeof(*d));
	memset(&pol, 0, sizeof(pol));
	if (h == NULL || domain == NULL || mx == NULL) {
		closed_decision(d);
		return MT_EINVAL;
	}
	if (domain_normalise(mx, strlen(mx), host) != MT_OK) {
		copy_str(d->reason, sizeof(d->reason), "mx-invalid");
		closed_decision(d);
		return MT_EPARSE;
	}
	rc = engine_policy(h->engine, domain, 0, &pol);
	if (rc != MT_OK) {
		if (rc == MT_EPOLICY)
			copy_str(d->reason, sizeof(d->reason), reason_str(pol.reason));
		goto out;
	}
	rc = engine_decide(h->engine, domain, &pol, host, &dec);
	if (rc != MT_OK)
		goto out;
	d->verdict = (enum mtasts_verdict)dec.verdict;
	d->mode = (enum mtasts_mode)pol.mode;
	d->have_policy = pol.have_policy;
	copy_str(d->policy_id, sizeof(d->policy_id), pol.id);
	d->expires = pol.have_policy ? (long long)pol.expires : 0;
	copy_str(d->reason, sizeof(d->reason), reason_str(dec.reason));
	copy_str(d->source, sizeof(d->source), engine_source_str(pol.source));
	while (pol.have_policy &&
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

MTASTS_API int mtasts_report_result(struct mtasts *h, const char *domain,
				    const char *mx, const char *ip,
				    int success, const char *result_type)
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
	/* The policy the session was judged against: cache only, never the
	 * network (recording must stay cheap). */
	memset(&pol, 0, sizeof(pol));
	if (engine_policy(h->engine, r.domain, ENGINE_NO_NETWORK, &pol) ==
		    MT_OK && pol.have_policy) {
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
	return STR(MTASTS_VERSION_MAJOR) "." STR(MTASTS_VERSION_MINOR) "."
		STR(MTASTS_VERSION_PATCH);
}

MTASTS_API int mtasts_abi_version(void)
{
	return MTASTS_ABI_VERSION;
}
