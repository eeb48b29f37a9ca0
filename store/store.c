/*
 * store.c - the SQLite evidence store.
 *
 * The schema is versioned with PRAGMA user_version and marked with
 * PRAGMA application_id, so a foreign database is refused instead of
 * being written into.  Statements are prepared once.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "store.h"

/*
 * A certificate already stored, by SHA-256.  The same few certificates
 * come back session after session, and rewriting their row (which holds
 * the DER) each time would cost more than the session's own rows: a hit
 * only widens first..last here, and store_flush() writes what widened in
 * the transaction it commits.
 */
struct cert_memo {
	char		 sha256[65];
	int64_t		 id;		/* 0: empty */
	uint64_t	 first, last;	/* pcap time, µs */
	bool		 dirty;		/* widened since written */
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*ins_run, *upd_run, *ins_flow;
	sqlite3_stmt	*ins_sess, *upd_sess, *ins_alert;
	sqlite3_stmt	*upsert_srv, *ask_srv;
	sqlite3_stmt	*upsert_cert, *upd_cert, *get_pin, *put_pin;
	sqlite3_stmt	*ins_policy, *get_policy;
	int		 pending;	/* rows in the open transaction */
	bool		 in_tx;
	char		 err[256];
	struct cert_memo certs[STORE_CERT_MEMO];	/* by hash of sha256 */
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

/* Added in version 2: what the SMTP stages write. */
static const char schema_v2[] =
	"CREATE TABLE sessions ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id),"
	" flow_id INTEGER,"
	" client_ip TEXT NOT NULL, client_port INTEGER NOT NULL,"
	" server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,"
	" first_ts INTEGER, last_ts INTEGER,"
	" banner_host TEXT, ehlo_name TEXT, capabilities TEXT,"
	" starttls_offered INTEGER, starttls_sent INTEGER,"
	" starttls_reply INTEGER, tls INTEGER,"
	" rcpt_domains TEXT, mail_in_clear INTEGER, auth_mech TEXT,"
	" outcome TEXT, complete INTEGER);"
	"CREATE TABLE alerts ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id),"
	" session_id INTEGER REFERENCES sessions(id),"
	" kind TEXT NOT NULL, severity TEXT NOT NULL,"
	" ts INTEGER NOT NULL,"		/* pcap time, µs */
	" client_ip TEXT, client_port INTEGER,"
	" server_ip TEXT, server_port INTEGER,"
	" source TEXT, frame INTEGER, evidence TEXT);"
	"CREATE INDEX alerts_ts ON alerts(ts);"
	"CREATE INDEX alerts_kind ON alerts(kind);"
	"CREATE TABLE servers ("
	" server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,"
	" banner_host TEXT NOT NULL,"
	" first_ts INTEGER, last_ts INTEGER,"
	" starttls_ts INTEGER,"		/* last time it offered STARTTLS */
	" PRIMARY KEY (server_ip, server_port, banner_host));"
	"CREATE INDEX servers_host ON servers(banner_host);";

/* Added in version 3: TLS, certificates, pins and MTA-STS policies. */
static const char schema_v3[] =
	"ALTER TABLE runs ADD COLUMN pid INTEGER;"	/* of a running sensor */
	"ALTER TABLE sessions ADD COLUMN sni TEXT;"
	"ALTER TABLE sessions ADD COLUMN tls_version TEXT;"
	"ALTER TABLE sessions ADD COLUMN cipher INTEGER;"
	"ALTER TABLE sessions ADD COLUMN cert_id INTEGER REFERENCES certs(id);"
	"ALTER TABLE sessions ADD COLUMN cert_status TEXT;"
	"ALTER TABLE sessions ADD COLUMN sts TEXT;"
	"CREATE TABLE certs ("
	" id INTEGER PRIMARY KEY,"
	" sha256 TEXT NOT NULL UNIQUE,"
	" subject TEXT, issuer TEXT, sans TEXT,"
	" not_before INTEGER, not_after INTEGER,"	/* seconds */
	" key_type TEXT, key_bits INTEGER, spki_sha256 TEXT,"
	" der BLOB,"
	" first_ts INTEGER, last_ts INTEGER);"		/* pcap time, µs */
	"CREATE TABLE cert_pins ("
	" server TEXT PRIMARY KEY,"	/* the SNI, or address:port */
	" spki_sha256 TEXT NOT NULL, issuer TEXT NOT NULL,"
	" cert_id INTEGER REFERENCES certs(id),"
	" first_ts INTEGER, last_ts INTEGER);"
	"CREATE TABLE policies ("
	" id INTEGER PRIMARY KEY,"
	" domain TEXT NOT NULL,"
	" policy_id TEXT,"		/* the TXT record's id= */
	" mode TEXT, max_age INTEGER, mx TEXT,"
	" body BLOB, source TEXT,"	/* fetch, dir */
	" fetched INTEGER);"		/* wall clock, µs */
	"CREATE INDEX policies_domain ON policies(domain, fetched);";

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
		return exec(s, "BEGIN") && exec(s, schema) &&
		    exec(s, schema_v2) && exec(s, schema_v3) && exec(s, sql) &&
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
	if (ver < STORE_SCHEMA_VERSION) {	/* add what later versions know */
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d;",
		    STORE_SCHEMA_VERSION);
		return exec(s, "BEGIN") &&
		    (ver >= 2 || exec(s, schema_v2)) &&
		    exec(s, schema_v3) && exec(s, sql) && exec(s, "COMMIT");
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
	/*
	 * SQLite's memory statistics take a global mutex on every malloc;
	 * nothing reads them.  Only possible before SQLite initialises (the
	 * first store): later calls fail harmlessly.
	 */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
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
	    "status, pid) VALUES (?, ?, ?, ?)", -1, &s->ins_run, NULL) !=
	    SQLITE_OK ||
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
	    "?,?,?,?,?,?,?,?,?)", -1, &s->ins_flow, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO sessions (run_id, flow_id, "
	    "client_ip, client_port, server_ip, server_port, first_ts, "
	    "complete) VALUES (?,?,?,?,?,?,?,0)", -1, &s->ins_sess, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "UPDATE sessions SET last_ts=?, "
	    "banner_host=?, ehlo_name=?, capabilities=?, starttls_offered=?, "
	    "starttls_sent=?, starttls_reply=?, tls=?, rcpt_domains=?, "
	    "mail_in_clear=?, auth_mech=?, outcome=?, complete=?, sni=?, "
	    "tls_version=?, cipher=?, cert_id=?, cert_status=? WHERE id=?",
	    -1, &s->upd_sess, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO alerts (run_id, "
	    "session_id, kind, severity, ts, client_ip, client_port, "
	    "server_ip, server_port, source, frame, evidence) VALUES "
	    "(?,?,?,?,?,?,?,?,?,?,?,?)", -1, &s->ins_alert, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO servers (server_ip, "
	    "server_port, banner_host, first_ts, last_ts, starttls_ts) "
	    "VALUES (?1,?2,?3,?4,?4,CASE WHEN ?5 THEN ?4 END) "
	    "ON CONFLICT DO UPDATE SET last_ts=max(last_ts, ?4), "
	    "starttls_ts=CASE WHEN ?5 THEN max(coalesce(starttls_ts, 0), ?4) "
	    "ELSE starttls_ts END", -1, &s->upsert_srv, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "SELECT 1 FROM servers WHERE "
	    "starttls_ts IS NOT NULL AND ((server_ip=?1 AND server_port=?2) "
	    "OR (?3 != '' AND banner_host=?3)) LIMIT 1", -1, &s->ask_srv,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO certs (sha256, subject, "
	    "issuer, sans, not_before, not_after, key_type, key_bits, "
	    "spki_sha256, der, first_ts, last_ts) VALUES "
	    "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?11) ON CONFLICT(sha256) DO "
	    "UPDATE SET first_ts=min(first_ts, ?11), last_ts=max(last_ts, ?11) "
	    "RETURNING id", -1, &s->upsert_cert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "UPDATE certs SET first_ts="
	    "min(first_ts, ?1), last_ts=max(last_ts, ?2) WHERE id=?3", -1,
	    &s->upd_cert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "SELECT spki_sha256, issuer FROM "
	    "cert_pins WHERE server=?", -1, &s->get_pin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO cert_pins (server, "
	    "spki_sha256, issuer, cert_id, first_ts, last_ts) VALUES "
	    "(?1,?2,?3,?4,?5,?5) ON CONFLICT(server) DO UPDATE SET "
	    "spki_sha256=?2, issuer=?3, cert_id=?4, first_ts=CASE WHEN "
	    "spki_sha256=?2 AND issuer=?3 THEN first_ts ELSE ?5 END, "
	    "last_ts=?5", -1, &s->put_pin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO policies (domain, "
	    "policy_id, mode, max_age, mx, body, source, fetched) VALUES "
	    "(?,?,?,?,?,?,?,?)", -1, &s->ins_policy, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "SELECT policy_id, body, source, "
	    "fetched FROM policies WHERE domain=? ORDER BY fetched DESC, "
	    "id DESC LIMIT 1", -1, &s->get_policy, NULL) != SQLITE_OK) {
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

/*
 * Runs left "running" by a sensor that no longer exists (killed, power
 * lost) become "interrupted": their rows hold what was committed, and a
 * reader must not mistake them for a live sensor.
 */
bool
store_runs_reap(struct store *s)
{
	sqlite3_stmt *st;
	int64_t dead[64];
	size_t n = 0, i;
	char sql[128];
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT id, pid FROM runs WHERE "
	    "status = 'running'", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "read runs");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 64) {
		sqlite3_int64 pid = sqlite3_column_int64(st, 1);

		if (sqlite3_column_type(st, 1) == SQLITE_NULL || pid <= 0 ||
		    pid == getpid() || (kill((pid_t)pid, 0) != 0 &&
		    errno == ESRCH))
			dead[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "UPDATE runs SET status = "
		    "'interrupted' WHERE id = %lld", (long long)dead[i]);
		if (!exec(s, sql))
			return false;
	}
	return true;
}

int64_t
store_run_begin(struct store *s, const struct store_run *r)
{
	sqlite3_bind_int64(s->ins_run, 4, (sqlite3_int64)getpid());
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

int64_t
store_session_begin(struct store *s, int64_t run,
    const struct store_session *x)
{
	sqlite3_stmt *st = s->ins_sess;

	if (!tx_begin(s))
		return -1;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)x->flow_id);
	sqlite3_bind_text(st, 3, x->client_ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, x->client_port);
	sqlite3_bind_text(st, 5, x->server_ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, x->server_port);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)x->first_ts);
	if (!step(s, st, "insert session"))
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

bool
store_session_end(struct store *s, int64_t id, const struct store_session *x)
{
	sqlite3_stmt *st = s->upd_sess;
	int i = 1;

	if (!tx_begin(s))
		return false;
	sqlite3_bind_int64(st, i++, (sqlite3_int64)x->last_ts);
	sqlite3_bind_text(st, i++, x->banner_host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, x->ehlo_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, x->capabilities, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, x->starttls_offered);
	sqlite3_bind_int(st, i++, x->starttls_sent);
	sqlite3_bind_int(st, i++, x->starttls_reply);
	sqlite3_bind_int(st, i++, x->tls);
	sqlite3_bind_text(st, i++, x->rcpt_domains, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, x->mail_in_clear);
	sqlite3_bind_text(st, i++, x->auth_mech, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, x->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, x->complete);
	sqlite3_bind_text(st, i++, x->sni, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, x->tls_version, -1, SQLITE_STATIC);
	if (x->cipher >= 0)
		sqlite3_bind_int(st, i++, x->cipher);
	else
		sqlite3_bind_null(st, i++);
	if (x->cert_id > 0)
		sqlite3_bind_int64(st, i++, x->cert_id);
	else
		sqlite3_bind_null(st, i++);
	sqlite3_bind_text(st, i++, x->cert_status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, id);
	return step(s, st, "update session");
}

bool
store_session_sts(struct store *s, int64_t id, const char *sts)
{
	sqlite3_stmt *st;
	bool ok;

	if (!tx_begin(s))
		return false;
	if (sqlite3_prepare_v2(s->db, "UPDATE sessions SET sts=? WHERE id=?",
	    -1, &st, NULL) != SQLITE_OK)
		return fail(s, "update session");
	sqlite3_bind_text(st, 1, sts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	ok = sqlite3_step(st) == SQLITE_DONE ? true : fail(s, "update session");
	sqlite3_finalize(st);
	return ok;
}

static struct cert_memo *
memo_slot(struct store *s, const char *sha256)
{
	uint32_t h = 2166136261U;	/* FNV-1a */

	for (; *sha256 != '\0'; sha256++)
		h = (h ^ (uint8_t)*sha256) * 16777619U;
	return &s->certs[h % STORE_CERT_MEMO];
}

/* Writes a memo's widened first..last to its row. */
static bool
memo_write(struct store *s, struct cert_memo *m)
{
	sqlite3_stmt *st = s->upd_cert;
	bool ok;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)m->first);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)m->last);
	sqlite3_bind_int64(st, 3, m->id);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_reset(st);
	m->dirty = false;
	return ok ? true : fail(s, "update certificate");
}

int64_t
store_cert(struct store *s, const struct store_cert *c, uint64_t ts)
{
	sqlite3_stmt *st = s->upsert_cert;
	struct cert_memo *m = memo_slot(s, c->sha256);
	int64_t id = -1;
	int i = 1, rc;

	if (m->id > 0 && strcmp(m->sha256, c->sha256) == 0) {
		if (ts < m->first)
			m->first = ts, m->dirty = true;
		if (ts > m->last)
			m->last = ts, m->dirty = true;
		/* The commit that follows writes it. */
		if (m->dirty && !tx_begin(s))
			return -1;
		return m->id;
	}
	if (!tx_begin(s))
		return -1;
	if (m->dirty && !memo_write(s, m))
		return -1;
	m->id = 0;
	sqlite3_bind_text(st, i++, c->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, c->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, c->issuer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, c->sans, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, c->not_before);
	sqlite3_bind_int64(st, i++, c->not_after);
	sqlite3_bind_text(st, i++, c->key_type, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, c->key_bits);
	sqlite3_bind_text(st, i++, c->spki_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, i++, c->der, (int)c->der_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)ts);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (id < 0 || rc != SQLITE_DONE) {
		fail(s, "insert certificate");
		return -1;
	}
	if (strlen(c->sha256) < sizeof(m->sha256)) {
		memcpy(m->sha256, c->sha256, strlen(c->sha256) + 1);
		m->id = id;
		m->first = m->last = ts;
	}
	if (++s->pending >= STORE_BATCH_ROWS && !store_flush(s))
		return -1;
	return id;
}

int
store_pin(struct store *s, const char *server, const char *spki,
    const char *issuer, int64_t cert_id, bool replace, uint64_t ts,
    char *prev, size_t prevlen)
{
	sqlite3_stmt *st = s->get_pin;
	int changed = 0, rc;

	if (!tx_begin(s))
		return -1;
	sqlite3_bind_text(st, 1, server, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *i = (const char *)sqlite3_column_text(st, 1);

		if (k != NULL && i != NULL &&
		    (strcmp(k, spki) != 0 || strcmp(i, issuer) != 0)) {
			changed = 1;
			snprintf(prev, prevlen, "key %.16s... issuer %s", k, i);
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fail(s, "read pin");
		return -1;
	}
	if (changed && !replace)
		return changed;		/* the pin stays as it was */
	st = s->put_pin;
	sqlite3_bind_text(st, 1, server, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, spki, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, issuer, -1, SQLITE_STATIC);
	if (cert_id > 0)
		sqlite3_bind_int64(st, 4, cert_id);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)ts);
	if (!step(s, st, "write pin"))
		return -1;
	return changed;
}

bool
store_policy_put(struct store *s, const struct store_policy *p)
{
	sqlite3_stmt *st = s->ins_policy;
	int i = 1;

	if (!tx_begin(s))
		return false;
	sqlite3_bind_text(st, i++, p->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, p->policy_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, p->mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, p->max_age);
	sqlite3_bind_text(st, i++, p->mx, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, i++, p->body, (int)p->body_len, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, p->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)p->fetched);
	return step(s, st, "insert policy");
}

bool
store_policy_get(struct store *s, const char *domain,
    struct store_policy_row *r)
{
	sqlite3_stmt *st = s->get_policy;
	const void *b;
	int rc, n;

	memset(r, 0, sizeof(*r));
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(r->policy_id, sizeof(r->policy_id), "%s",
		    sqlite3_column_text(st, 0) != NULL ?
		    (const char *)sqlite3_column_text(st, 0) : "");
		b = sqlite3_column_blob(st, 1);
		n = sqlite3_column_bytes(st, 1);
		if (b != NULL && n > 0 && (size_t)n <= sizeof(r->body)) {
			memcpy(r->body, b, (size_t)n);
			r->body_len = (size_t)n;
		}
		snprintf(r->source, sizeof(r->source), "%s",
		    sqlite3_column_text(st, 2) != NULL ?
		    (const char *)sqlite3_column_text(st, 2) : "");
		r->fetched = (uint64_t)sqlite3_column_int64(st, 3);
		r->found = true;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

int64_t
store_alert(struct store *s, int64_t run, const struct store_alert *a)
{
	sqlite3_stmt *st = s->ins_alert;
	int i = 1;

	if (!tx_begin(s))
		return -1;
	sqlite3_bind_int64(st, i++, run);
	if (a->session_id > 0)
		sqlite3_bind_int64(st, i++, a->session_id);
	else
		sqlite3_bind_null(st, i++);
	sqlite3_bind_text(st, i++, a->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, a->severity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)a->ts);
	sqlite3_bind_text(st, i++, a->client_ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, a->client_port);
	sqlite3_bind_text(st, i++, a->server_ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, a->server_port);
	sqlite3_bind_text(st, i++, a->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)a->frame);
	sqlite3_bind_text(st, i++, a->evidence, -1, SQLITE_STATIC);
	if (!step(s, st, "insert alert"))
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

bool
store_server_record(struct store *s, const char *ip, uint16_t port,
    const char *host, bool offered, uint64_t ts)
{
	sqlite3_stmt *st = s->upsert_srv;

	if (!tx_begin(s))
		return false;
	sqlite3_bind_text(st, 1, ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, port);
	sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)ts);
	sqlite3_bind_int(st, 5, offered);
	return step(s, st, "record server");
}

bool
store_server_offered_before(struct store *s, const char *ip, uint16_t port,
    const char *host)
{
	sqlite3_stmt *st = s->ask_srv;
	int rc;

	sqlite3_bind_text(st, 1, ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, port);
	sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW;
}

bool
store_flush(struct store *s)
{
	size_t i;

	if (!s->in_tx)
		return true;
	for (i = 0; i < STORE_CERT_MEMO; i++)
		if (s->certs[i].dirty && !memo_write(s, &s->certs[i]))
			return false;
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
	sqlite3_finalize(s->ins_sess);
	sqlite3_finalize(s->upd_sess);
	sqlite3_finalize(s->ins_alert);
	sqlite3_finalize(s->upsert_srv);
	sqlite3_finalize(s->ask_srv);
	sqlite3_finalize(s->upsert_cert);
	sqlite3_finalize(s->upd_cert);
	sqlite3_finalize(s->get_pin);
	sqlite3_finalize(s->put_pin);
	sqlite3_finalize(s->ins_policy);
	sqlite3_finalize(s->get_policy);
	sqlite3_close(s->db);
	free(s);
	return ok;
}
