/*
 * fuzz_decode.c - fuzz target for decode_frame() (RFC 791, 8200, 9293).
 *
 * Input: byte 0 picks the link type (index into dlts[] below, modulo its
 * size), byte 1 holds flags, the rest is the captured frame:
 *
 *	flags bit 0	verify checksums
 *	flags bit 1	wirelen > caplen (as after a snaplen cut)
 *	flags bits 2-7	k: how much longer the wire frame was (k * k * 17 + 1)
 *
 * The frame is copied into a malloc of exactly its size so ASan reports
 * reads on either side.  On DECODE_TCP the struct packet must describe
 * bytes inside that buffer and agree with itself; the result must not
 * depend on whether checksums were verified, and decode_verify() on the
 * unverified decode must give the verified one's checksum verdict.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "capture/decode.h"
#include "fuzz/fuzz.h"


#define FLAG_VERIFY	0x01
#define FLAG_LONGER	0x02

static const int dlts[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
	DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP,
};

/* True when [p, p + n) lies inside [buf, buf + len). */
static bool
inside(const uint8_t *buf, size_t len, const uint8_t *p, size_t n)
{
	uintptr_t b = (uintptr_t)buf, q = (uintptr_t)p;

	return q >= b && q - b <= len && n <= len - (q - b);
}

static void
check_tcp(const uint8_t *buf, size_t caplen, size_t wirelen,
    const struct packet *p)
{
	FUZZ_CHECK(p->family == 4 || p->family == 6);
	FUZZ_CHECK(p->l3 != NULL && inside(buf, caplen, p->l3, p->l3_len));
	FUZZ_CHECK(p->payload != NULL &&
	    inside(buf, caplen, p->payload, p->payload_len));
	/* The payload follows the IP and TCP headers within l3. */
	FUZZ_CHECK(inside(p->l3, p->l3_len, p->payload, p->payload_len));
	FUZZ_CHECK((size_t)(p->payload - p->l3) >= (p->family == 4 ? 40 : 60));
	FUZZ_CHECK(p->payload_len <= p->seg_len);
	FUZZ_CHECK(p->seg_len <= wirelen);
	/* Touch every byte claimed, so ASan checks the claim too. */
	if (p->payload_len > 0) {
		volatile uint8_t sink = p->payload[0] ^
		    p->payload[p->payload_len - 1];
		(void)sink;
	}
	if (p->cksum_bad)
		FUZZ_CHECK(p->cksum_checked);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct packet p, q;
	enum decode_result r, r2;
	uint8_t *frame;
	size_t caplen, wirelen;
	uint8_t flags;
	int dlt;

	if (size < 2)
		return 0;
	dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	FUZZ_CHECK(decode_dlt_supported(dlt));
	flags = data[1];
	caplen = size - 2;
	wirelen = caplen;
	if (flags & FLAG_LONGER) {
		size_t k = flags >> 2;

		wirelen += k * k * 17 + 1;
	}
	frame = malloc(caplen > 0 ? caplen : 1);
	FUZZ_CHECK(frame != NULL);
	memcpy(frame, data + 2, caplen);

	memset(&p, 0, sizeof(p));
	r = decode_frame(dlt, frame, caplen, wirelen, flags & FLAG_VERIFY, &p);
	FUZZ_CHECK(r == DECODE_TCP || r == DECODE_NOT_TCP ||
	    r == DECODE_FRAGMENT || r == DECODE_TRUNCATED ||
	    r == DECODE_MALFORMED);
	FUZZ_CHECK(strcmp(decode_result_name(r), "unknown") != 0);
	if (r == DECODE_TCP) {
		check_tcp(frame, caplen, wirelen, &p);
		/* "checked when the whole segment was captured" (decode.h) */
		if ((flags & FLAG_VERIFY) && wirelen == caplen)
			FUZZ_CHECK(p.cksum_checked);
		if (!(flags & FLAG_VERIFY))
			FUZZ_CHECK(!p.cksum_checked && !p.cksum_bad);
	}

	/* Verifying checksums only sets the two checksum fields. */
	memset(&q, 0, sizeof(q));
	r2 = decode_frame(dlt, frame, caplen, wirelen, !(flags & FLAG_VERIFY),
	    &q);
	FUZZ_CHECK(r2 == r);
	if (r == DECODE_TCP) {
		const struct packet *verified = (flags & FLAG_VERIFY) ? &p : &q;
		struct packet later = (flags & FLAG_VERIFY) ? q : p;

		/* Verified later, the same verdict as verified at once. */
		decode_verify(&later);
		FUZZ_CHECK(later.cksum_bad == verified->cksum_bad);
		FUZZ_CHECK(later.cksum_checked == verified->cksum_checked);
		q.cksum_bad = p.cksum_bad;
		q.cksum_checked = p.cksum_checked;
		FUZZ_CHECK(memcmp(&p, &q, sizeof(p)) == 0);
	}
	free(frame);
	return 0;
}
