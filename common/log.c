/*
 * log.c - one logging entry point, a replaceable sink, syslog by default.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "str.h"

static log_sink_fn *log_sink;
static void *log_sink_ctx;
static enum log_level log_level_max = LOG_LVL_INFO;
static int log_facility = LOG_MAIL;
static int log_opened;

static const struct {
	const char *name;
	enum log_level level;
} level_table[] = {
	{ "err", LOG_LVL_ERR },	      { "warning", LOG_LVL_WARN },
	{ "notice", LOG_LVL_NOTICE }, { "info", LOG_LVL_INFO },
	{ "debug", LOG_LVL_DEBUG },
};

static const struct {
	const char *name;
	int facility;
} facility_table[] = {
	{ "mail", LOG_MAIL },	  { "daemon", LOG_DAEMON },
	{ "user", LOG_USER },	  { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

const char *log_level_str(enum log_level level)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_table); i++)
		if (level_table[i].level == level)
			return level_table[i].name;
	return "unknown";
}

int log_level_from_str(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_table); i++)
		if (strcmp(level_table[i].name, s) == 0)
			return (int)level_table[i].level;
	return -1;
}

int log_facility_from_str(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(facility_table); i++)
		if (strcmp(facility_table[i].name, s) == 0)
			return facility_table[i].facility;
	return -1;
}

void log_set_sink(log_sink_fn *sink, void *ctx)
{
	log_sink = sink;
	log_sink_ctx = ctx;
}

void log_set_level(enum log_level level)
{
	log_level_max = level;
}

void log_set_facility(int facility)
{
	log_facility = facility;
	log_opened = 0;
}

void log_sink_stderr(void *ctx, enum log_level level, const char *line)
{
	(void)ctx;
	fprintf(stderr, "mtasts: %s: %s\n", log_level_str(level), line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > log_level_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_sink) {
		log_sink(log_sink_ctx, level, line);
		return;
	}
	if (!log_opened) {
		openlog("mtasts", LOG_PID | LOG_NDELAY, log_facility);
		log_opened = 1;
	}
	syslog((int)level, "%s", line);
}

char *log_sanitise(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t i, o = 0;

	if (dstsz == 0)
		return dst;
	for (i = 0; i < len && o + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[o++] = (c < 0x20 || c > 0x7e || c == '=' || c == '"') ?
				   '?' :
				   (char)c;
	}
	dst[o] = '\0';
	return dst;
}
