/*
 * answer.c - the policy answer and the cache-only step of a lookup
 * (answer.h).  libc only: the loadable module's decision path runs this
 * and nothing of the network half.
 */
#include "answer.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "status.h"

void engine_policy_clear(struct engine_policy *p)
{
	if (p == NULL)
		return;
	mem_free(p->mx);
	memset(p, 0, sizeof(*p));
}

void answer_none(struct engine_policy *out, enum engine_source src,
		 enum mt_reason reason)
{
	engine_policy_clear(out);
	out->have_policy = false;
	out->mode = POLICY_MODE_NONE;
	out->source = src;
	out->reason = reason;
}

int answer_from_entry(struct engine_policy *out, const struct cache_entry *ce,
		      enum engine_source src, enum mt_reason reason)
{
	engine_policy_clear(out);
	out->mode = (enum policy_mode)ce->mode;
	out->have_policy = out->mode != POLICY_MODE_NONE;
	memcpy(out->id, ce->id, sizeof(out->id));
	out->id[TXT_ID_MAX] = '\0';
	out->max_age = ce->max_age;
	out->expires = ce->expires;
	out->source = src;
	out->reason = reason;
	if (ce->mx_len) {
		out->mx = mem_alloc(ce->mx_len);
		if (out->mx == NULL)
			return MT_ENOMEM;
		memcpy(out->mx, ce->mx, ce->mx_len);
		out->n_mx = ce->n_mx;
		out->mx_len = ce->mx_len;
	}
	return MT_OK;
}

int answer_from_override(struct engine_policy *out,
			 const struct config_override *o)
{
	engine_policy_clear(out);
	out->source = SOURCE_OVERRIDE;
	out->reason = R_OVERRIDE;
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

void answer_ctx_clear(struct answer_ctx *a)
{
	cache_entry_clear(&a->ce);
	a->have_entry = false;
}

int answer_read(struct answer_ctx *a, struct cache *c, bool missing_ok)
{
	int rc;

	cache_entry_clear(&a->ce);
	a->have_entry = false;
	a->blind = false;
	a->no_cache = false;
	if (c == NULL) {
		/* Inspection without a cache file hides nothing; a cache
		 * that cannot be opened may hide anything. */
		a->no_cache = !missing_ok;
		return MT_OK;
	}
	rc = cache_get(c, a->domain, &a->ce);
	if (rc == MT_OK) {
		a->have_entry = true;
	} else if (rc == MT_ENOMEM) {
		return rc;
	} else if (rc == MT_ECORRUPT || rc == MT_EBUSY) {
		/* Damaged, or a writer we could not wait out: this entry
		 * may hide an enforce policy. */
		a->blind = true;
		log_msg(LOG_LVL_ERR,
			"event=cache-read-failed domain=%s error=\"%s\"",
			a->domain, mt_strerror(rc));
	} else if (rc != MT_ENOTFOUND) {
		/* The cache itself cannot be read (a child that cannot
		 * re-attach, a file refused after a change of owner). */
		a->no_cache = true;
		log_msg(LOG_LVL_ERR,
			"event=cache-read-failed domain=%s error=\"%s\"",
			a->domain, mt_strerror(rc));
	}
	return MT_OK;
}

void answer_set_in(struct answer_ctx *a, unsigned flags, int64_t now,
		   int64_t txt_check_interval)
{
	a->in.ce = a->have_entry ? &a->ce : NULL;
	a->in.blind = a->blind;
	a->in.no_cache = a->no_cache;
	a->in.flags = flags;
	a->in.now = now;
	a->in.txt_check_interval = txt_check_interval;
}

int answer_act(struct answer_ctx *a, const struct rules_out *r,
	       struct engine_policy *out)
{
	switch (r->act) {
	case ACT_USE_POLICY:
	case ACT_CONFIRM:
	case ACT_KEEP_NO_TXT:
		return answer_from_entry(out, &a->ce, r->source, r->reason);
	case ACT_FAIL_CLOSED:
		answer_none(out, r->source, r->reason);
		return MT_EPOLICY;
	default:
		answer_none(out, r->source, r->reason);
		return MT_OK;
	}
}

void answer_decide(const char *domain, const char *mx,
		   const struct engine_policy *pol, enum dane_state dane,
		   struct engine_decision *out)
{
	/* A fetched or cached mode none policy says so ("mode-none"). */
	bool have = pol->have_policy || pol->id[0] != '\0';

	out->verdict = decide(have, pol->mode, pol->mx, pol->mx_len, mx, dane,
			      &out->reason);
	log_msg(LOG_LVL_INFO,
		"domain=%s mx=%s mode=%s policy_id=%s verdict=%s reason=%s "
		"source=%s",
		domain, mx, policy_mode_str(pol->mode),
		pol->id[0] ? pol->id : "-", verdict_str(out->verdict),
		reason_str(out->reason), engine_source_str(pol->source));
}

bool answer_is_address_literal(const char *s)
{
	size_t n;

	if (s == NULL || s[0] != '[')
		return false;
	n = strnlen(s, DOMAIN_BUFSZ + 64);
	return n >= 3 && s[n - 1] == ']';
}
