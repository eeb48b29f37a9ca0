/*
 * decode.c - link, IPv4/IPv6 and TCP header decoding of one captured frame.
 *
 * RFC 791 (IPv4), RFC 8200 (IPv6 and its extension headers), RFC 9293
 * (TCP), RFC 1071 (the Internet checksum), IEEE 802.1Q (VLAN tags).
 * Every read is preceded by a remaining-length check; nothing here trusts
 * a length field from the wire without comparing it to what was captured.
 */
#include <string.h>

#include "config.h"
#include "decode.h"

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_VLAN	0x8100
#define ETHERTYPE_QINQ	0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100

#define IPPROTO_TCP_	6


static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * One's complement sum of len bytes, not yet folded (RFC 1071).  Eight
 * bytes at a time as they lie in memory, the carry out of each add put
 * back in (end-around): in a machine of the other byte order that gives
 * the sum byte-swapped (RFC 1071, 2(B)), swapped back once at the end.
 */
static uint64_t
cksum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	uint64_t acc = 0, w;
	uint32_t folded;

	if (len >= 8) {
		for (; len >= 8; p += 8, len -= 8) {
			memcpy(&w, p, sizeof(w));
			acc += w;
			acc += acc < w;
		}
		folded = (uint32_t)(acc >> 32) + (uint32_t)acc;
		folded += (uint32_t)(folded < (uint32_t)acc);
		folded = (folded >> 16) + (folded & 0xffff);
		folded = (folded >> 16) + (folded & 0xffff);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		folded = __builtin_bswap16((uint16_t)folded);
#endif
		sum += folded;
	}
	for (; len >= 2; p += 2, len -= 2)
		sum += be16(p);
	if (len == 1)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t
cksum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

bool
decode_dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return true;
	}
	return false;
}

const char *
decode_result_name(enum decode_result r)
{
	switch (r) {
	case DECODE_TCP:	return "tcp";
	case DECODE_NOT_TCP:	return "not_tcp";
	case DECODE_FRAGMENT:	return "fragment";
	case DECODE_TRUNCATED:	return "truncated";
	case DECODE_MALFORMED:	return "malformed";
	}
	return "unknown";
}

/* TCP header at buf: cap bytes captured of wire on the wire. */
static enum decode_result
decode_tcp(const uint8_t *buf, size_t cap, size_t wire, struct packet *p)
{
	size_t hlen;

	if (cap < 20)
		return wire < 20 ? DECODE_MALFORMED : DECODE_TRUNCATED;
	hlen = (size_t)(buf[12] >> 4) * 4;
	if (hlen < 20 || hlen > wire)
		return DECODE_MALFORMED;	/* data offset outside the segment */
	p->sport = be16(buf);
	p->dport = be16(buf + 2);
	p->seq = be32(buf + 4);
	p->ack = be32(buf + 8);
	p->flags = buf[13];
	p->cksum_bad = false;
	p->cksum_checked = false;
	p->l4 = buf;
	p->whole = cap == wire;
	p->seg_len = wire - hlen;
	if (hlen > cap) {
		/* Options cut by snaplen: the fixed header still counts. */
		p->payload = buf + cap;
		p->payload_len = 0;
		return DECODE_TCP;
	}
	p->payload = buf + hlen;
	p->payload_len = cap - hlen;
	return DECODE_TCP;
}

static enum decode_result
decode_ipv4(const uint8_t *buf, size_t cap, size_t wire, struct packet *p)
{
	size_t ihl, total;

	if (cap < 20)
		return wire < 20 ? DECODE_MALFORMED : DECODE_TRUNCATED;
	if (buf[0] >> 4 != 4)
		return DECODE_MALFORMED;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < 20)
		return DECODE_MALFORMED;
	if (ihl > cap)
		return DECODE_TRUNCATED;
	total = be16(buf + 2);
	if (total == 0)
		total = wire;		/* segmentation offload: length unset */
	if (total < ihl || total > wire)
		return DECODE_MALFORMED;
	if (cap > total)
		cap = total;		/* link-layer padding */
	if ((be16(buf + 6) & 0x3fff) != 0)
		return DECODE_FRAGMENT;	/* MF set or non-zero offset */
	if (buf[9] != IPPROTO_TCP_)
		return DECODE_NOT_TCP;
	p->family = 4;
	memset(p->src, 0, sizeof(p->src));
	memset(p->dst, 0, sizeof(p->dst));
	memcpy(p->src, buf + 12, 4);
	memcpy(p->dst, buf + 16, 4);
	return decode_tcp(buf + ihl, cap - ihl, total - ihl, p);
}

static enum decode_result
decode_ipv6(const uint8_t *buf, size_t cap, size_t wire, struct packet *p)
{
	size_t off = 40, total, plen;
	uint8_t nh;
	int n;

	if (cap < 40)
		return wire < 40 ? DECODE_MALFORMED : DECODE_TRUNCATED;
	if (buf[0] >> 4 != 6)
		return DECODE_MALFORMED;
	plen = be16(buf + 4);
	if (plen == 0)
		plen = wire - 40;	/* jumbogram or offload: trust the frame */
	total = 40 + plen;
	if (total > wire)
		return DECODE_MALFORMED;
	if (cap > total)
		cap = total;
	nh = buf[6];
	for (n = 0; ; n++) {
		size_t elen;

		if (nh == IPPROTO_TCP_)
			break;
		if (n >= DECODE_IP6_EXT_MAX)
			return DECODE_MALFORMED;	/* header chain too long */
		switch (nh) {
		case 0:		/* hop-by-hop */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (cap - off < 2)
				return DECODE_TRUNCATED;
			elen = ((size_t)buf[off + 1] + 1) * 8;
			break;
		case 51:	/* authentication header, RFC 4302 */
			if (cap - off < 2)
				return DECODE_TRUNCATED;
			elen = ((size_t)buf[off + 1] + 2) * 4;
			break;
		case 44:	/* fragment */
			if (cap - off < 8)
				return DECODE_TRUNCATED;
			/* An atomic fragment (offset 0, M clear) is whole. */
			if ((be16(buf + off + 2) & 0xfff9) != 0)
				return DECODE_FRAGMENT;
			elen = 8;
			break;
		default:
			return DECODE_NOT_TCP;
		}
		if (total - off < elen)
			return DECODE_MALFORMED;
		if (cap - off < elen)
			return DECODE_TRUNCATED;
		nh = buf[off];
		off += elen;
	}
	p->family = 6;
	memcpy(p->src, buf + 8, 16);
	memcpy(p->dst, buf + 24, 16);
	return decode_tcp(buf + off, cap - off, total - off, p);
}

static enum decode_result
decode_ip(uint16_t ethertype, const uint8_t *buf, size_t cap, size_t wire,
    struct packet *p)
{
	enum decode_result r;

	if (ethertype == ETHERTYPE_IPV4)
		r = decode_ipv4(buf, cap, wire, p);
	else if (ethertype == ETHERTYPE_IPV6)
		r = decode_ipv6(buf, cap, wire, p);
	else
		return DECODE_NOT_TCP;
	if (r == DECODE_TCP) {
		p->l3 = buf;
		p->l3_len = cap;
	}
	return r;
}

/* BSD loopback: a 4-byte address family in the capturing host's order. */
static uint16_t
null_family(const uint8_t *b, bool network_order)
{
	uint32_t af = network_order ? be32(b) :
	    (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;

	if (!network_order && af > 0xffff)	/* written big-endian */
		af = be32(b);
	switch (af) {
	case 2:
		return ETHERTYPE_IPV4;
	case 10: case 24: case 28: case 30:	/* Linux, BSDs, macOS */
		return ETHERTYPE_IPV6;
	}
	return 0;
}

enum decode_result
decode_frame(int dlt, const uint8_t *buf, size_t caplen, size_t wirelen,
    bool verify, struct packet *p)
{
	enum decode_result r;
	size_t off = 0;
	uint16_t type;
	int tags;

	if (wirelen < caplen)
		wirelen = caplen;	/* a writer that lied: trust the bytes */
	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			return DECODE_TRUNCATED;
		type = be16(buf + 12);
		off = 14;
		for (tags = 0; type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
		    type == ETHERTYPE_QINQ_OLD; tags++) {
			if (tags >= DECODE_VLAN_MAX)
				return DECODE_MALFORMED;
			if (caplen - off < 4)
				return DECODE_TRUNCATED;
			type = be16(buf + off + 2);
			off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return DECODE_TRUNCATED;
		type = be16(buf + 14);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return DECODE_TRUNCATED;
		type = be16(buf);
		off = 20;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		if (caplen < 4)
			return DECODE_TRUNCATED;
		type = null_family(buf, dlt == DLT_LOOP);
		off = 4;
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (caplen < 1)
			return DECODE_TRUNCATED;
		type = (buf[0] >> 4) == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
		break;
	default:
		return DECODE_NOT_TCP;
	}
	r = decode_ip(type, buf + off, caplen - off, wirelen - off, p);
	if (r == DECODE_TCP && verify)
		decode_verify(p);
	return r;
}

/*
 * The IPv4 header's checksum from its own bytes, the TCP checksum over the
 * pseudo header (RFC 9293 3.1) when the whole segment was captured.
 */
void
decode_verify(struct packet *p)
{
	uint64_t sum;
	bool hdr_bad = false;

	if (p->family == 4) {
		hdr_bad = cksum_fold(cksum_add(0, p->l3,
		    (size_t)(p->l3[0] & 0x0f) * 4)) != 0xffff;
		sum = cksum_add(0, p->l3 + 12, 8);
	} else
		sum = cksum_add(0, p->l3 + 8, 32);
	p->cksum_checked = p->whole || hdr_bad;
	p->cksum_bad = hdr_bad;
	if (p->whole) {
		size_t len = (size_t)(p->payload - p->l4) + p->payload_len;

		sum = cksum_add(sum + IPPROTO_TCP_ + len, p->l4, len);
		if (cksum_fold(sum) != 0xffff)
			p->cksum_bad = true;
	}
}
