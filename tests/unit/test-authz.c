/* The authorization matrix: every route of the daemon's route table ×
 * every role (admin, auditor, owner, member, nobody) × an object of the
 * caller's own tenant and one of another tenant's.  Each cell runs on a
 * fresh copy of the same database and asserts the outcome: allowed (any
 * status but 401, 403 and 404), 403, 404 or 401.  A route missing from the
 * expectations below fails the test, so new routes cannot go unchecked. */
#include "tap.h"
#include "seal.h"
#include "api.h"
#include "cleanup.h"
#include "containers.h"
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ADMIN, AUDITOR, OWNER, MEMBER, NOBODY, N_ROLES };
static const char *const role_names[] = { "admin", "auditor", "owner", "member", "nobody" };

/* Per route: a body, and the outcome per role for tenant A's object (own)
 * and tenant B's (foreign; NULL when the route names no tenant's object).
 * 'y' allowed, 'f' 403, 'n' 404, 'u' 401.  Ids: "#" is filled per route
 * kind below. */
static const struct cell {
  const char *method, *pattern, *body;
  const char *own, *foreign;
} matrix[] = {
  { "GET", "/1.0", NULL, "yyyyu", NULL },
  /* Logging in needs no principal (a wrong password is 401 for everyone);
   * logging out neither (it ends what it can). */
  { "POST", "/1.0/auth/login", "{\"name\":\"nobody-here\",\"password\":\"not-the-password\"}", "uuuuu", NULL },
  { "POST", "/1.0/auth/logout", NULL, "yyyyy", NULL },
  { "GET", "/1.0/auth/session", NULL, "yyyyu", NULL },
  /* The member is the user of these routes: their own password (no current
   * one set yet) and TOTP; owners and admins reset, auditors only read. */
  { "PUT", "/1.0/users/#/password", "{\"password\":\"a-long-password\"}", "yfyyu", "yfnnu" },
  { "POST", "/1.0/users/#/totp", NULL, "fffyu", "ffnnu" },
  { "POST", "/1.0/users/#/totp/confirm", "{\"code\":\"000000\"}", "fffyu", "ffnnu" },
  { "DELETE", "/1.0/users/#/totp", NULL, "yfyyu", "yfnnu" },
  { "GET", "/1.0/audit", NULL, "yyyfu", NULL },
  { "GET", "/1.0/audit/report", NULL, "yyyfu", NULL },
  { "GET", "/1.0/metrics", NULL, "yyyyu", NULL },
  { "GET", "/1.0/usage", NULL, "yyyyu", NULL },
  { "GET", "/1.0/events", NULL, "yyyyu", NULL },
  { "POST", "/1.0/users/#/tokens", "{\"name\":\"m\"}", "yfyyu", "yfnnu" },
  { "GET", "/1.0/plans", NULL, "yyyyu", NULL },
  { "POST", "/1.0/plans", "{\"name\":\"p2\",\"cpu_millis\":1,\"memory_mib\":1,\"pids\":1,\"disk_mib\":1,\"bandwidth_mbit\":1,"
    "\"max_containers\":1,\"total_cpu_millis\":1,\"total_memory_mib\":1,\"total_disk_mib\":1,\"net_default\":\"allow\",\"seccomp\":\"default\"}",
    "yfffu", NULL },
  { "GET", "/1.0/plans/#", NULL, "yyyyu", NULL },
  { "PATCH", "/1.0/plans/#", "{\"pids\":99}", "yfffu", NULL },
  { "DELETE", "/1.0/plans/#", NULL, "yfffu", NULL },
  { "GET", "/1.0/tenants", NULL, "yyyyu", NULL },
  { "POST", "/1.0/tenants", "{\"name\":\"t3\",\"plan_id\":1}", "yfffu", NULL },
  { "GET", "/1.0/tenants/#", NULL, "yyyyu", "yynnu" },
  { "PATCH", "/1.0/tenants/#", "{\"name\":\"t9\"}", "yfffu", "yfnnu" },
  { "DELETE", "/1.0/tenants/#", NULL, "yfffu", "yfnnu" },
  { "GET", "/1.0/images", NULL, "yyyyu", NULL },
  { "GET", "/1.0/images/#", NULL, "yyyyu", NULL },
  { "PATCH", "/1.0/images/#", "{\"description\":\"x\"}", "yfffu", NULL },
  { "GET", "/1.0/users", NULL, "yyyyu", NULL },
  { "POST", "/1.0/users", "{\"name\":\"u9\",\"role\":\"member\",\"tenant_id\":1}", "yfyfu", NULL },
  { "GET", "/1.0/users/#", NULL, "yyyyu", "yynnu" },
  /* A member changing their own role would be a privilege escalation. */
  { "PATCH", "/1.0/users/#", "{\"role\":\"owner\"}", "yfyfu", "yfnnu" },
  { "DELETE", "/1.0/users/#", NULL, "yfyfu", "yfnnu" },
  { "GET", "/1.0/containers", NULL, "yyyyu", NULL },
  { "POST", "/1.0/containers", "{\"name\":\"c9\",\"tenant_id\":1}", "yfyyu", NULL },
  { "GET", "/1.0/containers/#", NULL, "yyyyu", "yynnu" },
  { "PATCH", "/1.0/containers/#", "{\"restart_policy\":\"always\"}", "yfyyu", "yfnnu" },
  { "DELETE", "/1.0/containers/#", NULL, "yfyyu", "yfnnu" },
  { "PUT", "/1.0/containers/#/state", "{\"action\":\"start\"}", "yfyyu", "yfnnu" },
  { "POST", "/1.0/containers/#/clone", "{\"name\":\"c10\"}", "yfyyu", "yfnnu" },
  { "GET", "/1.0/containers/#/logs", NULL, "yyyyu", "yynnu" },
  { "GET", "/1.0/containers/#/exec", NULL, "yfyyu", "yfnnu" },
  /* Auditors read files (they audit from inside the containers); changes are operating. */
  { "GET", "/1.0/containers/#/files", NULL, "yyyyu", "yynnu" },
  { "PUT", "/1.0/containers/#/files", NULL, "yfyyu", "yfnnu" },
  { "DELETE", "/1.0/containers/#/files", NULL, "yfyyu", "yfnnu" },
  { "GET", "/1.0/containers/#/policy", NULL, "yyyyu", "yynnu" },
  { "PUT", "/1.0/containers/#/policy", "{\"policy\":\"default out deny\"}", "yfyyu", "yfnnu" },
  { "GET", "/1.0/containers/#/snapshots", NULL, "yyyyu", "yynnu" },
  { "POST", "/1.0/containers/#/snapshots", "{\"name\":\"s9\"}", "yfyyu", "yfnnu" },
  { "POST", "/1.0/containers/#/snapshots/#/restore", NULL, "yfyyu", "yfnnu" },
  { "DELETE", "/1.0/containers/#/snapshots/#", NULL, "yfyyu", "yfnnu" },
  { "GET", "/1.0/operations", NULL, "yyyyu", NULL },
  { "GET", "/1.0/operations/#", NULL, "yyyyu", "yynnu" },
  { "GET", "/1.0/operations/#/wait", NULL, "yyyyu", "yynnu" },
  { "GET", "/1.0/tokens", NULL, "yyyyu", NULL },
  { "GET", "/1.0/tokens/#", NULL, "yyyyu", "yynnu" },
  { "DELETE", "/1.0/tokens/#", NULL, "yfyyu", "yfnnu" },
};

/* The objects of the template database, by tenant: [0] A's, [1] B's. */
static struct { int64_t tenant, member_user, container, snapshot, op, token; } obj[2];

static sqlite3 *template_db;

static int64_t post(sqlite3 *db, const struct hd_principal *who, const char *path, const char *body)
{
  json_error_t je;
  struct hd_call c = { .db = db, .who = *who, .method = "POST", .path = path, .source = "t", .body = json_loads(body, 0, &je) };
  hd_api_handle(&c);
  json_t *o = json_object_get(c.result, "operation");
  int64_t id = json_integer_value(json_object_get(o ? o : c.result, o ? "container_id" : "id"));
  if (c.status >= 300)
    diag("setup %s %s: %d", path, body, c.status);
  hd_call_clear(&c);
  json_decref(c.body);
  return id;
}

static void setup(void)
{
  sh_error e = {0};
  hd_db_open(":memory:", &template_db, &e);
  sqlite3 *db = template_db;
  struct hd_principal root = { .role = HD_ROLE_ADMIN, .name = "unix:uid=0" };
  post(db, &root, "/1.0/plans", "{\"name\":\"p\",\"cpu_millis\":1000,\"memory_mib\":512,\"pids\":100,\"disk_mib\":1024,"
       "\"bandwidth_mbit\":10,\"max_containers\":5,\"total_cpu_millis\":5000,\"total_memory_mib\":4096,\"total_disk_mib\":8192,"
       "\"net_default\":\"allow\",\"seccomp\":\"default\"}");
  hd_db_exec(db, &e, "INSERT INTO images (name, created_at) VALUES ('busybox', 0)", NULL);
  static const char *const names[2] = { "a", "b" };
  for (int t = 0; t < 2; t++) {
    char body[200];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"plan_id\":1}", names[t]);
    obj[t].tenant = post(db, &root, "/1.0/tenants", body);
    snprintf(body, sizeof body, "{\"name\":\"owner-%s\",\"role\":\"owner\",\"tenant_id\":%lld}", names[t], (long long) obj[t].tenant);
    post(db, &root, "/1.0/users", body);
    snprintf(body, sizeof body, "{\"name\":\"member-%s\",\"role\":\"member\",\"tenant_id\":%lld}", names[t], (long long) obj[t].tenant);
    obj[t].member_user = post(db, &root, "/1.0/users", body);
    char path[64];
    snprintf(path, sizeof path, "/1.0/users/%lld/tokens", (long long) obj[t].member_user);
    obj[t].token = post(db, &root, path, "{\"name\":\"t\"}");
    snprintf(body, sizeof body, "{\"name\":\"web\",\"tenant_id\":%lld}", (long long) obj[t].tenant);
    obj[t].container = post(db, &root, "/1.0/containers", body);
    _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, &e, "SELECT id FROM operations WHERE container_id = ?", "i", obj[t].container);
    obj[t].op = s && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    hd_db_exec(db, &e, "INSERT INTO snapshots (container_id, name, created_at) VALUES (?, 's1', 0)", "i", obj[t].container);
    obj[t].snapshot = sqlite3_last_insert_rowid(db);
  }
  /* As if the worker had created them: stopped, their operations done. */
  hd_db_exec(db, &e, "UPDATE containers SET state = 'stopped'", NULL);
  hd_db_exec(db, &e, "UPDATE operations SET status = 'success'", NULL);
}

static struct hd_principal principal(int role)
{
  struct hd_principal p = { .role = HD_ROLE_NONE };
  switch (role) {
  case ADMIN: return (struct hd_principal){ .role = HD_ROLE_ADMIN, .name = "unix:uid=0" };
  case AUDITOR: return (struct hd_principal){ .role = HD_ROLE_AUDITOR, .user_id = 999, .name = "sec" };
  case OWNER: return (struct hd_principal){ .role = HD_ROLE_OWNER, .user_id = obj[0].member_user - 1, .tenant_id = obj[0].tenant, .name = "owner-a" };
  case MEMBER: return (struct hd_principal){ .role = HD_ROLE_MEMBER, .user_id = obj[0].member_user, .tenant_id = obj[0].tenant, .name = "member-a" };
  }
  return p;
}

/* The path with its ids: the object of the route's kind in tenant t. */
static void fill(const char *pattern, int t, char *out, size_t len)
{
  int64_t first = 0, second = obj[t].snapshot;
  if (strstr(pattern, "/users/"))
    first = obj[t].member_user;
  else if (strstr(pattern, "/containers/"))
    first = obj[t].container;
  else if (strstr(pattern, "/tenants/"))
    first = obj[t].tenant;
  else if (strstr(pattern, "/operations/"))
    first = obj[t].op;
  else if (strstr(pattern, "/tokens/"))
    first = obj[t].token;
  else
    first = 1;   /* plans, images: the provider's */
  size_t o = 0;
  int n = 0;
  for (const char *p = pattern; *p && o + 24 < len; p++) {
    if (*p == '#')
      o += (size_t) snprintf(out + o, len - o, "%lld", (long long) (n++ ? second : first));
    else
      out[o++] = *p;
  }
  out[o] = 0;
}

static char outcome(int status)
{
  return status == 401 ? 'u' : status == 403 ? 'f' : status == 404 ? 'n' : 'y';
}

int main(void)
{
  static struct hd_config cfg;
  hd_config_defaults(&cfg);
  hd_containers_init(&cfg, NULL);
  hd_seal_set_key((const uint8_t *) "0123456789abcdef0123456789abcdef");
  setup();
  size_t n_routes = hd_api_route_count();
  for (size_t i = 0; i < n_routes; i++) {
    const char *method, *pattern;
    hd_api_route_at(i, &method, &pattern);
    const struct cell *m = NULL;
    for (size_t k = 0; k < sizeof matrix / sizeof matrix[0] && !m; k++)
      if (strcmp(matrix[k].method, method) == 0 && strcmp(matrix[k].pattern, pattern) == 0)
        m = &matrix[k];
    if (!ok(m != NULL, "%s %s has expectations in the matrix", method, pattern))
      continue;
    for (int scope = 0; scope < 2; scope++) {
      const char *want = scope ? m->foreign : m->own;
      if (!want)
        continue;
      for (int role = 0; role < N_ROLES; role++) {
        /* A fresh copy of the template for every cell. */
        sqlite3 *db = NULL;
        sqlite3_open(":memory:", &db);
        sqlite3_backup *b = sqlite3_backup_init(db, "main", template_db, "main");
        sqlite3_backup_step(b, -1);
        sqlite3_backup_finish(b);
        hd_db_exec(db, NULL, "PRAGMA foreign_keys = ON", NULL);
        char path[128];
        fill(pattern, scope, path, sizeof path);
        json_error_t je;
        struct hd_call c = { .db = db, .who = principal(role), .method = method, .path = path, .source = "matrix",
                             .body = m->body ? json_loads(m->body, 0, &je) : NULL };
        hd_api_handle(&c);
        char got = outcome(c.status);
        if (!ok(got == want[role], "%s %s as %s (%s tenant): %c (%d)", method, path, role_names[role], scope ? "another" : "its own",
                got, c.status)) {
          _cleanup_free_ char *t = c.result ? json_dumps(c.result, 0) : NULL;
          diag("wanted %c; %s", want[role], t ? t : "");
        }
        hd_call_clear(&c);
        json_decref(c.body);
        sqlite3_close(db);
      }
    }
  }
  /* And nothing in the matrix that the daemon does not serve. */
  for (size_t k = 0; k < sizeof matrix / sizeof matrix[0]; k++) {
    bool served = false;
    for (size_t i = 0; i < n_routes && !served; i++) {
      const char *method, *pattern;
      hd_api_route_at(i, &method, &pattern);
      served = strcmp(matrix[k].method, method) == 0 && strcmp(matrix[k].pattern, pattern) == 0;
    }
    ok(served, "the matrix's %s %s is a route", matrix[k].method, matrix[k].pattern);
  }
  sqlite3_close(template_db);
  return tap_done();
}
