/*
 * test_lint_golden.c - runs the built `mtasts lint` and compares its
 * output and exit status with golden files (after Postfix's *.ref tests).
 *
 * tests/data/lint/NAME.policy   a policy file: `lint --json [ARGS] FILE`
 * tests/data/lint/NAME.txt      _mta-sts records, one a line: `--txt`
 * tests/data/lint/NAME.tlsrpt   _smtp._tls records, one a line: `--tlsrpt`
 * tests/data/lint/NAME.args     optional extra arguments, one a line
 * tests/data/lint/NAME.ref      "exit N" then the expected standard output
 *
 * MTASTS_REGEN=1 rewrites the .ref files (review the diff before
 * committing).  Also: the demo policies of tests/data/policies (good-* are
 * valid, bad-* are not), human output, standard input, the 64 KiB cap and
 * usage errors.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_main.h"
#include "str.h"

#define OUT_MAX (1 << 20)
#define ARGS_MAX 64

static char mtasts[4096], lintdir[4096], poldir[4096];

struct run {
	int status;	/* exit code, -1 when it did not exit normally */
	char *out;
	size_t len;
};

/* Run mtasts with argv (argv[0] ignored), feeding stdin_data if not NULL. */
static int run(const char *const *argv, const char *stdin_data, size_t stdin_len,
	       struct run *r)
{
	int out[2], in[2];
	pid_t pid;
	int st;

	memset(r, 0, sizeof(*r));
	r->out = malloc(OUT_MAX + 1);
	if (r->out == NULL || pipe(out) != 0 || pipe(in) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(in[0], 0);
		dup2(out[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		close(in[1]);
		close(out[0]);
		execv(mtasts, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (stdin_data) {
		/* small inputs fit the pipe; larger ones are written whole
		 * before reading, so keep them under 64 KiB + a little */
		size_t off = 0;

		while (off < stdin_len) {
			ssize_t n = write(in[1], stdin_data + off, stdin_len - off);

			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	close(in[1]);
	for (;;) {
		ssize_t n = read(out[0], r->out + r->len, OUT_MAX - r->len);

		if (n <= 0)
			break;
		r->len += (size_t)n;
	}
	r->out[r->len] = '\0';
	close(out[0]);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s;
	size_t n;

	if (f == NULL)
		return NULL;
	s = malloc(OUT_MAX + 1);
	n = fread(s, 1, OUT_MAX, f);
	fclose(f);
	s[n] = '\0';
	if (len)
		*len = n;
	return s;
}

/* Split s into lines (modifies s), appending them to argv. */
static int add_lines(char *s, const char **argv, int argc)
{
	char *save = NULL, *line;

	for (line = strtok_r(s, "\n", &save); line && argc < ARGS_MAX - 2;
	     line = strtok_r(NULL, "\n", &save))
		argv[argc++] = line;
	return argc;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a > b && strcmp(s + a - b, suf) == 0;
}

static void golden_one(const char *name)
{
	char path[8192], base[8192], refpath[8300];
	const char *argv[ARGS_MAX];
	char *args = NULL, *recs = NULL, *ref;
	int argc = 0;
	struct run r;
	const char *dot = strrchr(name, '.');

	snprintf(path, sizeof(path), "%s/%s", lintdir, name);
	snprintf(base, sizeof(base), "%s/%.*s", lintdir, (int)(dot - name), name);
	snprintf(refpath, sizeof(refpath), "%s.ref", base);
	argv[argc++] = "mtasts";
	argv[argc++] = "lint";
	argv[argc++] = "--json";
	{
		char ap[8300];

		snprintf(ap, sizeof(ap), "%s.args", base);
		args = slurp(ap, NULL);
		if (args)
			argc = add_lines(args, argv, argc);
	}
	if (has_suffix(name, ".policy")) {
		argv[argc++] = path;
	} else {
		argv[argc++] = has_suffix(name, ".txt") ? "--txt" : "--tlsrpt";
		recs = slurp(path, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(recs);
		argc = add_lines(recs, argv, argc);
	}
	argv[argc] = NULL;
	CU_ASSERT_EQUAL_FATAL(run(argv, NULL, 0, &r), 0);

	if (getenv("MTASTS_REGEN")) {
		FILE *f = fopen(refpath, "w");

		if (f) {
			fprintf(f, "exit %d\n%s", r.status, r.out);
			fclose(f);
		}
	}
	ref = slurp(refpath, NULL);
	if (ref == NULL) {
		fprintf(stderr, "\n  %s: no %s\n", name, refpath);
		CU_FAIL("missing .ref");
	} else {
		char head[32];
		const char *body = strchr(ref, '\n');

		snprintf(head, sizeof(head), "exit %d", r.status);
		CU_ASSERT_PTR_NOT_NULL(body);
		if (body && (strncmp(ref, head, strlen(head)) != 0 ||
			     strcmp(body + 1, r.out) != 0)) {
			fprintf(stderr, "\n  %s: got %s\n%s\n", name, head, r.out);
			CU_FAIL("output differs from .ref");
		}
		/* the contract: exactly one JSON object on one line */
		CU_ASSERT_TRUE(r.len > 2 && r.out[0] == '{' &&
			       r.out[r.len - 1] == '\n' &&
			       memchr(r.out, '\n', r.len - 1) == NULL);
		CU_ASSERT_TRUE(r.status == 0 || r.status == 1);
		CU_ASSERT_EQUAL(r.status == 0,
				strncmp(r.out, "{\"valid\":true", 13) == 0);
	}
	free(ref);
	free(args);
	free(recs);
	free(r.out);
}

/* Call fn for every file of dir whose name fn wants; returns how many. */
static int each_file(const char *dir, int (*fn)(const char *name))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	CU_ASSERT_PTR_NOT_NULL(d);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n += fn(e->d_name);
	closedir(d);
	return n;
}

static int golden_file(const char *name)
{
	if (!has_suffix(name, ".policy") && !has_suffix(name, ".txt") &&
	    !has_suffix(name, ".tlsrpt"))
		return 0;
	golden_one(name);
	return 1;
}

static void test_golden(void)
{
	CU_ASSERT_TRUE(each_file(lintdir, golden_file) >= 30);
}

/* The demo policies: good-* valid (0), bad-* invalid (1). */
static int demo_policy(const char *name)
{
	char path[8192];
	const char *argv[] = { "mtasts", "lint", path, NULL };
	int want = strncmp(name, "good-", 5) == 0 ? 0 : 1;
	struct run r;

	snprintf(path, sizeof(path), "%s/%s", poldir, name);
	CU_ASSERT_EQUAL_FATAL(run(argv, NULL, 0, &r), 0);
	if (r.status != want)
		fprintf(stderr, "\n  %s: exit %d\n%s", name, r.status, r.out);
	CU_ASSERT_EQUAL(r.status, want);
	free(r.out);
	return 1;
}

static void test_demo_policies(void)
{
	CU_ASSERT_TRUE(each_file(poldir, demo_policy) >= 6);
}

/* Compiler-like human output: FILE:LINE: error: message [code]. */
static void test_human(void)
{
	char path[8192];
	const char *argv[] = { "mtasts", "lint", "--mx", "good.example.com", path, NULL };
	struct run r;
	char want[17000];

	snprintf(path, sizeof(path), "%s/ip-port-url.policy", lintdir);
	CU_ASSERT_EQUAL_FATAL(run(argv, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 1);
	snprintf(want, sizeof(want), "%s:3: error: mx '192.0.2.25' is an IP address, which no MX host name matches; senders leave it out (patterns must be host names) [mx-ip-literal]\n", path);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, want));
	snprintf(want, sizeof(want), "%s:5: error: ", path);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "[mx-port]\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "[mx-url]\n"));
	snprintf(want, sizeof(want), "%s: mx good.example.com: NOT covered\n", path);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, want));
	snprintf(want, sizeof(want), "%s: invalid: 4 errors, 0 warnings\n", path);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, want));
	free(r.out);

	snprintf(path, sizeof(path), "%s/enforce.policy", lintdir);
	argv[3] = "mail.example.com";
	CU_ASSERT_EQUAL_FATAL(run(argv, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 0);
	snprintf(want, sizeof(want), "%s: mx mail.example.com: covered\n%s: valid: mode enforce, max_age 604800, 3 mx patterns; 0 warnings\n",
		 path, path);
	CU_ASSERT_STRING_EQUAL(r.out, want);
	free(r.out);

	/* valid for a sender, with errors for the publisher: exit 0 */
	snprintf(path, sizeof(path), "%s/mx-unusable.policy", lintdir);
	argv[3] = "192.0.2.1";
	CU_ASSERT_EQUAL_FATAL(run(argv, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 0);
	snprintf(want, sizeof(want), "%s:4: error: mx '192.0.2.1' is an IP address", path);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, want));
	snprintf(want, sizeof(want), "%s: mx 192.0.2.1: NOT covered\n%s: valid: mode enforce, max_age 604800, 1 mx pattern; 2 errors (senders leave out what they name), 0 warnings\n",
		 path, path);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, want));
	free(r.out);

	/* control characters from a hostile file never reach the terminal */
	{
		const char *a2[] = { "mtasts", "lint", "-", NULL };
		static const char evil[] = "version: STSv1\nmode: enforce\nmx: a\x1b]0;pwned\x07.example:25\nmax_age: 86400\n";

		CU_ASSERT_EQUAL_FATAL(run(a2, evil, sizeof(evil) - 1, &r), 0);
		CU_ASSERT_EQUAL(r.status, 1);
		CU_ASSERT_PTR_NULL(memchr(r.out, 0x1b, r.len));
		CU_ASSERT_PTR_NULL(memchr(r.out, 0x07, r.len));
		free(r.out);
	}
}

/* "-" reads standard input; the label is <stdin>. */
static void test_stdin(void)
{
	const char *argv[] = { "mtasts", "lint", "-", NULL };
	const char *jargv[] = { "mtasts", "lint", "--json", "-", NULL };
	static const char pol[] = "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 86400\n";
	struct run r;

	CU_ASSERT_EQUAL_FATAL(run(argv, pol, sizeof(pol) - 1, &r), 0);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "<stdin>: valid: mode testing, max_age 86400, 1 mx pattern; 0 warnings\n");
	free(r.out);
	CU_ASSERT_EQUAL_FATAL(run(jargv, pol, sizeof(pol) - 1, &r), 0);
	CU_ASSERT_STRING_EQUAL(r.out, "{\"valid\":true,\"mode\":\"testing\",\"max_age\":86400,\"mx\":[\"a.example\"],\"errors\":[],\"warnings\":[]}\n");
	free(r.out);
}

/* A file over 64 KiB is reported too big (exit 1); exactly 64 KiB is
 * parsed. */
static void test_too_big(void)
{
	char path[] = "/tmp/mtasts-lint-XXXXXX";
	const char *argv[] = { "mtasts", "lint", "--json", path, NULL };
	size_t n = 65537;
	char *s = malloc(n);
	int fd = mkstemp(path);
	struct run r;
	size_t hdr;

	CU_ASSERT_FATAL(fd >= 0 && s != NULL);
	hdr = (size_t)snprintf(s, n, "version: STSv1\nmode: none\nmax_age: 86400\npad: ");
	memset(s + hdr, 'x', n - hdr);
	s[65535] = '\n';
	CU_ASSERT_EQUAL(write(fd, s, 65536), 65536);
	CU_ASSERT_EQUAL_FATAL(run(argv, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 0);
	free(r.out);
	CU_ASSERT_EQUAL(write(fd, "\n", 1), 1);
	CU_ASSERT_EQUAL_FATAL(run(argv, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"code\":\"too-big\""));
	free(r.out);
	close(fd);
	unlink(path);
	free(s);
}

/* Usage and I/O errors exit 2 and print nothing on standard output. */
static void test_usage(void)
{
	static const char *cases[][6] = {
		{ "mtasts", "lint", NULL },
		{ "mtasts", "lint", "--bogus", "x", NULL },
		{ "mtasts", "lint", "a", "b", NULL },
		{ "mtasts", "lint", "--mx", NULL },
		{ "mtasts", "lint", "--txt", NULL },
		{ "mtasts", "lint", "--txt", "--tlsrpt", "v=STSv1; id=1", NULL },
		{ "mtasts", "lint", "--mx", "a", "--txt", "v=STSv1; id=1" },
		{ "mtasts", "lint", "/nonexistent/mta-sts.txt", NULL },
		{ "mtasts", "lint", "--json", "/", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run r;

		CU_ASSERT_EQUAL_FATAL(run(cases[i], NULL, 0, &r), 0);
		if (r.status != 2)
			fprintf(stderr, "\n  usage case %zu: exit %d\n", i, r.status);
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_EQUAL(r.len, 0);
		free(r.out);
	}
}

static CU_TestInfo tests[] = {
	{ "golden .ref files", test_golden },
	{ "demo policies", test_demo_policies },
	{ "human output", test_human },
	{ "standard input", test_stdin },
	{ "64 KiB cap", test_too_big },
	{ "usage errors", test_usage },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	const char *root = getenv("MTASTS_BUILD_ROOT");
	const char *data = getenv("MTASTS_TEST_DATA");

	if (root == NULL || data == NULL) {
		fprintf(stderr, "MTASTS_BUILD_ROOT and MTASTS_TEST_DATA must be set\n");
		return -1;
	}
	snprintf(mtasts, sizeof(mtasts), "%s/tools/mtasts", root);
	snprintf(lintdir, sizeof(lintdir), "%s/lint", data);
	snprintf(poldir, sizeof(poldir), "%s/policies", data);
	CUNIT_SUITE("lint golden", tests);
	return 0;
}
