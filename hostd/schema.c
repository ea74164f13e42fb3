/* The schema, as migrations: entry k takes a database from user_version k
 * to k + 1.  Never edit a released entry; append a new one. */
#include "schema.h"

#include "cleanup.h"

static const char *const migrations[] = {
  /* 0 -> 1: the first schema. */
  "CREATE TABLE roles ("
  "  name TEXT PRIMARY KEY,"
  "  description TEXT NOT NULL"
  ") STRICT;"
  "INSERT INTO roles VALUES"
  "  ('admin', 'provider administrator: everything'),"
  "  ('owner', 'tenant owner: the tenant''s containers, users and tokens'),"
  "  ('member', 'tenant member: the tenant''s containers'),"
  "  ('auditor', 'security team: reads everything, changes nothing');"

  "CREATE TABLE plans ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),"
  /* per container */
  "  cpu_millis INTEGER NOT NULL CHECK (cpu_millis > 0),"
  "  memory_mib INTEGER NOT NULL CHECK (memory_mib > 0),"
  "  pids INTEGER NOT NULL CHECK (pids > 0),"
  "  disk_mib INTEGER NOT NULL CHECK (disk_mib > 0),"
  "  bandwidth_mbit INTEGER NOT NULL CHECK (bandwidth_mbit > 0),"
  /* tenant totals */
  "  max_containers INTEGER NOT NULL CHECK (max_containers > 0),"
  "  total_cpu_millis INTEGER NOT NULL CHECK (total_cpu_millis >= cpu_millis),"
  "  total_memory_mib INTEGER NOT NULL CHECK (total_memory_mib >= memory_mib),"
  "  total_disk_mib INTEGER NOT NULL CHECK (total_disk_mib >= disk_mib),"
  "  net_default TEXT NOT NULL CHECK (net_default IN ('allow', 'deny')),"
  "  seccomp TEXT NOT NULL CHECK (seccomp IN ('default', 'strict')),"
  "  created_at INTEGER NOT NULL,"
  "  etag INTEGER NOT NULL DEFAULT 1"
  ") STRICT;"

  "CREATE TABLE tenants ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),"
  "  plan_id INTEGER NOT NULL REFERENCES plans (id),"
  "  created_at INTEGER NOT NULL,"
  "  etag INTEGER NOT NULL DEFAULT 1"
  ") STRICT;"

  /* Provider admins and auditors belong to no tenant; owners and members
   * to exactly one. */
  "CREATE TABLE users ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),"
  "  role TEXT NOT NULL REFERENCES roles (name),"
  "  tenant_id INTEGER REFERENCES tenants (id) ON DELETE CASCADE,"
  "  password_hash TEXT,"
  "  totp_secret TEXT,"
  "  created_at INTEGER NOT NULL,"
  "  etag INTEGER NOT NULL DEFAULT 1,"
  "  CHECK ((role IN ('admin', 'auditor')) = (tenant_id IS NULL))"
  ") STRICT;"

  /* Only a hash of each token is kept (SHA-256 of 32 random bytes). */
  "CREATE TABLE api_tokens ("
  "  id INTEGER PRIMARY KEY,"
  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
  "  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
  "  created_at INTEGER NOT NULL,"
  "  last_used_at INTEGER,"
  "  UNIQUE (user_id, name)"
  ") STRICT;"

  "CREATE TABLE images ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),"
  "  description TEXT NOT NULL DEFAULT '',"
  "  created_at INTEGER NOT NULL"
  ") STRICT;"

  "CREATE TABLE containers ("
  "  id INTEGER PRIMARY KEY,"
  "  tenant_id INTEGER NOT NULL REFERENCES tenants (id),"
  "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 63),"
  "  image_id INTEGER REFERENCES images (id),"
  "  state TEXT NOT NULL CHECK (state IN ('creating', 'stopped', 'starting', 'running', 'stopping', 'deleting', 'error')),"
  "  cpu_millis INTEGER NOT NULL CHECK (cpu_millis > 0),"
  "  memory_mib INTEGER NOT NULL CHECK (memory_mib > 0),"
  "  pids INTEGER NOT NULL CHECK (pids > 0),"
  "  disk_mib INTEGER NOT NULL CHECK (disk_mib > 0),"
  "  bandwidth_mbit INTEGER NOT NULL CHECK (bandwidth_mbit > 0),"
  "  restart_policy TEXT NOT NULL DEFAULT 'never' CHECK (restart_policy IN ('never', 'on-failure', 'always')),"
  "  last_exit INTEGER,"
  "  pid INTEGER,"                 /* its init while running */
  "  started_at INTEGER,"
  "  restarts INTEGER NOT NULL DEFAULT 0,"   /* in a row, for the backoff */
  "  restart_at INTEGER,"          /* when the restart policy starts it again */
  "  policy TEXT,"                 /* its network policy (NULL: the plan's default) */
  "  created_at INTEGER NOT NULL,"
  "  etag INTEGER NOT NULL DEFAULT 1,"
  "  UNIQUE (tenant_id, name)"
  ") STRICT;"

  /* One 65,536-id range per container: slot k is host ids base + k * 65536,
   * so distinct slots never overlap. */
  "CREATE TABLE idmap_ranges ("
  "  container_id INTEGER PRIMARY KEY REFERENCES containers (id) ON DELETE CASCADE,"
  "  slot INTEGER NOT NULL UNIQUE CHECK (slot >= 0),"
  "  host_start INTEGER NOT NULL UNIQUE CHECK (host_start > 0)"
  ") STRICT;"

  /* One SELinux category pair per container, s0:c<c1>,c<c2>. */
  "CREATE TABLE mcs_pairs ("
  "  container_id INTEGER PRIMARY KEY REFERENCES containers (id) ON DELETE CASCADE,"
  "  c1 INTEGER NOT NULL,"
  "  c2 INTEGER NOT NULL,"
  "  CHECK (0 <= c1 AND c1 < c2 AND c2 < 1024),"
  "  UNIQUE (c1, c2)"
  ") STRICT;"

  "CREATE TABLE networks ("
  "  id INTEGER PRIMARY KEY,"
  "  tenant_id INTEGER NOT NULL REFERENCES tenants (id),"
  "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
  "  subnet4 TEXT UNIQUE,"
  "  subnet6 TEXT UNIQUE,"
  "  isolated INTEGER NOT NULL DEFAULT 0 CHECK (isolated IN (0, 1)),"
  "  UNIQUE (tenant_id, name)"
  ") STRICT;"

  "CREATE TABLE addresses ("
  "  network_id INTEGER NOT NULL REFERENCES networks (id),"
  "  container_id INTEGER NOT NULL REFERENCES containers (id) ON DELETE CASCADE,"
  "  family INTEGER NOT NULL CHECK (family IN (4, 6)),"
  "  address TEXT NOT NULL,"
  "  PRIMARY KEY (network_id, address),"
  "  UNIQUE (container_id, network_id, family)"
  ") STRICT;"

  "CREATE TABLE snapshots ("
  "  id INTEGER PRIMARY KEY,"
  "  container_id INTEGER NOT NULL REFERENCES containers (id) ON DELETE CASCADE,"
  "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
  "  created_at INTEGER NOT NULL,"
  "  UNIQUE (container_id, name)"
  ") STRICT;"

  /* The journal of long work: each operation's steps run in order and
   * record how far they got, so a restart can finish or roll back. */
  "CREATE TABLE operations ("
  "  id INTEGER PRIMARY KEY,"
  "  tenant_id INTEGER REFERENCES tenants (id),"
  "  container_id INTEGER,"
  "  kind TEXT NOT NULL,"
  "  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'success', 'failure', 'cancelled')),"
  "  step INTEGER NOT NULL DEFAULT 0,"   /* steps done so far */
  "  args TEXT NOT NULL DEFAULT '{}',"
  "  error TEXT,"
  "  created_at INTEGER NOT NULL,"
  "  updated_at INTEGER NOT NULL"
  ") STRICT;"

  "CREATE TABLE events ("
  "  id INTEGER PRIMARY KEY,"
  "  tenant_id INTEGER,"
  "  type TEXT NOT NULL,"
  "  body TEXT NOT NULL,"
  "  at INTEGER NOT NULL"
  ") STRICT;"

  /* Who did what, when, from where, with what result.  Rows outlive the
   * tenants they name (no foreign keys) and never change. */
  "CREATE TABLE audit_log ("
  "  id INTEGER PRIMARY KEY,"
  "  at INTEGER NOT NULL,"
  "  principal TEXT NOT NULL,"
  "  role TEXT NOT NULL,"
  "  tenant_id INTEGER,"
  "  source TEXT NOT NULL,"
  "  method TEXT NOT NULL,"
  "  path TEXT NOT NULL,"
  "  status INTEGER NOT NULL,"
  "  detail TEXT NOT NULL DEFAULT ''"
  ") STRICT;"
  "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
  "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
  "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
  "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
  "CREATE INDEX audit_log_tenant ON audit_log (tenant_id, at);"

  /* Metering, kept for billing after the container is gone. */
  "CREATE TABLE usage_samples ("
  "  container_id INTEGER NOT NULL,"
  "  tenant_id INTEGER NOT NULL,"
  "  at INTEGER NOT NULL,"
  "  cpu_usec INTEGER NOT NULL,"
  "  memory_bytes INTEGER NOT NULL,"
  "  disk_bytes INTEGER NOT NULL,"
  "  net_in_bytes INTEGER NOT NULL,"
  "  net_out_bytes INTEGER NOT NULL,"
  "  PRIMARY KEY (container_id, at)"
  ") STRICT;"
  "CREATE INDEX usage_tenant ON usage_samples (tenant_id, at);",

  /* 1 -> 2: port forwards, from the containers' policies: a public port of
   * the host belongs to one container (the primary key), and goes with it. */
  "CREATE TABLE forwards ("
  "  proto TEXT NOT NULL CHECK (proto IN ('tcp', 'udp')),"
  "  public_port INTEGER NOT NULL CHECK (public_port BETWEEN 1 AND 65535),"
  "  container_id INTEGER NOT NULL REFERENCES containers (id) ON DELETE CASCADE,"
  "  port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),"
  "  PRIMARY KEY (proto, public_port)"
  ") STRICT;"
  "CREATE INDEX forwards_container ON forwards (container_id);"
  /* ...and the start time of a container's init (clock ticks after boot, as
   * /proc/<pid>/stat has it): a pid is only its init while that matches,
   * so a pid reused after a daemon restart is never taken for it. */
  "ALTER TABLE containers ADD COLUMN pid_start INTEGER;"
  /* ...and a container's own seccomp profile (NULL: its plan's); only a
   * provider admin may set 'unconfined', a debugging aid the audit flags. */
  "ALTER TABLE containers ADD COLUMN seccomp TEXT CHECK (seccomp IN ('default', 'strict', 'unconfined'));",

  /* 2 -> 3: the portal's logins.  A user's lockout (failed logins in a
   * row, locked until when) and whether their TOTP secret is confirmed (a
   * secret without it is an enrollment in progress). */
  "ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0);"
  "ALTER TABLE users ADD COLUMN locked_until INTEGER;"
  "ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0 CHECK (totp_enabled IN (0, 1));"
  /* The last 30 s step whose code logged in: no code logs in twice. */
  "ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;"
  /* Sessions by the SHA-256 of their secret (the secret itself is only in
   * the browser's cookie); each with its CSRF token. */
  "CREATE TABLE sessions ("
  "  hash BLOB PRIMARY KEY CHECK (length(hash) = 32),"
  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  csrf TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL,"
  "  last_seen INTEGER NOT NULL,"
  "  expires_at INTEGER NOT NULL,"
  "  source TEXT NOT NULL DEFAULT ''"
  ") STRICT, WITHOUT ROWID;"
  "CREATE INDEX sessions_user ON sessions (user_id);",

  /* 3 -> 4: a change counter per listed table, moved by triggers, so a
   * list's entity tag changes with what it shows and nothing else (not a
   * session's last_seen, not a usage sample).  A container's addresses are
   * part of its row. */
  "CREATE TABLE generations (name TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
  "INSERT INTO generations VALUES ('api_tokens', 1), ('containers', 1), ('images', 1), ('plans', 1), ('tenants', 1), ('users', 1);"
  "CREATE TRIGGER plans_gen_insert AFTER INSERT ON plans BEGIN UPDATE generations SET n = n + 1 WHERE name = 'plans'; END;"
  "CREATE TRIGGER plans_gen_update AFTER UPDATE ON plans BEGIN UPDATE generations SET n = n + 1 WHERE name = 'plans'; END;"
  "CREATE TRIGGER plans_gen_delete AFTER DELETE ON plans BEGIN UPDATE generations SET n = n + 1 WHERE name = 'plans'; END;"
  "CREATE TRIGGER tenants_gen_insert AFTER INSERT ON tenants BEGIN UPDATE generations SET n = n + 1 WHERE name = 'tenants'; END;"
  "CREATE TRIGGER tenants_gen_update AFTER UPDATE ON tenants BEGIN UPDATE generations SET n = n + 1 WHERE name = 'tenants'; END;"
  "CREATE TRIGGER tenants_gen_delete AFTER DELETE ON tenants BEGIN UPDATE generations SET n = n + 1 WHERE name = 'tenants'; END;"
  "CREATE TRIGGER images_gen_insert AFTER INSERT ON images BEGIN UPDATE generations SET n = n + 1 WHERE name = 'images'; END;"
  "CREATE TRIGGER images_gen_update AFTER UPDATE ON images BEGIN UPDATE generations SET n = n + 1 WHERE name = 'images'; END;"
  "CREATE TRIGGER images_gen_delete AFTER DELETE ON images BEGIN UPDATE generations SET n = n + 1 WHERE name = 'images'; END;"
  "CREATE TRIGGER users_gen_insert AFTER INSERT ON users BEGIN UPDATE generations SET n = n + 1 WHERE name = 'users'; END;"
  "CREATE TRIGGER users_gen_update AFTER UPDATE ON users BEGIN UPDATE generations SET n = n + 1 WHERE name = 'users'; END;"
  "CREATE TRIGGER users_gen_delete AFTER DELETE ON users BEGIN UPDATE generations SET n = n + 1 WHERE name = 'users'; END;"
  "CREATE TRIGGER api_tokens_gen_insert AFTER INSERT ON api_tokens BEGIN UPDATE generations SET n = n + 1 WHERE name = 'api_tokens'; END;"
  "CREATE TRIGGER api_tokens_gen_update AFTER UPDATE ON api_tokens BEGIN UPDATE generations SET n = n + 1 WHERE name = 'api_tokens'; END;"
  "CREATE TRIGGER api_tokens_gen_delete AFTER DELETE ON api_tokens BEGIN UPDATE generations SET n = n + 1 WHERE name = 'api_tokens'; END;"
  "CREATE TRIGGER containers_gen_insert AFTER INSERT ON containers BEGIN UPDATE generations SET n = n + 1 WHERE name = 'containers'; END;"
  "CREATE TRIGGER containers_gen_update AFTER UPDATE ON containers BEGIN UPDATE generations SET n = n + 1 WHERE name = 'containers'; END;"
  "CREATE TRIGGER containers_gen_delete AFTER DELETE ON containers BEGIN UPDATE generations SET n = n + 1 WHERE name = 'containers'; END;"
  "CREATE TRIGGER addresses_gen_insert AFTER INSERT ON addresses BEGIN UPDATE generations SET n = n + 1 WHERE name = 'containers'; END;"
  "CREATE TRIGGER addresses_gen_update AFTER UPDATE ON addresses BEGIN UPDATE generations SET n = n + 1 WHERE name = 'containers'; END;"
  "CREATE TRIGGER addresses_gen_delete AFTER DELETE ON addresses BEGIN UPDATE generations SET n = n + 1 WHERE name = 'containers'; END;",
};

int hd_schema_count(void)
{
  return (int) SH_ARRAY_SIZE(migrations);
}

const char *hd_schema_migration(int from)
{
  return from >= 0 && from < hd_schema_count() ? migrations[from] : NULL;
}
