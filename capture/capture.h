/*
 * capture.h - packets in: pcap/pcapng files read in order as one capture,
 * or a live interface.  Knows nothing of TCP or SMTP.
 */
#ifndef SW_CAPTURE_H
#define SW_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/pcapfile.h"

struct capture;

struct capture_opts {
	const char	*iface;		/* live interface, or NULL for files */
	const char	*const *files;	/* offline inputs, read in order */
	size_t		 nfiles;
	const char	*filter;	/* BPF expression, or NULL */
	int		 snaplen;	/* live: bytes per packet */
	int		 buffer_kb;	/* live: kernel buffer, KiB */
	bool		 immediate;	/* live: deliver packets without batching */
	unsigned	 fanout;	/* live: join this PACKET_FANOUT group
					   (flow hash), 0 for none */
};

/*
 * One frame as read.  data is valid until the next capture_next call; when
 * span is not 0 (a plain pcap file) longer, through every call made while
 * the frames read after it span at most CAPTURE_KEEP bytes together, so
 * the caller may read ahead before it is done with this one.
 */
#define CAPTURE_KEEP	PCAPFILE_KEEP

struct capture_frame {
	uint64_t	 ts_us;		/* pcap time, microseconds since epoch */
	uint64_t	 frame;		/* 1-based, within its file */
	uint32_t	 source;	/* index of the file (0 when live) */
	int		 dlt;		/* link type of this frame's source */
	const uint8_t	*data;
	size_t		 caplen, wirelen;
	uint32_t	 span;		/* bytes it took in its file, or 0 */
};

/* Counters a run reports. */
struct capture_stats {
	uint64_t	packets, bytes;	/* frames read, their wire bytes */
	uint64_t	truncated;	/* frames cut by snaplen (caplen < len) */
	uint64_t	damaged;	/* files ending in a corrupt or cut record */
	uint64_t	drops, ifdrops;	/* live: kernel and interface drops */
};

enum capture_result {
	CAPTURE_FRAME,		/* *f filled */
	CAPTURE_AGAIN,		/* live: timeout, nothing read */
	CAPTURE_END,		/* all input read, or stopped */
	CAPTURE_ERROR,		/* live capture failed; message in errbuf */
};

/*
 * Opens every input (all files are checked up front: a missing file, an
 * unsupported link type or a bad filter fails before any packet is read).
 * Returns NULL and writes a message of at most errlen bytes on failure.
 * gzip-compressed files are read transparently.
 */
struct capture	*capture_open(const struct capture_opts *, char *err,
		    size_t errlen);

/*
 * Reads the next frame.  A corrupt record or a file cut mid-packet ends
 * that file: it is counted in stats.damaged, a message is written to
 * err, and reading goes on with the next file.
 */
enum capture_result capture_next(struct capture *, struct capture_frame *,
		    char *err, size_t errlen);

/* Asks a running capture to stop; safe from a signal handler. */
void		 capture_stop(struct capture *);

/* Fills *st, sampling kernel drop counters when live. */
void		 capture_stats(struct capture *, struct capture_stats *st);

/* Name of the input for the runs table ("file.pcap + 2 more", "eth0"). */
const char	*capture_source(const struct capture *);

void		 capture_close(struct capture *);

#endif
