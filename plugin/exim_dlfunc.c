/*
 * exim_dlfunc.c - the Exim ${dlfunc} adapter over the public API.
 *
 * Entry points (Exim's dlfunc signature int f(uschar **yield, int argc,
 * uschar *argv[])), each taking the mtasts config path first:
 *
 *   mtasts_exim_route CONF DOMAIN       for the router's address_data
 *       ""  no enforced policy (none, testing, no policy): opportunistic
 *       "<; !^(?i)mx1\.example\.net$ ; !^(?i)[^.]+\.example\.net$ ; *"
 *           enforce: an ignore_target_hosts list keeping only policy MXs
 *   mtasts_exim_mode CONF DOMAIN        "enforce", "testing" or "none"
 *       asked by the router that defers when no MX is valid: an enforced
 *       policy's TXT id is re-checked first (RFC 8461 §5.1) unless it was
 *       confirmed within the last minute
 *   mtasts_exim_event CONF EVENT DOMAIN HOST IP TLS DATA
 *       records TLS outcomes for TLS-RPT; always yields "" with OK.
 *       TLS is "tls:1" (verified), "tls:0" (unverified), "plain:0",
 *       "dane:1" (verified by DANE, $tls_out_dane) or "dane:0" (the host
 *       has usable TLSA records, $tls_out_tlsa_usage, and DANE failed: the
 *       dane:fail event reports that).  EVENT is smtp:ehlo,
 *       msg:host:defer or dane:fail (DATA: Exim's RFC 8460 result type).
 *       A DANE session is recorded under the policy type "tlsa" and the
 *       MX host, DANE's policy domain (RFC 8460 §3).
 *       Seven arguments, not eight: Exim 4.96 passes a wrong argc when
 *       all eight dlfunc argument slots are used (seen: 16).
 *
 * Why address_data (see docs/exim.md): a failing expansion inside a
 * transport host list counts as "not listed" and fails open, while a failed
 * address_data expansion defers the address.  So the one decision per
 * address happens here and everything later only reads $address_data.
 *
 * Outcomes map to Exim codes through ONE table (outcome_code).  Exim writes
 * every code but OK and FAIL to the panic log, so ERROR is kept for what the
 * administrator must fix (a missing or broken config file), and routine
 * outcomes (answers, "defer this address") use OK and FAIL.
 *
 * Trusts: the engine's policies, which were validated by the parser; the mx
 * patterns are re-validated here anyway before they become host-list syntax
 * (a hostile policy must never inject ';', '!', '*' or regex text).  Yields
 * are a closed vocabulary plus validated patterns: never remote text.
 *
 * State: one handle per process, opened on first use for a config path and
 * kept (Exim dlopens the module once per process and forks for deliveries;
 * the handle survives fork, the cache re-attaches lazily).  Exim processes
 * are single-threaded.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "buf.h"
#include "log.h"
#include "mtasts.h"

/* Exim's dlfunc codes (local_scan.h), repeated so the module builds without
 * the Exim headers; checked against them when they are present. */
#define EXIM_OK 0
#define EXIM_DEFER 1
#define EXIM_FAIL 2
#define EXIM_ERROR 3
#define EXIM_FAIL_FORCED 4

#ifdef MTASTS_HAVE_LOCAL_SCAN
#define DLFUNC_IMPL
#include <local_scan.h>
_Static_assert(OK == EXIM_OK && DEFER == EXIM_DEFER && FAIL == EXIM_FAIL &&
		       ERROR == EXIM_ERROR && FAIL_FORCED == EXIM_FAIL_FORCED,
	       "Exim dlfunc codes");
#else
extern unsigned char *string_copy_function(const unsigned char *);
#endif
/* Weak: the module must also dlopen(RTLD_NOW) into a non-Exim process. */
#pragma weak string_copy_function

#define YIELD_MAX 65536

enum outcome {
	OUT_ANSWER,    /* the yield is the answer */
	OUT_DEFER,     /* the address must be deferred; yield = message */
	OUT_MISCONFIG, /* the administrator must act: panic-logged */
};

/* The only place outcomes become Exim codes: OK inserts the value; FAIL
 * fails the expansion, so that address_data or a router condition defers;
 * ERROR is FAIL plus the panic log. */
static const int outcome_code[] = {
	[OUT_ANSWER] = EXIM_OK,
	[OUT_DEFER] = EXIM_FAIL,
	[OUT_MISCONFIG] = EXIM_ERROR,
};

/* Non-Exim hosts (tests, other MTAs calling these by mistake) get a
 * per-process buffer instead of Exim's pool. */
static char fallback_yield[YIELD_MAX];

static struct mtasts *cached_h;
static char cached_path[1024];

int mtasts_exim_route(unsigned char **yield, int argc, unsigned char *argv[])
	__attribute__((visibility("default")));
int mtasts_exim_mode(unsigned char **yield, int argc, unsigned char *argv[])
	__attribute__((visibility("default")));
int mtasts_exim_event(unsigned char **yield, int argc, unsigned char *argv[])
	__attribute__((visibility("default")));

static int finish(unsigned char **yield, enum outcome o, const char *text)
{
	if (yield == NULL) /* not called by Exim: nowhere to answer */
		return outcome_code[o];
	if (string_copy_function) {
		*yield = string_copy_function((const unsigned char *)text);
	} else {
		snprintf(fallback_yield, sizeof(fallback_yield), "%s", text);
		*yield = (unsigned char *)fallback_yield;
	}
	return outcome_code[o];
}

/* argc arguments, none of them NULL (Exim never passes NULL; other hosts
 * calling these entry points might). */
static int args_ok(int argc, int want, unsigned char *argv[])
{
	if (argc != want || argv == NULL)
		return 0;
	for (int i = 0; i < want; i++)
		if (argv[i] == NULL)
			return 0;
	return 1;
}

static char open_err[256]; /* "file:line: what" of the last failure */

/* The handle for this config path; NULL with *rc set on failure. */
static struct mtasts *handle(const char *path, int *rc)
{
	*rc = MTASTS_OK;
	if (path == NULL) {
		*rc = MTASTS_EINVAL;
		return NULL;
	}
	if (cached_h && strcmp(cached_path, path) == 0)
		return cached_h;
	mtasts_close(cached_h);
	cached_h = NULL;
	if (strlen(path) >= sizeof(cached_path)) {
		*rc = MTASTS_EINVAL;
		return NULL;
	}
	*rc = mtasts_open_err(&cached_h, path[0] ? path : NULL, open_err,
			      sizeof(open_err));
	if (*rc != MTASTS_OK) {
		cached_h = NULL;
		return NULL;
	}
	snprintf(cached_path, sizeof(cached_path), "%s", path);
	return cached_h;
}

/* Exim puts this text in its panic log: say which file and line. */
static int misconfig(unsigned char **yield, const char *what, int rc)
{
	char msg[512];

	if (open_err[0] != '\0')
		snprintf(msg, sizeof(msg), "MTA-STS: %s: %s: %s", what,
			 mtasts_strerror(rc), open_err);
	else
		snprintf(msg, sizeof(msg), "MTA-STS: %s: %s", what,
			 mtasts_strerror(rc));
	return finish(yield, OUT_MISCONFIG, msg);
}

/* One line per routed address: what the router was told. */
static void route_log(const char *domain, const struct mtasts_policy *p,
		      const char *action)
{
	char d[256];

	log_sanitise(d, sizeof(d), domain, strlen(domain));
	log_msg(LOG_LVL_INFO,
		"event=route domain=%s mode=%s policy_id=%s source=%s "
		"reason=%s action=%s mx_patterns=%u",
		d, mtasts_mode_str(p->mode),
		p->policy_id[0] ? p->policy_id : "-",
		p->source[0] ? p->source : "-", p->reason[0] ? p->reason : "-",
		action, p->n_mx);
}

/* LDH label of 1..63 octets. */
static int label_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

/* A host name of LDH labels, or "*." and one: the only shapes that may
 * reach the host list. */
static int pattern_ok(const char *p)
{
	const char *s = p, *dot;
	size_t len = strlen(p);

	if (len == 0 || len > 253)
		return 0;
	if (s[0] == '*') {
		if (s[1] != '.')
			return 0;
		s += 2;
	}
	for (;;) {
		dot = strchr(s, '.');
		if (!label_ok(s, dot ? (size_t)(dot - s) : strlen(s)))
			return 0;
		if (dot == NULL)
			return 1;
		s = dot + 1;
	}
}

/* "<; !^(?i)a\.b$ ; !^(?i)[^.]+\.c\.d$ ; *": every MX whose name matches
 * no pattern is ignored (RFC 8461 §4.1 matching; a wildcard stands for
 * exactly one left-most label). */
static int host_list(const char *mx, struct buf *b)
{
	const char *p;
	int rc;

	rc = buf_adds(b, "<;");
	for (p = mx; rc == MTASTS_OK && *p; p += strlen(p) + 1) {
		const char *s = p;

		if (!pattern_ok(p))
			return MTASTS_EPARSE;
		rc = buf_adds(b, " !^(?i)");
		if (rc == MTASTS_OK && s[0] == '*') {
			rc = buf_adds(b, "[^.]+\\.");
			s += 2;
		}
		for (; rc == MTASTS_OK && *s; s++)
			rc = *s == '.' ? buf_adds(b, "\\.") : buf_add(b, s, 1);
		if (rc == MTASTS_OK)
			rc = buf_adds(b, "$ ;");
	}
	if (rc == MTASTS_OK)
		rc = buf_adds(b, " *");
	return rc;
}

int mtasts_exim_route(unsigned char **yield, int argc, unsigned char *argv[])
{
	static char mx[YIELD_MAX / 2];
	struct mtasts_policy pol;
	struct mtasts *h;
	struct buf b;
	int rc, ret;

	if (!args_ok(argc, 2, argv))
		return finish(yield, OUT_MISCONFIG,
			      "MTA-STS: mtasts_exim_route takes CONFIG DOMAIN");
	h = handle((const char *)argv[0], &rc);
	if (h == NULL)
		return misconfig(yield, "cannot open the configuration", rc);
	rc = mtasts_policy(h, (const char *)argv[1], &pol, mx, sizeof(mx));
	if (rc == MTASTS_ETOOBIG) {
		/* More patterns than a host list can hold: only a problem
		 * when the policy is enforced. */
		rc = mtasts_policy(h, (const char *)argv[1], &pol, NULL, 0);
		if (rc == MTASTS_OK && pol.have_policy &&
		    pol.mode != MTASTS_MODE_NONE &&
		    pol.mode != MTASTS_MODE_TESTING) {
			route_log((const char *)argv[1], &pol, "defer");
			return finish(yield, OUT_DEFER,
				      "MTA-STS: enforced policy has too many "
				      "mx patterns");
		}
	}
	if (rc == MTASTS_EPARSE) { /* not a domain: no policy can exist */
		memset(&pol, 0, sizeof(pol));
		snprintf(pol.reason, sizeof(pol.reason), "not-a-domain");
		route_log((const char *)argv[1], &pol, "opportunistic");
		return finish(yield, OUT_ANSWER, "");
	}
	if (rc != MTASTS_OK) {
		/* MTASTS_EPOLICY, or a failure where an enforced policy may
		 * exist: never send in clear (design.md) */
		route_log((const char *)argv[1], &pol, "defer");
		if (strcmp(pol.reason, "network-module-unavailable") == 0)
			return finish(yield, OUT_MISCONFIG,
				      "MTA-STS: mtasts-net.so (the network "
				      "half, beside mtasts.so) cannot be "
				      "loaded: see the mtasts log");
		return finish(yield, OUT_DEFER,
			      "MTA-STS: policy cannot be applied now");
	}
	/* Only none and testing are opportunistic: a mode outside the enum
	 * is held to enforce (fail closed). */
	if (!pol.have_policy || pol.mode == MTASTS_MODE_NONE ||
	    pol.mode == MTASTS_MODE_TESTING) {
		route_log((const char *)argv[1], &pol, "opportunistic");
		return finish(yield, OUT_ANSWER, "");
	}
	buf_init(&b, YIELD_MAX - 1);
	rc = host_list(mx, &b);
	if (rc == MTASTS_OK) {
		route_log((const char *)argv[1], &pol, "enforce");
		ret = finish(yield, OUT_ANSWER, b.data);
	} else {
		route_log((const char *)argv[1], &pol, "defer");
		ret = finish(yield, OUT_DEFER,
			     "MTA-STS: enforced policy has unusable mx "
			     "patterns");
	}
	buf_free(&b);
	return ret;
}

int mtasts_exim_mode(unsigned char **yield, int argc, unsigned char *argv[])
{
	struct mtasts_policy pol;
	struct mtasts *h;
	int rc;

	if (!args_ok(argc, 2, argv))
		return finish(yield, OUT_MISCONFIG,
			      "MTA-STS: mtasts_exim_mode takes CONFIG DOMAIN");
	h = handle((const char *)argv[0], &rc);
	if (h == NULL)
		return misconfig(yield, "cannot open the configuration", rc);
	/* This router defers the address when the answer is enforce: the
	 * moment RFC 8461 §5.1 wants the policy id re-checked. */
	rc = mtasts_policy_recheck(h, (const char *)argv[1], &pol, NULL, 0);
	if (rc == MTASTS_EPARSE)
		return finish(yield, OUT_ANSWER, "none");
	if (rc != MTASTS_OK &&
	    strcmp(pol.reason, "network-module-unavailable") == 0)
		return finish(yield, OUT_MISCONFIG,
			      "MTA-STS: mtasts-net.so (the network half, "
			      "beside mtasts.so) cannot be loaded: see the "
			      "mtasts log");
	if (rc != MTASTS_OK)
		return finish(yield, OUT_DEFER,
			      "MTA-STS: policy cannot be applied now");
	if (!pol.have_policy || pol.mode == MTASTS_MODE_NONE)
		return finish(yield, OUT_ANSWER, "none");
	return finish(yield, OUT_ANSWER,
		      pol.mode == MTASTS_MODE_TESTING ? "testing" : "enforce");
}

static int has_word(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; hay && *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/* A TLS failure text from msg:host:defer -> RFC 8460 §4.3 result type, or
 * NULL when the text is not about TLS verification (connection errors;
 * a missing STARTTLS is recorded from smtp:ehlo instead).  Exim 4.96 with
 * GnuTLS says "TLS session: (certificate verification failed)" and adds
 * ": certificate invalid" when the chain itself failed (untrusted issuer,
 * expired, ...), nothing when only the name check failed. */
static const char *classify_defer(const char *t)
{
	if (!has_word(t, "certificate") && !has_word(t, "TLS session"))
		return NULL;
	if (has_word(t, "did not offer TLS"))
		return NULL;
	if (has_word(t, "expired"))
		return "certificate-expired";
	if (has_word(t, "not trusted") || has_word(t, "issuer"))
		return "certificate-not-trusted";
	if (has_word(t, "certificate invalid"))
		return "validation-failure";
	if (has_word(t, "certificate verification failed"))
		return "certificate-host-mismatch";
	return "validation-failure";
}

int mtasts_exim_event(unsigned char **yield, int argc, unsigned char *argv[])
{
	const char *ev, *domain, *host, *ip, *tls, *data;
	struct mtasts *h;
	int rc;

	/* Reporting never affects delivery: every path yields "" with OK. */
	if (argc != 7 || argv == NULL || argv[0] == NULL)
		return finish(yield, OUT_ANSWER, "");
	ev = (const char *)argv[1];
	domain = (const char *)argv[2];
	host = (const char *)argv[3];
	ip = (const char *)argv[4];
	tls = (const char *)argv[5];
	data = (const char *)argv[6];
	if (!host || !*host || !ev || !tls)
		return finish(yield, OUT_ANSWER, "");
	h = handle((const char *)argv[0], &rc);
	if (h == NULL)
		return finish(yield, OUT_ANSWER, "");
	if (strcmp(ev, "dane:fail") == 0) {
		/* Before any TLS (a failed TLSA lookup) or after the
		 * handshake: Exim names the RFC 8460 result type
		 * (dnssec-invalid, validation-failure, dane-required, ...);
		 * one outside the vocabulary is validation-failure. */
		if (data == NULL ||
		    mtasts_report_result_tlsa(h, host, ip, 0, data) ==
			    MTASTS_EINVAL)
			mtasts_report_result_tlsa(h, host, ip, 0,
						  "validation-failure");
	} else if (strncmp(tls, "dane:", 5) == 0) {
		/* RFC 8461 §2: DANE judged this session, not the policy:
		 * a success is the EHLO after a DANE-verified handshake; a
		 * failure was dane:fail, and the msg:host:defer that
		 * follows it is the same failure. */
		if (strcmp(ev, "smtp:ehlo") == 0 && strcmp(tls, "dane:1") == 0)
			mtasts_report_result_tlsa(h, host, ip, 1, NULL);
	} else if (!domain || !*domain) {
		/* the policy domain is unknown: nothing to record */
	} else if (strcmp(ev, "smtp:ehlo") == 0) {
		struct mtasts_policy pol;
		int ok = strcmp(tls, "tls:1") == 0;

		/* Without a policy, any TLS session is a success (RFC 8460
		 * §4.3: validation is only required by a policy).  The cache
		 * only: a transport must not wait on the network for a
		 * report (routing has just looked the policy up). */
		if (!ok &&
		    (mtasts_policy_cached(h, domain, &pol) != MTASTS_OK ||
		     !pol.have_policy || pol.mode == MTASTS_MODE_NONE))
			ok = 1;
		/* the EHLO after STARTTLS */
		if (strncmp(tls, "tls:", 4) == 0)
			mtasts_report_result(h, domain, host, ip, ok,
					     "validation-failure");
		else if (!has_word(data, "STARTTLS"))
			mtasts_report_result(h, domain, host, ip, 0,
					     "starttls-not-supported");
	} else if (strcmp(ev, "msg:host:defer") == 0) {
		const char *type = classify_defer(data);

		if (type)
			mtasts_report_result(h, domain, host, ip, 0, type);
	}
	return finish(yield, OUT_ANSWER, "");
}
