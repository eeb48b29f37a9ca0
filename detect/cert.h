/*
 * cert.h - X.509 judgement of the chains servers present in clear (TLS 1.2
 * and earlier), with OpenSSL.
 *
 * RFC 5280 path validation at packet time, RFC 8461 4.2 / RFC 6125 name
 * check: a DNS-ID in subjectAltName must match the MX name (the SNI); the
 * subject CN is never used, and a wildcard covers exactly one left-most
 * label.  Nothing here keeps state between chains; pins live in the store.
 */
#ifndef SW_CERT_H
#define SW_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CERT_CHAIN_MAX	16	/* certificates of a chain decoded; more are ignored */

/* What one certificate shows, for the `certs` table. */
struct cert_info {
	char	sha256[65];		/* of the DER, lower-case hex */
	char	spki_sha256[65];	/* of the public key (SPKI), for pins */
	char	*subject;		/* RFC 2253 (non-ASCII as \\XX), whole */
	char	*issuer;
	char	*sans;			/* DNS names (escaped as in alerts) and
					   IP:addresses, comma separated, whole */
	int64_t	not_before, not_after;	/* seconds since the epoch */
	char	key_type[16];		/* RSA, EC, ED25519, ... */
	int	key_bits;
	const uint8_t *der;		/* the caller's bytes */
	size_t	der_len;
};

/* Problems found; several may hold at once. */
#define CERT_UNTRUSTED		0x01	/* no path to a trust anchor, or a bad one */
#define CERT_EXPIRED		0x02	/* a certificate's notAfter is past */
#define CERT_NOT_YET_VALID	0x04	/* a certificate's notBefore is ahead */
#define CERT_NAME_MISMATCH	0x08	/* no DNS-ID matches the name */
#define CERT_UNDECODABLE	0x10	/* the leaf is not DER X.509 */

struct cert_verdict {
	unsigned	problems;
	char		reason[128];	/* OpenSSL's first complaint, or "" */
	size_t		ncerts;		/* decoded into info[] */
	struct cert_info info[CERT_CHAIN_MAX];
};

struct cert_store;

/*
 * Trust anchors: ca_file and/or ca_path, or the system's default store
 * when both are NULL (read when the first chain is judged).  Returns NULL
 * with a message in err.
 */
struct cert_store *cert_store_new(const char *ca_file, const char *ca_path,
		    char *err, size_t errlen);
void		 cert_store_free(struct cert_store *);

/* Frees the texts of the verdict's certificates. */
void		 cert_verdict_clear(struct cert_verdict *);

/*
 * Judges a chain as sent (leaf first; the rest used only to build a path,
 * in any order) at ts_us, pcap time, against name (the SNI, lower case;
 * NULL or "" skips the name check).  Always fills *v; clear it with
 * cert_verdict_clear().  The texts are never NULL.
 */
void		 cert_judge(struct cert_store *, const uint8_t *const *der,
		    const size_t *lens, size_t n, const char *name,
		    uint64_t ts_us, struct cert_verdict *v);

#endif
