/* test_api.c - the built module as a host sees it: dlopen(RTLD_NOW) of
 * $MTASTS_BUILD_ROOT/plugin/mtasts.so (no Exim symbol needed), the exact
 * exported symbol set (read from the ELF dynamic symbol table), version
 * and strings, decisions from config overrides (no network), TLS-RPT
 * recording, and the Exim dlfunc entry points called directly. */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../plugin/mtasts.h"
#include "cache.h"
#include "cunit_main.h"

typedef int dlfunc_fn(unsigned char **yield, int argc, unsigned char *argv[]);

static void *so;
static char so_path[1024], dir[128], conf[256], conf2[256];

/* The exported API: sorted, exact. */
static const char *const expected[] = {
	"mtasts_abi_version", "mtasts_close", "mtasts_decide",
	"mtasts_exim_event", "mtasts_exim_mode", "mtasts_exim_route",
	"mtasts_mode_str", "mtasts_open", "mtasts_policy",
	"mtasts_report_result", "mtasts_strerror", "mtasts_verdict_str",
	"mtasts_version",
};
#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

static void *sym(const char *name)
{
	void *p = dlsym(so, name);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return p;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names of the defined global/weak functions and objects in .dynsym. */
static size_t dynsyms(const char *path, const char **out, size_t max)
{
	struct stat st;
	const unsigned char *m;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	size_t n = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0)
		return 0;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return 0;
	eh = (const Elf64_Ehdr *)(const void *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64)
		return 0;
	sh = (const Elf64_Shdr *)(const void *)(m + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const Elf64_Sym *s;
		const char *str;
		size_t cnt;

		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		s = (const Elf64_Sym *)(const void *)(m + sh[i].sh_offset);
		str = (const char *)m + sh[sh[i].sh_link].sh_offset;
		cnt = sh[i].sh_size / sizeof(Elf64_Sym);
		for (size_t k = 0; k < cnt; k++) {
			int bind = ELF64_ST_BIND(s[k].st_info);
			int type = ELF64_ST_TYPE(s[k].st_info);

			if (s[k].st_shndx == SHN_UNDEF ||
			    s[k].st_shndx == SHN_ABS ||
			    (bind != STB_GLOBAL && bind != STB_WEAK) ||
			    (type != STT_FUNC && type != STT_OBJECT))
				continue;
			if (n < max)
				out[n] = str + s[k].st_name;
			n++;
		}
	}
	/* the mapping stays: out points into it (a test process) */
	return n;
}

static void t_symbols(void)
{
	const char *got[64];
	size_t n = dynsyms(so_path, got, 64);

	CU_ASSERT_EQUAL_FATAL(n, N_EXPECTED);
	qsort(got, n, sizeof(got[0]), cmp);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_STRING_EQUAL(got[i], expected[i]);
		/* and each one resolves through the dynamic linker */
		CU_ASSERT_PTR_NOT_NULL(dlsym(so, expected[i]));
	}
	/* internals stay hidden */
	CU_ASSERT_PTR_NULL(dlsym(so, "engine_policy"));
	CU_ASSERT_PTR_NULL(dlsym(so, "config_load"));
	CU_ASSERT_PTR_NULL(dlsym(so, "mt_strerror"));
}

static void t_version(void)
{
	const char *(*version)(void);
	int (*abi)(void);
	char want[32];

	*(void **)&version = sym("mtasts_version");
	*(void **)&abi = sym("mtasts_abi_version");

	snprintf(want, sizeof(want), "%d.%d.%d", MTASTS_VERSION_MAJOR,
		 MTASTS_VERSION_MINOR, MTASTS_VERSION_PATCH);
	CU_ASSERT_STRING_EQUAL(version(), want);
	CU_ASSERT_EQUAL(abi(), MTASTS_ABI_VERSION);
}

static void t_strings(void)
{
	const char *(*se)(int);
	const char *(*vs)(enum mtasts_verdict);
	const char *(*ms)(enum mtasts_mode);

	*(void **)&se = sym("mtasts_strerror");
	*(void **)&vs = sym("mtasts_verdict_str");
	*(void **)&ms = sym("mtasts_mode_str");

	for (int c = 0; c >= MTASTS_EPOLICY; c--) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(se(c));
		CU_ASSERT_STRING_NOT_EQUAL(se(c), se(-1000));
		if (c < 0)
			CU_ASSERT_STRING_NOT_EQUAL(se(c), se(c + 1));
	}
	CU_ASSERT_PTR_NOT_NULL(se(-1000));
	CU_ASSERT_PTR_NOT_NULL(se(5));
	CU_ASSERT_STRING_EQUAL(vs(MTASTS_VERDICT_NONE), "none");
	CU_ASSERT_STRING_EQUAL(vs(MTASTS_VERDICT_REQUIRE_TLS), "require-tls");
	CU_ASSERT_STRING_EQUAL(vs(MTASTS_VERDICT_REFUSE_MX), "refuse-mx");
	CU_ASSERT_STRING_EQUAL(vs(MTASTS_VERDICT_REPORT_ONLY), "report-only");
	CU_ASSERT_STRING_EQUAL(vs(MTASTS_VERDICT_DANE), "dane");
	CU_ASSERT_STRING_EQUAL(ms(MTASTS_MODE_ENFORCE), "enforce");
	CU_ASSERT_STRING_EQUAL(ms(MTASTS_MODE_TESTING), "testing");
	CU_ASSERT_STRING_EQUAL(ms(MTASTS_MODE_NONE), "none");
}

struct fns {
	int (*open)(struct mtasts **, const char *);
	void (*close)(struct mtasts *);
	int (*decide)(struct mtasts *, const char *, const char *,
		      struct mtasts_decision *);
	int (*policy)(struct mtasts *, const char *, struct mtasts_policy *,
		      char *, size_t);
	int (*report)(struct mtasts *, const char *, const char *,
		      const char *, int, const char *);
};

static void get_fns(struct fns *f)
{
	*(void **)&f->open = sym("mtasts_open");
	*(void **)&f->close = sym("mtasts_close");
	*(void **)&f->decide = sym("mtasts_decide");
	*(void **)&f->policy = sym("mtasts_policy");
	*(void **)&f->report = sym("mtasts_report_result");
}

static void t_open_errors(void)
{
	struct fns f;
	struct mtasts *h = (struct mtasts *)&f;
	int rc;

	get_fns(&f);
	rc = f.open(&h, "/nonexistent/mtasts.conf");
	CU_ASSERT(rc == MTASTS_EIO || rc == MTASTS_ECONFIG);
	CU_ASSERT_PTR_NULL(h);
	CU_ASSERT_EQUAL(f.open(NULL, conf), MTASTS_EINVAL);
	f.close(NULL);
}

static void t_decide(void)
{
	struct fns f;
	struct mtasts *h = NULL;
	struct mtasts_decision d;
	struct mtasts_policy p;
	char mx[128];

	get_fns(&f);
	CU_ASSERT_EQUAL_FATAL(f.open(&h, conf), MTASTS_OK);

	CU_ASSERT_EQUAL(f.decide(h, "example.net", "MX1.example.net.", &d),
			MTASTS_OK);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_REQUIRE_TLS);
	CU_ASSERT_EQUAL(d.mode, MTASTS_MODE_ENFORCE);
	CU_ASSERT_EQUAL(d.have_policy, 1);
	CU_ASSERT_STRING_EQUAL(d.matched, "mx1.example.net");
	CU_ASSERT_STRING_EQUAL(d.reason, "mx-match");
	CU_ASSERT_STRING_EQUAL(d.source, "override");

	CU_ASSERT_EQUAL(f.decide(h, "example.net", "a.b.example.net", &d),
			MTASTS_OK);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_REFUSE_MX);
	CU_ASSERT_STRING_EQUAL(d.matched, "");
	CU_ASSERT_EQUAL(f.decide(h, "example.net", "mx9.w.example.net", &d),
			MTASTS_OK);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_REQUIRE_TLS);
	CU_ASSERT_STRING_EQUAL(d.matched, "*.w.example.net");

	CU_ASSERT_EQUAL(f.decide(h, "t.example", "mx.t.example", &d), MTASTS_OK);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_REPORT_ONLY);
	CU_ASSERT_EQUAL(d.mode, MTASTS_MODE_TESTING);

	CU_ASSERT_EQUAL(f.decide(h, "n.example", "mx.n.example", &d), MTASTS_OK);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_NONE);

	CU_ASSERT_EQUAL(f.decide(h, "example.net", "bad host", &d),
			MTASTS_EPARSE);
	CU_ASSERT_EQUAL(f.decide(h, NULL, "mx", &d), MTASTS_EINVAL);

	/* the patterns, and a buffer too small for them */
	CU_ASSERT_EQUAL(f.policy(h, "example.net", &p, mx, sizeof(mx)),
			MTASTS_OK);
	CU_ASSERT_EQUAL(p.n_mx, 2);
	CU_ASSERT_EQUAL(p.mode, MTASTS_MODE_ENFORCE);
	CU_ASSERT_EQUAL(memcmp(mx, "mx1.example.net\0*.w.example.net\0\0", 33), 0);
	CU_ASSERT_EQUAL(f.policy(h, "example.net", &p, mx, 10), MTASTS_ETOOBIG);
	CU_ASSERT_EQUAL(f.policy(h, "example.net", &p, NULL, 0), MTASTS_OK);
	f.close(h);
}

static void t_report(void)
{
	struct fns f;
	struct mtasts *h = NULL;
	char path[256], line[1024], cmd[300];
	FILE *p;
	int lines = 0, fail = 0, ok = 0;

	get_fns(&f);
	CU_ASSERT_EQUAL_FATAL(f.open(&h, conf), MTASTS_OK);
	CU_ASSERT_EQUAL(f.report(h, "example.net", "mx1.example.net",
				 "192.0.2.1", 1, NULL), MTASTS_OK);
	CU_ASSERT_EQUAL(f.report(h, "example.net", "mx2.example.net",
				 "192.0.2.2", 0, "certificate-expired"),
			MTASTS_OK);
	CU_ASSERT_EQUAL(f.report(h, "example.net", "mx2.example.net", NULL, 0,
				 "no-such-result"), MTASTS_EINVAL);
	CU_ASSERT_EQUAL(f.report(h, "example.net", "mx2.example.net", NULL, 0,
				 NULL), MTASTS_EINVAL);
	f.close(h);

	snprintf(path, sizeof(path), "%s/reports", dir);
	struct stat st;
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
	snprintf(cmd, sizeof(cmd), "cat %s/*", path);
	p = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	while (fgets(line, sizeof(line), p)) {
		lines++;
		if (strstr(line, "\texample.net\tsts\toverride\tsuccess\t"))
			ok++;
		if (strstr(line, "\tcertificate-expired\t") &&
		    strstr(line, "\tmx2.example.net\t192.0.2.2"))
			fail++;
	}
	pclose(p);
	CU_ASSERT_EQUAL(lines, 2);
	CU_ASSERT_EQUAL(ok, 1);
	CU_ASSERT_EQUAL(fail, 1);
}

static int call(const char *fn, unsigned char **y, int argc, const char **argv)
{
	dlfunc_fn *f;

	*(void **)&f = sym(fn);
	return f(y, argc, (unsigned char **)argv);
}

static void t_exim(void)
{
	unsigned char *y = NULL;
	const char *a_enf[] = { conf, "Example.NET" };
	const char *a_tst[] = { conf, "t.example" };
	const char *a_bad[] = { "/nonexistent/mtasts.conf", "example.net" };
	const char *ev[] = { conf, "smtp:ehlo", "example.net",
			     "mx1.example.net", "192.0.2.1", "tls:1", "250 ok" };

	/* enforce: a host list keeping only the policy's MX names */
	CU_ASSERT_EQUAL(call("mtasts_exim_route", &y, 2, a_enf), 0);
	CU_ASSERT_STRING_EQUAL((char *)y,
		"<; !^(?i)mx1\\.example\\.net$ ; "
		"!^(?i)[^.]+\\.w\\.example\\.net$ ; *");
	CU_ASSERT_EQUAL(call("mtasts_exim_mode", &y, 2, a_enf), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "enforce");
	/* testing and no policy: opportunistic, "" */
	CU_ASSERT_EQUAL(call("mtasts_exim_route", &y, 2, a_tst), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "");
	CU_ASSERT_EQUAL(call("mtasts_exim_mode", &y, 2, a_tst), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "testing");
	/* a config that cannot be read: ERROR (Exim defers the address and
	 * panic-logs: the administrator must act), never "" */
	CU_ASSERT_EQUAL(call("mtasts_exim_route", &y, 2, a_bad), 3);
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)y, "MTA-STS"));
	CU_ASSERT_EQUAL(call("mtasts_exim_mode", &y, 2, a_bad), 3);
	/* wrong use */
	CU_ASSERT_EQUAL(call("mtasts_exim_route", &y, 1, a_enf), 3);
	/* events: always OK with "", even when broken */
	CU_ASSERT_EQUAL(call("mtasts_exim_event", &y, 7, ev), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "");
	CU_ASSERT_EQUAL(call("mtasts_exim_event", &y, 3, ev), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "");
	ev[0] = "/nonexistent/mtasts.conf";
	CU_ASSERT_EQUAL(call("mtasts_exim_event", &y, 7, ev), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "");
}


/* An Exim yield is a closed vocabulary: "", a mode word, an "MTA-STS: "
 * message, or a host list built by the module from validated patterns. */
static int yield_closed(const unsigned char *y)
{
	const char *s = (const char *)y;

	if (s == NULL)
		return 0;
	return strcmp(s, "") == 0 || strcmp(s, "none") == 0 ||
	       strcmp(s, "testing") == 0 || strcmp(s, "enforce") == 0 ||
	       strncmp(s, "MTA-STS: ", 9) == 0;
}

/* Every entry point with NULL, empty, huge, non-UTF-8 and list- or
 * regex-syntax arguments: no crash, an Exim code of the table, a yield of
 * the closed vocabulary. */
static void t_exim_hostile_args(void)
{
	static const char *const fns[] = { "mtasts_exim_route",
					   "mtasts_exim_mode",
					   "mtasts_exim_event" };
	static char huge[100 * 1024 + 1];
	const char *values[] = {
		NULL, "", huge, "\xff\xfe.example", "ex\xc3" "ample.net",
		"a:b.example", "<; *", "!example.net", "+local_domains",
		"@", "*", "*.example.net", "a;b.example", "$domain",
		"example.net\n*", "^.*$", "example.net\\", "..",
		"mx1.example.net.\n", "\xe2\x80\xae.example",
	};
	size_t nv = sizeof(values) / sizeof(values[0]);
	unsigned char *y;
	dlfunc_fn *f;

	memset(huge, 'a', sizeof(huge) - 1);
	for (size_t i = 0; i < sizeof(huge) - 1; i += 64)
		huge[i] = '.';
	huge[sizeof(huge) - 1] = '\0';
	for (size_t k = 0; k < 3; k++) {
		int argc = k == 2 ? 7 : 2;

		*(void **)&f = sym(fns[k]);
		/* no argv at all, and no yield pointer */
		y = NULL;
		CU_ASSERT(f(&y, argc, NULL) != 0 || k == 2);
		CU_ASSERT(yield_closed(y));
		CU_ASSERT(f(NULL, argc, NULL) >= 0);
		for (size_t slot = 0; slot < (size_t)argc; slot++) {
			for (size_t v = 0; v < nv; v++) {
				const char *argv[7] = {
					conf, "smtp:ehlo", "example.net",
					"mx1.example.net", "192.0.2.1",
					"tls:0", "250 STARTTLS"
				};
				int rc;

				if (k < 2)
					argv[1] = "example.net";
				/* the config path is an administrator's
				 * string: only NULL/empty/huge there */
				if (slot == 0 && v > 2)
					continue;
				argv[slot] = values[v];
				y = NULL;
				rc = f(&y, argc, (unsigned char **)argv);
				CU_ASSERT(rc == 0 || rc == 2 || rc == 3);
				if (!yield_closed(y) ||
				    !(rc == 0 || rc == 2 || rc == 3))
					fprintf(stderr, "\n  %s slot %zu value"
						" %zu: rc %d yield '%.40s'\n",
						fns[k], slot, v, rc,
						y ? (char *)y : "(null)");
				CU_ASSERT(yield_closed(y));
				if (k == 2)
					CU_ASSERT(rc == 0 && y && *y == '\0');
			}
		}
	}
}

static void put_at(const char *domain, int mode, const char *id,
		   const char *blob, uint32_t len, uint32_t n,
		   int64_t checked_ago)
{
	struct cache *c = NULL;
	struct cache_entry ce;
	char path[256];
	int64_t now = (int64_t)time(NULL);

	snprintf(path, sizeof(path), "%s/cache", dir);
	CU_ASSERT_EQUAL_FATAL(cache_open(&c, path, 0), 0);
	memset(&ce, 0, sizeof(ce));
	snprintf(ce.domain, sizeof(ce.domain), "%s", domain);
	ce.kind = CACHE_POLICY;
	ce.mode = (uint8_t)mode;
	ce.max_age = 86400;
	ce.fetched = now;
	ce.expires = now + 86400;
	ce.txt_checked = now - checked_ago;
	snprintf(ce.id, sizeof(ce.id), "%s", id);
	ce.n_mx = n;
	ce.mx_len = len;
	ce.mx = (char *)blob;
	CU_ASSERT_EQUAL(cache_put(c, &ce), 0);
	cache_close(c);
}

/* fail_count of the cached entry, or -1. */
static int entry_fails(const char *domain)
{
	struct cache *c = NULL;
	struct cache_entry ce;
	char path[256];
	int n = -1;

	snprintf(path, sizeof(path), "%s/cache", dir);
	if (cache_open(&c, path, 0) != 0)
		return -1;
	memset(&ce, 0, sizeof(ce));
	if (cache_get(c, domain, &ce) == 0)
		n = (int)ce.fail_count;
	cache_entry_clear(&ce);
	cache_close(c);
	return n;
}

static void put(const char *domain, int mode, const char *id,
		const char *blob, uint32_t len, uint32_t n)
{
	put_at(domain, mode, id, blob, len, n, 0);
}

/* RFC 8461 §5.1: the no-valid-MX router asks mtasts_exim_mode before it
 * defers the address; for an enforced policy whose id was confirmed over a
 * minute ago that call re-checks the TXT id (the DNS is unreachable here:
 * the policy is kept and the failure backs off), while routing itself
 * keeps using the cache. */
static void t_exim_mode_recheck(void)
{
	struct fns f;
	struct mtasts *h = NULL;
	struct mtasts_policy p;
	const char *a[] = { conf, "rc.example" };
	unsigned char *y = NULL;

	get_fns(&f);
	put_at("rc.example", 2, "rcid", "mx.rc.example", 14, 1, 120);
	CU_ASSERT_EQUAL_FATAL(f.open(&h, conf), MTASTS_OK);
	CU_ASSERT_EQUAL(call("mtasts_exim_route", &y, 2, a), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "<; !^(?i)mx\\.rc\\.example$ ; *");
	CU_ASSERT_EQUAL(f.policy(h, "rc.example", &p, NULL, 0), MTASTS_OK);
	CU_ASSERT_STRING_EQUAL(p.reason, "cached");
	CU_ASSERT_EQUAL(call("mtasts_exim_mode", &y, 2, a), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "enforce");
	/* the re-check happened: it failed, so the entry is in back-off,
	 * and the policy is still there */
	CU_ASSERT_EQUAL(entry_fails("rc.example"), 1);
	CU_ASSERT_EQUAL(f.policy(h, "rc.example", &p, NULL, 0), MTASTS_OK);
	CU_ASSERT_EQUAL(p.mode, MTASTS_MODE_ENFORCE);
	/* a second deferral inside the back-off does not ask again */
	CU_ASSERT_EQUAL(call("mtasts_exim_mode", &y, 2, a), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "enforce");
	CU_ASSERT_EQUAL(entry_fails("rc.example"), 1);
	/* routing alone never re-checks inside txt_check_interval */
	put_at("rc.example", 2, "rcid", "mx.rc.example", 14, 1, 120);
	CU_ASSERT_EQUAL(call("mtasts_exim_route", &y, 2, a), 0);
	CU_ASSERT_EQUAL(entry_fails("rc.example"), 0);
	f.close(h);
}

/* A cached enforce policy whose patterns are not host names (a hostile or
 * corrupt entry): the route defers, it never turns them into list syntax,
 * and never answers "" (which would send in clear). */
static void t_exim_hostile_patterns(void)
{
	static const char *const bad[] = {
		"mx.evil.example;*", "*", "mx.evil.example\n*",
		"!mx.evil.example", "^.*$", "mx.evil.example:*",
		"+relay", "@", "*.*.evil.example", "mx .evil.example",
		"mx.evil.example$", "(?i).*", "mx\\.evil.example",
		"mx..evil.example", "*.", "\xc3\xa9.evil.example",
	};
	const char *a[] = { conf, "evil.example" };
	unsigned char *y = NULL;
	char blob[600];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* a good pattern first, the bad one second */
		int n = snprintf(blob, sizeof(blob), "mx1.evil.example%c%s%c",
				 0, bad[i], 0);

		put("evil.example", 2, "hostile1", blob, (uint32_t)n, 2);
		y = NULL;
		CU_ASSERT_EQUAL(call("mtasts_exim_route", &y, 2, a), 2);
		CU_ASSERT(yield_closed(y));
		CU_ASSERT_EQUAL(call("mtasts_exim_mode", &y, 2, a), 0);
		CU_ASSERT_STRING_EQUAL((char *)y, "enforce");
	}
}

/* s with every dot escaped for a regex, written at w; returns the end. */
static char *escaped(char *w, const char *s)
{
	for (; *s; s++) {
		if (*s == '.')
			*w++ = '\\';
		*w++ = *s;
	}
	*w = '\0';
	return w;
}

/* The longest id (32), the longest names (253 octets, 63-octet labels),
 * upper case and trailing dots on the MX against stored patterns. */
static void t_max_lengths(void)
{
	struct fns f;
	struct mtasts *h = NULL;
	struct mtasts_decision d;
	struct mtasts_policy p;
	char pat[254], wild[254], host[260], blob[600], *want, *w;
	const char *a[] = { conf, "long.example" };
	unsigned char *y = NULL;
	size_t n;

	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	for (size_t i = 0; i < 253; i++)
		pat[i] = (char)('a' + i / 64);
	pat[63] = pat[127] = pat[191] = '.';
	pat[1] = '9';
	pat[65] = '-';
	pat[253] = '\0';
	CU_ASSERT_EQUAL_FATAL(strlen(pat), 253);
	wild[0] = '*';
	wild[1] = '.';
	memcpy(wild + 2, pat + 128, strlen(pat + 128) + 1);
	n = (size_t)snprintf(blob, sizeof(blob), "%s%c%s%c", pat, 0, wild, 0);
	put("long.example", 2, "0123456789abcdefABCDEF0123456789", blob,
	    (uint32_t)n, 2);

	get_fns(&f);
	CU_ASSERT_EQUAL_FATAL(f.open(&h, conf), MTASTS_OK);
	/* the MX upper-cased with a trailing dot: 254 octets as given */
	for (size_t i = 0; i <= strlen(pat); i++)
		host[i] = (char)(pat[i] >= 'a' && pat[i] <= 'z' ?
				 pat[i] - 'a' + 'A' : pat[i]);
	host[253] = '.';
	host[254] = '\0';
	CU_ASSERT_EQUAL(f.decide(h, "LONG.example.", host, &d), MTASTS_OK);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_REQUIRE_TLS);
	CU_ASSERT_STRING_EQUAL(d.matched, pat);
	CU_ASSERT_STRING_EQUAL(d.policy_id, "0123456789abcdefABCDEF0123456789");
	/* the wildcard: one label in front of the last two labels */
	snprintf(host, sizeof(host), "X.%s.", pat + 128);
	CU_ASSERT_EQUAL(f.decide(h, "long.example", host, &d), MTASTS_OK);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_REQUIRE_TLS);
	CU_ASSERT_STRING_EQUAL(d.matched, wild);
	/* two labels in front: refused */
	snprintf(host, sizeof(host), "x.y.%s", pat + 128);
	CU_ASSERT_EQUAL(f.decide(h, "long.example", host, &d), MTASTS_OK);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_REFUSE_MX);
	/* a 254-octet name without the trailing dot is no host name */
	snprintf(host, sizeof(host), "%s.", pat);
	host[253] = 'x';
	CU_ASSERT_EQUAL(f.decide(h, "long.example", host, &d), MTASTS_EPARSE);
	CU_ASSERT_EQUAL(f.policy(h, "long.example", &p, blob, sizeof(blob)),
			MTASTS_OK);
	CU_ASSERT_EQUAL(p.n_mx, 2);
	f.close(h);

	/* and the host list for Exim, dots escaped */
	want = malloc(2048);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	w = want;
	w += snprintf(w, 16, "<; !^(?i)");
	w = escaped(w, pat);
	w += snprintf(w, 32, "$ ; !^(?i)[^.]+\\.");
	w = escaped(w, pat + 128);
	snprintf(w, 16, "$ ; *");
	CU_ASSERT_EQUAL(call("mtasts_exim_route", &y, 2, a), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, want);
	free(want);
}

/* A handle opened before fork() decides in the child, from the cache the
 * parent filled, and the child's own close leaves the parent's handle
 * working. */
static void t_fork(void)
{
	struct fns f;
	struct mtasts *h = NULL;
	struct mtasts_decision d;
	int status = -1;
	pid_t pid;

	get_fns(&f);
	put("fork.example", 2, "forkid", "mx.fork.example", 16, 1);
	CU_ASSERT_EQUAL_FATAL(f.open(&h, conf), MTASTS_OK);
	CU_ASSERT_EQUAL(f.decide(h, "fork.example", "mx.fork.example", &d),
			MTASTS_OK);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_REQUIRE_TLS);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int bad = 0;

		for (int i = 0; i < 3; i++) {
			if (f.decide(h, "fork.example", "mx.fork.example",
				     &d) != MTASTS_OK ||
			    d.verdict != MTASTS_VERDICT_REQUIRE_TLS ||
			    strcmp(d.source, "cache") != 0)
				bad |= 1;
			if (f.decide(h, "fork.example", "other.example",
				     &d) != MTASTS_OK ||
			    d.verdict != MTASTS_VERDICT_REFUSE_MX)
				bad |= 2;
			if (f.decide(h, "example.net", "mx1.example.net",
				     &d) != MTASTS_OK ||
			    d.verdict != MTASTS_VERDICT_REQUIRE_TLS)
				bad |= 4;
		}
		f.close(h);
		_exit(bad);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
	CU_ASSERT_EQUAL(f.decide(h, "fork.example", "other.example", &d),
			MTASTS_OK);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_REFUSE_MX);
	f.close(h);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static long rss_kb(void)
{
	FILE *fp = fopen("/proc/self/statm", "r");
	long pages = 0, resident = 0;

	if (fp == NULL)
		return -1;
	if (fscanf(fp, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(fp);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* 10,000 open/decide/close cycles, and the Exim adapter switching between
 * two configuration paths: no fd and no memory left behind (the RSS check
 * is skipped under ASan, whose quarantine holds freed memory; its leak
 * checker covers that build). */
static void t_many_opens(void)
{
	struct fns f;
	struct mtasts_decision d;
	const char *a1[] = { conf, "fork.example" };
	const char *a2[] = { conf2, "n.example" };
	unsigned char *y;
	int fds0, fds1, iters = 10000, bad = 0;
	long rss0, rss1;

	if (getenv("MTASTS_TEST_SHORT"))
		iters = 300;
	get_fns(&f);
	put("fork.example", 2, "forkid", "mx.fork.example", 16, 1);
	for (int warm = 0; warm < 2; warm++) {
		fds0 = count_fds();
		rss0 = rss_kb();
		for (int i = 0; i < (warm ? iters : 200); i++) {
			struct mtasts *h = NULL;

			if (f.open(&h, conf) != MTASTS_OK) {
				bad++;
				continue;
			}
			if (f.decide(h, "fork.example", "mx.fork.example",
				     &d) != MTASTS_OK ||
			    d.verdict != MTASTS_VERDICT_REQUIRE_TLS)
				bad++;
			f.close(h);
			if (i % 10 == 0) {
				/* the adapter reopens on a path change */
				y = NULL;
				if (call("mtasts_exim_route", &y, 2, a1) != 0 ||
				    y == NULL || y[0] != '<')
					bad++;
				if (call("mtasts_exim_mode", &y, 2, a2) != 0)
					bad++;
			}
		}
	}
	fds1 = count_fds();
	rss1 = rss_kb();
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(fds0 > 0);
	/* the adapter's own handle is open in both counts */
	CU_ASSERT_EQUAL(fds1, fds0);
#ifndef UNDER_ASAN
	/* Under valgrind (run-all.sh sets MTASTS_TEST_VALGRIND) the RSS says
	 * nothing: freed blocks wait in valgrind's 20 MB quarantine and its
	 * allocator fragments; there its leak check (definite leaks are
	 * errors) is the memory assertion of this loop. */
	if (getenv("MTASTS_TEST_VALGRIND") == NULL) {
		if (rss1 - rss0 >= 1024)
			fprintf(stderr, "\n  rss %ld -> %ld kB\n", rss0, rss1);
		CU_ASSERT(rss1 - rss0 < 1024);
	}
#else
	(void)rss0;
	(void)rss1;
#endif
}

/* The TLS-RPT event runs inside a transport: it reads the cache only and
 * never waits on the DNS or a policy fetch, even when the cached policy's
 * id is due for a re-check (the DNS here is unreachable: a lookup would
 * show as a failure count on the entry). */
static void t_exim_event_no_network(void)
{
	const char *ev[] = { conf, "smtp:ehlo", "ev.example",
			     "mx.ev.example", "192.0.2.9", "tls:0", "250 ok" };
	unsigned char *y = NULL;

	put_at("ev.example", 2, "evid", "mx.ev.example", 14, 1, 7200);
	CU_ASSERT_EQUAL(call("mtasts_exim_event", &y, 7, ev), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "");
	CU_ASSERT_EQUAL(entry_fails("ev.example"), 0);
}

/* A host that forgets to check the status still fails closed: when the
 * answer is MTASTS_EPOLICY (here: the cache is a symlink, refused, and the
 * DNS is unreachable), the decision says refuse-mx and the policy says
 * enforce with no pattern, never "none". */
/* RFC 8461 §3.4: an address literal (user@[192.0.2.1]) has no policy: the
 * API answers none (not MTASTS_EPARSE with a fail-closed answer), the Exim
 * route is opportunistic, the mode is none - so a host that asks for every
 * recipient domain delivers such mail instead of deferring it for ever. */
static void t_address_literal(void)
{
	struct fns f;
	struct mtasts *h = NULL;
	struct mtasts_decision d;
	struct mtasts_policy p;
	unsigned char *y = NULL;
	const char *a4[] = { conf, "[192.0.2.1]" };
	const char *a6[] = { conf, "[IPv6:2001:db8::1]" };
	char mx[64];

	get_fns(&f);
	CU_ASSERT_EQUAL_FATAL(f.open(&h, conf), MTASTS_OK);
	CU_ASSERT_EQUAL(f.decide(h, "[192.0.2.1]", "[192.0.2.1]", &d),
			MTASTS_OK);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_NONE);
	CU_ASSERT_EQUAL(d.have_policy, 0);
	CU_ASSERT_STRING_EQUAL(d.reason, "address-literal");
	CU_ASSERT_EQUAL(f.decide(h, "[IPv6:2001:db8::1]", "[IPv6:2001:db8::1]",
				 &d), MTASTS_OK);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_NONE);
	CU_ASSERT_EQUAL(f.policy(h, "[192.0.2.1]", &p, mx, sizeof(mx)),
			MTASTS_OK);
	CU_ASSERT_EQUAL(p.have_policy, 0);
	CU_ASSERT_EQUAL(p.mode, MTASTS_MODE_NONE);
	CU_ASSERT_STRING_EQUAL(p.reason, "address-literal");
	f.close(h);
	CU_ASSERT_EQUAL(call("mtasts_exim_route", &y, 2, a4), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "");
	CU_ASSERT_EQUAL(call("mtasts_exim_mode", &y, 2, a4), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "none");
	CU_ASSERT_EQUAL(call("mtasts_exim_route", &y, 2, a6), 0);
	CU_ASSERT_STRING_EQUAL((char *)y, "");
}

/* A configuration error: the text Exim puts in its panic log names the
 * file and the line. */
static void t_exim_config_error(void)
{
	char typo[300];
	const char *a[] = { typo, "example.net" };
	unsigned char *y = NULL;
	FILE *fp;

	snprintf(typo, sizeof(typo), "%s/typo.conf", dir);
	fp = fopen(typo, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fprintf(fp, "# a comment\nlog_level = info\ncahce_path = /x\n");
	fclose(fp);
	CU_ASSERT_EQUAL(call("mtasts_exim_route", &y, 2, a), 3);
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)y, "typo.conf:3"));
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)y, "cahce_path"));
}

static void t_error_fills_closed(void)
{
	struct fns f;
	struct mtasts *h = NULL;
	struct mtasts_decision d;
	struct mtasts_policy p;
	char c3[256], link[256], mx[64];
	FILE *fp;

	get_fns(&f);
	snprintf(link, sizeof(link), "%s/cache-link", dir);
	CU_ASSERT_EQUAL_FATAL(symlink("/nonexistent/mtasts-cache", link), 0);
	snprintf(c3, sizeof(c3), "%s/mtasts3.conf", dir);
	fp = fopen(c3, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fprintf(fp, "cache_path = %s\nresolver = %s/resolv.conf\n"
		    "dns_timeout = 1s\n", link, dir);
	fclose(fp);
	CU_ASSERT_EQUAL_FATAL(f.open(&h, c3), MTASTS_OK);
	memset(&d, 0, sizeof(d));
	CU_ASSERT_EQUAL(f.decide(h, "closed.example", "mx.closed.example", &d),
			MTASTS_EPOLICY);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_REFUSE_MX);
	CU_ASSERT_EQUAL(d.mode, MTASTS_MODE_ENFORCE);
	CU_ASSERT_STRING_EQUAL(d.reason, "cache-unavailable");
	memset(&p, 0, sizeof(p));
	memset(mx, 'x', sizeof(mx));
	CU_ASSERT_EQUAL(f.policy(h, "closed.example", &p, mx, sizeof(mx)),
			MTASTS_EPOLICY);
	CU_ASSERT_EQUAL(p.have_policy, 1);
	CU_ASSERT_EQUAL(p.mode, MTASTS_MODE_ENFORCE);
	CU_ASSERT_EQUAL(p.n_mx, 0);
	CU_ASSERT_EQUAL(mx[0], '\0');
	/* an invalid MX name: refused too */
	CU_ASSERT_EQUAL(f.decide(h, "closed.example", "bad host", &d),
			MTASTS_EPARSE);
	CU_ASSERT_EQUAL(d.verdict, MTASTS_VERDICT_REFUSE_MX);
	f.close(h);
	unlink(link);
}

static CU_TestInfo tests[] = {
	{ "exported symbols", t_symbols },
	{ "version", t_version },
	{ "strings", t_strings },
	{ "open errors", t_open_errors },
	{ "decide from overrides", t_decide },
	{ "report results", t_report },
	{ "exim dlfunc entry points", t_exim },
	{ "exim: hostile arguments", t_exim_hostile_args },
	{ "exim: mode re-checks the id before a deferral", t_exim_mode_recheck },
	{ "exim: hostile cached patterns", t_exim_hostile_patterns },
	{ "exim: events never use the network", t_exim_event_no_network },
	{ "maximum lengths, case, trailing dots", t_max_lengths },
	{ "decide after fork", t_fork },
	{ "errors fill the answer fail-closed", t_error_fills_closed },
	{ "address literals have no policy", t_address_literal },
	{ "exim: config errors name file and line", t_exim_config_error },
	{ "10,000 opens: no fd or memory growth", t_many_opens },
	CU_TEST_INFO_NULL,
};

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void cleanup(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int register_tests(void)
{
	const char *root = getenv("MTASTS_BUILD_ROOT");
	FILE *f;

	if (root == NULL) {
		fprintf(stderr, "test_api: MTASTS_BUILD_ROOT not set\n");
		return -1;
	}
	snprintf(so_path, sizeof(so_path), "%s/plugin/mtasts.so", root);
	if (getenv("MTASTS_SO"))
		snprintf(so_path, sizeof(so_path), "%s", getenv("MTASTS_SO"));
	so = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
	if (so == NULL) {
		fprintf(stderr, "test_api: %s\n", dlerror());
		return -1;
	}
	snprintf(dir, sizeof(dir), "/tmp/mtasts-api-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	atexit(cleanup);
	snprintf(conf, sizeof(conf), "%s/mtasts.conf", dir);
	f = fopen(conf, "w");
	if (f == NULL)
		return -1;
	/* No network: overrides answer; the resolver points at an address
	 * where nothing listens. */
	fprintf(f, "cache_path = %s/cache\n"
		   "report_dir = %s/reports\n"
		   "resolver = %s/resolv.conf\n"
		   "dns_timeout = 1s\n"
		   "fetch_timeout = 1s\n"
		   "override = example.net enforce mx1.example.net *.w.example.net\n"
		   "override = t.example testing\n"
		   "override = n.example none\n", dir, dir, dir);
	fclose(f);
	/* the same settings under a second name */
	snprintf(conf2, sizeof(conf2), "%s/mtasts2.conf", dir);
	f = fopen(conf2, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "cache_path = %s/cache\n"
		   "resolver = %s/resolv.conf\n"
		   "dns_timeout = 1s\n"
		   "override = n.example none\n", dir, dir);
	fclose(f);
	{
		char rp[256];

		snprintf(rp, sizeof(rp), "%s/resolv.conf", dir);
		f = fopen(rp, "w");
		if (f == NULL)
			return -1;
		fputs("nameserver 127.0.0.254\n", f);
		fclose(f);
	}
	CUNIT_SUITE("api", tests);
	return 0;
}
