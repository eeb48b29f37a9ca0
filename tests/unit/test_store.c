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

int
main(void)
{
	RUN(test_create_and_reopen);
	RUN(test_refuse_foreign);
	RUN(test_refuse_newer);
	RUN(test_refuse_garbage);
	fresh();
	return check_done("store");
}
