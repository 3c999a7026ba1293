/*
 * mem.h - allocation wrappers.
 *
 * Every allocation in mtasts goes through these so that tests can make the
 * Nth one fail (mem_fail_after) and check that out-of-memory is a status,
 * never a crash.  Memory from mem_* is released with mem_free.
 */
#ifndef MTASTS_MEM_H
#define MTASTS_MEM_H
#include <stddef.h>

void *mem_alloc(size_t n);
void *mem_calloc(size_t nmemb, size_t size);
void *mem_realloc(void *p, size_t n);
/* Copy of s[0..len) with a NUL appended. */
char *mem_strndup(const char *s, size_t len);
char *mem_strdup(const char *s);
void mem_free(void *p);

/* Test hook: the allocation after the next n succeeds fails; n < 0 disables.
 * Not thread-safe; for tests only. */
void mem_fail_after(long n);

#endif
