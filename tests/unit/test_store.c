/*
 * test_store.c - the SQLite store: schema creation, reopening, and the
 * refusal of foreign, newer and non-database files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "check.h"

static char path[64];

static void
fresh(void)
{
	char wal[80];

	snprintf(path, sizeof(path), "/tmp/sw-test-store-%d.db", (int)getpid());
	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
}

static int
count(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

static void
raw(const char *sql)
{
	sqlite3 *db;

	sqlite3_open(path, &db);
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
}

static void
test_create_and_reopen(void)
{
	struct store_run r = { .source = "x.pcap", .status = "running" };
	struct store_flow f = { .client_ip = "192.0.2.1", .server_ip = "::1",
	    .client_port = 1, .server_port = 25, .protocol = "SMTP",
	    .sha256 = { "aa", "bb" }, .close_reason = "fin" };
	char err[256];
	struct store *s;
	int64_t id;

	fresh();
	CHECK((s = store_open(path, err, sizeof(err))) != NULL);
	CHECK((id = store_run_begin(s, &r)) > 0);
	CHECK(store_flow(s, id, &f));
	r.status = "complete";
	CHECK(store_run_update(s, id, &r));
	CHECK(store_close(s));
	CHECK(count("SELECT count(*) FROM flows WHERE server_ip='::1'") == 1);
	CHECK(count("PRAGMA user_version") == STORE_SCHEMA_VERSION);
	/* A second run appends. */
	CHECK((s = store_open(path, err, sizeof(err))) != NULL);
	CHECK(store_run_begin(s, &r) == id + 1);
	CHECK(store_close(s));
	CHECK(count("SELECT count(*) FROM runs") == 2);
}

static void
test_refuse_foreign(void)
{
	char err[256] = "";

	fresh();
	raw("CREATE TABLE customers (name TEXT)");
	CHECK(store_open(path, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not a stripwatch database") != NULL);
}

static void
test_refuse_newer(void)
{
	char err[256] = "";
	struct store *s;

	fresh();
	CHECK((s = store_open(path, err, sizeof(err))) != NULL);
	store_close(s);
	raw("PRAGMA user_version=99");
	CHECK(store_open(path, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "newer") != NULL);
}

static void
test_refuse_garbage(void)
{
	char err[256] = "";
	FILE *f;

	fresh();
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("this is a text file, long enough to look like a header........"
	    "................................................................",
	    f);
	fclose(f);
	CHECK(store_open(path, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not a database") != NULL);
	unlink(path);
}

/* A schema 2 database (before TLS) gains the TLS tables and columns. */
static void
test_upgrade_v2(void)
{
	char err[256];
	struct store *s;

	fresh();
	CHECK((s = store_open(path, err, sizeof(err))) != NULL);
	store_close(s);
	raw("DROP TABLE policies; DROP TABLE cert_pins;"
	    "ALTER TABLE sessions DROP COLUMN cert_id; DROP TABLE certs;"
	    "ALTER TABLE sessions DROP COLUMN sni;"
	    "ALTER TABLE sessions DROP COLUMN tls_version;"
	    "ALTER TABLE sessions DROP COLUMN cipher;"
	    "ALTER TABLE sessions DROP COLUMN cert_status;"
	    "ALTER TABLE sessions DROP COLUMN sts;"
	    "ALTER TABLE runs DROP COLUMN pid; PRAGMA user_version=2");
	CHECK(count("SELECT count(*) FROM pragma_table_info('sessions') "
	    "WHERE name='sni'") == 0);
	CHECK((s = store_open(path, err, sizeof(err))) != NULL);
	CHECK(store_close(s));
	CHECK(count("PRAGMA user_version") == 3);
	CHECK(count("SELECT count(*) FROM pragma_table_info('sessions') "
	    "WHERE name IN ('sni', 'tls_version', 'cipher', 'cert_id', "
	    "'cert_status', 'sts')") == 6);
	CHECK(count("SELECT count(*) FROM sqlite_schema WHERE name IN "
	    "('certs', 'cert_pins', 'policies')") == 3);
}

/* Certificates once each; pins; the latest policy of a domain. */
static void
test_certs_pins_policies(void)
{
	struct store_cert c = { .sha256 = "aa11", .spki_sha256 = "k1",
	    .subject = "CN=a", .issuer = "CN=ca", .sans = "a.example",
	    .key_type = "EC", .key_bits = 256,
	    .der = (const uint8_t *)"\x30\x00", .der_len = 2 };
	struct store_policy p = { .domain = "example.com", .policy_id = "A",
	    .mode = "enforce", .mx = "mx.example.com", .source = "fetch",
	    .max_age = 86400, .body = (const uint8_t *)"version: STSv1\n",
	    .body_len = 15, .fetched = 100 };
	static struct store_policy_row row;
	char err[256], prev[128];
	struct store *s;
	int64_t id;

	fresh();
	CHECK((s = store_open(path, err, sizeof(err))) != NULL);
	CHECK((id = store_cert(s, &c, 10)) > 0);
	CHECK(store_cert(s, &c, 5) == id);	/* the same DER: one row */
	CHECK(store_pin(s, "mx.example.com", "k1", "CN=ca", id, false, 10,
	    prev, sizeof(prev)) == 0);
	CHECK(store_pin(s, "mx.example.com", "k1", "CN=ca", id, false, 11,
	    prev, sizeof(prev)) == 0);
	/* Another key, not allowed to replace: reported, pin unchanged. */
	CHECK(store_pin(s, "mx.example.com", "k2", "CN=evil", id, false, 12,
	    prev, sizeof(prev)) == 1);
	CHECK(strstr(prev, "CN=ca") != NULL);
	CHECK(store_pin(s, "mx.example.com", "k1", "CN=ca", id, false, 13,
	    prev, sizeof(prev)) == 0);
	/* Allowed to replace: reported, then the new one holds. */
	CHECK(store_pin(s, "mx.example.com", "k3", "CN=ca", id, true, 14,
	    prev, sizeof(prev)) == 1);
	CHECK(store_pin(s, "mx.example.com", "k3", "CN=ca", id, false, 15,
	    prev, sizeof(prev)) == 0);
	CHECK(store_policy_put(s, &p));
	p.policy_id = "B";
	p.fetched = 200;
	CHECK(store_policy_put(s, &p));
	CHECK(store_policy_get(s, "example.com", &row));
	CHECK(row.found && strcmp(row.policy_id, "B") == 0);
	CHECK(row.fetched == 200 && row.body_len == 15);
	CHECK(store_policy_get(s, "other.example", &row));
	CHECK(!row.found);
	CHECK(store_close(s));
	CHECK(count("SELECT count(*) FROM certs") == 1);
	CHECK(count("SELECT first_ts FROM certs") == 5);
	CHECK(count("SELECT count(*) FROM policies") == 2);
}

/* A run left "running" by a process that is gone becomes "interrupted". */
/*
 * A certificate seen again widens its row's first_ts..last_ts, also when
 * many certificates share the memo's slots (the widened one written when
 * another takes its slot, the last ones when the store is flushed).
 */
static void
test_cert_times(void)
{
	struct store_cert c = { .spki_sha256 = "k", .subject = "CN=a",
	    .issuer = "CN=ca", .sans = "a.example", .key_type = "EC",
	    .key_bits = 256, .der = (const uint8_t *)"\x30\x00",
	    .der_len = 2 };
	char err[256], sha[65];
	int64_t ids[300];
	struct store *s;
	int i, round;

	fresh();
	CHECK((s = store_open(path, err, sizeof(err))) != NULL);
	c.sha256 = sha;
	/* Each seen first at 1000+i, then earlier, then later. */
	for (i = 0; i < 300; i++)
		for (round = 0; round < 3; round++) {
			uint64_t ts = round == 0 ? 1000 + (uint64_t)i :
			    round == 1 ? (uint64_t)i : 5000 + (uint64_t)i;
			int64_t id;

			snprintf(sha, sizeof(sha), "%064d", i);
			CHECK((id = store_cert(s, &c, ts)) > 0);
			if (round == 0)
				ids[i] = id;
			else
				CHECK(id == ids[i]);
		}
	CHECK(store_flush(s));
	CHECK(count("SELECT count(*) FROM certs") == 300);
	CHECK(count("SELECT count(*) FROM certs WHERE "
	    "first_ts = CAST(sha256 AS INTEGER) AND "
	    "last_ts = 5000 + CAST(sha256 AS INTEGER)") == 300);
	/* Seen again later, within the range: the row does not move. */
	snprintf(sha, sizeof(sha), "%064d", 7);
	CHECK(store_cert(s, &c, 3000) == ids[7]);
	CHECK(store_close(s));
	CHECK(count("SELECT first_ts || '-' || last_ts = '7-5007' FROM certs "
	    "WHERE sha256 LIKE '%7' AND CAST(sha256 AS INTEGER) = 7") == 1);
}

static void
test_reap(void)
{
	struct store_run r = { .source = "x", .status = "running" };
	char err[256];
	struct store *s;
	int64_t live;

	fresh();
	CHECK((s = store_open(path, err, sizeof(err))) != NULL);
	CHECK((live = store_run_begin(s, &r)) > 0);	/* ours: pid alive */
	CHECK(store_close(s));
	/* A dead sensor's row (pid 0x7ffffffe is not a process here). */
	raw("INSERT INTO runs (source, status, pid) VALUES ('y', 'running',"
	    " 2147483646); INSERT INTO runs (source, status) VALUES ('z',"
	    " 'running')");
	CHECK((s = store_open(path, err, sizeof(err))) != NULL);
	CHECK(store_runs_reap(s));
	CHECK(store_close(s));
	CHECK(count("SELECT count(*) FROM runs WHERE status='interrupted'")
	    == 3);	/* ours too: this process now reaps as a new run would */
}

int
main(void)
{
	RUN(test_create_and_reopen);
	RUN(test_upgrade_v2);
	RUN(test_certs_pins_policies);
	RUN(test_cert_times);
	RUN(test_reap);
	RUN(test_refuse_foreign);
	RUN(test_refuse_newer);
	RUN(test_refuse_garbage);
	fresh();
	return check_done("store");
}
