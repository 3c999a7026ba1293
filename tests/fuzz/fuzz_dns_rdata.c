/*
 * fuzz_dns_rdata.c - libFuzzer target for the rdata parsers of dns.c,
 * which read what the DNS sends.  The first byte chooses the parser:
 *   0  one TXT rdata: dns_txt_rdata_join
 *   1  a wire-format name: dns_wire_name
 *   2  one MX rdata: dns_mx_rdata
 *   3  a TXT RRset: the rest is cut into rdata pieces, each preceded by a
 *      one-byte length, and given to dns_txt_from_rdata
 *
 * Invariants: joined TXT text never exceeds DNS_TXT_MAX and is
 * NUL-terminated; a name is at most 253 octets of text; an MX host is
 * normalised (normalising again gives the same); an RRset keeps at most
 * DNS_MAX_RECORDS records, each NUL-terminated at its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "domain.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PIECES 40

static char out[DNS_TXT_MAX + 1];

static void rrset(const uint8_t *p, size_t n)
{
	char *pieces[MAX_PIECES + 1];
	int lens[MAX_PIECES + 1];
	struct dns_txt t;
	size_t k = 0, i, l;

	while (n > 0 && k < MAX_PIECES) {
		l = p[0];
		p++;
		n--;
		if (l > n)
			l = n;
		pieces[k] = malloc(l ? l : 1);
		if (pieces[k] == NULL)
			abort();
		memcpy(pieces[k], p, l);
		lens[k] = (int)l;
		k++;
		p += l;
		n -= l;
	}
	pieces[k] = NULL;
	lens[k] = 0;
	memset(&t, 0, sizeof(t));
	if (dns_txt_from_rdata(pieces, lens, &t) == MT_OK) {
		if (t.n > DNS_MAX_RECORDS || t.n > k)
			abort();
		for (i = 0; i < t.n; i++)
			if (t.len[i] > DNS_TXT_MAX || t.rec[i][t.len[i]] != '\0')
				abort();
	}
	dns_txt_clear(&t);
	for (i = 0; i < k; i++)
		free(pieces[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[DOMAIN_BUFSZ], again[DOMAIN_BUFSZ];
	uint16_t pref;
	long l;

	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		l = dns_txt_rdata_join(data + 1, size - 1, out);
		if (l < -2 || l > DNS_TXT_MAX)
			abort();
		if (l >= 0 && out[l] != '\0')
			abort();
		break;
	case 1:
		if (dns_wire_name(data + 1, size - 1, name) == 0 &&
		    strlen(name) > DOMAIN_MAX)
			abort();
		break;
	case 2:
		if (dns_mx_rdata(data + 1, size - 1, &pref, name) == MT_OK &&
		    name[0] != '\0' &&
		    (domain_normalise(name, strlen(name), again) != MT_OK ||
		     strcmp(name, again) != 0))
			abort();
		break;
	default:
		rrset(data + 1, size - 1);
		break;
	}
	return 0;
}
