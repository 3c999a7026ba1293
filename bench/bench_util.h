/*
 * bench_util.h - what every benchmark times with: a monotonic clock in
 * nanoseconds and a comparison for sorting samples.
 */
#ifndef MTASTS_BENCH_UTIL_H
#define MTASTS_BENCH_UTIL_H
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

#endif
