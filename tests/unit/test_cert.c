/*
 * test_cert.c - certificate judgement: trust, validity at packet time and
 * the RFC 8461 4.2 name rules (checklist 1.7), on chains made here with
 * OpenSSL: a root CA, an intermediate, leaves with chosen names and dates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "detect/cert.h"
#include "check.h"

#define DAY	86400LL
#define NOW	1767225600LL	/* 2026-01-01, the "packet time" */
#define NOW_US	((uint64_t)NOW * 1000000)

struct made {
	X509		*x;
	EVP_PKEY	*k;
	uint8_t		*der;
	size_t		 len;
};

static EVP_PKEY *
ec_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e != NULL) {
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
}

/*
 * A certificate for cn with subjectAltName san (NULL: none), valid from
 * nb to na (seconds), signed by issuer (NULL: self-signed); ca makes it a
 * CA.
 */
static struct made
make(const char *cn, const char *san, long long nb, long long na,
    const struct made *issuer, int ca)
{
	static long serial = 1;
	struct made m;
	X509_NAME *nm;
	unsigned char *p;
	int len;

	memset(&m, 0, sizeof(m));
	m.k = ec_key();
	m.x = X509_new();
	X509_set_version(m.x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(m.x), serial++);
	ASN1_TIME_set(X509_getm_notBefore(m.x), (time_t)nb);
	ASN1_TIME_set(X509_getm_notAfter(m.x), (time_t)na);
	nm = X509_get_subject_name(m.x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(m.x, issuer != NULL ?
	    X509_get_subject_name(issuer->x) : nm);
	X509_set_pubkey(m.x, m.k);
	if (ca) {
		add_ext(m.x, issuer ? issuer->x : m.x, NID_basic_constraints,
		    "critical,CA:TRUE");
		add_ext(m.x, issuer ? issuer->x : m.x, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
	} else {
		add_ext(m.x, issuer ? issuer->x : m.x, NID_ext_key_usage,
		    "serverAuth");
	}
	if (san != NULL)
		add_ext(m.x, issuer ? issuer->x : m.x, NID_subject_alt_name,
		    san);
	X509_sign(m.x, issuer != NULL ? issuer->k : m.k, EVP_sha256());
	len = i2d_X509(m.x, NULL);
	m.der = malloc((size_t)len);
	p = m.der;
	i2d_X509(m.x, &p);
	m.len = (size_t)len;
	return m;
}

static void
unmake(struct made *m)
{
	X509_free(m->x);
	EVP_PKEY_free(m->k);
	free(m->der);
}

static struct made root, inter, other_root;
static char ca_file[] = "/tmp/test_cert_XXXXXX";

/* The trust store holds root only; inter is sent by servers. */
static void
setup(void)
{
	FILE *fp;
	int fd;

	root = make("Test Root", NULL, NOW - 1000 * DAY, NOW + 1000 * DAY,
	    NULL, 1);
	inter = make("Test Intermediate", NULL, NOW - 500 * DAY,
	    NOW + 500 * DAY, &root, 1);
	other_root = make("Other Root", NULL, NOW - 1000 * DAY,
	    NOW + 1000 * DAY, NULL, 1);
	fd = mkstemp(ca_file);
	fp = fdopen(fd, "w");
	PEM_write_X509(fp, root.x);
	fclose(fp);
}

/* Judges leaf (+ inter) for name at NOW. */
static unsigned
judge(struct cert_store *cs, const struct made *leaf, int with_inter,
    const char *name, uint64_t ts)
{
	const uint8_t *der[2] = { leaf->der, inter.der };
	size_t lens[2] = { leaf->len, inter.len };
	struct cert_verdict v;

	cert_judge(cs, der, lens, with_inter ? 2 : 1, name, ts, &v);
	cert_verdict_clear(&v);
	return v.problems;
}

static struct cert_store *
store(void)
{
	char err[256];

	return cert_store_new(ca_file, NULL, err, sizeof(err));
}

/* STS-116: SAN = MX name, trusted chain, in its dates: no problem. */
static void
sts_116(void)
{
	struct cert_store *cs = store();
	struct made l = make("mail.example.com", "DNS:mail.example.com",
	    NOW - DAY, NOW + 90 * DAY, &inter, 0);

	CHECK(cs != NULL);
	CHECK_EQ_U(judge(cs, &l, 1, "mail.example.com", NOW_US), 0);
	unmake(&l);
	cert_store_free(cs);
}

/* STS-117: *.example.com covers mail.example.com only. */
static void
sts_117(void)
{
	struct cert_store *cs = store();
	struct made l = make("wild", "DNS:*.example.com", NOW - DAY,
	    NOW + 90 * DAY, &inter, 0);

	CHECK_EQ_U(judge(cs, &l, 1, "mail.example.com", NOW_US), 0);
	CHECK_EQ_U(judge(cs, &l, 1, "a.b.example.com", NOW_US),
	    CERT_NAME_MISMATCH);
	CHECK_EQ_U(judge(cs, &l, 1, "example.com", NOW_US),
	    CERT_NAME_MISMATCH);
	unmake(&l);
	cert_store_free(cs);
}

/* STS-118: partial wildcards are not honoured. */
static void
sts_118(void)
{
	struct cert_store *cs = store();
	struct made l = make("partial", "DNS:m*.example.com", NOW - DAY,
	    NOW + 90 * DAY, &inter, 0);

	CHECK_EQ_U(judge(cs, &l, 1, "mail.example.com", NOW_US),
	    CERT_NAME_MISMATCH);
	unmake(&l);
	cert_store_free(cs);
}

/* STS-119: a wildcard not left-most, or over a public suffix. */
static void
sts_119(void)
{
	struct cert_store *cs = store();
	struct made l = make("mid", "DNS:mail.*.example.com", NOW - DAY,
	    NOW + 90 * DAY, &inter, 0);
	struct made t = make("tld", "DNS:*.com", NOW - DAY, NOW + 90 * DAY,
	    &inter, 0);

	CHECK_EQ_U(judge(cs, &l, 1, "mail.x.example.com", NOW_US),
	    CERT_NAME_MISMATCH);
	CHECK_EQ_U(judge(cs, &t, 1, "example.com", NOW_US),
	    CERT_NAME_MISMATCH);
	unmake(&l);
	unmake(&t);
	cert_store_free(cs);
}

/* STS-120: the CN alone never names the host. */
static void
sts_120(void)
{
	struct cert_store *cs = store();
	struct made l = make("mail.example.com", NULL, NOW - DAY,
	    NOW + 90 * DAY, &inter, 0);

	CHECK_EQ_U(judge(cs, &l, 1, "mail.example.com", NOW_US),
	    CERT_NAME_MISMATCH);
	unmake(&l);
	cert_store_free(cs);
}

/* STS-121: a SAN that does not match is not rescued by the CN. */
static void
sts_121(void)
{
	struct cert_store *cs = store();
	struct made l = make("mail.example.com", "DNS:other.example.com",
	    NOW - DAY, NOW + 90 * DAY, &inter, 0);

	CHECK_EQ_U(judge(cs, &l, 1, "mail.example.com", NOW_US),
	    CERT_NAME_MISMATCH);
	unmake(&l);
	cert_store_free(cs);
}

/*
 * STS-111: the chain must name the MX host itself; a name that merely
 * matches the policy's pattern too is not enough.
 */
static void
sts_111(void)
{
	struct cert_store *cs = store();
	struct made l = make("other.example.com", "DNS:other.example.com",
	    NOW - DAY, NOW + 90 * DAY, &inter, 0);

	CHECK_EQ_U(judge(cs, &l, 1, "mail.example.com", NOW_US),
	    CERT_NAME_MISMATCH);
	unmake(&l);
	cert_store_free(cs);
}

/* STS-122: IP addresses only in the SAN: no DNS-ID, no match. */
static void
sts_122(void)
{
	struct cert_store *cs = store();
	struct made l = make("mail.example.com", "IP:192.0.2.1", NOW - DAY,
	    NOW + 90 * DAY, &inter, 0);

	CHECK_EQ_U(judge(cs, &l, 1, "mail.example.com", NOW_US),
	    CERT_NAME_MISMATCH);
	unmake(&l);
	cert_store_free(cs);
}

/* STS-123: an expired leaf, and an expired intermediate, at packet time. */
static void
sts_123(void)
{
	struct cert_store *cs = store();
	struct made l = make("mail.example.com", "DNS:mail.example.com",
	    NOW - 90 * DAY, NOW - DAY, &inter, 0);
	struct made ok = make("mail.example.com", "DNS:mail.example.com",
	    NOW - 90 * DAY, NOW + 900 * DAY, &inter, 0);

	CHECK_EQ_U(judge(cs, &l, 1, "mail.example.com", NOW_US), CERT_EXPIRED);
	/* The same chain judged when it was fresh: fine (packet time). */
	CHECK_EQ_U(judge(cs, &l, 1, "mail.example.com",
	    NOW_US - 10ULL * DAY * 1000000), 0);
	/* Past the intermediate's end, though the leaf still runs. */
	CHECK(judge(cs, &ok, 1, "mail.example.com",
	    NOW_US + 600ULL * DAY * 1000000) & CERT_EXPIRED);
	unmake(&l);
	unmake(&ok);
	cert_store_free(cs);
}

/* STS-124: not yet valid at packet time. */
static void
sts_124(void)
{
	struct cert_store *cs = store();
	struct made l = make("mail.example.com", "DNS:mail.example.com",
	    NOW + DAY, NOW + 90 * DAY, &inter, 0);

	CHECK_EQ_U(judge(cs, &l, 1, "mail.example.com", NOW_US),
	    CERT_NOT_YET_VALID);
	unmake(&l);
	cert_store_free(cs);
}

/* STS-125: self-signed, unknown root, intermediate left out. */
static void
sts_125(void)
{
	struct cert_store *cs = store();
	struct made self = make("mail.example.com", "DNS:mail.example.com",
	    NOW - DAY, NOW + 90 * DAY, NULL, 0);
	struct made foreign = make("mail.example.com",
	    "DNS:mail.example.com", NOW - DAY, NOW + 90 * DAY, &other_root, 0);
	struct made l = make("mail.example.com", "DNS:mail.example.com",
	    NOW - DAY, NOW + 90 * DAY, &inter, 0);

	CHECK_EQ_U(judge(cs, &self, 0, "mail.example.com", NOW_US),
	    CERT_UNTRUSTED);
	CHECK_EQ_U(judge(cs, &foreign, 0, "mail.example.com", NOW_US),
	    CERT_UNTRUSTED);
	CHECK_EQ_U(judge(cs, &l, 0, "mail.example.com", NOW_US),
	    CERT_UNTRUSTED);
	unmake(&self);
	unmake(&foreign);
	unmake(&l);
	cert_store_free(cs);
}

/* STS-126: extra and out-of-order certificates still build the path. */
static void
sts_126(void)
{
	struct cert_store *cs = store();
	struct made l = make("mail.example.com", "DNS:mail.example.com",
	    NOW - DAY, NOW + 90 * DAY, &inter, 0);
	const uint8_t *der[4] = { l.der, other_root.der, root.der, inter.der };
	size_t lens[4] = { l.len, other_root.len, root.len, inter.len };
	struct cert_verdict v;

	cert_judge(cs, der, lens, 4, "mail.example.com", NOW_US, &v);
	CHECK_EQ_U(v.problems, 0);
	CHECK_EQ_U(v.ncerts, 4);
	cert_verdict_clear(&v);
	unmake(&l);
	cert_store_free(cs);
}

/* STS-127: a leaf whose EKU lacks serverAuth fails verification. */
static void
sts_127(void)
{
	struct cert_store *cs = store();
	struct made l = make("mail.example.com", "DNS:mail.example.com",
	    NOW - DAY, NOW + 90 * DAY, &inter, 0);
	struct made c;

	/* Re-make it with clientAuth only. */
	c = l;
	X509_EXTENSION_free(X509_delete_ext(c.x,
	    X509_get_ext_by_NID(c.x, NID_ext_key_usage, -1)));
	add_ext(c.x, inter.x, NID_ext_key_usage, "clientAuth");
	X509_sign(c.x, inter.k, EVP_sha256());
	free(c.der);
	{
		int len = i2d_X509(c.x, NULL);
		unsigned char *p;

		c.der = malloc((size_t)len);
		p = c.der;
		i2d_X509(c.x, &p);
		c.len = (size_t)len;
	}
	CHECK(judge(cs, &c, 1, "mail.example.com", NOW_US) & CERT_UNTRUSTED);
	unmake(&c);
	cert_store_free(cs);
}

/* Several problems are all reported; what the info holds. */
static void
all_problems_and_info(void)
{
	struct cert_store *cs = store();
	struct made l = make("x.example.net", "DNS:x.example.net,IP:192.0.2.7",
	    NOW - 90 * DAY, NOW - DAY, NULL, 0);
	const uint8_t *der[1] = { l.der };
	size_t lens[1] = { l.len };
	struct cert_verdict v;

	cert_judge(cs, der, lens, 1, "mail.example.com", NOW_US, &v);
	CHECK_EQ_U(v.problems, CERT_UNTRUSTED | CERT_EXPIRED |
	    CERT_NAME_MISMATCH);
	CHECK(strcmp(v.info[0].subject, "CN=x.example.net") == 0);
	CHECK(strcmp(v.info[0].sans, "x.example.net,IP:192.0.2.7") == 0);
	CHECK(strcmp(v.info[0].key_type, "EC") == 0);
	CHECK_EQ_U(v.info[0].key_bits, 256);
	CHECK(v.info[0].not_after == NOW - DAY);
	CHECK(strlen(v.info[0].sha256) == 64);
	cert_verdict_clear(&v);
	unmake(&l);
	cert_store_free(cs);
}

/*
 * Texts are whole however long, and RFC 2253 escapes survive as OpenSSL
 * wrote them (no second escaping): what an RFC 2253 parser reads back.
 */
static void
long_names(void)
{
	struct cert_store *cs = store();
	char san[4096], want[4096];
	struct cert_verdict v;
	struct made l;
	const uint8_t *der[1];
	size_t lens[1], n = 0, w = 0;
	int i;

	for (i = 0; i < 60; i++) {
		n += (size_t)snprintf(san + n, sizeof(san) - n,
		    "%sDNS:host-%02d.a-rather-long-name.example", i ? "," : "", i);
		w += (size_t)snprintf(want + w, sizeof(want) - w,
		    "%shost-%02d.a-rather-long-name.example", i ? "," : "", i);
	}
	l = make("mail.example.com", san, NOW - DAY, NOW + DAY, &inter, 0);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(l.x), "O",
	    MBSTRING_UTF8, (const unsigned char *)"Caf\xc3\xa9, a+b \\ c",
	    -1, -1, 0);
	X509_sign(l.x, inter.k, EVP_sha256());
	free(l.der);
	{
		int len = i2d_X509(l.x, NULL);
		unsigned char *p;

		l.der = malloc((size_t)len);
		p = l.der;
		i2d_X509(l.x, &p);
		l.len = (size_t)len;
	}
	der[0] = l.der;
	lens[0] = l.len;
	cert_judge(cs, der, lens, 1, "host-59.a-rather-long-name.example",
	    NOW_US, &v);
	CHECK(strcmp(v.info[0].sans, want) == 0);
	CHECK(strcmp(v.info[0].subject,
	    "O=Caf\\C3\\A9\\, a\\+b \\\\ c,CN=mail.example.com") == 0);
	CHECK_EQ_U(v.problems & CERT_NAME_MISMATCH, 0);
	cert_verdict_clear(&v);
	unmake(&l);
	cert_store_free(cs);
}

/* Bytes that are no certificate, or one with trailing bytes. */
static void
garbage(void)
{
	struct cert_store *cs = store();
	static const uint8_t junk[] = { 0x30, 0x82, 0xff, 0xff, 0x01 };
	const uint8_t *der[1] = { junk };
	size_t lens[1] = { sizeof(junk) };
	struct made l = make("a.example.com", "DNS:a.example.com", NOW - DAY,
	    NOW + DAY, &inter, 0);
	uint8_t *longer = malloc(l.len + 1);
	struct cert_verdict v;

	cert_judge(cs, der, lens, 1, "a.example.com", NOW_US, &v);
	CHECK_EQ_U(v.problems, CERT_UNDECODABLE);
	memcpy(longer, l.der, l.len);
	longer[l.len] = 0;
	der[0] = longer;
	lens[0] = l.len + 1;
	cert_judge(cs, der, lens, 1, "a.example.com", NOW_US, &v);
	CHECK_EQ_U(v.problems, CERT_UNDECODABLE);
	free(longer);
	unmake(&l);
	cert_store_free(cs);
}

static void
bad_ca_file(void)
{
	char err[256];

	CHECK(cert_store_new("/nonexistent/ca.pem", NULL, err,
	    sizeof(err)) == NULL);
	CHECK(strstr(err, "/nonexistent/ca.pem") != NULL);
}

/*
 * With no --ca-file or --ca-path the system's trust is used, read when the
 * first chain comes (OpenSSL's SSL_CERT_FILE and SSL_CERT_DIR point it at
 * this test's root here): trusted through it, and only through it.
 */
static void
system_trust(void)
{
	struct made l = make("mail.example.com", "DNS:mail.example.com",
	    NOW - DAY, NOW + 90 * DAY, &inter, 0);
	const char *was_file = getenv("SSL_CERT_FILE");
	const char *was_dir = getenv("SSL_CERT_DIR");
	char *file = was_file != NULL ? strdup(was_file) : NULL;
	char *dir = was_dir != NULL ? strdup(was_dir) : NULL;
	struct cert_store *cs;
	char err[256];

	setenv("SSL_CERT_DIR", "/nonexistent", 1);
	setenv("SSL_CERT_FILE", ca_file, 1);
	CHECK((cs = cert_store_new(NULL, NULL, err, sizeof(err))) != NULL);
	CHECK_EQ_U(judge(cs, &l, 1, "mail.example.com", NOW_US), 0);
	cert_store_free(cs);
	setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1);
	CHECK((cs = cert_store_new(NULL, NULL, err, sizeof(err))) != NULL);
	CHECK_EQ_U(judge(cs, &l, 1, "mail.example.com", NOW_US),
	    CERT_UNTRUSTED);
	cert_store_free(cs);
	if (file != NULL)
		setenv("SSL_CERT_FILE", file, 1);
	else
		unsetenv("SSL_CERT_FILE");
	if (dir != NULL)
		setenv("SSL_CERT_DIR", dir, 1);
	else
		unsetenv("SSL_CERT_DIR");
	free(file);
	free(dir);
	unmake(&l);
}

int
main(void)
{
	setup();
	RUN(sts_116);
	RUN(sts_117);
	RUN(sts_118);
	RUN(sts_119);
	RUN(sts_120);
	RUN(sts_111);
	RUN(sts_121);
	RUN(sts_122);
	RUN(sts_123);
	RUN(sts_124);
	RUN(sts_125);
	RUN(sts_126);
	RUN(sts_127);
	RUN(all_problems_and_info);
	RUN(long_names);
	RUN(garbage);
	RUN(bad_ca_file);
	RUN(system_trust);
	unlink(ca_file);
	unmake(&root);
	unmake(&inter);
	unmake(&other_root);
	return check_done("test_cert");
}
