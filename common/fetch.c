/*
 * fetch.c - the HTTPS policy fetch of RFC 8461 §3.3, on libcurl (GnuTLS).
 *
 * fetch_policy() GETs https://mta-sts.<domain>/.well-known/mta-sts.txt
 * and returns the body only when every rule held:
 *   - the URL is built from the normalised domain alone (no user URL);
 *   - HTTPS only, redirects never followed (§3.3: "HTTP 3xx redirects MUST
 *     NOT be followed"), no proxy from the environment, no cookies, and
 *     no HTTP cache (no-cache request headers; nothing is stored here);
 *   - TLS 1.2 or later, SNI (curl sends the host name), WebPKI validation
 *     of chain and host name against the system store or opts->ca_file;
 *   - status 200 only; media type text/plain, parameters allowed (§3.2);
 *   - body at most POLICY_MAX_BYTES, enforced while streaming: the write
 *     callback stops the transfer at the first byte over the cap;
 *   - connect and total timeouts.
 * Failures keep the most specific cause (enum fetch_error) and a short
 * sanitised detail; fetch_error_tlsrpt() names the RFC 8460 §4.3 result
 * type for reports.
 *
 * Ownership: res->body is mem_alloc'ed, released by fetch_result_clear().
 * Trust: everything from the server (status, headers, body, curl's error
 * text about it) is hostile; the body is only size-capped here and parsed
 * elsewhere (policy.c); text for logs goes through log_sanitise().
 * Threads: fetch_global_init() wraps curl_global_init(), which is not
 * thread-safe: call it once before any thread uses fetch_policy().  One
 * easy handle per call, so fetch_policy() itself is reentrant.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>

#include "buf.h"
#include "domain.h"
#include "fetch.h"
#include "log.h"
#include "mem.h"
#include "mtasts_build.h"
#include "policy.h"
#include "status.h"

/* The system's CA bundle (Debian, Ubuntu: update-ca-certificates). */
#ifndef FETCH_SYSTEM_BUNDLE
#define FETCH_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#endif
#define FETCH_DEFAULT_CONNECT_MS 5000L
#define FETCH_DEFAULT_TOTAL_MS 20000L

struct sink {
	struct buf body;
	int too_big;
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
	[FETCH_ERR_INTERNAL] = "sts-policy-fetch-error",
};

const char *fetch_error_str(enum fetch_error e)
{
	if ((unsigned)e < sizeof(error_names) / sizeof(error_names[0]))
		return error_names[e];
	return "unknown";
}

const char *fetch_error_tlsrpt(enum fetch_error e)
{
	if ((unsigned)e < sizeof(tlsrpt_names) / sizeof(tlsrpt_names[0]))
		return tlsrpt_names[e];
	return "sts-policy-fetch-error";
}

int fetch_global_init(void)
{
	static int done;

	if (done)
		return MT_OK;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
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

/* Streaming cap: returning less than asked makes curl stop with
 * CURLE_WRITE_ERROR, recorded as too_big. */
static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	int rc = buf_add(&s->body, p, n);

	if (rc != MT_OK) {
		if (rc == MT_ETOOBIG)
			s->too_big = 1;
		else
			s->nomem = 1;
		return 0;
	}
	return n;
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

static enum fetch_error map_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return FETCH_ERR_DNS;
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		return FETCH_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return FETCH_ERR_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:	/* = CURLE_SSL_CACERT */
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
	default:
		return FETCH_ERR_INTERNAL;
	}
}

static void detail(struct fetch_result *res, const char *s)
{
	log_sanitise(res->detail, sizeof(res->detail), s, strlen(s));
}

/* Every option of §3.3 on one easy handle.  Returns the first failing
 * setopt, CURLE_OK when all held. */
static CURLcode set_options(CURL *h, const char *url,
			    const struct fetch_opts *opts, struct sink *s,
			    struct curl_slist *hdrs, char *errbuf)
{
	long cto = FETCH_DEFAULT_CONNECT_MS, tto = FETCH_DEFAULT_TOTAL_MS;
	CURLcode c = CURLE_OK;

	if (opts != NULL && opts->total_timeout_ms > 0)
		tto = opts->total_timeout_ms;
	if (opts != NULL && opts->connect_timeout_ms > 0)
		cto = opts->connect_timeout_ms;
	if (cto > tto)
		cto = tto;

#define SET(opt, val)                                    \
	do {                                             \
		if (c == CURLE_OK)                       \
			c = curl_easy_setopt(h, opt, val); \
	} while (0)
	SET(CURLOPT_URL, url);
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
	/* No proxy from http_proxy/https_proxy/ALL_PROXY: "" disables the
	 * environment, NOPROXY "*" covers any proxy set elsewhere. */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_USERAGENT, "mtasts/" MTASTS_VERSION);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, cto);
	SET(CURLOPT_TIMEOUT_MS, tto);
	/* TLS >= 1.2 (RFC 8461 §3.3 "TLS version 1.2 or higher"), WebPKI
	 * validation of chain and name. */
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	/* Trust is one PEM file: ca_file, else the system bundle.  Not a CA
	 * directory: with ca_file set the operator trusts those CAs only, and
	 * libcurl-gnutls reads every file of a directory (Debian's default,
	 * /etc/ssl/certs) for each new handle: tens of ms per fetch.  Without
	 * a bundle file libcurl's own default stays. */
	if (opts != NULL && opts->ca_file != NULL) {
		SET(CURLOPT_CAINFO, opts->ca_file);
		SET(CURLOPT_CAPATH, NULL);
	} else if (access(FETCH_SYSTEM_BUNDLE, R_OK) == 0) {
		SET(CURLOPT_CAINFO, FETCH_SYSTEM_BUNDLE);
		SET(CURLOPT_CAPATH, NULL);
	}
	/* The cap while streaming, and at once from Content-Length. */
	SET(CURLOPT_MAXFILESIZE, (long)POLICY_MAX_BYTES);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, s);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_FAILONERROR, 0L);
#undef SET
	return c;
}

int fetch_policy(const char *domain, const struct fetch_opts *opts,
		 struct fetch_result *res)
{
	char dom[DOMAIN_BUFSZ];
	char url[DOMAIN_BUFSZ + 64];
	char errbuf[CURL_ERROR_SIZE];
	char msg[160];
	struct curl_slist *hdrs = NULL, *t;
	struct sink s;
	CURL *h = NULL;
	CURLcode c;
	const char *ct = NULL;
	int rc = MT_OK;

	memset(res, 0, sizeof(*res));
	res->err = FETCH_ERR_INTERNAL;
	buf_init(&s.body, POLICY_MAX_BYTES);
	s.too_big = 0;
	s.nomem = 0;
	errbuf[0] = '\0';

	if (domain == NULL ||
	    domain_normalise(domain, strlen(domain), dom) != MT_OK) {
		detail(res, "invalid domain");
		return MT_EINVAL;
	}
	/* "mta-sts." + 253 octets may be over the DNS limit: such a host
	 * cannot exist. */
	if (strlen(dom) + 8 > DOMAIN_MAX) {
		res->err = FETCH_ERR_DNS;
		detail(res, "policy host name too long");
		return MT_OK;
	}
	snprintf(url, sizeof(url), "https://mta-sts.%s/.well-known/mta-sts.txt",
		 dom);

	if (fetch_global_init() != MT_OK) {
		detail(res, "libcurl init failed");
		return MT_OK;
	}
	h = curl_easy_init();
	if (h == NULL) {
		rc = MT_ENOMEM;
		goto out;
	}
	/* No HTTP cache may answer for the origin (RFC 8461 §3.3). */
	hdrs = curl_slist_append(NULL, "Cache-Control: no-cache");
	t = hdrs ? curl_slist_append(hdrs, "Pragma: no-cache") : NULL;
	if (t == NULL) {
		rc = MT_ENOMEM;
		goto out;
	}
	c = set_options(h, url, opts, &s, hdrs, errbuf);
	if (c != CURLE_OK) {
		snprintf(msg, sizeof(msg), "curl option: %s",
			 curl_easy_strerror(c));
		detail(res, msg);
		rc = c == CURLE_OUT_OF_MEMORY ? MT_ENOMEM : MT_OK;
		goto out;
	}

	c = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->http_status);
	if (c == CURLE_OUT_OF_MEMORY || (c == CURLE_WRITE_ERROR && s.nomem)) {
		rc = MT_ENOMEM;
		goto out;
	}
	if (c == CURLE_WRITE_ERROR && s.too_big)
		c = CURLE_FILESIZE_EXCEEDED;
	if (c == CURLE_FILESIZE_EXCEEDED) {
		res->err = FETCH_ERR_TOO_BIG;
		snprintf(msg, sizeof(msg), "body over %d bytes",
			 POLICY_MAX_BYTES);
		detail(res, msg);
		goto out;
	}
	if (c != CURLE_OK) {
		res->err = map_curl(c);
		snprintf(msg, sizeof(msg), "%s", errbuf[0] ? errbuf :
			 curl_easy_strerror(c));
		detail(res, msg);
		goto out;
	}
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
	if (rc != MT_OK && res->detail[0] == '\0')
		detail(res, "out of memory");
	buf_free(&s.body);
	curl_slist_free_all(hdrs);
	if (h != NULL)
		curl_easy_cleanup(h);
	log_msg(res->err == FETCH_OK ? LOG_LVL_DEBUG : LOG_LVL_INFO,
		"event=fetch domain=%s result=%s http=%ld len=%zu "
		"detail=\"%s\"",
		dom, fetch_error_str(res->err), res->http_status,
		res->body_len, res->detail);
	return rc;
}
