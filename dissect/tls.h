/*
 * tls.h - passive TLS record and handshake dissection of one reassembled
 * TCP connection.
 *
 * RFC 5246 (TLS 1.2), RFC 8446 (TLS 1.3: supported_versions,
 * HelloRetryRequest, compatibility ChangeCipherSpec), RFC 6066
 * (server_name).  Both directions are fed in stream order; records are
 * reassembled across any segmentation and handshake messages across
 * records.  What is visible in clear is reported as typed events: the
 * hellos, the certificate chain (TLS <= 1.2), alerts, and the moment a
 * direction goes dark.  The dissector knows nothing of alerts or policy.
 */
#ifndef SW_TLS_H
#define SW_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct tls_session;

enum tls_event_type {
	TLS_EV_CLIENT_HELLO,	/* sni, legacy_version, versions[],
				   session_id_len, ticket offered */
	TLS_EV_SERVER_HELLO,	/* version (negotiated), cipher, resumed, hrr */
	TLS_EV_CERTIFICATE,	/* a chain, TLS <= 1.2: certs[i] DER,
				   cert_lens[i], ncerts; truncated if cut */
	TLS_EV_ALERT,		/* level, description: clear-text alerts only */
	TLS_EV_ENCRYPTED,	/* dir's handshake is now encrypted: nothing
				   more observable */
	TLS_EV_MALFORMED,	/* dir's bytes break TLS framing: why; dir is
				   no longer parsed */
	TLS_EV_GAP,		/* bytes lost while dir was parsed in clear:
				   dir is no longer parsed */
};

/* Fields not named for an event's type are zero ("" for the strings). */
struct tls_event {
	enum tls_event_type	 type;
	int			 dir;		/* 0 client->server, 1 back */
	uint64_t		 frame;		/* of the unit's first byte;
						   0 for GAP */
	/*
	 * CLIENT_HELLO.  sni: lower case, "" if none; a byte outside
	 * [a-z0-9.-_*] is shown as \xNN and sets sni_bad, as does a name
	 * over TLS_SNI_MAX bytes (cut, "\..." appended).  version: the
	 * highest of versions[] (supported_versions, GREASE removed, at
	 * most TLS_VERSIONS_MAX), else legacy_version.  ticket: a
	 * non-empty session_ticket or a pre_shared_key was offered.
	 */
	const char		*sni;
	bool			 sni_bad;
	uint16_t		 legacy_version; /* also SERVER_HELLO */
	uint16_t		 version;	/* also SERVER_HELLO */
	const uint16_t		*versions;
	size_t			 nversions;
	size_t			 session_id_len; /* 0..32, also SERVER_HELLO */
	bool			 ticket;
	/*
	 * SERVER_HELLO.  version: supported_versions when present, else
	 * legacy_version.  resumed: TLS <= 1.2, the client's non-empty
	 * session id echoed; TLS 1.3 (which echoes it anyway), a
	 * pre_shared_key accepted.  hrr: a HelloRetryRequest, not final.
	 * downgrade: the random ends "DOWNGRD" 01 or 00, a TLS 1.3 server
	 * negotiating below 1.3 (RFC 8446 4.1.3).
	 */
	uint16_t		 cipher;
	bool			 resumed;
	bool			 hrr;
	bool			 downgrade;
	/*
	 * CERTIFICATE (either direction).  certs[i] is DER of cert_lens[i]
	 * bytes, leaf first.  truncated: the chain went on past
	 * TLS_CERTS_MAX certificates or TLS_HS_MAX bytes; what is given is
	 * whole, what was cut is not given.
	 */
	const uint8_t *const	*certs;
	const size_t		*cert_lens;
	size_t			 ncerts;
	bool			 truncated;
	/* ALERT */
	uint8_t			 level;		/* 1 warning, 2 fatal */
	uint8_t			 description;
	/*
	 * MALFORMED: a short static text naming the field, e.g. "record
	 * version", "certificate length", "sslv2 hello", "interleaved
	 * record"; "out of memory" when a message buffer could not grow.
	 */
	const char		*why;
};

struct tls_sink {
	void	(*event)(void *ctx, const struct tls_event *);
	void	*ctx;
};

enum tls_result {
	TLS_OK,			/* keep feeding */
	TLS_DONE,		/* nothing more to learn in either direction:
				   stop feeding and free */
};

/*
 * A new session, a little over a hundred bytes; message buffers are made
 * only while a hello or a Certificate is being assembled.  Returns NULL
 * when out of memory.
 */
struct tls_session *tls_new(void);

/*
 * Feeds len bytes of direction dir (0 client, 1 server; anything else is
 * taken as 1) in stream order; frame is the frame that carried them.
 * Events go to the sink (which may be NULL) before this returns; their
 * pointers are valid only during the callback.  The events depend only
 * on each direction's bytes and the order of the calls, never on how a
 * direction's bytes were cut.  Only ClientHello (from 0), ServerHello
 * (from 1) and Certificate are read; other messages are counted past
 * unbuffered.  Returns TLS_DONE once both directions are encrypted,
 * malformed or gapped, or once the server's certificate was seen and
 * the client's direction is no longer clear; later calls then do
 * nothing and return TLS_DONE again.
 */
enum tls_result	 tls_feed(struct tls_session *, int dir, const uint8_t *buf,
		    size_t len, uint64_t frame, const struct tls_sink *);

/*
 * Reports len bytes missing in dir.  A direction still parsed in clear
 * gives TLS_EV_GAP and is not parsed any more: no resynchronisation is
 * guessed.  An encrypted or stopped direction is unaffected.
 */
void		 tls_gap(struct tls_session *, int dir, uint64_t len,
		    const struct tls_sink *);

/* Frees the session and its buffers; NULL is ignored. */
void		 tls_free(struct tls_session *);

/*
 * "SSL 3.0", "TLS 1.0" ... "TLS 1.3", else "0x%04x" (drafts such as
 * 0x7f1c, GREASE).  The result is static, or for the hex form a
 * per-thread buffer valid until the thread's next call.
 */
const char	*tls_version_name(uint16_t);

/* A stable lower-case name for each event type: "client_hello" ... */
const char	*tls_event_name(enum tls_event_type);

#endif
