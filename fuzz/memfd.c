/*
 * memfd.c - one memfd per process holding the current fuzz input.
 */
#define _GNU_SOURCE		/* memfd_create */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "fuzz/memfd.h"

void
fuzz_memfd(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
	static int fd = -1;
	size_t done = 0;

	if (fd < 0 && (fd = memfd_create("stripwatch-fuzz", MFD_CLOEXEC)) < 0) {
		fprintf(stderr, "fuzz: memfd_create: %s\n", strerror(errno));
		abort();
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);

		FUZZ_CHECK(n > 0);
		done += (size_t)n;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
}
