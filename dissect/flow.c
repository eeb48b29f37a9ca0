/*
 * flow.c - the bidirectional TCP flow table (RFC 9293 connection life).
 *
 * Flows hash on the unordered 5-tuple with a per-process random seed, so
 * crafted tuples cannot pile into one chain.  Two LRU lists, one for open
 * flows and one for flows lingering after FIN/RST, each with one timeout,
 * so the oldest flow of each is always at its tail: expiry and eviction
 * are O(1) per flow and driven by packet time only.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "config.h"
#include "flow.h"
#include "reasm.h"

struct flow_list {
	struct flow	*head, *tail;	/* most and least recently seen */
};

/*
 * What following a flow's streams takes: reassembly, digests, nDPI.  Only
 * flows still followed have one; flow_bypass() gives it back.
 */
struct flow_stream {
	uint64_t		 stalled[2];	/* table clock when a direction began
						   waiting on an acknowledged hole,
						   0 = not waiting */
	struct reasm		 r[2];		/* per direction */
	EVP_MD_CTX		*md[2];		/* stream digests, lazily made */
	struct classify_state	 cls;
	/*
	 * Packets before the first payload, kept for nDPI (which needs the
	 * handshake): it sees them only once the flow proves worth it.
	 */
	uint8_t			 npre;
	struct {
		uint64_t	 ts;
		uint16_t	 len;
		uint8_t		 l3[FLOW_PRE_L3_MAX];
	}			 pre[FLOW_PRE_PKTS];
	struct flow_stream	*spare;		/* free list */
};

struct flow {
	/* What a lookup reads, together: link, hash, then the tuple. */
	struct flow		*hnext;		/* hash chain */
	uint32_t		 hash;
	uint32_t		 client_isn;	/* valid when rec.syn_seen */
	struct flow_record	 rec;
	struct flow		*prev, *next;	/* LRU list */
	struct flow_list	*list;		/* which LRU list holds it */
	uint64_t		 seen;		/* table clock at its last packet */
	struct flow_stream	*s;		/* NULL once bypassed (or spare) */
	void			*user;
	uint32_t		 hi[2];		/* bypassed: next sequence number
						   past the highest byte seen */
	uint16_t		 proto[2];	/* bypassed: nDPI's master, app */
	bool			 fin[2];	/* FIN seen per direction */
	bool			 rst;
	bool			 bypass;	/* the stage above is done with it */
	bool			 hi_valid[2];
};

/*
 * Flows and stream states come from blocks of FLOW_SLAB_ITEMS, aligned to
 * cache lines and never given back before the table goes: the flow cap
 * bounds them, the spare lists recycle them, and a flood costs no malloc
 * per flow.
 */
#define SLAB_HEAD	64		/* a cache line: the block link, alignment */
#define SLAB_ROUND(n)	(((n) + SLAB_HEAD - 1) / SLAB_HEAD * SLAB_HEAD)

struct slab {
	void		*blocks;	/* each begins with the next's pointer */
	char		*next, *end;	/* what is left of the newest block */
	size_t		 size;		/* of an item, a multiple of 64 */
};

struct flow_table {
	struct flow_limits	 lim;
	struct flow_hooks	 hooks;
	struct classify		*cls;
	struct reasm_pool	 pool;
	struct flow		**bucket;
	uint32_t		 mask;		/* buckets - 1 */
	uint64_t		 seed;
	struct flow_list	 open, closing;
	uint64_t		 now;		/* latest packet time seen: the
						   table clock, never backwards */
	EVP_MD			*sha256;
	struct flow_stream	*spare;		/* released stream states */
	struct flow		*spare_flows;	/* released flows, by hnext */
	struct slab		 flow_slab, stream_slab;
	struct flow_stats	 st;
	bool			 ending;	/* flow_table_free() runs */
};

/* Data handed from the reassembler back to the hooks. */
struct dir_sink {
	struct flow_table	*t;
	struct flow		*f;
	int			 dir;
};

static void *
slab_alloc(struct slab *sl)
{
	void *p;

	if (sl->next == sl->end) {
		size_t len = SLAB_HEAD + sl->size * FLOW_SLAB_ITEMS;
		char *b;

		if ((b = aligned_alloc(SLAB_HEAD, len)) == NULL)
			return NULL;
		*(void **)b = sl->blocks;
		sl->blocks = b;
		sl->next = b + SLAB_HEAD;
		sl->end = b + len;
	}
	p = sl->next;
	sl->next += sl->size;
	return p;
}

static void
slab_free(struct slab *sl)
{
	while (sl->blocks != NULL) {
		void *b = sl->blocks;

		sl->blocks = *(void **)b;
		free(b);
	}
}

void
flow_limits_default(struct flow_limits *l)
{
	l->flows_max = FLOW_MAX;
	l->idle_us = FLOW_IDLE_US;
	l->closed_us = FLOW_CLOSED_US;
	l->ooo_segs_max = REASM_OOO_SEGS_MAX;
	l->ooo_bytes_max = REASM_OOO_BYTES_MAX;
	l->mem_max = REASM_MEM_MAX;
	l->hist_mem_max = REASM_HIST_MEM_MAX;
	l->digest = true;
}

const char *
flow_close_reason_name(enum flow_close_reason r)
{
	switch (r) {
	case FLOW_CLOSE_FIN:	return "fin";
	case FLOW_CLOSE_RST:	return "rst";
	case FLOW_CLOSE_IDLE:	return "idle";
	case FLOW_CLOSE_EVICT:	return "evict";
	case FLOW_CLOSE_REUSE:	return "reuse";
	case FLOW_CLOSE_END:	return "end";
	}
	return "unknown";
}

/* Mixes one 64-bit word into h. */
static inline uint64_t
mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static uint64_t
load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Hash of the unordered endpoint pair, the same from either side: the
 * endpoints are put in an order first (any order both sides agree on).
 */
static inline uint32_t
tuple_hash(const struct flow_table *t, const struct packet *p)
{
	uint64_t a0 = load64(p->src), a1 = load64(p->src + 8);
	uint64_t b0 = load64(p->dst), b1 = load64(p->dst + 8);
	uint64_t h = t->seed ^ p->family, ports;

	if (a0 < b0 || (a0 == b0 && (a1 < b1 ||
	    (a1 == b1 && p->sport <= p->dport)))) {
		ports = (uint64_t)p->sport << 16 | p->dport;
	} else {
		uint64_t x0 = a0, x1 = a1;

		a0 = b0, a1 = b1;
		b0 = x0, b1 = x1;
		ports = (uint64_t)p->dport << 16 | p->sport;
	}
	h = mix(h, a0);
	h = mix(h, a1);
	h = mix(h, b0);
	h = mix(h, b1);
	h = mix(h, ports);
	return (uint32_t)(h ^ (h >> 32));
}

static void
list_unlink(struct flow *f)
{
	struct flow_list *l = f->list;

	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		l->head = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	else
		l->tail = f->prev;
	f->prev = f->next = NULL;
	f->list = NULL;
}

static void
list_push(struct flow_list *l, struct flow *f)
{
	f->list = l;
	f->prev = NULL;
	f->next = l->head;
	if (l->head != NULL)
		l->head->prev = f;
	else
		l->tail = f;
	l->head = f;
}

static void
sink_data(void *ctx, const uint8_t *buf, size_t len, uint64_t frame)
{
	struct dir_sink *ds = ctx;
	struct flow_table *t = ds->t;
	struct flow *f = ds->f;
	EVP_MD_CTX **md = &f->s->md[ds->dir];

	if (t->lim.digest) {
		if (*md == NULL && ((*md = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(*md, t->sha256, NULL) != 1))
			abort();	/* OpenSSL out of memory */
		EVP_DigestUpdate(*md, buf, len);
	}
	if (!f->bypass && t->hooks.data != NULL) {
		t->hooks.data(t->hooks.ctx, f, ds->dir, buf, len, frame);
		/*
		 * Let go at these bytes (flow_bypass() is only called from
		 * this hook): nothing judges its retransmissions any more, so
		 * none of it goes to history and the budget is left to the
		 * flows still judged.
		 */
		if (f->bypass) {
			reasm_forget(&f->s->r[0], &t->pool);
			reasm_forget(&f->s->r[1], &t->pool);
		}
	}
}

static void
sink_gap(void *ctx, uint64_t len)
{
	struct dir_sink *ds = ctx;

	if (!ds->f->bypass && ds->t->hooks.gap != NULL)
		ds->t->hooks.gap(ds->t->hooks.ctx, ds->f, ds->dir, len);
}

static void
sink_init(struct reasm_sink *rs, struct dir_sink *ds, struct flow_table *t,
    struct flow *f, int dir)
{
	ds->t = t;
	ds->f = f;
	ds->dir = dir;
	rs->data = sink_data;
	rs->gap = sink_gap;
	rs->ctx = ds;
}

static void
pool_peak(struct flow_table *t)
{
	if (t->pool.mem + t->pool.hist_mem > t->st.mem_peak)
		t->st.mem_peak = t->pool.mem + t->pool.hist_mem;
}

/* Shows the kept handshake packets, then p (if any), to nDPI. */
static void
classify_replay(struct flow_table *t, struct flow_stream *fs,
    const struct packet *p)
{
	struct packet q;
	uint8_t i;

	for (i = 0; i < fs->npre; i++) {
		memset(&q, 0, sizeof(q));
		q.l3 = fs->pre[i].l3;
		q.l3_len = fs->pre[i].len;
		q.ts_us = fs->pre[i].ts;
		classify_packet(t->cls, &fs->cls, &q);
	}
	fs->npre = 0;
	if (p != NULL)
		classify_packet(t->cls, &fs->cls, p);
}

/* Counts, as stream bytes, what a bypassed flow's segment adds. */
static void
bypass_count(struct flow *f, int dir, const struct packet *p)
{
	uint32_t start = p->seq + ((p->flags & TCP_SYN) ? 1 : 0);
	uint32_t end = start + (uint32_t)p->seg_len;

	if (p->seg_len == 0)	/* a FIN's or SYN's own number is no byte */
		return;
	if (!f->hi_valid[dir]) {
		f->hi[dir] = start;
		f->hi_valid[dir] = true;
	}
	if ((int32_t)(end - f->hi[dir]) > 0) {
		f->rec.bytes[dir] += end - f->hi[dir];
		f->hi[dir] = end;
	}
}

/*
 * Ends following: the counters of both streams go to the record, their
 * buffers are released, later segments are only counted.
 */
static void
stream_release(struct flow_table *t, struct flow *f)
{
	struct flow_stream *fs = f->s;
	int dir;

	for (dir = 0; dir < 2; dir++) {
		struct reasm *r = &fs->r[dir];

		f->rec.bytes[dir] = r->bytes + r->gap_bytes;
		f->rec.gaps[dir] = r->gaps;
		f->rec.gap_bytes[dir] = r->gap_bytes;
		f->hi_valid[dir] = r->started;
		f->hi[dir] = r->base + (uint32_t)(r->bytes + r->gap_bytes);
		reasm_free(r, &t->pool);
		EVP_MD_CTX_free(fs->md[dir]);
	}
	f->rec.conflicts = fs->r[0].conflicts + fs->r[1].conflicts;
	classify_finish(t->cls, &fs->cls);
	f->proto[0] = fs->cls.master;
	f->proto[1] = fs->cls.app;
	fs->spare = t->spare;
	t->spare = fs;
	f->s = NULL;
}

/*
 * The one way out of the table: finishes both streams, reports the record
 * to the close hook, releases everything.
 */
static void
flow_close(struct flow_table *t, struct flow *f, enum flow_close_reason why)
{
	struct flow_stream *fs = f->s;
	struct classify_state named;
	uint8_t sha256[2][32];
	char protocol[64];
	struct flow **pp;
	unsigned int mdlen;
	int dir;

	for (dir = 0; fs != NULL && dir < 2; dir++) {
		struct reasm_sink rs;
		struct dir_sink ds;

		sink_init(&rs, &ds, t, f, dir);
		reasm_finish(&fs->r[dir], &t->pool, &rs);
	}
	memset(&named, 0, sizeof(named));
	named.master = f->proto[0];
	named.app = f->proto[1];
	if (fs != NULL) {
		/*
		 * Keeping digests, every flow is named, one without payload
		 * from its ports.
		 */
		if (t->lim.digest)
			classify_replay(t, fs, NULL);
		classify_finish(t->cls, &fs->cls);
		named = fs->cls;
		f->rec.digest = t->lim.digest;
		for (dir = 0; dir < 2; dir++) {
			EVP_MD_CTX *md = fs->md[dir];

			if (t->lim.digest) {
				if (md == NULL && ((md = EVP_MD_CTX_new()) ==
				    NULL || EVP_DigestInit_ex(md, t->sha256,
				    NULL) != 1))
					abort();	/* empty stream */
				EVP_DigestFinal_ex(md, sha256[dir], &mdlen);
			}
			EVP_MD_CTX_free(md);
			fs->md[dir] = NULL;
			f->rec.bytes[dir] = fs->r[dir].bytes;
			f->rec.gaps[dir] = fs->r[dir].gaps;
			f->rec.gap_bytes[dir] = fs->r[dir].gap_bytes;
		}
		f->rec.conflicts = fs->r[0].conflicts + fs->r[1].conflicts;
		if (!f->bypass)
			f->rec.conflicts_followed = f->rec.conflicts;
	}
	/* Named only when the stage above can write it down. */
	f->rec.protocol = NULL;
	if (f->user != NULL || t->lim.digest) {
		protocol[0] = '\0';
		classify_name(t->cls, &named, protocol, sizeof(protocol));
		f->rec.protocol = protocol;
	}
	f->rec.sha256 = f->rec.digest ? (const uint8_t (*)[32])sha256 : NULL;
	f->rec.reason = why;
	if (t->hooks.close != NULL)
		t->hooks.close(t->hooks.ctx, f, &f->rec);
	f->rec.protocol = NULL;
	f->rec.sha256 = NULL;
	if (fs != NULL) {
		for (dir = 0; dir < 2; dir++)
			reasm_free(&fs->r[dir], &t->pool);
		fs->spare = t->spare;
		t->spare = fs;
	}
	/* A table going away needs no chains: that would be a miss a flow. */
	if (!t->ending) {
		for (pp = &t->bucket[f->hash & t->mask]; *pp != f;
		    pp = &(*pp)->hnext)
			;
		*pp = f->hnext;
	}
	list_unlink(f);
	t->st.active--;
	f->hnext = t->spare_flows;
	t->spare_flows = f;
}

struct flow_table *
flow_table_new(const struct flow_limits *lim, struct classify *cls,
    const struct flow_hooks *hooks)
{
	struct flow_table *t;
	uint32_t n = 1024;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->lim = *lim;
	if (t->lim.flows_max == 0)
		t->lim.flows_max = 1;
	if (hooks != NULL)
		t->hooks = *hooks;
	t->cls = cls;
	t->pool.mem_max = lim->mem_max;
	t->pool.hist_mem_max = lim->hist_mem_max;
	t->pool.segs_max = lim->ooo_segs_max;
	t->pool.bytes_max = lim->ooo_bytes_max;
	while (n < t->lim.flows_max && n < (1U << 30))
		n <<= 1;
	t->mask = n - 1;
	if (getrandom(&t->seed, sizeof(t->seed), 0) != sizeof(t->seed))
		t->seed = 0x5eed5eed5eed5eedULL;
	t->flow_slab.size = SLAB_ROUND(sizeof(struct flow));
	t->stream_slab.size = SLAB_ROUND(sizeof(struct flow_stream));
	t->bucket = calloc(n, sizeof(*t->bucket));
	t->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (t->bucket == NULL || t->sha256 == NULL) {
		EVP_MD_free(t->sha256);
		free(t->bucket);
		free(t);
		return NULL;
	}
	return t;
}

static bool
server_port(uint16_t port)
{
	switch (port) {
	case 25: case 465: case 587: case 2525:		/* SMTP */
	case 110: case 143: case 993: case 995:		/* POP3, IMAP */
	case 80: case 443: case 8080: case 53:
		return true;
	}
	return false;
}

/* A payload that opens with an SMTP/FTP style reply code came from a server. */
static bool
looks_like_reply(const struct packet *p)
{
	const uint8_t *b = p->payload;

	return p->payload_len >= 4 && b[0] >= '1' && b[0] <= '5' &&
	    b[1] >= '0' && b[1] <= '9' && b[2] >= '0' && b[2] <= '9' &&
	    (b[3] == ' ' || b[3] == '-');
}

/*
 * Decides whether the sender of the first packet seen is the client: the
 * handshake if seen, else a reply banner, else the well-known port, else
 * the lower port is the server's.
 */
static bool
sender_is_client(const struct packet *p)
{
	bool ss, ds;

	if (p->flags & TCP_SYN)
		return !(p->flags & TCP_ACK);
	if (looks_like_reply(p))
		return false;
	ss = server_port(p->sport);
	ds = server_port(p->dport);
	if (ss != ds)
		return ds;
	return p->dport <= p->sport;
}

static void
evict_one(struct flow_table *t)
{
	struct flow *f = t->closing.tail != NULL ? t->closing.tail :
	    t->open.tail;

	if (f == NULL)
		return;
	t->st.evicted++;
	flow_close(t, f, FLOW_CLOSE_EVICT);
}

static struct flow *
flow_create(struct flow_table *t, const struct packet *p, uint32_t hash)
{
	struct flow_stream *fs;
	struct flow *f;
	int c;

	while (t->st.active >= t->lim.flows_max)
		evict_one(t);
	if ((fs = t->spare) != NULL)
		t->spare = fs->spare;
	else if ((fs = slab_alloc(&t->stream_slab)) == NULL)
		return NULL;
	if ((f = t->spare_flows) != NULL)
		t->spare_flows = f->hnext;
	else if ((f = slab_alloc(&t->flow_slab)) == NULL) {
		fs->spare = t->spare;
		t->spare = fs;
		return NULL;
	}
	memset(f, 0, sizeof(*f));
	memset(fs, 0, offsetof(struct flow_stream, pre));
	f->s = fs;
	c = sender_is_client(p) ? 0 : 1;
	f->hash = hash;
	f->rec.id = ++t->st.flows;
	f->rec.family = p->family;
	memcpy(f->rec.ip[c], p->src, 16);
	memcpy(f->rec.ip[!c], p->dst, 16);
	f->rec.port[c] = p->sport;
	f->rec.port[!c] = p->dport;
	f->rec.first_ts = f->rec.last_ts = p->ts_us;
	f->rec.first_source = p->source;
	f->rec.first_frame = p->frame;
	f->hnext = t->bucket[hash & t->mask];
	t->bucket[hash & t->mask] = f;
	list_push(&t->open, f);
	if (++t->st.active > t->st.peak)
		t->st.peak = t->st.active;
	return f;
}

/* Finds the flow of p and the direction p travels in, or NULL. */
static struct flow *
flow_find(struct flow_table *t, const struct packet *p, uint32_t hash,
    int *dir)
{
	struct flow *f;

	for (f = t->bucket[hash & t->mask]; f != NULL; f = f->hnext) {
		if (f->hash != hash || f->rec.family != p->family)
			continue;
		if (f->rec.port[0] == p->sport && f->rec.port[1] == p->dport &&
		    memcmp(f->rec.ip[0], p->src, 16) == 0 &&
		    memcmp(f->rec.ip[1], p->dst, 16) == 0) {
			*dir = FLOW_C2S;
			return f;
		}
		if (f->rec.port[1] == p->sport && f->rec.port[0] == p->dport &&
		    memcmp(f->rec.ip[1], p->src, 16) == 0 &&
		    memcmp(f->rec.ip[0], p->dst, 16) == 0) {
			*dir = FLOW_S2C;
			return f;
		}
	}
	return NULL;
}

static void
expire(struct flow_table *t)
{
	int n;

	for (n = 0; n < FLOW_EXPIRE_BATCH && t->closing.tail != NULL &&
	    t->closing.tail->seen + t->lim.closed_us < t->now; n++) {
		struct flow *f = t->closing.tail;

		t->st.expired++;
		flow_close(t, f, f->rst ? FLOW_CLOSE_RST : FLOW_CLOSE_FIN);
	}
	for (n = 0; n < FLOW_EXPIRE_BATCH && t->open.tail != NULL &&
	    t->open.tail->seen + t->lim.idle_us < t->now; n++) {
		t->st.expired++;
		flow_close(t, t->open.tail, FLOW_CLOSE_IDLE);
	}
}

/*
 * A hole the peer acknowledged is given up only after REASM_STALL_US of
 * packet time: captures often hold an ACK before the data it covers, and
 * that data, arriving a little later, must still be used.
 */
static void
unstall(struct flow_table *t, struct flow *f)
{
	struct flow_stream *fs = f->s;
	struct reasm_sink rs;
	struct dir_sink ds;
	int dir;

	for (dir = 0; dir < 2; dir++) {
		if (!reasm_stalled(&fs->r[dir])) {
			fs->stalled[dir] = 0;
			continue;
		}
		if (fs->stalled[dir] == 0) {
			fs->stalled[dir] = t->now;
			continue;
		}
		if (t->now - fs->stalled[dir] < REASM_STALL_US)
			continue;
		sink_init(&rs, &ds, t, f, dir);
		reasm_skip_hole(&fs->r[dir], &t->pool, &rs);
		fs->stalled[dir] = reasm_stalled(&fs->r[dir]) ? t->now : 0;
	}
}

/*
 * A SYN without ACK on a known tuple is a retransmitted SYN only if it
 * repeats the client's initial sequence number; otherwise the tuple is
 * being reused by a new connection.
 */
static bool
is_new_connection(const struct flow *f, const struct packet *p, int dir)
{
	if ((p->flags & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		return false;
	return !(dir == FLOW_C2S && f->rec.syn_seen && p->seq == f->client_isn);
}

/* One segment of a followed flow: nDPI, reassembly, delivery. */
static void
follow(struct flow_table *t, struct flow *f, int dir, const struct packet *p)
{
	struct flow_stream *fs = f->s;
	struct reasm_sink rs;
	struct dir_sink ds;

	sink_init(&rs, &ds, t, f, dir);
	if (!(p->flags & TCP_RST))
		reasm_segment(&fs->r[dir], &t->pool, p->seq, p->flags,
		    p->payload, p->payload_len, p->seg_len, p->frame, &rs);
	if (p->flags & TCP_ACK)
		reasm_ack(&fs->r[!dir], p->ack);
	unstall(t, f);
	pool_peak(t);
	/* A direction that is complete up to its FIN needs no buffers. */
	if (reasm_done(&fs->r[dir]))
		reasm_free(&fs->r[dir], &t->pool);
	/* Digests still need every byte of a flow let go (sink_data()). */
	if (f->bypass && !t->lim.digest) {
		stream_release(t, f);
		return;
	}
	/*
	 * nDPI after the stage above had its say, so a flow given up at its
	 * first bytes costs nDPI nothing; the handshake it needs is kept.
	 */
	if (fs->cls.done || t->cls == NULL)
		return;
	if (p->payload_len > 0 || fs->cls.pkts > 0)
		classify_replay(t, fs, p);
	else if (fs->npre < FLOW_PRE_PKTS && p->l3_len <= FLOW_PRE_L3_MAX) {
		memcpy(fs->pre[fs->npre].l3, p->l3, p->l3_len);
		fs->pre[fs->npre].len = (uint16_t)p->l3_len;
		fs->pre[fs->npre].ts = p->ts_us;
		fs->npre++;
	}
}

uint32_t
flow_table_hash(const struct flow_table *t, const struct packet *p)
{
	return tuple_hash(t, p);
}

void
flow_table_prefetch(const struct flow_table *t, uint32_t hash)
{
	__builtin_prefetch(&t->bucket[hash & t->mask]);
}

void
flow_table_prefetch_flow(const struct flow_table *t, uint32_t hash)
{
	const char *f = (const char *)t->bucket[hash & t->mask];
	size_t off;

	/* The first of its chain, most often the one: all of it is used. */
	for (off = 0; f != NULL && off < sizeof(struct flow); off += 64)
		__builtin_prefetch(f + off, 1);
}

bool
flow_table_packet(struct flow_table *t, const struct packet *p)
{
	return flow_table_packet_hash(t, p, tuple_hash(t, p));
}

bool
flow_table_packet_hash(struct flow_table *t, const struct packet *p,
    uint32_t hash)
{
	struct flow *f;
	int dir = FLOW_C2S;

	if (p->ts_us > t->now)
		t->now = p->ts_us;
	expire(t);
	f = flow_find(t, p, hash, &dir);
	if (f != NULL && is_new_connection(f, p, dir)) {
		t->st.reused++;
		flow_close(t, f, FLOW_CLOSE_REUSE);
		f = NULL;
	}
	if (f == NULL) {
		if ((f = flow_create(t, p, hash)) == NULL)
			return false;
		dir = f->rec.port[0] == p->sport &&
		    memcmp(f->rec.ip[0], p->src, 16) == 0 ? FLOW_C2S : FLOW_S2C;
	}
	if ((p->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && dir == FLOW_C2S &&
	    !f->rec.syn_seen) {
		f->rec.syn_seen = true;
		f->client_isn = p->seq;
	}
	/*
	 * Idleness is measured on the table clock, so a capture whose time
	 * steps backwards (merged files, a bad clock) does not expire every
	 * flow it touches.
	 */
	f->seen = t->now;
	if (p->ts_us > f->rec.last_ts)
		f->rec.last_ts = p->ts_us;
	f->rec.last_frame = p->frame;
	f->rec.packets[dir]++;
	if (f->list == &t->open) {
		list_unlink(f);
		list_push(&t->open, f);
	}
	if (f->s != NULL)
		follow(t, f, dir, p);
	else
		bypass_count(f, dir, p);
	if (p->flags & TCP_FIN)
		f->fin[dir] = true;
	if (p->flags & TCP_RST)
		f->rst = true;
	if (f->list == &t->open && (f->rst || (f->fin[0] && f->fin[1]))) {
		list_unlink(f);
		list_push(&t->closing, f);
	} else if (f->list == &t->closing) {
		list_unlink(f);
		list_push(&t->closing, f);
	}
	return !f->bypass;
}

void
flow_bypass(struct flow *f)
{
	if (f->bypass)
		return;
	f->bypass = true;
	if (f->s != NULL)
		f->rec.conflicts_followed = f->s->r[0].conflicts +
		    f->s->r[1].conflicts;
}

void
flow_table_free(struct flow_table *t)
{
	if (t == NULL)
		return;
	t->ending = true;
	/* Oldest first, so records come out in a stable order. */
	while (t->closing.tail != NULL || t->open.tail != NULL) {
		struct flow *a = t->closing.tail, *b = t->open.tail, *f;

		if (a == NULL)
			f = b;
		else if (b == NULL)
			f = a;
		else
			f = a->rec.id < b->rec.id ? a : b;
		/* A flow that had finished says how, not just "end". */
		if (f->list == &t->closing)
			flow_close(t, f, f->rst ? FLOW_CLOSE_RST : FLOW_CLOSE_FIN);
		else
			flow_close(t, f, FLOW_CLOSE_END);
	}
	slab_free(&t->flow_slab);
	slab_free(&t->stream_slab);
	EVP_MD_free(t->sha256);
	free(t->bucket);
	free(t);
}

void
flow_table_stats(const struct flow_table *t, struct flow_stats *st)
{
	*st = t->st;
	st->mem = t->pool.mem + t->pool.hist_mem;
	st->cap_skips = t->pool.cap_skips;
	st->unverified = t->pool.unverified;
}

void **
flow_user(struct flow *f)
{
	return &f->user;
}

const struct flow_record *
flow_peek(struct flow *f)
{
	return &f->rec;
}
