/*
 * tlsrpt_record.c - record TLS session outcomes for TLS-RPT the way a host
 * MTA does: dlopen the built module, open a handle from a configuration
 * file and call mtasts_report_result() COUNT times.
 *
 *   tlsrpt_record MODULE.so CONFIG DOMAIN MX IP|- RESULT [COUNT]
 *
 * RESULT is "success" or an RFC 8460 §4.3 result type
 * ("certificate-expired", "starttls-not-supported", ...).  IP "-" records
 * no receiving address.  The time recorded is the module's clock
 * (MTASTS_FAKE_TIME moves it, as for every other test).
 * Exit status: 0 every result recorded, 1 a call returned an error status
 * (printed), 2 usage or load error.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"

struct api {
	int (*open)(struct mtasts **, const char *);
	void (*close)(struct mtasts *);
	int (*report)(struct mtasts *, const char *, const char *, const char *,
		      int, const char *);
	const char *(*strerror)(int);
};

static int resolve(void *so, struct api *a)
{
#define SYM(field, name) \
	do { \
		*(void **)(&a->field) = dlsym(so, name); \
		if (a->field == NULL) { \
			fprintf(stderr, "tlsrpt_record: %s missing\n", name); \
			return -1; \
		} \
	} while (0)
	SYM(open, "mtasts_open");
	SYM(close, "mtasts_close");
	SYM(report, "mtasts_report_result");
	SYM(strerror, "mtasts_strerror");
#undef SYM
	return 0;
}

int main(int argc, char **argv)
{
	struct mtasts *h = NULL;
	struct api a;
	const char *ip, *result;
	unsigned long count = 1;
	int success, rc;
	void *so;

	if (argc != 7 && argc != 8) {
		fprintf(stderr, "usage: tlsrpt_record MODULE.so CONFIG DOMAIN "
				"MX IP|- RESULT [COUNT]\n");
		return 2;
	}
	if (argc == 8) {
		char *end;

		count = strtoul(argv[7], &end, 10);
		if (*end != '\0' || count == 0 || count > 100000) {
			fprintf(stderr, "tlsrpt_record: bad COUNT\n");
			return 2;
		}
	}
	ip = strcmp(argv[5], "-") == 0 ? NULL : argv[5];
	success = strcmp(argv[6], "success") == 0;
	result = success ? NULL : argv[6];
	so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (so == NULL) {
		fprintf(stderr, "tlsrpt_record: %s\n", dlerror());
		return 2;
	}
	if (resolve(so, &a) != 0)
		return 2;
	rc = a.open(&h, argv[2]);
	if (rc != MTASTS_OK) {
		fprintf(stderr, "tlsrpt_record: mtasts_open: %s\n",
			a.strerror(rc));
		return 2;
	}
	for (unsigned long i = 0; i < count; i++) {
		rc = a.report(h, argv[3], argv[4], ip, success, result);
		if (rc != MTASTS_OK) {
			printf("rc=%s\n", a.strerror(rc));
			break;
		}
	}
	a.close(h);
	/* never dlclose a module that may have started library threads */
	return rc == MTASTS_OK ? 0 : 1;
}
