/*
 * syslog.c - the alert feed as RFC 5424 syslog messages.
 */
#include <stdio.h>
#include <stdlib.h>

#include "syslog.h"

struct syslog_feed {
	int	unused;
};

struct syslog_feed *
syslog_open(const char *spec, char *err, size_t errlen)
{
	snprintf(err, errlen, "--syslog %s: not available yet", spec);
	return NULL;
}

bool
syslog_queue(struct syslog_feed *s, int64_t id, int64_t run_id,
    const struct store_alert *a)
{
	(void)s, (void)id, (void)run_id, (void)a;
	return true;
}

bool
syslog_commit(struct syslog_feed *s)
{
	(void)s;
	return true;
}

void
syslog_discard(struct syslog_feed *s)
{
	(void)s;
}

bool
syslog_reopen(struct syslog_feed *s, char *err, size_t errlen)
{
	(void)s, (void)err, (void)errlen;
	return true;
}

void
syslog_close(struct syslog_feed *s)
{
	free(s);
}
