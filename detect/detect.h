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
#include "dissect/tls.h"
#include "detect/cert.h"
#include "policy/sts.h"

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
	ALERT_CERT_NAME_MISMATCH,
	ALERT_CERT_UNTRUSTED,
	ALERT_CERT_EXPIRED,
	ALERT_CERT_CHANGED,
	ALERT_STS_VIOLATION,
	ALERT_STS_POLICY_ERROR,
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
	/*
	 * A certificate seen: store it once, return its id (0 if none).
	 * Then pin the server's key and issuer; 1 when an earlier pin
	 * differed (described in prev), else 0.  replace: a differing pin
	 * gives way to this one.
	 */
	int64_t	(*cert_seen)(void *ctx, const struct cert_info *);
	int	(*pin)(void *ctx, const char *server, const char *spki,
		    const char *issuer, int64_t cert_id, bool replace,
		    char *prev, size_t prevlen);
	/* "address:port" of the server, for pins without an SNI. */
	void	(*server_id)(void *ctx, char *out, size_t outlen);
	struct cert_store *certs;	/* trust anchors; NULL: no checks */
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
	/* TLS, when it began. */
	char		sni[TLS_SNI_MAX * 4 + 1];	/* "" when none */
	const char	*tls_version;	/* NULL until a ServerHello */
	int		cipher;		/* -1 until a ServerHello */
	int64_t		cert_id;	/* the leaf's row, 0 when none */
	unsigned	cert_problems;	/* CERT_* of the server's chain */
	bool		cert_seen;
	bool		client_refused;
	uint64_t	mail_frame;	/* first MAIL/RCPT/DATA in clear */
	bool		plaintext_alerted;	/* plaintext_mail was raised */
	bool		tls_lost;	/* the TLS handshake was not seen whole */
	uint64_t	cert_frame;	/* the server's Certificate */	/* client alert after the certificate */
	const char	*cert_status;	/* NULL (no TLS), ok, problems,
					   not_observable_tls13, ... */
	char		cert_problem_text[64];
};

struct detect_session;

struct detect_session *detect_session_new(void);

/* Judges one event; alerts go to hooks->alert before it returns. */
void	detect_event(struct detect_session *, const struct smtp_event *,
	    const struct detect_hooks *);

/*
 * Judges one TLS event of the session at ts (pcap time, µs): records what
 * the hellos say, checks the server's chain and its pin.
 */
void	detect_tls_event(struct detect_session *, const struct tls_event *,
	    uint64_t ts, const struct detect_hooks *);

/*
 * Ends the session: raises what only the end can show (mail in clear
 * with its recipients, conflicting overlaps) and fills *sum.  frame is
 * the last frame of the flow.
 */
void	detect_session_end(struct detect_session *, uint32_t conflicts,
	    uint64_t frame, const struct detect_hooks *,
	    struct detect_summary *sum);

void	detect_session_free(struct detect_session *);

/*
 * RFC 8461 5 / RFC 8460 4.3: what a session with summary sum means under
 * policy pol (mode testing or enforce).  Returns the RFC 8460 result type
 * of the failure, or NULL when the session passed or cannot be judged
 * (detail then says which).  check_mx: the domain was known apart from
 * the MX name (recipients), so the SNI must match the policy's mx list.
 */
const char *detect_sts(const struct detect_summary *sum,
	    const struct sts_policy *pol, bool check_mx, char *detail,
	    size_t detlen);

/* snprintf for evidence texts, where a cut at outlen is intended. */
void	detect_textf(char *out, size_t outlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

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
