/*
 * fetch.h - the HTTPS policy fetch, every rule of RFC 8461 §3.3, on
 * libcurl built with GnuTLS.
 *
 * https://mta-sts.<domain>/.well-known/mta-sts.txt only; no redirects; no
 * proxy from the environment; status 200 only; text/plain; body capped at
 * POLICY_MAX_BYTES while streaming; TLS >= 1.2 with SNI; WebPKI validation
 * against the system store or opts->ca_file.
 */
#ifndef MTASTS_FETCH_H
#define MTASTS_FETCH_H
#include <stddef.h>

enum fetch_error {
	FETCH_OK = 0,
	FETCH_ERR_DNS,		/* policy host does not resolve */
	FETCH_ERR_CONNECT,	/* TCP connect failed */
	FETCH_ERR_TLS,		/* handshake failed, protocol < 1.2 */
	FETCH_ERR_CERT,		/* WebPKI validation failed */
	FETCH_ERR_TIMEOUT,
	FETCH_ERR_REDIRECT,	/* 3xx: never followed */
	FETCH_ERR_STATUS,	/* any other non-200 */
	FETCH_ERR_CONTENT_TYPE,	/* not text/plain */
	FETCH_ERR_TOO_BIG,	/* body over POLICY_MAX_BYTES */
	FETCH_ERR_INTERNAL,
};

struct fetch_opts {
	const char *ca_file;	/* NULL = system store */
	long connect_timeout_ms;
	long total_timeout_ms;
};

struct fetch_result {
	enum fetch_error err;
	long http_status;
	char *body;		/* mem_alloc'ed, NUL-terminated, on FETCH_OK */
	size_t body_len;
	char detail[256];	/* short, sanitised */
};

/* domain normalised.  Returns MT_OK (res->err says how it went),
 * MT_ENOMEM, or MT_EINVAL when domain is not a host name (nothing is
 * fetched).  res is always filled; fetch_result_clear() it. */
int fetch_policy(const char *domain, const struct fetch_opts *opts,
		 struct fetch_result *res);
void fetch_result_clear(struct fetch_result *res);

const char *fetch_error_str(enum fetch_error e);
/* TLS-RPT result type (RFC 8460 §4.3) for a failure:
 * "sts-webpki-invalid", "sts-policy-fetch-error", ... */
const char *fetch_error_tlsrpt(enum fetch_error e);

/* RFC 8461 §3.2: is a Content-Type value media type text/plain (any case,
 * parameters allowed)?  NULL (no header) is not.  Pure; for tests. */
int fetch_content_type_ok(const char *ct);

/* Process-wide libcurl init (curl_global_init); idempotent.  Not
 * thread-safe (neither is curl_global_init): call it once before threads
 * start; fetch_policy() calls it too, for single-threaded hosts. */
int fetch_global_init(void);

#endif
