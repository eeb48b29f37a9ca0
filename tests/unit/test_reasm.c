/*
 * test_reasm.c - TCP reassembly of one direction: order, retransmission,
 * overlap, wrap, gaps, caps.  Every stream is also fed split at every
 * offset and in shuffled orders, and must come out the same.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dissect/reasm.h"
#include "check.h"

#define OUT_MAX	8192

/* What a sink saw: bytes, and gaps written as "[gap N]". */
struct out {
	char	 buf[OUT_MAX];
	size_t	 len;
	int	 gaps;
};

static void
out_data(void *ctx, const uint8_t *b, size_t n, uint64_t frame)
{
	struct out *o = ctx;

	(void)frame;
	if (n > OUT_MAX - 1 - o->len)
		n = OUT_MAX - 1 - o->len;
	memcpy(o->buf + o->len, b, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
out_gap(void *ctx, uint64_t n)
{
	struct out *o = ctx;

	o->gaps++;
	o->len += (size_t)snprintf(o->buf + o->len, OUT_MAX - o->len,
	    "[gap %llu]", (unsigned long long)n);
}

struct rig {
	struct reasm		r;
	struct reasm_pool	pool;
	struct reasm_sink	sink;
	struct out		out;
};

static void
rig_init(struct rig *g)
{
	memset(g, 0, sizeof(*g));
	g->pool.mem_max = REASM_MEM_MAX;
	g->pool.hist_mem_max = REASM_HIST_MEM_MAX;
	g->pool.segs_max = REASM_OOO_SEGS_MAX;
	g->pool.bytes_max = REASM_OOO_BYTES_MAX;
	g->sink.data = out_data;
	g->sink.gap = out_gap;
	g->sink.ctx = &g->out;
}

static void
seg(struct rig *g, uint32_t seq, uint8_t flags, const char *s)
{
	size_t n = strlen(s);

	reasm_segment(&g->r, &g->pool, seq, flags, (const uint8_t *)s, n, n,
	    1, &g->sink);
}

static void
seg_n(struct rig *g, uint32_t seq, const char *s, size_t n)
{
	reasm_segment(&g->r, &g->pool, seq, 0, (const uint8_t *)s, n, n, 1,
	    &g->sink);
}

static void
rig_end(struct rig *g)
{
	reasm_finish(&g->r, &g->pool, &g->sink);
	reasm_free(&g->r, &g->pool);
}

static const char dialogue[] =
	"220 mx.example.org ESMTP ready\r\n"
	"250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
	"250-STARTTLS\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
	"220 2.0.0 Ready to start TLS\r\n";

static void
test_in_order(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 1000, 0x02, "");		/* SYN */
	seg(&g, 1001, 0, "220 hello\r\n");
	seg(&g, 1012, 0x01, "221 bye\r\n");	/* FIN */
	CHECK(strcmp(g.out.buf, "220 hello\r\n221 bye\r\n") == 0);
	CHECK(reasm_done(&g.r));
	rig_end(&g);
	CHECK(g.out.gaps == 0);
	CHECK_EQ_U(g.pool.mem, 0);
	CHECK_EQ_U(g.pool.hist_mem, 0);
}

/* Two pieces, cut at every offset, fed in both orders. */
static void
test_split_everywhere(void)
{
	size_t n = strlen(dialogue), i;
	int order;

	for (order = 0; order < 2; order++)
		for (i = 1; i < n; i++) {
			struct rig g;

			rig_init(&g);
			seg(&g, 5000, 0x02, "");
			if (order == 0) {
				seg_n(&g, 5001, dialogue, i);
				seg_n(&g, 5001 + (uint32_t)i, dialogue + i, n - i);
			} else {
				seg_n(&g, 5001 + (uint32_t)i, dialogue + i, n - i);
				seg_n(&g, 5001, dialogue, i);
			}
			rig_end(&g);
			CHECK(g.out.len == n);
			CHECK(memcmp(g.out.buf, dialogue, n) == 0);
			CHECK(g.out.gaps == 0 && g.r.conflicts == 0);
			CHECK_EQ_U(g.pool.mem, 0);
	CHECK_EQ_U(g.pool.hist_mem, 0);
		}
}

static uint32_t
rnd(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/*
 * Cuts the dialogue into random pieces, shuffles them, adds duplicates
 * and overlapping retransmissions of the same bytes: the output must not
 * change.
 */
static void
test_shuffled(void)
{
	size_t n = strlen(dialogue);
	uint32_t st = 12345;
	int round;

	for (round = 0; round < 500; round++) {
		size_t cut[64], len[64], order[128];
		size_t k = 0, off = 0, i, m;
		struct rig g;

		while (off < n && k < 64) {
			size_t l = 1 + rnd(&st) % 23;

			if (l > n - off || k == 63)
				l = n - off;
			cut[k] = off;
			len[k++] = l;
			off += l;
		}
		for (i = 0; i < k; i++)
			order[i] = i;
		m = k;
		if (round % 2 == 1)		/* add duplicates */
			for (i = 0; i < k / 2; i++)
				order[m++] = rnd(&st) % k;
		for (i = m - 1; i > 0; i--) {
			size_t j = rnd(&st) % (i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		rig_init(&g);
		seg(&g, 0xfffffff0, 0x02, "");	/* wraps inside the stream */
		for (i = 0; i < m; i++) {
			size_t p = order[i];

			seg_n(&g, 0xfffffff1 + (uint32_t)cut[p], dialogue + cut[p],
			    len[p]);
			if (round % 3 == 2 && p + 1 < k)	/* overlap, same bytes */
				seg_n(&g, 0xfffffff1 + (uint32_t)cut[p] + 1,
				    dialogue + cut[p] + 1, len[p] - 1 + len[p + 1]);
		}
		rig_end(&g);
		CHECK(g.out.len == n);
		CHECK(memcmp(g.out.buf, dialogue, n) == 0);
		CHECK(g.out.gaps == 0);
		CHECK(g.r.conflicts == 0);
		CHECK_EQ_U(g.pool.mem, 0);
	CHECK_EQ_U(g.pool.hist_mem, 0);
	}
}

static void
test_retransmit_same(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 99, 0x02, "");
	seg(&g, 100, 0, "EHLO a\r\n");
	seg(&g, 100, 0, "EHLO a\r\n");
	seg(&g, 104, 0, " a\r\nMAIL");
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "EHLO a\r\nMAIL") == 0);
	CHECK(g.r.conflicts == 0);
}

/* A retransmission of delivered bytes with other content: kept, counted. */
static void
test_conflict_delivered(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 99, 0x02, "");
	seg(&g, 100, 0, "250-STARTTLS\r\n");
	seg(&g, 100, 0, "250-XXXXXXXA\r\n");
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "250-STARTTLS\r\n") == 0);
	CHECK_EQ_U(g.r.conflicts, 1);
}

/* Two buffered segments overlap with different bytes: first seen wins. */
static void
test_conflict_buffered(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 99, 0x02, "");
	seg(&g, 104, 0, "STARTTLS\r\n");
	seg(&g, 104, 0, "XXXXXXXA\r\n");
	seg(&g, 100, 0, "250-");
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "250-STARTTLS\r\n") == 0);
	CHECK_EQ_U(g.r.conflicts, 1);
}

/* A one-byte keep-alive probe below the window is not a conflict. */
static void
test_keepalive(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 99, 0x02, "");
	seg(&g, 100, 0, "QUIT\r\n");
	seg_n(&g, 105, "\0", 1);
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "QUIT\r\n") == 0);
	CHECK(g.r.conflicts == 0);
}

/* Buffers released after the FIN: a late retransmission is harmless. */
static void
test_after_free(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 99, 0x02, "");
	seg(&g, 100, 0x01, "DATA");
	CHECK(reasm_done(&g.r));
	reasm_free(&g.r, &g.pool);
	CHECK_EQ_U(g.pool.mem, 0);
	CHECK_EQ_U(g.pool.hist_mem, 0);
	seg(&g, 100, 0x01, "DATA");
	seg(&g, 100, 0x01, "XXXX");
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "DATA") == 0);
	CHECK(g.r.conflicts == 0);
	CHECK(g.pool.unverified == 8);
}

/*
 * After reasm_forget() the stream still comes out whole, but nothing is
 * kept to compare retransmissions with: they count as unverified, not as
 * conflicts, and no history is held even for bytes delivered later.
 */
static void
test_forget(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 99, 0x02, "");
	seg(&g, 100, 0, "250-");
	CHECK_EQ_U(g.pool.hist_mem, REASM_HIST_BYTES);
	reasm_forget(&g.r, &g.pool);
	CHECK_EQ_U(g.pool.hist_mem, 0);
	seg(&g, 104, 0, "STARTTLS\r\n");
	CHECK_EQ_U(g.pool.hist_mem, 0);
	seg(&g, 104, 0, "XXXXXXXA\r\n");
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "250-STARTTLS\r\n") == 0);
	CHECK(g.r.conflicts == 0);
	CHECK_EQ_U(g.pool.unverified, 10);
}

/* A hole that never fills becomes one gap at the end; no bytes are lost. */
static void
test_gap_at_finish(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 99, 0x02, "");
	seg(&g, 100, 0, "AAAA");
	seg(&g, 110, 0, "CCCC");
	CHECK(strcmp(g.out.buf, "AAAA") == 0);
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "AAAA[gap 6]CCCC") == 0);
	CHECK_EQ_U(g.r.gaps, 1);
	CHECK_EQ_U(g.r.gap_bytes, 6);
	CHECK_EQ_U(g.r.bytes, 8);
}

/*
 * An ACK past a hole does not give it up by itself: the data may follow
 * the ACK in the capture.  The caller decides, with reasm_skip_hole().
 */
static void
test_ack_before_data(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 99, 0x02, "");
	reasm_ack(&g.r, 400);	/* all 300 bytes acked */
	CHECK(!reasm_stalled(&g.r));
	seg(&g, 200, 0, "BBBB");
	CHECK(reasm_stalled(&g.r));
	seg(&g, 100, 0, "AAAA");		/* late, still used */
	CHECK(strcmp(g.out.buf, "AAAA") == 0);
	reasm_skip_hole(&g.r, &g.pool, &g.sink);
	CHECK(strcmp(g.out.buf, "AAAA[gap 96]BBBB") == 0);
	seg(&g, 104, 0, "late");		/* too late: not re-delivered */
	rig_end(&g);
	/* One acked sequence number may be an uncaptured FIN. */
	CHECK(strcmp(g.out.buf, "AAAA[gap 96]BBBB[gap 195]") == 0);
}

/* Data the peer acknowledged but the capture never had: a tail gap. */
static void
test_tail_gap(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 99, 0x02, "");
	seg(&g, 100, 0, "AAAA");
	reasm_ack(&g.r, 120);
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "AAAA[gap 15]") == 0);
}

/* The acknowledged FIN alone is not missing data. */
static void
test_fin_ack_no_gap(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 99, 0x02, "");
	seg(&g, 100, 0x01, "AAAA");
	reasm_ack(&g.r, 105);
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "AAAA") == 0);
	CHECK(g.out.gaps == 0);
}

/* Past the segment cap, holes are given up, counted, and data flows. */
static void
test_caps(void)
{
	struct rig g;
	int i;

	rig_init(&g);
	g.pool.segs_max = 2;
	seg(&g, 99, 0x02, "");
	for (i = 0; i < 5; i++)		/* every other 2-byte piece */
		seg(&g, 100 + 4 * (uint32_t)i + 2, 0, "xy");
	CHECK(g.pool.cap_skips > 0);
	CHECK(g.r.nseg <= 2);
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "[gap 2]xy[gap 2]xy[gap 2]xy[gap 2]xy"
	    "[gap 2]xy") == 0);
	CHECK_EQ_U(g.pool.mem, 0);
	CHECK_EQ_U(g.pool.hist_mem, 0);
}

/*
 * One segment spanning several buffered pieces stays within the memory
 * cap, keeps the earlier bytes and still delivers everything.
 */
static void
test_span_merge_within_cap(void)
{
	struct rig g;
	int i;

	rig_init(&g);
	g.pool.mem_max = 400;
	seg(&g, 99, 0x02, "");
	for (i = 0; i < 4; i++)		/* "bb" at 102, 106, 110, 114 */
		seg(&g, 102 + 4 * (uint32_t)i, 0, "bb");
	seg(&g, 101, 0, "XXXXXXXXXXXXXXXXX");	/* covers 101..117 */
	CHECK(g.pool.mem <= g.pool.mem_max);
	CHECK(g.r.nseg == 1);
	seg(&g, 100, 0, "a");
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "aXbbXXbbXXbbXXbbXX") == 0);
	CHECK_EQ_U(g.r.conflicts, 4);
	CHECK_EQ_U(g.pool.mem, 0);
	CHECK_EQ_U(g.pool.hist_mem, 0);
}

/* Bytes cut by snaplen leave a gap of the right size. */
static void
test_snaplen_cut(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 99, 0x02, "");
	reasm_segment(&g.r, &g.pool, 100, 0, (const uint8_t *)"DATA", 4, 10,
	    1, &g.sink);
	seg(&g, 110, 0, "MORE");
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "DATA[gap 6]MORE") == 0);
}

/* Picked up mid-stream: the first segment seen is offset 0. */
static void
test_midstream(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 7000, 0, "250 OK\r\n");
	seg(&g, 7008, 0, "221 bye\r\n");
	seg(&g, 6990, 0, "0123456789");	/* before our start: dropped */
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "250 OK\r\n221 bye\r\n") == 0);
}

/* A segment straddling offset 0 keeps only its later part. */
static void
test_before_start(void)
{
	struct rig g;

	rig_init(&g);
	seg(&g, 99, 0x02, "");
	seg(&g, 96, 0, "xxxxABC");
	rig_end(&g);
	CHECK(strcmp(g.out.buf, "ABC") == 0);
}

/* A stream longer than 4 GiB of sequence space is still in order. */
static void
test_long_wrap(void)
{
	struct rig g;
	static char chunk[60000];
	uint64_t total = 0;
	uint32_t seq = 0x7ffffff0;
	int i;

	rig_init(&g);
	memset(chunk, 'z', sizeof(chunk));
	g.out.len = 0;
	seg(&g, seq - 1, 0x02, "");
	for (i = 0; i < 80000; i++) {	/* 4.8 GB of sequence space */
		reasm_segment(&g.r, &g.pool, seq, 0, (const uint8_t *)chunk,
		    sizeof(chunk), sizeof(chunk), 1, &g.sink);
		seq += sizeof(chunk);
		total += sizeof(chunk);
		g.out.len = 0;
	}
	CHECK_EQ_U(g.r.bytes, total);
	CHECK(g.r.gaps == 0 && g.r.conflicts == 0);
	rig_end(&g);
}

int
main(void)
{
	RUN(test_in_order);
	RUN(test_split_everywhere);
	RUN(test_shuffled);
	RUN(test_retransmit_same);
	RUN(test_conflict_delivered);
	RUN(test_conflict_buffered);
	RUN(test_keepalive);
	RUN(test_after_free);
	RUN(test_forget);
	RUN(test_gap_at_finish);
	RUN(test_ack_before_data);
	RUN(test_tail_gap);
	RUN(test_fin_ack_no_gap);
	RUN(test_caps);
	RUN(test_span_merge_within_cap);
	RUN(test_snaplen_cut);
	RUN(test_midstream);
	RUN(test_before_start);
	RUN(test_long_wrap);
	return check_done("reasm");
}
