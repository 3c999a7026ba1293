/*
 * fuzz_rrset.h - one fuzz input as a TXT RRset: the records are the
 * pieces between 0xff bytes (an octet a fuzzer rarely needs inside one),
 * so one input stands for several records.
 */
#ifndef MTASTS_FUZZ_RRSET_H
#define MTASTS_FUZZ_RRSET_H
#include <stddef.h>
#include <stdint.h>

#define FUZZ_MAX_RECS 8

/* Fill recs/lens (FUZZ_MAX_RECS each); returns the number of records. */
static inline size_t fuzz_rrset(const uint8_t *data, size_t size,
				const char **recs, size_t *lens)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= size && n < FUZZ_MAX_RECS; i++) {
		if (i == size || data[i] == 0xff) {
			recs[n] = (const char *)data + start;
			lens[n++] = i - start;
			start = i + 1;
		}
	}
	return n;
}

#endif
