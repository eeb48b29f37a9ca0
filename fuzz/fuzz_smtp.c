/*
 * fuzz_smtp.c - fuzz target for the SMTP dissector and the judgement on
 * its events (RFC 5321, 3207, 2920, 3030, 4954).
 *
 * Input: one config byte, then records until the input ends (the format
 * fuzz/mksmtpseeds.sh writes from the project's captures):
 *
 *	cfg	bit 0 implicit TLS (port 465), bit 1 the server offered
 *		STARTTLS before, bit 2 the operator expects STARTTLS,
 *		bit 3 split finely (below), bits 4-7 conflicting overlaps
 *	record	op(1) len(2, big-endian) [bytes(len) unless op & OP_GAP]
 *		op bit 0 is the direction (0 client, 1 server); with op bit 1
 *		the record is a gap of len bytes, else len bytes of stream
 *		(fewer if the input ends), copied into a malloc of exactly
 *		their size (STYLE.md R13)
 *
 * Events go to detect_event(), alerts to a hook; every event, alert and
 * the session summary is checked against smtp.h and detect.h.  The
 * conversation is then fed a second time with each record cut into
 * pieces (single bytes with cfg bit 3, else 1-8 bytes at pseudo-random):
 * TCP segmentation is the sender's choice, so both runs must report the
 * same events, alerts and summary.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "detect/detect.h"
#include "dissect/smtp.h"
#include "fuzz/fuzz.h"

#define CFG_IMPLICIT	0x01
#define CFG_OFFERED	0x02
#define CFG_EXPECTED	0x04
#define CFG_FINE	0x08
#define OP_DIR		0x01
#define OP_GAP		0x02

/* Everything one run reported, to compare the two runs. */
struct log {
	uint8_t	*buf;
	size_t	 len, cap;
};

struct ctx {
	struct detect_session	*det;
	struct detect_hooks	 hooks;
	uint8_t			 cfg;
	struct log		 log;
	struct log		 tls[2];	/* SMTP_EV_TLS_DATA bytes */
};

/* Static: run() hands the TLS bytes back beside the log. */
static struct log tls_out[2];

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

static bool
offered_before(void *arg, const char *host)
{
	struct ctx *c = arg;

	FUZZ_CHECK(host != NULL && strlen(host) < 64);
	return (c->cfg & CFG_OFFERED) != 0;
}

static bool
expected(void *arg)
{
	struct ctx *c = arg;

	return (c->cfg & CFG_EXPECTED) != 0;
}

static void
offered(void *arg, const char *host, bool yes)
{
	struct ctx *c = arg;
	uint8_t b = yes;

	FUZZ_CHECK(host != NULL && strlen(host) < 64);
	log_put(&c->log, host, strlen(host) + 1);
	log_put(&c->log, &b, 1);
}

static void
on_alert(void *arg, const struct alert *a)
{
	struct ctx *c = arg;
	size_t n = strnlen(a->evidence, sizeof(a->evidence)), i;
	uint64_t hdr[3];

	FUZZ_CHECK((unsigned)a->kind < ALERT_KIND_COUNT);
	FUZZ_CHECK((unsigned)a->severity <= SEV_HIGH);
	FUZZ_CHECK(alert_kind_name(a->kind) != NULL);
	FUZZ_CHECK(n < sizeof(a->evidence));	/* NUL-terminated */
	for (i = 0; i < n; i++)			/* "printable ASCII" */
		FUZZ_CHECK(a->evidence[i] >= 0x20 && a->evidence[i] < 0x7f);
	hdr[0] = a->kind;
	hdr[1] = a->severity;
	hdr[2] = a->frame;
	log_put(&c->log, hdr, sizeof(hdr));
	log_put(&c->log, a->evidence, n + 1);
}

static void
check_event(const struct smtp_event *ev)
{
	size_t i, j;

	FUZZ_CHECK(ev->type >= SMTP_EV_BANNER &&
	    ev->type <= SMTP_EV_BAD_REPLY);
	FUZZ_CHECK(ev->dir == 0 || ev->dir == 1);
	FUZZ_CHECK(ev->verb >= SMTP_V_GREETING && ev->verb <= SMTP_V_UNKNOWN);
	FUZZ_CHECK(ev->text_len <= SMTP_LINE_MAX);
	FUZZ_CHECK(ev->text != NULL || ev->text_len == 0);
	switch (ev->type) {
	case SMTP_EV_BANNER:
	case SMTP_EV_REPLY:
		FUZZ_CHECK(ev->dir == 1);
		FUZZ_CHECK(ev->code >= 100 && ev->code <= 599);
		FUZZ_CHECK(ev->text_len <= SMTP_TEXT_MAX);
		break;
	case SMTP_EV_COMMAND:
		FUZZ_CHECK(ev->dir == 0);
		if (ev->verb != SMTP_V_AUTH)
			break;
		/*
		 * "AUTH: mechanism only" (smtp.h): nothing may follow the
		 * mechanism word, and servers split it from an initial
		 * response (a credential) at any white space.
		 */
		for (i = 5; i < ev->text_len; i++)
			FUZZ_CHECK(ev->text[i] != ' ' && ev->text[i] != '\t');
		break;
	default:
		break;
	}
	FUZZ_CHECK(ev->ncaps <= SMTP_CAPS_MAX);
	FUZZ_CHECK(ev->ncaps == 0 || ev->caps != NULL);
	for (i = 0; i < ev->ncaps; i++) {
		const char *kw = ev->caps[i];

		FUZZ_CHECK(kw != NULL);
		FUZZ_CHECK(strlen(kw) <= SMTP_KEYWORD_MAX);
		for (j = 0; kw[j] != '\0'; j++)	/* "upper case", one word */
			FUZZ_CHECK(!(kw[j] >= 'a' && kw[j] <= 'z') &&
			    kw[j] != ' ' && kw[j] != '=');
	}
}

static void
on_event(void *arg, const struct smtp_event *ev)
{
	struct ctx *c = arg;
	uint64_t hdr[8];
	size_t i;

	/*
	 * TLS bytes stop where the dissector says done, which depends on
	 * the cuts: they are compared as prefixes of one stream, apart.
	 */
	if (ev->type == SMTP_EV_TLS_DATA) {
		FUZZ_CHECK(ev->dir == 0 || ev->dir == 1);
		FUZZ_CHECK(ev->text != NULL && ev->text_len > 0);
		log_put(&c->tls[ev->dir], ev->text, ev->text_len);
		return;
	}
	check_event(ev);
	hdr[0] = ev->type;
	hdr[1] = (uint64_t)ev->dir;
	hdr[2] = ev->frame;
	hdr[3] = ev->verb;
	hdr[4] = (uint64_t)ev->code;
	hdr[5] = ev->count;
	hdr[6] = ev->text_len;
	hdr[7] = ev->ncaps;
	log_put(&c->log, hdr, sizeof(hdr));
	if (ev->text_len > 0)		/* ASan checks every byte claimed */
		log_put(&c->log, ev->text, ev->text_len);
	for (i = 0; i < ev->ncaps; i++)
		log_put(&c->log, ev->caps[i], strlen(ev->caps[i]) + 1);
	detect_event(c->det, ev, &c->hooks);
}

/* The next piece of a record when feeding in pieces. */
static size_t
piece(bool fine, size_t left, uint32_t *rng)
{
	size_t n = 1;

	if (!fine) {
		*rng = *rng * 1103515245 + 12345;
		n = 1 + (*rng >> 16) % 8;
	}
	return n < left ? n : left;
}

/* NUL-terminated within its array. */
#define TERMINATED(a)	(strnlen((a), sizeof(a)) < sizeof(a))

/* Feeds the whole input once; returns what was reported. */
static struct log
run(const uint8_t *data, size_t size, bool split)
{
	struct smtp_session *s;
	struct smtp_sink sink;
	struct detect_summary sum;
	struct ctx c;
	uint32_t rng = (uint32_t)size;
	uint64_t frame = 0;
	size_t pos = 1;
	bool done = false;

	memset(&c, 0, sizeof(c));
	c.cfg = data[0];
	c.hooks.offered_before = offered_before;
	c.hooks.expected = expected;
	c.hooks.offered = offered;
	c.hooks.alert = on_alert;
	c.hooks.ctx = &c;
	FUZZ_CHECK((c.det = detect_session_new()) != NULL);
	FUZZ_CHECK((s = smtp_new(data[0] & CFG_IMPLICIT)) != NULL);
	sink.event = on_event;
	sink.ctx = &c;

	while (!done && size - pos >= 3) {
		uint8_t op = data[pos];
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2], off;
		uint8_t *copy;

		pos += 3;
		frame++;
		if (op & OP_GAP) {
			smtp_gap(s, op & OP_DIR, len, &sink);
			continue;
		}
		if (len > size - pos)
			len = size - pos;
		for (off = 0; off < len && !done; ) {
			size_t n = split ? piece(data[0] & CFG_FINE, len - off,
			    &rng) : len - off;

			FUZZ_CHECK((copy = malloc(n)) != NULL);
			memcpy(copy, data + pos + off, n);
			done = smtp_feed(s, op & OP_DIR, copy, n, frame,
			    &sink) == SMTP_DONE;
			free(copy);
			off += n;
		}
		pos += len;
	}

	memset(&sum, 0, sizeof(sum));
	detect_session_end(c.det, data[0] >> 4, frame, &c.hooks, &sum);
	FUZZ_CHECK(TERMINATED(sum.banner_host) && TERMINATED(sum.ehlo_name) &&
	    TERMINATED(sum.capabilities) && TERMINATED(sum.rcpt_domains) &&
	    TERMINATED(sum.auth_mech));
	FUZZ_CHECK(sum.outcome != NULL);
	{
		uint8_t flags[6] = { sum.starttls_offered, sum.starttls_sent,
		    sum.tls, sum.mail_in_clear, smtp_incomplete(s),
		    smtp_recognised(s) };
		int32_t reply = sum.starttls_reply;

		const char *str[6] = { sum.banner_host, sum.ehlo_name,
		    sum.capabilities, sum.rcpt_domains, sum.auth_mech,
		    sum.outcome };
		size_t i;

		for (i = 0; i < 6; i++)
			log_put(&c.log, str[i], strlen(str[i]) + 1);
		log_put(&c.log, flags, sizeof(flags));
		log_put(&c.log, &reply, sizeof(reply));
	}
	smtp_free(s);
	detect_session_free(c.det);
	tls_out[0] = c.tls[0];
	tls_out[1] = c.tls[1];
	return c.log;
}

/* One of a and b starts the other. */
static bool
prefixes(const struct log *a, const struct log *b)
{
	size_t n = a->len < b->len ? a->len : b->len;

	return n == 0 || memcmp(a->buf, b->buf, n) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct log whole, pieces, tls[2];
	int d;

	if (size < 1)
		return 0;
	whole = run(data, size, false);
	tls[0] = tls_out[0];
	tls[1] = tls_out[1];
	pieces = run(data, size, true);
	/* Same stream, other segmentation: the same report. */
	FUZZ_CHECK(whole.len == pieces.len &&
	    memcmp(whole.buf, pieces.buf, whole.len) == 0);
	for (d = 0; d < 2; d++) {
		FUZZ_CHECK(prefixes(&tls[d], &tls_out[d]));
		free(tls[d].buf);
		free(tls_out[d].buf);
	}
	free(whole.buf);
	free(pieces.buf);
	return 0;
}
