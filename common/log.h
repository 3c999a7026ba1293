/*
 * log.h - logging through a host-supplied callback.
 *
 * Default sink: syslog(3) with the facility from the configuration, ident
 * "mtasts".  A host (the plugin API, the command, tests) can install its own
 * sink.  Decision lines use stable key=value fields:
 *   domain= mx= mode= policy_id= verdict= reason= source=
 * Remote-controlled text (policy content, server messages) is logged only
 * through log_sanitise(), never raw.
 */
#ifndef MTASTS_LOG_H
#define MTASTS_LOG_H
#include <stddef.h>

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

typedef void log_sink_fn(void *ctx, enum log_level level, const char *line);

/* sink NULL restores syslog.  level: messages above it are dropped. */
void log_set_sink(log_sink_fn *sink, void *ctx);
void log_set_level(enum log_level level);
void log_set_facility(int facility);
/* Log to stderr (the command line tool). */
void log_sink_stderr(void *ctx, enum log_level level, const char *line);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Copy src[0..len) to dst (size dstsz, always NUL-terminated), replacing
 * bytes outside printable ASCII, '=' and '"' by '?' and truncating.
 * Returns dst. */
char *log_sanitise(char *dst, size_t dstsz, const char *src, size_t len);

const char *log_level_str(enum log_level level);
/* Returns -1 for an unknown name. */
int log_level_from_str(const char *s);
/* "mail", "daemon", "local0".."local7"; -1 when unknown. */
int log_facility_from_str(const char *s);

#endif
