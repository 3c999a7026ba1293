/*
 * fetch.c - the HTTPS policy fetch of RFC 8461 §3.3, on libcurl (GnuTLS).
 *
 * fetch_policy() GETs https://mta-sts.<domain>/.well-known/mta-sts.txt
 * and returns the body only when every rule held:
 *   - the URL is built from the normalised domain alone (no user URL);
 *   - HTTPS only, redirects never followed (§3.3: "HTTP 3xx redirects MUST
 *     NOT be followed"), no proxy from the environment (the configured
 *     HTTP CONNECT proxy or none), no cookies, and no HTTP cache (no-cache
 *     request headers; nothing is stored here);
 *   - TLS 1.2 or later, SNI (curl sends the host name), WebPKI validation
 *     of chain and host name against the system store or opts->ca_file,
 *     and then the host name once more against the certificate's DNS-IDs
 *     alone (§3.3; GnuTLS would fall back to the subject CN: tlsverify.c),
 *     on the session libcurl made, before a byte of the response counts;
 *   - status 200 only; media type text/plain, parameters allowed (§3.2);
 *   - response headers at most FETCH_HEADER_MAX bytes and the body at most
 *     POLICY_MAX_BYTES, both enforced while streaming: the callbacks stop
 *     the transfer at the first byte over the cap;
 *   - one deadline, opts->total_timeout_ms from the call: the policy
 *     host's addresses are looked up through libunbound (dns_addr) within
 *     it and handed to libcurl (CURLOPT_RESOLVE), so that libcurl never
 *     asks the system resolver (its threaded getaddrinfo() cannot be
 *     cancelled: a dropped query held a fetch for the resolver's own
 *     retries, 10 to 30 s, whatever the timeout); connect and transfer get
 *     what is left.
 * Failures keep the most specific cause (enum fetch_error) and a short
 * sanitised detail; fetch_error_tlsrpt() names the RFC 8460 §4.3 result
 * type for reports.  MT_ENOMEM means one of our own allocations, or one of
 * libcurl's (counted through the allocator fetch_global_init() gives
 * libcurl), failed: libcurl 7.x also says CURLE_OUT_OF_MEMORY for a header
 * line over its own 100 KiB limit, and what a server sends must never
 * look like our memory running out (that would defer mail instead of
 * using the cached policy and backing off).
 *
 * Ownership: res->body is mem_alloc'ed, released by fetch_result_clear().
 * Trust: everything from the server (status, headers, body, certificate,
 * curl's error text about it) is hostile; the body is only size-capped
 * here and parsed elsewhere (policy.c); text for logs goes through
 * log_sanitise().  DNS answers only choose where to connect: the
 * certificate check is what authenticates the host.
 * Threads: fetch_global_init() wraps curl_global_init_mem(), which is not
 * thread-safe: call it once before any thread uses fetch_policy().  One
 * easy handle per call, so fetch_policy() itself is reentrant.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <curl/curl.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "dns.h"
#include "domain.h"
#include "fetch.h"
#include "log.h"
#include "mem.h"
#include "mtasts_build.h"
#include "policy.h"
#include "status.h"
#include "str.h"
#include "tlsverify.h"

/* The system's CA bundle (Debian, Ubuntu: update-ca-certificates). */
#ifndef FETCH_SYSTEM_BUNDLE
#define FETCH_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#endif
/* ... and its CA directory (one file per CA). */
#ifndef FETCH_SYSTEM_CAPATH
#define FETCH_SYSTEM_CAPATH "/etc/ssl/certs"
#endif
#define FETCH_DEFAULT_TOTAL_MS 20000L
#define HTTPS_PORT 443

/* What the certificate check on the live session found. */
enum cert_state {
	CERT_UNCHECKED = 0,
	CERT_OK,	 /* a DNS-ID matches the policy host */
	CERT_NO_DNSID,	 /* none does: FETCH_ERR_CERT */
	CERT_UNREADABLE, /* no GnuTLS session to look at */
	CERT_NOMEM,
};

struct sink {
	CURL *h;
	const char *host; /* the policy host, for the DNS-ID check */
	struct buf body;
	size_t header_bytes;
	enum cert_state cert;
	int64_t not_after; /* the certificate's, for fetch_result */
	int too_big;
	int header_too_big;
	int nomem;
};

static const char *const error_names[] = {
	[FETCH_OK] = "ok",
	[FETCH_ERR_DNS] = "dns",
	[FETCH_ERR_CONNECT] = "connect",
	[FETCH_ERR_TLS] = "tls",
	[FETCH_ERR_CERT] = "cert",
	[FETCH_ERR_TIMEOUT] = "timeout",
	[FETCH_ERR_REDIRECT] = "redirect",
	[FETCH_ERR_STATUS] = "status",
	[FETCH_ERR_CONTENT_TYPE] = "content-type",
	[FETCH_ERR_TOO_BIG] = "too-big",
	[FETCH_ERR_HEADER] = "header-too-big",
	[FETCH_ERR_INTERNAL] = "internal",
};

/* RFC 8460 §4.3.2.2: sts-policy-fetch-error (the policy could not be
 * retrieved), sts-webpki-invalid (the policy host failed PKIX validation),
 * sts-policy-invalid (what was retrieved is not a valid policy: wrong
 * media type, over the size cap). */
static const char *const tlsrpt_names[] = {
	[FETCH_OK] = "",
	[FETCH_ERR_DNS] = "sts-policy-fetch-error",
	[FETCH_ERR_CONNECT] = "sts-policy-fetch-error",
	[FETCH_ERR_TLS] = "sts-policy-fetch-error",
	[FETCH_ERR_CERT] = "sts-webpki-invalid",
	[FETCH_ERR_TIMEOUT] = "sts-policy-fetch-error",
	[FETCH_ERR_REDIRECT] = "sts-policy-fetch-error",
	[FETCH_ERR_STATUS] = "sts-policy-fetch-error",
	[FETCH_ERR_CONTENT_TYPE] = "sts-policy-invalid",
	[FETCH_ERR_TOO_BIG] = "sts-policy-invalid",
	[FETCH_ERR_HEADER] = "sts-policy-fetch-error",
	[FETCH_ERR_INTERNAL] = "sts-policy-fetch-error",
};

const char *fetch_error_str(enum fetch_error e)
{
	if ((unsigned)e < ARRAY_SIZE(error_names))
		return error_names[e];
	return "unknown";
}

const char *fetch_error_tlsrpt(enum fetch_error e)
{
	if ((unsigned)e < ARRAY_SIZE(tlsrpt_names))
		return tlsrpt_names[e];
	return "sts-policy-fetch-error";
}

/* libcurl's allocator: mem.h, with the failures counted per thread. */
static __thread unsigned long curl_alloc_failed;

static void *counted(void *p)
{
	if (p == NULL)
		curl_alloc_failed++;
	return p;
}

static void *cb_malloc(size_t n)
{
	return counted(mem_alloc(n));
}

static void cb_free(void *p)
{
	mem_free(p);
}

static void *cb_realloc(void *p, size_t n)
{
	return counted(mem_realloc(p, n));
}

static char *cb_strdup(const char *s)
{
	return counted(mem_strdup(s));
}

static void *cb_calloc(size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		return counted(NULL);
	return counted(mem_calloc(nmemb, size));
}

unsigned long fetch_curl_alloc_failures(void)
{
	return curl_alloc_failed;
}

int fetch_global_init(void)
{
	static int done;

	if (done)
		return MT_OK;
	/* When libcurl was initialised already (by another part of the
	 * host), this only counts one more init and keeps that allocator. */
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, cb_malloc, cb_free,
				 cb_realloc, cb_strdup, cb_calloc) != CURLE_OK)
		return MT_EINTERNAL;
	done = 1;
	return MT_OK;
}

void fetch_result_clear(struct fetch_result *res)
{
	if (res == NULL)
		return;
	mem_free(res->body);
	res->body = NULL;
	res->body_len = 0;
}

static void detail(struct fetch_result *res, const char *s)
{
	log_sanitise(res->detail, sizeof(res->detail), s, strlen(s));
}

/* RFC 8461 §3.2: media type "text/plain"; RFC 9110 §8.3.1: type and
 * subtype are case-insensitive, parameters may follow after ';',
 * optional whitespace around. */
int fetch_content_type_ok(const char *ct)
{
	static const char want[] = "text/plain";
	size_t n = sizeof(want) - 1;

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

void fetch_opts_from_config(struct fetch_opts *fo, const struct config *cfg,
			    struct dns *dns)
{
	memset(fo, 0, sizeof(*fo));
	fo->ca_file = cfg->ca_file[0] ? cfg->ca_file : NULL;
	fo->proxy = cfg->proxy[0] ? cfg->proxy : NULL;
	fo->total_timeout_ms = (long)cfg->fetch_timeout_ms;
	fo->connect_timeout_ms = fo->total_timeout_ms < FETCH_CONNECT_MAX_MS ?
					 fo->total_timeout_ms :
					 FETCH_CONNECT_MAX_MS;
	fo->dns = dns;
}

static int is_address(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	       inet_pton(AF_INET6, host, a) == 1;
}

/* host's addresses as one CURLOPT_RESOLVE entry, "HOST:PORT:A1,[A2],...",
 * looked up through opts->dns (or a private resolver) before deadline_ms.
 * MT_OK with res->err FETCH_OK and *list extended, MT_OK with res->err set
 * (no address, the lookup failed or the deadline passed), MT_ENOMEM. */
static int resolve_entry(const struct fetch_opts *opts, const char *host,
			 unsigned port, int64_t deadline_ms,
			 struct curl_slist **list, struct fetch_result *res)
{
	struct dns *d = opts != NULL ? opts->dns : NULL, *own = NULL;
	struct dns_opts dopts;
	struct dns_addr a;
	struct curl_slist *t;
	struct buf line;
	char msg[DOMAIN_BUFSZ + 96];
	int64_t left = deadline_ms - clock_mono_ms();
	int rc = MT_OK;
	size_t i;

	buf_init(&line, 4096);
	if (left <= 0) {
		res->err = FETCH_ERR_TIMEOUT;
		detail(res, "deadline passed before the address lookup");
		goto out;
	}
	if (d == NULL) {
		memset(&dopts, 0, sizeof(dopts));
		dopts.timeout_ms = (int)left;
		rc = dns_create(&own, &dopts);
		if (rc != MT_OK) {
			if (rc != MT_ENOMEM) {
				res->err = FETCH_ERR_DNS;
				detail(res, "resolver set-up failed");
				rc = MT_OK;
			}
			goto out;
		}
		d = own;
	}
	rc = dns_addr(d, host, left > INT32_MAX ? INT32_MAX : (int)left, &a);
	if (rc != MT_OK) {
		if (rc != MT_ENOMEM) {
			res->err = FETCH_ERR_DNS;
			snprintf(msg, sizeof(msg), "address lookup of %s: %s",
				 host, mt_strerror(rc));
			detail(res, msg);
			rc = MT_OK;
		}
		goto out;
	}
	if (a.status != DNS_ANSWER) {
		res->err = a.status == DNS_TEMPFAIL &&
					   clock_mono_ms() >= deadline_ms ?
				   FETCH_ERR_TIMEOUT :
				   FETCH_ERR_DNS;
		snprintf(msg, sizeof(msg), "%s has no address (%s)", host,
			 a.status == DNS_TEMPFAIL ?
				 "lookup failed or timed out" :
				 dns_status_str(a.status));
		detail(res, msg);
		goto out;
	}
	rc = buf_printf(&line, "%s:%u:", host, port);
	for (i = 0; rc == MT_OK && i < a.n; i++)
		rc = buf_printf(&line,
				a.family[i] == AF_INET6 ? "%s[%s]" : "%s%s",
				i ? "," : "", a.addr[i]);
	if (rc != MT_OK) {
		rc = MT_ENOMEM; /* 32 addresses fit the cap */
		goto out;
	}
	t = curl_slist_append(*list, line.data);
	if (t == NULL) {
		rc = MT_ENOMEM;
		goto out;
	}
	*list = t;
	res->err = FETCH_OK;
out:
	dns_destroy(own);
	buf_free(&line);
	return rc;
}

int fetch_curl_setup(CURL *h, const struct fetch_opts *opts, const char *host,
		     unsigned port, int64_t deadline_ms,
		     struct curl_slist **resolve, struct fetch_result *res)
{
	char phost[DOMAIN_BUFSZ], purl[DOMAIN_BUFSZ + 32], msg[96];
	const char *proxy = opts != NULL && opts->proxy != NULL &&
					    opts->proxy[0] != '\0' ?
				    opts->proxy :
				    NULL;
	unsigned pport = 0;
	int64_t left;
	long cto;
	CURLcode c = CURLE_OK;
	int rc;

	*resolve = NULL;
	res->err = FETCH_ERR_INTERNAL;
	if (proxy != NULL &&
	    config_proxy_parse(proxy, phost, &pport) != MT_OK) {
		detail(res, "invalid proxy setting");
		return MT_OK;
	}
	res->err = FETCH_OK;
	if (proxy != NULL)
		snprintf(purl, sizeof(purl),
			 strchr(phost, ':') ? "http://[%s]:%u" : "http://%s:%u",
			 phost, pport);
	/* Through a proxy the proxy resolves the origin (a site behind one
	 * often has no outside DNS): only the proxy's own name is looked
	 * up here.  An address needs no lookup. */
	if (proxy != NULL && !is_address(phost))
		rc = resolve_entry(opts, phost, pport, deadline_ms, resolve,
				   res);
	else if (proxy == NULL && !is_address(host))
		rc = resolve_entry(opts, host, port, deadline_ms, resolve, res);
	else
		rc = MT_OK;
	if (rc != MT_OK || res->err != FETCH_OK)
		return rc;
	res->err = FETCH_ERR_INTERNAL;
	left = deadline_ms - clock_mono_ms();
	if (left <= 0) {
		res->err = FETCH_ERR_TIMEOUT;
		detail(res, "deadline passed during the address lookup");
		return MT_OK;
	}
	cto = opts != NULL && opts->connect_timeout_ms > 0 ?
		      opts->connect_timeout_ms :
		      FETCH_CONNECT_MAX_MS;
	if (cto > left)
		cto = (long)left;

#define SET(opt, val)                                      \
	do {                                               \
		if (c == CURLE_OK)                         \
			c = curl_easy_setopt(h, opt, val); \
	} while (0)
		/* HTTPS only, and nothing to redirect to: 3xx is reported, never
	 * followed (RFC 8461 §3.3). */
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	SET(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
	SET(CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_MAXREDIRS, 0L);
	if (proxy != NULL) {
		/* The configured proxy, always as a CONNECT tunnel (TLS is
		 * end to end with the origin), whatever no_proxy says: an
		 * empty NOPROXY exempts no host. */
		SET(CURLOPT_PROXY, purl);
		SET(CURLOPT_PROXYTYPE, (long)CURLPROXY_HTTP);
		SET(CURLOPT_HTTPPROXYTUNNEL, 1L);
		SET(CURLOPT_NOPROXY, "");
		/* the proxy's own answer never reaches the header callback:
		 * that sees the origin only */
		SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	} else {
		/* No proxy from http_proxy/https_proxy/ALL_PROXY: "" disables
		 * the environment, NOPROXY "*" covers any proxy set
		 * elsewhere. */
		SET(CURLOPT_PROXY, "");
		SET(CURLOPT_NOPROXY, "*");
	}
	/* libcurl connects to what was resolved here and never runs a
	 * lookup of its own (one whose time it cannot bound). */
	if (*resolve != NULL)
		SET(CURLOPT_RESOLVE, *resolve);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, cto);
	SET(CURLOPT_TIMEOUT_MS, (long)left);
	/* TLS >= 1.2 (RFC 8461 §3.3 "TLS version 1.2 or higher"), WebPKI
	 * validation of chain and name. */
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	/* Trust is one PEM file: ca_file, else the system bundle.  Not a CA
	 * directory: with ca_file set the operator trusts those CAs only, and
	 * libcurl-gnutls reads every file of a directory (Debian's default,
	 * /etc/ssl/certs) for each new handle: tens of ms per fetch.  Without
	 * a bundle file libcurl's own default stays.  The one exception is a
	 * TLS-RPT report POST (ca_add_system, once a day per domain): the
	 * site's CAs on top of the public ones, as most collectors are
	 * public hosts. */
	if (opts != NULL && opts->ca_file != NULL) {
		SET(CURLOPT_CAINFO, opts->ca_file);
		SET(CURLOPT_CAPATH,
		    opts->ca_add_system && access(FETCH_SYSTEM_CAPATH,
						  R_OK | X_OK) == 0 ?
			    FETCH_SYSTEM_CAPATH :
			    NULL);
	} else if (access(FETCH_SYSTEM_BUNDLE, R_OK) == 0) {
		SET(CURLOPT_CAINFO, FETCH_SYSTEM_BUNDLE);
		SET(CURLOPT_CAPATH, NULL);
	}
#undef SET
	if (c == CURLE_OUT_OF_MEMORY)
		return MT_ENOMEM; /* no server involved yet */
	if (c != CURLE_OK) {
		snprintf(msg, sizeof(msg), "curl option: %s",
			 curl_easy_strerror(c));
		detail(res, msg);
		return MT_OK;
	}
	res->err = FETCH_OK;
	return MT_OK;
}

/* RFC 8461 §3.3: the policy host's certificate must carry a DNS-ID for it;
 * checked on the live session (the one libcurl validated), once, before
 * the first response byte is accepted. */
static enum cert_state check_cert(struct sink *s)
{
	const struct curl_tlssessioninfo *ti = NULL;
	int rc;

	if (curl_easy_getinfo(s->h, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK ||
	    ti == NULL || ti->backend != CURLSSLBACKEND_GNUTLS ||
	    ti->internals == NULL)
		return CERT_UNREADABLE;
	rc = tlsverify_session_dnsid((gnutls_session_t)ti->internals, s->host);
	/* its expiry, for `mtasts check` (MT_ENOTFOUND leaves 0) */
	tlsverify_session_not_after((gnutls_session_t)ti->internals,
				    &s->not_after);
	if (rc == MT_OK)
		return CERT_OK;
	return rc == MT_ENOMEM ? CERT_NOMEM : CERT_NO_DNSID;
}

/* Header lines, status line first.  Returning less than given makes curl
 * stop with CURLE_WRITE_ERROR. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (s->cert == CERT_UNCHECKED)
		s->cert = check_cert(s);
	if (s->cert != CERT_OK)
		return 0;
	if (n > FETCH_HEADER_MAX - s->header_bytes) {
		s->header_too_big = 1;
		return 0;
	}
	s->header_bytes += n;
	return n;
}

/* Streaming cap: returning less than asked makes curl stop with
 * CURLE_WRITE_ERROR, recorded as too_big. */
static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	int rc;

	if (s->cert == CERT_UNCHECKED)
		s->cert = check_cert(s); /* never without headers */
	if (s->cert != CERT_OK)
		return 0;
	rc = buf_add(&s->body, p, n);
	if (rc != MT_OK) {
		if (rc == MT_ETOOBIG)
			s->too_big = 1;
		else
			s->nomem = 1;
		return 0;
	}
	return n;
}

static enum fetch_error map_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return FETCH_ERR_DNS;
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL: /* HTTP/0.9 answer */
		return FETCH_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return FETCH_ERR_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION: /* = CURLE_SSL_CACERT */
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return FETCH_ERR_CERT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_USE_SSL_FAILED:
		return FETCH_ERR_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return FETCH_ERR_TOO_BIG;
	case CURLE_OUT_OF_MEMORY:
		/* no allocation of ours failed (checked first): libcurl
		 * refused a header line over its own limit */
		return FETCH_ERR_HEADER;
	default:
		return FETCH_ERR_INTERNAL;
	}
}

/* What a finished transfer means, most specific cause first.  Returns
 * MT_OK (res->err set unless the transfer succeeded: FETCH_OK then means
 * "go on with status and content type") or MT_ENOMEM. */
static int transfer_result(CURLcode c, const struct sink *s,
			   unsigned long fails_before, const char *errbuf,
			   struct fetch_result *res)
{
	char msg[160];

	if (s->nomem || s->cert == CERT_NOMEM ||
	    fetch_curl_alloc_failures() != fails_before)
		return MT_ENOMEM;
	if (s->cert == CERT_NO_DNSID) {
		res->err = FETCH_ERR_CERT;
		res->http_status = 0; /* not from the policy host */
		snprintf(msg, sizeof(msg),
			 "no subjectAltName dNSName matches "
			 "%s (a subject CN does not count)",
			 s->host);
		detail(res, msg);
		return MT_OK;
	}
	if (s->header_too_big) {
		res->err = FETCH_ERR_HEADER;
		snprintf(msg, sizeof(msg), "response header over %d bytes",
			 FETCH_HEADER_MAX);
		detail(res, msg);
		return MT_OK;
	}
	if (s->too_big || c == CURLE_FILESIZE_EXCEEDED) {
		res->err = FETCH_ERR_TOO_BIG;
		snprintf(msg, sizeof(msg), "body over %d bytes",
			 POLICY_MAX_BYTES);
		detail(res, msg);
		return MT_OK;
	}
	if (c != CURLE_OK && s->cert != CERT_UNREADABLE) {
		res->err = map_curl(c);
		if (c == CURLE_OUT_OF_MEMORY)
			snprintf(msg, sizeof(msg),
				 "response header line "
				 "refused by libcurl");
		else
			snprintf(msg, sizeof(msg), "%s",
				 errbuf[0] ? errbuf : curl_easy_strerror(c));
		detail(res, msg);
		return MT_OK;
	}
	if (s->cert != CERT_OK) {
		/* fail closed: a response whose certificate could not be
		 * looked at is not used */
		res->err = FETCH_ERR_INTERNAL;
		detail(res, "no GnuTLS session to check the certificate's "
			    "DNS-IDs (libcurl not built on GnuTLS?)");
		return MT_OK;
	}
	res->err = FETCH_OK;
	return MT_OK;
}

int fetch_policy(const char *domain, const struct fetch_opts *opts,
		 struct fetch_result *res)
{
	char dom[DOMAIN_BUFSZ];
	char host[DOMAIN_BUFSZ + 8];
	char url[DOMAIN_BUFSZ + 64];
	char errbuf[CURL_ERROR_SIZE];
	char msg[160];
	struct curl_slist *hdrs = NULL, *resolve = NULL, *t;
	struct sink s;
	CURL *h = NULL;
	CURLcode c;
	const char *ct = NULL;
	int64_t deadline;
	unsigned long fails;
	long tto;
	int rc = MT_OK;

	memset(res, 0, sizeof(*res));
	res->err = FETCH_ERR_INTERNAL;
	memset(&s, 0, sizeof(s));
	buf_init(&s.body, POLICY_MAX_BYTES);
	errbuf[0] = '\0';
	dom[0] = '\0';

	if (domain == NULL ||
	    domain_normalise(domain, strlen(domain), dom) != MT_OK) {
		detail(res, "invalid domain");
		return MT_EINVAL;
	}
	tto = opts != NULL && opts->total_timeout_ms > 0 ?
		      opts->total_timeout_ms :
		      FETCH_DEFAULT_TOTAL_MS;
	deadline = clock_mono_ms() + tto;
	/* "mta-sts." + 253 octets may be over the DNS limit: such a host
	 * cannot exist. */
	if (strlen(dom) + 8 > DOMAIN_MAX) {
		res->err = FETCH_ERR_DNS;
		detail(res, "policy host name too long");
		return MT_OK;
	}
	snprintf(host, sizeof(host), "mta-sts.%s", dom);
	snprintf(url, sizeof(url), "https://%s/.well-known/mta-sts.txt", host);

	if (fetch_global_init() != MT_OK) {
		detail(res, "libcurl init failed");
		return MT_OK;
	}
	fails = fetch_curl_alloc_failures();
	h = curl_easy_init();
	if (h == NULL) {
		rc = MT_ENOMEM;
		goto out;
	}
	s.h = h;
	s.host = host;
	/* No HTTP cache may answer for the origin (RFC 8461 §3.3). */
	hdrs = curl_slist_append(NULL, "Cache-Control: no-cache");
	t = hdrs ? curl_slist_append(hdrs, "Pragma: no-cache") : NULL;
	if (t == NULL) {
		rc = MT_ENOMEM;
		goto out;
	}
	rc = fetch_curl_setup(h, opts, host, HTTPS_PORT, deadline, &resolve,
			      res);
	if (rc != MT_OK || res->err != FETCH_OK)
		goto out;
	res->err = FETCH_ERR_INTERNAL;
#define SET(opt, val)                                      \
	do {                                               \
		if (c == CURLE_OK)                         \
			c = curl_easy_setopt(h, opt, val); \
	} while (0)
	c = CURLE_OK;
	SET(CURLOPT_URL, url);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_USERAGENT, "mtasts/" MTASTS_VERSION);
	/* The cap while streaming, and at once from Content-Length. */
	SET(CURLOPT_MAXFILESIZE, (long)POLICY_MAX_BYTES);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, &s);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, &s);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_FAILONERROR, 0L);
#undef SET
	if (c != CURLE_OK) {
		if (c == CURLE_OUT_OF_MEMORY) {
			rc = MT_ENOMEM;
			goto out;
		}
		snprintf(msg, sizeof(msg), "curl option: %s",
			 curl_easy_strerror(c));
		detail(res, msg);
		goto out;
	}

	c = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->http_status);
	rc = transfer_result(c, &s, fails, errbuf, res);
	res->cert_not_after = s.not_after;
	if (rc != MT_OK || res->err != FETCH_OK)
		goto out;
	res->err = FETCH_ERR_INTERNAL;
	if (res->http_status >= 300 && res->http_status < 400) {
		res->err = FETCH_ERR_REDIRECT;
		snprintf(msg, sizeof(msg), "HTTP %ld redirect not followed",
			 res->http_status);
		detail(res, msg);
		goto out;
	}
	if (res->http_status != 200) {
		res->err = FETCH_ERR_STATUS;
		snprintf(msg, sizeof(msg), "HTTP %ld", res->http_status);
		detail(res, msg);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	if (!fetch_content_type_ok(ct)) {
		res->err = FETCH_ERR_CONTENT_TYPE;
		snprintf(msg, sizeof(msg), "content type %s",
			 ct ? ct : "missing");
		detail(res, msg);
		goto out;
	}
	res->body = buf_steal(&s.body, &res->body_len);
	if (res->body == NULL) {
		rc = MT_ENOMEM;
		goto out;
	}
	res->err = FETCH_OK;
	res->detail[0] = '\0';
out:
	if (rc != MT_OK) {
		res->err = FETCH_ERR_INTERNAL;
		mem_free(res->body);
		res->body = NULL;
		res->body_len = 0;
		if (res->detail[0] == '\0' || rc == MT_ENOMEM)
			detail(res, "out of memory");
	}
	buf_free(&s.body);
	curl_slist_free_all(hdrs);
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_slist_free_all(resolve);
	log_msg(res->err == FETCH_OK ? LOG_LVL_DEBUG : LOG_LVL_INFO,
		"event=fetch domain=%s result=%s http=%ld len=%zu "
		"detail=\"%s\"",
		dom, fetch_error_str(res->err), res->http_status, res->body_len,
		res->detail);
	return rc;
}
