/*
 * diag.c - parser findings list.  Never fails: when memory runs out or the
 * list is full a finding is only counted, so a parser's verdict never
 * depends on whether its diagnostics could be stored.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "mem.h"

void diag_init(struct diag_list *d)
{
	memset(d, 0, sizeof(*d));
}

void diag_free(struct diag_list *d)
{
	if (d == NULL)
		return;
	mem_free(d->v);
	diag_init(d);
}

void diag_add(struct diag_list *d, enum diag_severity sev, const char *code,
	      unsigned line, const char *fmt, ...)
{
	struct diag *x;
	va_list ap;

	if (d == NULL)
		return;
	if (sev == DIAG_ERROR)
		d->n_err++;
	else
		d->n_warn++;
	if (d->n >= DIAG_LIST_MAX)
		return;
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		struct diag *nv;

		if (ncap > DIAG_LIST_MAX)
			ncap = DIAG_LIST_MAX;
		nv = mem_realloc(d->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return;
		d->v = nv;
		d->cap = ncap;
	}
	x = &d->v[d->n++];
	x->sev = sev;
	x->code = code;
	x->line = line;
	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
}
