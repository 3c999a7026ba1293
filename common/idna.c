/*
 * idna.c - U-labels to A-labels with libidn2 (IDNA2008, non-transitional,
 * NFC input), for domain.c.  Kept apart so the loadable module's decision
 * path does not load libidn2 (it links idna_none.c).
 */
#include <idn2.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "status.h"

int domain_idna_to_ascii(const char *in, char *out, size_t outsz)
{
	char *alabel = NULL;
	size_t len;
	int rc;

	rc = idn2_to_ascii_8z(in, &alabel,
			      IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK || alabel == NULL) {
		free(alabel);
		return MT_EPARSE;
	}
	len = strlen(alabel);
	if (len >= outsz) {
		free(alabel);	/* allocated by libidn2 */
		return MT_ETOOBIG;
	}
	memcpy(out, alabel, len + 1);
	free(alabel);
	return MT_OK;
}
