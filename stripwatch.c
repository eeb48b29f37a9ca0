/*
 * stripwatch.c - wires the stages together: capture -> decode -> flow
 * table (reassembly, classification) -> store.  The only file that
 * includes every stage's header.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "config.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "dissect/classify.h"
#include "dissect/flow.h"
#include "store/store.h"

#define SW_VERSION	"0.1.0"

#define EXIT_USAGE	2	/* bad command line */
#define EXIT_DAMAGED	3	/* input damaged; what was read is processed */

struct opts {
	const char	**files;
	size_t		  nfiles;
	const char	 *iface;
	const char	 *db;
	char		 *filter;	/* owned when built from argv */
	int		  snaplen, buffer_kb;
	bool		  immediate, verify, quiet, classify;
	struct flow_limits lim;
};

struct run {
	struct store	*store;
	int64_t		 run_id;
	bool		 store_failed;
	uint64_t	 tcp, malformed, fragments, bad_cksum;
	uint64_t	 first_ts, last_ts;
};

static struct capture *running;	/* for the signal handler */

static void
on_signal(int sig)
{
	(void)sig;
	if (running != NULL)
		capture_stop(running);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: stripwatch [-r FILE]... [-i IFACE] [-w DB] [options] "
	    "[filter expression]\n"
	    "  -r FILE          read a pcap or pcapng file (repeat for more; "
	    "gzip is fine)\n"
	    "  -i IFACE         capture live from an interface\n"
	    "  -w DB            SQLite database to write (default "
	    "./stripwatch.db)\n"
	    "  -f EXPR          BPF filter, as in tcpdump (or give it after "
	    "the options)\n"
	    "  -s SNAPLEN       live: bytes kept per packet (default %d)\n"
	    "  -B KIB           live: kernel buffer in KiB (default %d)\n"
	    "      --immediate  live: hand each packet over at once\n"
	    "      --no-checksum  do not verify IP/TCP checksums\n"
	    "      --no-classify  do not run nDPI\n"
	    "      --flows-max N  flows held at once (default %u)\n"
	    "  -q               no summary on stderr\n"
	    "  -V, --version    print the version\n"
	    "  -h, --help       this text\n"
	    "exit status: 0 done, 1 error, 2 bad usage, 3 input damaged "
	    "(what was readable was processed)\n",
	    CAPTURE_SNAPLEN, CAPTURE_BUFFER_KB, FLOW_MAX);
}

/* Parses a decimal in [lo, hi]; exits with a message otherwise. */
static unsigned long long
number(const char *opt, const char *s, unsigned long long lo,
    unsigned long long hi)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v < lo ||
	    v > hi) {
		fprintf(stderr, "stripwatch: %s: \"%s\" is not a number from "
		    "%llu to %llu\n", opt, s, lo, hi);
		exit(EXIT_USAGE);
	}
	return v;
}

static char *
join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_IMMEDIATE = 256, O_NOCKSUM, O_NOCLASSIFY, O_FLOWSMAX };
	static const struct option lopts[] = {
		{ "read",	 required_argument, NULL, 'r' },
		{ "interface",	 required_argument, NULL, 'i' },
		{ "write",	 required_argument, NULL, 'w' },
		{ "filter",	 required_argument, NULL, 'f' },
		{ "immediate",	 no_argument,	    NULL, O_IMMEDIATE },
		{ "no-checksum", no_argument,	    NULL, O_NOCKSUM },
		{ "no-classify", no_argument,	    NULL, O_NOCLASSIFY },
		{ "flows-max",	 required_argument, NULL, O_FLOWSMAX },
		{ "quiet",	 no_argument,	    NULL, 'q' },
		{ "version",	 no_argument,	    NULL, 'V' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->db = "stripwatch.db";
	o->verify = o->classify = true;
	flow_limits_default(&o->lim);
	if ((o->files = calloc((size_t)argc, sizeof(*o->files))) == NULL)
		exit(EXIT_FAILURE);
	while ((c = getopt_long(argc, argv, "+r:i:w:f:s:B:qVh", lopts,
	    NULL)) != -1) {
		switch (c) {
		case 'r':
			o->files[o->nfiles++] = optarg;
			break;
		case 'i':
			o->iface = optarg;
			break;
		case 'w':
			o->db = optarg;
			break;
		case 'f':
			o->filter = strdup(optarg);
			break;
		case 's':
			o->snaplen = (int)number("-s", optarg, 64, 262144);
			break;
		case 'B':
			o->buffer_kb = (int)number("-B", optarg, 1, 4194304);
			break;
		case O_IMMEDIATE:
			o->immediate = true;
			break;
		case O_NOCKSUM:
			o->verify = false;
			break;
		case O_NOCLASSIFY:
			o->classify = false;
			break;
		case O_FLOWSMAX:
			o->lim.flows_max = (uint32_t)number("--flows-max",
			    optarg, 1, 1U << 30);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'V':
			printf("stripwatch %s\n", SW_VERSION);
			exit(EXIT_SUCCESS);
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc) {
		if (o->filter != NULL) {
			fprintf(stderr, "stripwatch: give the filter either "
			    "with -f or after the options, not both\n");
			exit(EXIT_USAGE);
		}
		o->filter = join_args(argc - optind, argv + optind);
	}
	if ((o->iface == NULL) == (o->nfiles == 0)) {
		fprintf(stderr, "stripwatch: give either -r FILE (one or more) "
		    "or -i IFACE\n");
		usage(stderr);
		exit(EXIT_USAGE);
	}
}

static uint64_t
wall_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

static void
hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
on_flow_close(void *ctx, struct flow *f, const struct flow_record *r)
{
	struct run *run = ctx;
	char cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN];
	char sha[2][65];
	struct store_flow sf;
	int af = r->family == 6 ? AF_INET6 : AF_INET;

	(void)f;
	if (run->store_failed)
		return;
	inet_ntop(af, r->ip[0], cip, sizeof(cip));
	inet_ntop(af, r->ip[1], sip, sizeof(sip));
	hex(sha[0], r->sha256[0], 32);
	hex(sha[1], r->sha256[1], 32);
	memset(&sf, 0, sizeof(sf));
	sf.client_ip = cip;
	sf.server_ip = sip;
	sf.client_port = r->port[0];
	sf.server_port = r->port[1];
	sf.first_ts = r->first_ts;
	sf.last_ts = r->last_ts;
	sf.first_source = r->first_source;
	sf.first_frame = r->first_frame;
	sf.last_frame = r->last_frame;
	sf.protocol = r->protocol;
	memcpy(sf.packets, r->packets, sizeof(sf.packets));
	memcpy(sf.bytes, r->bytes, sizeof(sf.bytes));
	memcpy(sf.gap_bytes, r->gap_bytes, sizeof(sf.gap_bytes));
	memcpy(sf.gaps, r->gaps, sizeof(sf.gaps));
	sf.conflicts = r->conflicts;
	sf.sha256[0] = sha[0];
	sf.sha256[1] = sha[1];
	sf.close_reason = flow_close_reason_name(r->reason);
	sf.syn_seen = r->syn_seen;
	if (!store_flow(run->store, run->run_id, &sf)) {
		fprintf(stderr, "stripwatch: database: %s\n",
		    store_error(run->store));
		run->store_failed = true;
	}
}

static void
fill_run(struct store_run *sr, const struct run *run, struct capture *cap,
    const struct flow_stats *fs)
{
	struct capture_stats cs;

	capture_stats(cap, &cs);
	sr->ended = wall_us();
	sr->first_ts = run->first_ts;
	sr->last_ts = run->last_ts;
	sr->packets = cs.packets;
	sr->bytes = cs.bytes;
	sr->tcp_packets = run->tcp;
	sr->truncated = cs.truncated;
	sr->damaged = cs.damaged;
	sr->malformed = run->malformed;
	sr->fragments = run->fragments;
	sr->bad_checksums = run->bad_cksum;
	sr->drops = cs.drops;
	sr->ifdrops = cs.ifdrops;
	sr->flows = fs->flows;
	sr->evicted = fs->evicted;
	sr->flows_peak = fs->peak;
	sr->mem_peak = fs->mem_peak;
}

static void
summary(const struct store_run *sr, const struct flow_stats *fs)
{
	fprintf(stderr, "stripwatch: %s: %llu packets (%llu TCP), %llu bytes, "
	    "%llu flows (peak %llu, evicted %llu)\n", sr->source,
	    (unsigned long long)sr->packets, (unsigned long long)sr->tcp_packets,
	    (unsigned long long)sr->bytes, (unsigned long long)sr->flows,
	    (unsigned long long)sr->flows_peak,
	    (unsigned long long)sr->evicted);
	fprintf(stderr, "stripwatch: bad checksums %llu, snaplen-cut %llu, "
	    "malformed %llu, IP fragments %llu, damaged files %llu, "
	    "kernel drops %llu, interface drops %llu\n",
	    (unsigned long long)sr->bad_checksums,
	    (unsigned long long)sr->truncated,
	    (unsigned long long)sr->malformed,
	    (unsigned long long)sr->fragments,
	    (unsigned long long)sr->damaged, (unsigned long long)sr->drops,
	    (unsigned long long)sr->ifdrops);
	fprintf(stderr, "stripwatch: reassembly peak %llu bytes, holes given "
	    "up at caps %llu, retransmitted bytes unverified %llu\n",
	    (unsigned long long)fs->mem_peak,
	    (unsigned long long)fs->cap_skips,
	    (unsigned long long)fs->unverified);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct capture_opts co;
	struct capture *cap;
	struct classify *cls = NULL;
	struct flow_table *ft;
	struct flow_hooks hooks;
	struct flow_stats fs;
	struct store_run sr;
	struct run run;
	struct sigaction sa;
	char err[512];
	enum capture_result cr;
	bool failed = false;

	parse_opts(argc, argv, &o);
	memset(&co, 0, sizeof(co));
	co.iface = o.iface;
	co.files = o.files;
	co.nfiles = o.nfiles;
	co.filter = o.filter;
	co.snaplen = o.snaplen;
	co.buffer_kb = o.buffer_kb;
	co.immediate = o.immediate;
	if ((cap = capture_open(&co, err, sizeof(err))) == NULL) {
		fprintf(stderr, "stripwatch: %s\n", err);
		return EXIT_FAILURE;
	}
	memset(&run, 0, sizeof(run));
	if ((run.store = store_open(o.db, err, sizeof(err))) == NULL) {
		fprintf(stderr, "stripwatch: %s\n", err);
		capture_close(cap);
		return EXIT_FAILURE;
	}
	memset(&sr, 0, sizeof(sr));
	sr.source = capture_source(cap);
	sr.started = wall_us();
	sr.status = "running";
	if ((run.run_id = store_run_begin(run.store, &sr)) < 0 ||
	    !store_flush(run.store)) {
		fprintf(stderr, "stripwatch: %s: %s\n", o.db,
		    store_error(run.store));
		store_close(run.store);
		capture_close(cap);
		return EXIT_FAILURE;
	}
	if (o.classify && (cls = classify_new()) == NULL)
		fprintf(stderr, "stripwatch: nDPI failed to start; flows stay "
		    "unclassified\n");
	memset(&hooks, 0, sizeof(hooks));
	hooks.close = on_flow_close;
	hooks.ctx = &run;
	if ((ft = flow_table_new(&o.lim, cls, &hooks)) == NULL) {
		fprintf(stderr, "stripwatch: out of memory\n");
		return EXIT_FAILURE;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	running = cap;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (;;) {
		struct capture_frame fr;
		struct packet p;
		enum decode_result dr;

		cr = capture_next(cap, &fr, err, sizeof(err));
		if (err[0] != '\0')
			fprintf(stderr, "stripwatch: %s\n", err);
		if (cr == CAPTURE_AGAIN)
			continue;
		if (cr != CAPTURE_FRAME)
			break;
		if (run.first_ts == 0)
			run.first_ts = fr.ts_us;
		if (fr.ts_us > run.last_ts)
			run.last_ts = fr.ts_us;
		dr = decode_frame(fr.dlt, fr.data, fr.caplen, fr.wirelen,
		    o.verify, &p);
		switch (dr) {
		case DECODE_TCP:
			break;
		case DECODE_MALFORMED:
			run.malformed++;
			continue;
		case DECODE_FRAGMENT:
			run.fragments++;
			continue;
		case DECODE_TRUNCATED:	/* counted as a snaplen cut */
		case DECODE_NOT_TCP:
			continue;
		}
		run.tcp++;
		if (p.cksum_bad)
			run.bad_cksum++;
		p.ts_us = fr.ts_us;
		p.frame = fr.frame;
		p.source = fr.source;
		flow_table_packet(ft, &p);
		if (run.store_failed)
			break;
	}
	running = NULL;
	if (cr == CAPTURE_ERROR) {
		fprintf(stderr, "stripwatch: %s\n", err);
		failed = true;
	}
	flow_table_stats(ft, &fs);
	flow_table_free(ft);
	fs.active = 0;
	classify_free(cls);

	fill_run(&sr, &run, cap, &fs);
	if (run.store_failed || failed)
		sr.status = "failed";
	else if (sr.damaged > 0)
		sr.status = "damaged";
	else
		sr.status = "complete";
	if (!store_run_update(run.store, run.run_id, &sr) ||
	    !store_flush(run.store)) {
		fprintf(stderr, "stripwatch: %s: %s\n", o.db,
		    store_error(run.store));
		failed = true;
	}
	store_close(run.store);
	if (!o.quiet)
		summary(&sr, &fs);
	capture_close(cap);
	free(o.files);
	free(o.filter);
	if (failed || run.store_failed)
		return EXIT_FAILURE;
	return sr.damaged > 0 ? EXIT_DAMAGED : EXIT_SUCCESS;
}
