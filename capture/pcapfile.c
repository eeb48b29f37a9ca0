/*
 * pcapfile.c - classic pcap savefiles, read with read(2) into one buffer.
 *
 * libpcap reads a savefile through stdio, so every record is copied twice
 * on its way in (kernel to stdio buffer, stdio buffer to libpcap's).  Here
 * a record is used where read(2) left it.  There are two buffers: when the
 * next record does not fit in the rest of one, its start moves to the
 * other and reading goes on there.  A record therefore stays where it is
 * until reading comes back to its buffer, which needs the other one read
 * up to within a record of its end: PCAPFILE_KEEP bytes of records
 * returned after it.  That lets the caller decode packets ahead.
 *
 * The rules are libpcap 1.10's, so that choosing this path changes no
 * frame (fuzz/fuzz_pcapfile.c holds the two readers to that):
 *   - a file that ends between records ends cleanly;
 *   - a record header cut short, a record longer than the largest snapshot
 *     (262144), or record data cut short is damage, and reading stops;
 *   - a record longer than the file's snapshot is cut to it (the bytes
 *     past it are skipped);
 *   - the seconds and the fraction are widened as signed 32-bit values in
 *     a file of this machine's byte order, as unsigned ones in a swapped
 *     file; nanoseconds are divided down to microseconds.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "pcapfile.h"

#define MAGIC_US	0xa1b2c3d4U
#define MAGIC_NS	0xa1b23c4dU
#define FILE_HDR	24
#define REC_HDR		16
#define SNAPLEN_MAX	PCAPFILE_SNAPLEN_MAX

struct pcapfile {
	int		 fd;
	bool		 swap;		/* written in the other byte order */
	bool		 nsec;		/* fractions are nanoseconds */
	bool		 done;		/* ended or damaged: no more records */
	int		 rerr;		/* errno of a failed read, or 0 */
	uint32_t	 snapshot;
	uint8_t		*mem;		/* both buffers */
	uint8_t		*buf;		/* the one being read */
	size_t		 off, len;	/* unread bytes are buf[off, len) */
};

static uint16_t
get16(const struct pcapfile *pf, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return pf->swap ? __builtin_bswap16(v) : v;
}

static uint32_t
get32(const struct pcapfile *pf, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return pf->swap ? __builtin_bswap32(v) : v;
}

/*
 * Makes at least n unread bytes available, unless the file ends or a read
 * fails first.  Returns the number of unread bytes.
 */
static size_t
fill(struct pcapfile *pf, size_t n)
{
	while (pf->len - pf->off < n && pf->rerr == 0) {
		ssize_t r;

		if (CAPTURE_FILE_BUF - pf->off < n) {
			uint8_t *other = pf->buf == pf->mem ?
			    pf->mem + CAPTURE_FILE_BUF : pf->mem;

			memcpy(other, pf->buf + pf->off, pf->len - pf->off);
			pf->buf = other;
			pf->len -= pf->off;
			pf->off = 0;
		}
		r = read(pf->fd, pf->buf + pf->len, CAPTURE_FILE_BUF - pf->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			pf->rerr = errno;
		if (r <= 0)
			break;
		pf->len += (size_t)r;
	}
	return pf->len - pf->off;
}

struct pcapfile *
pcapfile_open(int fd)
{
	struct pcapfile *pf;
	const uint8_t *h;
	uint32_t magic;

	if ((pf = calloc(1, sizeof(*pf))) == NULL)
		return NULL;
	/* At least two of the largest records are kept: see the top. */
	_Static_assert(PCAPFILE_KEEP >= 2 * PCAPFILE_SPAN_MAX,
	    "CAPTURE_FILE_BUF too small for the largest records");
	if ((pf->mem = malloc(2 * (size_t)CAPTURE_FILE_BUF)) == NULL) {
		free(pf);
		return NULL;
	}
	pf->buf = pf->mem;
	pf->fd = fd;
	if (fill(pf, FILE_HDR) < FILE_HDR)
		goto other;
	h = pf->buf;
	memcpy(&magic, h, sizeof(magic));
	if (magic == MAGIC_US || magic == MAGIC_NS) {
		pf->nsec = magic == MAGIC_NS;
	} else if (magic == __builtin_bswap32(MAGIC_US) ||
	    magic == __builtin_bswap32(MAGIC_NS)) {
		pf->swap = true;
		pf->nsec = magic == __builtin_bswap32(MAGIC_NS);
	} else
		goto other;
	/* Version 2.4 only: older ones have quirks libpcap knows. */
	if (get16(pf, h + 4) != 2 || get16(pf, h + 6) != 4)
		goto other;
	pf->snapshot = get32(pf, h + 16);
	if (pf->snapshot == 0 || pf->snapshot > SNAPLEN_MAX)
		pf->snapshot = SNAPLEN_MAX;
	pf->off = FILE_HDR;
	return pf;
other:
	free(pf->mem);
	free(pf);
	return NULL;
}

/* Hands out the record at h (its header says caplen), moving past it. */
static inline void
take(struct pcapfile *pf, const uint8_t *h, uint32_t caplen,
    struct pcapfile_rec *r)
{
	int64_t sec, frac;

	/* libpcap widens swapped stamps as unsigned, native ones signed. */
	if (pf->swap) {
		sec = get32(pf, h);
		frac = get32(pf, h + 4);
	} else {
		int32_t s32, f32;

		memcpy(&s32, h, sizeof(s32));
		memcpy(&f32, h + 4, sizeof(f32));
		sec = s32;
		frac = f32;
	}
	if (pf->nsec)
		frac /= 1000;
	r->ts_us = (uint64_t)sec * 1000000 + (uint64_t)frac;
	r->caplen = caplen < pf->snapshot ? caplen : pf->snapshot;
	r->len = get32(pf, h + 12);
	r->data = h + REC_HDR;
	r->span = REC_HDR + caplen;
	pf->off += REC_HDR + (size_t)caplen;
}

/* pcapfile_next() when the record is not whole in the buffer. */
static enum pcapfile_result __attribute__((noinline))
next_read(struct pcapfile *pf, struct pcapfile_rec *r, char *err,
    size_t errlen)
{
	uint32_t caplen;
	size_t have;

	if (pf->done)
		return PCAPFILE_END;
	if ((have = fill(pf, REC_HDR)) < REC_HDR) {
		pf->done = true;
		if (pf->rerr != 0) {
			snprintf(err, errlen, "read: %s", strerror(pf->rerr));
			return PCAPFILE_DAMAGED;
		}
		if (have == 0)
			return PCAPFILE_END;
		snprintf(err, errlen, "record header cut short (%zu of %d "
		    "bytes)", have, REC_HDR);
		return PCAPFILE_DAMAGED;
	}
	caplen = get32(pf, pf->buf + pf->off + 8);
	if (caplen > SNAPLEN_MAX) {
		pf->done = true;
		snprintf(err, errlen, "record of %u captured bytes, more than "
		    "any snapshot (%u)", caplen, SNAPLEN_MAX);
		return PCAPFILE_DAMAGED;
	}
	if ((have = fill(pf, REC_HDR + (size_t)caplen)) <
	    REC_HDR + (size_t)caplen) {
		pf->done = true;
		if (pf->rerr != 0)
			snprintf(err, errlen, "read: %s", strerror(pf->rerr));
		else
			snprintf(err, errlen, "record data cut short (%zu of "
			    "%u bytes)", have - REC_HDR, caplen);
		return PCAPFILE_DAMAGED;
	}
	take(pf, pf->buf + pf->off, caplen, r);	/* fill() may have moved it */
	return PCAPFILE_REC;
}

enum pcapfile_result
pcapfile_next(struct pcapfile *pf, struct pcapfile_rec *r, char *err,
    size_t errlen)
{
	const uint8_t *h = pf->buf + pf->off;
	size_t have = pf->len - pf->off;
	uint32_t caplen;

	err[0] = '\0';
	/* Most records lie whole in the buffer already. */
	if (pf->done || have < REC_HDR ||
	    (caplen = get32(pf, h + 8)) > SNAPLEN_MAX ||
	    have - REC_HDR < caplen)
		return next_read(pf, r, err, errlen);
	take(pf, h, caplen, r);
	return PCAPFILE_REC;
}

void
pcapfile_close(struct pcapfile *pf)
{
	if (pf == NULL)
		return;
	close(pf->fd);
	free(pf->mem);
	free(pf);
}
