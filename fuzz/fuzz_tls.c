/*
 * fuzz_tls.c - fuzz target for the TLS dissector (RFC 5246, 8446, 6066).
 *
 * Input: one config byte, then records until the input ends (the format
 * of fuzz_smtp.c, which tests/unit/test_tls.c writes when TLS_SEED_DIR is
 * set):
 *
 *	cfg	bit 0 split finely (below), bits 1-7 seed the piece sizes
 *	record	op(1) len(2, big-endian) [bytes(len) unless op & OP_GAP]
 *		op bit 0 is the direction (0 client, 1 server); with op bit 1
 *		the record is a gap of len bytes, else len bytes of stream
 *		(fewer if the input ends), copied into a malloc of exactly
 *		their size (STYLE.md R13)
 *
 * Every event is checked against tls.h: fields in range, certificates
 * inside what was fed or kept (ASan reads every byte claimed), no event
 * from a direction after it stopped, none after TLS_DONE.  The input is
 * then fed a second time with each record cut into pieces (single bytes
 * with cfg bit 0, else 1-64 bytes at pseudo-random): segmentation is the
 * sender's choice, so both runs must report the same events.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/tls.h"
#include "fuzz/fuzz.h"

#define CFG_FINE	0x01
#define OP_DIR		0x01
#define OP_GAP		0x02

/* Everything one run reported, to compare the two runs. */
struct log {
	uint8_t	*buf;
	size_t	 len, cap;
};

struct ctx {
	struct log	 log;
	const uint8_t	*fed;		/* the piece being fed */
	size_t		 fedlen;
	bool		 stopped[2];	/* dir gave ENCRYPTED, MALFORMED or GAP */
	bool		 done;		/* tls_feed returned TLS_DONE */
};

static void
log_put(struct log *l, const void *p, size_t n)
{
	if (l->len + n > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;

		while (cap < l->len + n)
			cap *= 2;
		FUZZ_CHECK((l->buf = realloc(l->buf, cap)) != NULL);
		l->cap = cap;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

/* The reported name: [a-z0-9.-_*], \xNN escapes, "\..." when cut. */
static void
check_sni(const struct tls_event *ev)
{
	const char *p = ev->sni;
	size_t n = strlen(p), i;
	bool esc = false, cut;

	FUZZ_CHECK(n <= TLS_SNI_MAX * 4 + 4);
	cut = n >= 4 && strcmp(p + n - 4, "\\...") == 0;
	if (cut)
		n -= 4;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\\') {
			FUZZ_CHECK(n - i >= 4 && p[i + 1] == 'x' &&
			    strchr("0123456789abcdef", p[i + 2]) != NULL &&
			    strchr("0123456789abcdef", p[i + 3]) != NULL);
			esc = true;
			i += 3;
			continue;
		}
		FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_' || c == '*');
	}
	FUZZ_CHECK(ev->sni_bad == (esc || cut));
}

static void
check_event(struct ctx *c, const struct tls_event *ev)
{
	size_t i, total = 0;

	FUZZ_CHECK(ev->type >= TLS_EV_CLIENT_HELLO && ev->type <= TLS_EV_GAP);
	FUZZ_CHECK(ev->dir == 0 || ev->dir == 1);
	FUZZ_CHECK(!c->stopped[ev->dir]);
	FUZZ_CHECK(!c->done);
	FUZZ_CHECK(ev->sni != NULL && ev->why != NULL);
	FUZZ_CHECK(ev->session_id_len <= 32);
	FUZZ_CHECK(ev->nversions <= TLS_VERSIONS_MAX);
	FUZZ_CHECK(ev->ncerts <= TLS_CERTS_MAX);
	FUZZ_CHECK(ev->ncerts == 0 || (ev->certs != NULL &&
	    ev->cert_lens != NULL));
	switch (ev->type) {
	case TLS_EV_CLIENT_HELLO:
		FUZZ_CHECK(ev->dir == 0);
		check_sni(ev);
		FUZZ_CHECK(ev->nversions == 0 || ev->versions != NULL);
		for (i = 0; i < ev->nversions; i++) {
			uint16_t v = ev->versions[i];

			FUZZ_CHECK(!((v & 0x0f0f) == 0x0a0a &&
			    (v >> 8) == (v & 0xff)));	/* no GREASE */
			FUZZ_CHECK(v <= ev->version);
		}
		break;
	case TLS_EV_SERVER_HELLO:
		FUZZ_CHECK(ev->dir == 1);
		FUZZ_CHECK(!(ev->hrr && ev->resumed));
		break;
	case TLS_EV_CERTIFICATE:
		for (i = 0; i < ev->ncerts; i++) {
			const uint8_t *p = ev->certs[i];
			size_t n = ev->cert_lens[i];

			FUZZ_CHECK(p != NULL && n >= 1 && n < (1u << 24));
			total += 3 + n;
			/* Read in place: wholly inside the piece fed. */
			if ((uintptr_t)p - (uintptr_t)c->fed < c->fedlen)
				FUZZ_CHECK(n <= c->fedlen -
				    ((uintptr_t)p - (uintptr_t)c->fed));
		}
		FUZZ_CHECK(total <= TLS_HS_MAX);
		break;
	case TLS_EV_MALFORMED:
		FUZZ_CHECK(ev->why[0] != '\0');
		/* FALLTHROUGH */
	case TLS_EV_ENCRYPTED:
	case TLS_EV_GAP:
		c->stopped[ev->dir] = true;
		break;
	default:
		break;
	}
}

static void
on_event(void *arg, const struct tls_event *ev)
{
	struct ctx *c = arg;
	uint64_t hdr[12];
	size_t i;

	check_event(c, ev);
	hdr[0] = ev->type;
	hdr[1] = (uint64_t)ev->dir;
	hdr[2] = ev->frame;
	hdr[3] = ev->legacy_version;
	hdr[4] = ev->version;
	hdr[5] = ev->cipher;
	hdr[6] = ev->session_id_len;
	hdr[7] = (uint64_t)ev->sni_bad | (uint64_t)ev->ticket << 1 |
	    (uint64_t)ev->resumed << 2 | (uint64_t)ev->hrr << 3 |
	    (uint64_t)ev->downgrade << 4 | (uint64_t)ev->truncated << 5;
	hdr[8] = ev->nversions;
	hdr[9] = ev->ncerts;
	hdr[10] = (uint64_t)ev->level << 8 | ev->description;
	hdr[11] = 0;
	log_put(&c->log, hdr, sizeof(hdr));
	log_put(&c->log, ev->sni, strlen(ev->sni) + 1);
	log_put(&c->log, ev->why, strlen(ev->why) + 1);
	if (ev->nversions > 0)
		log_put(&c->log, ev->versions,
		    ev->nversions * sizeof(ev->versions[0]));
	for (i = 0; i < ev->ncerts; i++) {	/* ASan checks every byte */
		log_put(&c->log, &ev->cert_lens[i], sizeof(ev->cert_lens[i]));
		log_put(&c->log, ev->certs[i], ev->cert_lens[i]);
	}
}

/* The next piece of a record when feeding in pieces. */
static size_t
piece(bool fine, size_t left, uint32_t *rng)
{
	size_t n = 1;

	if (!fine) {
		*rng = *rng * 1103515245 + 12345;
		n = 1 + (*rng >> 16) % 64;
	}
	return n < left ? n : left;
}

/* Feeds the whole input once; returns what was reported. */
static struct log
run(const uint8_t *data, size_t size, bool split)
{
	struct tls_session *s;
	struct tls_sink sink;
	struct ctx c;
	uint32_t rng = data[0] >> 1;
	uint64_t frame = 0;
	size_t pos = 1;

	memset(&c, 0, sizeof(c));
	FUZZ_CHECK((s = tls_new()) != NULL);
	sink.event = on_event;
	sink.ctx = &c;

	while (!c.done && size - pos >= 3) {
		uint8_t op = data[pos];
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2], off;

		pos += 3;
		frame++;
		if (op & OP_GAP) {
			tls_gap(s, op & OP_DIR, len, &sink);
			continue;
		}
		if (len > size - pos)
			len = size - pos;
		for (off = 0; off < len && !c.done; ) {
			size_t n = split ? piece(data[0] & CFG_FINE, len - off,
			    &rng) : len - off;
			uint8_t *copy;

			FUZZ_CHECK((copy = malloc(n)) != NULL);
			memcpy(copy, data + pos + off, n);
			c.fed = copy;
			c.fedlen = n;
			c.done = tls_feed(s, op & OP_DIR, copy, n, frame,
			    &sink) == TLS_DONE;
			c.fed = NULL;
			c.fedlen = 0;
			free(copy);
			off += n;
		}
		pos += len;
	}
	/* Once both directions stopped, the session must say so. */
	if (c.stopped[0] && c.stopped[1])
		FUZZ_CHECK(tls_feed(s, 0, NULL, 0, frame, &sink) == TLS_DONE);
	{
		uint8_t end[3] = { c.done, c.stopped[0], c.stopped[1] };

		log_put(&c.log, end, sizeof(end));
	}
	tls_free(s);
	return c.log;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct log whole, pieces;

	if (size < 1)
		return 0;
	whole = run(data, size, false);
	pieces = run(data, size, true);
	/* Same stream, other segmentation: the same report. */
	FUZZ_CHECK(whole.len == pieces.len &&
	    memcmp(whole.buf, pieces.buf, whole.len) == 0);
	free(whole.buf);
	free(pieces.buf);
	return 0;
}
