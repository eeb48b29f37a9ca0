/*
 * test_tls.c - the TLS dissector on hand-built handshakes: TLS 1.0-1.2
 * full and resumed, TLS 1.3 with supported_versions and a
 * HelloRetryRequest, messages fragmented across records and coalesced
 * into one, alerts, caps, lengths that lie, records that are not TLS,
 * gaps; and on a server's first flight captured from a real STARTTLS
 * session.  Every conversation is fed whole, byte by byte, cut at every
 * offset of each chunk and in random pieces, and must log the same
 * events each time.  TLS_SEED_DIR=dir writes each conversation there as
 * a fuzz/fuzz_tls.c input: the seed corpus is made that way.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/tls.h"
#include "check.h"

#define LOG_MAX		8192
#define BLD_MAX		(200 * 1024)
#define CHUNKS_MAX	16
#define CUT_AT_MAX	20000	/* bytes: longer chunks not cut everywhere */

/* Builds wire bytes; open_len() reserves a length that close_len() fills. */
struct bld {
	uint8_t	 b[BLD_MAX];
	size_t	 n;
	size_t	 at[8];		/* offsets of the open length fields */
	int	 width[8];	/* their widths, bytes */
	int	 depth;
};

/* One direction's bytes in one frame. */
struct chunk {
	int	 dir;
	uint8_t	*b;
	size_t	 len;
	bool	 gap;		/* a gap of len bytes instead */
};

struct conv {
	struct chunk	 c[CHUNKS_MAX];
	size_t		 n;
};

static char logbuf[LOG_MAX];
static struct bld B;		/* scratch, reset by each builder */

static void logf_(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
logf_(const char *fmt, ...)
{
	size_t used = strlen(logbuf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(logbuf + used, LOG_MAX - used, fmt, ap);
	va_end(ap);
}

static void
put(struct bld *b, const void *p, size_t n)
{
	if (n > BLD_MAX - b->n)
		abort();
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
u8(struct bld *b, unsigned v)
{
	uint8_t x = (uint8_t)v;

	put(b, &x, 1);
}

static void
u16(struct bld *b, unsigned v)
{
	u8(b, v >> 8);
	u8(b, v);
}

static void
u24(struct bld *b, unsigned long v)
{
	u8(b, (unsigned)(v >> 16));
	u16(b, (unsigned)(v & 0xffff));
}

static void
fill(struct bld *b, unsigned v, size_t n)
{
	while (n-- > 0)
		u8(b, v);
}

static void
open_len(struct bld *b, int width)
{
	b->at[b->depth] = b->n;
	b->width[b->depth++] = width;
	fill(b, 0, (size_t)width);
}

static void
close_len(struct bld *b)
{
	size_t at = b->at[--b->depth], len = b->n - at - b->width[b->depth];
	int i;

	for (i = b->width[b->depth] - 1; i >= 0; i--, len >>= 8)
		b->b[at + i] = (uint8_t)len;
}

/* A record of type and version around whatever is written until close. */
static void
rec_open(struct bld *b, unsigned type, unsigned version)
{
	u8(b, type);
	u16(b, version);
	open_len(b, 2);
}

static void
hs_open(struct bld *b, unsigned type)
{
	u8(b, type);
	open_len(b, 3);
}

struct ch {
	unsigned	 legacy;
	const char	*sni;		/* NULL: no server_name */
	size_t		 sni_len;	/* 0: strlen */
	const unsigned	*versions;	/* supported_versions, 0-terminated */
	unsigned	 sidlen, sidbyte;
	int		 ticket;	/* 0 none, 1 empty extension, 2 one */
	bool		 psk;
	bool		 no_exts;	/* nothing after compression_methods */
};

/* A ClientHello handshake message (not a record). */
static void
client_hello(struct bld *b, const struct ch *o)
{
	size_t i;

	hs_open(b, 1);
	u16(b, o->legacy);
	fill(b, 0xaa, 32);
	u8(b, o->sidlen);
	fill(b, o->sidbyte, o->sidlen);
	u16(b, 6);
	u16(b, 0xc02f);
	u16(b, 0x1301);
	u16(b, 0x002f);
	u8(b, 1);
	u8(b, 0);
	if (o->no_exts) {
		close_len(b);
		return;
	}
	open_len(b, 2);
	u16(b, 0xfafa);		/* GREASE extension */
	u16(b, 0);
	if (o->sni != NULL) {
		u16(b, 0);
		open_len(b, 2);
		open_len(b, 2);
		u8(b, 0);
		open_len(b, 2);
		put(b, o->sni, o->sni_len ? o->sni_len : strlen(o->sni));
		close_len(b);
		close_len(b);
		close_len(b);
	}
	u16(b, 10);		/* supported_groups, not read */
	u16(b, 4);
	u16(b, 2);
	u16(b, 0x001d);
	if (o->versions != NULL) {
		u16(b, 43);
		open_len(b, 2);
		open_len(b, 1);
		for (i = 0; o->versions[i] != 0; i++)
			u16(b, o->versions[i]);
		close_len(b);
		close_len(b);
	}
	if (o->ticket) {
		u16(b, 35);
		u16(b, o->ticket == 2 ? 4 : 0);
		if (o->ticket == 2)
			fill(b, 0x77, 4);
	}
	if (o->psk) {
		u16(b, 41);
		u16(b, 3);
		fill(b, 0x55, 3);
	}
	close_len(b);
	close_len(b);
}

struct sh {
	unsigned	 legacy, cipher;
	unsigned	 selected;	/* supported_versions, 0: none */
	unsigned	 sidlen, sidbyte;
	bool		 hrr, psk, downgrade;
};

static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02,
	0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static void
server_hello(struct bld *b, const struct sh *o)
{
	hs_open(b, 2);
	u16(b, o->legacy);
	if (o->hrr)
		put(b, hrr_random, 32);
	else if (o->downgrade) {
		fill(b, 0xbb, 24);
		put(b, "DOWNGRD\x01", 8);
	} else
		fill(b, 0xbb, 32);
	u8(b, o->sidlen);
	fill(b, o->sidbyte, o->sidlen);
	u16(b, o->cipher);
	u8(b, 0);
	open_len(b, 2);
	u16(b, 0xff01);		/* renegotiation_info, not read */
	u16(b, 1);
	u8(b, 0);
	if (o->selected) {
		u16(b, 43);
		u16(b, 2);
		u16(b, o->selected);
	}
	if (o->psk) {
		u16(b, 41);
		u16(b, 2);
		u16(b, 0);
	}
	close_len(b);
	close_len(b);
}

/* A Certificate of n certificates of lens[i] bytes, cert i filled with i+1. */
static void
certificate(struct bld *b, const size_t *lens, size_t n)
{
	size_t i;

	hs_open(b, 11);
	open_len(b, 3);
	for (i = 0; i < n; i++) {
		u24(b, lens[i]);
		fill(b, (unsigned)(i + 1), lens[i]);
	}
	close_len(b);
	close_len(b);
}

/* An empty handshake message: ServerHelloDone (14) and the like. */
static void
empty_hs(struct bld *b, unsigned type)
{
	u8(b, type);
	u24(b, 0);
}

/* Wraps b's bytes from `from` on into handshake records of frag bytes. */
static void
wrap(struct bld *b, size_t from, unsigned version, size_t frag)
{
	size_t len = b->n - from, off, n;
	uint8_t *tmp = malloc(len);

	memcpy(tmp, b->b + from, len);
	b->n = from;
	for (off = 0; off < len; off += n) {
		n = len - off < frag ? len - off : frag;
		rec_open(b, 22, version);
		put(b, tmp + off, n);
		close_len(b);
	}
	free(tmp);
}

/* Appends what B holds as a chunk of dir, and empties B. */
static void
add(struct conv *v, int dir)
{
	struct chunk *c = &v->c[v->n++];

	c->dir = dir;
	c->len = B.n;
	c->b = malloc(B.n ? B.n : 1);
	memcpy(c->b, B.b, B.n);
	c->gap = false;
	B.n = 0;
	B.depth = 0;
}

static void
add_bytes(struct conv *v, int dir, const void *p, size_t n)
{
	put(&B, p, n);
	add(v, dir);
}

static void
add_gap(struct conv *v, int dir, size_t n)
{
	add(v, dir);
	v->c[v->n - 1].gap = true;
	v->c[v->n - 1].len = n;
}

static void
conv_free(struct conv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->c[i].b);
	v->n = 0;
}

static void
on_event(void *ctx, const struct tls_event *ev)
{
	size_t i, j;
	unsigned sum;

	(void)ctx;
	switch (ev->type) {
	case TLS_EV_CLIENT_HELLO:
		logf_("CH %s%s lv=%04x v=%04x [", ev->sni,
		    ev->sni_bad ? " BAD" : "", ev->legacy_version, ev->version);
		for (i = 0; i < ev->nversions; i++)
			logf_("%s%04x", i ? " " : "", ev->versions[i]);
		logf_("] sid=%zu%s f%llu|", ev->session_id_len,
		    ev->ticket ? " ticket" : "", (unsigned long long)ev->frame);
		break;
	case TLS_EV_SERVER_HELLO:
		logf_("SH %s c=%04x sid=%zu%s%s%s f%llu|",
		    tls_version_name(ev->version), ev->cipher,
		    ev->session_id_len, ev->resumed ? " resumed" : "",
		    ev->hrr ? " hrr" : "", ev->downgrade ? " downgrade" : "",
		    (unsigned long long)ev->frame);
		break;
	case TLS_EV_CERTIFICATE:
		logf_("CERT %d", ev->dir);
		/* Certificate i was filled with i+1: prove the pointers. */
		for (i = 0; i < ev->ncerts; i++) {
			for (sum = 0, j = 0; j < ev->cert_lens[i]; j++)
				sum += ev->certs[i][j] == (uint8_t)(i + 1);
			logf_(" %zu%s", ev->cert_lens[i],
			    sum == ev->cert_lens[i] ? "" : "!");
		}
		logf_("%s f%llu|", ev->truncated ? " truncated" : "",
		    (unsigned long long)ev->frame);
		break;
	case TLS_EV_ALERT:
		logf_("ALERT %d %u.%u f%llu|", ev->dir, ev->level,
		    ev->description, (unsigned long long)ev->frame);
		break;
	case TLS_EV_ENCRYPTED:
		logf_("ENC %d f%llu|", ev->dir, (unsigned long long)ev->frame);
		break;
	case TLS_EV_MALFORMED:
		logf_("BAD %d %s f%llu|", ev->dir, ev->why,
		    (unsigned long long)ev->frame);
		break;
	case TLS_EV_GAP:
		logf_("GAP %d|", ev->dir);
		break;
	}
}

/* Real certificates are checked by length only. */
static void
on_event_real(void *ctx, const struct tls_event *ev)
{
	size_t i;

	if (ev->type != TLS_EV_CERTIFICATE) {
		on_event(ctx, ev);
		return;
	}
	logf_("CERT %d", ev->dir);
	for (i = 0; i < ev->ncerts; i++)
		logf_(" %zu %02x%02x", ev->cert_lens[i], ev->certs[i][0],
		    ev->certs[i][1]);
	logf_("%s f%llu|", ev->truncated ? " truncated" : "",
	    (unsigned long long)ev->frame);
}

static struct tls_sink sink = { on_event, NULL };

enum cut { CUT_NONE, CUT_BYTES, CUT_AT, CUT_RANDOM };

static uint32_t rng = 1;

static size_t
rnd(size_t n)
{
	rng = rng * 1103515245 + 12345;
	return (rng >> 16) % n;
}

/*
 * Feeds the conversation, chunk i as frame i + 1: whole, byte by byte,
 * chunk `which` cut at `at`, or in random pieces.  Stops at TLS_DONE, as
 * a caller does, and logs it.
 */
static void
run(const struct conv *v, enum cut how, size_t which, size_t at)
{
	struct tls_session *s = tls_new();
	size_t i, off, n;
	bool done = false;

	logbuf[0] = '\0';
	for (i = 0; i < v->n && !done; i++) {
		const struct chunk *c = &v->c[i];

		if (c->gap) {
			tls_gap(s, c->dir, c->len, &sink);
			continue;
		}
		for (off = 0; off < c->len && !done; off += n) {
			uint8_t *copy;

			n = c->len - off;
			if (how == CUT_BYTES)
				n = 1;
			else if (how == CUT_AT && i == which && off == 0 &&
			    at > 0 && at < c->len)
				n = at;
			else if (how == CUT_RANDOM)
				n = 1 + rnd(n < 64 ? n : 64);
			/* Exact-size copies: a sanitizer sees an over-read. */
			copy = malloc(n);
			memcpy(copy, c->b + off, n);
			if (tls_feed(s, c->dir, copy, n, i + 1, &sink) ==
			    TLS_DONE) {
				logf_("DONE|");
				done = true;
			}
			free(copy);
		}
	}
	if (!done && tls_feed(s, 0, NULL, 0, 0, &sink) == TLS_DONE)
		logf_("DONE|");
	tls_free(s);
}

/*
 * With TLS_SEED_DIR set, each conversation is also written there as a
 * fuzz_tls input (the format is described in fuzz/fuzz_tls.c).
 */
static void
write_seed(const struct conv *v)
{
	static unsigned seq;
	const char *dir = getenv("TLS_SEED_DIR");
	char path[512];
	size_t i, off, n;
	FILE *f;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/unit-%03u", dir, seq++);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	fputc(0x2a, f);		/* cfg: pieces of 1-64 bytes */
	for (i = 0; i < v->n; i++) {
		const struct chunk *c = &v->c[i];

		off = 0;
		do {		/* a record holds at most 65535 bytes */
			n = c->gap || c->len - off < 65535 ? c->len - off :
			    65535;
			if (c->gap && n > 65535)
				n = 65535;
			fputc(c->dir | (c->gap ? 2 : 0), f);
			fputc((int)(n >> 8), f);
			fputc((int)(n & 0xff), f);
			if (!c->gap)
				fwrite(c->b + off, 1, n, f);
			off += n;
		} while (!c->gap && off < c->len);
	}
	fclose(f);
}

/* Every way of cutting must log `want`. */
static int
same_everywhere(const struct conv *v, const char *want)
{
	size_t i, at, k;

	write_seed(v);
	run(v, CUT_NONE, 0, 0);
	if (strcmp(logbuf, want) != 0) {
		fprintf(stderr, "  got:  %s\n  want: %s\n", logbuf, want);
		return 0;
	}
	run(v, CUT_BYTES, 0, 0);
	if (strcmp(logbuf, want) != 0) {
		fprintf(stderr, "  bytes:\n  got:  %s\n  want: %s\n", logbuf,
		    want);
		return 0;
	}
	for (k = 0; k < 20; k++) {
		run(v, CUT_RANDOM, 0, 0);
		if (strcmp(logbuf, want) != 0) {
			fprintf(stderr, "  random %zu:\n  got:  %s\n"
			    "  want: %s\n", k, logbuf, want);
			return 0;
		}
	}
	/* Cut at every offset; the biggest chunks only at random (above). */
	for (i = 0; i < v->n; i++)
		for (at = 1; at < v->c[i].len && v->c[i].len <= CUT_AT_MAX &&
		    !v->c[i].gap; at++) {
			run(v, CUT_AT, i, at);
			if (strcmp(logbuf, want) != 0) {
				fprintf(stderr, "  chunk %zu at %zu:\n"
				    "  got:  %s\n  want: %s\n", i, at, logbuf,
				    want);
				return 0;
			}
		}
	return 1;
}

static const unsigned v13[] = { 0x3a3a, 0x0304, 0x0303, 0 };

/* The client's record: ClientHello in a record of version 0x0301. */
static void
add_ch(struct conv *v, const struct ch *o, unsigned recv)
{
	rec_open(&B, 22, recv);
	client_hello(&B, o);
	close_len(&B);
	add(v, 0);
}

/* ClientKeyExchange, ChangeCipherSpec, an encrypted Finished. */
static void
client_finish12(void)
{
	rec_open(&B, 22, 0x0303);
	hs_open(&B, 16);
	fill(&B, 0x42, 33);
	close_len(&B);
	close_len(&B);
	put(&B, "\x14\x03\x03\x00\x01\x01", 6);
	rec_open(&B, 22, 0x0303);
	fill(&B, 0x99, 40);
	close_len(&B);
}

static void
test_tls12_full(void)
{
	struct conv v = { .n = 0 };
	struct ch ch = { .legacy = 0x0303, .sni = "MX.Example.TEST",
	    .ticket = 1 };
	struct sh sh = { .legacy = 0x0303, .cipher = 0xc02f };
	size_t lens[] = { 700, 300 };

	add_ch(&v, &ch, 0x0301);
	/* Several messages in one record. */
	rec_open(&B, 22, 0x0303);
	server_hello(&B, &sh);
	certificate(&B, lens, 2);
	hs_open(&B, 12);		/* ServerKeyExchange, skipped */
	fill(&B, 0x12, 100);
	close_len(&B);
	empty_hs(&B, 14);
	close_len(&B);
	add(&v, 1);
	client_finish12();
	add(&v, 0);
	CHECK(same_everywhere(&v, "CH mx.example.test lv=0303 v=0303 [] "
	    "sid=0 f1|SH TLS 1.2 c=c02f sid=0 f2|CERT 1 700 300 f2|"
	    "ENC 0 f3|DONE|"));
	conv_free(&v);
}

/* TLS 1.0 without extensions; the client refuses the certificate. */
static void
test_tls10_alert(void)
{
	struct conv v = { .n = 0 };
	struct ch ch = { .legacy = 0x0301, .no_exts = true };
	struct sh sh = { .legacy = 0x0301, .cipher = 0x0005 };
	size_t lens[] = { 500 };

	add_ch(&v, &ch, 0x0301);
	rec_open(&B, 22, 0x0301);
	server_hello(&B, &sh);
	certificate(&B, lens, 1);
	empty_hs(&B, 14);
	close_len(&B);
	add(&v, 1);
	add_bytes(&v, 0, "\x15\x03\x01\x00\x02\x02\x2a", 7);
	CHECK(same_everywhere(&v, "CH  lv=0301 v=0301 [] sid=0 f1|"
	    "SH TLS 1.0 c=0005 sid=0 f2|CERT 1 500 f2|ALERT 0 2.42 f3|"));
	conv_free(&v);
}

static void
test_ssl3_tls11(void)
{
	struct conv v = { .n = 0 };
	struct ch ch = { .legacy = 0x0302, .sni = "a.test" };
	struct sh sh = { .legacy = 0x0300, .cipher = 0x000a };

	add_ch(&v, &ch, 0x0300);
	rec_open(&B, 22, 0x0300);
	server_hello(&B, &sh);
	close_len(&B);
	put(&B, "\x14\x03\x00\x00\x01\x01", 6);
	add(&v, 1);
	CHECK(same_everywhere(&v, "CH a.test lv=0302 v=0302 [] sid=0 f1|"
	    "SH SSL 3.0 c=000a sid=0 f2|ENC 1 f2|"));
	conv_free(&v);
}

/* TLS 1.3: the server is dark after its ServerHello. */
static void
test_tls13(void)
{
	struct conv v = { .n = 0 };
	struct ch ch = { .legacy = 0x0303, .sni = "mail.example.org",
	    .versions = v13, .sidlen = 32, .sidbyte = 0x11, .ticket = 1 };
	struct sh sh = { .legacy = 0x0303, .cipher = 0x1301,
	    .selected = 0x0304, .sidlen = 32, .sidbyte = 0x11 };

	add_ch(&v, &ch, 0x0301);
	rec_open(&B, 22, 0x0303);
	server_hello(&B, &sh);
	close_len(&B);
	put(&B, "\x14\x03\x03\x00\x01\x01", 6);
	put(&B, "\x17\x03\x03\x00\x04wxyz", 9);
	add(&v, 1);
	put(&B, "\x14\x03\x03\x00\x01\x01", 6);
	put(&B, "\x17\x03\x03\x00\x04wxyz", 9);
	add(&v, 0);
	/* The compatibility session id echo is no resumption in 1.3. */
	CHECK(same_everywhere(&v, "CH mail.example.org lv=0303 v=0304 "
	    "[0304 0303] sid=32 f1|SH TLS 1.3 c=1301 sid=32 f2|ENC 1 f2|"
	    "ENC 0 f3|DONE|"));
	conv_free(&v);
}

/* HelloRetryRequest: CCS on both sides is disguise, the hellos go on. */
static void
test_hrr(void)
{
	struct conv v = { .n = 0 };
	struct ch ch = { .legacy = 0x0303, .sni = "mx.test",
	    .versions = v13, .sidlen = 32, .sidbyte = 0x22 };
	struct sh hrr = { .legacy = 0x0303, .cipher = 0x1301,
	    .selected = 0x0304, .sidlen = 32, .sidbyte = 0x22, .hrr = true };
	struct sh sh = { .legacy = 0x0303, .cipher = 0x1301,
	    .selected = 0x0304, .sidlen = 32, .sidbyte = 0x22 };

	add_ch(&v, &ch, 0x0301);
	rec_open(&B, 22, 0x0303);
	server_hello(&B, &hrr);
	close_len(&B);
	put(&B, "\x14\x03\x03\x00\x01\x01", 6);
	add(&v, 1);
	put(&B, "\x14\x03\x03\x00\x01\x01", 6);
	rec_open(&B, 22, 0x0303);
	client_hello(&B, &ch);
	close_len(&B);
	add(&v, 0);
	rec_open(&B, 22, 0x0303);
	server_hello(&B, &sh);
	close_len(&B);
	put(&B, "\x17\x03\x03\x00\x04wxyz", 9);
	add(&v, 1);
	add_bytes(&v, 0, "\x17\x03\x03\x00\x04wxyz", 9);
	CHECK(same_everywhere(&v, "CH mx.test lv=0303 v=0304 [0304 0303] "
	    "sid=32 f1|SH TLS 1.3 c=1301 sid=32 hrr f2|"
	    "CH mx.test lv=0303 v=0304 [0304 0303] sid=32 f3|"
	    "SH TLS 1.3 c=1301 sid=32 f4|ENC 1 f4|ENC 0 f5|DONE|"));
	conv_free(&v);
}

/* TLS 1.2 resumption: the server echoes the client's session id. */
static void
test_resumed12(void)
{
	struct conv v = { .n = 0 };
	struct ch ch = { .legacy = 0x0303, .sni = "mx.test",
	    .sidlen = 32, .sidbyte = 0x33, .ticket = 2 };
	struct sh sh = { .legacy = 0x0303, .cipher = 0xc02f,
	    .sidlen = 32, .sidbyte = 0x33 };

	add_ch(&v, &ch, 0x0301);
	rec_open(&B, 22, 0x0303);
	server_hello(&B, &sh);
	close_len(&B);
	put(&B, "\x14\x03\x03\x00\x01\x01", 6);
	rec_open(&B, 22, 0x0303);
	fill(&B, 0x99, 40);
	close_len(&B);
	add(&v, 1);
	put(&B, "\x14\x03\x03\x00\x01\x01", 6);
	add(&v, 0);
	CHECK(same_everywhere(&v, "CH mx.test lv=0303 v=0303 [] sid=32 "
	    "ticket f1|SH TLS 1.2 c=c02f sid=32 resumed f2|ENC 1 f2|"
	    "ENC 0 f3|DONE|"));
	conv_free(&v);
}

/* Another session id from the server: a full handshake after all. */
static void
test_not_resumed12(void)
{
	struct conv v = { .n = 0 };
	struct ch ch = { .legacy = 0x0303, .sidlen = 32, .sidbyte = 0x33 };
	struct sh sh = { .legacy = 0x0303, .cipher = 0xc02f,
	    .sidlen = 32, .sidbyte = 0x44, .downgrade = true };
	size_t lens[] = { 10 };

	add_ch(&v, &ch, 0x0301);
	rec_open(&B, 22, 0x0303);
	server_hello(&B, &sh);
	certificate(&B, lens, 1);
	close_len(&B);
	add(&v, 1);
	CHECK(same_everywhere(&v, "CH  lv=0303 v=0303 [] sid=32 f1|"
	    "SH TLS 1.2 c=c02f sid=32 downgrade f2|CERT 1 10 f2|"));
	conv_free(&v);
}

static void
test_resumed13(void)
{
	struct conv v = { .n = 0 };
	struct ch ch = { .legacy = 0x0303, .versions = v13, .psk = true };
	struct sh sh = { .legacy = 0x0303, .cipher = 0x1302,
	    .selected = 0x0304, .psk = true };

	add_ch(&v, &ch, 0x0301);
	/* 0-RTT: early data right after the ClientHello. */
	add_bytes(&v, 0, "\x17\x03\x03\x00\x02hi", 7);
	rec_open(&B, 22, 0x0303);
	server_hello(&B, &sh);
	close_len(&B);
	add(&v, 1);
	CHECK(same_everywhere(&v, "CH  lv=0303 v=0304 [0304 0303] sid=0 "
	    "ticket f1|ENC 0 f2|SH TLS 1.3 c=1302 sid=0 resumed f3|"
	    "ENC 1 f3|DONE|"));
	conv_free(&v);
}

/*
 * A ClientHello in records of 3 bytes (its header split across two) and
 * a server flight cut into 1000-byte records, messages straddling them.
 */
static void
test_fragmented(void)
{
	struct conv v = { .n = 0 };
	struct ch ch = { .legacy = 0x0303, .sni = "frag.test",
	    .versions = v13 };
	struct sh sh = { .legacy = 0x0303, .cipher = 0xc030 };
	size_t lens[] = { 5000, 6000, 7000 };

	client_hello(&B, &ch);
	wrap(&B, 0, 0x0301, 3);
	add(&v, 0);
	server_hello(&B, &sh);
	certificate(&B, lens, 3);
	empty_hs(&B, 14);
	wrap(&B, 0, 0x0303, 1000);
	add(&v, 1);
	CHECK(same_everywhere(&v, "CH frag.test lv=0303 v=0304 [0304 0303] "
	    "sid=0 f1|SH TLS 1.2 c=c030 sid=0 f2|CERT 1 5000 6000 7000 f2|"));
	conv_free(&v);
}

/* A message's frame is the one that carried its first byte. */
static void
test_frames(void)
{
	struct conv v = { .n = 0 };
	struct sh sh = { .legacy = 0x0303, .cipher = 0xc02f };
	size_t lens[] = { 100 }, n;
	/* Record header, then the ServerHello (49 bytes with its extension). */
	const size_t at = 5 + 49;
	uint8_t all[300];

	rec_open(&B, 22, 0x0303);
	server_hello(&B, &sh);
	certificate(&B, lens, 1);
	close_len(&B);
	n = B.n;
	memcpy(all, B.b, n);
	B.n = 0;
	add_bytes(&v, 1, all, at + 2);	/* and 2 bytes of the Certificate */
	add_bytes(&v, 1, all + at + 2, n - at - 2);
	CHECK(same_everywhere(&v, "SH TLS 1.2 c=c02f sid=0 f1|"
	    "CERT 1 100 f1|"));
	conv_free(&v);
}

/* One malformed server record; want is the whole log. */
static int
bad_server(const uint8_t *b, size_t len, const char *want)
{
	struct conv v = { .n = 0 };
	int ok;

	add_bytes(&v, 1, b, len);
	ok = same_everywhere(&v, want);
	conv_free(&v);
	return ok;
}

static int
bad_client(const uint8_t *b, size_t len, const char *want)
{
	struct conv v = { .n = 0 };
	int ok;

	add_bytes(&v, 0, b, len);
	ok = same_everywhere(&v, want);
	conv_free(&v);
	return ok;
}

static void
test_bad_certificate_lengths(void)
{
	size_t lens[] = { 20, 30 };
	uint8_t b[128];
	size_t n;

	rec_open(&B, 22, 0x0303);
	certificate(&B, lens, 2);
	close_len(&B);
	n = B.n;
	memcpy(b, B.b, n);
	B.n = 0;
	CHECK(bad_server(b, n, "CERT 1 20 30 f1|"));
	b[11]++;		/* certificate_list longer than the message */
	CHECK(bad_server(b, n, "BAD 1 certificate_list length f1|"));
	b[11]--;
	b[14]++;		/* the first certificate overruns the list */
	b[14 + 21 + 2] -= 1;
	CHECK(bad_server(b, n, "BAD 1 certificate length f1|"));
	b[14] = 0;		/* an empty certificate */
	b[13] = 0;
	b[12] = 0;
	CHECK(bad_server(b, n, "BAD 1 certificate length f1|"));
}

/* Offsets in a record holding client_hello(no sid): see client_hello(). */
#define CH_SIDLEN	43
#define CH_EXTSLEN	54
#define CH_GREASELEN	58
#define CH_SNILIST	64

static void
test_bad_hello_lengths(void)
{
	struct ch ch = { .legacy = 0x0303, .sni = "x.test" };
	uint8_t b[256], c[256];
	size_t n;

	rec_open(&B, 22, 0x0301);
	client_hello(&B, &ch);
	close_len(&B);
	n = B.n;
	memcpy(b, B.b, n);
	B.n = 0;
	CHECK(bad_client(b, n, "CH x.test lv=0303 v=0303 [] sid=0 f1|"));
	memcpy(c, b, n);
	c[CH_SIDLEN] = 33;
	CHECK(bad_client(c, n, "BAD 0 session_id length f1|"));
	memcpy(c, b, n);
	c[CH_EXTSLEN + 1]--;
	CHECK(bad_client(c, n, "BAD 0 extensions length f1|"));
	memcpy(c, b, n);
	c[CH_GREASELEN] = 1;
	CHECK(bad_client(c, n, "BAD 0 extension length f1|"));
	memcpy(c, b, n);
	c[CH_SNILIST + 1]--;
	CHECK(bad_client(c, n, "BAD 0 server_name list length f1|"));
	memcpy(c, b, n);
	c[CH_SNILIST + 1] = 0;
	c[CH_SNILIST] = 0;
	CHECK(bad_client(c, n, "BAD 0 server_name list length f1|"));
	/* The message says 10 bytes: what follows is another message. */
	memcpy(c, b, n);
	c[6] = 0;
	c[7] = 0;
	c[8] = 10;
	CHECK(bad_client(c, n, "BAD 0 client_hello short f1|"));
	/* A truncated record: nothing to say yet, nothing said. */
	CHECK(bad_client(b, n - 1, ""));
}

static void
test_bad_hello_extensions(void)
{
	static const unsigned odd[] = { 0x0304, 0 };
	struct ch ch = { .legacy = 0x0303, .versions = odd };
	struct sh sh = { .legacy = 0x0303, .cipher = 0x1301,
	    .selected = 0x0304 };
	uint8_t b[256];
	size_t n;

	/* supported_versions with an odd length. */
	rec_open(&B, 22, 0x0301);
	client_hello(&B, &ch);
	close_len(&B);
	n = B.n;
	memcpy(b, B.b, n);
	B.n = 0;
	b[n - 3] = 3;		/* list length 2 -> 3 */
	CHECK(bad_client(b, n, "BAD 0 supported_versions length f1|"));
	/* Two server_name extensions. */
	ch.versions = NULL;
	ch.sni = "x.test";
	rec_open(&B, 22, 0x0301);
	client_hello(&B, &ch);
	close_len(&B);
	/* Repeat the extension by hand: type 0, 11 bytes. */
	n = B.n;
	memcpy(b, B.b, n);
	B.n = 0;
	memmove(b + 75, b + 60, n - 60);
	memcpy(b + 60, b + 60 + 15, 15);
	n += 15;
	b[4] += 15;		/* record */
	b[8] += 15;		/* handshake */
	b[CH_EXTSLEN + 1] += 15;
	CHECK(bad_client(b, n, "BAD 0 server_name twice f1|"));
	/* A ServerHello whose supported_versions is 3 bytes. */
	rec_open(&B, 22, 0x0303);
	server_hello(&B, &sh);
	close_len(&B);
	n = B.n;
	memcpy(b, B.b, n);
	B.n = 0;
	b[n - 3] = 3;
	b[n - 2] = 3;
	b[n - 1] = 4;
	CHECK(bad_server(b, n, "BAD 1 extension length f1|"));
}

static void
test_not_tls(void)
{
	uint8_t big[5 + 18433];

	CHECK(bad_client((const uint8_t *)"EHLO x\r\n", 8,
	    "BAD 0 not a TLS record f1|"));
	CHECK(bad_server((const uint8_t *)"\x18\x03\x03\x00\x01\x01", 6,
	    "BAD 1 not a TLS record f1|"));
	CHECK(bad_server((const uint8_t *)"\x16\x02\x00\x00\x01\x01", 6,
	    "BAD 1 record version f1|"));
	CHECK(bad_client((const uint8_t *)"\x80\x2e\x01\x03\x01\x00\x15", 7,
	    "BAD 0 sslv2 hello f1|"));
	CHECK(bad_client((const uint8_t *)"\x80\x2e\x02\x03\x01\x00\x15", 7,
	    "BAD 0 not a TLS record f1|"));
	CHECK(bad_server((const uint8_t *)"\x80\x2e\x01\x03\x01\x00\x15", 7,
	    "BAD 1 not a TLS record f1|"));
	CHECK(bad_client((const uint8_t *)"\x16\x03\x01\x00\x00", 5,
	    "BAD 0 empty record f1|"));
	CHECK(bad_client((const uint8_t *)"\x14\x03\x03\x00\x02\x01\x01", 7,
	    "BAD 0 change_cipher_spec length f1|"));
	CHECK(bad_client((const uint8_t *)"\x14\x03\x03\x00\x01\x02", 6,
	    "BAD 0 change_cipher_spec value f1|"));
	/* A ClientHello that says it is 192 KiB long. */
	CHECK(bad_client((const uint8_t *)"\x16\x03\x01\x00\x04"
	    "\x01\x03\x00\x00", 9, "BAD 0 hello over TLS_HS_MAX f1|"));
	/* Half a handshake header, then an alert record. */
	CHECK(bad_client((const uint8_t *)"\x16\x03\x01\x00\x02\x01\x00"
	    "\x15\x03\x01\x00\x02\x02\x28", 14,
	    "BAD 0 interleaved record f1|"));
	/* The longest record passes; one byte more does not. */
	memset(big, 0, sizeof(big));
	memcpy(big, "\x16\x03\x03\x48\x00", 5);
	CHECK(bad_server(big, 5 + 18432, ""));
	memcpy(big, "\x16\x03\x03\x48\x01", 5);
	CHECK(bad_server(big, 5 + 18433, "BAD 1 record length f1|"));
}

static void
test_alerts(void)
{
	struct conv v = { .n = 0 };
	struct ch ch = { .legacy = 0x0303, .sni = "mx.test" };

	add_ch(&v, &ch, 0x0301);
	/* Two alerts in a record, then one cut across two records. */
	add_bytes(&v, 1, "\x15\x03\x03\x00\x04\x01\x00\x02\x28", 9);
	add_bytes(&v, 1, "\x15\x03\x03\x00\x01\x02", 6);
	add_bytes(&v, 1, "\x15\x03\x03\x00\x01\x46", 6);
	CHECK(same_everywhere(&v, "CH mx.test lv=0303 v=0303 [] sid=0 f1|"
	    "ALERT 1 1.0 f2|ALERT 1 2.40 f2|ALERT 1 2.70 f3|"));
	conv_free(&v);
}

/* More certificates than TLS_CERTS_MAX: the first are reported, cut. */
static void
test_many_certs(void)
{
	struct conv v = { .n = 0 };
	size_t lens[TLS_CERTS_MAX + 4], i;
	char want[512];

	for (i = 0; i < TLS_CERTS_MAX + 4; i++)
		lens[i] = 10;
	rec_open(&B, 22, 0x0303);
	certificate(&B, lens, TLS_CERTS_MAX + 4);
	close_len(&B);
	add(&v, 1);
	strcpy(want, "CERT 1");
	for (i = 0; i < TLS_CERTS_MAX; i++)
		strcat(want, " 10");
	strcat(want, " truncated f1|");
	CHECK(same_everywhere(&v, want));
	conv_free(&v);
}

/*
 * A chain over TLS_HS_MAX: what fits whole is reported as truncated, the
 * rest is skipped and the messages after it are still read.
 */
static void
test_huge_chain(void)
{
	struct conv v = { .n = 0 };
	size_t lens[] = { 30000, 30000, 30000, 30000, 30000 };

	certificate(&B, lens, 5);
	empty_hs(&B, 14);
	wrap(&B, 0, 0x0303, 16384);
	put(&B, "\x15\x03\x03\x00\x02\x01\x00", 7);
	add(&v, 1);
	add_bytes(&v, 0, "\x14\x03\x03\x00\x01\x01", 6);
	CHECK(same_everywhere(&v, "CERT 1 30000 30000 30000 30000 truncated f1|"
	    "ALERT 1 1.0 f1|ENC 0 f2|DONE|"));
	conv_free(&v);
}

static void
test_sni(void)
{
	struct conv v = { .n = 0 };
	struct ch ch = { .legacy = 0x0303, .sni = "Mail\x01X\\y_*.TEST" };
	char name[300], want[512];

	add_ch(&v, &ch, 0x0301);
	CHECK(same_everywhere(&v, "CH mail\\x01x\\x5cy_*.test BAD lv=0303 "
	    "v=0303 [] sid=0 f1|"));
	conv_free(&v);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ch.sni = name;
	add_ch(&v, &ch, 0x0301);
	snprintf(want, sizeof(want), "CH %.*s\\... BAD lv=0303 v=0303 [] "
	    "sid=0 f1|", TLS_SNI_MAX, name);
	CHECK(same_everywhere(&v, want));
	conv_free(&v);
	/* Dots are a name's own: only a trailing \... says cut. */
	ch.sni = "mx.t...";
	add_ch(&v, &ch, 0x0301);
	CHECK(same_everywhere(&v, "CH mx.t... lv=0303 v=0303 [] sid=0 f1|"));
	conv_free(&v);
	/* A NUL inside the name cannot hide what follows it. */
	ch.sni = "a\0b.test";
	ch.sni_len = 8;
	add_ch(&v, &ch, 0x0301);
	CHECK(same_everywhere(&v, "CH a\\x00b.test BAD lv=0303 v=0303 [] "
	    "sid=0 f1|"));
	conv_free(&v);
}

static void
test_gaps(void)
{
	struct conv v = { .n = 0 };
	struct ch ch = { .legacy = 0x0303, .sni = "mx.test" };
	struct sh sh = { .legacy = 0x0303, .cipher = 0xc02f };
	size_t lens[] = { 64 };
	uint8_t half[64];

	/* The client's hello lost: the server's flight is still read. */
	add_gap(&v, 0, 200);
	rec_open(&B, 22, 0x0303);
	server_hello(&B, &sh);
	certificate(&B, lens, 1);
	close_len(&B);
	add(&v, 1);
	CHECK(same_everywhere(&v, "GAP 0|SH TLS 1.2 c=c02f sid=0 f2|"
	    "CERT 1 64 f2|DONE|"));
	conv_free(&v);

	/* Lost in the middle of a hello: no guessing where records resume. */
	rec_open(&B, 22, 0x0301);
	client_hello(&B, &ch);
	close_len(&B);
	memcpy(half, B.b, sizeof(half));
	B.n = 0;
	add_bytes(&v, 0, half, 40);
	add_gap(&v, 0, 10);
	add_bytes(&v, 0, half + 50, 14);
	add_gap(&v, 1, 10);
	CHECK(same_everywhere(&v, "GAP 0|GAP 1|DONE|"));
	conv_free(&v);

	/* After encryption a gap changes nothing. */
	add_bytes(&v, 0, "\x14\x03\x03\x00\x01\x01", 6);
	add_gap(&v, 0, 10);
	add_bytes(&v, 1, "\x15\x03\x03\x00\x02\x02\x28", 7);
	CHECK(same_everywhere(&v, "ENC 0 f1|ALERT 1 2.40 f3|"));
	conv_free(&v);
}

/* Mutual authentication: the client's chain, and skipped messages. */
static void
test_client_cert(void)
{
	struct conv v = { .n = 0 };
	struct sh sh = { .legacy = 0x0303, .cipher = 0xc02f };
	size_t lens[] = { 40 }, none[1] = { 0 };

	rec_open(&B, 22, 0x0303);
	empty_hs(&B, 0);		/* HelloRequest */
	server_hello(&B, &sh);
	hs_open(&B, 13);		/* CertificateRequest */
	fill(&B, 1, 20);
	close_len(&B);
	hs_open(&B, 99);		/* unknown */
	close_len(&B);
	close_len(&B);
	add(&v, 1);
	rec_open(&B, 22, 0x0303);
	certificate(&B, lens, 1);
	certificate(&B, none, 0);
	close_len(&B);
	add(&v, 0);
	CHECK(same_everywhere(&v, "SH TLS 1.2 c=c02f sid=0 f1|"
	    "CERT 0 40 f2|CERT 0 f2|"));
	conv_free(&v);
}

/* After TLS_DONE the session stays done. */
static void
test_done(void)
{
	struct tls_session *s = tls_new();
	static const uint8_t ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };

	CHECK(s != NULL);
	logbuf[0] = '\0';
	CHECK(tls_feed(s, 0, ccs, sizeof(ccs), 1, &sink) == TLS_OK);
	CHECK(tls_feed(s, 1, (const uint8_t *)"\x16", 1, 2, NULL) == TLS_OK);
	CHECK(tls_feed(s, 1, (const uint8_t *)"\x02\x00", 2, 3, &sink) ==
	    TLS_DONE);
	CHECK(tls_feed(s, 1, ccs, sizeof(ccs), 4, &sink) == TLS_DONE);
	tls_gap(s, 1, 5, &sink);
	CHECK(strcmp(logbuf, "ENC 0 f1|BAD 1 record version f2|") == 0);
	tls_free(s);
	tls_free(NULL);
}

static void
test_names(void)
{
	CHECK(strcmp(tls_version_name(0x0300), "SSL 3.0") == 0);
	CHECK(strcmp(tls_version_name(0x0301), "TLS 1.0") == 0);
	CHECK(strcmp(tls_version_name(0x0302), "TLS 1.1") == 0);
	CHECK(strcmp(tls_version_name(0x0303), "TLS 1.2") == 0);
	CHECK(strcmp(tls_version_name(0x0304), "TLS 1.3") == 0);
	CHECK(strcmp(tls_version_name(0x7f1c), "0x7f1c") == 0);
	CHECK(strcmp(tls_version_name(0xfafa), "0xfafa") == 0);
	CHECK(strcmp(tls_event_name(TLS_EV_MALFORMED), "malformed") == 0);
	CHECK(strcmp(tls_event_name(TLS_EV_GAP), "gap") == 0);
}

/*
 * ndpi/smtp-starttls.pcap (../shared/pcaps/public), TCP stream 1, after
 * "220 2.0.0 Ready to start TLS": the client's ClientHello, the server's
 * first flight (ServerHello, Certificate, ServerKeyExchange,
 * ServerHelloDone in one segment) and the client's ClientKeyExchange,
 * ChangeCipherSpec and Finished.  Taken with
 *	tshark -r ndpi/smtp-starttls.pcap -q -z follow,tcp,raw,1
 * tshark shows SNI dovecot.weberlab.de, cipher 0xc02f, one certificate
 * (tls.handshake.certificate_length 712, certificates_length 715).
 */
static const uint8_t real_client1[182] = {
	0x16, 0x03, 0x01, 0x00, 0xb1, 0x01, 0x00, 0x00, 0xad, 0x03, 0x03, 0x51,
	0x2c, 0xed, 0x44, 0x10, 0x54, 0xd9, 0xfb, 0xa9, 0xf6, 0xdf, 0xbf, 0x82,
	0xca, 0xea, 0xf4, 0x61, 0x18, 0x3d, 0x0f, 0x24, 0x53, 0xd0, 0x63, 0xef,
	0x1c, 0x96, 0xd4, 0x4c, 0x1d, 0xb2, 0x33, 0x00, 0x00, 0x1e, 0xc0, 0x2b,
	0xc0, 0x2f, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x2c, 0xc0, 0x30, 0xc0, 0x0a,
	0xc0, 0x09, 0xc0, 0x13, 0xc0, 0x14, 0x00, 0x33, 0x00, 0x39, 0x00, 0x2f,
	0x00, 0x35, 0x00, 0x0a, 0x01, 0x00, 0x00, 0x66, 0x00, 0x00, 0x00, 0x18,
	0x00, 0x16, 0x00, 0x00, 0x13, 0x64, 0x6f, 0x76, 0x65, 0x63, 0x6f, 0x74,
	0x2e, 0x77, 0x65, 0x62, 0x65, 0x72, 0x6c, 0x61, 0x62, 0x2e, 0x64, 0x65,
	0x00, 0x17, 0x00, 0x00, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00,
	0x0a, 0x00, 0x08, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19, 0x00,
	0x0b, 0x00, 0x02, 0x01, 0x00, 0x00, 0x23, 0x00, 0x00, 0x00, 0x05, 0x00,
	0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0x03, 0x00, 0x00, 0x00, 0x0d,
	0x00, 0x18, 0x00, 0x16, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x04,
	0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x02, 0x03,
	0x02, 0x01,
};
static const uint8_t real_server1[1140] = {
	0x16, 0x03, 0x03, 0x00, 0x3d, 0x02, 0x00, 0x00, 0x39, 0x03, 0x03, 0xe3,
	0x51, 0xb3, 0x05, 0x0b, 0x05, 0x5e, 0x22, 0xe9, 0xd0, 0xfd, 0x10, 0x93,
	0x94, 0x9f, 0xd2, 0xfc, 0x72, 0x5e, 0x78, 0x48, 0x70, 0x5b, 0x0c, 0x19,
	0x29, 0x20, 0x2a, 0xcc, 0x79, 0x83, 0x71, 0x00, 0xc0, 0x2f, 0x00, 0x00,
	0x11, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00,
	0x01, 0x02, 0x00, 0x23, 0x00, 0x00, 0x16, 0x03, 0x03, 0x02, 0xd2, 0x0b,
	0x00, 0x02, 0xce, 0x00, 0x02, 0xcb, 0x00, 0x02, 0xc8, 0x30, 0x82, 0x02,
	0xc4, 0x30, 0x82, 0x01, 0xac, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x09,
	0x00, 0x90, 0x9d, 0xbf, 0x6b, 0x2a, 0x9d, 0x4f, 0x52, 0x30, 0x0d, 0x06,
	0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
	0x30, 0x1a, 0x31, 0x18, 0x30, 0x16, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c,
	0x0f, 0x6a, 0x77, 0x2d, 0x76, 0x6d, 0x30, 0x38, 0x2d, 0x69, 0x6e, 0x74,
	0x2d, 0x64, 0x6e, 0x73, 0x30, 0x1e, 0x17, 0x0d, 0x31, 0x36, 0x30, 0x38,
	0x31, 0x36, 0x30, 0x39, 0x33, 0x33, 0x31, 0x39, 0x5a, 0x17, 0x0d, 0x32,
	0x36, 0x30, 0x38, 0x31, 0x34, 0x30, 0x39, 0x33, 0x33, 0x31, 0x39, 0x5a,
	0x30, 0x1a, 0x31, 0x18, 0x30, 0x16, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c,
	0x0f, 0x6a, 0x77, 0x2d, 0x76, 0x6d, 0x30, 0x38, 0x2d, 0x69, 0x6e, 0x74,
	0x2d, 0x64, 0x6e, 0x73, 0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09,
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x03,
	0x82, 0x01, 0x0f, 0x00, 0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01,
	0x00, 0xd2, 0x14, 0x4b, 0x54, 0x77, 0x22, 0xc7, 0x45, 0x4f, 0xea, 0xed,
	0xac, 0x32, 0x38, 0xd4, 0x69, 0x73, 0x17, 0x8b, 0xe7, 0x68, 0xed, 0xd1,
	0x91, 0xc8, 0x58, 0xae, 0x45, 0x66, 0xc7, 0x20, 0x99, 0xe2, 0x5e, 0x27,
	0x2f, 0xd9, 0x0c, 0x0e, 0x41, 0xe7, 0x3f, 0x54, 0x4d, 0x1b, 0xa1, 0x83,
	0x05, 0x03, 0x83, 0xa2, 0x4a, 0xb1, 0x74, 0x97, 0x4e, 0x12, 0xd6, 0x32,
	0x40, 0x80, 0x78, 0x31, 0x7b, 0x15, 0x91, 0xca, 0xf1, 0x63, 0x14, 0x83,
	0xe0, 0x6d, 0x1d, 0xea, 0xf7, 0x9c, 0x7a, 0xac, 0x74, 0xac, 0xb8, 0xf5,
	0x3c, 0x3f, 0xe5, 0x15, 0x1d, 0x26, 0xaf, 0xb7, 0xc0, 0x05, 0xb5, 0x91,
	0xe4, 0x86, 0xb4, 0x0e, 0x6c, 0x80, 0x51, 0xed, 0xf0, 0x81, 0xe7, 0x7b,
	0x81, 0xa1, 0x0a, 0x6a, 0xfb, 0x2b, 0xf1, 0x85, 0xe3, 0x34, 0xf5, 0x8e,
	0x83, 0x83, 0x3f, 0x64, 0x9b, 0xe2, 0x0a, 0xe5, 0x8f, 0xf2, 0xf8, 0x3a,
	0x7e, 0xd8, 0xb0, 0x14, 0xc8, 0x7e, 0x95, 0x85, 0x1e, 0x0d, 0x51, 0xc7,
	0x27, 0xc5, 0x18, 0x79, 0x19, 0x15, 0xb4, 0x8c, 0xe3, 0xdc, 0x9c, 0x47,
	0xe9, 0xa8, 0x73, 0x49, 0xa2, 0xb1, 0x9c, 0xac, 0x78, 0x9b, 0x8a, 0x27,
	0xa2, 0xab, 0xbe, 0xc6, 0xc4, 0x39, 0x02, 0x21, 0x11, 0x11, 0x10, 0x46,
	0x9b, 0x67, 0xc4, 0xdb, 0x0c, 0x9b, 0xee, 0xc7, 0x05, 0xe6, 0x18, 0xd6,
	0xb8, 0x89, 0x18, 0xe5, 0x72, 0x6e, 0xe1, 0xfe, 0x7f, 0x8c, 0xd1, 0xb9,
	0xa3, 0x85, 0x09, 0x07, 0xae, 0xbf, 0x89, 0xa2, 0x31, 0x0c, 0xbd, 0x15,
	0x76, 0x26, 0x8d, 0xa1, 0xcc, 0x67, 0xdb, 0x51, 0x80, 0x40, 0x95, 0xb2,
	0x84, 0x8e, 0xb8, 0x79, 0x72, 0xe5, 0x73, 0xe0, 0xeb, 0xdc, 0x05, 0xa3,
	0x11, 0x3e, 0xe5, 0x76, 0x8b, 0x39, 0xcd, 0x25, 0xc0, 0xc5, 0x06, 0x2b,
	0xf1, 0x10, 0x68, 0xc9, 0xe9, 0x02, 0x03, 0x01, 0x00, 0x01, 0xa3, 0x0d,
	0x30, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x04, 0x02, 0x30,
	0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	0x01, 0x0b, 0x05, 0x00, 0x03, 0x82, 0x01, 0x01, 0x00, 0xab, 0x74, 0x5f,
	0x5a, 0xe9, 0x9d, 0xb8, 0x58, 0x3f, 0x3e, 0x41, 0x1e, 0x4a, 0x03, 0x03,
	0xb5, 0xb3, 0xbe, 0x92, 0xbb, 0x7e, 0x5b, 0x1d, 0x1f, 0xb6, 0x62, 0x68,
	0xe3, 0xba, 0xca, 0xd3, 0x04, 0x0a, 0xfa, 0xfb, 0xc8, 0xa6, 0x26, 0x28,
	0x42, 0x46, 0xe5, 0xdd, 0x82, 0x25, 0x3f, 0x79, 0x39, 0xa2, 0x7d, 0x9e,
	0x27, 0xa6, 0xf6, 0xe0, 0x75, 0x57, 0x0a, 0x6e, 0x53, 0x2d, 0xcd, 0xd9,
	0x7a, 0xbc, 0x28, 0x25, 0xf1, 0x78, 0x1c, 0x60, 0xf7, 0xbe, 0x68, 0xdd,
	0x7c, 0x94, 0x95, 0x69, 0xfa, 0xba, 0xe4, 0x1f, 0x15, 0x38, 0xd3, 0x2c,
	0xa2, 0x42, 0x9f, 0x48, 0x64, 0x4f, 0xde, 0xbc, 0x3f, 0xde, 0x99, 0x78,
	0x30, 0x88, 0xc4, 0xc6, 0x44, 0x05, 0xba, 0x14, 0x0c, 0x80, 0xf7, 0x88,
	0x90, 0x50, 0x6a, 0xc8, 0xcd, 0x7e, 0x6e, 0x1c, 0xca, 0x2a, 0xbb, 0xfe,
	0x33, 0xd9, 0x0b, 0xd0, 0x91, 0xb9, 0x6e, 0x63, 0xb3, 0x32, 0xab, 0x74,
	0x50, 0x06, 0x11, 0x40, 0x50, 0x0e, 0x55, 0xc1, 0xae, 0xe8, 0xc2, 0x7e,
	0x8a, 0xad, 0x4e, 0x09, 0xa2, 0x7c, 0xac, 0xe1, 0xb6, 0x88, 0x69, 0x0d,
	0xf7, 0x0f, 0x51, 0x2a, 0x2a, 0x15, 0x7e, 0x8a, 0x76, 0xc0, 0x5e, 0x85,
	0xb5, 0xfb, 0x14, 0xea, 0x5c, 0x31, 0xb4, 0xd2, 0xe3, 0x95, 0x6f, 0xef,
	0xf5, 0x1c, 0x44, 0x49, 0x26, 0x01, 0xb4, 0x8e, 0x28, 0xa3, 0x1c, 0x6a,
	0xc8, 0x02, 0x27, 0xa3, 0x07, 0x85, 0xe1, 0xfa, 0x77, 0x51, 0xa3, 0x5d,
	0x9a, 0x55, 0xcc, 0x2b, 0xb2, 0x24, 0x7a, 0x4f, 0x00, 0x63, 0x8d, 0x6c,
	0x79, 0x4c, 0x6f, 0x03, 0x58, 0xef, 0x92, 0x1d, 0xc5, 0x8a, 0xc1, 0x08,
	0xd7, 0xb6, 0x32, 0xdc, 0x7c, 0x1a, 0x6e, 0x02, 0xba, 0xf4, 0xae, 0x3c,
	0x34, 0xd2, 0xbc, 0xf2, 0x2a, 0xb2, 0xb7, 0x70, 0xf1, 0xb6, 0x8a, 0x8a,
	0xde, 0x16, 0x03, 0x03, 0x01, 0x4d, 0x0c, 0x00, 0x01, 0x49, 0x03, 0x00,
	0x17, 0x41, 0x04, 0x6f, 0x97, 0xa5, 0x07, 0xe2, 0xc3, 0xaa, 0x6e, 0xed,
	0xaf, 0xa0, 0xb1, 0xae, 0x9d, 0xd7, 0xc1, 0x02, 0x09, 0xe1, 0xfb, 0x4b,
	0xc3, 0x0e, 0x37, 0xdb, 0x61, 0x8f, 0x9f, 0x78, 0x9d, 0x96, 0xc0, 0xba,
	0x55, 0xd9, 0xb6, 0xc9, 0xb1, 0xb3, 0xef, 0x84, 0xa8, 0x40, 0xe4, 0x5e,
	0xd6, 0xa1, 0x87, 0x98, 0xf4, 0x94, 0xbd, 0xb9, 0x4d, 0x18, 0x34, 0xd5,
	0xf6, 0x34, 0xa4, 0xe3, 0xc9, 0x9a, 0x46, 0x04, 0x01, 0x01, 0x00, 0xb7,
	0x92, 0xef, 0x3a, 0xf9, 0x31, 0xbd, 0x7c, 0xb7, 0x71, 0xf3, 0xec, 0x2f,
	0xcd, 0x46, 0x01, 0xb1, 0x24, 0x9f, 0x9d, 0x1b, 0xb6, 0x89, 0x3f, 0xa2,
	0xb4, 0xa1, 0x9d, 0xdc, 0xfe, 0x76, 0x69, 0x33, 0x6c, 0xef, 0xac, 0x87,
	0x24, 0x42, 0x2c, 0x8b, 0xe0, 0x8b, 0x81, 0x52, 0xaf, 0xe7, 0xac, 0xa7,
	0x81, 0x8e, 0xad, 0x6a, 0x9d, 0x99, 0x90, 0xd3, 0xdf, 0xef, 0x74, 0xc7,
	0xc2, 0xc6, 0xcc, 0xa8, 0x4e, 0x51, 0x27, 0xe5, 0xcf, 0xcc, 0xe5, 0x4b,
	0x97, 0x41, 0x8a, 0x28, 0x69, 0xfe, 0x41, 0x1a, 0xe6, 0x56, 0x67, 0xff,
	0xa4, 0xfd, 0xa2, 0xa3, 0xdf, 0xfb, 0x6c, 0xb0, 0x95, 0xd9, 0xe1, 0x8c,
	0xdb, 0x53, 0x0d, 0xb7, 0x1c, 0x34, 0xa3, 0x54, 0xc0, 0xc0, 0xa8, 0xa9,
	0x6b, 0x45, 0xe7, 0x3d, 0x90, 0xcd, 0x80, 0x60, 0xb7, 0x07, 0xb0, 0xe6,
	0xee, 0x1e, 0x43, 0xa1, 0x2c, 0x21, 0x52, 0xb2, 0xe6, 0xea, 0x67, 0x9d,
	0x9c, 0xb1, 0x0f, 0xad, 0x7b, 0xf7, 0xc9, 0xd6, 0xa3, 0x3e, 0x79, 0x10,
	0x1f, 0x67, 0xee, 0xf6, 0x65, 0xad, 0xdf, 0x68, 0x1f, 0xec, 0xdb, 0x1c,
	0x86, 0xce, 0x20, 0x33, 0x31, 0x68, 0x60, 0x07, 0xcf, 0x9c, 0x7c, 0x1e,
	0xa3, 0xbf, 0xe0, 0x26, 0x04, 0x77, 0x47, 0x8a, 0x7d, 0x78, 0x6c, 0xab,
	0xb0, 0xce, 0x5c, 0x6a, 0x04, 0x36, 0x0a, 0x5d, 0xb9, 0xb9, 0xc8, 0x22,
	0x3b, 0xce, 0x93, 0xfe, 0x67, 0x46, 0xf9, 0x66, 0xcf, 0xb0, 0xcc, 0x88,
	0xf4, 0xa8, 0xd7, 0x57, 0x43, 0xaf, 0x11, 0xc5, 0xce, 0x3a, 0xf7, 0xb4,
	0x78, 0x5e, 0x0c, 0x6d, 0x5c, 0x00, 0x9e, 0x00, 0x73, 0x75, 0x00, 0x53,
	0xb7, 0xa0, 0x67, 0xc3, 0x3b, 0x78, 0x24, 0xfc, 0xa2, 0x09, 0x3b, 0x8a,
	0xd1, 0x36, 0xc5, 0xf8, 0xdb, 0xc9, 0x57, 0xe4, 0x97, 0x0a, 0x39, 0x1c,
	0xe9, 0x8f, 0x31, 0x16, 0x03, 0x03, 0x00, 0x04, 0x0e, 0x00, 0x00, 0x00,
};
static const uint8_t real_client2[126] = {
	0x16, 0x03, 0x03, 0x00, 0x46, 0x10, 0x00, 0x00, 0x42, 0x41, 0x04, 0x66,
	0x73, 0x00, 0xa2, 0x00, 0x17, 0x9c, 0xea, 0x42, 0xeb, 0x2f, 0x5b, 0xbe,
	0x98, 0x3f, 0xae, 0x39, 0xa8, 0x19, 0xa4, 0xf0, 0x35, 0xd0, 0xbe, 0x87,
	0xdd, 0x8d, 0xf7, 0x87, 0x50, 0x98, 0xd6, 0x6b, 0x72, 0xc4, 0x81, 0x8f,
	0xda, 0x8f, 0x2c, 0x4d, 0xcd, 0x32, 0x1d, 0xab, 0x4a, 0x11, 0xee, 0x1f,
	0x52, 0xe7, 0x46, 0xf8, 0xc1, 0xea, 0xae, 0xab, 0xd4, 0x07, 0x6d, 0x6e,
	0x91, 0x12, 0x46, 0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x16, 0x03, 0x03,
	0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x96, 0x3a,
	0x6a, 0xbb, 0x11, 0xf7, 0x45, 0xe2, 0x89, 0x9a, 0xf4, 0x30, 0x5e, 0x8b,
	0x34, 0x99, 0xe8, 0x09, 0x21, 0x68, 0x7d, 0xa4, 0x57, 0xf1, 0xec, 0xcb,
	0x3e, 0xe6, 0x60, 0xb8, 0xeb, 0x11,
};

static void
test_real_starttls(void)
{
	struct conv v = { .n = 0 };
	int ok;

	add_bytes(&v, 0, real_client1, sizeof(real_client1));
	add_bytes(&v, 1, real_server1, sizeof(real_server1));
	add_bytes(&v, 0, real_client2, sizeof(real_client2));
	sink.event = on_event_real;
	ok = same_everywhere(&v, "CH dovecot.weberlab.de lv=0303 v=0303 [] "
	    "sid=0 f1|SH TLS 1.2 c=c02f sid=0 f2|CERT 1 712 3082 f2|"
	    "ENC 0 f3|DONE|");
	sink.event = on_event;
	conv_free(&v);
	CHECK(ok);
}

int
main(void)
{
	RUN(test_tls12_full);
	RUN(test_tls10_alert);
	RUN(test_ssl3_tls11);
	RUN(test_tls13);
	RUN(test_hrr);
	RUN(test_resumed12);
	RUN(test_not_resumed12);
	RUN(test_resumed13);
	RUN(test_fragmented);
	RUN(test_frames);
	RUN(test_bad_certificate_lengths);
	RUN(test_bad_hello_lengths);
	RUN(test_bad_hello_extensions);
	RUN(test_not_tls);
	RUN(test_alerts);
	RUN(test_many_certs);
	RUN(test_huge_chain);
	RUN(test_sni);
	RUN(test_gaps);
	RUN(test_client_cert);
	RUN(test_done);
	RUN(test_names);
	RUN(test_real_starttls);
	return check_done("test_tls");
}
