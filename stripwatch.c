/*
 * stripwatch.c - the command line: options in, monitor_run() out.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "monitor.h"
#include "report.h"
#include "policy/fetch.h"

#define SW_VERSION	"0.1.0"


static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: stripwatch [-r FILE]... [-i IFACE] [-w DB] [options] "
	    "[filter expression]\n"
	    "       stripwatch alerts [-w DB] [--since T] [--until T] "
	    "[--kind K]... [--server ADDR[:PORT]]\n"
	    "                         [--severity MIN] [--limit N] "
	    "[--format table|json|csv]\n"
	    "  -r FILE          read a pcap or pcapng file (repeat for more; "
	    "gzip is fine;\n"
	    "                   - is standard input)\n"
	    "  -i IFACE         capture live from an interface\n"
	    "  -w DB            SQLite database to write (default "
	    "./stripwatch.db)\n"
	    "  -f EXPR          BPF filter, as in tcpdump (or give it after "
	    "the options)\n"
	    "  -s SNAPLEN       live: bytes kept per packet (default %d)\n"
	    "  -B KIB           live: kernel buffer in KiB (default %d)\n"
	    "      --immediate  live: hand each packet over at once\n"
	    "      --user USER  live: run as USER once the interface is open "
	    "(default %s)\n"
	    "      --allow-root live: keep running as root\n"
	    "      --workers N  live: N capture workers sharing the link by "
	    "flow hash (default 1)\n"
	    "      --stats-interval SEC  live: counters to the runs row every "
	    "SEC s (default %d, 0 off)\n"
	    "      --no-checksum  do not verify IP/TCP checksums\n"
	    "      --no-classify  do not run nDPI\n"
	    "      --flows-max N  flows held at once (default %u)\n"
	    "      --all-flows  follow and store every TCP flow (digests, nDPI names),\n"
	    "                   not only SMTP sessions' flows: slower, for forensics\n"
	    "      --json PATH  also write each alert as a JSON line (- for "
	    "stdout)\n"
	    "      --syslog SPEC  also send each alert to syslog (RFC 5424): "
	    "udp://HOST[:PORT],\n"
	    "                   tcp://HOST[:PORT] or unix:PATH; "
	    "?facility=NAME (default local0)\n"
	    "      --expect-starttls FILE  servers (addresses, CIDRs) that "
	    "must offer STARTTLS\n"
	    "certificates:\n"
	    "      --ca-file FILE   trust these CA certificates (PEM) instead "
	    "of the system's\n"
	    "      --ca-path DIR    trust a hashed CA directory instead of the "
	    "system's\n"
	    "MTA-STS (RFC 8461):\n"
	    "      --no-fetch       never look policies up; use --policy-dir "
	    "and the database\n"
	    "      --policy-dir DIR one policy body per file, named after its "
	    "domain\n"
	    "      --domains FILE   protected domains, one per line: their "
	    "policies are\n"
	    "                       looked up at start and map MX names to "
	    "domains\n"
	    "      --dns-server ADDR[@PORT]  resolver for the TXT and policy "
	    "host lookups\n"
	    "                       (default: /etc/resolv.conf)\n"
	    "      --sts-ca-file FILE  trust for the policy fetch (default: "
	    "the system's)\n"
	    "      --fetch-timeout MS  per DNS or HTTPS step (default %d)\n"
	    "      --https-port N   fetch policies from this port (test set-ups "
	    "only)\n"
	    "  -q               no summary on stderr\n"
	    "  -V, --version    print the version\n"
	    "  -h, --help       this text\n"
	    "exit status: 0 done, 1 error, 2 bad usage, 3 input damaged "
	    "(what was readable was processed)\n",
	    CAPTURE_SNAPLEN, CAPTURE_BUFFER_KB, MONITOR_USER,
	    MONITOR_STATS_INTERVAL, FLOW_MAX, FETCH_TIMEOUT_MS);
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
		exit(MONITOR_EXIT_USAGE);
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

/* Parses argv into *o; exits on --help, --version and bad usage. */
static void
parse_opts(int argc, char **argv, struct monitor_opts *o, const char ***files,
    char **filter)
{
	enum { O_IMMEDIATE = 256, O_NOCKSUM, O_NOCLASSIFY, O_FLOWSMAX, O_ALLFLOWS, O_JSON,
	    O_EXPECT, O_CAFILE, O_CAPATH, O_NOFETCH, O_POLICYDIR, O_DOMAINS,
	    O_DNS, O_STSCA, O_FETCHTO, O_HTTPSPORT, O_SYSLOG, O_USER,
	    O_ALLOWROOT, O_STATS, O_WORKERS };
	static const struct option lopts[] = {
		{ "read",	 required_argument, NULL, 'r' },
		{ "interface",	 required_argument, NULL, 'i' },
		{ "write",	 required_argument, NULL, 'w' },
		{ "filter",	 required_argument, NULL, 'f' },
		{ "immediate",	 no_argument,	    NULL, O_IMMEDIATE },
		{ "no-checksum", no_argument,	    NULL, O_NOCKSUM },
		{ "no-classify", no_argument,	    NULL, O_NOCLASSIFY },
		{ "flows-max",	 required_argument, NULL, O_FLOWSMAX },
		{ "all-flows",	 no_argument,	    NULL, O_ALLFLOWS },
		{ "json",	 required_argument, NULL, O_JSON },
		{ "syslog",	 required_argument, NULL, O_SYSLOG },
		{ "user",	 required_argument, NULL, O_USER },
		{ "allow-root",	 no_argument,	    NULL, O_ALLOWROOT },
		{ "stats-interval", required_argument, NULL, O_STATS },
		{ "workers",	 required_argument, NULL, O_WORKERS },
		{ "expect-starttls", required_argument, NULL, O_EXPECT },
		{ "ca-file",	 required_argument, NULL, O_CAFILE },
		{ "ca-path",	 required_argument, NULL, O_CAPATH },
		{ "no-fetch",	 no_argument,	    NULL, O_NOFETCH },
		{ "policy-dir",	 required_argument, NULL, O_POLICYDIR },
		{ "domains",	 required_argument, NULL, O_DOMAINS },
		{ "dns-server",	 required_argument, NULL, O_DNS },
		{ "sts-ca-file", required_argument, NULL, O_STSCA },
		{ "fetch-timeout", required_argument, NULL, O_FETCHTO },
		{ "https-port",	 required_argument, NULL, O_HTTPSPORT },
		{ "quiet",	 no_argument,	    NULL, 'q' },
		{ "version",	 no_argument,	    NULL, 'V' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	monitor_opts_default(o);
	if ((*files = calloc((size_t)argc, sizeof(**files))) == NULL)
		exit(MONITOR_EXIT_ERROR);
	while ((c = getopt_long(argc, argv, "+r:i:w:f:s:B:qVh", lopts,
	    NULL)) != -1) {
		switch (c) {
		case 'r':
			(*files)[o->nfiles++] = optarg;
			break;
		case 'i':
			o->iface = optarg;
			break;
		case 'w':
			o->db = optarg;
			break;
		case 'f':
			free(*filter);
			*filter = strdup(optarg);
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
		case O_ALLFLOWS:
			o->lim.digest = true;
			break;
		case O_FLOWSMAX:
			o->lim.flows_max = (uint32_t)number("--flows-max",
			    optarg, 1, 1U << 30);
			break;
		case O_JSON:
			o->json = optarg;
			break;
		case O_USER:
			o->user = optarg;
			break;
		case O_ALLOWROOT:
			o->allow_root = true;
			break;
		case O_WORKERS:
			o->workers = (unsigned)number("--workers", optarg, 1,
			    MONITOR_WORKERS_MAX);
			break;
		case O_STATS:
			o->stats_interval = (unsigned)number("--stats-interval",
			    optarg, 0, 86400);
			break;
		case O_SYSLOG:
			o->syslog = optarg;
			break;
		case O_EXPECT:
			o->expect_file = optarg;
			break;
		case O_CAFILE:
			o->ca_file = optarg;
			break;
		case O_CAPATH:
			o->ca_path = optarg;
			break;
		case O_NOFETCH:
			o->fetch = false;
			break;
		case O_POLICYDIR:
			o->policy_dir = optarg;
			break;
		case O_DOMAINS:
			o->domains_file = optarg;
			break;
		case O_DNS:
			o->dns_server = optarg;
			break;
		case O_STSCA:
			o->sts_ca_file = optarg;
			break;
		case O_FETCHTO:
			o->fetch_timeout_ms = (long)number("--fetch-timeout",
			    optarg, 100, 600000);
			break;
		case O_HTTPSPORT:
			o->https_port = (unsigned)number("--https-port", optarg,
			    1, 65535);
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
			exit(MONITOR_EXIT_USAGE);
		}
	}
	if (optind < argc) {
		if (*filter != NULL) {
			fprintf(stderr, "stripwatch: give the filter either "
			    "with -f or after the options, not both\n");
			exit(MONITOR_EXIT_USAGE);
		}
		*filter = join_args(argc - optind, argv + optind);
	}
	o->files = *files;
	o->filter = *filter;
	if ((o->iface == NULL) == (o->nfiles == 0)) {
		fprintf(stderr, "stripwatch: give either -r FILE (one or more) "
		    "or -i IFACE\n");
		usage(stderr);
		exit(MONITOR_EXIT_USAGE);
	}
}


int
main(int argc, char **argv)
{
	struct monitor_opts o;
	const char **files = NULL;
	char *filter = NULL;
	int rc;

	if (argc > 1 && strcmp(argv[1], "alerts") == 0)
		return alerts_main(argc - 1, argv + 1);
	parse_opts(argc, argv, &o, &files, &filter);
	rc = monitor_run(&o);
	free(files);
	free(filter);
	return rc;
}
