/*
 * reason.c - the reason words of reason.h, one table.
 */
#include "reason.h"

#include <string.h>

static const char *const names[R_COUNT_] = {
	[R_NONE] = "-",
	[R_CACHED] = "cached",
	[R_CACHED_BACKOFF] = "cached-backoff",
	[R_CACHED_DNS_TEMPFAIL] = "cached-dns-tempfail",
	[R_CACHED_NO_TXT] = "cached-no-txt",
	[R_CACHED_FETCH_FAILED] = "cached-fetch-failed",
	[R_ID_UNCHANGED] = "id-unchanged",
	[R_FETCHED] = "fetched",
	[R_MODE_NONE] = "mode-none",
	[R_NO_POLICY] = "no-policy",
	[R_NOT_CACHED] = "not-cached",
	[R_BACKOFF] = "backoff",
	[R_FETCH_IN_PROGRESS] = "fetch-in-progress",
	[R_CACHE_UNAVAILABLE] = "cache-unavailable",
	[R_OVERRIDE] = "override",
	[R_ADDRESS_LITERAL] = "address-literal",
	[R_NO_TXT] = "no-txt",
	[R_TXT_INVALID] = "txt-invalid",
	[R_DNS_TEMPFAIL] = "dns-tempfail",
	[R_DNS_BOGUS] = "dns-bogus",
	[R_DNS_ERROR] = "dns-error",
	[R_DNS_UNAVAILABLE] = "dns-unavailable",
	[R_FETCH_INTERNAL] = "fetch-internal",
	[R_STS_POLICY_FETCH_ERROR] = "sts-policy-fetch-error",
	[R_STS_WEBPKI_INVALID] = "sts-webpki-invalid",
	[R_STS_POLICY_INVALID] = "sts-policy-invalid",
	[R_MX_MATCH] = "mx-match",
	[R_MX_MISMATCH] = "mx-mismatch",
	[R_TESTING] = "testing",
	[R_TESTING_MX_MISMATCH] = "testing-mx-mismatch",
	[R_DANE] = "dane",
	[R_MODE_INVALID] = "mode-invalid",
	[R_MX_INVALID] = "mx-invalid",
	[R_ERROR] = "error",
	[R_NET_UNAVAILABLE] = "network-module-unavailable",
	[R_DANE_FAILED] = "dane-tlsa-failed",
};

const char *reason_str(enum mt_reason r)
{
	if ((unsigned)r >= R_COUNT_ || names[r] == NULL)
		return "unknown";
	return names[r];
}

enum mt_reason reason_from_str(const char *s)
{
	if (s == NULL)
		return R_COUNT_;
	for (unsigned i = 0; i < R_COUNT_; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (enum mt_reason)i;
	return R_COUNT_;
}
