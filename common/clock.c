/*
 * clock.c - wall clock with a test override.
 */
#include <stdlib.h>
#include <time.h>

#include "clock.h"

static int64_t fake_now;
static int env_read;

int64_t clock_now(void)
{
	struct timespec ts;

	if (!env_read) {
		const char *e = getenv("MTASTS_FAKE_TIME");
		char *end;

		env_read = 1;
		if (e && *e) {
			long long v = strtoll(e, &end, 10);

			if (*end == '\0' && v > 0 && fake_now == 0)
				fake_now = v;
		}
	}
	if (fake_now > 0)
		return fake_now;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_set_fake(int64_t t)
{
	env_read = 1;
	fake_now = t;
}
