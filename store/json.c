/*
 * json.c - the alert feed as JSON lines (RFC 8259) in Elastic Common
 * Schema field names, as nested objects (README.md, "SIEM feed").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"

#define JSON_ECS_VERSION	"8.11.0"	/* the ECS release followed */
#define JSON_BUF_MIN		4096		/* first allocation, bytes */

struct json_feed {
	FILE		*f;
	char		*path;		/* NULL for standard output */
	struct json_buf	 queue;		/* lines waiting for the commit */
};

/* Makes room for n more bytes; sets b->failed when it cannot. */
static bool
buf_room(struct json_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return false;
	if (b->cap - b->len >= n)
		return true;
	cap = b->cap ? b->cap : JSON_BUF_MIN;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2) {
			b->failed = true;
			return false;
		}
		cap *= 2;
	}
	if ((p = realloc(b->data, cap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

static void
put_mem(struct json_buf *b, const char *s, size_t n)
{
	if (!buf_room(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

static void
put_lit(struct json_buf *b, const char *s)
{
	put_mem(b, s, strlen(s));
}

/* s as a JSON string, quotes included; NULL is written as "". */
static void
put_str(struct json_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

	put_mem(b, "\"", 1);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			put_mem(b, esc, 2);
			esc[1] = 'u';
		} else if (c < 0x20 || c >= 0x7f) {
			/*
			 * Evidence is escaped ASCII already, but a file name
			 * may hold any byte: bytes >= 0x80 become U+0080 to
			 * U+00FF, so a line is always valid UTF-8.
			 */
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			put_mem(b, esc, 6);
		} else
			put_mem(b, (const char *)&c, 1);
	}
	put_mem(b, "\"", 1);
}

static void
put_num(struct json_buf *b, long long v)
{
	char num[24];
	int k = snprintf(num, sizeof(num), "%lld", v);

	if (k > 0 && (size_t)k < sizeof(num))
		put_mem(b, num, (size_t)k);
}

void
json_time(char *out, uint64_t us)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999) {
		snprintf(out, JSON_TIME_LEN, "9999-12-31T23:59:59.999999Z");
		return;
	}
	strftime(out, JSON_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);	/* 19 */
	snprintf(out + 19, JSON_TIME_LEN - 19, ".%06uZ",
	    (unsigned)(us % 1000000));
}

/* Elastic's risk-score bands for low, medium and high; info below. */
int
json_severity(const char *severity)
{
	if (strcmp(severity, "high") == 0)
		return 73;
	if (strcmp(severity, "medium") == 0)
		return 47;
	if (strcmp(severity, "low") == 0)
		return 21;
	return 1;
}

bool
json_alert(struct json_buf *b, int64_t id, int64_t run_id,
    const struct store_alert *a)
{
	char ts[JSON_TIME_LEN];
	size_t start = b->len;

	json_time(ts, a->ts);
	put_lit(b, "{\"@timestamp\":");
	put_str(b, ts);
	put_lit(b, ",\"ecs\":{\"version\":\"" JSON_ECS_VERSION "\"}");
	put_lit(b, ",\"event\":{\"kind\":\"alert\",\"category\":"
	    "[\"network\",\"intrusion_detection\"],\"type\":[\"info\"],"
	    "\"module\":\"stripwatch\",\"dataset\":\"stripwatch.alert\","
	    "\"id\":\"");
	put_num(b, id);
	put_lit(b, "\",\"severity\":");
	put_num(b, json_severity(a->severity));
	put_lit(b, "},\"log\":{\"level\":");
	put_str(b, a->severity);
	put_lit(b, "},\"rule\":{\"name\":");
	put_str(b, a->kind);
	put_lit(b, "},\"source\":{\"ip\":");
	put_str(b, a->client_ip);
	put_lit(b, ",\"port\":");
	put_num(b, a->client_port);
	put_lit(b, "},\"destination\":{\"ip\":");
	put_str(b, a->server_ip);
	put_lit(b, ",\"port\":");
	put_num(b, a->server_port);
	put_lit(b, "},\"network\":{\"transport\":\"tcp\",\"type\":");
	put_str(b, a->server_ip != NULL && strchr(a->server_ip, ':') != NULL ?
	    "ipv6" : "ipv4");
	put_lit(b, ",\"protocol\":\"smtp\"}"
	    ",\"observer\":{\"type\":\"ids\",\"product\":\"stripwatch\"}"
	    ",\"stripwatch\":{\"run_id\":");
	put_num(b, run_id);
	put_lit(b, ",\"session_id\":");
	if (a->session_id > 0)
		put_num(b, a->session_id);
	else
		put_lit(b, "null");
	put_lit(b, ",\"frame\":");
	put_num(b, (long long)a->frame);
	put_lit(b, ",\"source\":");
	put_str(b, a->source);
	put_lit(b, ",\"evidence\":");
	put_str(b, a->evidence);
	put_lit(b, "}}\n");
	if (b->failed) {	/* no half line: the buffer is as it was */
		b->len = start;
		b->failed = false;
		return false;
	}
	return true;
}

void
json_buf_free(struct json_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

struct json_feed *
json_open(const char *path, char *err, size_t errlen)
{
	struct json_feed *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strcmp(path, "-") == 0) {
		j->f = stdout;
		return j;
	}
	if ((j->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(j);
		return NULL;
	}
	if ((j->f = fopen(path, "a")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(j->path);
		free(j);
		return NULL;
	}
	return j;
}

bool
json_queue(struct json_feed *j, int64_t id, int64_t run_id,
    const struct store_alert *a)
{
	return json_alert(&j->queue, id, run_id, a);
}

bool
json_commit(struct json_feed *j)
{
	bool ok;

	if (j == NULL || j->queue.len == 0)
		return true;
	ok = fwrite(j->queue.data, 1, j->queue.len, j->f) == j->queue.len &&
	    fflush(j->f) == 0;
	j->queue.len = 0;
	return ok;
}

void
json_discard(struct json_feed *j)
{
	if (j != NULL)
		j->queue.len = 0;
}

bool
json_reopen(struct json_feed *j, char *err, size_t errlen)
{
	FILE *f;

	if (j == NULL || j->path == NULL)
		return true;
	if ((f = fopen(j->path, "a")) == NULL) {
		snprintf(err, errlen, "%s: %s (still writing to the old file)",
		    j->path, strerror(errno));
		return false;
	}
	fclose(j->f);	/* whole lines only: every commit was flushed */
	j->f = f;
	return true;
}

void
json_close(struct json_feed *j)
{
	if (j == NULL)
		return;
	json_commit(j);
	if (j->path != NULL)
		fclose(j->f);
	else
		fflush(stdout);
	json_buf_free(&j->queue);
	free(j->path);
	free(j);
}
