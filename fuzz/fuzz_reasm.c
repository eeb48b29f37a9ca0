/*
 * fuzz_reasm.c - fuzz target for one direction of TCP reassembly (RFC 9293).
 *
 * Input: a 5-byte header, then records until the input ends.
 *
 *	header	isn(4, big-endian)  cfg(1)
 *	segment	op(1) = 0x00..0x7f, seq(4) len(2) [extra(2) if op & OP_CUT]
 *		data(len)
 *	skip	op(1) = 0x80..0xbf: give up the hole before the first buffered
 *		piece, as flow.c does once a stall has lasted REASM_STALL_US;
 *		only when reasm_stalled() unless op bit 0 is set; with op
 *		bit 1 set, reasm_forget() instead (a flow let go under
 *		--all-flows): no history is held from then on; with op
 *		bit 2 set (and not bit 1), reasm_forget() from inside the
 *		next data callback, as flow.c's sink does when the stage
 *		above lets a flow go at the bytes it is handed
 *	ack	op(1) = 0xc0..0xff, ack(4)
 *
 * Sequence and acknowledgement numbers are isn + the 32-bit field, so small
 * fields make a plausible stream and isn moves it across the wrap.  op bits
 * 0-4 are the TCP flags (FIN SYN RST PSH ACK); a segment carries len bytes
 * (fewer if the input ends) of seglen = len + extra on the wire.  cfg bits
 * 0-1 pick the out-of-order memory budget and bit 2 turns the history off,
 * so every cap is hit.  Each segment's bytes sit in a malloc of exactly
 * their size.
 *
 * The sink checks the accounting (every byte delivered or gapped once, in
 * order), and a model of the stream checks the content.  While every
 * sequence number maps to one stream offset (all records within 2^30 of
 * offset 0), each delivered byte below MODEL_MAX is the first byte any
 * record put at that offset.  If moreover no two records disagree about a
 * byte and all lie below MODEL_MAX, no conflict is reported; and if no cap
 * was hit, no hole was skipped on request and no segment was cut by
 * snaplen, the delivered bytes are exactly the bytes the records described,
 * and the gaps exactly the rest (an ACK alone gives nothing up).  Gaps may
 * otherwise skip described bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "capture/decode.h"	/* TCP_* flag bits */
#include "dissect/reasm.h"
#include "fuzz/fuzz.h"

#define OP_FLAGS	0x1f	/* TCP_FIN .. TCP_ACK */
#define OP_CUT		0x20	/* seglen > caplen */
#define OP_REC		0xc0	/* the record type bits */
#define OP_SKIP_REC	0x80
#define OP_ACK_REC	0xc0
#define OP_FORGET	0x02	/* in a skip record */
#define OP_FORGET_IN	0x04	/* in a skip record: forget in on_data() */
#define CFG_NO_HIST	0x04

#define SEGS_MAX	8
#define BYTES_MAX	4096
#define MODEL_MAX	65536	/* stream offsets the model follows */
#define WINDOW		(1 << 30)	/* offsets certainly unambiguous */

/* Out-of-order budgets: roomy, tiny, small, and near the byte cap. */
static const uint64_t mem_caps[4] = {
	64 * 1024, 300, 1000, BYTES_MAX + SEGS_MAX * 32,
};

/* What the records say the stream holds; only valid while usable. */
struct model {
	bool	 started;
	uint32_t base;		/* sequence number of offset 0 */
	bool	 usable;	/* every sequence number maps to one offset */
	bool	 complete;	/* no record reaches past MODEL_MAX */
	bool	 consistent;	/* no byte described twice differently */
	bool	 exact;		/* no hole skipped on request, no snaplen cut */
	size_t	 hi;		/* known[] and got[] are 0 from here on */
	uint8_t	 byte[MODEL_MAX];	/* the first value seen */
	uint8_t	 known[MODEL_MAX];	/* 1 = some record carried this byte */
	uint8_t	 got[MODEL_MAX];	/* 1 = delivered to the sink */
};

struct check_sink {
	struct model	*m;
	uint64_t	 pos;		/* stream offset of the next byte */
	uint64_t	 data_bytes, gap_bytes;
	uint32_t	 ngaps;
	struct reasm	*r;		/* for forget_in */
	struct reasm_pool *pool;
	bool		 forget_in;	/* reasm_forget() at the next data */
	bool		 forgot;
};

static struct model model;

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
on_data(void *ctx, const uint8_t *buf, size_t len, uint64_t frame)
{
	struct check_sink *cs = ctx;
	struct model *m = cs->m;
	size_t i;

	(void)frame;
	FUZZ_CHECK(buf != NULL && len > 0);
	for (i = 0; i < len; i++) {
		uint64_t o = cs->pos + i;
		uint8_t b = buf[i];	/* ASan checks the whole range */

		if (!m->usable || o >= MODEL_MAX)
			continue;
		FUZZ_CHECK(!m->got[o]);
		m->got[o] = 1;
		/* Nothing invents bytes, and the first seen wins (reasm.h). */
		FUZZ_CHECK(m->known[o]);
		FUZZ_CHECK(m->byte[o] == b);
	}
	cs->pos += len;
	cs->data_bytes += len;
	if (cs->forget_in) {
		reasm_forget(cs->r, cs->pool);
		cs->forget_in = false;
		cs->forgot = true;
	}
}

static void
on_gap(void *ctx, uint64_t len)
{
	struct check_sink *cs = ctx;

	FUZZ_CHECK(len > 0);
	cs->pos += len;
	cs->gap_bytes += len;
	cs->ngaps++;
}

/* Records the bytes of one segment, mirroring only the TCP rules. */
static void
model_segment(struct model *m, uint32_t seq, uint8_t flags,
    const uint8_t *data, size_t caplen, size_t seglen)
{
	int64_t rel;
	size_t i;

	if (flags & TCP_SYN) {		/* the SYN takes one sequence number */
		if (!m->started) {
			m->base = seq + 1;
			m->started = true;
		}
		seq++;
	}
	if (!m->started) {		/* the first byte seen is offset 0 */
		if (seglen == 0)
			return;
		m->base = seq;
		m->started = true;
	}
	if (caplen < seglen)
		m->exact = false;
	rel = (int32_t)(seq - m->base);
	if (rel <= -WINDOW || rel + (int64_t)seglen >= WINDOW) {
		m->usable = false;
		return;
	}
	for (i = 0; i < caplen; i++) {
		int64_t o = rel + (int64_t)i;

		if (o < 0)
			continue;
		if (o >= MODEL_MAX) {
			m->complete = false;	/* the prefix still counts */
			return;
		}
		if (m->known[o] && m->byte[o] != data[i])
			m->consistent = false;
		else if (!m->known[o]) {
			m->known[o] = 1;
			m->byte[o] = data[i];
			if ((size_t)o >= m->hi)
				m->hi = (size_t)o + 1;
		}
	}
}

/* Accounting that holds after every call into the reassembler. */
static void
check_state(const struct reasm *r, const struct reasm_pool *pool,
    const struct check_sink *cs)
{
	FUZZ_CHECK(cs->pos == r->next);
	FUZZ_CHECK(cs->data_bytes == r->bytes);
	FUZZ_CHECK(cs->gap_bytes == r->gap_bytes);
	FUZZ_CHECK(cs->ngaps == r->gaps);
	FUZZ_CHECK(r->bytes + r->gap_bytes == r->next);
	FUZZ_CHECK(pool->mem <= pool->mem_max);
	FUZZ_CHECK(pool->hist_mem <= pool->hist_mem_max);
	FUZZ_CHECK(pool->hist_mem == (r->hist != NULL ? REASM_HIST_BYTES : 0));
	FUZZ_CHECK(r->ooo_bytes <= pool->bytes_max);
	FUZZ_CHECK(r->nseg <= pool->segs_max);
	FUZZ_CHECK((r->ooo == NULL) == (r->nseg == 0));
	FUZZ_CHECK(pool->mem >= r->ooo_bytes);
	FUZZ_CHECK(r->hist_valid <= REASM_HIST_BYTES);
	if (r->hist == NULL)
		FUZZ_CHECK(r->hist_valid == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct reasm r;
	struct reasm_pool pool;
	struct reasm_sink sink;
	struct check_sink cs;
	struct model *m = &model;
	uint32_t isn;
	uint64_t frame = 0, o;
	size_t pos;

	if (size < 5)
		return 0;
	isn = be32(in);
	memset(&r, 0, sizeof(r));
	memset(&pool, 0, sizeof(pool));
	pool.mem_max = mem_caps[in[4] & 3];
	pool.hist_mem_max = (in[4] & CFG_NO_HIST) ? 0 : REASM_HIST_BYTES;
	pool.segs_max = SEGS_MAX;
	pool.bytes_max = BYTES_MAX;
	m->started = false;
	m->base = 0;
	m->usable = m->complete = m->consistent = m->exact = true;
	/* Only the bytes the last input used are dirty. */
	memset(m->known, 0, m->hi);
	memset(m->got, 0, m->hi);
	m->hi = 0;
	memset(&cs, 0, sizeof(cs));
	cs.m = m;
	cs.r = &r;
	cs.pool = &pool;
	sink.data = on_data;
	sink.gap = on_gap;
	sink.ctx = &cs;

	for (pos = 5; pos < size; ) {
		uint8_t op = in[pos++];
		uint32_t seq;
		size_t len, extra = 0;
		uint8_t *data;

		if ((op & OP_REC) == OP_ACK_REC) {
			if (size - pos < 4)
				break;
			reasm_ack(&r, isn + be32(in + pos));
			pos += 4;
			check_state(&r, &pool, &cs);
			continue;
		}
		if ((op & OP_REC) == OP_SKIP_REC && (op & OP_FORGET)) {
			reasm_forget(&r, &pool);
			cs.forgot = true;
			check_state(&r, &pool, &cs);
			continue;
		}
		if ((op & OP_REC) == OP_SKIP_REC && (op & OP_FORGET_IN)) {
			cs.forget_in = true;
			continue;
		}
		if ((op & OP_REC) == OP_SKIP_REC) {
			uint64_t before = r.next;
			bool stalled = reasm_stalled(&r);

			if (stalled || (op & 1)) {
				if (r.ooo != NULL)
					m->exact = false;
				reasm_skip_hole(&r, &pool, &sink);
			}
			/*
			 * Skipping a stalled hole makes progress (a later hole
			 * may stall it again, as flow.c expects).
			 */
			if (stalled)
				FUZZ_CHECK(r.next > before);
			check_state(&r, &pool, &cs);
			continue;
		}
		if (size - pos < (size_t)((op & OP_CUT) ? 8 : 6))
			break;
		seq = isn + be32(in + pos);
		len = (size_t)in[pos + 4] << 8 | in[pos + 5];
		pos += 6;
		if (op & OP_CUT) {
			extra = (size_t)in[pos] << 8 | in[pos + 1];
			pos += 2;
		}
		if (len > size - pos)
			len = size - pos;
		/* Exactly len bytes, so an over-read of the segment shows. */
		data = malloc(len > 0 ? len : 1);
		FUZZ_CHECK(data != NULL);
		memcpy(data, in + pos, len);
		pos += len;
		model_segment(m, seq, op & OP_FLAGS, data, len, len + extra);
		reasm_segment(&r, &pool, seq, op & OP_FLAGS, data, len,
		    len + extra, ++frame, &sink);
		free(data);
		check_state(&r, &pool, &cs);
		if (cs.forgot)
			FUZZ_CHECK(r.hist == NULL && r.hist_valid == 0);
		(void)reasm_done(&r);
	}

	reasm_finish(&r, &pool, &sink);
	check_state(&r, &pool, &cs);
	FUZZ_CHECK(r.ooo == NULL && r.nseg == 0 && r.ooo_bytes == 0);
	FUZZ_CHECK(pool.mem == 0);
	FUZZ_CHECK(!reasm_stalled(&r));
	FUZZ_CHECK(!r.fin_seen || reasm_done(&r));
	if (m->usable && m->complete && m->consistent) {
		FUZZ_CHECK(r.conflicts == 0);
		if (m->exact && pool.cap_skips == 0) {
			/* Every described byte came out; gaps hold the rest. */
			for (o = 0; o < m->hi; o++)
				FUZZ_CHECK(m->got[o] == m->known[o]);
		}
	}
	reasm_free(&r, &pool);
	FUZZ_CHECK(pool.mem == 0 && pool.hist_mem == 0);
	FUZZ_CHECK(r.hist == NULL && r.ooo == NULL);
	return 0;
}
