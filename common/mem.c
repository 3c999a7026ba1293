/*
 * mem.c - allocation wrappers with a failure-injection hook for tests.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static long fail_countdown = -1;

static int should_fail(void)
{
	if (fail_countdown < 0)
		return 0;
	if (fail_countdown == 0)
		return 1;
	fail_countdown--;
	return 0;
}

void mem_fail_after(long n)
{
	fail_countdown = n;
}

void *mem_alloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *mem_calloc(size_t nmemb, size_t size)
{
	if (should_fail())
		return NULL;
	if (nmemb == 0 || size == 0)
		return calloc(1, 1);
	return calloc(nmemb, size);
}

void *mem_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

char *mem_strndup(const char *s, size_t len)
{
	char *d;

	if (len == SIZE_MAX)
		return NULL;
	d = mem_alloc(len + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *mem_strdup(const char *s)
{
	return mem_strndup(s, strlen(s));
}

void mem_free(void *p)
{
	free(p);
}
