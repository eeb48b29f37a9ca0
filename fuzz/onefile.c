/*
 * onefile.c - replays saved fuzz inputs through LLVMFuzzerTestOneInput()
 * without libFuzzer, so every target also builds with gcc and runs under
 * `make fuzz-replay` (and whatever SANITIZER= the build uses).
 *
 * Usage: replay_<target> FILE|DIR...  Directories are walked recursively in
 * name order; names starting with '.' are skipped.  Each input is read into
 * a malloc of exactly its size, as libFuzzer does, so ASan reports a read one
 * byte past the end.  Exits 0 after printing "N inputs replayed", 1 if an
 * input could not be read; a crashing input aborts the process.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"

static unsigned long replayed;

/* Reads all of path into a fresh malloc of exactly *len bytes. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f;
	struct stat st;
	uint8_t *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
		fclose(f);
		return NULL;
	}
	n = (size_t)st.st_size;
	buf = malloc(n);
	if (buf == NULL && n == 0)
		buf = malloc(1);	/* the empty input still needs a pointer */
	if (buf == NULL || fread(buf, 1, n, f) != n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

static int
replay_file(const char *path)
{
	uint8_t *buf;
	size_t len = 0;

	if ((buf = slurp(path, &len)) == NULL) {
		fprintf(stderr, "onefile: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (getenv("FUZZ_REPLAY_VERBOSE") != NULL)
		fprintf(stderr, "onefile: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	replayed++;
	return 0;
}

static int
skip_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Replays path, a file or a directory; returns the number of read errors. */
static int
replay_path(const char *path)
{
	struct stat st;
	struct dirent **ents;
	int n, i, bad = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "onefile: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path) == 0 ? 0 : 1;
	if ((n = scandir(path, &ents, skip_hidden, alphasort)) < 0) {
		fprintf(stderr, "onefile: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		size_t need = strlen(path) + strlen(ents[i]->d_name) + 2;
		char *sub = malloc(need);

		if (sub == NULL) {
			fprintf(stderr, "onefile: out of memory\n");
			bad++;
		} else {
			snprintf(sub, need, "%s/%s", path, ents[i]->d_name);
			bad += replay_path(sub);
			free(sub);
		}
		free(ents[i]);
	}
	free(ents);
	return bad;
}

int
main(int argc, char **argv)
{
	int i, bad = 0;

	for (i = 1; i < argc; i++)
		bad += replay_path(argv[i]);
	printf("%lu inputs replayed\n", replayed);
	return bad > 0 ? 1 : 0;
}
