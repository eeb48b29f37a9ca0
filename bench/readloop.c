/*
 * readloop: the floor for the benchmarks in bench/.
 *
 * A bare libpcap read loop over one capture file: pcap_open_offline,
 * pcap_next_ex until the end, count packets and bytes, print them. Nothing
 * else is done per packet, so its time is the least any tool that reads the
 * same file through libpcap can take.
 *
 * Build: cc -O2 -o readloop bench/readloop.c -lpcap
 * Usage: readloop FILE
 * Output (stdout, one line):
 *   packets=N caplen_bytes=N wire_bytes=N
 * Exit: 0 at a clean end of file, 1 on an open or read error (the counts
 * up to the error are still printed).
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t packets = 0, caplen_bytes = 0, wire_bytes = 0;
	pcap_t *p;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
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
