/* test_status.c - status text table and the capped buffer. */
#include <string.h>

#include "buf.h"
#include "cunit_main.h"
#include "mem.h"
#include "status.h"

static void t_strerror(void)
{
	for (int s = 0; s >= MT_STATUS_MIN; s--) {
		CU_ASSERT_PTR_NOT_NULL(mt_strerror(s));
		CU_ASSERT_STRING_NOT_EQUAL(mt_strerror(s), "unknown status");
	}
	CU_ASSERT_STRING_EQUAL(mt_strerror(1), "unknown status");
	CU_ASSERT_STRING_EQUAL(mt_strerror(MT_STATUS_MIN - 1), "unknown status");
	CU_ASSERT_STRING_EQUAL(mt_strerror(MT_OK), "success");
}

static void t_buf_cap(void)
{
	struct buf b;

	buf_init(&b, 10);
	CU_ASSERT_EQUAL(buf_adds(&b, "0123456789"), MT_OK);
	CU_ASSERT_EQUAL(buf_adds(&b, "x"), MT_ETOOBIG);
	CU_ASSERT_EQUAL(b.len, 10);
	CU_ASSERT_STRING_EQUAL(b.data, "0123456789");
	buf_reset(&b);
	CU_ASSERT_EQUAL(buf_printf(&b, "%d-%s", 42, "ab"), MT_OK);
	CU_ASSERT_STRING_EQUAL(b.data, "42-ab");
	CU_ASSERT_EQUAL(buf_printf(&b, "%s", "toolongtext"), MT_ETOOBIG);
	CU_ASSERT_STRING_EQUAL(b.data, "42-ab");
	buf_free(&b);
}

static void t_buf_oom(void)
{
	struct buf b;

	buf_init(&b, 100);
	mem_fail_after(0);
	CU_ASSERT_EQUAL(buf_adds(&b, "abc"), MT_ENOMEM);
	mem_fail_after(-1);
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT_EQUAL(buf_adds(&b, "abc"), MT_OK);
	buf_free(&b);
}

static void t_buf_grow(void)
{
	struct buf b;
	size_t len;
	char *p;

	buf_init(&b, 65536);
	for (int i = 0; i < 65536 / 8; i++)
		CU_ASSERT_EQUAL_FATAL(buf_add(&b, "abcdefgh", 8), MT_OK);
	CU_ASSERT_EQUAL(b.len, 65536);
	CU_ASSERT_EQUAL(buf_add(&b, "", 0), MT_OK);	/* at the cap: no-op */
	CU_ASSERT_EQUAL(buf_add(&b, "z", 1), MT_ETOOBIG);
	CU_ASSERT_EQUAL(b.data[b.len], '\0');
	CU_ASSERT_EQUAL(memcmp(b.data + 65528, "abcdefgh", 8), 0);
	p = buf_steal(&b, &len);
	CU_ASSERT_EQUAL(len, 65536);
	CU_ASSERT_PTR_NULL(b.data);
	CU_ASSERT_EQUAL(b.len, 0);
	mem_free(p);
	/* an empty buffer steals as an empty string, never NULL */
	p = buf_steal(&b, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(p[0], '\0');
	mem_free(p);
	buf_free(&b);
}

static CU_TestInfo tests[] = {
	{ "strerror table", t_strerror },
	{ "buf cap", t_buf_cap },
	{ "buf oom", t_buf_oom },
	{ "buf growth and steal", t_buf_grow },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("status", tests);
	return 0;
}
