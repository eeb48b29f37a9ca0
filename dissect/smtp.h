/*
 * smtp.h - SMTP dissection of a reassembled TCP connection.
 *
 * RFC 5321 (commands, replies), RFC 3207 (STARTTLS), RFC 2920
 * (pipelining), RFC 3030 (BDAT), RFC 4954 (AUTH).  The dissector turns
 * both directions' byte streams into typed events; it knows nothing of
 * alerts.  Message bodies are counted, never kept; AUTH exchanges yield
 * the mechanism only, never credentials.
 */
#ifndef SW_SMTP_H
#define SW_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct smtp_session;

enum smtp_verb {
	SMTP_V_GREETING,	/* the server's banner answers no command */
	SMTP_V_HELO, SMTP_V_EHLO, SMTP_V_MAIL, SMTP_V_RCPT, SMTP_V_DATA,
	SMTP_V_BDAT, SMTP_V_RSET, SMTP_V_NOOP, SMTP_V_QUIT, SMTP_V_VRFY,
	SMTP_V_EXPN, SMTP_V_HELP, SMTP_V_STARTTLS, SMTP_V_AUTH, SMTP_V_ETRN,
	SMTP_V_UNKNOWN,		/* a line that is no known verb */
};

enum smtp_event_type {
	SMTP_EV_BANNER,		/* greeting reply complete: code, first line */
	SMTP_EV_COMMAND,	/* client command: verb, line (AUTH: mechanism only) */
	SMTP_EV_REPLY,		/* server reply complete: verb answered, code;
				   EHLO replies carry their keywords */
	SMTP_EV_DATA_DONE,	/* message body ended: count = bytes */
	SMTP_EV_TLS,		/* dir began TLS: a record header where expected */
	SMTP_EV_TLS_DATA,	/* dir's bytes from its first TLS record on:
				   text (stream order, for a TLS parser) */
	SMTP_EV_NOT_TLS,	/* after 220 to STARTTLS, dir sent plain bytes */
	SMTP_EV_INJECTION,	/* dir sent bytes where it must be silent: text */
	SMTP_EV_GAP,		/* count bytes missing in dir */
	SMTP_EV_LINE_TOO_LONG,	/* a line over SMTP_LINE_MAX, discarded */
	SMTP_EV_PIPELINE_OVERFLOW, /* more than SMTP_PENDING_MAX commands unanswered */
	SMTP_EV_UNEXPECTED_REPLY, /* a reply with no command pending */
	SMTP_EV_BAD_REPLY,	/* a server line that is not a reply */
};

struct smtp_event {
	enum smtp_event_type	 type;
	int			 dir;		/* 0 client->server, 1 back */
	uint64_t		 frame;		/* frame of the evidence's first byte */
	enum smtp_verb		 verb;		/* COMMAND, REPLY */
	int			 code;		/* REPLY, BANNER: 100..599 */
	const uint8_t		*text;		/* raw wire bytes, not NUL-terminated */
	size_t			 text_len;
	const char *const	*caps;		/* EHLO reply keywords, upper case */
	size_t			 ncaps;
	uint64_t		 count;		/* DATA_DONE, GAP */
};

struct smtp_sink {
	void	(*event)(void *ctx, const struct smtp_event *);
	void	*ctx;
};

enum smtp_result {
	SMTP_OK,		/* keep feeding */
	SMTP_DONE,		/* both directions are TLS, or it is not SMTP:
				   stop feeding and free */
};

/*
 * A new session.  implicit_tls: the connection is to a port where TLS
 * starts at once (465).  Returns NULL when out of memory.
 */
struct smtp_session *smtp_new(bool implicit_tls);

/*
 * Feeds len bytes of direction dir (0 client, 1 server) in stream order;
 * frame is the frame that carried them.  Events go to the sink before
 * this returns.
 */
enum smtp_result smtp_feed(struct smtp_session *, int dir, const uint8_t *buf,
		    size_t len, uint64_t frame, const struct smtp_sink *);

/*
 * True when buf, the first bytes of direction dir of a connection nothing
 * was fed of yet, show it is not SMTP: smtp_feed() would end a new session
 * on them at once.  Lets a caller skip making one.
 */
bool		 smtp_rules_out(int dir, const uint8_t *buf, size_t len,
		    bool implicit_tls);

/* Reports len bytes missing in dir: the partial line is dropped. */
void		 smtp_gap(struct smtp_session *, int dir, uint64_t len,
		    const struct smtp_sink *);

/* True once anything marked the session as not fully seen. */
bool		 smtp_incomplete(const struct smtp_session *);

/* True when the first bytes looked like SMTP (a banner or a command). */
bool		 smtp_recognised(const struct smtp_session *);

void		 smtp_free(struct smtp_session *);

const char	*smtp_verb_name(enum smtp_verb);

#endif
