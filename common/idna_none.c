/*
 * idna_none.c - no IDNA in this build: the loadable module's decision path,
 * which must load nothing but libc.  A non-ASCII name is MT_ENOTSUP there,
 * and the module hands it to its network half (which links idna.c).
 */
#include "domain.h"
#include "status.h"

int domain_idna_to_ascii(const char *in, char *out, size_t outsz,
			 enum domain_idna mode)
{
	(void)mode;
	(void)in;
	(void)out;
	(void)outsz;
	return MT_ENOTSUP;
}
