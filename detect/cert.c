/*
 * cert.c - X.509 judgement of observed chains (RFC 5280, RFC 6125, RFC
 * 8461 4.2) with OpenSSL.
 *
 * Verification runs with the packet's time, so a replay judges a chain as
 * it stood when it crossed the wire.  The verify callback never stops at
 * the first error: an expired certificate from an unknown issuer is both
 * expired and untrusted, and the analyst is told both.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"

/*
 * A verdict depends on the chain's bytes, the name, and the time only
 * through the validity bounds of the certificates the path used, so a
 * verdict is reused for the same chain and name at any time no bound
 * separates from the time it was reached at.  Mail servers present the
 * same chain to every client: this saves a decode and a verification
 * per session.
 */
#define CERT_CACHE_SLOTS	256	/* direct-mapped by key */
#define CERT_CACHE_BOUNDS	(2 * (CERT_CHAIN_MAX + 8))

struct cert_cached {
	uint8_t		 key[32];	/* SHA-256 of the name and the chain */
	int64_t		 at;		/* seconds it was judged at */
	size_t		 nbounds;
	int64_t		 bounds[CERT_CACHE_BOUNDS];
	size_t		 idx[CERT_CHAIN_MAX];	/* info[k] came from der[idx[k]] */
	struct cert_verdict v;
};

struct cert_store {
	X509_STORE	*store;
	pthread_mutex_t	 lock;		/* the cache: workers share the store */
	bool		 system;	/* the system's trust, not loaded yet */
	struct cert_cached *cache[CERT_CACHE_SLOTS];
};

/* What the verify callback saw, reached through the context's app data. */
struct verify_state {
	unsigned	problems;
	int		first_error;	/* other than time, 0 if none */
};

struct cert_store *
cert_store_new(const char *ca_file, const char *ca_path, char *err,
    size_t errlen)
{
	struct cert_store *cs;

	if ((cs = calloc(1, sizeof(*cs))) == NULL ||
	    (cs->store = X509_STORE_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(cs);
		return NULL;
	}
	pthread_mutex_init(&cs->lock, NULL);
	/*
	 * Parsing the system's bundle takes ~20 ms: left to the first
	 * chain, so a capture without one (and every short run) is spared.
	 */
	if (ca_file == NULL && ca_path == NULL) {
		cs->system = true;
		return cs;
	}
	if (ca_file != NULL && X509_STORE_load_file(cs->store, ca_file) != 1) {
		snprintf(err, errlen, "%s: no usable CA certificates", ca_file);
		goto fail;
	}
	if (ca_path != NULL && X509_STORE_load_path(cs->store, ca_path) != 1) {
		snprintf(err, errlen, "%s: not a usable CA directory", ca_path);
		goto fail;
	}
	return cs;
fail:
	ERR_clear_error();
	cert_store_free(cs);
	return NULL;
}

void
cert_store_free(struct cert_store *cs)
{
	size_t i;

	if (cs == NULL)
		return;
	for (i = 0; i < CERT_CACHE_SLOTS; i++) {
		if (cs->cache[i] != NULL)
			cert_verdict_clear(&cs->cache[i]->v);
		free(cs->cache[i]);
	}
	pthread_mutex_destroy(&cs->lock);
	X509_STORE_free(cs->store);
	free(cs);
}

static void
hex(char *out, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static char empty[] = "";

/* The BIO's bytes as a string, printable ASCII guaranteed; frees the BIO. */
static char *
bio_text(BIO *b)
{
	char *p, *out;
	long n;

	if (b == NULL)
		return empty;
	n = BIO_get_mem_data(b, &p);
	if (n < 0 || (out = malloc((size_t)n + 1)) == NULL) {
		BIO_free(b);
		return empty;
	}
	if (n > 0)		/* an empty BIO has no buffer at all */
		memcpy(out, p, (size_t)n);
	out[n] = '\0';
	for (p = out; *p != '\0'; p++)	/* whatever a library let through */
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	BIO_free(b);
	return out;
}

/* Writes len wire bytes as printable ASCII: \xNN for the rest, \\ for \. */
static void
bio_esc(BIO *b, const unsigned char *in, size_t len)
{
	char hexbyte[5];
	size_t i;

	for (i = 0; i < len; i++) {
		if (in[i] == '\\')
			BIO_write(b, "\\\\", 2);
		else if (in[i] >= 0x20 && in[i] < 0x7f)
			BIO_write(b, &in[i], 1);
		else {
			snprintf(hexbyte, sizeof(hexbyte), "\\x%02x", in[i]);
			BIO_write(b, hexbyte, 4);
		}
	}
}

/*
 * RFC 2253 with every byte outside ASCII escaped as \XX by OpenSSL
 * itself: already printable, and kept as it is, so an RFC 2253 parser
 * reads it back.
 */
static char *
name_text(const X509_NAME *nm)
{
	BIO *b = BIO_new(BIO_s_mem());

	if (b != NULL && X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253) < 0)
		BIO_reset(b);
	return bio_text(b);
}

static char *
sans_text(X509 *x)
{
	GENERAL_NAMES *gens;
	char ip[INET6_ADDRSTRLEN];
	BIO *b;
	int i, n = 0;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return empty;
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s;

		if (g->type == GEN_DNS) {
			s = g->d.dNSName;
			if (n++ > 0)
				BIO_write(b, ",", 1);
			bio_esc(b, ASN1_STRING_get0_data(s),
			    (size_t)ASN1_STRING_length(s));
		} else if (g->type == GEN_IPADD) {
			s = g->d.iPAddress;
			if (ASN1_STRING_length(s) == 4)
				inet_ntop(AF_INET, ASN1_STRING_get0_data(s), ip,
				    sizeof(ip));
			else if (ASN1_STRING_length(s) == 16)
				inet_ntop(AF_INET6, ASN1_STRING_get0_data(s),
				    ip, sizeof(ip));
			else
				continue;
			if (n++ > 0)
				BIO_write(b, ",", 1);
			BIO_printf(b, "IP:%s", ip);
		}
	}
	GENERAL_NAMES_free(gens);
	return bio_text(b);
}

static void
free_text(char *p)
{
	if (p != empty)
		free(p);
}

void
cert_verdict_clear(struct cert_verdict *v)
{
	size_t i;

	for (i = 0; i < v->ncerts; i++) {
		free_text(v->info[i].subject);
		free_text(v->info[i].issuer);
		free_text(v->info[i].sans);
	}
	v->ncerts = 0;
}

static int64_t
asn1_seconds(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static void
describe(X509 *x, const uint8_t *der, size_t len, struct cert_info *ci)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_PKEY *pk;
	const char *kt;

	memset(ci, 0, sizeof(*ci));
	ci->der = der;
	ci->der_len = len;
	if (EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) == 1)
		hex(ci->sha256, md, mdlen);
	if (X509_pubkey_digest(x, EVP_sha256(), md, &mdlen) == 1)
		hex(ci->spki_sha256, md, mdlen);
	ci->subject = name_text(X509_get_subject_name(x));
	ci->issuer = name_text(X509_get_issuer_name(x));
	ci->sans = sans_text(x);
	ci->not_before = asn1_seconds(X509_get0_notBefore(x));
	ci->not_after = asn1_seconds(X509_get0_notAfter(x));
	if ((pk = X509_get0_pubkey(x)) != NULL) {
		switch (EVP_PKEY_get_base_id(pk)) {
		case EVP_PKEY_RSA:	kt = "RSA"; break;
		case EVP_PKEY_RSA_PSS:	kt = "RSA-PSS"; break;
		case EVP_PKEY_EC:	kt = "EC"; break;
		case EVP_PKEY_DSA:	kt = "DSA"; break;
		case EVP_PKEY_ED25519:	kt = "ED25519"; break;
		case EVP_PKEY_ED448:	kt = "ED448"; break;
		default:		kt = "other"; break;
		}
		snprintf(ci->key_type, sizeof(ci->key_type), "%s", kt);
		ci->key_bits = EVP_PKEY_get_bits(pk);
	}
}

/*
 * Records every complaint and lets verification go on, so that one run
 * yields all of the chain's problems.
 */
static int
verify_cb(int ok, X509_STORE_CTX *ctx)
{
	struct verify_state *st = X509_STORE_CTX_get_app_data(ctx);
	int e;

	if (ok || st == NULL)
		return ok;
	switch ((e = X509_STORE_CTX_get_error(ctx))) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		st->problems |= CERT_EXPIRED;
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		st->problems |= CERT_NOT_YET_VALID;
		break;
	default:
		st->problems |= CERT_UNTRUSTED;
		if (st->first_error == 0)
			st->first_error = e;
		break;
	}
	return 1;
}

static void
add_bound(struct cert_cached *c, int64_t b)
{
	if (c != NULL && c->nbounds < CERT_CACHE_BOUNDS)
		c->bounds[c->nbounds++] = b;
	else if (c != NULL)
		c->nbounds = CERT_CACHE_BOUNDS + 1;	/* too many: no reuse */
}

static void
verify(struct cert_store *cs, X509 *leaf, STACK_OF(X509) *rest,
    uint64_t ts_us, struct cert_verdict *v, struct cert_cached *c)
{
	STACK_OF(X509) *path;
	int k;
	struct verify_state st = { 0, 0 };
	X509_STORE_CTX *ctx = NULL;
	bool loaded;
	X509_VERIFY_PARAM *vp;

	pthread_mutex_lock(&cs->lock);
	if (cs->system && X509_STORE_set_default_paths(cs->store) == 1)
		cs->system = false;
	loaded = !cs->system;
	pthread_mutex_unlock(&cs->lock);
	if (!loaded || (ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, cs->store, leaf, rest) != 1) {
		v->problems |= CERT_UNTRUSTED;
		snprintf(v->reason, sizeof(v->reason), loaded ? "verifier "
		    "failed to start" : "cannot load the system trust store");
		X509_STORE_CTX_free(ctx);
		return;
	}
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(vp, (time_t)(ts_us / 1000000));
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	X509_STORE_CTX_set_app_data(ctx, &st);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	if (X509_verify_cert(ctx) != 1 && st.problems == 0) {
		/* Failed without passing through the callback. */
		st.problems |= CERT_UNTRUSTED;
		st.first_error = X509_STORE_CTX_get_error(ctx);
	}
	v->problems |= st.problems;
	/* The anchors too: the path's certificates bound the verdict. */
	path = X509_STORE_CTX_get0_chain(ctx);
	for (k = 0; path != NULL && k < sk_X509_num(path); k++) {
		X509 *x = sk_X509_value(path, k);

		add_bound(c, asn1_seconds(X509_get0_notBefore(x)));
		add_bound(c, asn1_seconds(X509_get0_notAfter(x)));
	}
	if (st.first_error != 0)
		snprintf(v->reason, sizeof(v->reason), "%s",
		    X509_verify_cert_error_string(st.first_error));
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
}

static char *
copy_text(const char *t)
{
	char *p;

	if (t == empty || (p = strdup(t)) == NULL)
		return empty;
	return p;
}

/* A deep copy of a verdict, der pointers from the chain at hand. */
static void
verdict_copy(struct cert_verdict *to, const struct cert_verdict *from,
    const size_t *idx, const uint8_t *const *der)
{
	size_t k;

	*to = *from;
	for (k = 0; k < from->ncerts; k++) {
		to->info[k].subject = copy_text(from->info[k].subject);
		to->info[k].issuer = copy_text(from->info[k].issuer);
		to->info[k].sans = copy_text(from->info[k].sans);
		to->info[k].der = der[idx[k]];
	}
}

static void
cache_key(const uint8_t *const *der, const size_t *lens, size_t n,
    const char *name, uint8_t key[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 0;
	uint64_t l;
	size_t i;

	memset(key, 0, 32);
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return;
	}
	l = name != NULL ? strlen(name) : 0;
	EVP_DigestUpdate(md, &l, sizeof(l));
	EVP_DigestUpdate(md, name != NULL ? name : "", (size_t)l);
	for (i = 0; i < n; i++) {
		l = lens[i];
		EVP_DigestUpdate(md, &l, sizeof(l));
		EVP_DigestUpdate(md, der[i], lens[i]);
	}
	EVP_DigestFinal_ex(md, key, &len);
	EVP_MD_CTX_free(md);
}

/* True when no bound lies between the time judged at and now. */
static bool
cache_fits(const struct cert_cached *c, int64_t now)
{
	size_t i;

	if (c->nbounds > CERT_CACHE_BOUNDS)
		return false;
	for (i = 0; i < c->nbounds; i++)
		if ((c->bounds[i] <= c->at) != (c->bounds[i] <= now) ||
		    (c->bounds[i] < c->at) != (c->bounds[i] < now))
			return false;
	return true;
}

static void judge(struct cert_store *, const uint8_t *const *,
    const size_t *, size_t, const char *, uint64_t, struct cert_verdict *,
    struct cert_cached *);

void
cert_judge(struct cert_store *cs, const uint8_t *const *der,
    const size_t *lens, size_t n, const char *name, uint64_t ts_us,
    struct cert_verdict *v)
{
	struct cert_cached *c, **slot;
	int64_t now = (int64_t)(ts_us / 1000000);
	uint8_t key[32];
	size_t i;

	if (n > CERT_CHAIN_MAX)
		n = CERT_CHAIN_MAX;
	cache_key(der, lens, n, name, key);
	slot = &cs->cache[key[0] % CERT_CACHE_SLOTS];
	pthread_mutex_lock(&cs->lock);
	if ((c = *slot) != NULL && memcmp(c->key, key, 32) == 0 &&
	    cache_fits(c, now)) {
		verdict_copy(v, &c->v, c->idx, der);
		pthread_mutex_unlock(&cs->lock);
		return;
	}
	pthread_mutex_unlock(&cs->lock);
	if ((c = calloc(1, sizeof(*c))) != NULL) {
		memcpy(c->key, key, 32);
		c->at = now;
	}
	judge(cs, der, lens, n, name, ts_us, v, c);
	if (c == NULL)
		return;
	verdict_copy(&c->v, v, c->idx, der);
	for (i = 0; i < c->v.ncerts; i++)
		c->v.info[i].der = NULL;	/* the caller's, gone after */
	pthread_mutex_lock(&cs->lock);
	if (*slot != NULL) {
		cert_verdict_clear(&(*slot)->v);
		free(*slot);
	}
	*slot = c;
	pthread_mutex_unlock(&cs->lock);
}

static void
judge(struct cert_store *cs, const uint8_t *const *der,
    const size_t *lens, size_t n, const char *name, uint64_t ts_us,
    struct cert_verdict *v, struct cert_cached *cc)
{
	STACK_OF(X509) *rest;
	X509 *x[CERT_CHAIN_MAX];
	size_t i, nx = 0;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < n; i++) {
		const unsigned char *p = der[i];
		X509 *c;

		c = lens[i] <= LONG_MAX ? d2i_X509(NULL, &p, (long)lens[i]) :
		    NULL;
		if (c == NULL || p != der[i] + lens[i]) {
			X509_free(c);	/* trailing bytes: not one DER object */
			if (i == 0) {
				v->problems = CERT_UNDECODABLE;
				snprintf(v->reason, sizeof(v->reason),
				    "the server certificate is not DER X.509");
				ERR_clear_error();
				return;
			}
			continue;	/* a broken extra: no path through it */
		}
		describe(c, der[i], lens[i], &v->info[nx]);
		add_bound(cc, v->info[nx].not_before);
		add_bound(cc, v->info[nx].not_after);
		if (cc != NULL)
			cc->idx[nx] = i;
		x[nx++] = c;
	}
	v->ncerts = nx;
	if ((rest = sk_X509_new_null()) != NULL) {
		for (i = 1; i < nx; i++)
			sk_X509_push(rest, x[i]);
		verify(cs, x[0], rest, ts_us, v, cc);
		sk_X509_free(rest);
	} else {
		v->problems |= CERT_UNTRUSTED;
		snprintf(v->reason, sizeof(v->reason), "out of memory");
	}
	/*
	 * RFC 8461 4.2: a subjectAltName DNS-ID must match; the CN is never
	 * consulted, and a wildcard only stands for one whole left-most
	 * label (no "m*.example.com").
	 */
	if (name != NULL && name[0] != '\0' &&
	    X509_check_host(x[0], name, strlen(name),
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) != 1)
		v->problems |= CERT_NAME_MISMATCH;
	for (i = 0; i < nx; i++)
		X509_free(x[i]);
	ERR_clear_error();
}
