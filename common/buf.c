/*
 * buf.c - capped growing buffer.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "status.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_free(struct buf *b)
{
	mem_free(b->data);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int buf_reserve(struct buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return MT_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return MT_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	p = mem_realloc(b->data, ncap);
	if (p == NULL)
		return MT_ENOMEM;
	b->data = p;
	b->cap = ncap;
	return MT_OK;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	int rc = buf_reserve(b, n);

	if (rc != MT_OK)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return MT_OK;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return MT_EINVAL;
	rc = buf_reserve(b, (size_t)n);
	if (rc != MT_OK)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return MT_OK;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *buf_steal(struct buf *b, size_t *len)
{
	char *d = b->data;

	if (len)
		*len = b->len;
	if (d == NULL)
		d = mem_strndup("", 0);
	buf_init(b, b->max);
	return d;
}
