/*
 * json.h - the alert feed as JSON lines (RFC 8259), one object per alert
 * in Elastic Common Schema (ECS) field names: the "SIEM feed" section of
 * README.md is the schema.
 *
 * Every string is escaped, so a line is valid JSON whatever bytes were on
 * the wire.  Lines are written only after the alerts they carry were
 * committed to the database.  The same alert always gives the same bytes:
 * nothing in a line comes from the wall clock or the host.
 */
#ifndef SW_JSON_H
#define SW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define JSON_TIME_LEN	28	/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" and NUL */

struct json_feed;

/* A growing output buffer; failed is set once an allocation failed. */
struct json_buf {
	char	*data;
	size_t	 len, cap;
	bool	 failed;
};

/*
 * Appends alert a (database row id, of run run_id) to b as one ECS object
 * and a newline.  Returns false, with b as it was, when out of memory.
 * The feed and `stripwatch alerts --format json` both print through it.
 */
bool		 json_alert(struct json_buf *b, int64_t id, int64_t run_id,
		    const struct store_alert *a);

/* Frees b's memory and empties it. */
void		 json_buf_free(struct json_buf *b);

/*
 * Writes us (microseconds since the epoch) as RFC 3339 UTC with six
 * fraction digits into out[JSON_TIME_LEN].
 */
void		 json_time(char *out, uint64_t us);

/* Severity as the number in event.severity (README: SIEM feed). */
int		 json_severity(const char *severity);

/* Opens path for appending ("-" is standard output). */
struct json_feed *json_open(const char *path, char *err, size_t errlen);

/* Queues one alert (of run run_id) until json_commit(). */
bool		 json_queue(struct json_feed *, int64_t alert_id,
		    int64_t run_id, const struct store_alert *);

/* Writes the queued lines: call after the database commit. */
bool		 json_commit(struct json_feed *);

/* Drops queued lines (their commit failed). */
void		 json_discard(struct json_feed *);

/*
 * Reopens the path for appending (SIGHUP, after logrotate moved the file).
 * On failure the old file stays in use and err says why.  Standard output
 * is left alone.
 */
bool		 json_reopen(struct json_feed *, char *err, size_t errlen);

/* Writes what is queued, closes; NULL is fine. */
void		 json_close(struct json_feed *);

#endif
