/*
 * store.c - the SQLite evidence store.
 *
 * The schema is versioned with PRAGMA user_version and marked with
 * PRAGMA application_id, so a foreign database is refused instead of
 * being written into.  Statements are prepared once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "config.h"
#include "store.h"

struct store {
	sqlite3		*db;
	sqlite3_stmt	*ins_run, *upd_run, *ins_flow;
	int		 pending;	/* rows in the open transaction */
	bool		 in_tx;
	char		 err[256];
};

static const char schema[] =
	"CREATE TABLE runs ("
	" id INTEGER PRIMARY KEY,"
	" source TEXT NOT NULL,"
	" started INTEGER, ended INTEGER,"	/* wall clock, µs */
	" first_ts INTEGER, last_ts INTEGER,"	/* pcap time, µs */
	" packets INTEGER, bytes INTEGER, tcp_packets INTEGER,"
	" truncated INTEGER, damaged INTEGER, malformed INTEGER,"
	" fragments INTEGER, bad_checksums INTEGER,"
	" drops INTEGER, ifdrops INTEGER,"
	" flows INTEGER, evicted INTEGER, flows_peak INTEGER,"
	" mem_peak INTEGER,"
	" status TEXT NOT NULL);"
	"CREATE TABLE flows ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id),"
	" client_ip TEXT NOT NULL, client_port INTEGER NOT NULL,"
	" server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,"
	" first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,"
	" source_index INTEGER, first_frame INTEGER, last_frame INTEGER,"
	" protocol TEXT,"
	" c2s_packets INTEGER, s2c_packets INTEGER,"
	" c2s_bytes INTEGER, s2c_bytes INTEGER,"
	" c2s_sha256 TEXT, s2c_sha256 TEXT,"
	" c2s_gaps INTEGER, s2c_gaps INTEGER,"
	" c2s_gap_bytes INTEGER, s2c_gap_bytes INTEGER,"
	" conflicts INTEGER,"
	" handshake INTEGER,"		/* 1: roles from the SYN */
	" close_reason TEXT);"
	"CREATE INDEX flows_server ON flows(server_ip, server_port);"
	"CREATE INDEX flows_run ON flows(run_id);";

static bool
fail(struct store *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", what, sqlite3_errmsg(s->db));
	return false;
}

static bool
exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->err, sizeof(s->err), "%s",
		    msg != NULL ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return false;
	}
	return true;
}

static bool
pragma_int(struct store *s, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, "read schema");
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? true :
	    fail(s, "read schema");
}

/* Creates the schema in a new file, or checks an existing one. */
static bool
schema_check(struct store *s)
{
	int64_t app, ver, ntables;
	char sql[128];

	if (!pragma_int(s, "PRAGMA application_id", &app) ||
	    !pragma_int(s, "PRAGMA user_version", &ver) ||
	    !pragma_int(s, "SELECT count(*) FROM sqlite_schema", &ntables))
		return false;
	if (app == 0 && ver == 0 && ntables == 0) {
		snprintf(sql, sizeof(sql), "PRAGMA application_id=%d;"
		    "PRAGMA user_version=%d;", STORE_APPLICATION_ID,
		    STORE_SCHEMA_VERSION);
		return exec(s, "BEGIN") && exec(s, schema) && exec(s, sql) &&
		    exec(s, "COMMIT");
	}
	if (app != STORE_APPLICATION_ID) {
		snprintf(s->err, sizeof(s->err),
		    "not a stripwatch database (it holds other tables)");
		return false;
	}
	if (ver > STORE_SCHEMA_VERSION) {
		snprintf(s->err, sizeof(s->err), "written by a newer stripwatch "
		    "(schema %lld, this one knows %d)", (long long)ver,
		    STORE_SCHEMA_VERSION);
		return false;
	}
	return true;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		fail(s, "open");
		goto bad;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (!schema_check(s) ||
	    !exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "PRAGMA foreign_keys=ON;"))
		goto bad;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO runs (source, started, "
	    "status) VALUES (?, ?, ?)", -1, &s->ins_run, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "UPDATE runs SET ended=?, first_ts=?, "
	    "last_ts=?, packets=?, bytes=?, tcp_packets=?, truncated=?, "
	    "damaged=?, malformed=?, fragments=?, bad_checksums=?, drops=?, "
	    "ifdrops=?, flows=?, evicted=?, flows_peak=?, mem_peak=?, "
	    "status=? WHERE id=?", -1, &s->upd_run, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO flows (run_id, client_ip, "
	    "client_port, server_ip, server_port, first_ts, last_ts, "
	    "source_index, first_frame, last_frame, protocol, c2s_packets, "
	    "s2c_packets, c2s_bytes, s2c_bytes, c2s_sha256, s2c_sha256, "
	    "c2s_gaps, s2c_gaps, c2s_gap_bytes, s2c_gap_bytes, conflicts, "
	    "handshake, close_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
	    "?,?,?,?,?,?,?,?,?)", -1, &s->ins_flow, NULL) != SQLITE_OK) {
		fail(s, "prepare");
		goto bad;
	}
	return s;
bad:
	snprintf(err, errlen, "%s: %s", path, s->err);
	store_close(s);
	return NULL;
}

static bool
tx_begin(struct store *s)
{
	if (s->in_tx)
		return true;
	if (!exec(s, "BEGIN"))
		return false;
	s->in_tx = true;
	return true;
}

static bool
step(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? true : fail(s, what);
}

int64_t
store_run_begin(struct store *s, const struct store_run *r)
{
	sqlite3_bind_text(s->ins_run, 1, r->source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s->ins_run, 2, (sqlite3_int64)r->started);
	sqlite3_bind_text(s->ins_run, 3, r->status, -1, SQLITE_STATIC);
	if (!step(s, s->ins_run, "insert run"))
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

bool
store_run_update(struct store *s, int64_t run, const struct store_run *r)
{
	sqlite3_stmt *st = s->upd_run;
	const uint64_t v[] = { r->ended, r->first_ts, r->last_ts, r->packets,
	    r->bytes, r->tcp_packets, r->truncated, r->damaged, r->malformed,
	    r->fragments, r->bad_checksums, r->drops, r->ifdrops, r->flows,
	    r->evicted, r->flows_peak, r->mem_peak };
	int i;

	if (!tx_begin(s))
		return false;
	for (i = 0; i < (int)(sizeof(v) / sizeof(v[0])); i++)
		sqlite3_bind_int64(st, i + 1, (sqlite3_int64)v[i]);
	sqlite3_bind_text(st, i + 1, r->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i + 2, run);
	return step(s, st, "update run");
}

bool
store_flow(struct store *s, int64_t run, const struct store_flow *f)
{
	sqlite3_stmt *st = s->ins_flow;
	int i = 1;

	if (!tx_begin(s))
		return false;
	sqlite3_bind_int64(st, i++, run);
	sqlite3_bind_text(st, i++, f->client_ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, f->client_port);
	sqlite3_bind_text(st, i++, f->server_ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, f->server_port);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->first_ts);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->last_ts);
	sqlite3_bind_int64(st, i++, f->first_source);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->first_frame);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->last_frame);
	sqlite3_bind_text(st, i++, f->protocol, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->packets[0]);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->packets[1]);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->bytes[0]);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->bytes[1]);
	sqlite3_bind_text(st, i++, f->sha256[0], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, f->sha256[1], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, f->gaps[0]);
	sqlite3_bind_int64(st, i++, f->gaps[1]);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->gap_bytes[0]);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->gap_bytes[1]);
	sqlite3_bind_int64(st, i++, f->conflicts);
	sqlite3_bind_int(st, i++, f->syn_seen);
	sqlite3_bind_text(st, i++, f->close_reason, -1, SQLITE_STATIC);
	if (!step(s, st, "insert flow"))
		return false;
	if (++s->pending >= STORE_BATCH_ROWS)
		return store_flush(s);
	return true;
}

bool
store_flush(struct store *s)
{
	if (!s->in_tx)
		return true;
	s->in_tx = false;
	s->pending = 0;
	return exec(s, "COMMIT");
}

const char *
store_error(const struct store *s)
{
	return s->err;
}

bool
store_close(struct store *s)
{
	bool ok = true;

	if (s == NULL)
		return true;
	if (s->db != NULL)
		ok = store_flush(s);
	sqlite3_finalize(s->ins_run);
	sqlite3_finalize(s->upd_run);
	sqlite3_finalize(s->ins_flow);
	sqlite3_close(s->db);
	free(s);
	return ok;
}
