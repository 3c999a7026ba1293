/*
 * json.c - JSON writer (see json.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "status.h"
#include "str.h"

void json_init(struct json *j, struct buf *b)
{
	memset(j, 0, sizeof(*j));
	j->b = b;
}

static void put(struct json *j, const char *s, size_t n)
{
	if (j->err == MT_OK)
		j->err = buf_add(j->b, s, n);
}

/* Before any value: a comma when a sibling came before. */
static void value_prefix(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->need_comma[j->depth - 1])
			put(j, ",", 1);
		j->need_comma[j->depth - 1] = true;
	}
}

static void open_(struct json *j, char c)
{
	value_prefix(j);
	if (j->depth >= JSON_DEPTH_MAX) {
		j->err = MT_EINVAL;
		return;
	}
	put(j, &c, 1);
	j->need_comma[j->depth++] = false;
}

static void close_(struct json *j, char c)
{
	if (j->depth <= 0 || j->after_key) {
		j->err = MT_EINVAL;
		return;
	}
	j->depth--;
	put(j, &c, 1);
}

void json_object_begin(struct json *j)
{
	open_(j, '{');
}
void json_object_end(struct json *j)
{
	close_(j, '}');
}
void json_array_begin(struct json *j)
{
	open_(j, '[');
}
void json_array_end(struct json *j)
{
	close_(j, ']');
}

/* RFC 8259 §7: the two-character escapes, NULL for other bytes. */
static const char *short_escape(unsigned char c)
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		return NULL;
	}
}

static void put_escaped(struct json *j, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	put(j, "\"", 1);
	while (i < n) {
		const char *e = short_escape(p[i]);
		size_t l = 1;
		char esc[8];

		if (e != NULL) {
			put(j, e, 2);
		} else if (str_is_ctl(p[i])) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
			put(j, esc, 6);
		} else if ((l = str_utf8_len(p + i, n - i)) == 0) {
			put(j, "\\ufffd", 6); /* not UTF-8 */
			l = 1;
		} else {
			put(j, s + i, l);
		}
		i += l;
	}
	put(j, "\"", 1);
}

void json_key(struct json *j, const char *key)
{
	if (j->depth <= 0 || j->after_key) {
		j->err = MT_EINVAL;
		return;
	}
	value_prefix(j);
	put_escaped(j, key, strlen(key));
	put(j, ":", 1);
	j->after_key = true;
}

void json_string_n(struct json *j, const char *s, size_t len)
{
	value_prefix(j);
	put_escaped(j, s, len);
}

void json_string(struct json *j, const char *s)
{
	json_string_n(j, s, strlen(s));
}

void json_int(struct json *j, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	value_prefix(j);
	put(j, num, (size_t)n);
}

void json_bool(struct json *j, bool v)
{
	value_prefix(j);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void json_null(struct json *j)
{
	value_prefix(j);
	put(j, "null", 4);
}

void json_key_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

void json_key_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_int(j, v);
}

void json_key_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

void json_key_null(struct json *j, const char *key)
{
	json_key(j, key);
	json_null(j);
}

int json_finish(struct json *j)
{
	if (j->err == MT_OK && (j->depth != 0 || j->after_key))
		j->err = MT_EINVAL;
	return j->err;
}
