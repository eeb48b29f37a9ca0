/*
 * json.h - the alert feed as JSON lines (one object per alert).
 *
 * Every string is escaped (RFC 8259), so a line is valid JSON whatever
 * bytes were on the wire.  Lines are written only after the alerts they
 * carry were committed to the database.
 */
#ifndef SW_JSON_H
#define SW_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

struct json_feed;

/* Opens path for appending ("-" is standard output). */
struct json_feed *json_open(const char *path, char *err, size_t errlen);

/* Queues one alert until json_commit(). */
bool		 json_queue(struct json_feed *, int64_t alert_id,
		    const struct store_alert *);

/* Writes the queued lines: call after the database commit. */
bool		 json_commit(struct json_feed *);

/* Drops queued lines (their commit failed). */
void		 json_discard(struct json_feed *);

void		 json_close(struct json_feed *);

#endif
