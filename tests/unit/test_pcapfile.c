/*
 * test_pcapfile.c - the classic pcap reader on files large enough to move
 * between its two buffers many times: every record's bytes, the promise
 * that a record stays put (PCAPFILE_KEEP), short reads from a pipe,
 * cut files, the snapshot cut, and the files it leaves to libpcap.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture/pcapfile.h"
#include "check.h"

#define NRECS	400

static uint8_t *file;
static size_t file_len;
static uint32_t rec_len[NRECS];

/* Sizes that cross buffer ends at every kind of place, largest included. */
static uint32_t
size_of(int i)
{
	static const uint32_t sizes[] = { 60, 1514, 262144, 7, 65535, 0,
	    262143, 40000, 1 };

	return sizes[(i * 5 + i / 9) % 9];
}

static uint8_t
byte_of(int i, uint32_t j)
{
	return (uint8_t)(i * 31 + j * 7 + (j >> 8));
}

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A little-endian µs file of n records, snapshot snap. */
static void
build(int n, uint32_t snap)
{
	size_t cap = 24;
	int i;

	for (i = 0; i < n; i++)
		cap += 16 + size_of(i);
	free(file);
	file = malloc(cap);
	put32(file, 0xa1b2c3d4);
	put32(file + 4, 0x00040002);	/* 2.4 */
	put32(file + 8, 0);
	put32(file + 12, 0);
	put32(file + 16, snap);
	put32(file + 20, 1);
	file_len = 24;
	for (i = 0; i < n; i++) {
		uint8_t *h = file + file_len;
		uint32_t j, len = size_of(i);

		rec_len[i] = len;
		put32(h, 1700000000 + (uint32_t)i);
		put32(h + 4, (uint32_t)i * 1000);
		put32(h + 8, len);
		put32(h + 12, len + 4);
		for (j = 0; j < len; j++)
			h[16 + j] = byte_of(i, j);
		file_len += 16 + len;
	}
}

/* A pipe fed with file[0, len) in pieces of chunk bytes by a child. */
static int
feed(size_t len, size_t chunk, pid_t *pid)
{
	int fds[2];

	if (pipe(fds) != 0)
		return -1;
	if ((*pid = fork()) == 0) {
		size_t off = 0;

		close(fds[0]);
		while (off < len) {
			size_t n = len - off < chunk ? len - off : chunk;
			ssize_t w = write(fds[1], file + off, n);

			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	return fds[0];
}

static int
data_ok(const uint8_t *d, uint32_t caplen, int i)
{
	uint32_t j;

	for (j = 0; j < caplen; j++)
		if (d[j] != byte_of(i, j))
			return 0;
	return 1;
}

/*
 * Reads n records from fd and checks each; after each call, every earlier
 * record PCAPFILE_KEEP promises is checked again (it must not have moved),
 * the two before it always among them.
 */
static void
read_all(int fd, int n, uint32_t snap, int want_end)
{
	static struct pcapfile_rec seen[NRECS];
	struct pcapfile *pf = pcapfile_open(fd);
	struct pcapfile_rec r;
	char err[128];
	int i, j, kept;

	CHECK(pf != NULL);
	for (i = 0; i < n; i++) {
		uint32_t cap = rec_len[i] < snap ? rec_len[i] : snap;
		uint64_t after = 0;

		CHECK(pcapfile_next(pf, &r, err, sizeof(err)) == PCAPFILE_REC);
		CHECK_EQ_U(r.ts_us, (1700000000ULL + (unsigned)i) * 1000000 +
		    (unsigned)i * 1000);
		CHECK_EQ_U(r.caplen, cap);
		CHECK_EQ_U(r.len, rec_len[i] + 4);
		CHECK_EQ_U(r.span, 16 + rec_len[i]);
		CHECK(data_ok(r.data, r.caplen, i));
		/* Records returned after seen[j] but before this one. */
		for (j = i - 1, kept = 0; j >= 0 && after <= PCAPFILE_KEEP;
		    j--, kept++) {
			CHECK(data_ok(seen[j].data, seen[j].caplen, j));
			after += seen[j].span;
		}
		CHECK(kept >= (i < 2 ? i : 2));
		seen[i] = r;
	}
	CHECK(pcapfile_next(pf, &r, err, sizeof(err)) ==
	    (want_end ? PCAPFILE_END : PCAPFILE_DAMAGED));
	CHECK(want_end ? err[0] == '\0' : err[0] != '\0');
	CHECK(pcapfile_next(pf, &r, err, sizeof(err)) == PCAPFILE_END);
	pcapfile_close(pf);
}

/* Many buffer switches, read(2) returning as much as it can. */
static void
test_large_file(void)
{
	char path[] = "/tmp/test_pcapfile.XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	unlink(path);
	build(NRECS, 0);
	CHECK(file_len > 16 * (1 << 20));
	CHECK(write(fd, file, file_len) == (ssize_t)file_len);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	read_all(fd, NRECS, 262144, 1);
}

/* Short reads: a pipe fed in odd pieces. */
static void
test_pipe(void)
{
	pid_t pid;
	int fd, st;

	build(NRECS, 0);
	CHECK((fd = feed(file_len, 4093, &pid)) >= 0);
	read_all(fd, NRECS, 262144, 1);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
}

/* Cut inside a large record, and inside a record header. */
static void
test_cut(void)
{
	size_t off = 24;
	pid_t pid;
	int fd, i, k = 20, st;

	build(NRECS, 0);
	while (rec_len[k] != 262144)	/* a largest record past a switch */
		k++;
	for (i = 0; i < k; i++)
		off += 16 + rec_len[i];
	CHECK(off > (1 << 20));
	/* record k's data cut after 100 bytes */
	CHECK((fd = feed(off + 16 + 100, 65536, &pid)) >= 0);
	read_all(fd, k, 262144, 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	/* record k's header cut after 9 bytes */
	CHECK((fd = feed(off + 9, 65536, &pid)) >= 0);
	read_all(fd, k, 262144, 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	/* the file ends between records: a clean end */
	CHECK((fd = feed(off, 65536, &pid)) >= 0);
	read_all(fd, k, 262144, 1);
	CHECK(waitpid(pid, &st, 0) == pid);
}

/* Records longer than the snapshot are cut to it; the next is whole. */
static void
test_snapshot(void)
{
	pid_t pid;
	int fd, st;

	build(40, 1000);
	CHECK((fd = feed(file_len, 65536, &pid)) >= 0);
	read_all(fd, 40, 1000, 1);
	CHECK(waitpid(pid, &st, 0) == pid);
}

/* What is left to libpcap: pcapng, version 2.3, a short header. */
static void
test_others(void)
{
	static const uint8_t ng[28] = { 0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0,
	    0x4d, 0x3c, 0x2b, 0x1a, 1, 0 };
	pid_t pid;
	int fd, st;

	free(file);
	file = malloc(sizeof(ng));
	memcpy(file, ng, sizeof(ng));
	CHECK((fd = feed(sizeof(ng), 64, &pid)) >= 0);
	CHECK(pcapfile_open(fd) == NULL);
	close(fd);
	CHECK(waitpid(pid, &st, 0) == pid);
	build(3, 0);
	put32(file + 4, 0x00030002);	/* 2.3 */
	CHECK((fd = feed(file_len, 64, &pid)) >= 0);
	CHECK(pcapfile_open(fd) == NULL);
	close(fd);
	CHECK(waitpid(pid, &st, 0) == pid);
	build(3, 0);
	CHECK((fd = feed(20, 64, &pid)) >= 0);
	CHECK(pcapfile_open(fd) == NULL);
	close(fd);
	CHECK(waitpid(pid, &st, 0) == pid);
}

int
main(void)
{
	RUN(test_large_file);
	RUN(test_pipe);
	RUN(test_cut);
	RUN(test_snapshot);
	RUN(test_others);
	free(file);
	return check_done("pcapfile");
}
