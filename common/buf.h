/*
 * buf.h - a growing byte buffer with a hard cap (after curl's dynbuf).
 *
 * The content is always NUL-terminated (the NUL is not counted in len and
 * not counted against max).  Appending past max fails with MT_ETOOBIG and
 * leaves the buffer as it was.
 */
#ifndef MTASTS_BUF_H
#define MTASTS_BUF_H
#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* NULL until the first append */
	size_t len;
	size_t cap;
	size_t max; /* hard cap on len */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps memory */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Take ownership of the data (caller mem_free()s it); b is emptied. */
char *buf_steal(struct buf *b, size_t *len);

#endif
