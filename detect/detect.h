/*
 * detect.h - judgement: SMTP events in, alerts out.
 *
 * RFC 3207 (STARTTLS), RFC 5321.  Consumes the dissector's events for one
 * session and raises the alert kinds of DESIGN.md with their evidence.
 * It never sees packets and never writes the store: per-server history
 * comes and goes through the hooks the caller provides.
 */
#ifndef SW_DETECT_H
#define SW_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/smtp.h"

/* Stable names: the `kind` column, JSON, README.  Add, never rename. */
enum alert_kind {
	ALERT_STARTTLS_STRIPPED,
	ALERT_STARTTLS_MISSING,
	ALERT_ESMTP_MASKED,
	ALERT_STARTTLS_REJECTED,
	ALERT_STARTTLS_MANGLED,
	ALERT_STARTTLS_NO_TLS,
	ALERT_STARTTLS_COMMAND_INJECTION,
	ALERT_STARTTLS_RESPONSE_INJECTION,
	ALERT_PLAINTEXT_MAIL,
	ALERT_CLEARTEXT_AUTH,
	ALERT_STREAM_CONFLICT,
	ALERT_KIND_COUNT
};

enum alert_severity {
	SEV_INFO, SEV_LOW, SEV_MEDIUM, SEV_HIGH
};

#define ALERT_EVIDENCE_MAX	512	/* escaped evidence, bytes incl. NUL */

struct alert {
	enum alert_kind		kind;
	enum alert_severity	severity;
	uint64_t		frame;		/* frame showing the evidence */
	char			evidence[ALERT_EVIDENCE_MAX];	/* printable ASCII */
};

/* What detect asks of the outside world about a server. */
struct detect_hooks {
	/* Was STARTTLS offered by this server before (this run or earlier)? */
	bool	(*offered_before)(void *ctx, const char *banner_host);
	/* Does the operator require this server to offer STARTTLS? */
	bool	(*expected)(void *ctx);
	/* STARTTLS was (or was not) offered in this EHLO reply. */
	void	(*offered)(void *ctx, const char *banner_host, bool offered);
	/* An alert for the session. */
	void	(*alert)(void *ctx, const struct alert *);
	void	*ctx;
};

/* What a session looked like, for the `sessions` table. */
struct detect_summary {
	char		banner_host[64];	/* first word of the greeting */
	char		ehlo_name[64];		/* escaped */
	char		capabilities[256];	/* EHLO keywords, space separated */
	char		rcpt_domains[256];	/* comma separated, lower case */
	char		auth_mech[32];
	bool		starttls_offered, starttls_sent, tls;
	int		starttls_reply;		/* 0 = none */
	bool		mail_in_clear;
	const char	*outcome;	/* tls, plaintext, no_mail, tls_refused,
					   not_tls, not_smtp */
};

struct detect_session;

struct detect_session *detect_session_new(void);

/* Judges one event; alerts go to hooks->alert before it returns. */
void	detect_event(struct detect_session *, const struct smtp_event *,
	    const struct detect_hooks *);

/*
 * Ends the session: raises what only the end can show (mail in clear
 * with its recipients, conflicting overlaps) and fills *sum.  frame is
 * the last frame of the flow.
 */
void	detect_session_end(struct detect_session *, uint32_t conflicts,
	    uint64_t frame, const struct detect_hooks *,
	    struct detect_summary *sum);

void	detect_session_free(struct detect_session *);

const char *alert_kind_name(enum alert_kind);
const char *alert_severity_name(enum alert_severity);

/*
 * Writes len wire bytes to out as printable ASCII (\xNN for the rest,
 * \\ for a backslash), always NUL-terminated; "..." marks a cut.
 */
void	detect_escape(char *out, size_t outlen, const uint8_t *in, size_t len);

/* True when kw is an SMTP service extension keyword in use (IANA, vendors). */
bool	detect_known_keyword(const char *kw);

#endif
