/*
 * dlopen_host.c - a minimal host MTA's view of mtasts: load the module with
 * dlopen(RTLD_NOW), resolve the API with dlsym, and print the decision for
 * every MX given, as a custom MTA would before connecting.
 *
 *   dlopen_host [-c CONFIG] MODULE.so DOMAIN MX...
 *
 * Output, one line per MX:
 *   DOMAIN MX verdict=... mode=... policy_id=... matched=... reason=...
 *   source=... expires=...
 * or "DOMAIN: temporary failure: ..." when an enforced policy cannot be
 * applied (the MTA must defer, never send in clear).
 * Exit status: 0 decisions printed, 1 temporary failure, 2 usage/load error.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mtasts.h"

struct api {
	int (*open)(struct mtasts **, const char *);
	void (*close)(struct mtasts *);
	int (*decide)(struct mtasts *, const char *, const char *,
		      struct mtasts_decision *);
	const char *(*strerror)(int);
	const char *(*verdict_str)(enum mtasts_verdict);
	const char *(*mode_str)(enum mtasts_mode);
	const char *(*version)(void);
	int (*abi)(void);
};

static int resolve(void *so, struct api *a)
{
	/* dlsym returns void *; POSIX guarantees the conversion works */
#define SYM(field, name) \
	do { \
		*(void **)(&a->field) = dlsym(so, name); \
		if (a->field == NULL) { \
			fprintf(stderr, "dlopen_host: %s missing\n", name); \
			return -1; \
		} \
	} while (0)
	SYM(open, "mtasts_open");
	SYM(close, "mtasts_close");
	SYM(decide, "mtasts_decide");
	SYM(strerror, "mtasts_strerror");
	SYM(verdict_str, "mtasts_verdict_str");
	SYM(mode_str, "mtasts_mode_str");
	SYM(version, "mtasts_version");
	SYM(abi, "mtasts_abi_version");
#undef SYM
	return 0;
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	struct mtasts *h = NULL;
	struct api a;
	void *so;
	int opt, rc, status = 0;

	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt == 'c')
			config = optarg;
		else
			goto usage;
	}
	if (argc - optind < 3)
		goto usage;
	so = dlopen(argv[optind], RTLD_NOW | RTLD_LOCAL);
	if (so == NULL) {
		fprintf(stderr, "dlopen_host: %s\n", dlerror());
		return 2;
	}
	if (resolve(so, &a) != 0)
		return 2;
	if (a.abi() != MTASTS_ABI_VERSION) {
		fprintf(stderr, "dlopen_host: module ABI %d, built for %d\n",
			a.abi(), MTASTS_ABI_VERSION);
		return 2;
	}
	rc = a.open(&h, config);
	if (rc != MTASTS_OK) {
		fprintf(stderr, "dlopen_host: mtasts_open: %s\n",
			a.strerror(rc));
		return 2;
	}
	for (int i = optind + 2; i < argc; i++) {
		struct mtasts_decision d;
		const char *domain = argv[optind + 1];

		rc = a.decide(h, domain, argv[i], &d);
		if (rc == MTASTS_EPOLICY) {
			printf("%s: temporary failure: %s\n", domain,
			       a.strerror(rc));
			status = 1;
			continue;
		}
		if (rc != MTASTS_OK) {
			fprintf(stderr, "dlopen_host: %s %s: %s\n", domain,
				argv[i], a.strerror(rc));
			status = 2;
			continue;
		}
		printf("%s %s verdict=%s mode=%s policy_id=%s matched=%s "
		       "reason=%s source=%s expires=%lld\n", domain, argv[i],
		       a.verdict_str(d.verdict), a.mode_str(d.mode),
		       d.policy_id[0] ? d.policy_id : "-",
		       d.matched[0] ? d.matched : "-", d.reason, d.source,
		       d.expires);
	}
	a.close(h);
	/* never dlclose a module that may have started library threads */
	return status;
usage:
	fprintf(stderr,
		"usage: dlopen_host [-c CONFIG] MODULE.so DOMAIN MX...\n");
	return 2;
}
