/*
 * syslog.h - the alert feed as syslog messages (RFC 5424) over UDP
 * (RFC 5426), TCP with octet-counting framing (RFC 6587 3.4.1) or a unix
 * datagram socket.
 *
 * Same life as the JSON feed: messages are queued with each alert and
 * sent only after the database commit.  Sending never blocks the sensor
 * for long and never stops it: failures are counted, the first is
 * reported on stderr, the total at close.  A feed is not thread-safe:
 * its caller serialises the calls (monitor.c holds its run lock).
 */
#ifndef SW_SYSLOG_H
#define SW_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct syslog_feed;

/*
 * Opens the feed described by spec: udp://HOST[:PORT], tcp://HOST[:PORT]
 * (an IPv6 address in brackets; port 514 by default) or unix:PATH, each
 * optionally followed by ?facility=NAME (kern, user, mail, daemon, auth,
 * syslog, ..., local0 to local7; default local0).  A bad spec or a host
 * that does not resolve is an error (NULL, err says why); a collector
 * that is down is not: it is retried at each commit.
 */
struct syslog_feed *syslog_open(const char *spec, char *err, size_t errlen);

/* Queues one alert (of run run_id) until syslog_commit(). */
bool		 syslog_queue(struct syslog_feed *, int64_t alert_id,
		    int64_t run_id, const struct store_alert *);

/*
 * Sends what is queued, as far as it goes without waiting: call after the
 * database commit.  TCP keeps what the socket did not take for the next
 * commit, up to SYSLOG_QUEUE_MAX bytes.  False when a message was lost.
 */
bool		 syslog_commit(struct syslog_feed *);

/* Drops queued messages that were not committed (their commit failed). */
void		 syslog_discard(struct syslog_feed *);

/* Reconnects (SIGHUP: a restarted collector, a new address). */
bool		 syslog_reopen(struct syslog_feed *, char *err, size_t errlen);

/*
 * Sends what is left, waiting up to SYSLOG_CLOSE_WAIT_MS, reports the
 * messages lost on stderr, and frees the feed; NULL is fine.
 */
void		 syslog_close(struct syslog_feed *);

#endif
