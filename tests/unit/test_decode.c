/*
 * test_decode.c - link types, VLAN stacks, IPv4/IPv6 (with extension
 * headers), TCP, checksums, truncation and malformed headers.
 */
#include <string.h>

#include <pcap/dlt.h>

#include "capture/decode.h"
#include "check.h"


static uint8_t frame[2048];

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
csum(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Writes a TCP header + payload at p; returns its length. */
static size_t
tcp(uint8_t *p, const char *payload, uint8_t flags)
{
	size_t n = strlen(payload);

	memset(p, 0, 20);
	put16(p, 40000);		/* client port */
	put16(p + 2, 25);
	p[4] = 0x11; p[5] = 0x22; p[6] = 0x33; p[7] = 0x44;	/* seq */
	p[12] = 5 << 4;
	p[13] = flags;
	put16(p + 14, 65535);
	memcpy(p + 20, payload, n);
	return 20 + n;
}

/* IPv4 + TCP at p with correct checksums; returns the IP length. */
static size_t
ipv4(uint8_t *p, const char *payload)
{
	size_t tl = tcp(p + 20, payload, 0x18), i;
	uint32_t sum = 0;
	uint8_t src[4] = { 192, 0, 2, 1 }, dst[4] = { 198, 51, 100, 25 };

	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)(20 + tl));
	p[8] = 64;
	p[9] = 6;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	put16(p + 10, csum(p, 20, 0));
	for (i = 0; i < 8; i += 2)
		sum += (uint32_t)(p[12 + i] << 8 | p[13 + i]);
	sum += 6 + (uint32_t)tl;
	put16(p + 20 + 16, csum(p + 20, tl, sum));
	return 20 + tl;
}

/* IPv6 + ext headers (nh chain given) + TCP; returns the IP length. */
static size_t
ipv6(uint8_t *p, const char *payload, const uint8_t *ext, size_t extlen)
{
	size_t tl, i;
	uint32_t sum = 0;
	uint8_t *t;

	memset(p, 0, 40);
	p[0] = 0x60;
	p[6] = extlen > 0 ? ext[0] : 6;	/* first next-header */
	p[7] = 64;
	p[8] = 0x20; p[9] = 0x01; p[10] = 0x0d; p[11] = 0xb8; p[23] = 1;
	p[24] = 0x20; p[25] = 0x01; p[26] = 0x0d; p[27] = 0xb8; p[39] = 2;
	if (extlen > 0)
		memcpy(p + 40, ext + 1, extlen - 1);
	t = p + 40 + (extlen > 0 ? extlen - 1 : 0);
	tl = tcp(t, payload, 0x18);
	put16(p + 4, (uint16_t)(t - p - 40 + tl));
	for (i = 0; i < 32; i += 2)
		sum += (uint32_t)(p[8 + i] << 8 | p[9 + i]);
	sum += 6 + (uint32_t)tl;
	put16(t + 16, csum(t, tl, sum));
	return (size_t)(t - p) + tl;
}

static size_t
ether(uint8_t *p, const uint16_t *tags, int ntags, uint16_t type)
{
	size_t off = 12;
	int i;

	memset(p, 0xaa, 12);
	for (i = 0; i < ntags; i++) {
		put16(p + off, tags[i]);
		put16(p + off + 2, (uint16_t)(100 + i));
		off += 4;
	}
	put16(p + off, type);
	return off + 2;
}

static void
test_ethernet_ipv4(void)
{
	struct packet p;
	size_t n = ether(frame, NULL, 0, 0x0800);

	n += ipv4(frame + n, "EHLO x\r\n");
	CHECK(decode_frame(DLT_EN10MB, frame, n, n, true, &p) == DECODE_TCP);
	CHECK(p.family == 4 && p.src[0] == 192 && p.dst[3] == 25);
	CHECK(p.sport == 40000 && p.dport == 25);
	CHECK(p.seq == 0x11223344 && p.flags == 0x18);
	CHECK(p.payload_len == 8 && memcmp(p.payload, "EHLO x\r\n", 8) == 0);
	CHECK(p.cksum_checked && !p.cksum_bad);
}

/* Ethernet minimum-size padding is not payload. */
static void
test_padding(void)
{
	struct packet p;
	size_t n = ether(frame, NULL, 0, 0x0800);

	n += ipv4(frame + n, "");
	memset(frame + n, 0, 6);
	CHECK(decode_frame(DLT_EN10MB, frame, n + 6, n + 6, true, &p) ==
	    DECODE_TCP);
	CHECK(p.payload_len == 0 && p.seg_len == 0 && !p.cksum_bad);
}

static void
test_bad_checksum_kept(void)
{
	struct packet p;
	size_t n = ether(frame, NULL, 0, 0x0800);

	n += ipv4(frame + n, "QUIT\r\n");
	frame[n - 1] ^= 0x40;		/* payload byte flipped */
	CHECK(decode_frame(DLT_EN10MB, frame, n, n, true, &p) == DECODE_TCP);
	CHECK(p.cksum_bad);
	CHECK(decode_frame(DLT_EN10MB, frame, n, n, false, &p) == DECODE_TCP);
	CHECK(!p.cksum_checked && !p.cksum_bad);
}

static void
test_vlan_stacks(void)
{
	static const uint16_t qinq[] = { 0x88a8, 0x8100 };
	static const uint16_t deep[] = { 0x8100, 0x8100, 0x8100, 0x8100,
	    0x8100 };
	struct packet p;
	size_t n = ether(frame, qinq, 2, 0x0800);

	n += ipv4(frame + n, "DATA\r\n");
	CHECK(decode_frame(DLT_EN10MB, frame, n, n, true, &p) == DECODE_TCP);
	CHECK(p.payload_len == 6 && !p.cksum_bad);
	n = ether(frame, deep, 5, 0x0800);
	n += ipv4(frame + n, "");
	CHECK(decode_frame(DLT_EN10MB, frame, n, n, true, &p) ==
	    DECODE_MALFORMED);
}

static void
test_sll_sll2_null_raw(void)
{
	struct packet p;
	size_t n;

	memset(frame, 0, 16);
	put16(frame + 14, 0x0800);
	n = 16 + ipv4(frame + 16, "A");
	CHECK(decode_frame(DLT_LINUX_SLL, frame, n, n, true, &p) == DECODE_TCP);
	CHECK(p.payload_len == 1 && !p.cksum_bad);

	memset(frame, 0, 20);
	put16(frame, 0x86dd);
	n = 20 + ipv6(frame + 20, "BB", NULL, 0);
	CHECK(decode_frame(DLT_LINUX_SLL2, frame, n, n, true, &p) ==
	    DECODE_TCP);
	CHECK(p.family == 6 && p.payload_len == 2 && !p.cksum_bad);

	/* BSD loopback: family in host order, little-endian here... */
	frame[0] = 2; frame[1] = frame[2] = frame[3] = 0;
	n = 4 + ipv4(frame + 4, "CCC");
	CHECK(decode_frame(DLT_NULL, frame, n, n, true, &p) == DECODE_TCP);
	/* ...or written on a big-endian host. */
	frame[0] = frame[1] = frame[2] = 0; frame[3] = 2;
	CHECK(decode_frame(DLT_NULL, frame, n, n, true, &p) == DECODE_TCP);
	/* DLT_LOOP is always network order; 30 is AF_INET6 on macOS. */
	frame[3] = 30;
	n = 4 + ipv6(frame + 4, "DDDD", NULL, 0);
	CHECK(decode_frame(DLT_LOOP, frame, n, n, true, &p) == DECODE_TCP);
	CHECK(p.family == 6 && p.payload_len == 4);

	n = ipv4(frame, "EEEEE");
	CHECK(decode_frame(DLT_RAW, frame, n, n, true, &p) == DECODE_TCP);
	CHECK(p.payload_len == 5 && !p.cksum_bad);
}

static void
test_ipv6_extensions(void)
{
	/* hop-by-hop (8 bytes) then destination options (8) then TCP */
	static const uint8_t ext[] = { 0,
	    60, 0, 1, 4, 0, 0, 0, 0,
	    6, 0, 1, 4, 0, 0, 0, 0 };
	/* an atomic fragment header (offset 0, M clear) */
	static const uint8_t atomic[] = { 44, 6, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t frag[] = { 44, 6, 0, 0, 1, 0, 0, 0, 1 };
	struct packet p;
	size_t n;

	n = ipv6(frame, "RCPT TO:<a@b>\r\n", ext, sizeof(ext));
	CHECK(decode_frame(DLT_RAW, frame, n, n, true, &p) == DECODE_TCP);
	CHECK(p.payload_len == 15 && !p.cksum_bad);
	n = ipv6(frame, "X", atomic, sizeof(atomic));
	CHECK(decode_frame(DLT_RAW, frame, n, n, true, &p) == DECODE_TCP);
	n = ipv6(frame, "X", frag, sizeof(frag));
	CHECK(decode_frame(DLT_RAW, frame, n, n, true, &p) == DECODE_FRAGMENT);
}

static void
test_ipv4_fragment(void)
{
	struct packet p;
	size_t n = ipv4(frame, "frag");

	frame[6] = 0x20;		/* more fragments */
	CHECK(decode_frame(DLT_RAW, frame, n, n, true, &p) == DECODE_FRAGMENT);
	frame[6] = 0x40;		/* don't fragment: a whole packet */
	CHECK(decode_frame(DLT_RAW, frame, n, n, false, &p) == DECODE_TCP);
}

/* Snaplen cuts: headers cut is TRUNCATED, payload cut keeps seg_len. */
static void
test_truncation(void)
{
	struct packet p;
	size_t n = ipv4(frame, "0123456789");

	CHECK(decode_frame(DLT_RAW, frame, 30, n, true, &p) ==
	    DECODE_TRUNCATED);
	CHECK(decode_frame(DLT_RAW, frame, 44, n, true, &p) == DECODE_TCP);
	CHECK(p.payload_len == 4 && p.seg_len == 10);
	CHECK(!p.cksum_checked);
	CHECK(decode_frame(DLT_EN10MB, frame, 10, 100, true, &p) ==
	    DECODE_TRUNCATED);
	/* A SYN whose options are cut still gives ports, seq and flags. */
	n = ipv4(frame, "");
	frame[20 + 12] = 10 << 4;	/* 40-byte header, 20 of options */
	put16(frame + 2, 60);
	CHECK(decode_frame(DLT_RAW, frame, 54, 60, false, &p) == DECODE_TCP);
	CHECK(p.sport == 40000 && p.seq == 0x11223344);
	CHECK(p.payload_len == 0 && p.seg_len == 0);
}

static void
test_malformed(void)
{
	struct packet p;
	size_t n = ipv4(frame, "abc");

	frame[0] = 0x44;		/* IHL 16 bytes */
	CHECK(decode_frame(DLT_RAW, frame, n, n, false, &p) == DECODE_MALFORMED);
	n = ipv4(frame, "abc");
	put16(frame + 2, (uint16_t)(n + 100));	/* longer than the frame */
	CHECK(decode_frame(DLT_RAW, frame, n, n, false, &p) == DECODE_MALFORMED);
	n = ipv4(frame, "abc");
	frame[20 + 12] = 0xf0;		/* TCP data offset 60 > segment */
	CHECK(decode_frame(DLT_RAW, frame, n, n, false, &p) == DECODE_MALFORMED);
	n = ipv4(frame, "abc");
	frame[9] = 17;			/* UDP */
	CHECK(decode_frame(DLT_RAW, frame, n, n, false, &p) == DECODE_NOT_TCP);
	CHECK(!decode_dlt_supported(DLT_IEEE802_11));
	CHECK(decode_dlt_supported(DLT_LINUX_SLL2));
}

/*
 * Checksums over every payload length (odd and even, every alignment of
 * the tail) with bytes that make carries: a correct one passes, any one
 * byte changed fails, over IPv4 and IPv6.
 */
static void
test_checksum_lengths(void)
{
	static const uint8_t ext[1] = { 6 };
	char payload[600];
	struct packet p;
	uint32_t x = 1;
	size_t len, n, i;
	int v6;

	for (v6 = 0; v6 < 2; v6++)
		for (len = 1; len < sizeof(payload); len++) {
			for (i = 0; i < len; i++) {
				x = x * 1103515245 + 12345;
				/* No NUL: tcp() takes a string. */
				payload[i] = (char)(0x80 | (x >> 16));
			}
			payload[len] = '\0';
			n = v6 ? ipv6(frame, payload, ext, 0) :
			    ipv4(frame, payload);
			CHECK(decode_frame(v6 ? DLT_IPV6 : DLT_IPV4, frame, n,
			    n, true, &p) == DECODE_TCP);
			CHECK(p.cksum_checked && !p.cksum_bad);
			i = n - 1 - (x >> 8) % len;	/* a payload byte */
			frame[i] ^= (uint8_t)(1 + (x & 0x7f));
			CHECK(decode_frame(v6 ? DLT_IPV6 : DLT_IPV4, frame, n,
			    n, true, &p) == DECODE_TCP);
			CHECK(p.cksum_bad);
		}
}

int
main(void)
{
	RUN(test_ethernet_ipv4);
	RUN(test_padding);
	RUN(test_bad_checksum_kept);
	RUN(test_vlan_stacks);
	RUN(test_sll_sll2_null_raw);
	RUN(test_ipv6_extensions);
	RUN(test_ipv4_fragment);
	RUN(test_truncation);
	RUN(test_malformed);
	RUN(test_checksum_lengths);
	return check_done("decode");
}
