/*
 * readloop: the floor for the benchmarks in bench/.
 *
 * A bare libpcap read loop over one capture file: pcap_open_offline,
 * pcap_next_ex until the end, count packets and bytes, print them. Nothing
 * else is done per packet, so its time is the least any tool that reads the
 * same file through libpcap can take.
 *
 * With -o the same loop runs over stripwatch's own reader of classic pcap
 * files (capture/pcapfile.c), which is what stripwatch -r uses for them:
 * not the floor, but what reading costs stripwatch.
 *
 * Build: cc -O2 -I. -o readloop bench/readloop.c capture/pcapfile.c -lpcap
 * Usage: readloop [-o] FILE
 * Output (stdout, one line):
 *   packets=N caplen_bytes=N wire_bytes=N
 * Exit: 0 at a clean end of file, 1 on an open or read error (the counts
 * up to the error are still printed).
 */
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture/pcapfile.h"

static int
own(const char *path)
{
	char err[256];
	struct pcapfile_rec r;
	struct pcapfile *pf;
	enum pcapfile_result pr;
	uint64_t packets = 0, caplen_bytes = 0, wire_bytes = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || (pf = pcapfile_open(fd)) == NULL) {
		fprintf(stderr, "readloop: %s: not a classic pcap file\n", path);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	while ((pr = pcapfile_next(pf, &r, err, sizeof(err))) == PCAPFILE_REC) {
		packets++;
		caplen_bytes += r.caplen;
		wire_bytes += r.len;
	}
	printf("packets=%llu caplen_bytes=%llu wire_bytes=%llu\n",
	    (unsigned long long)packets, (unsigned long long)caplen_bytes,
	    (unsigned long long)wire_bytes);
	pcapfile_close(pf);
	if (pr == PCAPFILE_DAMAGED) {
		fprintf(stderr, "readloop: %s\n", err);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t packets = 0, caplen_bytes = 0, wire_bytes = 0;
	pcap_t *p;
	int rc;

	if (argc == 3 && strcmp(argv[1], "-o") == 0)
		return own(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: %s [-o] FILE\n", argv[0]);
		return 1;
	}
	p = pcap_open_offline(argv[1], errbuf);
	if (p == NULL) {
		fprintf(stderr, "readloop: %s\n", errbuf);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		packets++;
		caplen_bytes += hdr->caplen;
		wire_bytes += hdr->len;
	}
	printf("packets=%llu caplen_bytes=%llu wire_bytes=%llu\n",
	    (unsigned long long)packets, (unsigned long long)caplen_bytes,
	    (unsigned long long)wire_bytes);
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "readloop: %s\n", pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	return 0;
}
