/* sandhostd's database: migrations from every earlier schema, the
 * uniqueness the schema guarantees, first-fit allocation, the append-only
 * audit log.  In-memory or temporary databases; no privileges. */
#include "tap.h"
#include "alloc.h"
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t count(sqlite3 *db, const char *sql)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL, sql, NULL);
  return s && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
}

/* A tenant with n containers, for the allocators. */
static void seed(sqlite3 *db, int n)
{
  hd_db_exec(db, NULL,
             "INSERT INTO plans (name, cpu_millis, memory_mib, pids, disk_mib, bandwidth_mbit, max_containers, total_cpu_millis,"
             " total_memory_mib, total_disk_mib, net_default, seccomp, created_at)"
             " VALUES ('p', 1000, 512, 100, 1024, 10, 5, 1000, 512, 1024, 'allow', 'default', 0)", NULL);
  hd_db_exec(db, NULL, "INSERT INTO tenants (name, plan_id, created_at) VALUES ('t', 1, 0)", NULL);
  for (int i = 0; i < n; i++) {
    char name[16];
    snprintf(name, sizeof name, "c%d", i);
    hd_db_exec(db, NULL,
               "INSERT INTO containers (tenant_id, name, state, cpu_millis, memory_mib, pids, disk_mib, bandwidth_mbit, created_at)"
               " VALUES (1, ?, 'stopped', 1000, 512, 100, 1024, 10, 0)", "t", name);
  }
}

int main(void)
{
  sh_error e = {0};
  sqlite3 *db = NULL;

  /* ---- migrations: from every earlier version up to the latest ---- */
  int latest = hd_db_latest_version();
  ok(latest >= 1, "the schema has %d version(s)", latest);
  for (int from = 0; from < latest; from++) {
    char path[] = "/tmp/sandhost-test-db.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    sqlite3 *old = NULL;
    is_int(hd_db_open_raw(path, &old, &e), 0, "open a new database (for version %d)", from);
    is_int(hd_db_migrate(old, from, &e), 0, "build schema version %d", from);
    is_int(hd_db_version(old), from, "it reports version %d", from);
    if (from >= 1)
      seed(old, 2);
    sqlite3_close(old);
    sqlite3 *up = NULL;
    is_int(hd_db_open(path, &up, &e), 0, "reopening migrates version %d to %d", from, latest);
    is_int(hd_db_version(up), latest, "and it is at version %d", latest);
    if (from >= 1)
      is_int(count(up, "SELECT count(*) FROM containers"), 2, "rows written at version %d survive", from);
    if (from >= 1 && from < 3) {
      /* 2 -> 3: users keep their rows and gain the login columns; sessions go with their user. */
      hd_db_exec(up, &e, "INSERT INTO users (name, role, created_at) VALUES ('u', 'admin', 0)", NULL);
      int64_t uid = sqlite3_last_insert_rowid(up);
      is_int(count(up, "SELECT count(*) FROM users WHERE failed_logins = 0 AND locked_until IS NULL AND totp_enabled = 0"), 1,
             "users from version %d have failed_logins 0, no lock, no TOTP", from);
      uint8_t h[32] = { 1 };
      is_int(hd_db_exec(up, &e, "INSERT INTO sessions (hash, user_id, csrf, created_at, last_seen, expires_at)"
                        " VALUES (?, ?, 'c', 0, 0, 1)", "bi", h, 32, uid), 1, "a session can be stored");
      ok(hd_db_exec(up, &e, "INSERT INTO sessions (hash, user_id, csrf, created_at, last_seen, expires_at)"
                    " VALUES (?, 999, 'c', 0, 0, 1)", "b", (uint8_t[32]){ 2 }, 32) == -EEXIST, "a session of no user is refused");
      hd_db_exec(up, &e, "DELETE FROM users WHERE id = ?", "i", uid);
      is_int(count(up, "SELECT count(*) FROM sessions"), 0, "deleting the user deletes its sessions");
    }
    is_int(count(up, "SELECT count(*) FROM pragma_foreign_key_check"), 0, "no dangling foreign keys");
    ok(count(up, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'") == 1, "integrity check passes");
    sqlite3_close(up);
    unlink(path);
    char wal[64];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
  }
  {
    char path[] = "/tmp/sandhost-test-db.XXXXXX";
    close(mkstemp(path));
    sqlite3 *fut = NULL;
    hd_db_open_raw(path, &fut, &e);
    hd_db_exec(fut, &e, "PRAGMA user_version = 999", NULL);
    sqlite3_close(fut);
    sh_error_clear(&e);
    ok(hd_db_open(path, &fut, &e) == -EPROTO && strstr(e.msg, "newer"), "a database from a newer sandhostd is refused: %s",
       e.msg);
    unlink(path);
  }

  /* ---- pragmas ---- */
  is_int(hd_db_open(":memory:", &db, &e), 0, "open an in-memory database");
  is_int(count(db, "PRAGMA foreign_keys"), 1, "foreign keys are on");
  seed(db, 8);

  /* ---- id ranges ---- */
  struct hd_id_range host = { 100000, 4 * HD_IDMAP_SIZE };
  uint32_t start[5];
  for (int i = 0; i < 4; i++)
    is_int(hd_alloc_idmap(db, i + 1, &host, &start[i], &e), 0, "container %d gets an id range", i + 1);
  ok(start[0] == 100000 && start[1] == 100000 + 65536 && start[3] == 100000 + 3 * 65536, "first-fit, one 65,536 range each");
  sh_error_clear(&e);
  ok(hd_alloc_idmap(db, 5, &host, &start[4], &e) == -ENOSPC && strstr(e.msg, "in use"), "the host range runs out: ENOSPC (%s)",
     e.msg);
  hd_db_exec(db, &e, "DELETE FROM containers WHERE id = 2", NULL);
  is_int(hd_alloc_idmap(db, 5, &host, &start[4], &e), 0, "a deleted container's range is free again");
  is_int((int64_t) start[4], 100000 + 65536, "and the next container reuses it (first fit)");
  sh_error_clear(&e);
  is_int(hd_db_exec(db, &e, "INSERT INTO idmap_ranges (container_id, slot, host_start) VALUES (6, 0, 1)", NULL), -EEXIST,
         "the schema refuses a slot given twice, whatever the code does");
  sh_error_clear(&e);
  is_int(hd_db_exec(db, &e, "INSERT INTO idmap_ranges (container_id, slot, host_start) VALUES (6, 9, 100000)", NULL), -EEXIST,
         "and a host start given twice");
  sh_error_clear(&e);
  is_int(hd_db_exec(db, &e, "INSERT INTO idmap_ranges (container_id, slot, host_start) VALUES (99, 7, 7)", NULL), -EEXIST,
         "and a range for a container that does not exist (foreign key)");

  /* ---- MCS pairs ---- */
  int c1, c2;
  is_int(hd_alloc_mcs(db, 1, &c1, &c2, &e), 0, "container 1 gets an MCS pair");
  ok(c1 == 0 && c2 == 1, "s0:c0,c1 first");
  is_int(hd_alloc_mcs(db, 3, &c1, &c2, &e), 0, "container 3 gets one");
  ok(c1 == 0 && c2 == 2, "the next pair, s0:c0,c2");
  sh_error_clear(&e);
  is_int(hd_db_exec(db, &e, "INSERT INTO mcs_pairs (container_id, c1, c2) VALUES (4, 0, 2)", NULL), -EEXIST,
         "a pair given twice is refused by the schema");
  sh_error_clear(&e);
  is_int(hd_db_exec(db, &e, "INSERT INTO mcs_pairs (container_id, c1, c2) VALUES (4, 5, 5)", NULL), -EEXIST,
         "a pair with c1 = c2 is refused (check)");
  hd_db_exec(db, &e, "UPDATE mcs_pairs SET c1 = 7, c2 = 1023 WHERE container_id = 3", NULL);
  is_int(hd_alloc_mcs(db, 4, &c1, &c2, &e), 0, "after a gap");
  ok(c1 == 0 && c2 == 2, "the lowest free pair is found again (s0:c%d,c%d)", c1, c2);
  hd_db_exec(db, &e, "DELETE FROM mcs_pairs", NULL);
  hd_db_exec(db, &e, "INSERT INTO mcs_pairs (container_id, c1, c2) VALUES (1, 0, 1023)", NULL);
  hd_db_exec(db, &e, "INSERT INTO mcs_pairs (container_id, c1, c2) VALUES (3, 0, 1)", NULL);
  is_int(hd_alloc_mcs(db, 4, &c1, &c2, &e), 0, "allocation wraps to the next first category");
  ok(c1 == 0 && c2 == 2, "s0:c0,c2 (got c%d,c%d)", c1, c2);

  /* ---- addresses: one per container per network, never shared ---- */
  hd_db_exec(db, &e, "INSERT INTO networks (tenant_id, name, subnet4) VALUES (1, 'default', '10.64.0.0/24')", NULL);
  is_int(hd_db_exec(db, &e, "INSERT INTO addresses VALUES (1, 1, 4, '10.64.0.2')", NULL), 1, "an address for container 1");
  sh_error_clear(&e);
  is_int(hd_db_exec(db, &e, "INSERT INTO addresses VALUES (1, 3, 4, '10.64.0.2')", NULL), -EEXIST,
         "the same address for another container is refused");
  sh_error_clear(&e);
  is_int(hd_db_exec(db, &e, "INSERT INTO addresses VALUES (1, 1, 4, '10.64.0.3')", NULL), -EEXIST,
         "a second IPv4 address on the same network for one container is refused");

  /* ---- the audit log is append-only ---- */
  is_int(hd_db_exec(db, &e, "INSERT INTO audit_log (at, principal, role, source, method, path, status) VALUES (1, 'a', 'admin', 's', 'POST', '/', 200)", NULL),
         1, "an audit entry is written");
  sh_error_clear(&e);
  ok(hd_db_exec(db, &e, "UPDATE audit_log SET status = 500", NULL) < 0 && strstr(e.msg, "append-only"), "it cannot be changed");
  sh_error_clear(&e);
  ok(hd_db_exec(db, &e, "DELETE FROM audit_log", NULL) < 0 && strstr(e.msg, "append-only"), "nor deleted");

  /* ---- a constraint in a plan ---- */
  sh_error_clear(&e);
  is_int(hd_db_exec(db, &e,
                    "INSERT INTO plans (name, cpu_millis, memory_mib, pids, disk_mib, bandwidth_mbit, max_containers, total_cpu_millis,"
                    " total_memory_mib, total_disk_mib, net_default, seccomp, created_at)"
                    " VALUES ('bad', 2000, 512, 100, 1024, 10, 5, 1000, 512, 1024, 'allow', 'default', 0)", NULL),
         -EEXIST, "a plan whose tenant total is below its per-container size is refused (check)");
  sqlite3_close(db);
  return tap_done();
}
