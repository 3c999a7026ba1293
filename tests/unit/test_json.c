/*
 * test_json.c - the JSON writer: comma placement, nesting, every escape
 * (quote, backslash, control characters, DEL), invalid UTF-8 replaced by
 * U+FFFD, integers at the limits, the output cap and misuse errors.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cunit_main.h"
#include "json.h"
#include "mem.h"
#include "status.h"
#include "str.h"

static void test_document(void)
{
	struct buf b;
	struct json j;

	buf_init(&b, 4096);
	json_init(&j, &b);
	json_object_begin(&j);
	json_key_bool(&j, "valid", true);
	json_key_string(&j, "mode", "enforce");
	json_key_int(&j, "max_age", 604800);
	json_key(&j, "mx");
	json_array_begin(&j);
	json_string(&j, "a.example");
	json_string(&j, "*.b.example");
	json_array_end(&j);
	json_key(&j, "errors");
	json_array_begin(&j);
	json_array_end(&j);
	json_key(&j, "o");
	json_object_begin(&j);
	json_object_end(&j);
	json_key_null(&j, "n");
	json_key_bool(&j, "f", false);
	json_object_end(&j);
	CU_ASSERT_EQUAL(json_finish(&j), MT_OK);
	CU_ASSERT_STRING_EQUAL(b.data,
		"{\"valid\":true,\"mode\":\"enforce\",\"max_age\":604800,"
		"\"mx\":[\"a.example\",\"*.b.example\"],\"errors\":[],\"o\":{},"
		"\"n\":null,\"f\":false}");
	buf_free(&b);
}

struct ecase {
	const char *label;
	const char *in;
	size_t len;
	const char *want;
};

static const struct ecase esc[] = {
	{ "plain", "abc", 3, "\"abc\"" },
	{ "quote and backslash", "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
	{ "newline tab CR", "\n\t\r", 3, "\"\\n\\t\\r\"" },
	{ "control chars", "\x01\x1f", 2, "\"\\u0001\\u001f\"" },
	{ "NUL", "a\0b", 3, "\"a\\u0000b\"" },
	{ "DEL", "\x7f", 1, "\"\\u007f\"" },
	{ "escape char", "\x1b[31m", 5, "\"\\u001b[31m\"" },
	{ "valid UTF-8 kept", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
	  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
	{ "lone continuation", "a\x80z", 3, "\"a\\ufffdz\"" },
	{ "invalid lead", "\xff", 1, "\"\\ufffd\"" },
	{ "overlong", "\xc0\xaf", 2, "\"\\ufffd\\ufffd\"" },
	{ "overlong 3-byte", "\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "surrogate", "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "above U+10FFFF", "\xf4\x90\x80\x80", 4,
	  "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "truncated at the end", "ok\xe2\x82", 4, "\"ok\\ufffd\\ufffd\"" },
	{ "slash not escaped", "a/b", 3, "\"a/b\"" },
	{ "empty", "", 0, "\"\"" },
	{ NULL, NULL, 0, NULL },
};

static void test_escapes(void)
{
	for (const struct ecase *t = esc; t->label; t++) {
		struct buf b;
		struct json j;

		buf_init(&b, 4096);
		json_init(&j, &b);
		json_string_n(&j, t->in, t->len);
		CU_ASSERT_EQUAL(json_finish(&j), MT_OK);
		if (strcmp(b.data, t->want) != 0)
			fprintf(stderr, "\n  case '%s': %s\n", t->label, b.data);
		CU_ASSERT_STRING_EQUAL(b.data, t->want);
		buf_free(&b);
	}
}

/* Documents written by a function, with the result json_finish() must
 * give and, when MT_OK, the text. */
static void w_key_escaped(struct json *j)
{
	json_object_begin(j);
	json_key_bool(j, "mx\"1\n", true);
	json_object_end(j);
}

static void w_ints(struct json *j)
{
	json_array_begin(j);
	json_int(j, 0);
	json_int(j, -1);
	json_int(j, INT64_MAX);
	json_int(j, INT64_MIN);
	json_array_end(j);
}

static void w_unclosed(struct json *j)
{
	json_object_begin(j);
}

static void w_close_unopened(struct json *j)
{
	json_array_end(j);
}

static void w_key_outside(struct json *j)
{
	json_key(j, "k");
}

static void w_key_no_value(struct json *j)
{
	json_object_begin(j);
	json_key(j, "k");
	json_object_end(j);
}

static void w_too_deep(struct json *j)
{
	for (int i = 0; i <= JSON_DEPTH_MAX; i++)
		json_array_begin(j);
}

static const struct dcase {
	const char *label;
	void (*write)(struct json *j);
	int want_rc;
	const char *want;
} docs[] = {
	{ "keys escaped", w_key_escaped, MT_OK, "{\"mx\\\"1\\n\":true}" },
	{ "integers", w_ints, MT_OK,
	  "[0,-1,9223372036854775807,-9223372036854775808]" },
	{ "unclosed", w_unclosed, MT_EINVAL, NULL },
	{ "close without open", w_close_unopened, MT_EINVAL, NULL },
	{ "key outside an object", w_key_outside, MT_EINVAL, NULL },
	{ "key without a value", w_key_no_value, MT_EINVAL, NULL },
	{ "too deep", w_too_deep, MT_EINVAL, NULL },
};

static void test_docs(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
		struct buf b;
		struct json j;
		int rc;

		buf_init(&b, 4096);
		json_init(&j, &b);
		docs[i].write(&j);
		rc = json_finish(&j);
		if (rc != docs[i].want_rc)
			fprintf(stderr, "\n  case '%s': rc %d\n", docs[i].label, rc);
		CU_ASSERT_EQUAL(rc, docs[i].want_rc);
		if (docs[i].want) {
			CU_ASSERT_PTR_NOT_NULL_FATAL(b.data);
			CU_ASSERT_STRING_EQUAL(b.data, docs[i].want);
		}
		buf_free(&b);
	}
}

/* The output cap and out-of-memory stick as the first error. */
static void test_cap_and_oom(void)
{
	struct buf b;
	struct json j;

	buf_init(&b, 16);
	json_init(&j, &b);
	json_array_begin(&j);
	json_string(&j, "this string is longer than sixteen bytes");
	json_array_end(&j);
	CU_ASSERT_EQUAL(json_finish(&j), MT_ETOOBIG);
	CU_ASSERT_TRUE(b.len <= 16);
	buf_free(&b);

	buf_init(&b, 4096);
	json_init(&j, &b);
	mem_fail_after(0);
	json_array_begin(&j);
	json_string(&j, "x");
	json_array_end(&j);
	mem_fail_after(-1);
	CU_ASSERT_EQUAL(json_finish(&j), MT_ENOMEM);
	buf_free(&b);
}

static CU_TestInfo tests[] = {
	{ "document and commas", test_document },
	{ "string escapes", test_escapes },
	{ "keys, integers, misuse", test_docs },
	{ "cap and OOM", test_cap_and_oom },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("json", tests);
	return 0;
}
