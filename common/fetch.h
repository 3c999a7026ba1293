/*
 * fetch.h - the HTTPS policy fetch, every rule of RFC 8461 §3.3, on
 * libcurl built with GnuTLS, and the libcurl set-up every HTTPS request of
 * mtasts shares.
 *
 * https://mta-sts.<domain>/.well-known/mta-sts.txt only; no redirects; no
 * proxy from the environment (the configured one, or none); status 200
 * only; text/plain; response headers capped at FETCH_HEADER_MAX and the
 * body at POLICY_MAX_BYTES while streaming; TLS >= 1.2 with SNI; WebPKI
 * validation against the system store or opts->ca_file, and the host name
 * against the certificate's DNS-IDs only (tlsverify.h).  The policy host
 * is resolved through libunbound, and the whole fetch, lookup included,
 * ends by opts->total_timeout_ms.
 */
#ifndef MTASTS_FETCH_H
#define MTASTS_FETCH_H
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

/* Response header bytes accepted per request (status line and every
 * header line with its CRLF, interim 1xx responses included).  A policy
 * host needs a few hundred; a server sending more is refused
 * (FETCH_ERR_HEADER) before libcurl buffers much of it. */
#define FETCH_HEADER_MAX 16384
/* Connect timeout when opts->connect_timeout_ms is 0: this, or the total
 * time when that is shorter. */
#define FETCH_CONNECT_MAX_MS 5000L

enum fetch_error {
	FETCH_OK = 0,
	FETCH_ERR_DNS,		/* policy host does not resolve */
	FETCH_ERR_CONNECT,	/* TCP connect failed (or the proxy's) */
	FETCH_ERR_TLS,		/* handshake failed, protocol < 1.2 */
	FETCH_ERR_CERT,		/* WebPKI validation failed, no DNS-ID */
	FETCH_ERR_TIMEOUT,	/* the deadline passed */
	FETCH_ERR_REDIRECT,	/* 3xx: never followed */
	FETCH_ERR_STATUS,	/* any other non-200 */
	FETCH_ERR_CONTENT_TYPE, /* not text/plain */
	FETCH_ERR_TOO_BIG,	/* body over POLICY_MAX_BYTES */
	/* response header over FETCH_HEADER_MAX, or a header line libcurl
	 * refused */
	FETCH_ERR_HEADER,
	FETCH_ERR_INTERNAL, /* keep last */
};

struct dns;
struct config;

struct fetch_opts {
	const char *ca_file; /* NULL = system store */
	/* with ca_file: trust the system's CA directory too (TLS-RPT
	 * collectors are mostly public hosts; policy fetches trust ca_file
	 * alone) */
	int ca_add_system;
	/* NULL or "" = direct; "http://HOST:PORT" = an HTTP CONNECT proxy
	 * (config_proxy_parse) */
	const char *proxy;
	long connect_timeout_ms; /* 0 = min(FETCH_CONNECT_MAX_MS, total) */
	/* the whole request, address lookup included; 0 = 20 s */
	long total_timeout_ms;
	/* resolver for host names (borrowed); NULL = a private one on
	 * /etc/resolv.conf, made and dropped within each call */
	struct dns *dns;
};

struct fetch_result {
	enum fetch_error err;
	long http_status;
	char *body; /* mem_alloc'ed, NUL-terminated, on FETCH_OK */
	size_t body_len;
	char detail[256]; /* short, sanitised */
	/* the policy host's certificate's notAfter (seconds since the
	 * epoch), 0 when no certificate was looked at */
	int64_t cert_not_after;
};

/* The fetch options the configuration gives (`ca_file`, `fetch_timeout`,
 * `proxy`), with resolver dns (borrowed, may be NULL).  fo's strings point
 * into cfg: cfg must outlive fo. */
void fetch_opts_from_config(struct fetch_opts *fo, const struct config *cfg,
			    struct dns *dns);

/* domain normalised.  Returns MT_OK (res->err says how it went),
 * MT_ENOMEM (a local allocation failed: never what a server sent), or
 * MT_EINVAL when domain is not a host name (nothing is fetched).  res is
 * always filled; fetch_result_clear() it. */
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

/* The libcurl settings every HTTPS request of mtasts shares (the policy
 * fetch, the TLS-RPT report POST): https only, no redirect followed, TLS
 * >= 1.2 with WebPKI validation of chain and name against opts->ca_file
 * (with opts->ca_add_system, and the system's CA directory) or the system
 * bundle, opts->proxy as an HTTP CONNECT tunnel or no proxy
 * at all (never one from the environment), no signals, and connect and
 * total timeouts that end at deadline_ms (clock_mono_ms() time).  libcurl
 * resolves no name itself: the name it connects to (host, or the proxy's
 * host) is looked up here through opts->dns within the same deadline and
 * handed over as CURLOPT_RESOLVE entries, returned in *resolve for the
 * caller to curl_slist_free_all() after the transfer.  The caller adds
 * URL, headers and callbacks.
 * Returns MT_OK with res->err FETCH_OK when h is ready, MT_OK with
 * res->err and res->detail set when it is not (FETCH_ERR_DNS,
 * FETCH_ERR_TIMEOUT, FETCH_ERR_INTERNAL), or MT_ENOMEM. */
int fetch_curl_setup(CURL *h, const struct fetch_opts *opts, const char *host,
		     unsigned port, int64_t deadline_ms,
		     struct curl_slist **resolve, struct fetch_result *res);

/* Process-wide libcurl init (curl_global_init_mem with mtasts' allocator,
 * so that a failed allocation inside libcurl is told apart from a server
 * libcurl refuses with CURLE_OUT_OF_MEMORY); idempotent.  Not thread-safe
 * (neither is curl_global_init): call it once before threads start;
 * fetch_policy() calls it too, for single-threaded hosts. */
int fetch_global_init(void);
/* Allocations made by libcurl in this thread that failed so far; compare
 * around a transfer.  Stays 0 when something else in the process
 * initialised libcurl first (its allocator is then not mtasts'). */
unsigned long fetch_curl_alloc_failures(void);

#endif
