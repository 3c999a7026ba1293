/*
 * bench_util.h - what every benchmark times with: a monotonic clock in
 * nanoseconds and a comparison for sorting samples; and the counts they
 * take from the command line.
 */
#ifndef MTASTS_BENCH_UTIL_H
#define MTASTS_BENCH_UTIL_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A count argument: s (NULL: def) as a decimal number from 1 to 10^9;
 * anything else is a usage error that ends the benchmark. */
static inline unsigned bench_count(const char *s, unsigned def)
{
	unsigned long v;
	char *end;

	if (s == NULL)
		return def;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v == 0 ||
	    v > 1000000000ul) {
		fprintf(stderr, "not a count from 1 to 10^9: '%s'\n", s);
		exit(2);
	}
	return (unsigned)v;
}

#endif
