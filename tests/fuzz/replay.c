/*
 * replay.c - runs a fuzz target's LLVMFuzzerTestOneInput over every file
 * of the directories (or files) named on the command line, with any
 * compiler.  This is how the corpora and crash reproducers run in
 * `meson test --suite fuzz`: a crash, sanitizer report or abort() in a
 * target fails the test.  Prints how many inputs ran.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;
	uint8_t chunk[4096];

	if (f == NULL) {
		perror(path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n > cap) {
			uint8_t *nd;

			cap = (len + n) * 2;
			nd = realloc(data, cap);
			if (nd == NULL) {
				free(data);
				fclose(f);
				return -1;
			}
			data = nd;
		}
		memcpy(data + len, chunk, n);
		len += n;
	}
	fclose(f);
	/* an exact-size copy, so ASan sees reads one past the input */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (exact == NULL) {
			free(data);
			return -1;
		}
		if (len)
			memcpy(exact, data, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long ran = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *dir;
		struct dirent *e;

		if (stat(argv[i], &st) != 0) {
			continue;	/* an absent crashes/ dir: nothing to run */
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]) != 0)
				rc = 1;
			ran++;
			continue;
		}
		dir = opendir(argv[i]);
		if (dir == NULL) {
			perror(argv[i]);
			rc = 1;
			continue;
		}
		while ((e = readdir(dir)) != NULL) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (run_file(path) != 0)
				rc = 1;
			ran++;
		}
		closedir(dir);
	}
	printf("replayed %lu inputs\n", ran);
	if (ran == 0) {
		fprintf(stderr, "no inputs found\n");
		return 1;
	}
	return rc;
}
