/*
 * fetch_drv.c - runs policy/fetch.c for a shell test (tests/fetch.sh).
 *
 *   fetch_drv [--dns-server A@P] [--ca-file F] [--ca-path D] [--ta-file F]
 *       [--https-port N] [--timeout-ms N] [--body-max N] [--nonblock]
 *       [--free-after-ms N] txt|policy DOMAIN...
 *
 * Issues every request at once, polls until all are done and prints, per
 * result, in the order they finish:
 *
 *   DOMAIN KIND STATUS http=N type=T len=N detail=TEXT
 *     txt[I]=ESCAPED          (TXT: one line per record; len = records)
 *     body=ESCAPED            (policy, FETCH_OK: len = body bytes)
 *
 * Bytes are escaped as \r \n \\ and \xNN except printable ASCII, so the
 * bytes served can be compared exactly.  On the first line (DOMAIN and T,
 * the Content-Type as served, "-" if none) a space is \x20 too, so the
 * fields stay whitespace-separated; detail runs to the end of the line.
 * --nonblock polls with timeout 0 (as the capture loop will), sleeping
 * 1 ms between polls, and ends with "# max_poll_ms=N", the longest a
 * poll took.  --free-after-ms frees the fetcher after N ms with requests
 * still pending ("# freed with N pending").
 * Exits 0 unless the arguments or fetcher_new() are bad.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/fetch.h"

static void
put_escaped(const uint8_t *p, size_t len, bool space)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\r')
			fputs("\\r", stdout);
		else if (p[i] == '\n')
			fputs("\\n", stdout);
		else if (p[i] == '\\')
			fputs("\\\\", stdout);
		else if (p[i] < 0x7f && (p[i] > 0x20 ||
		    (space && p[i] == 0x20)))
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
}

static void
put_str(const char *s)
{
	put_escaped((const uint8_t *)s, strlen(s), false);
}

static void
on_result(void *ctx, const struct fetch_result *r)
{
	size_t i;

	(void)ctx;
	put_str(r->domain);
	printf(" %s %s http=%ld type=", r->kind == FETCH_TXT ? "txt" :
	    "policy", fetch_status_name(r->status), r->http_status);
	if (r->content_type != NULL)
		put_str(r->content_type);
	else
		putchar('-');
	printf(" len=%zu detail=%s\n", r->kind == FETCH_TXT ? r->ntxt :
	    r->body_len, r->detail);
	for (i = 0; i < r->ntxt; i++) {
		printf("  txt[%zu]=", i);
		put_escaped((const uint8_t *)r->txt[i], r->txt_lens[i], true);
		putchar('\n');
	}
	if (r->body != NULL) {
		fputs("  body=", stdout);
		put_escaped(r->body, r->body_len, true);
		putchar('\n');
	}
	fflush(stdout);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls until nothing is pending or free_after ms (0: no limit) pass. */
static size_t
poll_all(struct fetcher *f, bool nonblock, long free_after)
{
	struct timespec ms1 = { 0, 1000000 };
	long start = now_ms(), t, max = 0;
	size_t n;

	for (;;) {
		t = now_ms();
		n = fetcher_poll(f, nonblock ? 0 : 100, on_result, NULL);
		if (now_ms() - t > max)
			max = now_ms() - t;
		if (n == 0 ||
		    (free_after > 0 && now_ms() - start >= free_after))
			break;
		if (nonblock)
			nanosleep(&ms1, NULL);
	}
	if (nonblock)
		printf("# max_poll_ms=%ld\n", max);
	return n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: fetch_drv [--dns-server A@P] [--ca-file F] "
	    "[--ca-path D] [--ta-file F] [--https-port N] [--timeout-ms N] "
	    "[--body-max N] [--nonblock] [--free-after-ms N] "
	    "txt|policy DOMAIN...\n");
	exit(2);
}

static long
num_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0)
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	struct fetch_opts o;
	struct fetcher *f;
	char err[256];
	bool txt, nonblock = false;
	long free_after = 0;
	size_t left;
	int i;

	memset(&o, 0, sizeof(o));
	for (i = 1; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--nonblock") == 0) {
			nonblock = true;
			i--;
		} else if (strcmp(argv[i], "--free-after-ms") == 0)
			free_after = num_arg(argv[i + 1]);
		else if (strcmp(argv[i], "--dns-server") == 0)
			o.dns_server = argv[i + 1];
		else if (strcmp(argv[i], "--ca-file") == 0)
			o.ca_file = argv[i + 1];
		else if (strcmp(argv[i], "--ca-path") == 0)
			o.ca_path = argv[i + 1];
		else if (strcmp(argv[i], "--ta-file") == 0)
			o.dnssec_ta_file = argv[i + 1];
		else if (strcmp(argv[i], "--https-port") == 0)
			o.https_port = (unsigned)num_arg(argv[i + 1]);
		else if (strcmp(argv[i], "--timeout-ms") == 0)
			o.timeout_ms = num_arg(argv[i + 1]);
		else if (strcmp(argv[i], "--body-max") == 0)
			o.body_max = (size_t)num_arg(argv[i + 1]);
		else
			usage();
	}
	if (argc - i < 2)
		usage();
	if (strcmp(argv[i], "txt") == 0)
		txt = true;
	else if (strcmp(argv[i], "policy") == 0)
		txt = false;
	else
		usage();
	if ((f = fetcher_new(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fetch_drv: %s\n", err);
		return 1;
	}
	for (i++; i < argc; i++)
		if (!(txt ? fetcher_txt(f, argv[i], NULL) :
		    fetcher_policy(f, argv[i], NULL)))
			fprintf(stderr, "fetch_drv: %s: refused (queue full)\n",
			    argv[i]);
	if ((left = poll_all(f, nonblock, free_after)) > 0)
		printf("# freed with %zu pending\n", left);
	fetcher_free(f);
	return 0;
}
