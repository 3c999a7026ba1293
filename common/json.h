/*
 * json.h - a small JSON writer onto a capped struct buf.
 *
 * Commas are placed automatically.  Strings are escaped fully: quote,
 * backslash, control characters as \uXXXX, and bytes that are not valid
 * UTF-8 replaced by U+FFFD, so remote text can never break the document.
 * The first error (out of memory, over the cap, misnesting) sticks and is
 * returned by json_finish().
 */
#ifndef MTASTS_JSON_H
#define MTASTS_JSON_H
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define JSON_DEPTH_MAX 16

struct json {
	struct buf *b;
	int err;
	int depth;
	bool need_comma[JSON_DEPTH_MAX];
	bool after_key;
};

void json_init(struct json *j, struct buf *b);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);
void json_string_n(struct json *j, const char *s, size_t len);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
void json_key_string(struct json *j, const char *key, const char *s);
void json_key_int(struct json *j, const char *key, int64_t v);
void json_key_bool(struct json *j, const char *key, bool v);
void json_key_null(struct json *j, const char *key);
/* MT_OK when the document is complete and nothing failed. */
int json_finish(struct json *j);

#endif
