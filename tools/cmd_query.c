/*
 * cmd_query.c - `mtasts query` (what the plugin decides now, through the
 * cache) and `mtasts refresh` (proactive renewal of expiring policies).
 *
 *   mtasts query [--json] [--store] [--no-network] [--recheck] DOMAIN [MX...]
 *
 * A query leaves the cache as it found it (ENGINE_NO_STORE) unless --store
 * is given: an administrator's look-up, with a configuration that may not
 * be the MTA's, never changes what the MTA decides.  Without MX arguments
 * the domain's MX records are looked up (and the domain itself is the
 * implicit MX when it has none, RFC 5321 §5.1).
 * --json prints one JSON object per MX, one per line.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "dns.h"
#include "engine.h"
#include "json.h"
#include "log.h"
#include "status.h"

/* The reason shown: the decision's, then how the policy was obtained
 * ("mx-match/cached-fetch-failed"); without a policy, why there is none. */
static const char *reason_of(const struct engine_policy *p,
			     const struct engine_decision *d, char *tmp,
			     size_t n)
{
	if (!p->have_policy)
		return reason_str(p->reason != R_NONE ? p->reason : d->reason);
	snprintf(tmp, n, "%s/%s", reason_str(d->reason), reason_str(p->reason));
	return tmp;
}

static void print_human(const char *domain, const char *mx,
			const struct engine_policy *p,
			const struct engine_decision *d)
{
	char tmp[128];

	printf("%s %s verdict=%s mode=%s policy_id=%s source=%s reason=%s",
	       domain, mx, verdict_str(d->verdict), policy_mode_str(p->mode),
	       p->id[0] ? p->id : "-", engine_source_str(p->source),
	       reason_of(p, d, tmp, sizeof(tmp)));
	if (p->have_policy)
		printf(" expires=%lld", (long long)p->expires);
	printf("\n");
}

static int print_json(const char *domain, const char *mx,
		      const struct engine_policy *p,
		      const struct engine_decision *d)
{
	char tmp[128];
	struct buf b;
	struct json j;
	uint32_t it = 0;
	const char *pat;
	int rc;

	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	json_object_begin(&j);
	json_key_string(&j, "domain", domain);
	json_key_string(&j, "mx", mx);
	json_key_string(&j, "verdict", verdict_str(d->verdict));
	json_key_string(&j, "mode", policy_mode_str(p->mode));
	if (p->id[0])
		json_key_string(&j, "policy_id", p->id);
	else
		json_key_null(&j, "policy_id");
	json_key(&j, "mx_patterns");
	json_array_begin(&j);
	while ((pat = policy_mx_next(p->mx, p->mx_len, &it)) != NULL)
		json_string(&j, pat);
	json_array_end(&j);
	if (p->have_policy)
		json_key_int(&j, "expires", p->expires);
	else
		json_key_null(&j, "expires");
	json_key_string(&j, "source", engine_source_str(p->source));
	json_key_string(&j, "reason", reason_of(p, d, tmp, sizeof(tmp)));
	json_object_end(&j);
	rc = json_finish(&j);
	if (rc == MT_OK)
		printf("%s\n", b.data);
	buf_free(&b);
	return rc;
}

int cmd_query(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct engine *e = NULL;
	struct engine_policy pol;
	const char *domain = NULL;
	unsigned flags = 0;
	int json = 0, store = 0, i, rc, status = 0, first_mx = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--store") == 0)
			store = 1;
		else if (strcmp(argv[i], "--no-network") == 0)
			flags |= ENGINE_NO_NETWORK;
		else if (strcmp(argv[i], "--recheck") == 0)
			flags |= ENGINE_RECHECK;
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "mtasts query: unknown option %s\n",
				argv[i]);
			cmd_usage(stderr, "query");
			return 2;
		} else
			break;
	}
	if (i >= argc) {
		cmd_usage(stderr, "query");
		return 2;
	}
	domain = argv[i++];
	first_mx = i;
	/* An administrator's look-up must not change what the MTA decides
	 * (no stored answer, lease or back-off): storing is asked for. */
	if (!store)
		flags |= ENGINE_NO_STORE;

	/* ... nor create the cache file */
	rc = engine_create_flags(&e, &ctx->cfg,
				 store ? 0 : ENGINE_OPEN_NOCREATE);
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts query: %s\n", mt_strerror(rc));
		return 2;
	}
	rc = engine_policy(e, domain, flags, &pol);
	if (rc == MT_EPARSE) {
		fprintf(stderr, "mtasts query: '%s' is not a valid domain\n",
			domain);
		engine_destroy(e);
		return 2;
	}
	if (rc == MT_EPOLICY) {
		/* What the plugin turns into a temporary failure. */
		printf("%s: temporary failure: %s (%s)\n", domain,
		       mt_strerror(rc), reason_str(pol.reason));
		engine_policy_clear(&pol);
		engine_destroy(e);
		return 1;
	}
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts query: %s\n", mt_strerror(rc));
		engine_destroy(e);
		return 2;
	}

	if (first_mx >= argc) {
		/* The domain's own MX records. */
		static struct dns_mx mxs;
		struct dns *d = NULL;
		struct dns_opts o;

		dns_opts_from_config(&o, &ctx->cfg);
		memset(&mxs, 0, sizeof(mxs));
		if (dns_create(&d, &o) != MT_OK ||
		    dns_mx(d, domain, &mxs) != MT_OK ||
		    mxs.status == DNS_TEMPFAIL) {
			fprintf(stderr,
				"mtasts query: MX lookup for %s failed\n",
				domain);
			status = 2;
		} else if (mxs.status != DNS_ANSWER || mxs.n == 0) {
			/* RFC 5321 §5.1: the implicit MX */
			mxs.n = 1;
			snprintf(mxs.host[0], sizeof(mxs.host[0]), "%s",
				 domain);
		}
		for (size_t k = 0; status == 0 && k < mxs.n; k++) {
			struct engine_decision dec;

			if (engine_decide(e, domain, &pol, mxs.host[k], &dec) !=
			    MT_OK)
				continue;
			if (json)
				print_json(domain, mxs.host[k], &pol, &dec);
			else
				print_human(domain, mxs.host[k], &pol, &dec);
		}
		dns_destroy(d);
	} else {
		for (i = first_mx; i < argc; i++) {
			struct engine_decision dec;

			if (engine_decide(e, domain, &pol, argv[i], &dec) !=
			    MT_OK) {
				fprintf(stderr,
					"mtasts query: '%s' is not a valid "
					"host name\n",
					argv[i]);
				status = 2;
				continue;
			}
			if (json)
				print_json(domain, argv[i], &pol, &dec);
			else
				print_human(domain, argv[i], &pol, &dec);
		}
	}
	engine_policy_clear(&pol);
	engine_destroy(e);
	return status;
}

int cmd_refresh(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct engine *e = NULL;
	struct engine_refresh_counts n;
	int rc;

	(void)argv;
	if (argc != 1) {
		cmd_usage(stderr, "refresh");
		return 2;
	}
	rc = engine_create(&e, &ctx->cfg);
	if (rc == MT_OK)
		rc = engine_refresh(e, &n);
	engine_destroy(e);
	if (rc != MT_OK) {
		fprintf(stderr, "mtasts refresh: %s\n", mt_strerror(rc));
		return 2;
	}
	printf("renewed %u, checked %u, kept after a failure %u "
	       "(mode none: %u)\n",
	       n.renewed, n.checked, n.failed, n.failed_none);
	/* A failed refresh of a testing or enforce policy alerts the
	 * administrator (cron mails stderr, systemd marks the unit failed);
	 * one of mode none does not (RFC 8461 §3.3). */
	if (n.failed)
		fprintf(stderr,
			"mtasts refresh: %u polic%s could not be "
			"refreshed and stay%s cached until it expires; see "
			"the log (event=refresh result=failed-kept)\n",
			n.failed, n.failed == 1 ? "y" : "ies",
			n.failed == 1 ? "s" : "");
	return n.failed ? 1 : 0;
}
