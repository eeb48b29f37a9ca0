/*
 * fuzz_pcapfile.c - differential fuzz target for capture/pcapfile.c: the
 * input is a savefile, read once by libpcap and once by pcapfile.c, and
 * the two must agree record for record.
 *
 * capture.c reads a file with pcapfile.c only after libpcap has opened it
 * and found a link type stripwatch decodes, so the same gate applies here.
 * Then:
 *   - pcapfile_open() declines exactly the files that are not version 2.4
 *     classic pcap (in either byte order, micro- or nanosecond stamps);
 *   - every record libpcap returns, pcapfile.c returns with the same time
 *     (in microseconds), lengths and bytes;
 *   - libpcap's clean end is PCAPFILE_END, its error PCAPFILE_DAMAGED.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture/decode.h"
#include "capture/pcapfile.h"
#include "fuzz/fuzz.h"
#include "fuzz/memfd.h"

/* What pcapfile_open() must take: version 2.4 under a known magic. */
static bool
classic(const uint8_t *d, size_t size)
{
	static const uint8_t magic[4][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0x4d, 0x3c, 0xb2, 0xa1 },
		{ 0xa1, 0xb2, 0xc3, 0xd4 }, { 0xa1, 0xb2, 0x3c, 0x4d },
	};
	int i;

	if (size < 24)
		return false;
	for (i = 0; i < 4; i++) {
		if (memcmp(d, magic[i], 4) != 0)
			continue;
		if (i < 2)	/* little-endian */
			return d[4] == 2 && d[5] == 0 && d[6] == 4 && d[7] == 0;
		return d[4] == 0 && d[5] == 2 && d[6] == 0 && d[7] == 4;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], ebuf[PCAP_ERRBUF_SIZE], err[256];
	struct pcapfile *pf;
	pcap_t *p;
	int rfd;

	fuzz_memfd(data, size, path, sizeof(path));
	p = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (p == NULL)
		return 0;
	if (!decode_dlt_supported(pcap_datalink(p))) {
		pcap_close(p);
		return 0;
	}
	/* A fresh open: its own offset, from the start. */
	FUZZ_CHECK((rfd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
	pf = pcapfile_open(rfd);
	FUZZ_CHECK((pf != NULL) == classic(data, size));
	if (pf == NULL) {
		close(rfd);
		pcap_close(p);
		return 0;
	}
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *d;
		struct pcapfile_rec r;
		int rc = pcap_next_ex(p, &h, &d);
		enum pcapfile_result pr = pcapfile_next(pf, &r, err,
		    sizeof(err));

		if (rc == 1) {
			FUZZ_CHECK(pr == PCAPFILE_REC);
			FUZZ_CHECK(r.ts_us == (uint64_t)h->ts.tv_sec * 1000000 +
			    (uint64_t)h->ts.tv_usec);
			FUZZ_CHECK(r.caplen == h->caplen);
			FUZZ_CHECK(r.len == h->len);
			FUZZ_CHECK(memcmp(r.data, d, r.caplen) == 0);
			continue;
		}
		if (rc == PCAP_ERROR_BREAK) {
			FUZZ_CHECK(pr == PCAPFILE_END);
		} else {
			FUZZ_CHECK(pr == PCAPFILE_DAMAGED);
			FUZZ_CHECK(err[0] != '\0');
		}
		/* And it stays ended. */
		FUZZ_CHECK(pcapfile_next(pf, &r, err, sizeof(err)) ==
		    PCAPFILE_END);
		break;
	}
	pcapfile_close(pf);
	pcap_close(p);
	return 0;
}
