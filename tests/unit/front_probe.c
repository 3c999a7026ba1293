/*
 * front_probe.c - a host that links nothing of mtasts: dlopen()s the module,
 * asks one decision through the public API and says which libraries its
 * process maps afterwards (test_front.c runs it).  Linked with libc (and
 * libdl) alone, so whatever /proc/self/maps shows beyond that, the module
 * loaded.
 *
 * usage: front_probe MODULE CONFIG DOMAIN MX
 * prints: verdict=V reason=R source=S status=N net=0|1 curl=0|1
 *         unbound=0|1 gnutls=0|1 idn2=0|1
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "../../plugin/mtasts.h"

static int mapped(const char *what)
{
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (f == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	int (*op)(struct mtasts **, const char *);
	int (*dec)(struct mtasts *, const char *, const char *,
		   struct mtasts_decision *);
	void (*cl)(struct mtasts *);
	const char *(*vs)(enum mtasts_verdict);
	struct mtasts_decision d;
	struct mtasts *h = NULL;
	void *so;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: front_probe MODULE CONFIG DOMAIN MX\n");
		return 2;
	}
	so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (so == NULL) {
		fprintf(stderr, "front_probe: %s\n", dlerror());
		return 2;
	}
	*(void **)&op = dlsym(so, "mtasts_open");
	*(void **)&dec = dlsym(so, "mtasts_decide");
	*(void **)&cl = dlsym(so, "mtasts_close");
	*(void **)&vs = dlsym(so, "mtasts_verdict_str");
	if (!op || !dec || !cl || !vs || op(&h, argv[2]) != MTASTS_OK) {
		fprintf(stderr, "front_probe: cannot open\n");
		return 2;
	}
	rc = dec(h, argv[3], argv[4], &d);
	printf("verdict=%s reason=%s source=%s status=%d net=%d curl=%d "
	       "unbound=%d gnutls=%d idn2=%d\n", vs(d.verdict), d.reason,
	       d.source[0] ? d.source : "-", rc, mapped("mtasts-net.so"),
	       mapped("libcurl"), mapped("libunbound"), mapped("libgnutls"),
	       mapped("libidn2"));
	cl(h);
	return 0;
}
