/*
 * classify.h - protocol classification of flows with nDPI.
 *
 * Each flow shows its first packets to nDPI until it names the protocol
 * or CLASSIFY_PKTS_MAX packets have gone by; then nDPI's per-flow state
 * is freed and only the answer is kept.
 */
#ifndef SW_CLASSIFY_H
#define SW_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/decode.h"

struct classify;

/* Per-flow classification state; zero it to start. */
struct classify_state {
	void		*nf;		/* nDPI flow while still looking */
	uint16_t	 master, app;	/* nDPI protocol ids, 0 = unknown */
	uint8_t		 pkts;		/* packets shown to nDPI */
	bool		 done;
};

/*
 * Returns NULL when nDPI cannot be initialised.  every_protocol: nDPI
 * looks for all it knows; otherwise only for the mail protocols, TLS and
 * FTP (what a flow judged SMTP can be named).
 */
struct classify	*classify_new(bool every_protocol);
void		 classify_free(struct classify *);

/* Shows one packet of the flow to nDPI unless the flow is done. */
void	classify_packet(struct classify *, struct classify_state *,
	    const struct packet *);

/* Ends classification (guessing from ports if nothing matched) and frees. */
void	classify_finish(struct classify *, struct classify_state *);

/* nDPI's name for the result ("SMTP", "TLS.Google", "Unknown") into buf. */
const char *classify_name(struct classify *, const struct classify_state *,
	    char *buf, size_t len);

/* True when the flow was recognised as SMTP (plain, or SMTPS). */
bool	classify_is_smtp(const struct classify_state *);

#endif
