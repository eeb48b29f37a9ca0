/*
 * syslog.c - the alert feed as syslog messages: RFC 5424 (format), RFC
 * 5426 (UDP), RFC 6587 3.4.1 (TCP, octet counting), or a unix datagram
 * socket such as /dev/log.
 *
 * Messages wait in one queue, each framed "LEN SP MSG" as RFC 6587 sends
 * it on TCP (datagrams carry MSG alone).  The queue's first `committed`
 * bytes belong to alerts the database holds; only those are sent, and
 * `sent` of them are on the socket.  Sockets are non-blocking: a commit
 * sends what goes at once (waiting at most SYSLOG_COMMIT_WAIT_MS), keeps
 * the rest, and a TCP or unix collector that went away is reconnected at
 * a later commit.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "syslog.h"

#define SYSLOG_QUEUE_MAX	(1024 * 1024)	/* bytes held for a slow or
						   absent collector */
#define SYSLOG_MSG_MAX		8192	/* one message, bytes; ours stay
					   far below (evidence <= 511) */
#define SYSLOG_PARAM_MAX	1024	/* one SD-PARAM value, bytes before
					   escaping: a long file name is cut */
#define SYSLOG_COMMIT_WAIT_MS	20	/* a commit waits this long at most */
#define SYSLOG_CLOSE_WAIT_MS	2000	/* close: time to drain the queue */
#define SYSLOG_RETRY_MS		1000	/* reconnect at most this often */
#define SYSLOG_PORT		"514"
#define SYSLOG_FACILITY		16	/* local0 */
/*
 * The SD-ID's enterprise number: 32473 is the one RFC 5612 reserves for
 * documentation, as RFC 5424's own examples use.
 */
#define SYSLOG_SD_ID		"stripwatch@32473"

enum syslog_transport { TR_UDP, TR_TCP, TR_UNIX };

/* A bounded message being written; full is set when something was cut. */
struct msg {
	char	buf[SYSLOG_MSG_MAX];
	size_t	len;
	bool	full;
};

struct syslog_feed {
	enum syslog_transport tr;
	char		*spec;		/* as given, for messages */
	char		 host[256], port[8];	/* UDP, TCP */
	struct sockaddr_un sun;		/* unix */
	int		 facility;	/* 0-23 */
	int		 fd;		/* -1 when not connected */
	bool		 connected;	/* TCP: the handshake finished */
	uint64_t	 retry_at;	/* monotonic ms: next connect attempt */
	char		 hostname[256];	/* HOSTNAME: PRINTUSASCII */
	long		 pid;
	char		*q;		/* framed messages */
	size_t		 qlen, qcap;
	size_t		 committed;	/* bytes of q that may be sent */
	size_t		 sent;		/* bytes of q on the socket (TCP) */
	uint64_t	 lost;		/* messages never sent */
	bool		 warned;	/* the first failure was reported */
	struct msg	 m;		/* the message being formatted */
};

static const struct {
	const char	*name;
	int		 code;
} facilities[] = {
	{ "kern", 0 }, { "user", 1 }, { "mail", 2 }, { "daemon", 3 },
	{ "auth", 4 }, { "syslog", 5 }, { "lpr", 6 }, { "news", 7 },
	{ "uucp", 8 }, { "cron", 9 }, { "authpriv", 10 }, { "ftp", 11 },
	{ "ntp", 12 }, { "audit", 13 }, { "alert", 14 }, { "clock", 15 },
	{ "local0", 16 }, { "local1", 17 }, { "local2", 18 },
	{ "local3", 19 }, { "local4", 20 }, { "local5", 21 },
	{ "local6", 22 }, { "local7", 23 },
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The first failure is told; later ones are counted (and told at close). */
static void
warn_once(struct syslog_feed *s, const char *what, int err)
{
	if (s->warned)
		return;
	s->warned = true;
	fprintf(stderr, "stripwatch: syslog %s: %s: %s; further failures "
	    "are counted\n", s->spec, what, strerror(err));
}

/* RFC 5424 6.2.1: crit for high, warning, notice, info. */
static int
severity_code(const char *severity)
{
	if (strcmp(severity, "high") == 0)
		return 2;
	if (strcmp(severity, "medium") == 0)
		return 4;
	if (strcmp(severity, "low") == 0)
		return 5;
	return 6;
}

/* Splits "?facility=NAME" off the end of spec (in place). */
static bool
parse_facility(struct syslog_feed *s, char *spec, char *err, size_t errlen)
{
	char *q = strstr(spec, "?facility=");
	size_t i;

	s->facility = SYSLOG_FACILITY;
	if (q == NULL)
		return true;
	*q = '\0';
	q += strlen("?facility=");
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcmp(q, facilities[i].name) == 0) {
			s->facility = facilities[i].code;
			return true;
		}
	snprintf(err, errlen, "--syslog: unknown facility \"%s\" (kern, user, "
	    "mail, daemon, auth, ..., local0 to local7)", q);
	return false;
}

/* HOST[:PORT] or [ADDR][:PORT] into s->host, s->port. */
static bool
parse_hostport(struct syslog_feed *s, const char *hp, char *err,
    size_t errlen)
{
	const char *port = NULL, *end;
	size_t hlen;
	char *e;
	long v;

	if (hp[0] == '[') {
		if ((end = strchr(hp, ']')) == NULL || (end[1] != '\0' &&
		    end[1] != ':'))
			goto bad;
		hp++;
		hlen = (size_t)(end - hp);
		if (end[1] == ':')
			port = end + 2;
	} else if ((end = strchr(hp, ':')) != NULL) {
		if (strchr(end + 1, ':') != NULL) {
			snprintf(err, errlen, "--syslog %s: write an IPv6 "
			    "address in brackets: [ADDR]:PORT", s->spec);
			return false;
		}
		hlen = (size_t)(end - hp);
		port = end + 1;
	} else
		hlen = strlen(hp);
	if (hlen == 0 || hlen >= sizeof(s->host))
		goto bad;
	memcpy(s->host, hp, hlen);
	s->host[hlen] = '\0';
	if (port == NULL) {
		snprintf(s->port, sizeof(s->port), "%s", SYSLOG_PORT);
		return true;
	}
	errno = 0;
	v = strtol(port, &e, 10);
	if (*port < '0' || *port > '9' || *e != '\0' || errno != 0 || v < 1 ||
	    v > 65535)
		goto bad;
	snprintf(s->port, sizeof(s->port), "%ld", v);
	return true;
bad:
	snprintf(err, errlen, "--syslog %s: not udp://HOST[:PORT], "
	    "tcp://HOST[:PORT] or unix:PATH", s->spec);
	return false;
}

static bool
parse_spec(struct syslog_feed *s, char *err, size_t errlen)
{
	char *spec = strdup(s->spec);
	bool ok = false;

	if (spec == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if (!parse_facility(s, spec, err, errlen))
		goto out;
	if (strncmp(spec, "udp://", 6) == 0) {
		s->tr = TR_UDP;
		ok = parse_hostport(s, spec + 6, err, errlen);
	} else if (strncmp(spec, "tcp://", 6) == 0) {
		s->tr = TR_TCP;
		ok = parse_hostport(s, spec + 6, err, errlen);
	} else if (strncmp(spec, "unix:", 5) == 0 && spec[5] != '\0') {
		s->tr = TR_UNIX;
		s->sun.sun_family = AF_UNIX;
		if (strlen(spec + 5) >= sizeof(s->sun.sun_path))
			snprintf(err, errlen, "--syslog %s: path too long",
			    s->spec);
		else {
			memcpy(s->sun.sun_path, spec + 5, strlen(spec + 5) + 1);
			ok = true;
		}
	} else
		snprintf(err, errlen, "--syslog %s: not udp://HOST[:PORT], "
		    "tcp://HOST[:PORT] or unix:PATH", s->spec);
out:
	free(spec);
	return ok;
}

static void
disconnect(struct syslog_feed *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->connected = false;
}

/*
 * Starts a connection: UDP and unix ones are made at once, TCP's handshake
 * finishes later (s->connected).  Name lookups happen here, so only at
 * open and on reopen would a slow resolver be waited for: the connect
 * after a failure reuses nothing but the names (cheap for addresses).
 */
static bool
start_connect(struct syslog_feed *s, int *why)
{
	struct addrinfo hints, *res, *ai;
	int type = SOCK_NONBLOCK | SOCK_CLOEXEC, rc;

	s->retry_at = now_ms() + SYSLOG_RETRY_MS;
	if (s->tr == TR_UNIX) {
		if ((s->fd = socket(AF_UNIX, SOCK_DGRAM | type, 0)) < 0 ||
		    connect(s->fd, (struct sockaddr *)&s->sun,
		    sizeof(s->sun)) != 0) {
			*why = errno;
			disconnect(s);
			return false;
		}
		s->connected = true;
		return true;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = s->tr == TR_TCP ? SOCK_STREAM : SOCK_DGRAM;
	if ((rc = getaddrinfo(s->host, s->port, &hints, &res)) != 0) {
		*why = rc == EAI_SYSTEM ? errno : EHOSTUNREACH;
		return false;
	}
	*why = ECONNREFUSED;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((s->fd = socket(ai->ai_family, ai->ai_socktype | type,
		    ai->ai_protocol)) < 0) {
			*why = errno;
			continue;
		}
		if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			s->connected = true;
			break;
		}
		if (errno == EINPROGRESS)	/* TCP: poll for the end */
			break;
		*why = errno;
		disconnect(s);
	}
	freeaddrinfo(res);
	return s->fd >= 0;
}

/* Offset of the message after the one framed at off. */
static size_t
frame_next(const struct syslog_feed *s, size_t off, size_t *msg,
    size_t *msglen)
{
	size_t len = 0, i = off;

	while (i < s->qlen && s->q[i] != ' ')
		len = len * 10 + (size_t)(s->q[i++] - '0');
	*msg = i + 1;
	*msglen = len;
	return i + 1 + len;
}

/*
 * A connection failed: it is closed and retried later.  On TCP the
 * message it was in the middle of is lost, as the next connection must
 * begin with a whole frame.
 */
static void
conn_failed(struct syslog_feed *s, const char *what, int err)
{
	size_t off = 0, next, msg, msglen;

	warn_once(s, what, err);
	disconnect(s);
	s->retry_at = now_ms() + SYSLOG_RETRY_MS;
	if (s->tr != TR_TCP || s->sent == 0)
		return;
	while ((next = frame_next(s, off, &msg, &msglen)) <= s->sent)
		off = next;
	if (off < s->sent) {
		s->sent = next;
		s->lost++;
	}
}

enum send_result { SEND_DONE, SEND_AGAIN, SEND_FAILED };

/* Sends from s->sent on, as far as the socket takes it. */
static enum send_result
send_some(struct syslog_feed *s)
{
	size_t msg, msglen, next;
	ssize_t n;

	while (s->sent < s->committed) {
		if (s->tr == TR_TCP) {
			n = send(s->fd, s->q + s->sent, s->committed - s->sent,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			next = s->sent + (n > 0 ? (size_t)n : 0);
		} else {
			next = frame_next(s, s->sent, &msg, &msglen);
			n = send(s->fd, s->q + msg, msglen,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		if (n >= 0) {
			s->sent = next;
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return SEND_AGAIN;
		if (s->tr == TR_UDP) {
			/* An ICMP error of an earlier datagram, or too big. */
			warn_once(s, "send", errno);
			s->lost++;
			s->sent = next;
			continue;
		}
		conn_failed(s, "send", errno);
		return SEND_FAILED;
	}
	return SEND_DONE;
}

/* Waits until deadline (monotonic ms) for fd to take bytes. */
static bool
wait_out(int fd, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	uint64_t now = now_ms();

	return poll(&p, 1, now < deadline ? (int)(deadline - now) : 0) == 1;
}

/*
 * True when a TCP collector closed the connection: it never sends, so a
 * readable socket means EOF or a reset.  Found before sending, this costs
 * no message (bytes it took before closing were lost already, unseen).
 */
static bool
peer_closed(const struct syslog_feed *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, 0) != 1)
		return false;
	return recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0 ||
	    (p.revents & (POLLHUP | POLLERR)) != 0;
}

/* Drops the bytes sent, keeping the queue's start on a frame. */
static void
compact(struct syslog_feed *s)
{
	size_t off = 0, next, msg, msglen;

	while (off < s->sent &&
	    (next = frame_next(s, off, &msg, &msglen)) <= s->sent)
		off = next;
	if (off == 0)
		return;
	memmove(s->q, s->q + off, s->qlen - off);
	s->qlen -= off;
	s->committed -= off;
	s->sent -= off;
}

/* Sends the committed messages, waiting up to wait_ms in all. */
static void
drain(struct syslog_feed *s, int wait_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)wait_ms;
	int err, why, reconnects = 0;
	socklen_t elen;

	while (s->sent < s->committed) {
		if (s->fd < 0) {
			if (now_ms() < s->retry_at)
				break;
			if (!start_connect(s, &why)) {
				warn_once(s, "connect", why);
				break;
			}
		}
		if (!s->connected) {	/* TCP handshake under way */
			if (!wait_out(s->fd, deadline))
				break;
			elen = sizeof(err);
			if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err,
			    &elen) != 0 || err != 0) {
				conn_failed(s, "connect", err != 0 ? err : errno);
				break;
			}
			s->connected = true;
		}
		if (s->tr == TR_TCP && s->sent == 0 && peer_closed(s)) {
			disconnect(s);		/* a restarted collector */
			s->retry_at = 0;
			if (reconnects++ > 0)
				break;
			continue;
		}
		switch (send_some(s)) {
		case SEND_DONE:
			break;
		case SEND_AGAIN:
			if (now_ms() >= deadline || !wait_out(s->fd, deadline))
				goto out;
			continue;
		case SEND_FAILED:
			goto out;
		}
	}
out:
	compact(s);
}

struct syslog_feed *
syslog_open(const char *spec, char *err, size_t errlen)
{
	struct syslog_feed *s = calloc(1, sizeof(*s));
	size_t i;
	int why;

	if (s == NULL || (s->spec = strdup(spec)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(s);
		return NULL;
	}
	s->fd = -1;
	if (!parse_spec(s, err, errlen)) {
		syslog_close(s);
		return NULL;
	}
	if (s->tr != TR_UNIX) {
		struct addrinfo hints, *res;
		int rc;

		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = s->tr == TR_TCP ? SOCK_STREAM : SOCK_DGRAM;
		if ((rc = getaddrinfo(s->host, s->port, &hints, &res)) != 0) {
			snprintf(err, errlen, "--syslog %s: %s", spec,
			    gai_strerror(rc));
			syslog_close(s);
			return NULL;
		}
		freeaddrinfo(res);
	}
	/* RFC 5424 6.2.4: PRINTUSASCII, or the NILVALUE. */
	if (gethostname(s->hostname, sizeof(s->hostname)) != 0)
		s->hostname[0] = '\0';
	s->hostname[sizeof(s->hostname) - 1] = '\0';
	for (i = 0; s->hostname[i] != '\0'; i++)
		if (s->hostname[i] <= ' ' || s->hostname[i] > '~')
			s->hostname[i] = '-';
	if (s->hostname[0] == '\0')
		snprintf(s->hostname, sizeof(s->hostname), "-");
	s->pid = (long)getpid();
	if (!start_connect(s, &why))	/* told now; retried at commits */
		warn_once(s, "connect", why);
	return s;
}

static void
put(struct msg *m, const char *s, size_t n)
{
	if (sizeof(m->buf) - m->len < n) {
		m->full = true;
		n = sizeof(m->buf) - m->len;
	}
	memcpy(m->buf + m->len, s, n);
	m->len += n;
}

static void
putf(struct msg *m, const char *s)
{
	put(m, s, strlen(s));
}

/*
 * Text into m: at most max bytes of s, bytes outside printable ASCII as
 * '?' (RFC 5424 wants UTF-8; what we send is ASCII), and, in a PARAM-VALUE
 * (sd true), '"', '\' and ']' escaped with a backslash (6.3.3).  max 0:
 * printable non-space ASCII only (header fields), '-' for the rest.
 */
static void
put_text(struct msg *m, const char *s, size_t max, bool sd)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i < max; i++) {
		char c = s[i];

		if (c < ' ' || c > '~')
			c = '?';
		if (sd && (c == '"' || c == '\\' || c == ']'))
			put(m, "\\", 1);
		put(m, &c, 1);
	}
}

static void
put_param(struct msg *m, const char *name, const char *value)
{
	put(m, " ", 1);
	putf(m, name);
	put(m, "=\"", 2);
	put_text(m, value, SYSLOG_PARAM_MAX, true);
	put(m, "\"", 1);
}

static void
put_param_num(struct msg *m, const char *name, long long v)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", v);
	put_param(m, name, num);
}

/* One RFC 5424 SYSLOG-MSG for alert a. */
static void
format(const struct syslog_feed *s, struct msg *m, int64_t id,
    int64_t run_id, const struct store_alert *a)
{
	char head[64], ts[JSON_TIME_LEN], msgid[33];
	size_t i;

	snprintf(head, sizeof(head), "<%d>1 ",
	    s->facility * 8 + severity_code(a->severity));
	putf(m, head);
	json_time(ts, a->ts);
	putf(m, ts);
	put(m, " ", 1);
	putf(m, s->hostname);
	snprintf(head, sizeof(head), " stripwatch %ld ", s->pid);
	putf(m, head);
	/* MSGID: 1*32 PRINTUSASCII; kinds are lower case and '_'. */
	for (i = 0; a->kind[i] != '\0' && i < sizeof(msgid) - 1; i++)
		msgid[i] = a->kind[i] > ' ' && a->kind[i] <= '~' ?
		    a->kind[i] : '-';
	msgid[i] = '\0';
	putf(m, i > 0 ? msgid : "-");
	putf(m, " [" SYSLOG_SD_ID);
	put_param_num(m, "id", id);
	put_param_num(m, "run", run_id);
	put_param(m, "kind", a->kind);
	put_param(m, "severity", a->severity);
	put_param(m, "src", a->client_ip);
	put_param_num(m, "sport", a->client_port);
	put_param(m, "dst", a->server_ip);
	put_param_num(m, "dport", a->server_port);
	if (a->session_id > 0)
		put_param_num(m, "session", a->session_id);
	put_param_num(m, "frame", (long long)a->frame);
	put_param(m, "source", a->source);
	put(m, "]", 1);
	if (a->evidence != NULL && a->evidence[0] != '\0') {
		put(m, " ", 1);		/* MSG: ASCII, so no BOM (6.4) */
		put_text(m, a->evidence, SIZE_MAX, false);
	}
}

bool
syslog_queue(struct syslog_feed *s, int64_t id, int64_t run_id,
    const struct store_alert *a)
{
	struct msg *m;
	char frame[16];
	size_t need;
	int k;

	if (s == NULL)
		return true;
	m = &s->m;
	m->len = 0;
	m->full = false;
	format(s, m, id, run_id, a);
	if (m->full) {	/* cannot happen with our caps; never send half */
		warn_once(s, "message too long", EMSGSIZE);
		s->lost++;
		return false;
	}
	k = snprintf(frame, sizeof(frame), "%zu ", m->len);
	need = (size_t)k + m->len;
	if (s->qlen + need > SYSLOG_QUEUE_MAX) {
		warn_once(s, "queue full", ENOBUFS);
		s->lost++;
		return false;
	}
	if (s->qcap - s->qlen < need) {
		size_t cap = s->qcap ? s->qcap : 8192;
		char *q;

		while (cap - s->qlen < need)
			cap *= 2;
		if ((q = realloc(s->q, cap)) == NULL) {
			warn_once(s, "queue", ENOMEM);
			s->lost++;
			return false;
		}
		s->q = q;
		s->qcap = cap;
	}
	memcpy(s->q + s->qlen, frame, (size_t)k);
	memcpy(s->q + s->qlen + k, m->buf, m->len);
	s->qlen += need;
	return true;
}

bool
syslog_commit(struct syslog_feed *s)
{
	uint64_t lost;

	if (s == NULL)
		return true;
	lost = s->lost;
	s->committed = s->qlen;
	drain(s, SYSLOG_COMMIT_WAIT_MS);
	return s->lost == lost;
}

void
syslog_discard(struct syslog_feed *s)
{
	if (s != NULL)
		s->qlen = s->committed;
}

bool
syslog_reopen(struct syslog_feed *s, char *err, size_t errlen)
{
	int why;

	if (s == NULL)
		return true;
	if (s->tr == TR_TCP && s->sent > 0)
		conn_failed(s, "reopen", ECONNABORTED);	/* drops a partial */
	disconnect(s);
	compact(s);
	s->warned = false;	/* a new collector: tell its first failure */
	if (!start_connect(s, &why)) {
		snprintf(err, errlen, "%s: %s (retried at the next commit)",
		    s->spec, strerror(why));
		return false;
	}
	return true;
}

void
syslog_close(struct syslog_feed *s)
{
	size_t off, msg, msglen;

	if (s == NULL)
		return;
	s->qlen = s->committed;		/* uncommitted alerts are not sent */
	if (s->q != NULL) {
		s->retry_at = 0;	/* one last attempt, whatever the pace */
		drain(s, SYSLOG_CLOSE_WAIT_MS);
		for (off = s->sent; off < s->committed;
		    off = frame_next(s, off, &msg, &msglen))
			s->lost++;
	}
	if (s->lost > 0)
		fprintf(stderr, "stripwatch: syslog %s: %llu alert messages "
		    "not delivered\n", s->spec, (unsigned long long)s->lost);
	disconnect(s);
	free(s->q);
	free(s->spec);
	free(s);
}
