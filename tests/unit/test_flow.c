/*
 * test_flow.c - the flow table: roles, port reuse, eviction, expiry on
 * packet time, and the stream digests handed to the close hook.
 */
#include <string.h>

#include <openssl/evp.h>

#include "capture/decode.h"
#include "dissect/classify.h"
#include "dissect/flow.h"
#include "check.h"

#define RECS_MAX 16

static struct flow_record recs[RECS_MAX];
static uint8_t digests[RECS_MAX][2][32];	/* copied from each record */
static char protocols[RECS_MAX][64];
static int nrecs;
static char streams[2][512];	/* c2s, s2c of the flow being watched */

static void
on_data(void *ctx, struct flow *f, int dir, const uint8_t *b, size_t n,
    uint64_t frame)
{
	(void)ctx; (void)f; (void)frame;
	strncat(streams[dir], (const char *)b, n);
}

static void
on_close(void *ctx, struct flow *f, const struct flow_record *r)
{
	(void)ctx; (void)f;
	if (nrecs >= RECS_MAX)
		return;
	/* Digests and name live only as long as the hook: keep copies. */
	if (r->sha256 != NULL)
		memcpy(digests[nrecs], r->sha256, sizeof(digests[nrecs]));
	snprintf(protocols[nrecs], sizeof(protocols[nrecs]), "%s",
	    r->protocol != NULL ? r->protocol : "(none)");
	recs[nrecs++] = *r;
}

/* A table with these hooks (on_close always) and whether it digests. */
static struct flow_table *
table_with(uint32_t flows_max, bool digest, const struct flow_hooks *hooks)
{
	struct flow_limits lim;

	flow_limits_default(&lim);
	lim.flows_max = flows_max;
	lim.digest = digest;
	nrecs = 0;
	memset(streams, 0, sizeof(streams));
	return flow_table_new(&lim, NULL, hooks);
}

static struct flow_table *
table(uint32_t flows_max)
{
	static const struct flow_hooks h = { on_data, NULL, on_close, NULL };

	return table_with(flows_max, true, &h);
}

/* A packet from host a:ap to b:bp (IPv4 10.0.0.a). */
static void
pkt(struct flow_table *t, uint64_t ts, int a, uint16_t ap, int b,
    uint16_t bp, uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
	struct packet p;

	memset(&p, 0, sizeof(p));
	p.ts_us = ts;
	p.family = 4;
	p.src[0] = 10; p.src[3] = (uint8_t)a;
	p.dst[0] = 10; p.dst[3] = (uint8_t)b;
	p.sport = ap;
	p.dport = bp;
	p.flags = flags;
	p.seq = seq;
	p.ack = ack;
	p.payload = (const uint8_t *)data;
	p.payload_len = p.seg_len = strlen(data);
	flow_table_packet(t, &p);
}

static void
sha(const char *s, uint8_t out[32])
{
	unsigned int n;

	EVP_Digest(s, strlen(s), out, &n, EVP_sha256(), NULL);
}

/* A whole session: handshake, both directions, FIN both ways. */
static void
test_session(void)
{
	struct flow_table *t = table(16);
	uint8_t d[32];

	pkt(t, 1, 1, 40000, 2, 25, 0x02, 100, 0, "");
	pkt(t, 2, 2, 25, 1, 40000, 0x12, 900, 101, "");
	pkt(t, 3, 2, 25, 1, 40000, 0x18, 901, 101, "220 mx ESMTP\r\n");
	pkt(t, 4, 1, 40000, 2, 25, 0x18, 101, 915, "EHLO c\r\n");
	pkt(t, 5, 1, 40000, 2, 25, 0x11, 109, 915, "");
	pkt(t, 6, 2, 25, 1, 40000, 0x11, 915, 110, "");
	flow_table_free(t);
	CHECK(nrecs == 1);
	CHECK(recs[0].ip[0][3] == 1 && recs[0].port[0] == 40000);
	CHECK(recs[0].port[1] == 25 && recs[0].syn_seen);
	CHECK(strcmp(streams[0], "EHLO c\r\n") == 0);
	CHECK(strcmp(streams[1], "220 mx ESMTP\r\n") == 0);
	CHECK_EQ_U(recs[0].bytes[0], 8);
	CHECK_EQ_U(recs[0].packets[1], 3);
	sha("EHLO c\r\n", d);
	CHECK(recs[0].digest && memcmp(digests[0][0], d, 32) == 0);
	sha("220 mx ESMTP\r\n", d);
	CHECK(memcmp(digests[0][1], d, 32) == 0);
	CHECK(protocols[0][0] == '\0');	/* no classifier: unnamed */
	CHECK(recs[0].first_ts == 1 && recs[0].last_ts == 6);
}

/* Without a handshake the server is the side that sends a reply code... */
static void
test_roles_midstream(void)
{
	struct flow_table *t = table(16);

	pkt(t, 1, 7, 2525, 8, 51000, 0x18, 1, 1, "250 OK\r\n");
	flow_table_free(t);
	CHECK(nrecs == 1);
	CHECK(recs[0].port[1] == 2525 && recs[0].ip[1][3] == 7);
	CHECK(!recs[0].syn_seen);

	/* ...or listens on the well-known port... */
	t = table(16);
	pkt(t, 1, 8, 33000, 7, 587, 0x10, 1, 1, "");
	flow_table_free(t);
	CHECK(recs[0].port[1] == 587);

	/* ...and a SYN-ACK names the client as its receiver. */
	t = table(16);
	pkt(t, 1, 7, 9999, 8, 12345, 0x12, 1, 1, "");
	flow_table_free(t);
	CHECK(recs[0].port[0] == 12345 && recs[0].port[1] == 9999);
}

/* A new SYN on a used tuple starts a new flow; a retransmitted one not. */
static void
test_port_reuse(void)
{
	struct flow_table *t = table(16);

	pkt(t, 1, 1, 40000, 2, 25, 0x02, 100, 0, "");
	pkt(t, 2, 1, 40000, 2, 25, 0x02, 100, 0, "");	/* retransmit */
	pkt(t, 3, 1, 40000, 2, 25, 0x18, 101, 0, "first");
	pkt(t, 4, 1, 40000, 2, 25, 0x04, 106, 0, "");	/* RST */
	pkt(t, 5, 1, 40000, 2, 25, 0x02, 7000, 0, "");
	pkt(t, 6, 1, 40000, 2, 25, 0x18, 7001, 0, "second");
	flow_table_free(t);
	CHECK(nrecs == 2);
	CHECK(recs[0].reason == FLOW_CLOSE_REUSE);
	CHECK_EQ_U(recs[0].bytes[0], 5);
	CHECK_EQ_U(recs[1].bytes[0], 6);
	CHECK(recs[0].id == 1 && recs[1].id == 2);
}

/* At the cap the least recently seen flow is closed first. */
static void
test_eviction(void)
{
	struct flow_table *t = table(2);
	struct flow_stats st;

	pkt(t, 1, 1, 1001, 2, 25, 0x02, 1, 0, "");
	pkt(t, 2, 1, 1002, 2, 25, 0x02, 1, 0, "");
	pkt(t, 3, 1, 1001, 2, 25, 0x10, 2, 0, "");	/* 1001 is fresher */
	pkt(t, 4, 1, 1003, 2, 25, 0x02, 1, 0, "");
	CHECK(nrecs == 1);
	CHECK(recs[0].port[0] == 1002 && recs[0].reason == FLOW_CLOSE_EVICT);
	flow_table_stats(t, &st);
	CHECK(st.evicted == 1 && st.active == 2 && st.peak == 2);
	flow_table_free(t);
	CHECK(nrecs == 3);
}

/* Expiry follows packet time, not the clock. */
static void
test_expiry(void)
{
	struct flow_table *t = table(16);
	uint64_t s = 1000000;

	pkt(t, 1 * s, 1, 1001, 2, 25, 0x18, 1, 0, "x");
	pkt(t, 2 * s, 1, 1002, 2, 25, 0x02, 1, 0, "");
	pkt(t, 3 * s, 1, 1002, 2, 25, 0x04, 2, 0, "");	/* RST: lingers */
	pkt(t, 40 * s, 3, 1, 4, 2, 0x10, 1, 0, "");	/* 37 s later */
	CHECK(nrecs == 1 && recs[0].reason == FLOW_CLOSE_RST);
	/* > 600 s idle: both earlier flows go, oldest first. */
	pkt(t, 700 * s, 3, 1, 4, 2, 0x10, 1, 0, "");
	CHECK(nrecs == 3 && recs[1].reason == FLOW_CLOSE_IDLE);
	CHECK(recs[1].port[0] == 1001);
	CHECK(recs[2].port[0] == 2 && recs[2].port[1] == 1);	/* lower port serves */
	flow_table_free(t);
}

/* Time stepping backwards (merged captures) expires nothing by itself. */
static void
test_time_backwards(void)
{
	struct flow_table *t = table(16);
	uint64_t y = 365ULL * 86400 * 1000000;

	pkt(t, 2 * y, 5, 1, 6, 2, 0x10, 1, 0, "");	/* a later file first */
	pkt(t, y, 1, 40000, 2, 25, 0x02, 100, 0, "");
	pkt(t, y + 1, 2, 25, 1, 40000, 0x12, 900, 101, "");
	pkt(t, y + 2, 1, 40000, 2, 25, 0x18, 101, 901, "EHLO c\r\n");
	CHECK(nrecs == 0);
	flow_table_free(t);
	CHECK(nrecs == 2);
	CHECK_EQ_U(recs[1].bytes[0], 8);
	CHECK(recs[1].first_ts == y && recs[1].last_ts == y + 2);
}

/* IPv4 and IPv6 flows with the same numbers are different flows. */
static void
test_family_distinct(void)
{
	struct flow_table *t = table(16);
	struct packet p;

	pkt(t, 1, 1, 1001, 2, 25, 0x02, 1, 0, "");
	memset(&p, 0, sizeof(p));
	p.family = 6;
	p.src[0] = 10; p.src[3] = 1;
	p.dst[0] = 10; p.dst[3] = 2;
	p.sport = 1001; p.dport = 25; p.flags = 0x02;
	flow_table_packet(t, &p);
	flow_table_free(t);
	CHECK(nrecs == 2);
}

/*
 * Without digests, only a flow the stage above hung state on is named for
 * the close hook: the others are not written down.
 */
static int marker;

static void
on_data_mark(void *ctx, struct flow *f, int dir, const uint8_t *b, size_t n,
    uint64_t frame)
{
	(void)ctx; (void)dir; (void)b; (void)n; (void)frame;
	*flow_user(f) = &marker;
}

static void
test_named_when_kept(void)
{
	static const struct flow_hooks h = { on_data_mark, NULL, on_close,
	    NULL };
	struct flow_table *t = table_with(16, false, &h);

	pkt(t, 1, 1, 1001, 2, 25, 0x02, 1000, 0, "");
	pkt(t, 2, 2, 25, 1, 1001, 0x12, 5000, 1001, "");
	pkt(t, 3, 1, 1001, 2, 25, 0x18, 1001, 5001, "EHLO c\r\n");
	pkt(t, 4, 3, 1002, 2, 25, 0x02, 7000, 0, "");
	flow_table_free(t);
	CHECK(nrecs == 2);
	CHECK(recs[0].port[0] == 1001 && protocols[0][0] == '\0');
	CHECK(recs[1].port[0] == 1002 && strcmp(protocols[1], "(none)") == 0);
	CHECK(recs[0].sha256 == NULL && !recs[0].digest);
}

/*
 * One IPv4/TCP frame, built as on the wire and decoded, into a table with
 * a classifier: nDPI reads the IP header, so pkt() will not do.
 */
static void
wire(struct flow_table *t, uint64_t ts, int a, uint16_t ap, int b,
    uint16_t bp, uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
	uint8_t f[1500];
	size_t n = strlen(data), len = 40 + n;
	struct packet p;

	memset(f, 0, 40);
	f[0] = 0x45;
	f[2] = (uint8_t)(len >> 8); f[3] = (uint8_t)len;
	f[8] = 64; f[9] = 6;
	f[12] = 10; f[15] = (uint8_t)a;
	f[16] = 10; f[19] = (uint8_t)b;
	f[20] = (uint8_t)(ap >> 8); f[21] = (uint8_t)ap;
	f[22] = (uint8_t)(bp >> 8); f[23] = (uint8_t)bp;
	f[24] = (uint8_t)(seq >> 24); f[25] = (uint8_t)(seq >> 16);
	f[26] = (uint8_t)(seq >> 8); f[27] = (uint8_t)seq;
	f[28] = (uint8_t)(ack >> 24); f[29] = (uint8_t)(ack >> 16);
	f[30] = (uint8_t)(ack >> 8); f[31] = (uint8_t)ack;
	f[32] = 0x50; f[33] = flags;
	f[34] = 0xff; f[35] = 0xff;
	memcpy(f + 40, data, n);
	CHECK(decode_frame(DLT_IPV4, f, len, len, false, &p) == DECODE_TCP);
	p.ts_us = ts;
	flow_table_packet(t, &p);
}

/* Both flows, named by a classifier that looks for everything or for mail. */
static void
classify_flows(bool every_protocol)
{
	static const struct flow_hooks h = { NULL, NULL, on_close, NULL };
	struct flow_limits lim;
	struct classify *c = classify_new(every_protocol);
	struct flow_table *t;

	CHECK(c != NULL);
	flow_limits_default(&lim);
	nrecs = 0;
	t = flow_table_new(&lim, c, &h);
	wire(t, 1, 1, 40000, 2, 8000, 0x02, 100, 0, "");
	wire(t, 2, 2, 8000, 1, 40000, 0x12, 900, 101, "");
	wire(t, 3, 1, 40000, 2, 8000, 0x10, 101, 901, "");
	wire(t, 4, 1, 40000, 2, 8000, 0x18, 101, 901,
	    "GET / HTTP/1.1\r\nHost: www.example.org\r\n"
	    "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n");
	wire(t, 5, 2, 8000, 1, 40000, 0x18, 901, 180,
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	wire(t, 11, 3, 40001, 4, 25, 0x02, 100, 0, "");
	wire(t, 12, 4, 25, 3, 40001, 0x12, 900, 101, "");
	wire(t, 13, 3, 40001, 4, 25, 0x10, 101, 901, "");
	wire(t, 14, 4, 25, 3, 40001, 0x18, 901, 101,
	    "220 mx.example.org ESMTP Postfix\r\n");
	wire(t, 15, 3, 40001, 4, 25, 0x18, 101, 935, "EHLO c.example.org\r\n");
	wire(t, 16, 4, 25, 3, 40001, 0x18, 935, 120,
	    "250-mx.example.org\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
	    "250 8BITMIME\r\n");
	wire(t, 17, 3, 40001, 4, 25, 0x18, 120, 1005,
	    "MAIL FROM:<a@c.example.org>\r\n");
	wire(t, 18, 4, 25, 3, 40001, 0x18, 1005, 148, "250 2.1.0 Ok\r\n");
	flow_table_free(t);
	classify_free(c);
	CHECK(nrecs == 2);
}

/*
 * Looking for every protocol (--all-flows) names the web flow by what it
 * says; looking for mail only does not (on port 80 nDPI's guess from the
 * port would name it all the same), and names the SMTP session the same.
 */
static void
test_classify_scope(void)
{
	classify_flows(true);
	CHECK(strcmp(protocols[0], "HTTP") == 0);
	CHECK(strcmp(protocols[1], "SMTP") == 0);
	classify_flows(false);
	CHECK(strncmp(protocols[0], "HTTP", 4) != 0);
	CHECK(strcmp(protocols[1], "SMTP") == 0);
}

int
main(void)
{
	RUN(test_session);
	RUN(test_roles_midstream);
	RUN(test_port_reuse);
	RUN(test_eviction);
	RUN(test_expiry);
	RUN(test_time_backwards);
	RUN(test_family_distinct);
	RUN(test_named_when_kept);
	RUN(test_classify_scope);
	return check_done("flow");
}
