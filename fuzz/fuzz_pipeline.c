/*
 * fuzz_pipeline.c - fuzz target for the whole pipeline: one pcap/pcapng
 * file (or gzip of one) through monitor_run(), capture to store, twice:
 * in the default mode and with --all-flows (every flow followed and
 * digested to its end).
 *
 * The input is written to a memfd and read back as /proc/self/fd/N, so
 * libpcap, zlib, decoding, the flow table, reassembly, nDPI and SQLite all
 * see it as the command line would; the SMTP dissector, detection, the
 * store and the JSON alert feed (to /dev/null) run on what comes out.
 * Limits are small (64 flows, 8 pieces /
 * 4 KiB out of order per direction, 64 KiB for all out-of-order buffers,
 * history for four directions, short timeouts) so eviction, expiry and
 * every cap run on small inputs.
 *
 * monitor_run() must return 0, 1 or 3, and 1 (could not run) only when the
 * file does not open as a capture of a supported link type: a capture
 * libpcap accepts, however damaged, is processed.
 *
 * nDPI takes 20-90 ms to initialise, which would cap this target at about
 * 15 runs a second, so the build links it with
 * -Wl,--wrap=classify_new,--wrap=classify_free: the first classify_new()
 * of each kind (all protocols or the mail ones) makes the one classifier
 * every later run of that kind reuses, as a long live capture does.  nDPI
 * state (its LRU caches) may therefore carry from one input to the next;
 * the replayer runs a directory in one process, in name order.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture/decode.h"
#include "dissect/classify.h"
#include "monitor.h"
#include "fuzz/fuzz.h"
#include "fuzz/memfd.h"

struct classify	*__real_classify_new(bool);
void		 __real_classify_free(struct classify *);
struct classify	*__wrap_classify_new(bool);
void		 __wrap_classify_free(struct classify *);

static struct classify *shared_cls[2];	/* [every_protocol] */

/* Made once per kind, on the first run that asks for it; never freed. */
struct classify *
__wrap_classify_new(bool every_protocol)
{
	struct classify **c = &shared_cls[every_protocol ? 1 : 0];

	if (*c == NULL)
		*c = __real_classify_new(every_protocol);
	return *c;
}

void
__wrap_classify_free(struct classify *c)
{
	FUZZ_CHECK(c == NULL || c == shared_cls[0] || c == shared_cls[1]);
}

/* True when capture_open() has no reason to refuse the file. */
static bool
opens(const char *path, const uint8_t *data, size_t size)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;
	bool ok;

	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		return false;	/* gzip: not worth a second inflate here */
	p = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (p == NULL)
		return false;
	ok = decode_dlt_supported(pcap_datalink(p));
	pcap_close(p);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct monitor_opts o;
	char path[64];
	const char *files[1];
	int rc, pass;

	fuzz_memfd(data, size, path, sizeof(path));
	files[0] = path;

	monitor_opts_default(&o);
	o.files = files;
	o.nfiles = 1;
	o.db = ":memory:";
	o.json = "/dev/null";	/* alerts are still formatted and written */
	o.quiet = true;
	o.verify = true;
	o.classify = true;
	o.fetch = false;	/* no network: policies come from nowhere */
	/*
	 * The system trust store costs tens of milliseconds to load per
	 * run; the fixtures' one CA keeps the chain checks and the speed.
	 */
	if (access("pcaps/tls-ca.pem", R_OK) == 0)
		o.ca_file = "pcaps/tls-ca.pem";
	o.lim.flows_max = 64;
	o.lim.idle_us = 60ULL * 1000000;
	o.lim.closed_us = 5ULL * 1000000;
	o.lim.ooo_segs_max = 8;
	o.lim.ooo_bytes_max = 4096;
	o.lim.mem_max = 64 * 1024;
	o.lim.hist_mem_max = 4 * 2048;	/* four directions keep history */

	/* Both modes: flows let go at their first bytes, and --all-flows. */
	for (pass = 0; pass < 2; pass++) {
		o.lim.digest = pass == 1;
		rc = monitor_run(&o);
		FUZZ_CHECK(rc == MONITOR_EXIT_OK || rc == MONITOR_EXIT_ERROR ||
		    rc == MONITOR_EXIT_DAMAGED);
		if (rc == MONITOR_EXIT_ERROR)
			FUZZ_CHECK(!opens(path, data, size));
	}
	return 0;
}
