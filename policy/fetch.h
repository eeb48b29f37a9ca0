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

/* Limits.  Each one hit is a result status or a refused request. */
#define FETCH_PENDING_MAX	64		/* requests held; more are refused */
#define FETCH_TIMEOUT_MS	10000		/* default per phase, DNS and HTTPS, ms */
#define FETCH_BODY_DEFAULT	65536		/* body cap, bytes (RFC 8461 3.3) */
#define FETCH_BODY_LIMIT	(1024 * 1024)	/* largest body_max, bytes */
#define FETCH_TXT_RR_MAX	64		/* TXT RRs per answer; more: error */
#define FETCH_ADDR_MAX		8		/* policy host addresses per family */
#define FETCH_NAME_MAX		253		/* domain, text, no trailing dot */

/*
 * Memory held is bounded by FETCH_PENDING_MAX times (body_max + one DNS
 * answer, 64 KiB at most), plus what libcurl and OpenSSL keep per
 * connection.  Given trust (ca_file, ca_path) replaces the system store
 * whole: a NULL half is not filled in from the defaults.
 */
struct fetch_opts {
	const char	*dns_server;	/* "ADDR" or "ADDR@PORT"; NULL: resolv.conf */
	const char	*ca_file;	/* PEM bundle for HTTPS */
	const char	*ca_path;	/* hashed directory; both NULL: system store */
	const char	*dnssec_ta_file; /* DS/DNSKEY lines; NULL: no validation */
	unsigned	 https_port;	/* 0: 443; tests only, see below */
	long		 timeout_ms;	/* per phase, DNS and HTTPS; 0: default */
	size_t		 body_max;	/* bytes; 0: FETCH_BODY_DEFAULT */
};
/*
 * https_port: for test harnesses only.  The fetch connects to this port
 * (CURLOPT_CONNECT_TO); the URL, Host, SNI and the name checked stay
 * https://mta-sts.<domain>/...
 */

enum fetch_kind {
	FETCH_TXT,		/* _mta-sts.<domain> TXT */
	FETCH_POLICY,		/* https://mta-sts.<domain>/.well-known/mta-sts.txt */
};

/*
 * For the checklist's outcome codes (mta-sts-checklist.md 0.1): a TXT
 * FETCH_NO_RECORD is NOPOLICY; FETCH_DNS_TEMPFAIL and FETCH_DNS_BOGUS are
 * DNS_TEMPFAIL (keep the cache); for a policy, FETCH_WEBPKI is
 * WEBPKI_INVALID (RFC 8460 sts-webpki-invalid) and every other failure
 * is FETCH_ERROR (sts-policy-fetch-error).
 */
enum fetch_status {
	FETCH_OK,
	/* TXT: NXDOMAIN or no TXT data (policy: host does not resolve) */
	FETCH_NO_RECORD,
	/* SERVFAIL, timeout, refused: not evidence of absence */
	FETCH_DNS_TEMPFAIL,
	/* DNSSEC validation failed (only when validating) */
	FETCH_DNS_BOGUS,
	/* TCP connect failed */
	FETCH_CONNECT,
	/* certificate not valid for mta-sts.<domain> or not trusted
	   (RFC 8460 sts-webpki-invalid) */
	FETCH_WEBPKI,
	/* TLS handshake failed otherwise (version < 1.2 ...) */
	FETCH_TLS,
	/* status other than 200, including every 3xx: redirects are never
	   followed */
	FETCH_HTTP_STATUS,
	/* not text/plain (parameters like charset allowed); an absent
	   Content-Type is accepted, with a note in detail */
	FETCH_CONTENT_TYPE,
	/* body over body_max */
	FETCH_TOO_BIG,
	/* the HTTPS phase ran out of time */
	FETCH_TIMEOUT,
	/* anything else, a bad domain name included; detail says what */
	FETCH_ERROR,
};

/*
 * One finished request, valid only during the callback: copy what you
 * keep.  Absent fields are NULL/0.
 */
struct fetch_result {
	enum fetch_kind	 kind;
	const char	*domain;	/* lower case, no root dot; bad: as given */
	void		*cookie;	/* the caller's, untouched */
	enum fetch_status status;
	char		 detail[256];	/* short, printable ASCII */
	/* FETCH_TXT, FETCH_OK: each RR, its strings concatenated (NUL too) */
	const char *const *txt;
	const size_t	*txt_lens;
	size_t		 ntxt;
	/* FETCH_POLICY: */
	long		 http_status;	/* 0: no response */
	const char	*content_type;	/* as served; NULL: none (accepted) */
	const uint8_t	*body;		/* only with FETCH_OK */
	size_t		 body_len;
};

struct fetcher;

/*
 * Makes a fetcher.  Returns NULL and a message in err on a bad option or a
 * library failure.  Free with fetcher_free().
 */
struct fetcher *fetcher_new(const struct fetch_opts *, char *err,
	    size_t errlen);

/*
 * Queue a TXT query for _mta-sts.<domain>, or a policy fetch from
 * mta-sts.<domain>.  The domain is checked first (LDH labels, lengths;
 * one trailing dot and upper case accepted); a bad one gives a FETCH_ERROR
 * result at the next poll and sends nothing.  Returns false, queueing
 * nothing, when FETCH_PENDING_MAX requests are held.
 */
bool	fetcher_txt(struct fetcher *, const char *domain, void *cookie);
bool	fetcher_policy(struct fetcher *, const char *domain, void *cookie);

/*
 * Does pending work, waiting at most timeout_ms (0: never blocks) and
 * returning early once something finished; calls cb for each finished
 * request.  cb may queue new requests but must not poll or free the
 * fetcher.  Returns how many requests remain pending.
 */
size_t	fetcher_poll(struct fetcher *, int timeout_ms,
	    void (*cb)(void *ctx, const struct fetch_result *), void *ctx);

/* Cancels what is pending, without callbacks, and frees.  NULL is a no-op. */
void	fetcher_free(struct fetcher *);

/* Stable name of a status, the enum constant's ("FETCH_OK", ...). */
const char *fetch_status_name(enum fetch_status);

#endif
