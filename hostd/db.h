/* sandhostd's database: SQLite in WAL mode with foreign keys on and a busy
 * timeout, its schema versioned through PRAGMA user_version.  Uniqueness
 * that protects isolation (id ranges, MCS pairs, addresses) lives in the
 * schema, so no bug in the daemon can hand the same one out twice. */
#pragma once

#include <sqlite3.h>
#include <stdint.h>
#include "error.h"

/* The schema version this build writes. */
int hd_db_latest_version(void);

/* Open (creating it if missing) and migrate to the latest schema.  A
 * database newer than this build is refused (EPROTO), never touched. */
int hd_db_open(const char *path, sqlite3 **out, sh_error *e);
/* For a connection whose writes can be lost to a power cut without harm
 * (the workers': a step whose record is lost runs again, being idempotent):
 * no fsync per commit.  The API's commits (a 202 is a promise) keep theirs. */
int hd_db_relax(sqlite3 *db, sh_error *e);
/* Open without migrating (tests walk the versions one by one). */
int hd_db_open_raw(const char *path, sqlite3 **out, sh_error *e);
/* Migrate up to version `to` (never down), each step in its own
 * transaction together with its user_version. */
int hd_db_migrate(sqlite3 *db, int to, sh_error *e);
int hd_db_version(sqlite3 *db);

/* Run one statement with no result rows; the SQL comes from the code, the
 * values only through the bindings: "i" int64, "t" text (NULL allowed),
 * "I" int64 with 0 as NULL (an optional id), "b" blob (pointer, then int
 * length), "n" null (takes no argument).  Returns the number of rows changed, or -errno (EEXIST for a
 * constraint the schema enforces: unique, primary key, check). */
int hd_db_exec(sqlite3 *db, sh_error *e, const char *sql, const char *types, ...);
/* A prepared statement with its values bound as above; NULL on error. */
sqlite3_stmt *hd_db_query(sqlite3 *db, sh_error *e, const char *sql, const char *types, ...);
/* sqlite's error as an sh_error: constraint failures are EEXIST, busy or
 * locked (another process holds the write lock) EBUSY, a full disk (SQLITE_FULL,
 * or an I/O error from ENOSPC or EDQUOT) ENOSPC, everything else EIO. */
int hd_db_err(sqlite3 *db, int rc, sh_error *e, const char *step);
/* The last EBUSY or ENOSPC a database call of this thread failed with since
 * the previous take (0: none).  hd_api_handle answers a call that met one
 * with 503 or 507, whatever its handler made of the failure. */
int hd_db_fault_take(void);

int hd_db_begin(sqlite3 *db, sh_error *e);      /* BEGIN IMMEDIATE: writers queue, never deadlock */
int hd_db_commit(sqlite3 *db, sh_error *e);
void hd_db_rollback(sqlite3 *db);

/* Seconds since the epoch, for created_at columns. */
int64_t hd_now(void);

static inline void hd_stmt_freep(sqlite3_stmt **s)
{
  if (*s)
    sqlite3_finalize(*s);
}
#define _cleanup_stmt_ __attribute__((cleanup(hd_stmt_freep)))
