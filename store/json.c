/*
 * json.c - the alert feed as JSON lines (RFC 8259).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define JSON_LINE_MAX	2048	/* one alert, escaped */

struct json_feed {
	FILE	*f;
	bool	 is_stdout;
	char	*queue;		/* lines waiting for the commit */
	size_t	 qlen, qcap;
};

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
		j->is_stdout = true;
	} else if ((j->f = fopen(path, "a")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(j);
		return NULL;
	}
	return j;
}

/* Appends s as a JSON string (with quotes) to out[*o..n). */
static void
put_str(char *out, size_t n, size_t *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (*o + 2 >= n)
		return;
	out[(*o)++] = '"';
	for (; *s != '\0' && *o + 8 < n; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[(*o)++] = '\\';
			out[(*o)++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			/* Evidence is escaped ASCII already; be safe anyway. */
			memcpy(out + *o, "\\u00", 4);
			out[*o + 4] = hex[c >> 4];
			out[*o + 5] = hex[c & 15];
			*o += 6;
		} else
			out[(*o)++] = (char)c;
	}
	out[(*o)++] = '"';
}

static void
put_lit(char *out, size_t n, size_t *o, const char *lit)
{
	size_t k = strlen(lit);

	if (n - *o > k) {
		memcpy(out + *o, lit, k);
		*o += k;
	}
}

static void
put_num(char *out, size_t n, size_t *o, unsigned long long v)
{
	int k = snprintf(out + *o, n - *o, "%llu", v);

	if (k > 0 && (size_t)k < n - *o)
		*o += (size_t)k;
}

bool
json_queue(struct json_feed *j, int64_t id, const struct store_alert *a)
{
	char line[JSON_LINE_MAX];
	size_t o = 0, n = sizeof(line) - 2;

	put_lit(line, n, &o, "{\"id\":");
	put_num(line, n, &o, (unsigned long long)id);
	put_lit(line, n, &o, ",\"kind\":");
	put_str(line, n, &o, a->kind);
	put_lit(line, n, &o, ",\"severity\":");
	put_str(line, n, &o, a->severity);
	put_lit(line, n, &o, ",\"ts\":");
	put_num(line, n, &o, a->ts);
	put_lit(line, n, &o, ",\"client_ip\":");
	put_str(line, n, &o, a->client_ip);
	put_lit(line, n, &o, ",\"client_port\":");
	put_num(line, n, &o, a->client_port);
	put_lit(line, n, &o, ",\"server_ip\":");
	put_str(line, n, &o, a->server_ip);
	put_lit(line, n, &o, ",\"server_port\":");
	put_num(line, n, &o, a->server_port);
	put_lit(line, n, &o, ",\"session_id\":");
	put_num(line, n, &o, a->session_id > 0 ?
	    (unsigned long long)a->session_id : 0);
	put_lit(line, n, &o, ",\"source\":");
	put_str(line, n, &o, a->source);
	put_lit(line, n, &o, ",\"frame\":");
	put_num(line, n, &o, a->frame);
	put_lit(line, n, &o, ",\"evidence\":");
	put_str(line, n, &o, a->evidence);
	line[o++] = '}';
	line[o++] = '\n';
	if (j->qcap - j->qlen < o) {
		size_t cap = j->qcap ? j->qcap * 2 : 8192;
		char *q;

		while (cap - j->qlen < o)
			cap *= 2;
		if ((q = realloc(j->queue, cap)) == NULL)
			return false;
		j->queue = q;
		j->qcap = cap;
	}
	memcpy(j->queue + j->qlen, line, o);
	j->qlen += o;
	return true;
}

bool
json_commit(struct json_feed *j)
{
	bool ok;

	if (j == NULL || j->qlen == 0)
		return true;
	ok = fwrite(j->queue, 1, j->qlen, j->f) == j->qlen &&
	    fflush(j->f) == 0;
	j->qlen = 0;
	return ok;
}

void
json_discard(struct json_feed *j)
{
	if (j != NULL)
		j->qlen = 0;
}

void
json_close(struct json_feed *j)
{
	if (j == NULL)
		return;
	json_commit(j);
	if (!j->is_stdout)
		fclose(j->f);
	else
		fflush(stdout);
	free(j->queue);
	free(j);
}
