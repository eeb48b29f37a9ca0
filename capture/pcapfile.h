/*
 * pcapfile.h - classic pcap savefiles read with read(2) into one buffer.
 *
 * A faster path than libpcap's for the common case only: version 2.4
 * files, microsecond or nanosecond stamps, either byte order.  Anything
 * else (pcapng, older versions, gzip, a BPF filter) stays with libpcap;
 * capture.c chooses.  Records follow libpcap 1.10's rules, so both paths
 * deliver the same frames and stop at the same damaged record.
 */
#ifndef SW_PCAPFILE_H
#define SW_PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define PCAPFILE_SNAPLEN_MAX	262144U	/* libpcap's largest for our links */
#define PCAPFILE_SPAN_MAX	(16 + PCAPFILE_SNAPLEN_MAX)

/*
 * How long a record stays where it is: through every pcapfile_next call
 * made while the records returned after it span at most this many bytes
 * together.  That is at least the next two records, whatever their size,
 * and hundreds of ordinary ones (not after pcapfile_close).
 */
#define PCAPFILE_KEEP		(CAPTURE_FILE_BUF - PCAPFILE_SPAN_MAX)

struct pcapfile;

/* One record; data stays valid as PCAPFILE_KEEP says. */
struct pcapfile_rec {
	uint64_t	 ts_us;		/* as libpcap's sec * 10^6 + usec */
	uint32_t	 caplen;	/* bytes at data (at most the snapshot) */
	uint32_t	 len;		/* length on the wire, as recorded */
	uint32_t	 span;		/* bytes it took in the file, its
					   header and any cut bytes included */
	const uint8_t	*data;
};

enum pcapfile_result {
	PCAPFILE_REC,		/* *r filled */
	PCAPFILE_END,		/* the file ended between records */
	PCAPFILE_DAMAGED,	/* a record cut short or lying; message in err */
};

/*
 * Reads the file header from fd (at offset 0).  Returns NULL when the file
 * is not one this reader takes (the caller closes fd and uses libpcap,
 * which says what is wrong); on success the handle owns fd.
 */
struct pcapfile	*pcapfile_open(int fd);

/* Reads the next record; after END or DAMAGED it returns END. */
enum pcapfile_result pcapfile_next(struct pcapfile *, struct pcapfile_rec *,
		    char *err, size_t errlen);

/* Closes fd and frees the handle; NULL is fine. */
void		 pcapfile_close(struct pcapfile *);

#endif
