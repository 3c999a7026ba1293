/*
 * diag.h - findings of the parsers: errors and warnings with a stable code,
 * a line number (0 = not tied to a line) and a message for a domain owner.
 *
 * Parsers take a `struct diag_list *` that may be NULL (the engine does not
 * care why a policy is bad, only that it is).  Codes are stable strings such
 * as "mode-invalid"; they are part of the `mtasts lint --json` contract.
 */
#ifndef MTASTS_DIAG_H
#define MTASTS_DIAG_H
#include <stddef.h>

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

#define DIAG_MSG_MAX 200
#define DIAG_LIST_MAX 1000 /* further findings are counted, not stored */

struct diag {
	enum diag_severity sev;
	const char *code; /* static string */
	unsigned line;
	char msg[DIAG_MSG_MAX];
};

struct diag_list {
	struct diag *v;
	size_t n, cap;
	size_t n_err, n_warn; /* including those not stored */
};

void diag_init(struct diag_list *d);
void diag_free(struct diag_list *d);
/* d may be NULL (no-op).  Never fails: on OOM the finding is only counted. */
void diag_add(struct diag_list *d, enum diag_severity sev, const char *code,
	      unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
