/*
 * decode.h - link, IPv4/IPv6 and TCP header decoding of one captured frame.
 *
 * Stateless: one frame in, one struct packet out.  Knows nothing of flows
 * or SMTP.  RFC 791, RFC 8200, RFC 9293.
 */
#ifndef SW_DECODE_H
#define SW_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/dlt.h>

/* Link types some older libpcap headers lack. */
#ifndef DLT_IPV4
#define DLT_IPV4	228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6	229
#endif
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2	276
#endif

#define TCP_FIN	0x01
#define TCP_SYN	0x02
#define TCP_RST	0x04
#define TCP_PSH	0x08
#define TCP_ACK	0x10

/* One decoded TCP segment.  Pointers alias the caller's frame buffer. */
struct packet {
	uint64_t	 ts_us;		/* pcap time, microseconds since epoch */
	uint64_t	 frame;		/* 1-based frame number within its file */
	uint32_t	 source;	/* index of the input file, 0-based */
	uint8_t		 family;	/* 4 or 6 */
	uint8_t		 src[16];	/* IPv4 uses the first 4 bytes */
	uint8_t		 dst[16];
	uint16_t	 sport, dport;
	uint32_t	 seq, ack;
	uint8_t		 flags;		/* TCP_* bits */
	bool		 cksum_bad;	/* IP or TCP checksum wrong */
	bool		 cksum_checked;	/* false when truncated or disabled */
	const uint8_t	*l3;		/* IP header, for the classifier */
	size_t		 l3_len;	/* captured bytes from l3 on */
	const uint8_t	*l4;		/* TCP header */
	bool		 whole;		/* all of the TCP segment captured */
	const uint8_t	*payload;	/* TCP payload as captured */
	size_t		 payload_len;	/* captured payload bytes */
	size_t		 seg_len;	/* payload bytes on the wire (>= payload_len) */
};

enum decode_result {
	DECODE_TCP,		/* struct packet filled */
	DECODE_NOT_TCP,		/* valid, but not TCP over IP: ignored */
	DECODE_FRAGMENT,	/* IP fragment: not reassembled, counted */
	DECODE_TRUNCATED,	/* headers cut by snaplen */
	DECODE_MALFORMED,	/* header fields contradict each other */
};

/*
 * Returns true when stripwatch can decode frames of this libpcap DLT.
 */
bool	decode_dlt_supported(int dlt);

/*
 * Decodes one frame of link type dlt.  caplen bytes of buf were captured of
 * a wire length wirelen.  With verify set, IPv4 header and TCP checksums are
 * checked when the whole segment was captured.  Fills *p on DECODE_TCP only;
 * never reads past caplen.
 */
enum decode_result decode_frame(int dlt, const uint8_t *buf, size_t caplen,
	    size_t wirelen, bool verify, struct packet *p);

/*
 * Checks the checksums of a segment decode_frame() filled p for, later:
 * sets cksum_checked and cksum_bad as verify would have.  The frame's
 * bytes must still be where they were.
 */
void	decode_verify(struct packet *p);

/* Stable lower-case name of a result, for counters and messages. */
const char *decode_result_name(enum decode_result);

#endif
