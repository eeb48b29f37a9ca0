/*
 * smtp.c - SMTP dissection of a reassembled TCP connection.
 *
 * RFC 5321 (commands, replies, DATA), RFC 3207 (STARTTLS), RFC 2920
 * (pipelining), RFC 3030 (BDAT), RFC 4954 (AUTH).  Each direction is
 * split into lines with memchr() inside the segment, so a line that ends
 * in the segment where it began is never copied; only a line split across
 * segments is kept, up to SMTP_LINE_MAX, and a longer one is discarded up
 * to its LF and reported.  A message (DATA) is only searched for its end,
 * so none of its lines is kept.  Commands wait in a bounded FIFO for their
 * replies.  Around STARTTLS each direction has one rule: the client is
 * silent between its STARTTLS line and the reply, the server between its
 * 220 and its first TLS record; anything else is an injection.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "smtp.h"

enum mode {
	MODE_LINES,	/* commands (client) or replies (server) */
	MODE_BODY,	/* client: DATA body, up to a "." line */
	MODE_CHUNK,	/* client: BDAT bytes */
	MODE_AUTH,	/* client: AUTH responses, never reported */
	MODE_HANDOVER,	/* STARTTLS under way: TLS, or an injection */
	MODE_TLS,	/* encrypted: no longer looked at */
	MODE_BLIND,	/* bytes lost where TLS should begin: not judged */
	MODE_OFF,	/* not SMTP */
};

struct dir {
	enum mode	 mode;
	uint8_t		*part;		/* a line split across segments */
	size_t		 plen;
	size_t		 pcap;		/* bytes allocated, up to SMTP_LINE_MAX */
	uint64_t	 pframe;	/* frame of part[0] */
	bool		 discard;	/* over SMTP_LINE_MAX: skip to LF */
	bool		 lines_seen;	/* a complete line was handled */
	bool		 started;	/* any byte or gap was seen */
	uint8_t		 hold;		/* a lone TLS record type byte */
	uint8_t		 nhold;		/* 1 while hold waits for the next */
};

/* EHLO keywords of the reply under way; only SMTP sessions need them. */
struct keywords {
	char		 word[SMTP_CAPS_MAX][SMTP_KEYWORD_MAX + 1];
	const char	*ptr[SMTP_CAPS_MAX];
};

struct smtp_session {
	struct dir	 d[2];
	enum smtp_verb	 pend[SMTP_PENDING_MAX];	/* commands awaiting replies */
	unsigned	 phead, pn;
	bool		 greeted;	/* the banner reply was complete */
	bool		 in_reply;	/* a multi-line reply is under way */
	int		 rcode;
	uint8_t		 rfirst[SMTP_TEXT_MAX];	/* first line of the reply */
	size_t		 rfirst_len;
	uint64_t	 rframe;
	struct keywords	*kw;		/* made at the first EHLO reply */
	size_t		 nkw;
	bool		 starttls_pending;	/* STARTTLS sent, no reply yet */
	bool		 handover;	/* 220 to STARTTLS seen */
	bool		 not_tls_pending; /* the client's next line proves it */
	uint64_t	 body_bytes;
	uint64_t	 chunk_left;
	bool		 implicit_tls;
	bool		 recognised;
	bool		 incomplete;
};

static const struct {
	const char	*name;
	enum smtp_verb	 verb;
} verbs[] = {
	{ "HELO", SMTP_V_HELO }, { "EHLO", SMTP_V_EHLO },
	{ "MAIL", SMTP_V_MAIL }, { "RCPT", SMTP_V_RCPT },
	{ "DATA", SMTP_V_DATA }, { "BDAT", SMTP_V_BDAT },
	{ "RSET", SMTP_V_RSET }, { "NOOP", SMTP_V_NOOP },
	{ "QUIT", SMTP_V_QUIT }, { "VRFY", SMTP_V_VRFY },
	{ "EXPN", SMTP_V_EXPN }, { "HELP", SMTP_V_HELP },
	{ "STARTTLS", SMTP_V_STARTTLS }, { "AUTH", SMTP_V_AUTH },
	{ "ETRN", SMTP_V_ETRN },
};

const char *
smtp_verb_name(enum smtp_verb v)
{
	size_t i;

	if (v == SMTP_V_GREETING)
		return "greeting";
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].verb == v)
			return verbs[i].name;
	return "unknown";
}

static inline int
upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

static inline bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/*
 * A TLS record starts with a content type 20..23 (RFC 8446 5.1).  Only
 * the first byte is judged, so the verdict cannot depend on how the
 * bytes were segmented; no SMTP line starts with those control bytes.
 */
static bool
looks_like_tls(const uint8_t *b, size_t len)
{
	return len >= 1 && b[0] >= 0x14 && b[0] <= 0x17;
}

struct smtp_session *
smtp_new(bool implicit_tls)
{
	struct smtp_session *s = calloc(1, sizeof(*s));

	if (s != NULL)
		s->implicit_tls = implicit_tls;
	return s;
}

void
smtp_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	free(s->d[0].part);
	free(s->d[1].part);
	free(s->kw);
	free(s);
}

bool
smtp_incomplete(const struct smtp_session *s)
{
	return s->incomplete;
}

bool
smtp_recognised(const struct smtp_session *s)
{
	return s->recognised;
}

static void
emit(const struct smtp_sink *k, struct smtp_event *ev)
{
	if (k != NULL && k->event != NULL)
		k->event(k->ctx, ev);
}

static void
emit_simple(const struct smtp_sink *k, enum smtp_event_type type, int dir,
    uint64_t frame, const uint8_t *text, size_t len, uint64_t count)
{
	struct smtp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.dir = dir;
	ev.frame = frame;
	ev.text = text;
	ev.text_len = len;
	ev.count = count;
	emit(k, &ev);
}

static void
push(struct smtp_session *s, enum smtp_verb v, uint64_t frame,
    const struct smtp_sink *k)
{
	if (s->pn == SMTP_PENDING_MAX) {
		s->incomplete = true;
		emit_simple(k, SMTP_EV_PIPELINE_OVERFLOW, 0, frame, NULL, 0, 0);
		return;
	}
	s->pend[(s->phead + s->pn++) % SMTP_PENDING_MAX] = v;
}

static bool
pending_head(const struct smtp_session *s, enum smtp_verb *v)
{
	if (s->pn == 0)
		return false;
	*v = s->pend[s->phead];
	return true;
}

static void
pop(struct smtp_session *s)
{
	if (s->pn > 0) {
		s->phead = (s->phead + 1) % SMTP_PENDING_MAX;
		s->pn--;
	}
}

/* Parses the verb at the start of a command line. */
static enum smtp_verb
parse_verb(const uint8_t *l, size_t len, size_t *vlen)
{
	size_t n = 0, i, j;

	while (n < len && l[n] != ' ' && l[n] != '\t')
		n++;
	*vlen = n;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		const char *name = verbs[i].name;

		if (strlen(name) != n)
			continue;
		for (j = 0; j < n && upper(l[j]) == name[j]; j++)
			;
		if (j == n)
			return verbs[i].verb;
	}
	return SMTP_V_UNKNOWN;
}

/* Decimal BDAT size; false when it is not a number that fits. */
static bool
parse_size(const uint8_t *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len && p[i] == ' '; i++)
		;
	if (i == len || !is_digit(p[i]))
		return false;
	for (; i < len && is_digit(p[i]); i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return true;
}

static void
client_command(struct smtp_session *s, const uint8_t *l, size_t len,
    uint64_t frame, const struct smtp_sink *k)
{
	struct smtp_event ev;
	enum smtp_verb v, head;
	size_t vlen, shown = len;

	v = parse_verb(l, len, &vlen);
	if (!s->d[0].lines_seen && !s->greeted && v == SMTP_V_UNKNOWN) {
		s->d[0].mode = s->d[1].mode = MODE_OFF;	/* not SMTP */
		return;
	}
	if (v != SMTP_V_UNKNOWN)
		s->recognised = true;
	/* A client that waits for DATA's reply sends nothing else first. */
	if (pending_head(s, &head) && head == SMTP_V_DATA && s->pn == 1 &&
	    v == SMTP_V_UNKNOWN) {
		s->d[0].mode = MODE_BODY;
		s->body_bytes = len + 2;
		return;
	}
	if (v == SMTP_V_AUTH) {		/* the mechanism, never a credential */
		size_t i = vlen + 1;

		while (i < len && l[i] != ' ' && l[i] != '\t')
			i++;
		shown = i < len ? i : len;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = SMTP_EV_COMMAND;
	ev.frame = frame;
	ev.verb = v;
	ev.text = l;
	ev.text_len = shown;
	emit(k, &ev);
	push(s, v, frame, k);
	switch (v) {
	case SMTP_V_STARTTLS:
		s->starttls_pending = true;
		s->d[0].mode = MODE_HANDOVER;
		break;
	case SMTP_V_BDAT:
		if (!parse_size(l + vlen, len - vlen, &s->chunk_left)) {
			s->incomplete = true;	/* cannot follow the chunk */
			break;
		}
		if (s->chunk_left > 0)
			s->d[0].mode = MODE_CHUNK;
		break;
	default:
		break;
	}
}

/* Remembers an EHLO keyword: the first word of a continuation line. */
static void
keep_keyword(struct smtp_session *s, const uint8_t *t, size_t len)
{
	size_t n = 0;
	char *kw;

	if (s->nkw == SMTP_CAPS_MAX)
		return;
	if (s->kw == NULL && (s->kw = malloc(sizeof(*s->kw))) == NULL) {
		s->incomplete = true;
		return;
	}
	while (len > 0 && *t == ' ') {
		t++;
		len--;
	}
	kw = s->kw->word[s->nkw];
	while (n < len && n < SMTP_KEYWORD_MAX && t[n] != ' ' && t[n] != '=')
		kw[n] = (char)upper(t[n]), n++;
	if (n == 0)
		return;
	kw[n] = '\0';
	s->kw->ptr[s->nkw] = kw;
	s->nkw++;
}

/* Acts on a complete reply: what it answers decides what comes next. */
static void
reply_done(struct smtp_session *s, enum smtp_verb v, bool greeting,
    const struct smtp_sink *k)
{
	struct smtp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = greeting ? SMTP_EV_BANNER : SMTP_EV_REPLY;
	ev.dir = 1;
	ev.frame = s->rframe;
	ev.verb = v;
	ev.code = s->rcode;
	ev.text = s->rfirst;
	ev.text_len = s->rfirst_len;
	if (v == SMTP_V_EHLO && s->kw != NULL) {
		ev.caps = s->kw->ptr;
		ev.ncaps = s->nkw;
	}
	emit(k, &ev);
	switch (v) {
	case SMTP_V_STARTTLS:
		s->starttls_pending = false;
		if (s->rcode == 220) {
			/* A ClientHello captured before the 220 stays TLS. */
			s->handover = true;
			if (s->d[0].mode != MODE_TLS)
				s->d[0].mode = MODE_HANDOVER;
			if (s->d[1].mode != MODE_TLS)
				s->d[1].mode = MODE_HANDOVER;
		} else if (s->d[0].mode == MODE_HANDOVER)
			s->d[0].mode = MODE_LINES;
		break;
	case SMTP_V_DATA:
		if (s->rcode == 354) {
			if (s->d[0].mode != MODE_BODY) {
				s->d[0].mode = MODE_BODY;
				s->body_bytes = 0;
			}
			push(s, SMTP_V_DATA, s->rframe, k);	/* for the end */
		} else if (s->d[0].mode == MODE_BODY)
			s->d[0].mode = MODE_LINES;
		break;
	case SMTP_V_AUTH:
		if (s->rcode == 334)
			s->d[0].mode = MODE_AUTH;
		else if (s->d[0].mode == MODE_AUTH)
			s->d[0].mode = MODE_LINES;
		break;
	default:
		break;
	}
}

static void
server_line(struct smtp_session *s, const uint8_t *l, size_t len,
    uint64_t frame, const struct smtp_sink *k)
{
	enum smtp_verb v = SMTP_V_GREETING;
	bool greeting = !s->greeted, last;
	int code;

	if (len < 3 || !is_digit(l[0]) || !is_digit(l[1]) || !is_digit(l[2]) ||
	    l[0] < '1' || l[0] > '5' || (len > 3 && l[3] != ' ' &&
	    l[3] != '-')) {
		if (!s->d[1].lines_seen && !s->greeted) {
			s->d[0].mode = s->d[1].mode = MODE_OFF;
			return;
		}
		s->incomplete = true;
		emit_simple(k, SMTP_EV_BAD_REPLY, 1, frame, l, len, 0);
		return;
	}
	s->recognised = true;
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	last = len == 3 || l[3] == ' ';
	if (!greeting && !pending_head(s, &v)) {
		if (last) {
			s->incomplete = true;
			emit_simple(k, SMTP_EV_UNEXPECTED_REPLY, 1, frame, l, len,
			    0);
		}
		return;
	}
	if (!s->in_reply) {
		s->in_reply = true;
		s->rcode = code;
		s->rframe = frame;
		s->rfirst_len = len < SMTP_TEXT_MAX ? len : SMTP_TEXT_MAX;
		memcpy(s->rfirst, l, s->rfirst_len);
		s->nkw = 0;
	} else if (v == SMTP_V_EHLO && len > 4)
		keep_keyword(s, l + 4, len - 4);
	if (!last)
		return;
	s->in_reply = false;
	if (greeting)
		s->greeted = true;
	else
		pop(s);
	reply_done(s, v, greeting, k);
}

/* One complete line of direction dir, CR stripped. */
static void
line(struct smtp_session *s, int dir, const uint8_t *l, size_t len,
    uint64_t frame, const struct smtp_sink *k)
{
	struct dir *d = &s->d[dir];

	if (len > 0 && l[len - 1] == '\r')
		len--;
	switch (d->mode) {
	case MODE_AUTH:
		push(s, SMTP_V_AUTH, frame, k);	/* a response: content withheld */
		break;
	case MODE_HANDOVER:
		/* Here only lines that must not be: see feed_handover(). */
		emit_simple(k, SMTP_EV_INJECTION, dir, frame, l, len, 0);
		if (dir == 0)
			client_command(s, l, len, frame, k);
		break;
	case MODE_LINES:
		if (dir == 0 && s->not_tls_pending) {
			s->not_tls_pending = false;
			emit_simple(k, SMTP_EV_NOT_TLS, 0, frame, l, len, 0);
		}
		if (dir == 0)
			client_command(s, l, len, frame, k);
		else
			server_line(s, l, len, frame, k);
		break;
	default:
		break;
	}
	d->lines_seen = true;
}

/* Makes room for need bytes of partial line (need <= SMTP_LINE_MAX). */
static bool
grow(struct dir *d, size_t need)
{
	size_t cap = d->pcap ? d->pcap : 128;
	uint8_t *p;

	while (cap < need)
		cap *= 2;
	if (cap > SMTP_LINE_MAX)
		cap = SMTP_LINE_MAX;
	if ((p = realloc(d->part, cap)) == NULL)
		return false;
	d->part = p;
	d->pcap = cap;
	return true;
}

/*
 * Splits bytes into lines.  Returns the bytes consumed: all of them, or
 * fewer when a line changed the direction's mode (the rest is then fed
 * again under the new mode).
 */
static size_t
feed_lines(struct smtp_session *s, int dir, const uint8_t *buf, size_t len,
    uint64_t frame, const struct smtp_sink *k)
{
	struct dir *d = &s->d[dir];
	enum mode m = d->mode;
	size_t off = 0;

	while (off < len && d->mode == m) {
		const uint8_t *lf = memchr(buf + off, '\n', len - off);
		size_t n = lf != NULL ? (size_t)(lf - (buf + off)) : len - off;

		if (d->discard) {
			off += n + (lf != NULL);
			if (lf != NULL)
				d->discard = false;
			continue;
		}
		if (d->plen + n > SMTP_LINE_MAX) {
			/* Too long to judge: report, drop to the LF. */
			s->incomplete = true;
			emit_simple(k, SMTP_EV_LINE_TOO_LONG, dir,
			    d->plen > 0 ? d->pframe : frame, NULL, 0,
			    d->plen + n);
			d->plen = 0;
			d->discard = lf == NULL;
			off += n + (lf != NULL);
			continue;
		}
		if (lf == NULL) {		/* keep the partial line */
			if (d->plen + n > d->pcap && !grow(d, d->plen + n)) {
				s->incomplete = true;
				return len;
			}
			if (d->plen == 0)
				d->pframe = frame;
			memcpy(d->part + d->plen, buf + off, n);
			d->plen += n;
			return len;
		}
		if (d->plen > 0) {
			if (d->plen + n > d->pcap && !grow(d, d->plen + n)) {
				s->incomplete = true;
				return len;
			}
			memcpy(d->part + d->plen, buf + off, n);
			line(s, dir, d->part, d->plen + n, d->pframe, k);
			d->plen = 0;
		} else
			line(s, dir, buf + off, n, frame, k);
		off += n + 1;
		if (m == MODE_HANDOVER)
			break;		/* TLS may start right after this line */
	}
	return off;
}

/* True when the n bytes of p can begin the lone "." that ends a message. */
static bool
dot_begun(const uint8_t *p, size_t n)
{
	return n >= 1 && n <= 2 && p[0] == '.' && (n == 1 || p[1] == '\r');
}

/*
 * A message: only its end, a line of a lone dot, matters, so no line is
 * kept.  Between lines the state is: discard set inside a line; else at a
 * line's start, with the "." or ".\r" of a possible end held in part.
 * Every byte before the end is counted (line ends as sent).  Returns the
 * bytes used: all of them, or up to the end's LF.
 */
static size_t
feed_body(struct smtp_session *s, int dir, const uint8_t *buf, size_t len,
    uint64_t frame, const struct smtp_sink *k)
{
	struct dir *d = &s->d[dir];
	size_t off = 0, from;

	/* A line begun before DATA's reply is a line of the message. */
	if (d->plen > 0 && !dot_begun(d->part, d->plen)) {
		s->body_bytes += d->plen;
		d->plen = 0;
		d->discard = true;
	}
	while (off < len) {
		uint8_t c;

		if (d->discard) {	/* on to a line that starts "." */
			for (from = off;;) {
				const uint8_t *lf = memchr(buf + off, '\n',
				    len - off);

				if (lf == NULL) {
					s->body_bytes += len - from;
					return len;
				}
				off = (size_t)(lf - buf) + 1;
				if (off == len || buf[off] == '.')
					break;
			}
			s->body_bytes += off - from;
			d->discard = false;
			continue;
		}
		c = buf[off];
		if (d->plen > 0 && c == '\n') {	/* the end */
			emit_simple(k, SMTP_EV_DATA_DONE, 0, d->pframe, NULL, 0,
			    s->body_bytes);
			s->body_bytes = 0;
			d->plen = 0;
			d->mode = MODE_LINES;
			d->lines_seen = true;
			return off + 1;
		}
		if (d->plen == 0 ? c == '.' : d->plen == 1 && c == '\r') {
			if (d->pcap < 2 && !grow(d, 2)) {
				s->incomplete = true;
				return len;
			}
			if (d->plen == 0)
				d->pframe = frame;
			d->part[d->plen++] = c;
			off++;
			continue;
		}
		/* An ordinary line, or one that only began like the end. */
		s->body_bytes += d->plen;
		d->plen = 0;
		d->discard = true;
	}
	return off;
}

/*
 * Bytes where STARTTLS says TLS comes next.  A TLS record header ends the
 * clear text for good; anything else is an injection (client before the
 * reply, server after its 220) or, from a client after the 220, proof
 * that TLS never started.
 */
static size_t
feed_handover(struct smtp_session *s, int dir, const uint8_t *buf,
    size_t len, uint64_t frame, const struct smtp_sink *k)
{
	struct dir *d = &s->d[dir];
	uint8_t held = d->hold;
	bool had = d->nhold > 0;

	/*
	 * A record header is judged on its first two bytes, the content
	 * type and the major version 3; a lone type byte is held until the
	 * next one arrives, so a segment boundary cannot change the verdict.
	 */
	if (d->plen == 0 && looks_like_tls(had ? &held : buf, 1)) {
		if (!had && len == 1) {
			d->hold = buf[0];
			d->nhold = 1;
			return 1;
		}
		if ((had ? buf[0] : buf[1]) == 0x03) {
			d->nhold = 0;
			d->mode = MODE_TLS;
			emit_simple(k, SMTP_EV_TLS, dir, frame, NULL, 0, 0);
			if (had)	/* the record's first byte */
				emit_simple(k, SMTP_EV_TLS_DATA, dir, frame,
				    &held, 1, 0);
			return 0;	/* the rest goes out as TLS data */
		}
	}
	d->nhold = 0;
	if (dir == 0 && s->handover) {
		/*
		 * The 220 came and the client went on in clear: reported
		 * with its first whole line, however it was segmented.
		 */
		d->mode = MODE_LINES;
		s->d[1].mode = MODE_LINES;
		s->not_tls_pending = true;
		if (had)
			feed_lines(s, dir, &held, 1, frame, k);
		return 0;
	}
	if (had)	/* the held byte starts the line that follows */
		feed_lines(s, dir, &held, 1, frame, k);
	return feed_lines(s, dir, buf, len, frame, k);
}

/*
 * A first byte that can start no reply (server) or verb (client) is not
 * SMTP; nor is TLS from the first byte where the port does not say so.
 */
bool
smtp_rules_out(int dir, const uint8_t *buf, size_t len, bool implicit_tls)
{
	if (len == 0 || implicit_tls)
		return false;
	if (looks_like_tls(buf, len))
		return true;
	return dir == 1 ? !(buf[0] >= '1' && buf[0] <= '5') :
	    !((buf[0] | 0x20) >= 'a' && (buf[0] | 0x20) <= 'z');
}

/* Nothing more to judge: not SMTP, or neither direction in clear. */
static bool
finished(const struct smtp_session *s)
{
	return s->d[0].mode == MODE_OFF ||
	    ((s->d[0].mode == MODE_TLS || s->d[0].mode == MODE_BLIND) &&
	    (s->d[1].mode == MODE_TLS || s->d[1].mode == MODE_BLIND));
}

enum smtp_result
smtp_feed(struct smtp_session *s, int dir, const uint8_t *buf, size_t len,
    uint64_t frame, const struct smtp_sink *k)
{
	struct dir *d = &s->d[dir];

	/* Finished by a gap, or by the other direction: nothing is judged. */
	if (finished(s))
		return SMTP_DONE;
	/* Before anything was recognised, a direction's first bytes. */
	if (!s->recognised && !d->started && d->mode == MODE_LINES &&
	    smtp_rules_out(dir, buf, len, s->implicit_tls)) {
		s->d[0].mode = s->d[1].mode = MODE_OFF;
		return SMTP_DONE;
	}
	/* TLS from a direction's first byte where the port says so (465). */
	if (d->mode == MODE_LINES && !d->started && s->implicit_tls &&
	    looks_like_tls(buf, len)) {
		s->recognised = true;
		d->mode = MODE_TLS;
		emit_simple(k, SMTP_EV_TLS, dir, frame, NULL, 0, 0);
	}
	if (len > 0)
		d->started = true;
	while (len > 0) {
		enum mode before = d->mode;
		size_t used = 0;

		switch (d->mode) {
		case MODE_LINES:
		case MODE_AUTH:
			used = feed_lines(s, dir, buf, len, frame, k);
			break;
		case MODE_BODY:
			used = feed_body(s, dir, buf, len, frame, k);
			break;
		case MODE_CHUNK:
			used = len < s->chunk_left ? len : (size_t)s->chunk_left;
			s->chunk_left -= used;
			if (s->chunk_left == 0)
				d->mode = MODE_LINES;
			break;
		case MODE_HANDOVER:
			used = feed_handover(s, dir, buf, len, frame, k);
			break;
		case MODE_TLS:
			emit_simple(k, SMTP_EV_TLS_DATA, dir, frame, buf, len,
			    0);
			used = len;
			break;
		case MODE_BLIND:
		case MODE_OFF:
			used = len;
			break;
		}
		if (used == 0 && d->mode == before)
			break;		/* cannot happen: no progress, no change */
		buf += used;
		len -= used;
	}
	return finished(s) ? SMTP_DONE : SMTP_OK;
}

void
smtp_gap(struct smtp_session *s, int dir, uint64_t len,
    const struct smtp_sink *k)
{
	struct dir *d = &s->d[dir];

	d->started = true;
	d->nhold = 0;
	if (d->mode == MODE_TLS || d->mode == MODE_OFF || d->mode == MODE_BLIND)
		return;
	s->incomplete = true;
	/*
	 * Bytes lost where TLS should begin: what follows can be judged
	 * neither TLS nor clear text, so this direction is not judged.
	 */
	if (d->mode == MODE_HANDOVER) {
		d->mode = MODE_BLIND;
		emit_simple(k, SMTP_EV_GAP, dir, 0, NULL, 0, len);
		return;
	}
	d->plen = 0;
	d->discard = d->mode != MODE_CHUNK;	/* resume at the next line */
	if (d->mode == MODE_CHUNK) {
		if (len >= s->chunk_left) {
			s->chunk_left = 0;
			d->mode = MODE_LINES;
		} else
			s->chunk_left -= len;
	}
	emit_simple(k, SMTP_EV_GAP, dir, 0, NULL, 0, len);
}
