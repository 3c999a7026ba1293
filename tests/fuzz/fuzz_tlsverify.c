/*
 * fuzz_tlsverify.c - libFuzzer target for the DNS-ID check (common/
 * tlsverify.c): what a policy host or an MX sends as its certificate.
 * The first byte picks the mode:
 *   even: the rest is a DER certificate, checked against a fixed host
 *         (GnuTLS parses it; tlsverify walks its subjectAltNames);
 *   odd:  the second byte picks where the rest is split into a presented
 *         identifier and a host name, for tlsverify_name_match().
 *
 * Invariants: a certificate gives MT_OK, MT_ENOTFOUND, MT_EPARSE or
 * MT_ENOMEM, nothing else; a name match means the host is LDH and either
 * equals the identifier without case, or the identifier is "*." + the
 * host's parent, with at least two labels under the wildcard.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "status.h"
#include "tlsverify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_match(const char *id, size_t idlen, const char *host)
{
	size_t hlen = strlen(host), i;
	const char *dot;

	for (i = 0; i < hlen; i++) {
		char c = host[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.'))
			abort();
	}
	if (idlen >= 2 && id[0] == '*' && id[1] == '.') {
		dot = strchr(host, '.');
		if (dot == NULL || dot == host ||
		    strlen(dot + 1) != idlen - 2 ||
		    strncasecmp(dot + 1, id + 2, idlen - 2) != 0 ||
		    memchr(id + 2, '.', idlen - 2) == NULL)
			abort();
		return;
	}
	if (idlen != hlen || strncasecmp(id, host, hlen) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char host[512];
	size_t cut, hl;
	int rc;

	if (size < 2)
		return 0;
	if ((data[0] & 1) == 0) {
		rc = tlsverify_dnsid_match_der(data + 1, size - 1,
					       "mta-sts.example.com");
		if (rc != MT_OK && rc != MT_ENOTFOUND && rc != MT_EPARSE &&
		    rc != MT_ENOMEM)
			abort();
		return 0;
	}
	cut = 2 + data[1] % (size - 1);
	if (cut > size)
		cut = size;
	hl = size - cut;
	if (hl >= sizeof(host))
		hl = sizeof(host) - 1;
	memcpy(host, data + cut, hl);
	host[hl] = '\0';
	if (tlsverify_name_match((const char *)data + 2, cut - 2, host))
		check_match((const char *)data + 2, cut - 2, host);
	return 0;
}
