/*
 * test_shm.c - the mapping layer: creation (0600, whole), first creator
 * wins, replacement keeps old mappings valid (new inode), refusals
 * (symlink, foreign owner, group/other writable, not a regular file),
 * the writer lock (exclusive across processes, released by death,
 * bounded wait).
 */
#include <CUnit/CUnit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_main.h"
#include "shm.h"
#include "status.h"

static char dir[64];
static char path[128];

static int fill(unsigned char *base, size_t size, void *arg)
{
	memset(base, *(int *)arg, size);
	return MT_OK;
}

static void fresh(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mtasts-shm-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static void test_create_replace(void)
{
	struct shm s, s2;
	struct stat st;
	int a = 'a', b = 'b';

	fresh();
	CU_ASSERT_EQUAL(shm_attach(&s, path), MT_ENOTFOUND);
	CU_ASSERT_EQUAL(shm_create(path, 8192, fill, &a, 0), MT_OK);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(st.st_size, 8192);
	/* First creator wins. */
	CU_ASSERT_EQUAL(shm_create(path, 4096, fill, &b, 0), MT_EBUSY);
	CU_ASSERT_EQUAL_FATAL(shm_attach(&s, path), MT_OK);
	CU_ASSERT_EQUAL(s.size, 8192);
	CU_ASSERT_EQUAL(s.base[8191], 'a');
	/* Replace: the old mapping keeps its inode and bytes. */
	CU_ASSERT_EQUAL(shm_create(path, 4096, fill, &b, 1), MT_OK);
	CU_ASSERT_EQUAL(s.base[8191], 'a');
	CU_ASSERT_EQUAL_FATAL(shm_attach(&s2, path), MT_OK);
	CU_ASSERT_NOT_EQUAL(s.ino, s2.ino);
	CU_ASSERT_EQUAL(s2.size, 4096);
	CU_ASSERT_EQUAL(s2.base[0], 'b');
	shm_detach(&s);
	shm_detach(&s2);
	shm_detach(&s2);	/* idempotent */
	cleanup();
}

static void test_refusals(void)
{
	struct shm s;
	char other[160];
	int a = 'a';

	fresh();
	CU_ASSERT_EQUAL(shm_create(path, 4096, fill, &a, 0), MT_OK);
	snprintf(other, sizeof(other), "%s/l", dir);
	CU_ASSERT_EQUAL(symlink(path, other), 0);
	CU_ASSERT_EQUAL(shm_attach(&s, other), MT_EPERM);
	CU_ASSERT_EQUAL(chmod(path, 0602), 0);
	CU_ASSERT_EQUAL(shm_attach(&s, path), MT_EPERM);
	CU_ASSERT_EQUAL(chmod(path, 0600), 0);
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(chown(path, 65534, 65534), 0);
		CU_ASSERT_EQUAL(shm_attach(&s, path), MT_EPERM);
		CU_ASSERT_EQUAL(chown(path, 0, 0), 0);
	}
	CU_ASSERT_EQUAL(shm_attach(&s, dir), MT_EPERM);	/* a directory */
	CU_ASSERT_EQUAL(shm_attach(&s, path), MT_OK);
	shm_detach(&s);
	cleanup();
}

static void test_lock(void)
{
	struct shm s;
	pid_t pid;
	int status, a = 0, p[2];
	char c;

	fresh();
	CU_ASSERT_EQUAL(shm_create(path, 4096, fill, &a, 0), MT_OK);
	CU_ASSERT_FATAL(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		struct shm cs;

		if (shm_attach(&cs, path) != MT_OK ||
		    shm_lock(&cs, 100) != MT_OK)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();	/* holds the lock until killed */
		_exit(0);
	}
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(read(p[0], &c, 1), 1);
	CU_ASSERT_EQUAL_FATAL(shm_attach(&s, path), MT_OK);
	/* Held by a live process: a bounded wait, then busy. */
	CU_ASSERT_EQUAL(shm_lock(&s, 20), MT_EBUSY);
	kill(pid, SIGKILL);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	/* Its death released it. */
	CU_ASSERT_EQUAL(shm_lock(&s, 1000), MT_OK);
	shm_unlock(&s);
	shm_detach(&s);
	close(p[0]);
	close(p[1]);
	cleanup();
}

int register_tests(void)
{
	static CU_TestInfo tests[] = {
		{ "create, first wins, replace", test_create_replace },
		{ "refusals", test_refusals },
		{ "writer lock", test_lock },
		CU_TEST_INFO_NULL,
	};

	CUNIT_SUITE("shm", tests);
	return 0;
}
