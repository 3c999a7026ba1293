/*
 * idna.c - U-labels to A-labels with libidn2 for domain.c: names looked up
 * with UTS #46 non-transitional mapping and NFC, mx patterns as strict
 * IDNA2008 (IDN2_NO_TR46: no mapping, NFC required).  Kept apart so the
 * loadable module's decision path does not load libidn2 (it links
 * idna_none.c).
 */
#include <idn2.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "status.h"

int domain_idna_to_ascii(const char *in, char *out, size_t outsz,
			 enum domain_idna mode)
{
	char *alabel = NULL;
	size_t len;
	int rc;

	rc = idn2_to_ascii_8z(in, &alabel,
			      mode == DOMAIN_IDNA_STRICT ?
				      IDN2_NO_TR46 :
				      IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK || alabel == NULL) {
		free(alabel);
		return rc == IDN2_TOO_BIG_DOMAIN ? MT_ETOOBIG : MT_EPARSE;
	}
	len = strlen(alabel);
	if (len >= outsz) {
		free(alabel); /* allocated by libidn2 */
		return MT_ETOOBIG;
	}
	memcpy(out, alabel, len + 1);
	free(alabel);
	return MT_OK;
}
