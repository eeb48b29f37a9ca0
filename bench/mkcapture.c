/*
 * mkcapture: build a large benchmark capture from small real seed captures.
 *
 * Build: cc -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -o mkcapture \
 *            bench/mkcapture.c -lpcap
 * (bench/run.sh builds it into /tmp/stripwatch-bench/bin/).
 *
 * Usage: mkcapture -o OUT.pcap [options] SEED.pcap [SEED.pcap ...]
 *
 *   -o, --output FILE      output pcap (required). Never commit it: write to
 *                          /tmp or another scratch path.
 *   -s, --size SIZE        target size of the output file in bytes; suffix
 *                          K, M or G (powers of 1024). Default 2G. The file
 *                          ends within one session's bytes above the target.
 *   -r, --smtp-ratio PCT   share of the packet bytes that come from SMTP
 *                          sessions, 0..100. Default 30. The rest is the
 *                          non-SMTP background found in the seeds (TLS, HTTP,
 *                          DNS, IMAP, POP3, ...).
 *   -c, --concurrency N    mean number of sessions open at the same time.
 *                          Default 5000. Gaps inside every session are scaled
 *                          by one common factor so that this many sessions
 *                          overlap at the chosen bit rate (reached after a
 *                          ramp-up of a few session lifetimes; the summary
 *                          gives the mean and peak obtained). 0 keeps the
 *                          seeds' own timing (gaps only capped by --max-gap).
 *   -R, --rate MBIT        mean bit rate of the output in Mbit/s, counted over
 *                          the on-the-wire packet lengths. Default 1000. It
 *                          sets the spacing of session starts, hence the time
 *                          span of the output (2 GiB at 1000 Mbit/s: 16 s of
 *                          session starts, 21 s to the last packet).
 *   -g, --max-gap SEC      cap on any gap between two packets of one session
 *                          after scaling, in seconds. Default 10.
 *   -S, --seed N           seed of the pseudo-random choices (template order,
 *                          start jitter, address mapping). Default 1. Same
 *                          seeds + same options = byte-identical output.
 *   -t, --start EPOCH      timestamp of the first packet, Unix seconds.
 *                          Default 1700000000.
 *   -P, --smtp-ports LIST  comma-separated TCP ports that make a connection
 *                          SMTP. Default 25,465,587,2525. A connection whose
 *                          payload shows an SMTP dialogue (a "220" banner
 *                          naming SMTP, or EHLO/HELO from the client) counts
 *                          as SMTP on any port.
 *   -k, --keep-checksums   do not repair IPv4/TCP/UDP checksums that are
 *                          already wrong in the seeds (many public test
 *                          captures carry offload-garbage checksums). Either
 *                          way the rewrite of addresses and ports updates the
 *                          checksums incrementally, so a checksum that was
 *                          right stays right.
 *   -v, --verbose          list every template (connection) found.
 *   -h, --help
 *
 * Seeds: pcap or pcapng, any of the link types Ethernet (with 802.1Q/QinQ
 * tags), BSD NULL/LOOP, raw IP, IPv4, IPv6, Linux SLL and SLL2. A name
 * ending in ".gz" is read through "gzip -dc" (needs gzip in PATH). Non-Ethernet packets are
 * wrapped in a synthetic Ethernet header, so the output has one link type:
 * Ethernet. Only IPv4/IPv6 TCP and UDP packets are kept; ARP, ICMP, IP
 * fragments and packets cut before the ports are dropped (and counted).
 *
 * Model: every TCP/UDP connection of the seeds becomes a template (a new
 * SYN after FIN/RST, or 300 s of silence, starts a new one on the same
 * 5-tuple). Sessions are started one after the other on a byte clock: the
 * next session starts when the previous one's wire bytes would have been
 * sent at --rate (with +-50% seeded jitter). Each session picks the class
 * (SMTP or background) whose byte share is behind --smtp-ratio, then the
 * next template of that class in a seeded shuffled round-robin, so every
 * template of a class is copied the same number of times. Every copy gets
 * a client address of its own (IPv4: 10.x.y.z, a bijection of the session
 * number over 2^24; IPv6: fd53:5457::/96 + 32 bits) and a client port bumped
 * by the session number, so all copies are distinct flows; the server side
 * keeps its address and port (loopback servers become 198.51.100.x or
 * 2001:db8::1). Packets of all open sessions are merged by time, so the
 * output timestamps never go backwards. Timestamps are written with
 * microsecond precision.
 *
 * What the output inherits from the seeds: packet sizes, TCP flags and
 * payloads. With the public seeds the background is many small sessions
 * (arkime_synthetic.pcap holds ~190 short flows of ~60 protocols), so
 * sessions average ~1.6 KB, packets ~210 bytes, and about half of the TCP
 * sessions end without FIN or RST, as their seeds do.
 *
 * Report: a summary on stderr (sessions per class, bytes per class, copies
 * per template, mean and peak concurrency, time span, checksums repaired,
 * packets dropped). Exit 0 on success, 1 on a usage or I/O error, or when
 * the seeds hold no usable connection.
 */
#include <pcap/pcap.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUT_SNAPLEN	262144u		/* bytes; largest frame we keep */
#define MIN_GAP_NS	10000LL		/* 10 us: floor under every seed gap,
					 * so seeds with equal or backwards
					 * timestamps still have a duration */
#define SPLIT_IDLE_NS	(300LL * 1000000000LL)	/* new template after 300 s */
#define SCAN_PAYLOADS	12		/* payload packets looked at for SMTP */
#define NS		1000000000LL

enum drop_reason {
	DROP_LINK,	/* unsupported link type or link header cut */
	DROP_NOT_IP,	/* ARP, LLDP, ... */
	DROP_FRAG,	/* IP fragment: no ports to rewrite */
	DROP_NOT_L4,	/* neither TCP nor UDP */
	DROP_SHORT,	/* cut before the ports */
	DROP_BIG,	/* frame larger than OUT_SNAPLEN */
	DROP_N
};

static const char *drop_names[DROP_N] = {
	"link", "not-ip", "ip-fragment", "not-tcp-udp", "truncated", "too-big"
};

/* One packet of a seed, already wrapped in Ethernet. */
struct lpkt {
	uint32_t	conn;		/* index into conns[] */
	uint32_t	off;		/* frame bytes at arena + off */
	uint32_t	caplen;
	uint32_t	wirelen;
	int64_t		ts;		/* ns, seed clock */
	int64_t		toff;		/* ns from session start, scaled */
	uint16_t	l3;		/* IP header offset in the frame */
	uint16_t	l4;		/* TCP/UDP header offset */
	uint16_t	seglen;		/* L4 length per the IP header */
	uint8_t		ipv;		/* 4 or 6 */
	uint8_t		proto;		/* 6 or 17 */
	uint8_t		from_client;
	uint8_t		full;		/* whole L4 segment captured */
};

struct conn_key {			/* no implicit padding: memcmp'd */
	uint32_t	file;		/* seed index: no flow spans seeds */
	uint16_t	pa, pb;		/* ports, host order, side a < side b */
	uint8_t		a[16], b[16];
	uint8_t		ipv, proto;
	uint8_t		pad[2];
};

struct conn {
	struct conn_key	key;
	int64_t		first_ts, last_ts;
	bool		closed;		/* FIN or RST seen */
	bool		smtp;
	bool		client_known;
	uint8_t		caddr[16];	/* client address (as in seed) */
	uint16_t	cport;
	uint16_t	sport;
	uint32_t	first, n;	/* packets in tpkts[first .. first+n) */
	uint64_t	file_bytes;	/* 16 + caplen per packet */
	uint64_t	wire_bytes;
	int64_t		dur;		/* ns, after scaling */
	uint64_t	copies;
	const char	*src;
};

struct inst {
	const struct conn *c;
	uint32_t	next;		/* next packet index in the template */
	int64_t		start;
	uint8_t		caddr[16];
	uint16_t	cport;
	uint32_t	d_ip;		/* checksum delta, IPv4 header */
	uint32_t	d_l4;		/* checksum delta, TCP/UDP */
};

struct hent {
	int64_t		ts;
	uint64_t	serial;
	uint32_t	inst;
};

/* Global load state. */
static uint8_t		*arena;
static size_t		 arena_len, arena_cap;
static struct lpkt	*lpkts;
static size_t		 nlpkts, lpkts_cap;
static struct conn	*conns;
static size_t		 nconns, conns_cap;
static uint32_t		*htab;		/* conn index + 1, 0 = empty */
static size_t		 hcap;
static uint64_t		 drops[DROP_N];
static uint64_t		 ipcs_fixed, l4cs_fixed;

static uint16_t		 smtp_ports[32] = { 25, 465, 587, 2525 };
static size_t		 nsmtp_ports = 4;

static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL) {
		fprintf(stderr, "mkcapture: out of memory\n");
		exit(1);
	}
	return q;
}

/* ---- small helpers: byte order, checksums, PRNG ---- */

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint64_t
csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	while (len >= 2) {
		sum += be16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint64_t)p[0] << 8;
	return sum;
}

static uint16_t
csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Sum of (~old + new) over n bytes (n even): the RFC 1624 delta. */
static uint32_t
csum_delta(const uint8_t *old, const uint8_t *new, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint16_t)~be16(old + i) + (uint64_t)be16(new + i);
	return csum_fold(s);
}

/* Apply a delta to the checksum field at p (RFC 1624, eqn. 3). */
static inline void
csum_patch(uint8_t *p, uint32_t delta, bool udp)
{
	uint16_t hc = be16(p);

	if (udp && hc == 0)		/* IPv4 UDP without checksum */
		return;
	hc = ~csum_fold((uint64_t)(uint16_t)~hc + delta);
	if (udp && hc == 0)
		hc = 0xffff;
	put16(p, hc);
}

static uint64_t rng_state;

static uint64_t
rng_next(void)			/* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
rng_unit(void)
{
	return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

static void
shuffle(uint32_t *v, size_t n)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = rng_next() % i;
		uint32_t t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* ---- loading seeds ---- */

static bool
is_smtp_port(uint16_t p)
{
	size_t i;

	for (i = 0; i < nsmtp_ports; i++)
		if (smtp_ports[i] == p)
			return true;
	return false;
}

static uint64_t
key_hash(const struct conn_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < sizeof *k; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
htab_grow(void)
{
	size_t ncap = hcap ? hcap * 2 : 1024, i;
	uint32_t *n = calloc(ncap, sizeof *n);

	if (n == NULL) {
		fprintf(stderr, "mkcapture: out of memory\n");
		exit(1);
	}
	for (i = 0; i < hcap; i++) {
		size_t j;

		if (htab[i] == 0)
			continue;
		j = key_hash(&conns[htab[i] - 1].key) & (ncap - 1);
		while (n[j])
			j = (j + 1) & (ncap - 1);
		n[j] = htab[i];
	}
	free(htab);
	htab = n;
	hcap = ncap;
}

/* Slot of key in htab: either holding it or empty. */
static size_t
htab_slot(const struct conn_key *k)
{
	size_t j = key_hash(k) & (hcap - 1);

	while (htab[j] && memcmp(&conns[htab[j] - 1].key, k, sizeof *k) != 0)
		j = (j + 1) & (hcap - 1);
	return j;
}

static uint32_t
conn_new(const struct conn_key *k, int64_t ts, const char *src)
{
	struct conn *c;

	if (nconns == conns_cap) {
		conns_cap = conns_cap ? conns_cap * 2 : 256;
		conns = xrealloc(conns, conns_cap * sizeof *conns);
	}
	c = &conns[nconns];
	memset(c, 0, sizeof *c);
	c->key = *k;
	c->first_ts = c->last_ts = ts;
	c->src = src;
	return (uint32_t)nconns++;
}

/*
 * Find the IP header of one seed packet and wrap it in Ethernet when the
 * link is not Ethernet. On success the frame is appended to the arena and
 * *l3 is the IP header offset in it; returns a drop reason otherwise.
 */
static int
frame_from_link(int dlt, const uint8_t *d, uint32_t caplen, uint32_t wirelen,
    uint32_t *off, uint32_t *fcaplen, uint32_t *fwirelen, uint16_t *l3)
{
	static const uint8_t mac_a[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	static const uint8_t mac_b[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02 };
	uint32_t lh;		/* link header length to strip */
	int ipv = 0;
	uint16_t et;

	switch (dlt) {
	case DLT_EN10MB: {
		uint32_t o = 14;

		if (caplen < 14)
			return DROP_LINK;
		et = be16(d + 12);
		while (et == 0x8100 || et == 0x88a8 || et == 0x9100) {
			if (caplen - o < 4)
				return DROP_LINK;
			et = be16(d + o + 2);
			o += 4;
		}
		if (et != 0x0800 && et != 0x86dd)
			return DROP_NOT_IP;
		if (caplen > OUT_SNAPLEN)
			return DROP_BIG;
		if (arena_len + caplen > arena_cap) {
			arena_cap = (arena_cap + caplen) * 2;
			arena = xrealloc(arena, arena_cap);
		}
		memcpy(arena + arena_len, d, caplen);
		*off = (uint32_t)arena_len;
		arena_len += caplen;
		*fcaplen = caplen;
		*fwirelen = wirelen;
		*l3 = (uint16_t)o;
		return -1;
	}
	case DLT_NULL:
	case DLT_LOOP: {
		uint32_t fam;

		if (caplen < 4)
			return DROP_LINK;
		fam = (uint32_t)d[0] | (uint32_t)d[1] << 8 |
		    (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
		if (fam > 0xffff)	/* other byte order */
			fam = (uint32_t)d[3] | (uint32_t)d[2] << 8;
		if (fam == 2)
			ipv = 4;
		else if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
			ipv = 6;
		else
			return DROP_NOT_IP;
		lh = 4;
		break;
	}
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		lh = 0;
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return DROP_LINK;
		et = be16(d + 14);
		ipv = et == 0x0800 ? 4 : et == 0x86dd ? 6 : 0;
		if (!ipv)
			return DROP_NOT_IP;
		lh = 16;
		break;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return DROP_LINK;
		et = be16(d);
		ipv = et == 0x0800 ? 4 : et == 0x86dd ? 6 : 0;
		if (!ipv)
			return DROP_NOT_IP;
		lh = 20;
		break;
#endif
	default:
		return DROP_LINK;
	}
	if (caplen <= lh)
		return DROP_LINK;
	if (ipv == 0) {
		ipv = d[lh] >> 4;
		if (ipv != 4 && ipv != 6)
			return DROP_NOT_IP;
	}
	if (caplen - lh + 14 > OUT_SNAPLEN)
		return DROP_BIG;
	if (arena_len + caplen - lh + 14 > arena_cap) {
		arena_cap = (arena_cap + caplen + 14) * 2;
		arena = xrealloc(arena, arena_cap);
	}
	/* MACs are fixed here and set per direction once the client is known. */
	memcpy(arena + arena_len, mac_b, 6);
	memcpy(arena + arena_len + 6, mac_a, 6);
	put16(arena + arena_len + 12, ipv == 4 ? 0x0800 : 0x86dd);
	memcpy(arena + arena_len + 14, d + lh, caplen - lh);
	*off = (uint32_t)arena_len;
	arena_len += caplen - lh + 14;
	*fcaplen = caplen - lh + 14;
	*fwirelen = (wirelen > lh ? wirelen - lh : 0) + 14;
	*l3 = 14;
	return -1;
}

/*
 * Parse IP and the first 4 bytes of TCP/UDP in frame f. Fills the packet's
 * l4, seglen, ipv, proto, full and the flow key (not canonical yet).
 */
static int
parse_ip(struct lpkt *p, const uint8_t *f, struct conn_key *k,
    uint16_t *sp, uint16_t *dp, uint8_t *tcpflags)
{
	uint32_t caplen = p->caplen, l3 = p->l3, l4;
	uint32_t seglen;
	uint8_t proto;

	if (caplen - l3 < 1)
		return DROP_SHORT;
	p->ipv = f[l3] >> 4;
	if (p->ipv == 4) {
		uint32_t ihl, tot;

		if (caplen - l3 < 20)
			return DROP_SHORT;
		ihl = (uint32_t)(f[l3] & 0x0f) * 4;
		tot = be16(f + l3 + 2);
		if (ihl < 20 || tot < ihl)
			return DROP_SHORT;
		if (be16(f + l3 + 6) & 0x3fff)	/* MF or fragment offset */
			return DROP_FRAG;
		proto = f[l3 + 9];
		l4 = l3 + ihl;
		seglen = tot - ihl;
		memset(k->a, 0, 16);
		memset(k->b, 0, 16);
		memcpy(k->a, f + l3 + 12, 4);
		memcpy(k->b, f + l3 + 16, 4);
	} else if (p->ipv == 6) {
		uint32_t plen;

		if (caplen - l3 < 40)
			return DROP_SHORT;
		plen = be16(f + l3 + 4);
		proto = f[l3 + 6];
		l4 = l3 + 40;
		for (;;) {
			uint32_t el;

			if (proto == 0 || proto == 43 || proto == 60 ||
			    proto == 51) {
				if (caplen < l4 || caplen - l4 < 2)
					return DROP_SHORT;
				el = proto == 51 ? ((uint32_t)f[l4 + 1] + 2) * 4 :
				    ((uint32_t)f[l4 + 1] + 1) * 8;
				proto = f[l4];
				l4 += el;
				continue;
			}
			if (proto == 44)
				return DROP_FRAG;
			break;
		}
		if (l4 - (l3 + 40) > plen)
			return DROP_SHORT;
		seglen = plen - (l4 - (l3 + 40));
		memcpy(k->a, f + l3 + 8, 16);
		memcpy(k->b, f + l3 + 24, 16);
	} else {
		return DROP_NOT_IP;
	}
	if (proto != 6 && proto != 17)
		return DROP_NOT_L4;
	if (caplen < l4 || caplen - l4 < 4 || l4 > 0xffff || seglen > 0xffff)
		return DROP_SHORT;
	p->proto = proto;
	p->l4 = (uint16_t)l4;
	p->seglen = (uint16_t)seglen;
	p->full = caplen - l4 >= seglen &&
	    seglen >= (proto == 6 ? 20u : 8u);
	*sp = be16(f + l4);
	*dp = be16(f + l4 + 2);
	*tcpflags = (proto == 6 && caplen - l4 >= 14) ? f[l4 + 13] : 0;
	k->ipv = p->ipv;
	k->proto = proto;
	return -1;
}

static void
add_packet(uint32_t file, const char *src, int dlt,
    const struct pcap_pkthdr *h, const uint8_t *d)
{
	struct lpkt p;
	struct conn_key k;
	uint16_t sp, dp;
	uint8_t flags;
	int64_t ts;
	size_t slot;
	uint32_t ci;
	int r;
	size_t arena_before = arena_len;

	memset(&p, 0, sizeof p);
	memset(&k, 0, sizeof k);
	r = frame_from_link(dlt, d, h->caplen, h->len, &p.off, &p.caplen,
	    &p.wirelen, &p.l3);
	if (r >= 0) {
		drops[r]++;
		return;
	}
	r = parse_ip(&p, arena + p.off, &k, &sp, &dp, &flags);
	if (r >= 0) {
		drops[r]++;
		arena_len = arena_before;
		return;
	}
	ts = (int64_t)h->ts.tv_sec * NS + h->ts.tv_usec;	/* ns precision */
	p.ts = ts;

	/* Canonical key: the smaller (address, port) side first. */
	{
		int c = memcmp(k.a, k.b, 16);

		if (c > 0 || (c == 0 && sp > dp)) {
			uint8_t t[16];

			memcpy(t, k.a, 16);
			memcpy(k.a, k.b, 16);
			memcpy(k.b, t, 16);
			k.pa = dp;
			k.pb = sp;
		} else {
			k.pa = sp;
			k.pb = dp;
		}
	}
	k.file = file;

	if (hcap == 0 || nconns * 2 >= hcap)
		htab_grow();
	slot = htab_slot(&k);
	if (htab[slot] == 0) {
		ci = conn_new(&k, ts, src);
		htab[slot] = ci + 1;
	} else {
		struct conn *c;
		bool syn = (flags & 0x12) == 0x02;

		ci = htab[slot] - 1;
		c = &conns[ci];
		if ((syn && c->closed) || ts - c->last_ts > SPLIT_IDLE_NS) {
			ci = conn_new(&k, ts, src);
			htab[slot] = ci + 1;
		}
	}
	{
		struct conn *c = &conns[ci];
		const uint8_t *f = arena + p.off;

		if (ts > c->last_ts)
			c->last_ts = ts;
		if (flags & 0x05)
			c->closed = true;
		if (!c->client_known && (flags & 0x12) == 0x02) {
			/* The SYN sender is the client. */
			memcpy(c->caddr, f + p.l3 + (p.ipv == 4 ? 12 : 8),
			    p.ipv == 4 ? 4 : 16);
			c->cport = sp;
			c->sport = dp;
			c->client_known = true;
		}
	}
	p.conn = ci;
	if (nlpkts == lpkts_cap) {
		lpkts_cap = lpkts_cap ? lpkts_cap * 2 : 4096;
		lpkts = xrealloc(lpkts, lpkts_cap * sizeof *lpkts);
	}
	lpkts[nlpkts++] = p;
}

static bool
load_seed(uint32_t file, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	FILE *gz = NULL;
	pid_t gzpid = -1;
	pcap_t *pc;
	size_t n = strlen(path), before = nlpkts;
	uint64_t seen = 0;
	int rc, dlt;

	if (n > 3 && strcmp(path + n - 3, ".gz") == 0) {
		int fds[2];

		/* gzip -dc into a pipe; pcap_close() closes our end. */
		if (pipe(fds) != 0 || (gzpid = fork()) < 0) {
			fprintf(stderr, "mkcapture: %s: %s\n", path,
			    strerror(errno));
			return false;
		}
		if (gzpid == 0) {
			dup2(fds[1], 1);
			close(fds[0]);
			close(fds[1]);
			execlp("gzip", "gzip", "-dc", "--", path, (char *)NULL);
			_exit(127);
		}
		close(fds[1]);
		gz = fdopen(fds[0], "rb");
		if (gz == NULL) {
			fprintf(stderr, "mkcapture: %s: %s\n", path,
			    strerror(errno));
			close(fds[0]);
			waitpid(gzpid, NULL, 0);
			return false;
		}
		pc = pcap_fopen_offline_with_tstamp_precision(gz,
		    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	} else {
		pc = pcap_open_offline_with_tstamp_precision(path,
		    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	}
	if (pc == NULL) {
		fprintf(stderr, "mkcapture: %s: %s (skipped)\n", path, errbuf);
		if (gz) {
			fclose(gz);
			waitpid(gzpid, NULL, 0);
		}
		return false;
	}
	dlt = pcap_datalink(pc);
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
		seen++;
		add_packet(file, path, dlt, h, d);
	}
	if (rc == PCAP_ERROR)
		fprintf(stderr, "mkcapture: %s: %s (kept the %" PRIu64
		    " packets before it)\n", path, pcap_geterr(pc), seen);
	pcap_close(pc);	/* closes gz too */
	if (gzpid > 0)
		waitpid(gzpid, NULL, 0);
	if (nlpkts == before)
		fprintf(stderr, "mkcapture: %s: no TCP/UDP packet (linktype "
		    "%d)\n", path, dlt);
	return true;
}

/* ---- templates ---- */

static struct lpkt *tpkts;	/* lpkts grouped by connection */

static bool
ci_startswith(const uint8_t *p, size_t len, const char *s)
{
	size_t n = strlen(s), i;

	if (len < n)
		return false;
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c >= 'a' && c <= 'z')
			c -= 32;
		if (c != (uint8_t)s[i])
			return false;
	}
	return true;
}

static bool
ci_contains(const uint8_t *p, size_t len, const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i + n <= len; i++)
		if (ci_startswith(p + i, len - i, s))
			return true;
	return false;
}

static inline size_t
addr_off(const struct lpkt *p, bool src)
{
	if (p->ipv == 4)
		return p->l3 + (src ? 12u : 16u);
	return p->l3 + (src ? 8u : 24u);
}

/* Recompute the IPv4 header and TCP/UDP checksums where fully captured. */
static void
csum_full(uint8_t *f, const struct lpkt *p)
{
	size_t alen = p->ipv == 4 ? 4 : 16;
	size_t coff;
	uint64_t s;
	uint16_t cs, old;

	if (p->ipv == 4) {
		uint32_t ihl = (uint32_t)(f[p->l3] & 0x0f) * 4;

		if (p->caplen - p->l3 >= ihl) {
			old = be16(f + p->l3 + 10);
			put16(f + p->l3 + 10, 0);
			cs = ~csum_fold(csum_add(0, f + p->l3, ihl));
			put16(f + p->l3 + 10, cs);
			ipcs_fixed += cs != old;
		}
	}
	if (!p->full)
		return;
	coff = p->l4 + (p->proto == 6 ? 16u : 6u);
	old = be16(f + coff);
	if (p->proto == 17 && p->ipv == 4 && old == 0)
		return;		/* sender chose no checksum */
	s = csum_add(0, f + addr_off(p, true), alen);
	s = csum_add(s, f + addr_off(p, false), alen);
	s += p->proto;
	s += p->seglen;
	put16(f + coff, 0);
	s = csum_add(s, f + p->l4, p->seglen);
	cs = ~csum_fold(s);
	if (p->proto == 17 && cs == 0)
		cs = 0xffff;
	put16(f + coff, cs);
	l4cs_fixed += cs != old;
}

/* Patch IPv4 header and L4 checksums in f for precomputed deltas. */
static inline void
csum_apply(uint8_t *f, const struct lpkt *p, uint32_t d_ip, uint32_t d_l4)
{
	if (p->ipv == 4 && p->caplen - p->l3 >= 12)
		csum_patch(f + p->l3 + 10, d_ip, false);
	if (p->proto == 6) {
		if (p->caplen - p->l4 >= 18)
			csum_patch(f + p->l4 + 16, d_l4, false);
	} else if (p->caplen - p->l4 >= 8) {
		csum_patch(f + p->l4 + 6, d_l4, p->ipv == 4);
	}
}

static void
build_templates(bool keep_checksums)
{
	size_t *cnt = calloc(nconns + 1, sizeof *cnt), i;

	if (cnt == NULL) {
		fprintf(stderr, "mkcapture: out of memory\n");
		exit(1);
	}
	tpkts = xrealloc(NULL, (nlpkts ? nlpkts : 1) * sizeof *tpkts);
	for (i = 0; i < nlpkts; i++)
		cnt[lpkts[i].conn + 1]++;
	for (i = 0; i < nconns; i++) {
		conns[i].first = (uint32_t)cnt[i];
		conns[i].n = (uint32_t)cnt[i + 1];
		cnt[i + 1] += cnt[i];
	}
	for (i = 0; i < nlpkts; i++)
		tpkts[cnt[lpkts[i].conn]++] = lpkts[i];
	free(cnt);

	for (i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		struct lpkt *p0 = &tpkts[c->first];
		size_t alen = p0->ipv == 4 ? 4 : 16, j, scanned = 0;
		bool smtp = false;

		if (!c->client_known) {
			/* No SYN: the well-known port is the server. */
			const uint8_t *f = arena + p0->off;
			uint16_t sp = be16(f + p0->l4), dp = be16(f + p0->l4 + 2);
			bool client_is_src;

			if (is_smtp_port(dp) != is_smtp_port(sp))
				client_is_src = is_smtp_port(dp);
			else if (sp != dp)
				client_is_src = dp < sp;
			else
				client_is_src = true;
			memcpy(c->caddr, f + addr_off(p0, client_is_src), alen);
			c->cport = client_is_src ? sp : dp;
			c->sport = client_is_src ? dp : sp;
		}
		smtp = is_smtp_port(c->sport) || is_smtp_port(c->cport);
		for (j = 0; j < c->n; j++) {
			struct lpkt *p = &tpkts[c->first + j];
			uint8_t *f = arena + p->off;
			size_t plo;

			p->from_client = memcmp(f + addr_off(p, true), c->caddr,
			    alen) == 0 && be16(f + p->l4) == c->cport;
			c->file_bytes += 16 + (uint64_t)p->caplen;
			c->wire_bytes += p->wirelen;

			/* Synthetic MACs follow the direction. */
			if (p->l3 == 14 && f[0] == 0x02 && f[1] == 0x00 &&
			    f[2] == 0x5e && f[3] == 0x00 && f[4] == 0x00 &&
			    f[6] == 0x02 && f[7] == 0x00 && f[8] == 0x5e) {
				f[5] = p->from_client ? 0x02 : 0x01;
				f[11] = p->from_client ? 0x01 : 0x02;
			}

			/* Loopback servers get a documentation address. */
			{
				uint8_t *sa = f + addr_off(p, !p->from_client);
				uint8_t na[16];
				static const uint8_t lo6[16] = { [15] = 1 };

				if (p->ipv == 4 && sa[0] == 127) {
					na[0] = 198; na[1] = 51; na[2] = 100;
					na[3] = sa[3];
				} else if (p->ipv == 6 && memcmp(sa, lo6, 16) == 0) {
					static const uint8_t doc[16] = {
						0x20, 0x01, 0x0d, 0xb8,
						[15] = 1 };
					memcpy(na, doc, 16);
				} else {
					goto no_lo;
				}
				{
					uint32_t d = csum_delta(sa, na, alen);

					memcpy(sa, na, alen);
					csum_apply(f, p, d, d);
				}
			no_lo:;
			}
			if (!keep_checksums)
				csum_full(f, p);

			/* SMTP by payload, on any port. */
			if (p->proto == 6 && !smtp && scanned < SCAN_PAYLOADS &&
			    p->caplen - p->l4 >= 20) {
				size_t thl = (size_t)(f[p->l4 + 12] >> 4) * 4;

				plo = p->l4 + thl;
				if (thl >= 20 && plo < p->caplen) {
					const uint8_t *pl = f + plo;
					size_t pn = p->caplen - plo;

					if (p->full && pn > p->seglen - thl)
						pn = p->seglen > thl ?
						    p->seglen - thl : 0;

					scanned++;
					if (pn > 256)
						pn = 256;
					if (p->from_client &&
					    (ci_startswith(pl, pn, "EHLO ") ||
					    ci_startswith(pl, pn, "HELO ")))
						smtp = true;
					if (!p->from_client && pn >= 4 &&
					    ci_startswith(pl, pn, "220") &&
					    (pl[3] == ' ' || pl[3] == '-') &&
					    ci_contains(pl, pn, "SMTP"))
						smtp = true;
				}
			}
		}
		c->smtp = smtp;
	}
}

/* Mean open sessions at this scale: rate x sum(w_t * dur_t). */
static double
concurrency_at(double scale, double rate_Bps, double r, double ws, double wo,
    int64_t max_gap)
{
	double acc = 0;
	size_t i, j;

	for (i = 0; i < nconns; i++) {
		const struct conn *c = &conns[i];
		double w = c->smtp ? (ws > 0 ? r / ws : 0) :
		    (wo > 0 ? (1 - r) / wo : 0);
		double dur = 0;

		if (w == 0)
			continue;
		for (j = 1; j < c->n; j++) {
			int64_t g = tpkts[c->first + j].ts -
			    tpkts[c->first + j - 1].ts;
			double gs;

			if (g < MIN_GAP_NS)
				g = MIN_GAP_NS;
			gs = (double)g * scale;
			dur += gs < (double)max_gap ? gs : (double)max_gap;
		}
		acc += w * dur / NS;
	}
	return rate_Bps * acc;
}

static void
apply_scale(double scale, int64_t max_gap)
{
	size_t i, j;

	for (i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		int64_t t = 0;

		tpkts[c->first].toff = 0;
		for (j = 1; j < c->n; j++) {
			int64_t g = tpkts[c->first + j].ts -
			    tpkts[c->first + j - 1].ts;
			double gs;

			if (g < MIN_GAP_NS)
				g = MIN_GAP_NS;
			gs = (double)g * scale;
			t += gs < (double)max_gap ? (int64_t)gs : max_gap;
			tpkts[c->first + j].toff = t;
		}
		c->dur = t;
	}
}

/* ---- output ---- */

static struct hent	*heap;
static size_t		 nheap, heap_cap;

static inline bool
hless(const struct hent *a, const struct hent *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->serial < b->serial);
}

static void
heap_push(struct hent e)
{
	size_t i;

	if (nheap == heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 1024;
		heap = xrealloc(heap, heap_cap * sizeof *heap);
	}
	i = nheap++;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!hless(&e, &heap[p]))
			break;
		heap[i] = heap[p];
		i = p;
	}
	heap[i] = e;
}

/* Replace the top with e (or remove it when e is NULL) and sift down. */
static void
heap_replace_top(const struct hent *e)
{
	struct hent x;
	size_t i = 0;

	if (e == NULL) {
		if (--nheap == 0)
			return;
		x = heap[nheap];
	} else {
		x = *e;
	}
	for (;;) {
		size_t l = 2 * i + 1, m;

		if (l >= nheap)
			break;
		m = (l + 1 < nheap && hless(&heap[l + 1], &heap[l])) ? l + 1 : l;
		if (!hless(&heap[m], &x))
			break;
		heap[i] = heap[m];
		i = m;
	}
	heap[i] = x;
}

static uint64_t
parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v <= 0)
		return 0;
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024.0 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	case 't': case 'T': v *= 1024.0 * 1024 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end == 'B' || *end == 'b' || (*end == 'i' && end[1] == 'B'))
		end += *end == 'i' ? 2 : 1;
	if (*end != '\0')
		return 0;
	return (uint64_t)v;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: mkcapture -o OUT.pcap [-s SIZE] [-r SMTP_PCT] [-c CONC] "
	    "[-R MBIT]\n"
	    "                 [-g MAXGAP_S] [-S SEED] [-t EPOCH] "
	    "[-P PORTS] [-k] [-v] SEED.pcap...\n"
	    "  -s SIZE   target output size, K/M/G suffix (default 2G)\n"
	    "  -r PCT    percent of packet bytes from SMTP sessions "
	    "(default 30)\n"
	    "  -c N      mean concurrent sessions (default 5000; 0 = seed "
	    "timing)\n"
	    "  -R MBIT   mean output rate in Mbit/s (default 1000)\n"
	    "  -g SEC    max gap inside a session after scaling (default 10)\n"
	    "  -S N      PRNG seed (default 1)\n"
	    "  -t EPOCH  first timestamp (default 1700000000)\n"
	    "  -P LIST   SMTP ports (default 25,465,587,2525)\n"
	    "  -k        keep wrong seed checksums (default: repair)\n"
	    "  -v        list templates\n");
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "smtp-ratio", required_argument, NULL, 'r' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'R' },
		{ "max-gap", required_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 'S' },
		{ "start", required_argument, NULL, 't' },
		{ "smtp-ports", required_argument, NULL, 'P' },
		{ "keep-checksums", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *out = NULL;
	uint64_t size = 2ULL << 30, seed = 1;
	double ratio = 30, conc = 5000, rate_mbit = 1000, max_gap_s = 10;
	int64_t start_epoch = 1700000000;
	bool keep = false, verbose = false;
	int ch;
	size_t i;

	while ((ch = getopt_long(argc, argv, "o:s:r:c:R:g:S:t:P:kvh", lopts,
	    NULL)) != -1) {
		char *end;

		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 's':
			size = parse_size(optarg);
			if (size == 0) {
				fprintf(stderr, "mkcapture: bad size %s\n",
				    optarg);
				return 1;
			}
			break;
		case 'r':
			ratio = strtod(optarg, &end);
			if (*end || ratio < 0 || ratio > 100) {
				fprintf(stderr, "mkcapture: bad ratio %s\n",
				    optarg);
				return 1;
			}
			break;
		case 'c':
			conc = strtod(optarg, &end);
			if (*end || conc < 0) {
				fprintf(stderr, "mkcapture: bad concurrency "
				    "%s\n", optarg);
				return 1;
			}
			break;
		case 'R':
			rate_mbit = strtod(optarg, &end);
			if (*end || rate_mbit <= 0) {
				fprintf(stderr, "mkcapture: bad rate %s\n",
				    optarg);
				return 1;
			}
			break;
		case 'g':
			max_gap_s = strtod(optarg, &end);
			if (*end || max_gap_s <= 0) {
				fprintf(stderr, "mkcapture: bad max gap %s\n",
				    optarg);
				return 1;
			}
			break;
		case 'S':
			seed = strtoull(optarg, &end, 0);
			if (*end) {
				fprintf(stderr, "mkcapture: bad seed %s\n",
				    optarg);
				return 1;
			}
			break;
		case 't':
			start_epoch = strtoll(optarg, &end, 0);
			if (*end || start_epoch < 0) {
				fprintf(stderr, "mkcapture: bad start %s\n",
				    optarg);
				return 1;
			}
			break;
		case 'P': {
			char *s = optarg;

			nsmtp_ports = 0;
			while (*s && nsmtp_ports < 32) {
				unsigned long v = strtoul(s, &end, 10);

				if (end == s || v == 0 || v > 65535) {
					fprintf(stderr, "mkcapture: bad port "
					    "list %s\n", optarg);
					return 1;
				}
				smtp_ports[nsmtp_ports++] = (uint16_t)v;
				s = *end == ',' ? end + 1 : end;
				if (*end && *end != ',') {
					fprintf(stderr, "mkcapture: bad port "
					    "list %s\n", optarg);
					return 1;
				}
			}
			break;
		}
		case 'k':
			keep = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (out == NULL || optind >= argc) {
		usage(stderr);
		return 1;
	}
	rng_state = seed;

	for (i = (size_t)optind; i < (size_t)argc; i++)
		load_seed((uint32_t)(i - (size_t)optind), argv[i]);
	build_templates(keep);
	if (nconns == 0) {
		fprintf(stderr, "mkcapture: no TCP/UDP connection in the "
		    "seeds\n");
		return 1;
	}

	/* Class pools and byte totals. */
	uint32_t *pool[2];	/* 0 = background, 1 = SMTP */
	size_t npool[2] = { 0, 0 }, rr[2] = { 0, 0 };
	double wclass[2] = { 0, 0 };

	pool[0] = xrealloc(NULL, nconns * sizeof(uint32_t));
	pool[1] = xrealloc(NULL, nconns * sizeof(uint32_t));
	for (i = 0; i < nconns; i++) {
		int k = conns[i].smtp;

		pool[k][npool[k]++] = (uint32_t)i;
		wclass[k] += (double)conns[i].wire_bytes;
	}
	double r = ratio / 100.0;

	if (npool[1] == 0 && r > 0) {
		fprintf(stderr, "mkcapture: no SMTP connection in the seeds; "
		    "output is all background\n");
		r = 0;
	}
	if (npool[0] == 0 && r < 1) {
		fprintf(stderr, "mkcapture: no background connection in the "
		    "seeds; output is all SMTP\n");
		r = 1;
	}

	/* Time scale for the wanted concurrency. */
	double rate_Bps = rate_mbit * 1e6 / 8;
	int64_t max_gap = (int64_t)(max_gap_s * NS);
	double scale = 1;

	if (conc > 0) {
		double lo = 1e-4, hi = 1e6;
		int it;

		if (concurrency_at(hi, rate_Bps, r, wclass[1], wclass[0],
		    max_gap) < conc) {
			scale = hi;
			fprintf(stderr, "mkcapture: concurrency %.0f not "
			    "reachable with --max-gap %.3g s; using the "
			    "maximum\n", conc, max_gap_s);
		} else if (concurrency_at(lo, rate_Bps, r, wclass[1],
		    wclass[0], max_gap) > conc) {
			scale = lo;
		} else {
			for (it = 0; it < 100; it++) {
				double mid = (lo + hi) / 2;

				if (concurrency_at(mid, rate_Bps, r, wclass[1],
				    wclass[0], max_gap) < conc)
					lo = mid;
				else
					hi = mid;
			}
			scale = (lo + hi) / 2;
		}
	}
	apply_scale(scale, max_gap);

	if (verbose) {
		fprintf(stderr, "templates (class pkts wire_bytes dur_s "
		    "client:port -> server port, seed):\n");
		for (i = 0; i < nconns; i++) {
			const struct conn *c = &conns[i];

			fprintf(stderr, "  %-4s %5u %9" PRIu64 " %8.3f %s/%u "
			    "%u -> %u  %s\n", c->smtp ? "smtp" : "bg", c->n,
			    c->wire_bytes, (double)c->dur / NS,
			    c->key.proto == 6 ? "tcp" : "udp", c->key.ipv,
			    c->cport, c->sport, c->src);
		}
	}

	/* Output. */
	FILE *fp = fopen(out, "wb");
	pcap_t *dead;
	pcap_dumper_t *dump;
	static char obuf[1 << 22];

	if (fp == NULL) {
		fprintf(stderr, "mkcapture: %s: %s\n", out, strerror(errno));
		return 1;
	}
	setvbuf(fp, obuf, _IOFBF, sizeof obuf);
	dead = pcap_open_dead(DLT_EN10MB, OUT_SNAPLEN);
	dump = pcap_dump_fopen(dead, fp);
	if (dump == NULL) {
		fprintf(stderr, "mkcapture: %s: %s\n", out, pcap_geterr(dead));
		return 1;
	}

	struct inst *insts = NULL;
	uint32_t *freelist = NULL;
	size_t ninsts = 0, insts_cap = 0, nfree = 0;
	uint64_t sched = 24, sched_class[2] = { 0, 0 };
	uint64_t started = 0, started_class[2] = { 0, 0 };
	uint64_t written = 24, packets = 0, wire_total = 0;
	uint64_t wire_class[2] = { 0, 0 };
	double dur_sum = 0, area = 0, area_time = 0;
	size_t peak = 0;
	int64_t t_next = start_epoch * NS, t_first = -1, t_last = t_next;
	bool starting = true;
	uint8_t *buf = xrealloc(NULL, OUT_SNAPLEN);
	uint32_t addr_mul = 0x5bd1e9 | 1, addr_add;

	addr_add = (uint32_t)(rng_next() & 0xffffff);
	for (int k = 0; k < 2; k++)
		shuffle(pool[k], npool[k]);

	for (;;) {
		/* Start every session due before the next packet. */
		while (starting && (nheap == 0 || t_next <= heap[0].ts)) {
			int k;
			struct conn *c;
			struct inst *in;
			uint32_t ii;
			const struct lpkt *p0;

			if (r >= 1)
				k = 1;
			else if (r <= 0)
				k = 0;
			else
				k = (double)sched_class[1] <
				    r * (double)(sched_class[0] +
				    sched_class[1]) ? 1 : 0;
			if (rr[k] == npool[k]) {
				rr[k] = 0;
				shuffle(pool[k], npool[k]);
			}
			c = &conns[pool[k][rr[k]++]];
			c->copies++;

			if (nfree) {
				ii = freelist[--nfree];
			} else {
				if (ninsts == insts_cap) {
					insts_cap = insts_cap ? insts_cap * 2 :
					    4096;
					insts = xrealloc(insts, insts_cap *
					    sizeof *insts);
					freelist = xrealloc(freelist,
					    insts_cap * sizeof *freelist);
				}
				ii = (uint32_t)ninsts++;
			}
			in = &insts[ii];
			in->c = c;
			in->next = 0;
			in->start = t_next;
			p0 = &tpkts[c->first];

			/* A client of its own: address and port. */
			{
				uint64_t n = started;
				uint32_t v = (uint32_t)((n * addr_mul + addr_add) &
				    0xffffff);
				size_t alen = p0->ipv == 4 ? 4 : 16;
				uint8_t oport[2], nport[2];

				memset(in->caddr, 0, 16);
				if (p0->ipv == 4) {
					in->caddr[0] = 10;
					in->caddr[1] = v >> 16;
					in->caddr[2] = v >> 8;
					in->caddr[3] = v;
				} else {
					uint32_t hi = (uint32_t)(n >> 24);

					in->caddr[0] = 0xfd;
					in->caddr[1] = 0x53;
					in->caddr[2] = 0x54;
					in->caddr[3] = 0x57;
					in->caddr[8] = hi >> 24;
					in->caddr[9] = hi >> 16;
					in->caddr[10] = hi >> 8;
					in->caddr[11] = hi;
					in->caddr[12] = 0;
					in->caddr[13] = v >> 16;
					in->caddr[14] = v >> 8;
					in->caddr[15] = v;
				}
				in->cport = (uint16_t)(1024 + (c->cport + n) %
				    64512);
				put16(oport, c->cport);
				put16(nport, in->cport);
				in->d_ip = csum_delta(c->caddr, in->caddr,
				    alen);
				in->d_l4 = csum_fold((uint64_t)in->d_ip +
				    csum_delta(oport, nport, 2));
			}
			heap_push((struct hent){ t_next, started, ii });
			if (nheap > peak)
				peak = nheap;
			dur_sum += (double)c->dur / NS;
			started++;
			started_class[k]++;
			sched += c->file_bytes;
			sched_class[k] += c->wire_bytes;
			if (sched >= size)
				starting = false;
			t_next += (int64_t)((double)c->wire_bytes / rate_Bps *
			    (0.5 + rng_unit()) * NS);
		}
		if (nheap == 0)
			break;

		/* Emit the earliest packet. */
		struct hent top = heap[0];
		struct inst *in = &insts[top.inst];
		const struct conn *c = in->c;
		const struct lpkt *p = &tpkts[c->first + in->next];
		struct pcap_pkthdr h;

		memcpy(buf, arena + p->off, p->caplen);
		memcpy(buf + addr_off(p, p->from_client), in->caddr,
		    p->ipv == 4 ? 4 : 16);
		put16(buf + p->l4 + (p->from_client ? 0 : 2), in->cport);
		csum_apply(buf, p, in->d_ip, in->d_l4);
		h.ts.tv_sec = top.ts / NS;
		h.ts.tv_usec = (top.ts % NS) / 1000;
		h.caplen = p->caplen;
		h.len = p->wirelen > p->caplen ? p->wirelen : p->caplen;
		pcap_dump((u_char *)dump, &h, buf);
		packets++;
		written += 16 + p->caplen;
		wire_total += h.len;
		wire_class[c->smtp] += h.len;
		if (t_first < 0)
			t_first = top.ts;
		if (starting) {
			/* Time-weighted open sessions while sessions start. */
			area += (double)nheap * (double)(top.ts - t_last);
			area_time += (double)(top.ts - t_last);
		}
		t_last = top.ts;

		if (++in->next < c->n) {
			struct hent e = { in->start +
			    tpkts[c->first + in->next].toff, top.serial,
			    top.inst };

			heap_replace_top(&e);
		} else {
			freelist[nfree++] = top.inst;
			heap_replace_top(NULL);
		}
	}
	if (pcap_dump_flush(dump) != 0 || ferror(fp)) {
		fprintf(stderr, "mkcapture: %s: write error\n", out);
		return 1;
	}
	pcap_dump_close(dump);
	pcap_close(dead);

	/* Summary. */
	double span = (double)(t_last - t_first) / NS;
	uint64_t cmin[2] = { UINT64_MAX, UINT64_MAX }, cmax[2] = { 0, 0 };

	for (i = 0; i < nconns; i++) {
		int k = conns[i].smtp;

		if (conns[i].copies < cmin[k])
			cmin[k] = conns[i].copies;
		if (conns[i].copies > cmax[k])
			cmax[k] = conns[i].copies;
	}
	fprintf(stderr, "mkcapture: seeds: %d files, %zu packets kept, "
	    "%zu templates (%zu SMTP, %zu background)\n", argc - optind,
	    nlpkts, nconns, npool[1], npool[0]);
	fprintf(stderr, "mkcapture: dropped:");
	for (i = 0; i < DROP_N; i++)
		fprintf(stderr, " %s=%" PRIu64, drop_names[i], drops[i]);
	fprintf(stderr, "\nmkcapture: seed checksums repaired: ipv4=%" PRIu64
	    " tcp/udp=%" PRIu64 "%s\n", ipcs_fixed, l4cs_fixed,
	    keep ? " (--keep-checksums)" : "");
	fprintf(stderr, "mkcapture: wrote %s: %" PRIu64 " bytes, %" PRIu64
	    " packets, %" PRIu64 " sessions (%" PRIu64 " SMTP, %" PRIu64
	    " background)\n", out, written, packets, started,
	    started_class[1], started_class[0]);
	fprintf(stderr, "mkcapture: SMTP share of wire bytes %.1f%% (asked "
	    "%.1f%%); copies per template: SMTP %" PRIu64 "..%" PRIu64
	    ", background %" PRIu64 "..%" PRIu64 "\n",
	    wire_total ? 100.0 * (double)wire_class[1] / (double)wire_total : 0,
	    r * 100, npool[1] ? cmin[1] : 0, npool[1] ? cmax[1] : 0,
	    npool[0] ? cmin[0] : 0, npool[0] ? cmax[0] : 0);
	fprintf(stderr, "mkcapture: time span %.3f s, %.1f Mbit/s, gap scale "
	    "%.4g; open sessions: mean %.0f while sessions start (%.3f s), "
	    "mean %.0f over the whole span, peak %zu\n", span,
	    span > 0 ? (double)wire_total * 8 / span / 1e6 : 0, scale,
	    area_time > 0 ? area / area_time : 0, area_time / NS,
	    span > 0 ? dur_sum / span : 0, peak);
	free(buf);
	return 0;
}
