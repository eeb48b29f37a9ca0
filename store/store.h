/*
 * store.h - the SQLite evidence store: runs, flows, SMTP sessions, alerts
 * and the per-server STARTTLS history.
 *
 * One writer.  Rows are batched into transactions of STORE_BATCH_ROWS and
 * committed by store_flush(); the database is in WAL mode so readers never
 * block the sensor.
 */
#ifndef SW_STORE_H
#define SW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION	3
#define STORE_APPLICATION_ID	0x73777463	/* "swtc" */

struct store;

/* One row of `runs`.  Times in µs since the epoch. */
struct store_run {
	const char	*source;	/* files or interface */
	uint64_t	 started, ended;	/* wall clock */
	uint64_t	 first_ts, last_ts;	/* pcap time of first/last frame */
	uint64_t	 packets, bytes, tcp_packets;
	uint64_t	 truncated;	/* frames cut by snaplen */
	uint64_t	 damaged;	/* files ending in a corrupt record */
	uint64_t	 malformed, fragments, bad_checksums;
	uint64_t	 drops, ifdrops;
	uint64_t	 flows, evicted, flows_peak, mem_peak;
	const char	*status;	/* running, complete, damaged, failed;
					   interrupted when found dead */
};

/* One row of `flows`.  Text fields are NUL-terminated. */
struct store_flow {
	const char	*client_ip, *server_ip;
	uint16_t	 client_port, server_port;
	uint64_t	 first_ts, last_ts;
	uint32_t	 first_source;
	uint64_t	 first_frame, last_frame;
	const char	*protocol;
	uint64_t	 packets[2], bytes[2], gap_bytes[2];
	uint32_t	 gaps[2], conflicts;
	const char	*sha256[2];	/* lower-case hex */
	const char	*close_reason;
	bool		 syn_seen;
};

/* One row of `sessions`, written at the start and completed at the end. */
struct store_session {
	const char	*client_ip, *server_ip;
	uint16_t	 client_port, server_port;
	uint64_t	 first_ts, last_ts;
	uint64_t	 flow_id;	/* the flow's id within the run */
	const char	*banner_host, *ehlo_name, *capabilities;
	const char	*rcpt_domains, *auth_mech, *outcome;
	bool		 starttls_offered, starttls_sent, tls, mail_in_clear;
	int		 starttls_reply;
	bool		 complete;
	const char	*sni, *tls_version;	/* NULL when not seen */
	int		 cipher;		/* -1 when not seen */
	int64_t		 cert_id;		/* 0 when none */
	const char	*cert_status;
};

/* One row of `certs`. */
struct store_cert {
	const char	*sha256, *spki_sha256;
	const char	*subject, *issuer, *sans;
	int64_t		 not_before, not_after;
	const char	*key_type;
	int		 key_bits;
	const uint8_t	*der;
	size_t		 der_len;
};

/* One row of `policies`, written. */
struct store_policy {
	const char	*domain, *policy_id, *mode, *mx, *source;
	int64_t		 max_age;
	const uint8_t	*body;
	size_t		 body_len;
	uint64_t	 fetched;	/* wall clock, µs */
};

/* The latest policy of a domain, read back. */
struct store_policy_row {
	bool		 found;
	char		 policy_id[40];
	char		 source[16];
	uint64_t	 fetched;
	uint8_t		 body[65536];
	size_t		 body_len;
};

/* One row of `alerts`. */
struct store_alert {
	const char	*kind, *severity;
	uint64_t	 ts;		/* pcap time, µs */
	const char	*client_ip, *server_ip;
	uint16_t	 client_port, server_port;
	int64_t		 session_id;
	const char	*source;	/* capture file or interface */
	uint64_t	 frame;
	const char	*evidence;
};

/*
 * Opens or creates the database at path.  A file that is not a stripwatch
 * database, or one written by a newer stripwatch, is refused with a message
 * in err.  Returns NULL on failure.
 */
struct store	*store_open(const char *path, char *err, size_t errlen);

/*
 * Marks "interrupted" the runs still "running" whose process is gone
 * (kill -9, a crash); call before store_run_begin().
 */
bool		 store_runs_reap(struct store *);

/* Inserts the run row (status "running", with our pid); returns its id, or -1. */
int64_t		 store_run_begin(struct store *, const struct store_run *);

/* Rewrites the run row's counters and status. */
bool		 store_run_update(struct store *, int64_t run,
		    const struct store_run *);

bool		 store_flow(struct store *, int64_t run,
		    const struct store_flow *);

/* Inserts a session row at its start; returns its id, or -1. */
int64_t		 store_session_begin(struct store *, int64_t run,
		    const struct store_session *);

/* Completes the session row. */
bool		 store_session_end(struct store *, int64_t id,
		    const struct store_session *);

/* Sets the MTA-STS verdicts of a session, judged after its end. */
bool		 store_session_sts(struct store *, int64_t id, const char *sts);

/* Stores a certificate once (by SHA-256) and returns its id, or -1. */
int64_t		 store_cert(struct store *, const struct store_cert *,
		    uint64_t ts);

/*
 * Pins server (its SNI, or address:port) to a key and issuer.  Returns 1
 * when an earlier pin differed (described in prev), 0 when not, -1 on a
 * database error.  A differing pin is replaced only if replace is true.
 */
int		 store_pin(struct store *, const char *server,
		    const char *spki, const char *issuer, int64_t cert_id,
		    bool replace, uint64_t ts, char *prev, size_t prevlen);

/* MTA-STS policy cache: a new row per fetch; the latest is read back. */
bool		 store_policy_put(struct store *, const struct store_policy *);
bool		 store_policy_get(struct store *, const char *domain,
		    struct store_policy_row *);

/* Inserts an alert; returns its id, or -1. */
int64_t		 store_alert(struct store *, int64_t run,
		    const struct store_alert *);

/*
 * Per-server STARTTLS history: records that the server at ip:port (and
 * named host in its banner, when not empty) did or did not offer
 * STARTTLS at ts; asks whether it ever offered it.
 */
bool		 store_server_record(struct store *, const char *ip,
		    uint16_t port, const char *host, bool offered, uint64_t ts);
bool		 store_server_offered_before(struct store *, const char *ip,
		    uint16_t port, const char *host);

/* Commits the open transaction, if any. */
bool		 store_flush(struct store *);

/* The last error, for messages. */
const char	*store_error(const struct store *);

/* Flushes and closes.  Returns false if the final commit failed. */
bool		 store_close(struct store *);

#endif
