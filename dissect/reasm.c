/*
 * reasm.c - TCP reassembly of one direction of a connection (RFC 9293).
 *
 * Stream offsets are 64-bit and counted from the first byte after the SYN
 * (or from the first segment seen when the capture starts mid-stream), so
 * sequence wrap is handled once, in seq_offset().  Out-of-order data is
 * kept as a sorted list of disjoint pieces: a new segment only fills what
 * no earlier segment covered ("first seen wins"), and every overlapping
 * byte is compared on the way.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "reasm.h"

struct reasm_seg {
	struct reasm_seg	*next;
	uint64_t		 off;		/* stream offset of data[0] */
	uint64_t		 frame;		/* frame that carried it */
	uint32_t		 len;
	uint8_t			 data[];
};

/*
 * Maps a sequence number to a stream offset, taking the value nearest to
 * the next expected byte.  Negative for bytes before offset 0.
 */
static int64_t
seq_offset(const struct reasm *r, uint32_t seq)
{
	uint32_t rel = seq - r->base;
	int32_t d = (int32_t)(rel - (uint32_t)r->next);

	return (int64_t)r->next + d;
}

/* Keeps bytes delivered at stream offset at, for retransmit checks. */
static void
hist_put(struct reasm *r, struct reasm_pool *pool, const uint8_t *buf,
    size_t len, uint64_t at)
{
	size_t pos, n, orig_len;

	if (r->hist_off)
		return;
	if (r->hist == NULL) {
		/*
		 * History has its own budget: running out of it costs
		 * retransmit checks, never out-of-order data.
		 */
		if (pool->hist_mem + REASM_HIST_BYTES > pool->hist_mem_max)
			return;
		if ((r->hist = malloc(REASM_HIST_BYTES)) == NULL)
			return;
		pool->hist_mem += REASM_HIST_BYTES;
	}
	orig_len = len;
	if (len > REASM_HIST_BYTES) {
		buf += len - REASM_HIST_BYTES;
		len = REASM_HIST_BYTES;
	}
	pos = (at + (uint64_t)(orig_len - len)) % REASM_HIST_BYTES;
	n = REASM_HIST_BYTES - pos;
	if (n > len)
		n = len;
	memcpy(r->hist + pos, buf, n);
	memcpy(r->hist, buf + n, len - n);
	r->hist_valid = r->hist_valid + len > REASM_HIST_BYTES ?
	    REASM_HIST_BYTES : r->hist_valid + (uint32_t)len;
}

/*
 * Hands bytes at offset r->next to the sink and advances.  History is
 * kept after the sink has seen them: a sink that calls reasm_forget()
 * there (a flow let go at its first bytes) costs no history at all.
 */
static void
deliver(struct reasm *r, struct reasm_pool *pool, const uint8_t *buf,
    size_t len, uint64_t frame, const struct reasm_sink *s)
{
	uint64_t at = r->next;

	if (len == 0)
		return;
	r->next += len;
	r->bytes += len;
	s->data(s->ctx, buf, len, frame);
	hist_put(r, pool, buf, len, at);
}

static void
gap(struct reasm *r, uint64_t len, const struct reasm_sink *s)
{
	if (len == 0)
		return;
	r->next += len;
	r->gaps++;
	r->gap_bytes += len;
	r->hist_valid = 0;	/* history is contiguous stream only */
	s->gap(s->ctx, len);
}

/*
 * Compares len bytes at stream offset off, already delivered, with the
 * history.  Bytes older than the history are counted as unverified.
 */
static void
check_old(struct reasm *r, struct reasm_pool *pool, uint64_t off,
    const uint8_t *buf, size_t len)
{
	uint64_t oldest = r->next - r->hist_valid;
	size_t i;

	if (off < oldest) {
		uint64_t skip = oldest - off;

		if (skip >= len) {
			pool->unverified += len;
			return;
		}
		pool->unverified += skip;
		off += skip;
		buf += skip;
		len -= (size_t)skip;
	}
	for (i = 0; i < len; i++)
		if (r->hist[(off + i) % REASM_HIST_BYTES] != buf[i]) {
			r->conflicts++;
			return;
		}
}

static void
seg_free(struct reasm_pool *pool, struct reasm *r, struct reasm_seg *g)
{
	r->nseg--;
	r->ooo_bytes -= g->len;
	pool->mem -= sizeof(*g) + g->len;
	free(g);
}

/* Delivers buffered pieces that became contiguous. */
static void
drain(struct reasm *r, struct reasm_pool *pool, const struct reasm_sink *s)
{
	struct reasm_seg *g;

	while ((g = r->ooo) != NULL && g->off <= r->next) {
		r->ooo = g->next;
		if (g->off + g->len > r->next) {
			uint64_t skip = r->next - g->off;

			deliver(r, pool, g->data + skip, g->len - skip,
			    g->frame, s);
		}
		seg_free(pool, r, g);
	}
}

/* Gives up the hole before the first buffered piece, to free room. */
static bool
make_room(struct reasm *r, struct reasm_pool *pool, size_t need,
    const struct reasm_sink *s)
{
	while ((uint32_t)r->nseg + 1 > pool->segs_max ||
	    r->ooo_bytes + need > pool->bytes_max ||
	    pool->mem + sizeof(struct reasm_seg) + need > pool->mem_max) {
		if (r->ooo == NULL)
			return false;
		pool->cap_skips++;
		reasm_skip_hole(r, pool, s);
	}
	return true;
}

/* Buffers [off, off+len) before *pos.  Returns the new piece or NULL. */
static struct reasm_seg *
seg_add(struct reasm *r, struct reasm_pool *pool, struct reasm_seg **pos,
    uint64_t off, const uint8_t *buf, size_t len, uint64_t frame)
{
	struct reasm_seg *g;

	if ((g = malloc(sizeof(*g) + len)) == NULL)
		return NULL;
	g->off = off;
	g->len = (uint32_t)len;
	g->frame = frame;
	memcpy(g->data, buf, len);
	g->next = *pos;
	*pos = g;
	r->nseg++;
	r->ooo_bytes += (uint32_t)len;
	pool->mem += sizeof(*g) + len;
	return g;
}

/*
 * Inserts [off, off+len) into the out-of-order list.  Buffered pieces it
 * overlaps are merged with it into one piece in which their bytes, seen
 * first, win; every overlapping byte is compared on the way.  Merging
 * keeps the growth of the list to one piece and len bytes, which is what
 * make_room() reserved.
 */
static void
insert(struct reasm *r, struct reasm_pool *pool, uint64_t off,
    const uint8_t *buf, size_t len, uint64_t frame,
    const struct reasm_sink *s)
{
	uint64_t end = off + len, lo, hi;
	struct reasm_seg **pos, *g, *m;

	if (!make_room(r, pool, len, s)) {
		/* Cannot buffer even alone: skip to it rather than lose it. */
		if (r->next >= end)
			return;
		if (r->next > off) {
			buf += r->next - off;
			off = r->next;
		}
		pool->cap_skips++;
		gap(r, off - r->next, s);
		deliver(r, pool, buf, (size_t)(end - off), frame, s);
		return;
	}
	if (r->next > off) {		/* make_room moved past our head */
		if (r->next >= end)
			return;
		buf += r->next - off;
		off = r->next;
		len = (size_t)(end - off);
	}
	for (pos = &r->ooo; *pos != NULL && (*pos)->off + (*pos)->len <= off;
	    pos = &(*pos)->next)
		;
	if (*pos == NULL || (*pos)->off >= end) {
		seg_add(r, pool, pos, off, buf, len, frame);
		return;
	}
	g = *pos;
	if (g->off <= off && g->off + g->len >= end) {
		/* Wholly inside one piece: a retransmission, compared only. */
		if (memcmp(g->data + (off - g->off), buf, len) != 0)
			r->conflicts++;
		return;
	}
	lo = (*pos)->off < off ? (*pos)->off : off;
	hi = end;
	for (g = *pos; g != NULL && g->off < end; g = g->next)
		if (g->off + g->len > hi)
			hi = g->off + g->len;
	if ((m = malloc(sizeof(*m) + (size_t)(hi - lo))) == NULL)
		return;
	memcpy(m->data + (off - lo), buf, len);
	m->frame = (*pos)->off < off ? (*pos)->frame : frame;
	while ((g = *pos) != NULL && g->off < end) {
		uint64_t a = g->off > off ? g->off : off;
		uint64_t b = g->off + g->len < end ? g->off + g->len : end;

		if (memcmp(g->data + (a - g->off), buf + (a - off),
		    (size_t)(b - a)) != 0)
			r->conflicts++;
		memcpy(m->data + (g->off - lo), g->data, g->len);
		*pos = g->next;
		seg_free(pool, r, g);
	}
	m->off = lo;
	m->len = (uint32_t)(hi - lo);
	m->next = *pos;
	*pos = m;
	r->nseg++;
	r->ooo_bytes += m->len;
	pool->mem += sizeof(*m) + m->len;
}

void
reasm_segment(struct reasm *r, struct reasm_pool *pool, uint32_t seq,
    uint8_t flags, const uint8_t *data, size_t caplen, size_t seglen,
    uint64_t frame, const struct reasm_sink *s)
{
	int64_t soff;
	uint64_t off, end;

	if (flags & 0x02) {			/* SYN */
		if (!r->started) {
			r->base = seq + 1;
			r->started = true;
			r->syn_seen = true;
		}
		seq++;				/* data on a SYN follows it */
	}
	if (!r->started) {			/* picked up mid-stream */
		if (seglen == 0)
			return;
		r->base = seq;
		r->started = true;
	}
	if ((soff = seq_offset(r, seq)) < 0) {
		/* Starts before offset 0: keep only what lies after it. */
		uint64_t skip = (uint64_t)-soff;

		if (skip >= seglen)
			return;
		data += skip < caplen ? skip : caplen;
		caplen -= skip < caplen ? skip : caplen;
		seglen -= skip;
		soff = 0;
	}
	off = (uint64_t)soff;
	if ((flags & 0x01) && !r->fin_seen) {	/* FIN */
		r->fin_seen = true;
		r->fin = off + seglen;
	}
	if (seglen == 0)
		return;
	end = off + seglen;
	if (end <= r->next) {
		/* A retransmission; a one-byte keep-alive probe is not data. */
		if (!(seglen == 1 && end == r->next))
			check_old(r, pool, off, data, caplen);
		return;
	}
	if (off < r->next) {
		uint64_t skip = r->next - off;

		check_old(r, pool, off, data, skip < caplen ? skip : caplen);
		data += skip < caplen ? skip : caplen;
		caplen -= skip < caplen ? skip : caplen;
		seglen -= skip;
		off = r->next;
	}
	if (r->ooo == NULL && off == r->next) {	/* the common case */
		deliver(r, pool, data, caplen, frame, s);
		if (caplen < seglen)		/* cut by snaplen */
			gap(r, seglen - caplen, s);
		return;
	}
	if (caplen > 0)
		insert(r, pool, off, data, caplen, frame, s);
	drain(r, pool, s);
}

void
reasm_ack(struct reasm *r, uint32_t ack)
{
	int64_t off;

	if (!r->started || (off = seq_offset(r, ack)) < 0)
		return;
	if (!r->acked_seen || (uint64_t)off > r->acked) {
		r->acked = (uint64_t)off;
		r->acked_seen = true;
	}
}

bool
reasm_stalled(const struct reasm *r)
{
	return r->ooo != NULL && r->ooo->off > r->next && r->acked_seen &&
	    r->acked > r->ooo->off;
}

void
reasm_skip_hole(struct reasm *r, struct reasm_pool *pool,
    const struct reasm_sink *s)
{
	if (r->ooo == NULL)
		return;
	gap(r, r->ooo->off - r->next, s);
	drain(r, pool, s);
}

void
reasm_finish(struct reasm *r, struct reasm_pool *pool,
    const struct reasm_sink *s)
{
	while (r->ooo != NULL)
		reasm_skip_hole(r, pool, s);
	/* Bytes sent before a FIN we saw, or acknowledged, never captured. */
	if (r->fin_seen) {
		if (r->fin > r->next)
			gap(r, r->fin - r->next, s);
	} else if (r->acked_seen && r->acked > r->next + 1) {
		/* One sequence number may be a FIN we did not capture. */
		gap(r, r->acked - r->next - 1, s);
	}
}

bool
reasm_done(const struct reasm *r)
{
	return r->fin_seen && r->next >= r->fin && r->ooo == NULL;
}

/* Gives the history back; later retransmits cannot be compared. */
static void
hist_release(struct reasm *r, struct reasm_pool *pool)
{
	if (r->hist != NULL) {
		free(r->hist);
		pool->hist_mem -= REASM_HIST_BYTES;
		r->hist = NULL;
	}
	r->hist_valid = 0;
}

void
reasm_forget(struct reasm *r, struct reasm_pool *pool)
{
	hist_release(r, pool);
	r->hist_off = true;
}

void
reasm_free(struct reasm *r, struct reasm_pool *pool)
{
	while (r->ooo != NULL) {
		struct reasm_seg *g = r->ooo;

		r->ooo = g->next;
		seg_free(pool, r, g);
	}
	hist_release(r, pool);
}
