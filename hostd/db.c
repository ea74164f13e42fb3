/* Opening, migrating and querying sandhostd's SQLite database. */
#include "db.h"

#include "cleanup.h"
#include "schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int hd_db_latest_version(void)
{
  return hd_schema_count();
}

int64_t hd_now(void)
{
  return (int64_t) time(NULL);
}

/* The last fault of this thread's database calls (see hd_db_fault_take):
 * each thread has its own connection. */
static _Thread_local int fault;

int hd_db_fault_take(void)
{
  int f = fault;
  fault = 0;
  return f;
}

/* The one translation of SQLite's result codes into errno values. */
static int db_errno(sqlite3 *db, int rc)
{
  int err;
  switch (rc & 0xff) {
  case SQLITE_CONSTRAINT:
    return EEXIST;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    err = EBUSY;
    break;
  case SQLITE_FULL:
    err = ENOSPC;
    break;
  case SQLITE_IOERR: {
    /* A failed write, truncate or shared-memory grow whose cause was a full
     * disk (or a quota) is a full disk too. */
    int sys = db ? sqlite3_system_errno(db) : 0;
    err = sys == ENOSPC || sys == EDQUOT ? ENOSPC : EIO;
    break;
  }
  default:
    return EIO;
  }
  if (err != EIO)
    fault = err;
  return err;
}

int hd_db_err(sqlite3 *db, int rc, sh_error *e, const char *step)
{
  return sh_err(e, db_errno(db, rc), step, "database", "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static int bind_all(sqlite3 *db, sqlite3_stmt *s, sh_error *e, const char *types, va_list ap)
{
  for (int i = 0; types && types[i]; i++) {
    int rc;
    switch (types[i]) {
    case 'i':
      rc = sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
      break;
    case 'I': {
      int64_t v = va_arg(ap, int64_t);
      rc = v ? sqlite3_bind_int64(s, i + 1, v) : sqlite3_bind_null(s, i + 1);
      break;
    }
    case 't': {
      const char *t = va_arg(ap, const char *);
      rc = t ? sqlite3_bind_text(s, i + 1, t, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i + 1);
      break;
    }
    case 'b': {
      const void *p = va_arg(ap, const void *);
      int n = va_arg(ap, int);
      rc = sqlite3_bind_blob(s, i + 1, p, n, SQLITE_TRANSIENT);
      break;
    }
    case 'n':
      rc = sqlite3_bind_null(s, i + 1);
      break;
    default:
      return sh_err(e, EINVAL, "bind", "database", "unknown type '%c'", types[i]);
    }
    if (rc != SQLITE_OK)
      return hd_db_err(db, rc, e, "bind");
  }
  return 0;
}

static sqlite3_stmt *vquery(sqlite3 *db, sh_error *e, const char *sql, const char *types, va_list ap)
{
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
  if (rc != SQLITE_OK) {
    hd_db_err(db, rc, e, "prepare");
    return NULL;
  }
  if (bind_all(db, s, e, types, ap) < 0) {
    sqlite3_finalize(s);
    return NULL;
  }
  return s;
}

sqlite3_stmt *hd_db_query(sqlite3 *db, sh_error *e, const char *sql, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  sqlite3_stmt *s = vquery(db, e, sql, types, ap);
  va_end(ap);
  return s;
}

int hd_db_exec(sqlite3 *db, sh_error *e, const char *sql, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  _cleanup_stmt_ sqlite3_stmt *s = vquery(db, e, sql, types, ap);
  va_end(ap);
  if (!s)
    return -(e && e->err ? e->err : EIO);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    ;
  if (rc != SQLITE_DONE)
    return hd_db_err(db, rc, e, "execute");
  return sqlite3_changes(db);
}

static int exec_script(sqlite3 *db, const char *sql, sh_error *e, const char *step)
{
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if (rc == SQLITE_OK)
    return 0;
  int r = sh_err(e, db_errno(db, rc), step, "database", "%s", msg ? msg : sqlite3_errstr(rc));
  sqlite3_free(msg);
  return r;
}

int hd_db_begin(sqlite3 *db, sh_error *e)
{
  return exec_script(db, "BEGIN IMMEDIATE", e, "begin transaction");
}

int hd_db_commit(sqlite3 *db, sh_error *e)
{
  return exec_script(db, "COMMIT", e, "commit");
}

void hd_db_rollback(sqlite3 *db)
{
  if (!sqlite3_get_autocommit(db))
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int hd_db_version(sqlite3 *db)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL, "PRAGMA user_version", NULL);
  return s && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
}

int hd_db_open_raw(const char *path, sqlite3 **out, sh_error *e)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL);
  if (rc != SQLITE_OK) {
    int r = sh_err(e, EIO, "open database", path, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return r;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  /* WAL: readers never block the writer.  synchronous=FULL: a committed
   * allocation survives a power cut, which reconciliation relies on. */
  int r = exec_script(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                          "PRAGMA trusted_schema = OFF;", e, "configure database");
  _cleanup_stmt_ sqlite3_stmt *fk = r < 0 ? NULL : hd_db_query(db, e, "PRAGMA foreign_keys", NULL);
  if (r == 0 && (!fk || sqlite3_step(fk) != SQLITE_ROW || sqlite3_column_int(fk, 0) != 1))
    r = sh_err(e, ENOTSUP, "configure database", path, "this SQLite cannot enforce foreign keys");
  if (r < 0) {
    sqlite3_finalize(steal_ptr(fk));
    sqlite3_close(db);
    return r;
  }
  *out = db;
  return 0;
}

int hd_db_migrate(sqlite3 *db, int to, sh_error *e)
{
  int v = hd_db_version(db);
  if (v < 0)
    return sh_err(e, EIO, "read schema version", "database", "%s", sqlite3_errmsg(db));
  if (v > hd_schema_count())
    return sh_err(e, EPROTO, "read schema version", "database",
                  "schema version %d is newer than this sandhostd (%d): refusing to touch it", v, hd_schema_count());
  for (; v < to && v < hd_schema_count(); v++) {
    int r = hd_db_begin(db, e);
    if (r < 0)
      return r;
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
    char step[64];
    snprintf(step, sizeof step, "migrate schema %d to %d", v, v + 1);
    if ((r = exec_script(db, hd_schema_migration(v), e, step)) < 0 || (r = exec_script(db, pragma, e, step)) < 0 ||
        (r = hd_db_commit(db, e)) < 0) {
      hd_db_rollback(db);
      return r;
    }
  }
  return 0;
}

int hd_db_relax(sqlite3 *db, sh_error *e)
{
  return exec_script(db, "PRAGMA synchronous = NORMAL", e, "configure database");
}

int hd_db_open(const char *path, sqlite3 **out, sh_error *e)
{
  sqlite3 *db = NULL;
  int r = hd_db_open_raw(path, &db, e);
  if (r < 0)
    return r;
  if ((r = hd_db_migrate(db, hd_schema_count(), e)) < 0) {
    sqlite3_close(db);
    return r;
  }
  *out = db;
  return 0;
}
