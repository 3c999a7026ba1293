/*
 * clock.h - the one source of wall-clock time, injectable for tests.
 *
 * Everything that compares with expiry times asks clock_now().  Tests (and
 * the MTASTS_FAKE_TIME environment variable, read once, for integration
 * tests of expiry across processes) can fix the clock.
 */
#ifndef MTASTS_CLOCK_H
#define MTASTS_CLOCK_H
#include <stdint.h>

/* Seconds since the epoch (UTC). */
int64_t clock_now(void);
/* Monotonic milliseconds, for timeouts and benchmarks. */
int64_t clock_mono_ms(void);
/* Test hook: t > 0 fixes clock_now() at t; 0 returns to the real clock. */
void clock_set_fake(int64_t t);

#endif
