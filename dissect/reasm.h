/*
 * reasm.h - TCP reassembly of one direction of a connection (RFC 9293).
 *
 * Segments go in in any order; bytes come out once, in sequence order,
 * through a sink.  Retransmissions are delivered once.  Overlaps keep the
 * bytes seen first; an overlap carrying different bytes is counted as a
 * conflict (evasion or injection).  A hole that will not be filled (a cap
 * was hit, the flow ended, or the caller decided a hole the peer
 * acknowledged long ago is lost) is reported to the sink as a gap of n
 * bytes, never papered over.  An acknowledgement alone never gives a hole
 * up: captures often hold the ACK before the data it covers.
 */
#ifndef SW_REASM_H
#define SW_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Where reassembled bytes go.  Callbacks may not re-enter the reassembler,
 * except that data() may call reasm_forget() on any direction.
 */
struct reasm_sink {
	void	(*data)(void *ctx, const uint8_t *buf, size_t len,
		    uint64_t frame);
	void	(*gap)(void *ctx, uint64_t len);
	void	*ctx;
};

/* State shared by all directions of all flows: memory budget, counters. */
struct reasm_pool {
	uint64_t	mem;		/* out-of-order bytes buffered now */
	uint64_t	mem_max;	/* cap on mem */
	uint64_t	hist_mem;	/* history buffers held now */
	uint64_t	hist_mem_max;	/* cap on hist_mem; 0 = no history */
	uint32_t	segs_max;	/* out-of-order segments per direction */
	uint32_t	bytes_max;	/* out-of-order bytes per direction */
	uint64_t	cap_skips;	/* holes given up because a cap was hit */
	uint64_t	unverified;	/* retransmitted bytes too old to compare */
};

struct reasm_seg;

/*
 * One direction.  Embedded in the flow, zeroed to start; the fields are
 * private to reasm.c except the counters at the end.
 */
struct reasm {
	uint64_t	 next;		/* stream offset of the next byte out */
	uint64_t	 acked;		/* highest offset the peer acknowledged */
	uint64_t	 fin;		/* stream offset of the FIN, if fin_seen */
	struct reasm_seg *ooo;		/* out-of-order pieces, sorted, disjoint */
	uint8_t		*hist;		/* last REASM_HIST_BYTES delivered (ring) */
	uint32_t	 base;		/* sequence number of stream offset 0 */
	uint32_t	 ooo_bytes;
	uint32_t	 hist_valid;	/* bytes of hist that are real stream */
	uint16_t	 nseg;
	bool		 started;	/* base known */
	bool		 syn_seen;
	bool		 fin_seen;
	bool		 acked_seen;
	bool		 hist_off;	/* reasm_forget(): no history kept */
	/* Counters, read by the flow table. */
	uint64_t	 bytes;		/* bytes delivered */
	uint64_t	 gap_bytes;	/* bytes reported as gaps */
	uint32_t	 gaps;		/* gaps reported */
	uint32_t	 conflicts;	/* overlaps with different bytes */
};

/*
 * Feeds one segment: seq and flags from the TCP header, caplen captured
 * payload bytes of seglen on the wire (a snaplen cut leaves a hole that
 * becomes a gap).  Delivers every byte that became contiguous.
 */
void	reasm_segment(struct reasm *, struct reasm_pool *, uint32_t seq,
	    uint8_t flags, const uint8_t *data, size_t caplen, size_t seglen,
	    uint64_t frame, const struct reasm_sink *);

/*
 * Tells the reassembler the peer acknowledged up to ack.  Only recorded:
 * see reasm_stalled() and the tail gap of reasm_finish().
 */
void	reasm_ack(struct reasm *, uint32_t ack);

/*
 * True when data waits behind a hole the peer has acknowledged past: the
 * receiver has those bytes, the capture may not.
 */
bool	reasm_stalled(const struct reasm *);

/* Gives up the hole before the first buffered piece and delivers on. */
void	reasm_skip_hole(struct reasm *, struct reasm_pool *,
	    const struct reasm_sink *);

/* Flushes at end of flow: remaining holes become gaps, all data goes out. */
void	reasm_finish(struct reasm *, struct reasm_pool *,
	    const struct reasm_sink *);

/* True once the FIN was reached with nothing missing before it. */
bool	reasm_done(const struct reasm *);

/*
 * Stops keeping delivered bytes to compare retransmissions with, and
 * gives the history budget back; later overlaps count as unverified.
 */
void	reasm_forget(struct reasm *, struct reasm_pool *);

/* Releases buffers; the struct may then be zeroed and reused. */
void	reasm_free(struct reasm *, struct reasm_pool *);

#endif
