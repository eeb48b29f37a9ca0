/*
 * fetch.c - asynchronous MTA-STS discovery over libunbound and libcurl
 * (RFC 8461 sections 3.1-3.3, 7.1, 7.2; RFC 8460 section 4.3).
 *
 * A request lives in one of FETCH_PENDING_MAX fixed slots and moves
 * DNS -> (HTTP ->) DONE.  DNS answers arrive from libunbound's resolver
 * thread through its pipe; the HTTPS transfer runs in a libcurl multi
 * handle that is only ever driven from fetcher_poll(), so the caller's
 * thread does all the work and sees every callback.
 *
 * The policy host's A and AAAA records are looked up through the same
 * libunbound context and handed to curl with CURLOPT_RESOLVE: curl's own
 * (blocking, resolv.conf-bound) resolver is never used.  The addresses go
 * into a per-request DNS share so they die with the request instead of
 * piling up in the multi handle's cache.
 *
 * Certificate names are checked by OpenSSL against DNS-IDs only, with
 * whole-label wildcards (RFC 8461 3.3): curl alone would fall back to
 * the subject CN when a certificate has no DNS SAN.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unbound.h>

#include "policy/fetch.h"

#define POLICY_PATH	"/.well-known/mta-sts.txt"
#define TYPE_A		1
#define TYPE_TXT	16
#define TYPE_AAAA	28
#define CLASS_IN	1

enum req_state {
	REQ_FREE,
	REQ_DNS,		/* waiting for libunbound */
	REQ_HTTP,		/* transfer in the multi handle */
	REQ_DONE,		/* result ready, not yet delivered */
};

struct fetch_req;

/* One libunbound lookup. */
struct fetch_query {
	struct fetch_req	*req;
	int			 id;	/* libunbound async id */
	bool			 busy;	/* callback still to come */
	bool			 done;	/* err and res are set */
	int			 err;	/* libunbound error; 0: res valid */
	struct ub_result	*res;
};

struct fetch_req {
	struct fetcher		*f;
	enum req_state		 state;
	enum fetch_kind		 kind;
	void			*cookie;
	char			 domain[FETCH_NAME_MAX + 1];
	char			 host[FETCH_NAME_MAX + 1]; /* name looked up */
	uint64_t		 deadline;	/* DNS phase end, monotonic ms */
	struct fetch_query	 q[2];		/* TXT; or A, AAAA */
	int			 nq;
	CURL			*easy;
	CURLSH			*share;		/* CURLOPT_RESOLVE entry's cache */
	struct curl_slist	*resolve;
	struct curl_slist	*connect_to;
	uint8_t			*body;
	size_t			 body_len;
	size_t			 body_cap;
	/* Why body_write() stopped the transfer; FETCH_OK: it did not. */
	enum fetch_status	 abort_status;
	bool			 headers_seen;
	bool			 discard;	/* status not 200: body not kept */
	size_t			 discarded;	/* its bytes, up to body_max */
	char			 errbuf[CURL_ERROR_SIZE];
	char			*txt_buf;	/* TXT records, NUL after each */
	const char		**txt;
	size_t			*txt_lens;
	struct fetch_result	 res;
};

struct fetcher {
	struct ub_ctx		*ub;
	CURLM			*multi;
	char			*ca_file;
	char			*ca_path;
	unsigned		 port;		/* HTTPS port connected to */
	long			 timeout_ms;
	size_t			 body_max;
	struct fetch_req	 slots[FETCH_PENDING_MAX];
};

static const char *const status_names[] = {
	[FETCH_OK] = "FETCH_OK",
	[FETCH_NO_RECORD] = "FETCH_NO_RECORD",
	[FETCH_DNS_TEMPFAIL] = "FETCH_DNS_TEMPFAIL",
	[FETCH_DNS_BOGUS] = "FETCH_DNS_BOGUS",
	[FETCH_CONNECT] = "FETCH_CONNECT",
	[FETCH_WEBPKI] = "FETCH_WEBPKI",
	[FETCH_TLS] = "FETCH_TLS",
	[FETCH_HTTP_STATUS] = "FETCH_HTTP_STATUS",
	[FETCH_CONTENT_TYPE] = "FETCH_CONTENT_TYPE",
	[FETCH_TOO_BIG] = "FETCH_TOO_BIG",
	[FETCH_TIMEOUT] = "FETCH_TIMEOUT",
	[FETCH_ERROR] = "FETCH_ERROR",
};

const char *
fetch_status_name(enum fetch_status s)
{
	if ((size_t)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "FETCH_?";
	return status_names[s];
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool
ascii_ldh(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/*
 * Copies a domain name into out (FETCH_NAME_MAX + 1 bytes), lower case,
 * without its trailing dot.  Only LDH labels of 1-63 bytes that neither
 * start nor end with a hyphen: A-labels, never U-labels (RFC 8461 3.3).
 */
static bool
name_norm(const char *in, char *out)
{
	size_t len = strnlen(in, FETCH_NAME_MAX + 2), i, label = 0;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > FETCH_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		int c = (unsigned char)in[i];

		if (c == '.') {
			if (label == 0 || out[i - 1] == '-')
				return false;
			label = 0;
		} else if (ascii_ldh(c)) {
			if ((c == '-' && label == 0) || ++label > 63)
				return false;
		} else
			return false;
		out[i] = (char)ascii_lower(c);
	}
	out[len] = '\0';
	return label > 0 && out[len - 1] != '-';
}

static void	detail_set(struct fetch_req *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Printable ASCII only: details end up in logs and the database. */
static void
detail_set(struct fetch_req *r, const char *fmt, ...)
{
	char *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->res.detail, sizeof(r->res.detail), fmt, ap);
	va_end(ap);
	for (p = r->res.detail; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
}

static void
finish(struct fetch_req *r, enum fetch_status s)
{
	r->res.status = s;
	r->state = REQ_DONE;
}

/* Drops a lookup.  An answer already on its way is freed on arrival. */
static void
query_drop(struct fetcher *f, struct fetch_query *q)
{
	if (q->busy && ub_cancel(f->ub, q->id) == 0)
		q->busy = false;
	if (q->res != NULL)
		ub_resolve_free(q->res);
	q->res = NULL;
	q->done = false;
}

/* Frees what a request holds and returns its slot. */
static void
req_clear(struct fetcher *f, struct fetch_req *r)
{
	int i;

	for (i = 0; i < r->nq; i++)
		query_drop(f, &r->q[i]);
	if (r->easy != NULL) {
		curl_multi_remove_handle(f->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	if (r->share != NULL)
		curl_share_cleanup(r->share);
	curl_slist_free_all(r->resolve);
	curl_slist_free_all(r->connect_to);
	free(r->body);
	free(r->txt_buf);
	free(r->txt);
	free(r->txt_lens);
	r->easy = NULL;
	r->share = NULL;
	r->resolve = r->connect_to = NULL;
	r->body = NULL;
	r->txt_buf = NULL;
	r->txt = NULL;
	r->txt_lens = NULL;
	r->nq = 0;
	r->state = REQ_FREE;
}

static void
dns_done(void *arg, int err, struct ub_result *res)
{
	struct fetch_query *q = arg;

	q->busy = false;
	if (q->req->state != REQ_DNS) {
		/* Timed out or cancelled and ub_cancel() lost the race. */
		if (res != NULL)
			ub_resolve_free(res);
		return;
	}
	q->done = true;
	q->err = err;
	q->res = res;
}

static bool
query_start(struct fetch_req *r, int i, int type)
{
	struct fetch_query *q = &r->q[i];
	int rc;

	q->req = r;
	q->busy = true;
	q->done = false;
	q->err = 0;
	q->res = NULL;
	r->nq = i + 1;
	rc = ub_resolve_async(r->f->ub, r->host, type, CLASS_IN, q, dns_done,
	    &q->id);
	if (rc != 0) {
		q->busy = false;
		detail_set(r, "resolver: %s", ub_strerror(rc));
		return false;
	}
	return true;
}

static const char *
rcode_name(int rcode)
{
	switch (rcode) {
	case 1:
		return "FORMERR";
	case 2:
		return "SERVFAIL";
	case 4:
		return "NOTIMP";
	case 5:
		return "REFUSED";
	default:
		return NULL;
	}
}

/*
 * Judges one answer.  Only NXDOMAIN and an empty NOERROR answer say the
 * data is absent (RFC 8461 3.1: absence keeps a cached policy anyway);
 * every failure to get an answer is temporary.  Details give the reason
 * before the name, which may be 253 bytes and is what gets cut.
 */
static enum fetch_status
dns_status(const struct fetch_query *q, char *buf, size_t len)
{
	const struct ub_result *res = q->res;
	const char *name;

	if (q->err != 0) {
		snprintf(buf, len, "resolver: %s", ub_strerror(q->err));
		return q->err == UB_SERVFAIL ? FETCH_DNS_TEMPFAIL : FETCH_ERROR;
	}
	if (res->bogus) {
		snprintf(buf, len, "DNSSEC bogus: %s",
		    res->why_bogus != NULL ? res->why_bogus : "?");
		return FETCH_DNS_BOGUS;
	}
	if (res->havedata)
		return FETCH_OK;
	if (res->nxdomain) {
		snprintf(buf, len, "NXDOMAIN: %s", res->qname);
		return FETCH_NO_RECORD;
	}
	if (res->rcode == 0) {
		snprintf(buf, len, "no %s data: %s",
		    res->qtype == TYPE_TXT ? "TXT" :
		    res->qtype == TYPE_A ? "A" : "AAAA", res->qname);
		return FETCH_NO_RECORD;
	}
	if ((name = rcode_name(res->rcode)) != NULL)
		snprintf(buf, len, "%s: %s", name, res->qname);
	else
		snprintf(buf, len, "rcode %d: %s", res->rcode, res->qname);
	return FETCH_DNS_TEMPFAIL;
}

/*
 * Copies the TXT records out of the answer, each RR's character-strings
 * concatenated without separators (RFC 8461 3.1).
 */
static enum fetch_status
txt_extract(struct fetch_req *r, const struct ub_result *res)
{
	size_t n, i, total = 0, pos = 0;

	for (n = 0; res->data[n] != NULL; n++) {
		if (n == FETCH_TXT_RR_MAX) {
			detail_set(r, "more than %d TXT records",
			    FETCH_TXT_RR_MAX);
			return FETCH_ERROR;
		}
		total += (size_t)res->len[n] + 1;
	}
	r->txt_buf = malloc(total);
	r->txt = calloc(n, sizeof(*r->txt));
	r->txt_lens = calloc(n, sizeof(*r->txt_lens));
	if (r->txt_buf == NULL || r->txt == NULL || r->txt_lens == NULL) {
		detail_set(r, "out of memory");
		return FETCH_ERROR;
	}
	for (i = 0; i < n; i++) {
		const uint8_t *d = (const uint8_t *)res->data[i];
		size_t len = (size_t)res->len[i], off = 0;

		r->txt[i] = r->txt_buf + pos;
		while (off < len) {
			size_t sl = d[off++];

			/* libunbound checked the RR; this guards our copy. */
			if (len - off < sl) {
				detail_set(r, "malformed TXT rdata");
				return FETCH_ERROR;
			}
			memcpy(r->txt_buf + pos, d + off, sl);
			pos += sl;
			off += sl;
		}
		r->txt_lens[i] = (size_t)(r->txt_buf + pos - r->txt[i]);
		r->txt_buf[pos++] = '\0';
	}
	r->res.txt = r->txt;
	r->res.txt_lens = r->txt_lens;
	r->res.ntxt = n;
	return FETCH_OK;
}

static void
txt_finish(struct fetch_req *r)
{
	char d[sizeof(r->res.detail)];
	enum fetch_status s;

	if ((s = dns_status(&r->q[0], d, sizeof(d))) == FETCH_OK)
		s = txt_extract(r, r->q[0].res);
	else
		detail_set(r, "%s", d);
	finish(r, s);
}

/* Appends the answer's addresses to buf as CURLOPT_RESOLVE wants them. */
static size_t
addr_list(const struct ub_result *res, char *buf, size_t len, size_t used)
{
	char a[INET6_ADDRSTRLEN];
	int i, n = 0;

	for (i = 0; res->data[i] != NULL && n < FETCH_ADDR_MAX; i++) {
		int af = res->len[i] == 4 ? AF_INET :
		    res->len[i] == 16 ? AF_INET6 : 0;
		int w;

		if (af == 0 || inet_ntop(af, res->data[i], a, sizeof(a)) ==
		    NULL)
			continue;
		w = snprintf(buf + used, len - used, af == AF_INET6 ?
		    "%s[%s]" : "%s%s", used > 0 ? "," : "", a);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
		n++;
	}
	return used;
}

/* Matches "text/plain" with any parameters, case-insensitively (RFC 2045). */
static bool
type_is_text_plain(const char *ct)
{
	static const char want[] = "text/plain";
	size_t i;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	for (i = 0; want[i] != '\0'; i++)
		if (ascii_lower((unsigned char)ct[i]) != want[i])
			return false;
	for (ct += i; *ct == ' ' || *ct == '\t'; ct++)
		continue;
	return *ct == '\0' || *ct == ';';
}

/*
 * Judges status line and media type once the headers are in.  A 3xx is
 * a failure like any other status: redirects MUST NOT be followed (3.3).
 */
static enum fetch_status
headers_check(struct fetch_req *r)
{
	long code = 0;
	char *ct = NULL, *loc = NULL;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
	if (code != 200) {
		curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &loc);
		if (loc != NULL)
			detail_set(r, "HTTP %ld, redirect to %s not followed",
			    code, loc);
		else
			detail_set(r, "HTTP %ld", code);
		return FETCH_HTTP_STATUS;
	}
	if (ct == NULL) {
		/* RFC 8461 leaves this open; the caller may lint it. */
		detail_set(r, "no Content-Type");
		return FETCH_OK;
	}
	if (!type_is_text_plain(ct)) {
		detail_set(r, "Content-Type %s", ct);
		return FETCH_CONTENT_TYPE;
	}
	return FETCH_OK;
}

static size_t
body_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch_req *r = arg;
	size_t len = size * nmemb, cap;
	uint8_t *p;
	enum fetch_status s;

	if (!r->headers_seen) {
		r->headers_seen = true;
		s = headers_check(r);
		if (s == FETCH_CONTENT_TYPE) {
			r->abort_status = s;
			return 0;
		}
		/*
		 * A refused status: read on (bounded) so the transfer ends
		 * normally and curl works out where a redirect pointed.
		 */
		r->discard = s == FETCH_HTTP_STATUS;
	}
	if (r->discard) {
		if (len > r->f->body_max - r->discarded) {
			r->abort_status = FETCH_HTTP_STATUS;
			return 0;
		}
		r->discarded += len;
		return len;
	}
	if (len > r->f->body_max - r->body_len) {
		r->abort_status = FETCH_TOO_BIG;
		detail_set(r, "body over %zu bytes", r->f->body_max);
		return 0;
	}
	if (len > r->body_cap - r->body_len) {
		cap = r->body_cap > 0 ? r->body_cap : 4096;
		while (cap < r->body_len + len)
			cap *= 2;
		if (cap > r->f->body_max)
			cap = r->f->body_max;
		if ((p = realloc(r->body, cap)) == NULL) {
			r->abort_status = FETCH_ERROR;
			detail_set(r, "out of memory");
			return 0;
		}
		r->body = p;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	return len;
}

/*
 * RFC 8461 3.3: the certificate must be valid for the policy host, by
 * DNS-ID only; a wildcard only as the whole left-most label.
 */
static CURLcode
ssl_ctx_setup(CURL *easy, void *sslctx, void *arg)
{
	struct fetch_req *r = arg;
	X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(sslctx);

	(void)easy;
	X509_VERIFY_PARAM_set_hostflags(vp,
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (X509_VERIFY_PARAM_set1_host(vp, r->host, 0) != 1)
		return CURLE_SSL_CERTPROBLEM;
	return CURLE_OK;
}

#define SET(opt, val) do {						\
	if ((rc = curl_easy_setopt(e, opt, val)) != CURLE_OK)		\
		return rc;						\
} while (0)

static CURLcode
easy_setup(struct fetch_req *r, const char *url)
{
	struct fetcher *f = r->f;
	CURL *e = r->easy;
	CURLcode rc;

	SET(CURLOPT_PRIVATE, r);
	SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "https");
#else
	SET(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SHARE, r->share);
	SET(CURLOPT_RESOLVE, r->resolve);
	if (r->connect_to != NULL)
		SET(CURLOPT_CONNECT_TO, r->connect_to);
	/* Proxies from the environment would bypass the addresses above. */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_setup);
	SET(CURLOPT_SSL_CTX_DATA, r);
	if (f->ca_file != NULL || f->ca_path != NULL) {
		/* Given trust replaces the system store, both halves. */
		SET(CURLOPT_CAINFO, f->ca_file);
		SET(CURLOPT_CAPATH, f->ca_path);
	}
	/* Each fetch verifies afresh: no resumed session, no kept socket. */
	SET(CURLOPT_SSL_SESSIONID_CACHE, 0L);
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);
	SET(CURLOPT_USERAGENT, "stripwatch-mta-sts/1");
	SET(CURLOPT_TIMEOUT_MS, f->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, f->timeout_ms);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->body_max);
	SET(CURLOPT_WRITEFUNCTION, body_write);
	SET(CURLOPT_WRITEDATA, r);
	SET(CURLOPT_ERRORBUFFER, r->errbuf);
	return CURLE_OK;
}

#undef SET

/* Starts the HTTPS transfer to the addresses in addrs. */
static void
http_start(struct fetch_req *r, const char *addrs)
{
	struct fetcher *f = r->f;
	char url[FETCH_NAME_MAX + sizeof("https://" POLICY_PATH)];
	char line[FETCH_NAME_MAX + 2 * FETCH_ADDR_MAX * 50 + 32];
	CURLcode rc;

	snprintf(url, sizeof(url), "https://%s%s", r->host, POLICY_PATH);
	snprintf(line, sizeof(line), "%s:%u:%s", r->host, f->port, addrs);
	if ((r->resolve = curl_slist_append(NULL, line)) == NULL)
		goto nomem;
	if (f->port != 443) {
		/* Keep the URL, Host, SNI and name check; change the port. */
		snprintf(line, sizeof(line), "%s:443::%u", r->host, f->port);
		if ((r->connect_to = curl_slist_append(NULL, line)) == NULL)
			goto nomem;
	}
	if ((r->easy = curl_easy_init()) == NULL ||
	    (r->share = curl_share_init()) == NULL)
		goto nomem;
	if (curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) !=
	    CURLSHE_OK) {
		detail_set(r, "curl share setup failed");
		finish(r, FETCH_ERROR);
		return;
	}
	r->errbuf[0] = '\0';
	if ((rc = easy_setup(r, url)) != CURLE_OK) {
		detail_set(r, "curl setup: %s", curl_easy_strerror(rc));
		finish(r, FETCH_ERROR);
		return;
	}
	if (curl_multi_add_handle(f->multi, r->easy) != CURLM_OK) {
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
		detail_set(r, "curl multi add failed");
		finish(r, FETCH_ERROR);
		return;
	}
	r->state = REQ_HTTP;
	return;
nomem:
	detail_set(r, "out of memory");
	finish(r, FETCH_ERROR);
}

/*
 * Both address lookups are in.  Any bogus answer fails the fetch: a
 * forged AAAA is no better for being next to a good A.  Otherwise one
 * answer with addresses is enough; absence needs both to say so.
 */
static void
policy_dns_finish(struct fetch_req *r)
{
	char d[2][sizeof(r->res.detail)], addrs[2 * FETCH_ADDR_MAX * 50];
	enum fetch_status s[2];
	size_t used = 0;
	int i;

	for (i = 0; i < 2; i++)
		s[i] = dns_status(&r->q[i], d[i], sizeof(d[i]));
	for (i = 0; i < 2; i++)
		if (s[i] == FETCH_OK)
			used = addr_list(r->q[i].res, addrs, sizeof(addrs),
			    used);
	addrs[used] = '\0';
	if (s[0] == FETCH_DNS_BOGUS || s[1] == FETCH_DNS_BOGUS) {
		i = s[0] == FETCH_DNS_BOGUS ? 0 : 1;
		detail_set(r, "%s", d[i]);
		finish(r, FETCH_DNS_BOGUS);
	} else if (used > 0)
		http_start(r, addrs);
	else if (s[0] == FETCH_OK || s[1] == FETCH_OK) {
		detail_set(r, "no usable address: %s", r->host);
		finish(r, FETCH_ERROR);
	} else {
		for (i = 0; i < 2; i++)
			if (s[i] == FETCH_DNS_TEMPFAIL || s[i] == FETCH_ERROR)
				break;
		if (i == 2)
			i = 0;
		detail_set(r, "%s", d[i]);
		finish(r, s[i]);
	}
	for (i = 0; i < 2; i++)
		query_drop(r->f, &r->q[i]);
}

static void
dns_check(struct fetcher *f, struct fetch_req *r, uint64_t now)
{
	int i;

	for (i = 0; i < r->nq; i++)
		if (!r->q[i].done)
			break;
	if (i == r->nq) {
		if (r->kind == FETCH_TXT)
			txt_finish(r);
		else
			policy_dns_finish(r);
		return;
	}
	if (now < r->deadline)
		return;
	for (i = 0; i < r->nq; i++)
		query_drop(f, &r->q[i]);
	detail_set(r, "DNS timeout after %ld ms: %s", f->timeout_ms, r->host);
	finish(r, FETCH_DNS_TEMPFAIL);
}

static enum fetch_status
curl_status(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return FETCH_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return FETCH_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:	/* also CURLE_SSL_CACERT */
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return FETCH_WEBPKI;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CIPHER:
		return FETCH_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return FETCH_TOO_BIG;
	default:
		return FETCH_ERROR;
	}
}

static void
http_finish(struct fetcher *f, struct fetch_req *r, CURLcode rc)
{
	enum fetch_status s;
	char *ct = NULL;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->res.http_status);
	curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
	r->res.content_type = ct;
	curl_multi_remove_handle(f->multi, r->easy);
	if (r->discard || (rc == CURLE_FILESIZE_EXCEEDED &&
	    r->res.http_status != 200))
		s = headers_check(r);	/* the status says it all */
	else if (r->abort_status != FETCH_OK)
		s = r->abort_status;	/* detail set when it stopped */
	else if (rc != CURLE_OK) {
		s = curl_status(rc);
		if (s == FETCH_TOO_BIG)
			detail_set(r, "body over %zu bytes", f->body_max);
		else
			detail_set(r, "%s", r->errbuf[0] != '\0' ? r->errbuf :
			    curl_easy_strerror(rc));
	} else if (!r->headers_seen)
		s = headers_check(r);	/* an empty body */
	else
		s = FETCH_OK;
	if (s == FETCH_OK) {
		r->res.body = r->body != NULL ? r->body : (const uint8_t *)"";
		r->res.body_len = r->body_len;
	}
	finish(r, s);
}

/* One round of work that never blocks. */
static void
work(struct fetcher *f)
{
	struct fetch_req *r;
	CURLMsg *m;
	uint64_t now;
	void *p;
	int running, left, i;

	if (ub_poll(f->ub))
		ub_process(f->ub);
	now = now_ms();
	for (i = 0; i < FETCH_PENDING_MAX; i++)
		if (f->slots[i].state == REQ_DNS)
			dns_check(f, &f->slots[i], now);
	curl_multi_perform(f->multi, &running);
	while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		p = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
		if ((r = p) != NULL && r->state == REQ_HTTP)
			http_finish(f, r, m->data.result);
	}
}

static size_t
deliver(struct fetcher *f, void (*cb)(void *, const struct fetch_result *),
    void *ctx)
{
	struct fetch_req *r;
	size_t n = 0;
	int i;

	for (i = 0; i < FETCH_PENDING_MAX; i++) {
		r = &f->slots[i];
		if (r->state != REQ_DONE)
			continue;
		r->res.kind = r->kind;
		r->res.domain = r->domain;
		r->res.cookie = r->cookie;
		if (cb != NULL)
			cb(ctx, &r->res);
		req_clear(f, r);
		n++;
	}
	return n;
}

static size_t
pending(const struct fetcher *f, uint64_t *deadline)
{
	size_t n = 0;
	int i;

	*deadline = UINT64_MAX;
	for (i = 0; i < FETCH_PENDING_MAX; i++) {
		const struct fetch_req *r = &f->slots[i];

		if (r->state == REQ_FREE)
			continue;
		n++;
		if (r->state == REQ_DONE)
			*deadline = 0;
		else if (r->state == REQ_DNS && r->deadline < *deadline)
			*deadline = r->deadline;
	}
	return n;
}

size_t
fetcher_poll(struct fetcher *f, int timeout_ms,
    void (*cb)(void *, const struct fetch_result *), void *ctx)
{
	struct curl_waitfd wfd;
	uint64_t end, now, deadline, wait;
	size_t n;

	end = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		work(f);
		if (deliver(f, cb, ctx) > 0)
			break;
		if ((n = pending(f, &deadline)) == 0 || (now = now_ms()) >= end)
			break;
		wait = end - now;
		if (deadline <= now)
			wait = 0;
		else if (deadline - now < wait)
			wait = deadline - now;
		wfd.fd = ub_fd(f->ub);
		wfd.events = CURL_WAIT_POLLIN;
		wfd.revents = 0;
		/* Also returns early when curl's own timers are due. */
		curl_multi_poll(f->multi, &wfd, 1, (int)wait, NULL);
	}
	return pending(f, &deadline);
}

/* A free slot: no request, and no late libunbound answer still owed to it. */
static struct fetch_req *
slot_get(struct fetcher *f)
{
	struct fetch_req *r;
	int i;

	for (i = 0; i < FETCH_PENDING_MAX; i++) {
		r = &f->slots[i];
		if (r->state == REQ_FREE && !r->q[0].busy && !r->q[1].busy) {
			memset(&r->res, 0, sizeof(r->res));
			r->f = f;
			r->body_len = r->body_cap = 0;
			r->abort_status = FETCH_OK;
			r->headers_seen = false;
			r->discard = false;
			r->discarded = 0;
			r->nq = 0;
			return r;
		}
	}
	return NULL;
}

static bool
submit(struct fetcher *f, enum fetch_kind kind, const char *domain,
    void *cookie)
{
	const char *prefix = kind == FETCH_TXT ? "_mta-sts." : "mta-sts.";
	struct fetch_req *r;
	int w;

	if ((r = slot_get(f)) == NULL)
		return false;
	r->kind = kind;
	r->cookie = cookie;
	if (!name_norm(domain, r->domain) ||
	    (w = snprintf(r->host, sizeof(r->host), "%s%s", prefix,
	    r->domain)) < 0 || (size_t)w >= sizeof(r->host)) {
		/* Report the name as given, cut to size; nothing is sent. */
		snprintf(r->domain, sizeof(r->domain), "%s", domain);
		detail_set(r, "invalid domain name");
		finish(r, FETCH_ERROR);
		return true;
	}
	r->state = REQ_DNS;
	r->deadline = now_ms() + (uint64_t)f->timeout_ms;
	if (kind == FETCH_TXT ? !query_start(r, 0, TYPE_TXT) :
	    !query_start(r, 0, TYPE_A) || !query_start(r, 1, TYPE_AAAA)) {
		query_drop(f, &r->q[0]);
		finish(r, FETCH_ERROR);
	}
	return true;
}

bool
fetcher_txt(struct fetcher *f, const char *domain, void *cookie)
{
	return submit(f, FETCH_TXT, domain, cookie);
}

bool
fetcher_policy(struct fetcher *f, const char *domain, void *cookie)
{
	return submit(f, FETCH_POLICY, domain, cookie);
}

static bool
ub_setup(struct fetcher *f, const struct fetch_opts *o, char *err,
    size_t errlen)
{
	int rc;

	if ((f->ub = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "libunbound: cannot create context");
		return false;
	}
	/* A thread, not the default forked process, answers queries. */
	if ((rc = ub_ctx_async(f->ub, 1)) != 0)
		goto fail;
	if (o->dns_server != NULL)
		rc = ub_ctx_set_fwd(f->ub, o->dns_server);
	else
		rc = ub_ctx_resolvconf(f->ub, NULL);
	if (rc != 0)
		goto fail;
	if (o->dnssec_ta_file != NULL) {
		/* libunbound reads it only at the first query: fail here. */
		if (access(o->dnssec_ta_file, R_OK) != 0) {
			snprintf(err, errlen, "%s: %s", o->dnssec_ta_file,
			    strerror(errno));
			return false;
		}
		if ((rc = ub_ctx_add_ta_file(f->ub, o->dnssec_ta_file)) != 0)
			goto fail;
	}
	return true;
fail:
	snprintf(err, errlen, "libunbound: %s", ub_strerror(rc));
	return false;
}

struct fetcher *
fetcher_new(const struct fetch_opts *o, char *err, size_t errlen)
{
	const curl_version_info_data *v;
	struct fetcher *f;

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl: global init failed");
		free(f);
		return NULL;
	}
	v = curl_version_info(CURLVERSION_NOW);
	/* ssl_ctx_setup() hands curl an OpenSSL SSL_CTX hook. */
	if (v->ssl_version == NULL ||
	    strncmp(v->ssl_version, "OpenSSL/", 8) != 0) {
		snprintf(err, errlen, "libcurl: TLS backend %s, need OpenSSL",
		    v->ssl_version != NULL ? v->ssl_version : "none");
		goto fail;
	}
	f->port = o->https_port != 0 ? o->https_port : 443;
	f->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : FETCH_TIMEOUT_MS;
	f->body_max = o->body_max > 0 ? o->body_max : FETCH_BODY_DEFAULT;
	if (f->port > 65535 || f->body_max > FETCH_BODY_LIMIT ||
	    f->timeout_ms > INT_MAX) {
		snprintf(err, errlen, "bad option: port %u, body_max %zu, "
		    "timeout %ld ms", f->port, f->body_max, f->timeout_ms);
		goto fail;
	}
	if ((o->ca_file != NULL && (f->ca_file = strdup(o->ca_file)) ==
	    NULL) || (o->ca_path != NULL && (f->ca_path =
	    strdup(o->ca_path)) == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!ub_setup(f, o, err, errlen))
		goto fail;
	if ((f->multi = curl_multi_init()) == NULL) {
		snprintf(err, errlen, "libcurl: cannot create multi handle");
		goto fail;
	}
	return f;
fail:
	fetcher_free(f);
	return NULL;
}

void
fetcher_free(struct fetcher *f)
{
	int i;

	if (f == NULL)
		return;
	for (i = 0; i < FETCH_PENDING_MAX; i++) {
		struct fetch_req *r = &f->slots[i];

		if (r->state != REQ_FREE || r->q[0].busy || r->q[1].busy) {
			/* ub_ctx_delete() below drops lookups unanswered. */
			r->q[0].busy = r->q[1].busy = false;
			req_clear(f, r);
		}
	}
	if (f->ub != NULL)
		ub_ctx_delete(f->ub);
	if (f->multi != NULL)
		curl_multi_cleanup(f->multi);
	free(f->ca_file);
	free(f->ca_path);
	free(f);
	curl_global_cleanup();
}
