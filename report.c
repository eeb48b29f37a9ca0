/*
 * report.c - `stripwatch alerts`: the alerts of a database, filtered by
 * time, kind, server and severity, as an aligned table, JSON lines (the
 * feed's ECS objects, store/json.c) or CSV (RFC 4180).
 *
 * The database is opened read-only, so a sensor may be writing it (WAL).
 * Every filter reaches SQLite as a bound parameter; no SQL is built from
 * what the user typed.
 */
#include <sys/ioctl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "detect/detect.h"
#include "store/json.h"
#include "store/store.h"
#include "report.h"

#define REPORT_KINDS_MAX	32	/* --kind given this often at most */
#define REPORT_WIDTH		120	/* table width when not a terminal */
#define REPORT_WIDTH_MIN	60
#define REPORT_EVIDENCE_MIN	24	/* evidence is cut, never below this */

#define EXIT_ERROR	1
#define EXIT_USAGE	2

enum report_format { FMT_TABLE, FMT_JSON, FMT_CSV };

struct report_opts {
	const char	*db;
	int64_t		 since, until;	/* µs; since <= ts < until */
	const char	*kinds[REPORT_KINDS_MAX];
	int		 nkinds;
	char		 server[INET6_ADDRSTRLEN];	/* "" = any */
	int		 port;		/* -1 = any */
	int		 severity;	/* 0 info .. 3 high */
	int64_t		 limit;		/* -1 = all */
	enum report_format format;
};

/* One alert read back; strings are owned (table rows outlive the step). */
struct row {
	int64_t		 id, run_id, session_id;
	uint64_t	 ts, frame;
	int		 client_port, server_port;
	char		*kind, *severity, *client_ip, *server_ip, *source;
	char		*evidence;
};

/*
 * The most recent `limit` matches, printed oldest first.  The severity
 * rank is the README's order: info < low < medium < high.
 */
static const char report_sql[] =
	"SELECT id, run_id, session_id, kind, severity, ts, client_ip,"
	" client_port, server_ip, server_port, source, frame, evidence"
	" FROM (SELECT * FROM alerts"
	"  WHERE ts >= ?1 AND ts < ?2"
	"  AND (?3 IS NULL OR server_ip = ?3)"
	"  AND (?4 IS NULL OR server_port = ?4)"
	"  AND (CASE severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2"
	"   WHEN 'low' THEN 1 ELSE 0 END) >= ?5"
	"  AND (?6 = 0 OR kind IN (?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,"
	"   ?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,"
	"   ?36,?37,?38,?39,?40,?41))"
	"  ORDER BY ts DESC, id DESC LIMIT ?7)"
	" ORDER BY ts, id";
#define REPORT_KIND_PARAM	10	/* the first kind's parameter */

static const char *const severities[] = { "info", "low", "medium", "high" };

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: stripwatch alerts [-w DB] [--since TIME] [--until TIME] "
	    "[--kind KIND]...\n"
	    "                         [--server ADDR[:PORT]] [--severity MIN] "
	    "[--limit N]\n"
	    "                         [--format table|json|csv]\n"
	    "  -w DB              database to read (default ./stripwatch.db)\n"
	    "      --since TIME   alerts at or after TIME (pcap time, UTC)\n"
	    "      --until TIME   alerts before TIME\n"
	    "                     TIME: YYYY-MM-DD[ HH:MM[:SS]] (UTC), RFC 3339 "
	    "(2026-11-23T15:48:01Z,\n"
	    "                     +01:00 offsets), or -N{s,m,h,d,w} before now\n"
	    "      --kind KIND    only this kind (repeat for several)\n"
	    "      --server ADDR[:PORT]  only this server ([v6addr]:port)\n"
	    "      --severity MIN only MIN or worse: info < low < medium < "
	    "high\n"
	    "      --limit N      the N most recent matches (still oldest "
	    "first)\n"
	    "      --format F     table (default), json (the feed's ECS lines) "
	    "or csv\n"
	    "exit status: 0 done, 1 error, 2 bad usage\n");
}

/* "stripwatch alerts: OPT "ARG": WANT" and the usage status. */
static int
bad_usage(const char *opt, const char *arg, const char *want)
{
	fprintf(stderr, "stripwatch alerts: %s \"%s\": %s\n", opt, arg, want);
	return EXIT_USAGE;
}

/* Reads exactly n digits at *s; false otherwise. */
static bool
digits(const char **s, int n, int *v)
{
	*v = 0;
	while (n-- > 0) {
		if (**s < '0' || **s > '9')
			return false;
		*v = *v * 10 + (*(*s)++ - '0');
	}
	return true;
}

/* "-N{s,m,h,d,w}": N units before now. */
static bool
parse_relative(const char *s, int64_t *out)
{
	static const struct { char unit; int64_t us; } units[] = {
		{ 's', 1000000LL }, { 'm', 60000000LL }, { 'h', 3600000000LL },
		{ 'd', 86400000000LL }, { 'w', 604800000000LL },
	};
	struct timespec now;
	char *end;
	long long n;
	size_t i;

	errno = 0;
	n = strtoll(s + 1, &end, 10);
	if (s[1] < '0' || s[1] > '9' || errno != 0 || end[0] == '\0' ||
	    end[1] != '\0' || n > 100000 * 52LL)
		return false;
	clock_gettime(CLOCK_REALTIME, &now);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (*end == units[i].unit) {
			*out = (int64_t)now.tv_sec * 1000000 +
			    now.tv_nsec / 1000 - n * units[i].us;
			return true;
		}
	return false;
}

/*
 * TIME of --since and --until into µs since the epoch: YYYY-MM-DD, then
 * optionally [T or space]HH:MM, :SS, .fraction, Z or +-HH:MM (none is UTC).
 */
static bool
parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh, om, sign;
	int64_t frac = 0, scale = 100000, offset = 0;
	time_t t;

	if (s[0] == '-')
		return parse_relative(s, out);
	if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) ||
	    *s++ != '-' || !digits(&s, 2, &d))
		return false;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi))
			return false;
		if (*s == ':' && (s++, !digits(&s, 2, &sec)))
			return false;
		if (*s == '.') {
			if (*++s < '0' || *s > '9')
				return false;
			for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
				frac += (*s - '0') * scale;
		}
		if (*s == 'Z' || *s == 'z')
			s++;
		else if (*s == '+' || *s == '-') {
			sign = *s++ == '-' ? -1 : 1;
			if (!digits(&s, 2, &oh) || *s++ != ':' ||
			    !digits(&s, 2, &om) || oh > 23 || om > 59)
				return false;
			offset = sign * (oh * 3600LL + om * 60LL);
		}
	}
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1 || tm.tm_mday != d)
		return false;	/* 2026-02-30 and the like */
	*out = ((int64_t)t - offset) * 1000000 + frac;
	return true;
}

/* ADDR, ADDR:PORT or [ADDR]:PORT, the address written as the store does. */
static bool
parse_server(const char *s, struct report_opts *o)
{
	char addr[INET6_ADDRSTRLEN + 2], buf[sizeof(struct in6_addr)];
	const char *port = NULL, *end, *colon = strchr(s, ':');
	size_t n;
	char *e;
	long v;
	int af;

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL ||
		    (end[1] != '\0' && end[1] != ':'))
			return false;
		n = (size_t)(end - s - 1);
		s++;
		port = end[1] == ':' ? end + 2 : NULL;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		n = (size_t)(colon - s);	/* IPv4:PORT */
		port = colon + 1;
	} else
		n = strlen(s);			/* IPv4, or IPv6 bare */
	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';
	af = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, addr, buf) != 1 ||
	    inet_ntop(af, buf, o->server, sizeof(o->server)) == NULL)
		return false;
	if (port == NULL)
		return true;
	errno = 0;
	v = strtol(port, &e, 10);
	if (*port < '0' || *port > '9' || *e != '\0' || errno != 0 || v < 1 ||
	    v > 65535)
		return false;
	o->port = (int)v;
	return true;
}

static bool
known_kind(const char *k)
{
	int i;

	for (i = 0; i < ALERT_KIND_COUNT; i++)
		if (strcmp(k, alert_kind_name((enum alert_kind)i)) == 0)
			return true;
	return false;
}

/* Parses argv into *o; returns -1 to go on, else the exit status. */
static int
parse_opts(int argc, char **argv, struct report_opts *o)
{
	enum { O_SINCE = 256, O_UNTIL, O_KIND, O_SERVER, O_SEVERITY, O_LIMIT,
	    O_FORMAT };
	static const struct option lopts[] = {
		{ "since",	required_argument, NULL, O_SINCE },
		{ "until",	required_argument, NULL, O_UNTIL },
		{ "kind",	required_argument, NULL, O_KIND },
		{ "server",	required_argument, NULL, O_SERVER },
		{ "severity",	required_argument, NULL, O_SEVERITY },
		{ "limit",	required_argument, NULL, O_LIMIT },
		{ "format",	required_argument, NULL, O_FORMAT },
		{ "write",	required_argument, NULL, 'w' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int c, i;

	memset(o, 0, sizeof(*o));
	o->db = "stripwatch.db";
	o->since = INT64_MIN;
	o->until = INT64_MAX;
	o->port = o->limit = -1;
	while ((c = getopt_long(argc, argv, "w:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'w':
			o->db = optarg;
			break;
		case O_SINCE:
		case O_UNTIL:
			if (!parse_time(optarg, c == O_SINCE ? &o->since :
			    &o->until))
				return bad_usage(c == O_SINCE ? "--since" :
				    "--until", optarg, "not YYYY-MM-DD[ HH:MM"
				    "[:SS]], RFC 3339 or -N{s,m,h,d,w}");
			break;
		case O_KIND:
			if (!known_kind(optarg))
				return bad_usage("--kind", optarg, "no such "
				    "alert kind (README: Alerts)");
			if (o->nkinds == REPORT_KINDS_MAX)
				return bad_usage("--kind", optarg,
				    "too many kinds");
			o->kinds[o->nkinds++] = optarg;
			break;
		case O_SERVER:
			if (!parse_server(optarg, o))
				return bad_usage("--server", optarg, "not ADDR, "
				    "ADDR:PORT or [IPv6]:PORT");
			break;
		case O_SEVERITY:
			for (i = 0; i < 4 && strcmp(optarg, severities[i]); i++)
				;
			if (i == 4)
				return bad_usage("--severity", optarg, "info, "
				    "low, medium or high");
			o->severity = i;
			break;
		case O_LIMIT:
			errno = 0;
			o->limit = strtoll(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' ||
			    errno != 0 || o->limit < 1)
				return bad_usage("--limit", optarg, "not a "
				    "number from 1");
			break;
		case O_FORMAT:
			if (strcmp(optarg, "table") == 0)
				o->format = FMT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				o->format = FMT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				o->format = FMT_CSV;
			else
				return bad_usage("--format", optarg, "table, "
				    "json or csv");
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return bad_usage("argument", argv[optind], "unexpected");
	return -1;
}

static int64_t
pragma(sqlite3 *db, const char *sql, bool *ok)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		*ok = false;
		return 0;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		*ok = false;
	sqlite3_finalize(st);
	return v;
}

/* Opens path read-only; refuses what store_open() would refuse. */
static sqlite3 *
open_db(const char *path)
{
	sqlite3 *db = NULL;
	int64_t app, ver;
	bool ok = true;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "stripwatch: %s: open: %s\n", path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	app = pragma(db, "PRAGMA application_id", &ok);
	ver = pragma(db, "PRAGMA user_version", &ok);
	if (!ok)
		fprintf(stderr, "stripwatch: %s: read schema: %s\n", path,
		    sqlite3_errmsg(db));
	else if (app != STORE_APPLICATION_ID)
		fprintf(stderr, "stripwatch: %s: not a stripwatch database (it "
		    "holds other tables)\n", path);
	else if (ver > STORE_SCHEMA_VERSION)
		fprintf(stderr, "stripwatch: %s: written by a newer stripwatch "
		    "(schema %lld, this one knows %d)\n", path, (long long)ver,
		    STORE_SCHEMA_VERSION);
	else
		return db;
	sqlite3_close(db);
	return NULL;
}

static sqlite3_stmt *
prepare(sqlite3 *db, const struct report_opts *o)
{
	sqlite3_stmt *st;
	int i;

	if (sqlite3_prepare_v2(db, report_sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, o->since);
	sqlite3_bind_int64(st, 2, o->until);
	if (o->server[0] != '\0')
		sqlite3_bind_text(st, 3, o->server, -1, SQLITE_STATIC);
	if (o->port >= 0)
		sqlite3_bind_int(st, 4, o->port);
	sqlite3_bind_int(st, 5, o->severity);
	sqlite3_bind_int(st, 6, o->nkinds);
	sqlite3_bind_int64(st, 7, o->limit);
	for (i = 0; i < o->nkinds; i++)	/* the rest stay NULL: no match */
		sqlite3_bind_text(st, REPORT_KIND_PARAM + i, o->kinds[i], -1,
		    SQLITE_STATIC);
	return st;
}

static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return strdup(t != NULL ? (const char *)t : "");
}

static bool
row_read(sqlite3_stmt *st, struct row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->run_id = sqlite3_column_int64(st, 1);
	r->session_id = sqlite3_column_int64(st, 2);	/* NULL reads 0 */
	r->kind = col_text(st, 3);
	r->severity = col_text(st, 4);
	r->ts = (uint64_t)sqlite3_column_int64(st, 5);
	r->client_ip = col_text(st, 6);
	r->client_port = sqlite3_column_int(st, 7);
	r->server_ip = col_text(st, 8);
	r->server_port = sqlite3_column_int(st, 9);
	r->source = col_text(st, 10);
	r->frame = (uint64_t)sqlite3_column_int64(st, 11);
	r->evidence = col_text(st, 12);
	return r->kind != NULL && r->severity != NULL && r->client_ip != NULL &&
	    r->server_ip != NULL && r->source != NULL && r->evidence != NULL;
}

static void
row_free(struct row *r)
{
	free(r->kind);
	free(r->severity);
	free(r->client_ip);
	free(r->server_ip);
	free(r->source);
	free(r->evidence);
}

static void
row_alert(const struct row *r, struct store_alert *a)
{
	memset(a, 0, sizeof(*a));
	a->kind = r->kind;
	a->severity = r->severity;
	a->ts = r->ts;
	a->client_ip = r->client_ip;
	a->client_port = (uint16_t)r->client_port;
	a->server_ip = r->server_ip;
	a->server_port = (uint16_t)r->server_port;
	a->session_id = r->session_id;
	a->source = r->source;
	a->frame = r->frame;
	a->evidence = r->evidence;
}

static bool
print_json(const struct row *r, struct json_buf *b)
{
	struct store_alert a;

	row_alert(r, &a);
	b->len = 0;
	if (!json_alert(b, r->id, r->run_id, &a))
		return false;
	return fwrite(b->data, 1, b->len, stdout) == b->len;
}

/* One CSV field (RFC 4180 2.6, 2.7): quoted only when it has to be. */
static void
csv_field(const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n") == NULL)
		fputs(s, stdout);
	else {
		putchar('"');
		for (; *s != '\0'; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	}
	fputs(last ? "\r\n" : ",", stdout);
}

static const char csv_header[] = "id,run_id,session_id,timestamp,ts_us,kind,"
    "severity,client_ip,client_port,server_ip,server_port,source,frame,"
    "evidence\r\n";

static void
print_csv(const struct row *r)
{
	char ts[JSON_TIME_LEN];

	json_time(ts, r->ts);
	printf("%lld,%lld,", (long long)r->id, (long long)r->run_id);
	if (r->session_id > 0)
		printf("%lld", (long long)r->session_id);
	printf(",%s,%llu,", ts, (unsigned long long)r->ts);
	csv_field(r->kind, false);
	csv_field(r->severity, false);
	csv_field(r->client_ip, false);
	printf("%d,", r->client_port);
	csv_field(r->server_ip, false);
	printf("%d,", r->server_port);
	csv_field(r->source, false);
	printf("%llu,", (unsigned long long)r->frame);
	csv_field(r->evidence, true);
}

/* Table cells of a row: what is aligned, the evidence last. */
enum { C_ID, C_TIME, C_SEV, C_KIND, C_CLIENT, C_SERVER, C_FRAME, C_NCOLS };
static const char *const table_head[C_NCOLS] = { "ID", "TIME (UTC)",
    "SEVERITY", "KIND", "CLIENT", "SERVER", "FRAME" };

static void
table_cells(const struct row *r, char cells[C_NCOLS][INET6_ADDRSTRLEN + 8])
{
	const size_t n = INET6_ADDRSTRLEN + 8;
	char ts[JSON_TIME_LEN];

	json_time(ts, r->ts);
	ts[10] = ' ';
	ts[19] = '\0';		/* to the second; json and csv keep the µs */
	snprintf(cells[C_ID], n, "%lld", (long long)r->id);
	snprintf(cells[C_TIME], n, "%s", ts);
	snprintf(cells[C_SEV], n, "%s", r->severity);
	snprintf(cells[C_KIND], n, "%.40s", r->kind);
	snprintf(cells[C_CLIENT], n, strchr(r->client_ip, ':') != NULL ?
	    "[%s]:%d" : "%s:%d", r->client_ip, r->client_port);
	snprintf(cells[C_SERVER], n, strchr(r->server_ip, ':') != NULL ?
	    "[%s]:%d" : "%s:%d", r->server_ip, r->server_port);
	snprintf(cells[C_FRAME], n, "%llu", (unsigned long long)r->frame);
}

static int
table_width(void)
{
	const char *cols = getenv("COLUMNS");
	struct winsize ws;
	long v;

	if (cols != NULL && (v = strtol(cols, NULL, 10)) >= REPORT_WIDTH_MIN &&
	    v <= 10000)
		return (int)v;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col >= REPORT_WIDTH_MIN)
		return ws.ws_col;
	return REPORT_WIDTH;
}

/*
 * The rows as aligned columns, two spaces apart; the evidence gets what
 * is left of the width and ends in "..." when cut.
 */
static void
print_table(const struct row *rows, size_t n)
{
	char cells[C_NCOLS][INET6_ADDRSTRLEN + 8];
	size_t w[C_NCOLS], i, used = 0, room, len;
	int c;

	for (c = 0; c < C_NCOLS; c++)
		w[c] = strlen(table_head[c]);
	for (i = 0; i < n; i++) {
		table_cells(&rows[i], cells);
		for (c = 0; c < C_NCOLS; c++)
			if (strlen(cells[c]) > w[c])
				w[c] = strlen(cells[c]);
	}
	for (c = 0; c < C_NCOLS; c++)
		used += w[c] + 2;
	room = (size_t)table_width() > used + REPORT_EVIDENCE_MIN ?
	    (size_t)table_width() - used : REPORT_EVIDENCE_MIN;
	for (c = 0; c < C_NCOLS; c++)
		printf("%-*s  ", (int)w[c], table_head[c]);
	printf("EVIDENCE\n");
	for (i = 0; i < n; i++) {
		table_cells(&rows[i], cells);
		for (c = 0; c < C_NCOLS; c++)
			printf(c == C_ID || c == C_FRAME ? "%*s  " : "%-*s  ",
			    (int)w[c], cells[c]);
		if ((len = strlen(rows[i].evidence)) <= room)
			printf("%s\n", rows[i].evidence);
		else
			printf("%.*s...\n", (int)(room - 3), rows[i].evidence);
	}
}

/* Steps through the query and prints; returns the exit status. */
static int
report(sqlite3_stmt *st, const struct report_opts *o)
{
	struct json_buf jb = { NULL, 0, 0, false };
	struct row *rows = NULL, r, *nr;
	size_t n = 0, cap = 0, i;
	int rc, status = 0;
	bool oom = false;

	if (o->format == FMT_CSV)
		fputs(csv_header, stdout);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!row_read(st, &r)) {
			row_free(&r);
			oom = true;
			break;
		}
		if (o->format == FMT_JSON) {
			if (!print_json(&r, &jb))
				status = EXIT_ERROR;
			row_free(&r);
		} else if (o->format == FMT_CSV) {
			print_csv(&r);
			row_free(&r);
		} else {	/* the table needs every row for its widths */
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				if ((nr = realloc(rows, cap * sizeof(*rows))) ==
				    NULL) {
					row_free(&r);
					oom = true;
					break;
				}
				rows = nr;
			}
			rows[n++] = r;
		}
		if (status != 0)
			break;
	}
	if (oom) {
		fprintf(stderr, "stripwatch alerts: out of memory\n");
		status = EXIT_ERROR;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fprintf(stderr, "stripwatch: %s: %s\n", o->db,
		    sqlite3_errmsg(sqlite3_db_handle(st)));
		status = EXIT_ERROR;
	} else if (o->format == FMT_TABLE && n > 0)
		print_table(rows, n);
	for (i = 0; i < n; i++)
		row_free(&rows[i]);
	free(rows);
	json_buf_free(&jb);
	return status;
}

int
alerts_main(int argc, char **argv)
{
	struct report_opts o;
	sqlite3_stmt *st;
	sqlite3 *db;
	int rc;

	if ((rc = parse_opts(argc, argv, &o)) >= 0)
		return rc;
	if ((db = open_db(o.db)) == NULL)
		return EXIT_ERROR;
	if ((st = prepare(db, &o)) == NULL) {
		fprintf(stderr, "stripwatch: %s: %s\n", o.db,
		    sqlite3_errmsg(db));
		sqlite3_close(db);
		return EXIT_ERROR;
	}
	rc = report(st, &o);
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "stripwatch alerts: standard output: %s\n",
		    strerror(errno));
		return EXIT_ERROR;
	}
	return rc;
}
