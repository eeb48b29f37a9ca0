/*
 * monitor.h - one run of the pipeline: capture -> decode -> flow table
 * (reassembly, classification) -> store.  The only place that knows every
 * stage; stripwatch.c is the command line around it.
 */
#ifndef SW_MONITOR_H
#define SW_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include "dissect/flow.h"

#define MONITOR_EXIT_OK		0	/* done */
#define MONITOR_EXIT_ERROR	1	/* could not run, or the store failed */
#define MONITOR_EXIT_USAGE	2	/* bad command line */
#define MONITOR_EXIT_DAMAGED	3	/* input damaged; the rest was processed */

#define MONITOR_USER		"stripwatch"	/* live: privileges dropped to */
#define MONITOR_STATS_INTERVAL	60	/* live: s between counter updates */
#define MONITOR_WORKERS_MAX	16	/* live: capture workers at most */

struct monitor_opts {
	const char	*const *files;	/* offline inputs, in order */
	size_t		 nfiles;
	const char	*iface;		/* or a live interface */
	const char	*db;		/* SQLite path (":memory:" for tests) */
	const char	*filter;	/* BPF expression or NULL */
	const char	*json;		/* alert feed path, "-", or NULL */
	const char	*syslog;	/* --syslog SPEC (store/syslog.h), or NULL */
	const char	*expect_file;	/* --expect-starttls list, or NULL */
	int		 snaplen, buffer_kb;	/* live; 0 = default */
	bool		 immediate;	/* live: no batching in the kernel */
	bool		 verify;	/* check IP/TCP checksums */
	bool		 classify;	/* run nDPI */
	bool		 quiet;		/* no summary on stderr */
	struct flow_limits lim;
	/* TLS certificates: trust anchors (both NULL: the system store). */
	const char	*ca_file, *ca_path;
	/* MTA-STS */
	bool		 fetch;		/* look policies up (--no-fetch: off) */
	const char	*policy_dir;	/* one policy body per domain file */
	const char	*domains_file;	/* protected domains, one per line */
	const char	*dns_server;	/* ADDR[@PORT]; NULL: the system's */
	const char	*sts_ca_file;	/* trust for the policy fetch */
	unsigned	 https_port;	/* tests: policy hosts on this port */
	long		 fetch_timeout_ms;
	/* Live sensor. */
	const char	*user;		/* drop to this user after opening the
					   interface (default MONITOR_USER) */
	bool		 allow_root;	/* keep root when live */
	unsigned	 stats_interval; /* s between runs-row updates, live */
	unsigned	 workers;	/* live: capture workers (fan-out), 1 */
};

/* Fills the defaults: ./stripwatch.db, checksums and nDPI on. */
void	monitor_opts_default(struct monitor_opts *);

/*
 * Runs to the end of the input (or SIGINT/SIGTERM when live) and returns
 * one of the MONITOR_EXIT_* codes.  Messages go to stderr.
 */
int	monitor_run(const struct monitor_opts *);

#endif
