/*
 * test_conffile.c - the shipped configuration file (tools/mtasts.conf,
 * installed as /etc/mtasts/mtasts.conf) against the configuration parser
 * and the documentation:
 *   - as shipped (everything commented out) it loads as the defaults;
 *   - with every "#key = value" line uncommented it still loads as the
 *     defaults: each key is shown at its built-in default;
 *   - every key of docs/configuration.md's table is in it (as a setting
 *     or, for a key without a literal default, as an example line
 *     "#   key = ..."), and in docs/mtasts.conf.5; no other key is in it.
 * MTASTS_SOURCE_ROOT names the source tree.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cunit_main.h"
#include "status.h"

#define KEYS_MAX 64
#define KEY_LEN 32
/* The override slots past n_overrides are not part of the value (config.c
 * leaves them alone); none is set here. */
#define CONFIG_VALUE_SIZE offsetof(struct config, overrides)

static char src_root[1024];

static int read_file(const char *rel, char *buf, size_t n)
{
	char path[1200];
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", src_root, rel);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	len = fread(buf, 1, n - 1, f);
	buf[len] = '\0';
	fclose(f);
	return len < n - 1 ? 0 : -1;
}

/* A lower-case identifier at s: copied to key, length returned (0: none). */
static size_t ident(const char *s, char key[KEY_LEN])
{
	size_t n = 0;

	while ((islower((unsigned char)s[n]) || s[n] == '_') && n < KEY_LEN - 1)
		n++;
	memcpy(key, s, n);
	key[n] = '\0';
	return n;
}

static int have(char keys[][KEY_LEN], int n, const char *k)
{
	for (int i = 0; i < n; i++)
		if (strcmp(keys[i], k) == 0)
			return 1;
	return 0;
}

/* Keys of the conffile: "#key = v" (settings) and "#   key = v"
 * (examples).  The uncommented settings are written to out when not
 * NULL. */
static int conffile_keys(const char *text, char keys[][KEY_LEN], FILE *out)
{
	const char *l = text;
	int n = 0;

	while (*l) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char k[KEY_LEN];
		size_t kl;

		if (l[0] == '#' && (kl = ident(l + 1, k)) > 0 &&
		    strncmp(l + 1 + kl, " = ", 3) == 0) {
			if (out)
				fprintf(out, "%.*s\n", (int)len - 1, l + 1);
			if (!have(keys, n, k) && n < KEYS_MAX)
				snprintf(keys[n++], KEY_LEN, "%s", k);
		} else if (strncmp(l, "#   ", 4) == 0 &&
			   (kl = ident(l + 4, k)) > 0 &&
			   strncmp(l + 4 + kl, " = ", 3) == 0) {
			if (!have(keys, n, k) && n < KEYS_MAX)
				snprintf(keys[n++], KEY_LEN, "%s", k);
		}
		l += len + (nl != NULL);
	}
	return n;
}

/* Keys of docs/configuration.md's table: lines "| `key` |". */
static int doc_keys(const char *text, char keys[][KEY_LEN])
{
	const char *p = text;
	int n = 0;

	while ((p = strstr(p, "\n| `")) != NULL) {
		char k[KEY_LEN];
		size_t kl = ident(p + 4, k);

		if (kl > 0 && p[4 + kl] == '`' && n < KEYS_MAX)
			snprintf(keys[n++], KEY_LEN, "%s", k);
		p += 4;
	}
	return n;
}

static void t_shipped_is_defaults(void)
{
	struct config want, got;
	char err[512], path[1200];

	config_defaults(&want);
	snprintf(path, sizeof(path), "%s/tools/mtasts.conf", src_root);
	CU_ASSERT_EQUAL_FATAL(config_load(&got, path, err, sizeof(err)), MT_OK);
	CU_ASSERT_EQUAL(memcmp(&want, &got, CONFIG_VALUE_SIZE), 0);
}

static void t_uncommented_is_defaults(void)
{
	static char text[65536];
	char keys[KEYS_MAX][KEY_LEN];
	char tmp[] = "/tmp/mtasts-conffile-XXXXXX";
	struct config want, got;
	char err[512];
	FILE *f;
	int fd, n;

	CU_ASSERT_EQUAL_FATAL(read_file("tools/mtasts.conf", text,
					sizeof(text)), 0);
	fd = mkstemp(tmp);
	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = conffile_keys(text, keys, f);
	fclose(f);
	CU_ASSERT(n >= 15);
	config_defaults(&want);
	CU_ASSERT_EQUAL(config_load(&got, tmp, err, sizeof(err)), MT_OK);
	if (err[0])
		fprintf(stderr, "%s\n", err);
	CU_ASSERT_EQUAL(memcmp(&want, &got, CONFIG_VALUE_SIZE), 0);
	unlink(tmp);
}

static void t_every_key(void)
{
	static char conf[65536], doc[65536], man[65536];
	char ck[KEYS_MAX][KEY_LEN], dk[KEYS_MAX][KEY_LEN];
	int nc, nd;

	CU_ASSERT_EQUAL_FATAL(read_file("tools/mtasts.conf", conf,
					sizeof(conf)), 0);
	CU_ASSERT_EQUAL_FATAL(read_file("docs/configuration.md", doc,
					sizeof(doc)), 0);
	CU_ASSERT_EQUAL_FATAL(read_file("docs/mtasts.conf.5", man,
					sizeof(man)), 0);
	nc = conffile_keys(conf, ck, NULL);
	nd = doc_keys(doc, dk);
	CU_ASSERT(nd >= 15);
	for (int i = 0; i < nd; i++) {
		char bi[2 * KEY_LEN];

		if (!have(ck, nc, dk[i])) {
			fprintf(stderr, "key %s not in tools/mtasts.conf\n",
				dk[i]);
			CU_FAIL("documented key missing from mtasts.conf");
		}
		snprintf(bi, sizeof(bi), ".BI %.31s ", dk[i]);
		if (strstr(man, bi) == NULL) {
			fprintf(stderr, "key %s not in docs/mtasts.conf.5\n",
				dk[i]);
			CU_FAIL("documented key missing from mtasts.conf.5");
		}
	}
	for (int i = 0; i < nc; i++)
		if (!have(dk, nd, ck[i])) {
			fprintf(stderr, "mtasts.conf key %s is not documented\n",
				ck[i]);
			CU_FAIL("undocumented key in mtasts.conf");
		}
}

static CU_TestInfo tests[] = {
	{ "shipped file loads as the defaults", t_shipped_is_defaults },
	{ "every setting shown at its default", t_uncommented_is_defaults },
	{ "every documented key, and no other", t_every_key },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	const char *root = getenv("MTASTS_SOURCE_ROOT");

	if (root == NULL)
		return -1;
	snprintf(src_root, sizeof(src_root), "%s", root);
	CUNIT_SUITE("conffile", tests);
	return 0;
}
