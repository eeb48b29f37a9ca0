/*
 * tls.c - passive TLS record and handshake dissection.
 *
 * RFC 5246 6.2 (records), 7.4 (handshake), RFC 8446 4.1.2-4.1.4 (hellos,
 * HelloRetryRequest, downgrade sentinel), 4.2.1 (supported_versions),
 * 5.1 (no interleaving), D.4 (compatibility ChangeCipherSpec), RFC 6066 3
 * (server_name).
 *
 * Each direction is a small state machine: record headers are taken a
 * byte at a time and judged as soon as each byte is known, so the verdict
 * never depends on segmentation.  Only the messages we read (ClientHello,
 * ServerHello, Certificate) are kept, in a buffer that grows as their
 * bytes arrive and is freed when they end; one that lies whole inside
 * the bytes being fed is parsed in place without a copy.  Everything
 * else is counted past.  Once a direction is encrypted, malformed or
 * gapped its bytes are not looked at again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

#define REC_CCS			20
#define REC_ALERT		21
#define REC_HANDSHAKE		22
#define REC_APPDATA		23

#define HS_CLIENT_HELLO		1
#define HS_SERVER_HELLO		2
#define HS_CERTIFICATE		11

#define EXT_SERVER_NAME		0
#define EXT_SESSION_TICKET	35
#define EXT_PRE_SHARED_KEY	41
#define EXT_SUPPORTED_VERSIONS	43

#define SESSION_ID_MAX		32	/* bytes, RFC 5246 7.4.1.2 */

/* The fields that hold these limits are only so wide. */
_Static_assert(TLS_RECORD_MAX <= 0xffff, "rleft is 16 bits");
_Static_assert(TLS_HS_MAX >= 256 && TLS_HS_MAX < (1L << 24),
    "a handshake length is 24 bits");
_Static_assert(TLS_CERTS_MAX >= 1 && TLS_VERSIONS_MAX >= 1 &&
    TLS_SNI_MAX >= 1, "limits of at least one");
#define SNI_OUT_MAX	(TLS_SNI_MAX * 4 + 5)	/* all \xNN, then \..., NUL */

enum dstate {
	D_CLEAR,	/* records parsed */
	D_ENCRYPTED,	/* nothing more observable */
	D_OFF,		/* malformed or gapped: not parsed */
};

struct dir {
	uint8_t		 state;		/* enum dstate */
	uint8_t		 nhdr;		/* record header bytes held, 0..4 */
	uint8_t		 hdr[5];
	uint8_t		 rtype;		/* type of the record under way */
	uint8_t		 nhs;		/* handshake header bytes held, 0..4 */
	uint8_t		 hs[4];		/* type, 24-bit length */
	uint8_t		 alert;		/* an alert split by a record end */
	bool		 nalert;	/* alert holds a byte */
	bool		 recs;		/* a record header was complete */
	bool		 collect;	/* the message under way goes to msg */
	uint16_t	 rleft;		/* body bytes of the record left */
	uint32_t	 mleft;		/* body bytes of the message left */
	uint32_t	 mdecl;		/* its declared body length */
	uint32_t	 mlen, mcap;	/* bytes kept in msg, allocated */
	uint8_t		*msg;		/* NULL unless a message is kept */
	uint64_t	 rframe;	/* frame of the record's first byte */
	uint64_t	 pframe;	/* frame of the pending message's or
					   alert's first byte */
};

struct tls_session {
	struct dir	 d[2];
	uint8_t		 sid[SESSION_ID_MAX];	/* the client's session id */
	uint8_t		 sidlen;
	bool		 hrr;		/* the server's last hello was a
					   HelloRetryRequest: hellos follow */
	bool		 server_cert;	/* the server's Certificate was seen */
};

/* SHA-256("HelloRetryRequest"), the random of an HRR (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02,
	0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* "DOWNGRD": a 1.3 server's random ends with it, then 01 or 00, below 1.3. */
static const uint8_t downgrd[7] = { 0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44 };

/* A bounded reader over untrusted bytes: every getter checks first. */
struct cur {
	const uint8_t	*p;
	size_t		 len;		/* bytes left at p */
};

static bool
cur_bytes(struct cur *c, size_t n, const uint8_t **out)
{
	if (c->len < n)
		return false;
	if (out != NULL)
		*out = c->p;
	c->p += n;
	c->len -= n;
	return true;
}

static bool
cur_u8(struct cur *c, uint8_t *v)
{
	const uint8_t *p;

	if (!cur_bytes(c, 1, &p))
		return false;
	*v = p[0];
	return true;
}

static bool
cur_be16(struct cur *c, uint16_t *v)
{
	const uint8_t *p;

	if (!cur_bytes(c, 2, &p))
		return false;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	return true;
}

static bool
cur_be24(struct cur *c, uint32_t *v)
{
	const uint8_t *p;

	if (!cur_bytes(c, 3, &p))
		return false;
	*v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	return true;
}

/* The next n bytes as a cursor of their own. */
static bool
cur_sub(struct cur *c, size_t n, struct cur *sub)
{
	sub->p = c->p;
	sub->len = n;
	return cur_bytes(c, n, NULL);
}

struct tls_session *
tls_new(void)
{
	return calloc(1, sizeof(struct tls_session));
}

void
tls_free(struct tls_session *s)
{
	if (s == NULL)
		return;
	free(s->d[0].msg);
	free(s->d[1].msg);
	free(s);
}

const char *
tls_version_name(uint16_t v)
{
	static _Thread_local char hex[8];

	switch (v) {
	case 0x0002:
		return "SSL 2.0";
	case 0x0300:
		return "SSL 3.0";
	case 0x0301:
		return "TLS 1.0";
	case 0x0302:
		return "TLS 1.1";
	case 0x0303:
		return "TLS 1.2";
	case 0x0304:
		return "TLS 1.3";
	default:
		snprintf(hex, sizeof(hex), "0x%04x", (unsigned)v);
		return hex;
	}
}

const char *
tls_event_name(enum tls_event_type t)
{
	switch (t) {
	case TLS_EV_CLIENT_HELLO:
		return "client_hello";
	case TLS_EV_SERVER_HELLO:
		return "server_hello";
	case TLS_EV_CERTIFICATE:
		return "certificate";
	case TLS_EV_ALERT:
		return "alert";
	case TLS_EV_ENCRYPTED:
		return "encrypted";
	case TLS_EV_MALFORMED:
		return "malformed";
	case TLS_EV_GAP:
		return "gap";
	}
	return "unknown";
}

/* TLS 1.3 and its drafts encrypt everything after the ServerHello. */
static bool
is_tls13(uint16_t v)
{
	return (v >= 0x0304 && v < 0x0400) || (v & 0xff00) == 0x7f00;
}

/* RFC 8701: 0x0a0a, 0x1a1a ... 0xfafa carry no meaning. */
static bool
is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static void
ev_init(struct tls_event *ev, enum tls_event_type type, int dir,
    uint64_t frame)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->dir = dir;
	ev->frame = frame;
	ev->sni = "";
	ev->why = "";
}

static void
emit(const struct tls_sink *k, const struct tls_event *ev)
{
	if (k != NULL && k->event != NULL)
		k->event(k->ctx, ev);
}

/* The direction stops: its bytes are not parsed any more. */
static void
stop(struct tls_session *s, int dir, enum dstate st,
    enum tls_event_type type, uint64_t frame, const char *why,
    const struct tls_sink *k)
{
	struct tls_event ev;

	s->d[dir].state = (uint8_t)st;
	ev_init(&ev, type, dir, frame);
	if (why != NULL)
		ev.why = why;
	emit(k, &ev);
}

static void
malformed(struct tls_session *s, int dir, uint64_t frame, const char *why,
    const struct tls_sink *k)
{
	stop(s, dir, D_OFF, TLS_EV_MALFORMED, frame, why, k);
}

static void
encrypted(struct tls_session *s, int dir, uint64_t frame,
    const struct tls_sink *k)
{
	stop(s, dir, D_ENCRYPTED, TLS_EV_ENCRYPTED, frame, NULL, k);
}

/*
 * Nothing more to learn: the client is no longer clear, and neither is
 * the server or its certificate was seen (all that is judged of it).
 */
static bool
finished(const struct tls_session *s)
{
	return s->d[0].state != D_CLEAR &&
	    (s->d[1].state != D_CLEAR || s->server_cert);
}

/*
 * Opens a hello's extensions: absent (nothing after the fixed part, as
 * before TLS 1.3) or a block whose length covers exactly the rest.
 */
static bool
exts_open(struct cur *c, struct cur *exts)
{
	uint16_t n;

	if (c->len == 0) {
		exts->p = c->p;
		exts->len = 0;
		return true;
	}
	if (!cur_be16(c, &n) || n != c->len)
		return false;
	return cur_sub(c, n, exts);
}

/* The next extension: 1 one, 0 none left, -1 it overruns the block. */
static int
ext_next(struct cur *exts, uint16_t *type, struct cur *data)
{
	uint16_t n;

	if (exts->len == 0)
		return 0;
	if (!cur_be16(exts, type) || !cur_be16(exts, &n) ||
	    !cur_sub(exts, n, data))
		return -1;
	return 1;
}

/*
 * Marks an extension we read as seen.  A repeat is refused (RFC 8446
 * 4.2): which copy a server honours is the evasion we must not guess.
 */
static bool
ext_once(unsigned *seen, unsigned bit)
{
	if (*seen & bit)
		return false;
	*seen |= bit;
	return true;
}

/* RFC 6066 3: one host_name (type 0) in a ServerNameList. */
static const char *
parse_sni(struct cur d, const uint8_t **name, size_t *nlen)
{
	struct cur list;
	uint16_t listlen, n;
	uint8_t type;
	const uint8_t *p;

	if (!cur_be16(&d, &listlen) || listlen == 0 || listlen != d.len)
		return "server_name list length";
	(void)cur_sub(&d, listlen, &list);
	while (list.len > 0) {
		if (!cur_u8(&list, &type) || !cur_be16(&list, &n) || n == 0 ||
		    !cur_bytes(&list, n, &p))
			return "server_name entry length";
		if (type != 0)
			continue;
		if (*name != NULL)
			return "server_name host_name twice";
		*name = p;
		*nlen = n;
	}
	return NULL;
}

/*
 * Formats a host name for reporting: lower case; a byte outside
 * [a-z0-9.-_*] as \xNN; past TLS_SNI_MAX bytes, cut and "\..." put
 * after (a backslash starts nothing else but \xNN, so no name can look
 * cut).  Returns true when anything was escaped or cut.
 */
static bool
sni_format(char out[SNI_OUT_MAX], const uint8_t *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i, n = len < TLS_SNI_MAX ? len : TLS_SNI_MAX;
	bool bad = len > TLS_SNI_MAX;

	for (i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_' || c == '*') {
			out[o++] = (char)c;
			continue;
		}
		bad = true;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	if (len > TLS_SNI_MAX) {
		memcpy(out + o, "\\...", 4);
		o += 4;
	}
	out[o] = '\0';
	return bad;
}

/* RFC 8446 4.2.1, ClientHello form: versions<2..254>, GREASE dropped. */
static const char *
parse_versions(struct cur d, uint16_t *out, size_t *nout)
{
	uint8_t n;
	uint16_t v;

	if (!cur_u8(&d, &n) || n != d.len || n < 2 || n % 2 != 0)
		return "supported_versions length";
	while (cur_be16(&d, &v))
		if (!is_grease(v) && *nout < TLS_VERSIONS_MAX)
			out[(*nout)++] = v;
	return NULL;
}

/* The parts of a ClientHello's extensions we report. */
struct ch_exts {
	const uint8_t	*name;		/* host_name, NULL if none */
	size_t		 nlen;
	uint16_t	 versions[TLS_VERSIONS_MAX];
	size_t		 nversions;
	bool		 ticket;
};

static const char *
client_exts(struct cur *exts, struct ch_exts *x)
{
	struct cur data;
	unsigned seen = 0;
	uint16_t type;
	const char *why = NULL;
	int r;

	while (why == NULL && (r = ext_next(exts, &type, &data)) == 1) {
		switch (type) {
		case EXT_SERVER_NAME:
			why = ext_once(&seen, 1) ?
			    parse_sni(data, &x->name, &x->nlen) :
			    "server_name twice";
			break;
		case EXT_SUPPORTED_VERSIONS:
			why = ext_once(&seen, 2) ?
			    parse_versions(data, x->versions, &x->nversions) :
			    "supported_versions twice";
			break;
		case EXT_SESSION_TICKET:
			/* Empty: tickets welcome; with bytes: one offered. */
			if (data.len > 0)
				x->ticket = true;
			break;
		case EXT_PRE_SHARED_KEY:
			x->ticket = true;	/* TLS 1.3 resumption */
			break;
		default:
			break;
		}
	}
	if (why == NULL && r < 0)
		why = "extension length";
	return why;
}

/* RFC 5246 7.4.1.2, RFC 8446 4.1.2. */
static const char *
client_hello(struct tls_session *s, const uint8_t *b, size_t len,
    uint64_t frame, const struct tls_sink *k)
{
	struct cur c = { b, len }, exts;
	struct ch_exts x;
	struct tls_event ev;
	char sni[SNI_OUT_MAX];
	const uint8_t *sid;
	uint16_t n16;
	uint8_t n8;
	const char *why;
	size_t i;

	memset(&x, 0, sizeof(x));
	ev_init(&ev, TLS_EV_CLIENT_HELLO, 0, frame);
	if (!cur_be16(&c, &ev.legacy_version) || !cur_bytes(&c, 32, NULL))
		return "client_hello short";
	if (!cur_u8(&c, &n8) || n8 > SESSION_ID_MAX || !cur_bytes(&c, n8, &sid))
		return "session_id length";
	ev.session_id_len = n8;
	if (!cur_be16(&c, &n16) || n16 < 2 || n16 % 2 != 0 ||
	    !cur_bytes(&c, n16, NULL))
		return "cipher_suites length";
	if (!cur_u8(&c, &n8) || n8 < 1 || !cur_bytes(&c, n8, NULL))
		return "compression_methods length";
	if (!exts_open(&c, &exts))
		return "extensions length";
	if ((why = client_exts(&exts, &x)) != NULL)
		return why;

	s->sidlen = (uint8_t)ev.session_id_len;
	memcpy(s->sid, sid, ev.session_id_len);
	sni[0] = '\0';
	if (x.name != NULL)
		ev.sni_bad = sni_format(sni, x.name, x.nlen);
	ev.sni = sni;
	ev.versions = x.versions;
	ev.nversions = x.nversions;
	ev.version = ev.legacy_version;
	for (i = 0; i < x.nversions; i++)
		if (i == 0 || x.versions[i] > ev.version)
			ev.version = x.versions[i];
	ev.ticket = x.ticket;
	emit(k, &ev);
	return NULL;
}

/* RFC 5246 7.4.1.3, RFC 8446 4.1.3 (also HelloRetryRequest). */
static const char *
server_hello(struct tls_session *s, const uint8_t *b, size_t len,
    uint64_t frame, const struct tls_sink *k)
{
	struct cur c = { b, len }, exts, data;
	struct tls_event ev;
	const uint8_t *random, *sid;
	uint16_t type, selected = 0;
	unsigned seen = 0;
	bool psk = false;
	uint8_t n8;
	int r;

	ev_init(&ev, TLS_EV_SERVER_HELLO, 1, frame);
	if (!cur_be16(&c, &ev.legacy_version) || !cur_bytes(&c, 32, &random))
		return "server_hello short";
	if (!cur_u8(&c, &n8) || n8 > SESSION_ID_MAX || !cur_bytes(&c, n8, &sid))
		return "session_id length";
	ev.session_id_len = n8;
	if (!cur_be16(&c, &ev.cipher) || !cur_u8(&c, &n8))
		return "server_hello short";
	if (!exts_open(&c, &exts))
		return "extensions length";
	while ((r = ext_next(&exts, &type, &data)) == 1) {
		if (type == EXT_SUPPORTED_VERSIONS) {
			if (!ext_once(&seen, 1))
				return "supported_versions twice";
			if (data.len != 2 || !cur_be16(&data, &selected))
				return "supported_versions length";
		} else if (type == EXT_PRE_SHARED_KEY)
			psk = true;
	}
	if (r < 0)
		return "extension length";

	ev.version = (seen & 1) ? selected : ev.legacy_version;
	ev.hrr = memcmp(random, hrr_random, sizeof(hrr_random)) == 0;
	ev.downgrade = memcmp(random + 24, downgrd, sizeof(downgrd)) == 0 &&
	    random[31] <= 1;
	/*
	 * TLS 1.3 echoes any session id for middlebox compatibility; there
	 * an accepted pre_shared_key is what says resumption.
	 */
	if (!ev.hrr)
		ev.resumed = is_tls13(ev.version) ? psk :
		    s->sidlen > 0 && ev.session_id_len == s->sidlen &&
		    memcmp(sid, s->sid, s->sidlen) == 0;
	s->hrr = ev.hrr;
	emit(k, &ev);
	if (!ev.hrr && is_tls13(ev.version))
		encrypted(s, 1, frame, k);
	return NULL;
}

/*
 * RFC 5246 7.4.2: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>.
 * have < decl when TLS_HS_MAX cut the message: every length is checked
 * against decl, the certificates wholly inside have are reported, and
 * the event says truncated.
 */
static const char *
certificate(struct tls_session *s, int dir, const uint8_t *b, size_t have,
    size_t decl, uint64_t frame, const struct tls_sink *k)
{
	const uint8_t *certs[TLS_CERTS_MAX];
	size_t lens[TLS_CERTS_MAX], left;
	struct cur c = { b, have };
	struct tls_event ev;
	uint32_t n;

	ev_init(&ev, TLS_EV_CERTIFICATE, dir, frame);
	if (decl < 3 || !cur_be24(&c, &n) || n != decl - 3)
		return "certificate_list length";
	left = n;		/* declared bytes of the list not walked */
	while (left > 0) {
		const uint8_t *der;

		if (left < 3)
			return "certificate length";
		if (c.len < 3) {	/* only when cut: the rest is unseen */
			ev.truncated = true;
			break;
		}
		(void)cur_be24(&c, &n);
		if (n == 0 || n > left - 3)
			return "certificate length";
		left -= 3 + (size_t)n;
		if (!cur_bytes(&c, n, &der)) {
			ev.truncated = true;
			break;
		}
		if (ev.ncerts == TLS_CERTS_MAX) {
			ev.truncated = true;	/* walked on for the lengths */
			continue;
		}
		certs[ev.ncerts] = der;
		lens[ev.ncerts++] = n;
	}
	ev.certs = certs;
	ev.cert_lens = lens;
	if (dir == 1)
		s->server_cert = true;
	emit(k, &ev);
	return NULL;
}

/* Whether a message of this type from dir is kept and read. */
static bool
wanted(int dir, uint8_t type)
{
	return (type == HS_CLIENT_HELLO && dir == 0) ||
	    (type == HS_SERVER_HELLO && dir == 1) || type == HS_CERTIFICATE;
}

/* A whole wanted message (or a Certificate cut at TLS_HS_MAX). */
static void
message(struct tls_session *s, int dir, uint8_t type, const uint8_t *b,
    size_t have, size_t decl, const struct tls_sink *k)
{
	uint64_t frame = s->d[dir].pframe;
	const char *why = NULL;

	switch (type) {
	case HS_CLIENT_HELLO:
		why = client_hello(s, b, have, frame, k);
		break;
	case HS_SERVER_HELLO:
		why = server_hello(s, b, have, frame, k);
		break;
	case HS_CERTIFICATE:
		why = certificate(s, dir, b, have, decl, frame, k);
		break;
	default:
		break;
	}
	if (why != NULL)
		malformed(s, dir, frame, why, k);
}

/* Frees the kept message: it ended, or the direction stopped. */
static void
msg_drop(struct dir *d)
{
	free(d->msg);
	d->msg = NULL;
	d->mlen = d->mcap = 0;
	d->collect = false;
}

/*
 * Keeps n more bytes of the message, up to its declared length and
 * TLS_HS_MAX.  The buffer doubles as bytes arrive, so a declared length
 * is never what is allocated.  False when out of memory.
 */
static bool
msg_keep(struct dir *d, const uint8_t *p, size_t n)
{
	size_t lim = d->mdecl < TLS_HS_MAX ? d->mdecl : TLS_HS_MAX, cap;
	uint8_t *m;

	if (n > lim - d->mlen)
		n = lim - d->mlen;
	if (n > d->mcap - d->mlen) {
		cap = d->mcap ? d->mcap : 256;
		while (cap < d->mlen + n)
			cap *= 2;
		if (cap > lim)
			cap = lim;
		if ((m = realloc(d->msg, cap)) == NULL)
			return false;
		d->msg = m;
		d->mcap = (uint32_t)cap;
	}
	memcpy(d->msg + d->mlen, p, n);
	d->mlen += (uint32_t)n;
	return true;
}

/* The handshake header is complete: decide what to do with the body. */
static void
hs_begin(struct tls_session *s, int dir, const struct tls_sink *k)
{
	struct dir *d = &s->d[dir];

	d->mdecl = d->mleft = (uint32_t)d->hs[1] << 16 |
	    (uint32_t)d->hs[2] << 8 | d->hs[3];
	d->collect = wanted(dir, d->hs[0]);
	/* A hello is small; one this long is not trusted with memory. */
	if (d->collect && d->hs[0] != HS_CERTIFICATE && d->mdecl > TLS_HS_MAX)
		malformed(s, dir, d->pframe, "hello over TLS_HS_MAX", k);
}

/* The kept part of the message is complete (all of it, or TLS_HS_MAX). */
static void
hs_end(struct tls_session *s, int dir, const struct tls_sink *k)
{
	struct dir *d = &s->d[dir];

	if (d->collect)
		message(s, dir, d->hs[0], d->msg, d->mlen, d->mdecl, k);
	msg_drop(d);
	if (d->mleft == 0)
		d->nhs = 0;
}

/* Handshake-record bytes: messages, reassembled across records. */
static void
hs_bytes(struct tls_session *s, int dir, const uint8_t *p, size_t n,
    uint64_t frame, const struct tls_sink *k)
{
	struct dir *d = &s->d[dir];

	while (n > 0 && d->state == D_CLEAR && !finished(s)) {
		size_t take;

		if (d->nhs == 0 && n >= 4) {
			size_t len = (size_t)p[1] << 16 |
			    (size_t)p[2] << 8 | p[3];

			/* Whole here: read in place, nothing kept. */
			if (len <= n - 4 && len <= TLS_HS_MAX) {
				d->pframe = frame;
				if (wanted(dir, p[0]))
					message(s, dir, p[0], p + 4, len, len,
					    k);
				p += 4 + len;
				n -= 4 + len;
				continue;
			}
		}
		if (d->nhs < 4) {
			if (d->nhs == 0)
				d->pframe = frame;
			d->hs[d->nhs++] = *p++;
			n--;
			if (d->nhs == 4) {
				hs_begin(s, dir, k);
				if (d->state == D_CLEAR && d->mleft == 0)
					hs_end(s, dir, k);
			}
			continue;
		}
		take = n < d->mleft ? n : d->mleft;
		if (d->collect && !msg_keep(d, p, take)) {
			malformed(s, dir, d->pframe, "out of memory", k);
			break;
		}
		p += take;
		n -= take;
		d->mleft -= (uint32_t)take;
		/* Done, or a Certificate cut at TLS_HS_MAX: skip the rest. */
		if (d->mleft == 0 || (d->collect && d->mlen == TLS_HS_MAX))
			hs_end(s, dir, k);
	}
}

/* Alert-record bytes: level, description pairs (RFC 5246 7.2). */
static void
alert_bytes(struct tls_session *s, int dir, const uint8_t *p, size_t n,
    uint64_t frame, const struct tls_sink *k)
{
	struct dir *d = &s->d[dir];
	struct tls_event ev;

	for (; n > 0 && !finished(s); p++, n--) {
		if (!d->nalert) {
			d->alert = *p;
			d->nalert = true;
			d->pframe = frame;
			continue;
		}
		ev_init(&ev, TLS_EV_ALERT, dir, d->pframe);
		ev.level = d->alert;
		ev.description = *p;
		d->nalert = false;
		emit(k, &ev);
	}
}

/* The one byte of a ChangeCipherSpec record (its length was checked). */
static void
ccs_byte(struct tls_session *s, int dir, uint8_t b, const struct tls_sink *k)
{
	struct dir *d = &s->d[dir];

	if (b != 1)
		malformed(s, dir, d->rframe, "change_cipher_spec value", k);
	/*
	 * After a HelloRetryRequest a CCS is TLS 1.3's middlebox disguise
	 * (RFC 8446 D.4): a hello in clear follows.  Anywhere else what
	 * follows it is encrypted.
	 */
	else if (!s->hrr)
		encrypted(s, dir, d->rframe, k);
}

/*
 * Judges the record header held so far, a byte at a time.  Returns why
 * it is no TLS record, or NULL (good so far, or not yet decidable).
 */
static const char *
hdr_check(const struct dir *d, int dir)
{
	const uint8_t *h = d->hdr;
	uint8_t pending;

	if (h[0] < REC_CCS || h[0] > REC_APPDATA) {
		/*
		 * An SSL 2.0 ClientHello: a two-byte length with the top
		 * bit set, then message type 1 (RFC 5246 E.2).
		 */
		if (dir == 0 && !d->recs && (h[0] & 0x80) != 0) {
			if (d->nhdr < 3)
				return NULL;
			return h[2] == 1 ? "sslv2 hello" : "not a TLS record";
		}
		return "not a TLS record";
	}
	switch (d->nhdr) {
	case 1:
		/* A message or alert under way must go on in its type. */
		pending = d->nhs > 0 ? REC_HANDSHAKE :
		    d->nalert ? REC_ALERT : 0;
		if (pending != 0 && h[0] != pending)
			return "interleaved record";
		break;
	case 2:
		if (h[1] != 3)
			return "record version";
		break;
	case 5:
		if ((h[3] << 8 | h[4]) > TLS_RECORD_MAX)
			return "record length";
		if ((h[3] << 8 | h[4]) == 0 && h[0] != REC_APPDATA)
			return "empty record";	/* RFC 5246 6.2.1 */
		if (h[0] == REC_CCS && (h[3] << 8 | h[4]) != 1)
			return "change_cipher_spec length";
		break;
	default:
		break;
	}
	return NULL;
}

/* One more header byte; at the fifth the record begins. */
static void
hdr_byte(struct tls_session *s, int dir, uint8_t b, uint64_t frame,
    const struct tls_sink *k)
{
	struct dir *d = &s->d[dir];
	const char *why;

	if (d->nhdr == 0)
		d->rframe = frame;
	d->hdr[d->nhdr++] = b;
	if ((why = hdr_check(d, dir)) != NULL) {
		malformed(s, dir, d->rframe, why, k);
		return;
	}
	if (d->nhdr < 5)
		return;
	d->nhdr = 0;
	d->recs = true;
	d->rtype = d->hdr[0];
	d->rleft = (uint16_t)(d->hdr[3] << 8 | d->hdr[4]);
	if (d->rtype == REC_APPDATA)
		encrypted(s, dir, d->rframe, k);
}

enum tls_result
tls_feed(struct tls_session *s, int dir, const uint8_t *buf, size_t len,
    uint64_t frame, const struct tls_sink *k)
{
	struct dir *d;

	dir = dir != 0;
	d = &s->d[dir];
	while (len > 0 && d->state == D_CLEAR && !finished(s)) {
		size_t used = 1;

		if (d->rleft == 0)
			hdr_byte(s, dir, *buf, frame, k);
		else {
			used = len < d->rleft ? len : d->rleft;
			switch (d->rtype) {
			case REC_HANDSHAKE:
				hs_bytes(s, dir, buf, used, frame, k);
				break;
			case REC_ALERT:
				alert_bytes(s, dir, buf, used, frame, k);
				break;
			case REC_CCS:
				ccs_byte(s, dir, *buf, k);
				break;
			default:
				break;
			}
			d->rleft -= (uint16_t)used;
		}
		buf += used;
		len -= used;
	}
	if (d->state != D_CLEAR || finished(s))
		msg_drop(d);
	return finished(s) ? TLS_DONE : TLS_OK;
}

void
tls_gap(struct tls_session *s, int dir, uint64_t len,
    const struct tls_sink *k)
{
	(void)len;
	dir = dir != 0;
	if (s->d[dir].state != D_CLEAR || finished(s))
		return;
	msg_drop(&s->d[dir]);
	/* No resynchronisation: a record boundary cannot be told from data. */
	stop(s, dir, D_OFF, TLS_EV_GAP, 0, NULL, k);
}
