/*
 * fetch.h - asynchronous MTA-STS discovery: the _mta-sts TXT record and the
 * HTTPS policy (RFC 8461 sections 3.1-3.3, RFC 8460 result types).
 *
 * Every DNS lookup, the policy host's addresses included, goes through one
 * libunbound context, and the HTTPS transfer through one libcurl multi
 * handle, so nothing here ever blocks on the network: fetcher_poll() does
 * the pending work within the time it is given.  The fetcher only fetches;
 * it never parses the record or the policy, so every byte served comes
 * back exactly as served (CRLF, BOM, NUL included) for the parser to judge.
 */
#ifndef SW_FETCH_H
#define SW_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits; each hit is a result status or a refused request, never silent. */
#define FETCH_PENDING_MAX	64		/* requests held at once; new ones refused beyond */
#define FETCH_TIMEOUT_MS	10000		/* default per phase (DNS, HTTPS), ms */
#define FETCH_BODY_DEFAULT	65536		/* default body cap, bytes (RFC 8461 3.3: 64 KB) */
#define FETCH_BODY_LIMIT	(1024 * 1024)	/* largest body_max accepted, bytes */
#define FETCH_TXT_RR_MAX	64		/* TXT records in one answer; more is an error */
#define FETCH_ADDR_MAX		8		/* policy host addresses per family tried */
#define FETCH_NAME_MAX		253		/* domain name, text, no trailing dot */

struct fetch_opts {
	const char	*dns_server;	/* "ADDR" or "ADDR@PORT" forwarder; NULL: /etc/resolv.conf */
	const char	*ca_file;	/* trust anchors for HTTPS; with ca_path NULL, only these */
	const char	*ca_path;	/* hashed directory; both NULL: the system store */
	const char	*dnssec_ta_file;	/* DNSSEC trust anchors (DS/DNSKEY lines); NULL: no validation */
	unsigned	 https_port;	/* 0: 443.  Tests only: connect to this port; URL and name unchanged */
	long		 timeout_ms;	/* per phase, DNS and HTTPS each; 0: FETCH_TIMEOUT_MS */
	size_t		 body_max;	/* bytes; 0: FETCH_BODY_DEFAULT; capped at FETCH_BODY_LIMIT */
};

enum fetch_kind {
	FETCH_TXT,			/* _mta-sts.<domain> TXT */
	FETCH_POLICY,			/* https://mta-sts.<domain>/.well-known/mta-sts.txt */
};

enum fetch_status {
	FETCH_OK,
	FETCH_NO_RECORD,	/* TXT: NXDOMAIN or no TXT data (policy: host does not resolve) */
	FETCH_DNS_TEMPFAIL,	/* SERVFAIL, timeout, refused: not evidence of absence */
	FETCH_DNS_BOGUS,	/* DNSSEC validation failed (only when validating) */
	FETCH_CONNECT,		/* TCP connect failed */
	FETCH_WEBPKI,		/* certificate not valid for mta-sts.<domain> or not trusted (RFC 8460 sts-webpki-invalid) */
	FETCH_TLS,		/* TLS handshake failed otherwise (version < 1.2 ...) */
	FETCH_HTTP_STATUS,	/* status other than 200, including every 3xx: redirects are never followed */
	FETCH_CONTENT_TYPE,	/* not text/plain (parameters like charset allowed) */
	FETCH_TOO_BIG,		/* body over body_max */
	FETCH_TIMEOUT,		/* HTTPS phase ran out of time */
	FETCH_ERROR,		/* anything else; detail says what */
};

/*
 * One finished request, valid only during the callback: copy what you
 * keep.  Absent fields are NULL/0.
 */
struct fetch_result {
	enum fetch_kind		 kind;
	const char		*domain;	/* lower case, no trailing dot; as given if invalid */
	void			*cookie;	/* the caller's, untouched */
	enum fetch_status	 status;
	char			 detail[256];	/* short, printable ASCII */
	/* FETCH_TXT + FETCH_OK: each RR, character-strings concatenated (may hold NUL) */
	const char *const	*txt;
	const size_t		*txt_lens;
	size_t			 ntxt;
	/* FETCH_POLICY: */
	long			 http_status;	/* 0: no response */
	const char		*content_type;	/* header as served; NULL: absent (accepted) */
	const uint8_t		*body;		/* only with FETCH_OK */
	size_t			 body_len;
};

struct fetcher;

/*
 * Makes a fetcher.  Returns NULL and a message in err on a bad option or a
 * library failure.  Free with fetcher_free().
 */
struct fetcher	*fetcher_new(const struct fetch_opts *, char *err, size_t errlen);

/*
 * Queue a TXT query for _mta-sts.<domain>, or a policy fetch from
 * mta-sts.<domain>.  The domain is checked first (LDH labels, lengths;
 * one trailing dot and upper case accepted); a bad one gives a FETCH_ERROR
 * result at the next poll and sends nothing.  Returns false, queueing
 * nothing, when FETCH_PENDING_MAX requests are held or memory runs out.
 */
bool		 fetcher_txt(struct fetcher *, const char *domain, void *cookie);
bool		 fetcher_policy(struct fetcher *, const char *domain, void *cookie);

/*
 * Does pending work, waiting at most timeout_ms (0: never blocks) and
 * returning early once something finished; calls cb for each finished
 * request.  cb may queue new requests but must not free the fetcher.
 * Returns how many requests remain pending.
 */
size_t		 fetcher_poll(struct fetcher *, int timeout_ms,
		    void (*cb)(void *ctx, const struct fetch_result *), void *ctx);

/* Cancels what is pending, without callbacks, and frees.  NULL is a no-op. */
void		 fetcher_free(struct fetcher *);

/* Stable name of a status, the enum constant's ("FETCH_OK", ...). */
const char	*fetch_status_name(enum fetch_status);

#endif
