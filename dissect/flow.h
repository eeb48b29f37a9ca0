/*
 * flow.h - the bidirectional TCP flow table: lookup, client/server roles,
 * per-direction reassembly, classification, pcap-time expiry and caps.
 *
 * Every flow leaves the table through one path, flow_close(), whatever the
 * reason (FIN/RST and linger, idle, eviction, port reuse, end of input),
 * and that path hands the finished flow record to the close hook.
 */
#ifndef SW_FLOW_H
#define SW_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/decode.h"
#include "dissect/classify.h"

#define FLOW_C2S	0	/* client to server */
#define FLOW_S2C	1	/* server to client */

struct flow;
struct flow_table;

struct flow_limits {
	uint32_t	flows_max;	/* flows held at once */
	uint64_t	idle_us;	/* idle timeout, pcap time */
	uint64_t	closed_us;	/* linger after FIN both ways or RST */
	uint32_t	ooo_segs_max;	/* reassembly caps, per direction */
	uint32_t	ooo_bytes_max;
	uint64_t	mem_max;	/* all out-of-order buffers */
	uint64_t	hist_mem_max;	/* all retransmit-check history */
	bool		digest;		/* SHA-256 of every stream; bypassed
					   flows are then still reassembled */
};

enum flow_close_reason {
	FLOW_CLOSE_FIN,		/* FIN both ways, linger over */
	FLOW_CLOSE_RST,		/* reset, linger over */
	FLOW_CLOSE_IDLE,	/* nothing seen for idle_us */
	FLOW_CLOSE_EVICT,	/* table full: oldest made room */
	FLOW_CLOSE_REUSE,	/* a new SYN on the same 5-tuple */
	FLOW_CLOSE_END,		/* end of input or shutdown */
};

/* What a closed flow reports.  Endpoint [0] is the client. */
struct flow_record {
	/* The tuple first: a lookup reads it beside the chain link. */
	uint8_t		ip[2][16];
	uint16_t	port[2];
	uint8_t		family;		/* 4 or 6 */
	bool		syn_seen;	/* roles from the handshake, not guessed */
	bool		digest;		/* sha256 holds the whole streams */
	uint64_t	id;		/* 1-based, in order of creation */
	uint64_t	first_ts, last_ts;	/* pcap time, µs */
	uint64_t	first_frame, last_frame;
	uint64_t	packets[2];	/* per direction, [FLOW_C2S] ... */
	uint64_t	bytes[2];	/* reassembled stream bytes */
	uint64_t	gap_bytes[2];
	uint32_t	gaps[2];
	uint32_t	first_source;		/* input file of the first frame */
	uint32_t	conflicts;	/* both directions */
	uint32_t	conflicts_followed; /* of those, before flow_bypass() */
	enum flow_close_reason reason;
	/*
	 * Set for the close hook only and valid while it runs (a held flow
	 * does not carry them): NULL before.
	 */
	const char	*protocol;	/* nDPI name; NULL when flow_user()
					   is still NULL, unless digest */
	const uint8_t	(*sha256)[32];	/* [2], each reassembled stream's;
					   NULL unless digest */
};

/*
 * Hooks for the stage above.  data/gap receive each direction's stream in
 * order; close receives the finished record and must release whatever the
 * stage hung on *flow_user().  Hooks may be NULL.
 */
struct flow_hooks {
	void	(*data)(void *ctx, struct flow *, int dir, const uint8_t *buf,
		    size_t len, uint64_t frame);
	void	(*gap)(void *ctx, struct flow *, int dir, uint64_t len);
	void	(*close)(void *ctx, struct flow *, const struct flow_record *);
	void	*ctx;
};

struct flow_stats {
	uint64_t	flows;		/* created */
	uint64_t	active;		/* in the table now */
	uint64_t	peak;		/* most held at once */
	uint64_t	evicted, expired, reused;
	uint64_t	mem, mem_peak;	/* reassembly buffers (both kinds), bytes */
	uint64_t	cap_skips;	/* holes given up to stay within caps */
	uint64_t	unverified;	/* retransmitted bytes too old to compare */
};

void	flow_limits_default(struct flow_limits *);

/*
 * Creates a table.  classify may be NULL (no classification).  Returns
 * NULL when out of memory.
 */
struct flow_table *flow_table_new(const struct flow_limits *,
	    struct classify *, const struct flow_hooks *);

/*
 * Accounts one decoded TCP segment: expiry, lookup or creation, streams.
 * Returns true when the segment's flow is still followed (not bypassed).
 */
bool	flow_table_packet(struct flow_table *, const struct packet *);

/*
 * For a caller decoding packets ahead: p's hash, worked out once, then
 * two hints that p comes soon.  The first starts loading its hash bucket,
 * the second (some packets later, once the bucket is in) the flow it
 * leads to; with hundreds of thousands of flows held each is a cache miss
 * a packet, hidden this way.  flow_table_packet_hash() is
 * flow_table_packet() given that hash.
 */
uint32_t flow_table_hash(const struct flow_table *, const struct packet *);
void	flow_table_prefetch(const struct flow_table *, uint32_t hash);
void	flow_table_prefetch_flow(const struct flow_table *, uint32_t hash);
bool	flow_table_packet_hash(struct flow_table *, const struct packet *,
	    uint32_t hash);

/*
 * The stage above needs nothing more of this flow: its hooks get no more
 * data or gaps (close still comes), nDPI stops, and unless the table
 * keeps digests its buffers are released and later segments only counted
 * (bytes then follow the highest sequence number; gaps are no longer
 * seen).  May be called from the data hook.
 */
void	flow_bypass(struct flow *);

/* Closes every flow (FLOW_CLOSE_END) and frees the table. */
void	flow_table_free(struct flow_table *);

void	flow_table_stats(const struct flow_table *, struct flow_stats *);

/* The stage above's per-flow pointer, NULL until it sets one. */
void  **flow_user(struct flow *);

/* Id and endpoints of a live flow, for the stage above. */
const struct flow_record *flow_peek(struct flow *);

const char *flow_close_reason_name(enum flow_close_reason);

#endif
