/*
 * detect.c - judgement: SMTP events in, alerts out (RFC 3207, RFC 5321).
 *
 * The STARTTLS strip is recognised by what it leaves: the reply keeps its
 * length, so the keyword is replaced by same-length filler (XXXXXXXA from
 * middleboxes that "fix up" SMTP, random capitals from others).  An
 * eight-letter keyword that no SMTP extension uses, in a reply without
 * STARTTLS, is that filler.  Masked keywords of other lengths (XXXA,
 * XXXXXXXB) say that a rewriting box sits on the path.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "detect.h"

#define RAISED(s, k)	((s)->raised & (1U << (k)))
#define ESC_MAX		384	/* escaped wire bytes within an evidence text */

struct detect_session {
	uint32_t	raised;		/* bit per alert kind */
	bool		ehlo_judged;	/* the first EHLO reply was looked at */
	bool		offered, sent, tls, not_tls, injected;
	bool		stripped, missing, rejected, mangled;
	int		starttls_reply;
	bool		mail_in_clear;
	uint64_t	mail_frame;
	char		banner_host[64];
	char		ehlo_name[64];
	char		caps[256];
	char		rcpt[256];
	char		auth[32];
	char		mangle[32];	/* an unknown 8-byte command, escaped */
	uint64_t	mangle_frame;
	/* TLS */
	char		sni[TLS_SNI_MAX * 4 + 1];
	uint16_t	version;	/* negotiated, 0 until a ServerHello */
	int		cipher;
	bool		resumed, server_dark, cert_seen, client_refused;
	bool		tls_lost;	/* TLS unreadable before it went dark */
	uint64_t	cert_frame;
	unsigned	cert_problems;
	int64_t		cert_id;
};

static const char *const kind_names[ALERT_KIND_COUNT] = {
	"starttls_stripped", "starttls_missing", "esmtp_masked",
	"starttls_rejected", "starttls_mangled", "starttls_no_tls",
	"starttls_command_injection", "starttls_response_injection",
	"plaintext_mail", "cleartext_auth", "stream_conflict",
	"cert_name_mismatch", "cert_untrusted", "cert_expired",
	"cert_changed", "sts_violation", "sts_policy_error",
};

void
detect_textf(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
}

const char *
alert_kind_name(enum alert_kind k)
{
	return (unsigned)k < ALERT_KIND_COUNT ? kind_names[k] : "unknown";
}

const char *
alert_severity_name(enum alert_severity s)
{
	switch (s) {
	case SEV_INFO:		return "info";
	case SEV_LOW:		return "low";
	case SEV_MEDIUM:	return "medium";
	case SEV_HIGH:		return "high";
	}
	return "unknown";
}

/*
 * EHLO keywords in use: the IANA "SMTP Service Extensions" registry and
 * the vendor ones seen on the Internet.  Upper case, sorted for bsearch.
 */
static const char *const known_keywords[] = {
	"8BITMIME", "ATRN", "AUTH", "BINARYMIME", "BURL", "CHECKPOINT",
	"CHUNKING", "CONNEG", "CONPERM", "DELIVERBY", "DSN", "ENHANCEDSTATUSCODES",
	"ETRN", "EXPN", "FUTURERELEASE", "HELP", "LIMITS", "MT-PRIORITY", "MTRK",
	"NO-SOLICITING", "ONEX", "PIPELINING", "PRDR", "REQUIRETLS", "RRVS",
	"SAML", "SEND", "SIZE", "SMTPUTF8", "SOML", "STARTTLS", "SUBMITTER",
	"TURN", "UTF8SMTP", "VERB", "VRFY", "X-ADAT", "X-ANONYMOUSTLS",
	"X-DRCP", "X-ERCP", "X-EXCH50", "X-EXPS", "X-LINK2STATE", "X-RCPTLIMIT",
	"X-TURNME", "XADR", "XCIR", "XCLIENT", "XEXCH50", "XFORWARD", "XGEN",
	"XLOOP", "XOORG", "XPROXY", "XPROXYFROM", "XPROXYTO", "XQUE", "XRDST",
	"XRSETPROXYTO", "XSHADOW", "XSHADOWREQUEST", "XSTA", "XTRN", "XUSR",
	"XVERP",
};

static int
cmp_kw(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool
detect_known_keyword(const char *kw)
{
	/* Old-style "AUTH=LOGIN" advertises AUTH. */
	if (strncmp(kw, "AUTH=", 5) == 0)
		return true;
	return bsearch(&kw, known_keywords, sizeof(known_keywords) /
	    sizeof(known_keywords[0]), sizeof(known_keywords[0]),
	    cmp_kw) != NULL;
}

/* Runs of X ending in a letter: XXXA, XXXXXXXB, XI (middlebox masks). */
static bool
is_masked(const char *kw)
{
	size_t n = strlen(kw), i;

	if (n < 2 || kw[n - 1] < 'A' || kw[n - 1] > 'Z')
		return false;
	for (i = 0; i + 1 < n; i++)
		if (kw[i] != 'X')
			return false;
	return !detect_known_keyword(kw);
}

/* Eight letters that no extension uses: what an overwritten STARTTLS is. */
static bool
is_filler8(const char *kw)
{
	size_t i;

	if (strlen(kw) != 8 || detect_known_keyword(kw))
		return false;
	for (i = 0; i < 8; i++)
		if (kw[i] < 'A' || kw[i] > 'Z')
			return false;
	return true;
}

void
detect_escape(char *out, size_t outlen, const uint8_t *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (outlen == 0)
		return;
	for (i = 0; i < len; i++) {
		uint8_t c = in[i];
		char tmp[4];
		size_t n;

		if (c == '\\') {
			tmp[0] = tmp[1] = '\\';
			n = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			tmp[0] = (char)c;
			n = 1;
		} else {
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[c >> 4];
			tmp[3] = hex[c & 15];
			n = 4;
		}
		if (outlen - o < n + 4) {	/* room for "..." and NUL */
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
}

/* Appends s to a bounded, separator-joined list; false when it is full. */
static bool
append(char *list, size_t size, const char *sep, const char *s)
{
	size_t used = strlen(list), ns = used > 0 ? strlen(sep) : 0;
	size_t n = strlen(s);

	if (ns + n >= size - used)
		return false;
	memcpy(list + used, sep, ns);
	memcpy(list + used + ns, s, n + 1);
	return true;
}

static bool
downgraded(const struct detect_session *s)
{
	return s->stripped || s->missing || s->rejected || s->mangled ||
	    s->not_tls || s->injected;
}

static void
raise_alert(struct detect_session *s, const struct detect_hooks *h,
    enum alert_kind k, enum alert_severity sev, uint64_t frame,
    const char *evidence)
{
	struct alert a;

	if (RAISED(s, k))
		return;
	s->raised |= 1U << k;
	memset(&a, 0, sizeof(a));
	a.kind = k;
	a.severity = sev;
	a.frame = frame;
	snprintf(a.evidence, sizeof(a.evidence), "%s", evidence);
	if (h->alert != NULL)
		h->alert(h->ctx, &a);
}

struct detect_session *
detect_session_new(void)
{
	struct detect_session *s = calloc(1, sizeof(*s));

	if (s != NULL)
		s->cipher = -1;
	return s;
}

void
detect_session_free(struct detect_session *s)
{
	free(s);
}

/* First word after the reply code of the greeting, lower case. */
static void
banner_host(struct detect_session *s, const uint8_t *t, size_t len)
{
	size_t i = 4, n = 0;

	while (i < len && n + 1 < sizeof(s->banner_host) && t[i] != ' ') {
		uint8_t c = t[i++];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-')) {
			n = 0;		/* not a host name */
			break;
		}
		s->banner_host[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	s->banner_host[n] = '\0';
}

/* The domain of "RCPT TO:<local@domain>", lower case, into the list. */
static void
rcpt_domain(struct detect_session *s, const uint8_t *t, size_t len)
{
	char dom[SMTP_DOMAIN_MAX];
	size_t i, n = 0;

	for (i = 0; i < len && t[i] != '@'; i++)
		;
	for (i++; i < len && n + 1 < sizeof(dom); i++) {
		uint8_t c = t[i];

		if (c == '>' || c == ' ')
			break;
		if (c < 0x21 || c > 0x7e || c == ',')
			return;		/* not a domain we can show */
		dom[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	dom[n] = '\0';
	if (n == 0)
		return;
	/* Already listed? Compare whole items only. */
	{
		const char *p = s->rcpt;

		while ((p = strstr(p, dom)) != NULL) {
			if ((p == s->rcpt || p[-1] == ',') &&
			    (p[n] == ',' || p[n] == '\0'))
				return;
			p += n;
		}
	}
	append(s->rcpt, sizeof(s->rcpt), ",", dom);
}

/*
 * A banner name that can stand for one server across addresses: a dotted
 * name that is not a loopback alias.  Generic names ("localhost",
 * "mail") would tie unrelated servers' histories together.
 */
static bool
distinctive(const char *host)
{
	return strchr(host, '.') != NULL &&
	    strncmp(host, "localhost", 9) != 0;
}

static void
judge_ehlo(struct detect_session *s, const struct smtp_event *ev,
    const struct detect_hooks *h)
{
	char ev_buf[ALERT_EVIDENCE_MAX], masked[256] = "";
	const char *filler = NULL;
	size_t i;

	s->caps[0] = '\0';
	for (i = 0; i < ev->ncaps; i++) {
		char kw[4 * SMTP_KEYWORD_MAX + 4];

		/* Keywords are wire bytes: escaped before they are shown. */
		detect_escape(kw, sizeof(kw), (const uint8_t *)ev->caps[i],
		    strlen(ev->caps[i]));
		append(s->caps, sizeof(s->caps), " ", kw);
		if (strcmp(ev->caps[i], "STARTTLS") == 0)
			s->offered = true;
	}
	if (s->ehlo_judged || s->sent)
		return;		/* a second EHLO, after STARTTLS: not judged */
	s->ehlo_judged = true;
	for (i = 0; i < ev->ncaps; i++) {
		if (!s->offered && filler == NULL && is_filler8(ev->caps[i]))
			filler = ev->caps[i];
		else if (is_masked(ev->caps[i]))
			append(masked, sizeof(masked), " ", ev->caps[i]);
	}
	if (filler != NULL) {
		s->stripped = true;
		snprintf(ev_buf, sizeof(ev_buf), "EHLO reply has %s where "
		    "STARTTLS belongs; keywords: %s", filler, s->caps);
		raise_alert(s, h, ALERT_STARTTLS_STRIPPED, SEV_HIGH, ev->frame,
		    ev_buf);
	} else if (!s->offered && ((h->offered_before != NULL &&
	    h->offered_before(h->ctx, distinctive(s->banner_host) ?
	    s->banner_host : "")) ||
	    (h->expected != NULL && h->expected(h->ctx)))) {
		s->missing = true;
		snprintf(ev_buf, sizeof(ev_buf), "EHLO reply without STARTTLS "
		    "from a server that offered it before or must offer it "
		    "(banner host \"%s\"); keywords: %s", s->banner_host,
		    s->caps);
		raise_alert(s, h, ALERT_STARTTLS_MISSING, SEV_HIGH, ev->frame,
		    ev_buf);
	}
	if (masked[0] != '\0') {
		snprintf(ev_buf, sizeof(ev_buf), "masked EHLO keywords: %s",
		    masked);
		raise_alert(s, h, ALERT_ESMTP_MASKED, SEV_MEDIUM, ev->frame,
		    ev_buf);
	}
	if (h->offered != NULL)
		h->offered(h->ctx, distinctive(s->banner_host) ?
		    s->banner_host : "", s->offered);
}

static void
on_command(struct detect_session *s, const struct smtp_event *ev,
    const struct detect_hooks *h)
{
	char esc[ESC_MAX], buf[ALERT_EVIDENCE_MAX];

	switch (ev->verb) {
	case SMTP_V_EHLO:
	case SMTP_V_HELO:
		if (ev->text_len > 5)
			detect_escape(s->ehlo_name, sizeof(s->ehlo_name),
			    ev->text + 5, ev->text_len - 5);
		break;
	case SMTP_V_STARTTLS:
		s->sent = true;
		break;
	case SMTP_V_RCPT:
		if (!s->tls)
			rcpt_domain(s, ev->text, ev->text_len);
		/* FALLTHROUGH */
	case SMTP_V_MAIL:
	case SMTP_V_DATA:
	case SMTP_V_BDAT:
		if (!s->tls && !s->mail_in_clear) {
			s->mail_in_clear = true;
			s->mail_frame = ev->frame;
		}
		break;
	case SMTP_V_AUTH:
		if (s->tls)
			break;
		/* The dissector cut the line after the mechanism. */
		if (ev->text_len > 5)
			detect_escape(s->auth, sizeof(s->auth), ev->text + 5,
			    ev->text_len - 5);
		detect_escape(esc, sizeof(esc), ev->text, ev->text_len);
		snprintf(buf, sizeof(buf), "AUTH in clear: %s", esc);
		raise_alert(s, h, ALERT_CLEARTEXT_AUTH, downgraded(s) ?
		    SEV_HIGH : SEV_MEDIUM, ev->frame, buf);
		break;
	case SMTP_V_UNKNOWN:
		/* Same length as STARTTLS, where STARTTLS was offered. */
		if (ev->text_len == 8 && s->offered && !s->sent &&
		    s->mangle[0] == '\0') {
			detect_escape(s->mangle, sizeof(s->mangle), ev->text, 8);
			s->mangle_frame = ev->frame;
		}
		break;
	default:
		break;
	}
}

static void
on_reply(struct detect_session *s, const struct smtp_event *ev,
    const struct detect_hooks *h)
{
	char esc[ESC_MAX], buf[ALERT_EVIDENCE_MAX];

	detect_escape(esc, sizeof(esc), ev->text, ev->text_len);
	switch (ev->verb) {
	case SMTP_V_EHLO:
		if (ev->code == 250)
			judge_ehlo(s, ev, h);
		break;
	case SMTP_V_STARTTLS:
		if (s->starttls_reply == 0)
			s->starttls_reply = ev->code;
		if (ev->code != 220) {
			s->rejected = true;
			snprintf(buf, sizeof(buf), "STARTTLS answered: %s", esc);
			raise_alert(s, h, ALERT_STARTTLS_REJECTED, SEV_HIGH,
			    ev->frame, buf);
		}
		break;
	case SMTP_V_UNKNOWN:
		if (s->mangle[0] != '\0' && !s->sent && ev->code >= 500 &&
		    !RAISED(s, ALERT_STARTTLS_MANGLED)) {
			s->mangled = true;
			snprintf(buf, sizeof(buf), "client sent \"%s\" where "
			    "STARTTLS was offered; server: %s", s->mangle, esc);
			raise_alert(s, h, ALERT_STARTTLS_MANGLED, SEV_HIGH,
			    s->mangle_frame, buf);
		}
		break;
	default:
		break;
	}
}

void
detect_event(struct detect_session *s, const struct smtp_event *ev,
    const struct detect_hooks *h)
{
	char esc[ESC_MAX], buf[ALERT_EVIDENCE_MAX];

	switch (ev->type) {
	case SMTP_EV_BANNER:
		banner_host(s, ev->text, ev->text_len);
		break;
	case SMTP_EV_COMMAND:
		on_command(s, ev, h);
		break;
	case SMTP_EV_REPLY:
		on_reply(s, ev, h);
		break;
	case SMTP_EV_TLS:
		if (ev->dir == 0)
			s->tls = true;
		break;
	case SMTP_EV_NOT_TLS:
		s->not_tls = true;
		detect_escape(esc, sizeof(esc), ev->text, ev->text_len);
		snprintf(buf, sizeof(buf), "220 to STARTTLS, then the client "
		    "sent clear text: %s", esc);
		raise_alert(s, h, ALERT_STARTTLS_NO_TLS, SEV_HIGH, ev->frame,
		    buf);
		break;
	case SMTP_EV_INJECTION:
		s->injected = true;
		detect_escape(esc, sizeof(esc), ev->text, ev->text_len);
		if (ev->dir == 0) {
			snprintf(buf, sizeof(buf), "client bytes after STARTTLS, "
			    "before its reply: %s", esc);
			raise_alert(s, h, ALERT_STARTTLS_COMMAND_INJECTION,
			    SEV_HIGH, ev->frame, buf);
		} else {
			snprintf(buf, sizeof(buf), "server bytes after its 220 "
			    "to STARTTLS, before TLS: %s", esc);
			raise_alert(s, h, ALERT_STARTTLS_RESPONSE_INJECTION,
			    SEV_HIGH, ev->frame, buf);
		}
		break;
	default:
		break;
	}
}

/* "untrusted,expired" for the problems in p. */
static void
problem_text(char *out, size_t outlen, unsigned p)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} names[] = {
		{ CERT_UNDECODABLE, "undecodable" },
		{ CERT_UNTRUSTED, "untrusted" },
		{ CERT_EXPIRED, "expired" },
		{ CERT_NOT_YET_VALID, "not_yet_valid" },
		{ CERT_NAME_MISMATCH, "name_mismatch" },
	};
	size_t i;

	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (p & names[i].bit)
			snprintf(out + strlen(out), outlen - strlen(out), "%s%s",
			    out[0] != '\0' ? "," : "", names[i].name);
}

/*
 * The server's chain: one row per certificate, the verdict, the pin.  A
 * chain from the client (mutual TLS) is not the server's identity and is
 * left alone (MON-13).
 */
static void
on_certificate(struct detect_session *s, const struct tls_event *ev,
    uint64_t ts, const struct detect_hooks *h)
{
	const struct cert_info *leaf;
	struct cert_verdict *v;
	char buf[ALERT_EVIDENCE_MAX], prev[320], server[300];
	const char *name = s->sni[0] != '\0' ? s->sni : NULL;
	size_t i;

	if (ev->dir != 1 || s->cert_seen || h->certs == NULL ||
	    ev->ncerts == 0)
		return;
	if ((v = malloc(sizeof(*v))) == NULL)
		return;
	s->cert_seen = true;
	s->cert_frame = ev->frame;
	cert_judge(h->certs, ev->certs, ev->cert_lens, ev->ncerts, name, ts, v);
	s->cert_problems = v->problems;
	if (v->problems & CERT_UNDECODABLE) {
		detect_textf(buf, sizeof(buf), "%s", v->reason);
		raise_alert(s, h, ALERT_CERT_UNTRUSTED, SEV_MEDIUM, ev->frame,
		    buf);
		cert_verdict_clear(v);
		free(v);
		return;
	}
	for (i = v->ncerts; i-- > 0; ) {	/* the leaf's id last */
		int64_t id = h->cert_seen != NULL ?
		    h->cert_seen(h->ctx, &v->info[i]) : 0;

		if (i == 0)
			s->cert_id = id;
	}
	leaf = &v->info[0];
	if (v->problems & CERT_UNTRUSTED) {
		detect_textf(buf, sizeof(buf), "%s; subject %s, issuer %s, "
		    "sha256 %s", v->reason, leaf->subject, leaf->issuer,
		    leaf->sha256);
		raise_alert(s, h, ALERT_CERT_UNTRUSTED, SEV_MEDIUM, ev->frame,
		    buf);
	}
	if (v->problems & (CERT_EXPIRED | CERT_NOT_YET_VALID)) {
		detect_textf(buf, sizeof(buf), "%s at packet time; leaf valid "
		    "%lld..%lld (seconds), subject %s, sha256 %s",
		    (v->problems & CERT_EXPIRED) ? "a certificate of the chain "
		    "expired" : "a certificate of the chain is not yet valid",
		    (long long)leaf->not_before, (long long)leaf->not_after,
		    leaf->subject, leaf->sha256);
		raise_alert(s, h, ALERT_CERT_EXPIRED, SEV_MEDIUM, ev->frame,
		    buf);
	}
	if (v->problems & CERT_NAME_MISMATCH) {
		detect_textf(buf, sizeof(buf), "SNI %s not among the DNS names "
		    "[%s]; subject %s, sha256 %s", s->sni, leaf->sans,
		    leaf->subject, leaf->sha256);
		raise_alert(s, h, ALERT_CERT_NAME_MISMATCH, SEV_MEDIUM,
		    ev->frame, buf);
	}
	/*
	 * Pins follow the name the client asked for: an interceptor answers
	 * for the same name with another key, wherever it sits.
	 */
	if (name != NULL)
		detect_textf(server, sizeof(server), "%s", name);
	else if (h->server_id != NULL)
		h->server_id(h->ctx, server, sizeof(server));
	else
		server[0] = '\0';
	/*
	 * Only a chain without problems moves the pin: an interceptor's
	 * certificate is compared with the pin but never becomes it, so the
	 * real server is not "changed" when it shows up again.  A clean new
	 * chain is a rotation (low); a flawed one an interception sign.
	 */
	if (server[0] != '\0' && h->pin != NULL && h->pin(h->ctx, server,
	    leaf->spki_sha256, leaf->issuer, s->cert_id, v->problems == 0,
	    prev, sizeof(prev)) == 1) {
		detect_textf(buf, sizeof(buf), "%s was %s; now key %.16s... "
		    "issuer %s, subject %s%s", server, prev, leaf->spki_sha256,
		    leaf->issuer, leaf->subject, v->problems == 0 ?
		    " (a valid chain: a rotation?)" : "");
		raise_alert(s, h, ALERT_CERT_CHANGED, v->problems == 0 ?
		    SEV_LOW : SEV_HIGH, ev->frame, buf);
	}
	cert_verdict_clear(v);
	free(v);
}

void
detect_tls_event(struct detect_session *s, const struct tls_event *ev,
    uint64_t ts, const struct detect_hooks *h)
{
	switch (ev->type) {
	case TLS_EV_CLIENT_HELLO:
		/*
		 * A name with bytes no host name has is kept out: it names
		 * no MX, so no certificate or policy is judged by it.
		 */
		if (s->sni[0] == '\0' && ev->sni != NULL && !ev->sni_bad)
			snprintf(s->sni, sizeof(s->sni), "%s", ev->sni);
		break;
	case TLS_EV_SERVER_HELLO:
		if (ev->hrr)
			break;
		s->version = ev->version;
		s->cipher = ev->cipher;
		s->resumed = ev->resumed;
		break;
	case TLS_EV_CERTIFICATE:
		on_certificate(s, ev, ts, h);
		break;
	case TLS_EV_ALERT:
		/* The client turned the server's chain down (STS-139). */
		if (ev->dir == 0 && s->cert_seen && ev->level == 2)
			s->client_refused = true;
		break;
	case TLS_EV_ENCRYPTED:
		if (ev->dir == 1)
			s->server_dark = true;
		break;
	case TLS_EV_MALFORMED:
	case TLS_EV_GAP:
		/* The handshake was not seen whole: the session neither. */
		if (!s->server_dark)
			s->tls_lost = true;
		break;
	default:
		break;
	}
}

void
detect_session_end(struct detect_session *s, uint32_t conflicts,
    uint64_t frame, const struct detect_hooks *h, struct detect_summary *sum)
{
	char buf[ALERT_EVIDENCE_MAX];

	if (s->mail_in_clear && (downgraded(s) || s->offered)) {
		/*
		 * Mail in clear is news when something took TLS away, or
		 * when the server offered it and the client did not take it.
		 * A server that never offered TLS to anyone is no alert.
		 */
		snprintf(buf, sizeof(buf), "mail in clear%s%s%s",
		    s->rcpt[0] ? " to " : "", s->rcpt,
		    downgraded(s) ? " after a STARTTLS downgrade" :
		    "; STARTTLS was offered and not used");
		raise_alert(s, h, ALERT_PLAINTEXT_MAIL, downgraded(s) ?
		    SEV_HIGH : SEV_LOW, s->mail_frame, buf);
	}
	if (conflicts > 0) {
		snprintf(buf, sizeof(buf), "%u overlapping TCP segment(s) "
		    "carried different bytes; the first copy was kept",
		    conflicts);
		raise_alert(s, h, ALERT_STREAM_CONFLICT, SEV_HIGH, frame, buf);
	}
	if (sum == NULL)
		return;
	memset(sum, 0, sizeof(*sum));
	memcpy(sum->banner_host, s->banner_host, sizeof(sum->banner_host));
	memcpy(sum->ehlo_name, s->ehlo_name, sizeof(sum->ehlo_name));
	memcpy(sum->capabilities, s->caps, sizeof(sum->capabilities));
	memcpy(sum->rcpt_domains, s->rcpt, sizeof(sum->rcpt_domains));
	memcpy(sum->auth_mech, s->auth, sizeof(sum->auth_mech));
	sum->starttls_offered = s->offered;
	sum->starttls_sent = s->sent;
	sum->starttls_reply = s->starttls_reply;
	sum->tls = s->tls;
	sum->mail_in_clear = s->mail_in_clear;
	if (s->tls)
		sum->outcome = "tls";
	else if (s->not_tls)
		sum->outcome = "not_tls";
	else if (s->rejected || s->mangled)
		sum->outcome = "tls_refused";
	else if (s->mail_in_clear)
		sum->outcome = "plaintext";
	else
		sum->outcome = "no_mail";
	memcpy(sum->sni, s->sni, sizeof(sum->sni));
	sum->tls_version = s->version != 0 ? tls_version_name(s->version) :
	    NULL;
	sum->cipher = s->cipher;
	sum->cert_id = s->cert_id;
	sum->cert_seen = s->cert_seen;
	sum->cert_problems = s->cert_problems;
	sum->client_refused = s->client_refused;
	sum->mail_frame = s->mail_frame;
	sum->tls_lost = s->tls_lost;
	sum->plaintext_alerted = RAISED(s, ALERT_PLAINTEXT_MAIL) != 0;
	sum->cert_frame = s->cert_frame;
	problem_text(sum->cert_problem_text, sizeof(sum->cert_problem_text),
	    s->cert_problems);
	/*
	 * TLS 1.3 and resumed sessions never show the chain: that is "not
	 * observable", never "ok".
	 */
	if (!s->tls)
		sum->cert_status = NULL;
	else if (s->cert_seen)
		sum->cert_status = s->cert_problems != 0 ?
		    sum->cert_problem_text : "ok";
	else if (s->version >= 0x0304 && s->version < 0x0400)
		sum->cert_status = "not_observable_tls13";
	else if (s->resumed)
		sum->cert_status = "not_observable_resumed";
	else
		sum->cert_status = "not_observable";
}
