/* The REST API without HTTP: calls go straight into hd_api_handle with an
 * in-memory database.  Roles, tenant separation (404 on foreign ids), the
 * error shape, validation naming the field, ETag/If-Match, tokens and the
 * audit log. */
#include "tap.h"
#include "api-call.h"
#include "db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static sqlite3 *db;

/* One call as `who`; the status, the result kept in *out (may be NULL). */
static int call(const struct hd_principal *who, const char *method, const char *path, const char *body, const char *if_match,
                json_t **out)
{
  return api_call(db, who, method, path, body, if_match, NULL, out);
}

/* A GET refused with 400 naming field. */
static void get_refused(const struct hd_principal *who, const char *path, const char *field, const char *what)
{
  json_t *r = NULL;
  is_int(call(who, "GET", path, NULL, NULL, &r), 400, "%s: 400", what);
  is_str(json_string_value(json_object_get(json_object_get(r, "error"), "field")), field, "naming %s", field);
  json_decref(r);
}

static int64_t id_of(json_t *r)
{
  return json_integer_value(json_object_get(r, "id"));
}

/* POST a body built from fmt as who; asserts 201 and returns the new id. */
static int64_t create(const struct hd_principal *who, const char *path, const char *what, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static int64_t create(const struct hd_principal *who, const char *path, const char *what, const char *fmt, ...)
{
  char body[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  json_t *r = NULL;
  is_int(call(who, "POST", path, body, NULL, &r), 201, "%s", what);
  int64_t id = id_of(r);
  json_decref(r);
  return id;
}

static size_t list_len(json_t *r, const char *key)
{
  return json_array_size(json_object_get(r, key));
}

int main(void)
{
  sh_error e = {0};
  if (hd_db_open(":memory:", &db, &e) < 0)
    return 1;
  struct hd_principal root = { .role = HD_ROLE_ADMIN, .name = "unix:uid=0" }, anon = { .role = HD_ROLE_NONE };
  json_t *r = NULL;
  char body[512];

  /* ---- authentication and the error shape ---- */
  is_int(call(&anon, "GET", "/1.0", NULL, NULL, &r), 401, "no principal: 401");
  is_str(json_string_value(json_object_get(json_object_get(r, "error"), "code")), "unauthorized", "with a stable code");
  json_decref(r);
  is_int(call(&root, "GET", "/1.0", NULL, NULL, &r), 200, "GET /1.0 as root");
  is_str(json_string_value(json_object_get(json_object_get(r, "auth"), "role")), "admin", "root is the provider admin");
  json_decref(r);
  is_int(call(&root, "GET", "/1.0/nothing", NULL, NULL, NULL), 404, "an unknown path: 404");
  is_int(call(&root, "PUT", "/1.0/plans", "{}", NULL, NULL), 405, "a known path with another method: 405");
  is_int(call(&root, "POST", "/1.0/plans", NULL, NULL, NULL), 400, "a POST without a body: 400");

  /* ---- plans: validation names the field ---- */
  const char *plan = "{\"name\":\"basic\",\"cpu_millis\":1000,\"memory_mib\":512,\"pids\":256,\"disk_mib\":1024,"
                     "\"bandwidth_mbit\":50,\"max_containers\":3,\"total_cpu_millis\":2000,\"total_memory_mib\":1024,"
                     "\"total_disk_mib\":3072,\"net_default\":\"allow\",\"seccomp\":\"default\"}";
  is_int(call(&root, "POST", "/1.0/plans", plan, NULL, &r), 201, "create a plan");
  int64_t plan_id = id_of(r);
  json_decref(r);
  snprintf(body, sizeof body, "%.*s,\"colour\":\"red\"}", (int) strlen(plan) - 1, plan);
  is_int(call(&root, "POST", "/1.0/plans", body, NULL, &r), 400, "an unknown field: 400");
  is_str(api_err_field(r), "colour", "naming it");
  json_decref(r);
  static const struct { const char *method, *body; int status; const char *field, *what; } bad[] = {
    { "POST", "{\"name\":\"x\"}", 400, "cpu_millis", "a missing field (the first one)" },
    { "PATCH", "{\"memory_mib\":-5}", 400, "memory_mib", "a negative size" },
    { "PATCH", "{\"seccomp\":\"none\"}", 400, "seccomp", "a value outside its choices" },
    { "PATCH", "{\"cpu_millis\":\"fast\"}", 400, "cpu_millis", "a string for an integer" },
    { "PATCH", "{\"name\":\"<script>\"}", 400, "name", "a name with markup" },
    { "PATCH", "{\"cpu_millis\":5000}", 400, "", "a per-container size above the tenant total (the schema's check)" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    is_int(call(&root, bad[i].method, bad[i].method[0] == 'P' && bad[i].method[1] == 'A' ? "/1.0/plans/1" : "/1.0/plans",
                bad[i].body, NULL, &r), bad[i].status, "%s: %d", bad[i].what, bad[i].status);
    is_str(api_err_field(r), bad[i].field, "naming the field (%s)", bad[i].field[0] ? bad[i].field : "none: a rule across fields");
    json_decref(r);
  }
  is_int(call(&root, "POST", "/1.0/plans", plan, NULL, &r), 409, "a second plan with the same name: 409");
  is_str(api_err_field(r), "name", "naming the field");
  json_decref(r);

  /* ---- ETag and If-Match ---- */
  struct hd_call c = { .db = db, .who = root, .method = "GET", .path = "/1.0/plans/1", .source = "test" };
  hd_api_handle(&c);
  is_str(c.etag, "\"1\"", "a plan carries an ETag");
  hd_call_clear(&c);
  is_int(call(&root, "PATCH", "/1.0/plans/1", "{\"pids\":300}", "\"1\"", NULL), 200, "a PATCH with the current ETag");
  is_int(call(&root, "PATCH", "/1.0/plans/1", "{\"pids\":400}", "\"1\"", &r), 412, "a PATCH with a stale ETag: 412");
  json_decref(r);
  call(&root, "GET", "/1.0/plans/1", NULL, NULL, &r);
  is_int(json_integer_value(json_object_get(r, "pids")), 300, "and the stale one changed nothing");
  json_decref(r);
  is_int(call(&root, "PATCH", "/1.0/plans/1", "{\"name\":\"basic2\"}", NULL, NULL), 200, "a PATCH without If-Match applies");

  /* ---- tenants and their users ---- */
  int64_t acme = create(&root, "/1.0/tenants", "tenant acme", "{\"name\":\"acme\",\"plan_id\":%lld}", (long long) plan_id);
  int64_t globex = create(&root, "/1.0/tenants", "tenant globex", "{\"name\":\"globex\",\"plan_id\":%lld}", (long long) plan_id);
  is_int(call(&root, "POST", "/1.0/tenants", "{\"name\":\"x\",\"plan_id\":77}", NULL, &r), 400, "a tenant on a missing plan: 400");
  is_str(api_err_field(r), "plan_id", "naming plan_id");
  json_decref(r);
  is_int(call(&root, "DELETE", "/1.0/plans/1", NULL, NULL, &r), 409, "a plan in use cannot be deleted: 409");
  json_decref(r);

  int64_t alice_id = create(&root, "/1.0/users", "alice owns acme", "{\"name\":\"alice\",\"role\":\"owner\",\"tenant_id\":%lld}",
                            (long long) acme);
  int64_t gus_id = create(&root, "/1.0/users", "gus owns globex", "{\"name\":\"gus\",\"role\":\"owner\",\"tenant_id\":%lld}",
                          (long long) globex);
  is_int(call(&root, "POST", "/1.0/users", "{\"name\":\"eve\",\"role\":\"admin\",\"tenant_id\":1}", NULL, &r), 400,
         "an admin in a tenant is refused");
  is_str(api_err_field(r), "tenant_id", "naming tenant_id");
  json_decref(r);
  is_int(call(&root, "POST", "/1.0/users", "{\"name\":\"sec\",\"role\":\"auditor\"}", NULL, &r), 201, "an auditor");
  int64_t sec_id = id_of(r);
  json_decref(r);

  /* Tokens: shown once, then they authenticate. */
  char path[64];
  snprintf(path, sizeof path, "/1.0/users/%lld/tokens", (long long) alice_id);
  is_int(call(&root, "POST", path, "{\"name\":\"cli\"}", NULL, &r), 201, "a token for alice");
  char secret[64] = "";
  snprintf(secret, sizeof secret, "%s", json_string_value(json_object_get(r, "token")) ?: "");
  ok(strncmp(secret, "sht_", 4) == 0 && strlen(secret) == 47, "its secret is shown once (sht_ + 43 characters)");
  struct hd_principal alice;
  is_int(hd_auth_token(db, secret, &alice, &e), 0, "the token authenticates");
  ok(alice.role == HD_ROLE_OWNER && alice.tenant_id == acme && strcmp(alice.name, "alice") == 0, "as alice, owner of acme");
  json_decref(r);
  is_int(call(&root, "POST", path, "{\"name\":\"cli\"}", NULL, &r), 409, "a second token with the same name: 409");
  json_decref(r);
  sh_error_clear(&e);
  struct hd_principal nobody;
  ok(hd_auth_token(db, "sht_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &nobody, &e) == -EACCES, "an unknown token is refused");
  _cleanup_stmt_ sqlite3_stmt *h = hd_db_query(db, &e, "SELECT count(*) FROM api_tokens WHERE instr(hash, ?) > 0", "t", secret);
  ok(h && sqlite3_step(h) == SQLITE_ROW && sqlite3_column_int(h, 0) == 0, "the secret itself is not stored");
  struct hd_principal gus = { .role = HD_ROLE_OWNER, .user_id = gus_id, .tenant_id = globex, .name = "gus" };
  struct hd_principal sec = { .role = HD_ROLE_AUDITOR, .user_id = sec_id, .name = "sec" };

  /* ---- tenant separation ---- */
  is_int(call(&alice, "GET", "/1.0/tenants", NULL, NULL, &r), 200, "alice lists tenants");
  ok(list_len(r, "tenants") == 1 && id_of(json_array_get(json_object_get(r, "tenants"), 0)) == acme, "and sees only acme");
  json_decref(r);
  snprintf(path, sizeof path, "/1.0/tenants/%lld", (long long) globex);
  is_int(call(&alice, "GET", path, NULL, NULL, &r), 404, "globex by id: 404, not 403");
  json_decref(r);
  is_int(call(&alice, "PATCH", path, "{\"name\":\"mine\"}", NULL, &r), 404, "changing it: 404 too");
  json_decref(r);
  snprintf(path, sizeof path, "/1.0/users/%lld", (long long) gus_id);
  is_int(call(&alice, "GET", path, NULL, NULL, NULL), 404, "gus (another tenant's user) by id: 404");
  is_int(call(&alice, "DELETE", path, NULL, NULL, NULL), 404, "deleting gus: 404");
  snprintf(path, sizeof path, "/1.0/users/%lld/tokens", (long long) gus_id);
  is_int(call(&alice, "POST", path, "{\"name\":\"steal\"}", NULL, NULL), 404, "a token for gus: 404");
  is_int(call(&alice, "GET", "/1.0/users", NULL, NULL, &r), 200, "alice lists users");
  is_int((int64_t) list_len(r, "users"), 1, "and sees only acme's (herself)");
  json_decref(r);
  is_int(call(&gus, "GET", "/1.0/tokens", NULL, NULL, &r), 200, "gus lists tokens");
  is_int((int64_t) list_len(r, "tokens"), 0, "and sees none of alice's");
  json_decref(r);

  /* ---- roles inside a tenant ---- */
  is_int(call(&alice, "POST", "/1.0/users", "{\"name\":\"bob\",\"role\":\"member\"}", NULL, &r), 201,
         "alice adds bob as a member (her tenant by default)");
  ok(json_integer_value(json_object_get(r, "tenant_id")) == acme, "bob is in acme");
  int64_t bob_id = id_of(r);
  json_decref(r);
  is_int(call(&alice, "POST", "/1.0/users", "{\"name\":\"mallory\",\"role\":\"admin\"}", NULL, &r), 403,
         "an owner cannot make an admin: 403");
  is_str(api_err_field(r), "role", "naming role");
  json_decref(r);
  snprintf(body, sizeof body, "{\"name\":\"mole\",\"role\":\"member\",\"tenant_id\":%lld}", (long long) globex);
  is_int(call(&alice, "POST", "/1.0/users", body, NULL, &r), 404, "nor a user in globex: 404 on the foreign tenant");
  is_str(api_err_field(r), "tenant_id", "naming tenant_id");
  json_decref(r);
  struct hd_principal bob = { .role = HD_ROLE_MEMBER, .user_id = bob_id, .tenant_id = acme, .name = "bob" };
  is_int(call(&bob, "POST", "/1.0/users", "{\"name\":\"carol\",\"role\":\"member\"}", NULL, &r), 403,
         "a member cannot add users: 403 (his own tenant)");
  json_decref(r);
  snprintf(path, sizeof path, "/1.0/users/%lld/tokens", (long long) bob_id);
  is_int(call(&bob, "POST", path, "{\"name\":\"mine\"}", NULL, &r), 201, "but makes his own token");
  int64_t bob_tok = id_of(r);
  json_decref(r);
  snprintf(path, sizeof path, "/1.0/tokens/%lld", (long long) bob_tok);
  is_int(call(&bob, "DELETE", path, NULL, NULL, NULL), 204, "and revokes it");
  is_int(call(&bob, "POST", "/1.0/plans", plan, NULL, NULL), 403, "a member cannot create plans");
  is_int(call(&alice, "GET", "/1.0/plans", NULL, NULL, &r), 200, "tenants read the plan catalogue");
  json_decref(r);
  snprintf(path, sizeof path, "/1.0/users/%lld", (long long) alice_id);
  is_int(call(&alice, "DELETE", path, NULL, NULL, NULL), 409, "alice cannot delete herself");

  /* ---- the auditor: reads everything, changes nothing ---- */
  is_int(call(&sec, "GET", "/1.0/tenants", NULL, NULL, &r), 200, "the auditor lists tenants");
  is_int((int64_t) list_len(r, "tenants"), 2, "all of them");
  json_decref(r);
  snprintf(path, sizeof path, "/1.0/tenants/%lld", (long long) acme);
  is_int(call(&sec, "PATCH", path, "{\"name\":\"x\"}", NULL, NULL), 403, "but cannot change one: 403");
  is_int(call(&sec, "POST", "/1.0/users", "{\"name\":\"sec2\",\"role\":\"auditor\"}", NULL, NULL), 403, "nor add users");

  /* ---- the audit log ---- */
  is_int(call(&sec, "GET", "/1.0/audit?limit=1000", NULL, NULL, &r), 200, "the auditor reads the audit log");
  json_t *entries = json_object_get(r, "entries");
  size_t n_all = json_array_size(entries), refused = 0, by_alice = 0;
  for (size_t i = 0; i < n_all; i++) {
    json_t *en = json_array_get(entries, i);
    refused += json_integer_value(json_object_get(en, "status")) >= 400;
    by_alice += strcmp(json_string_value(json_object_get(en, "principal")), "alice") == 0;
  }
  ok(n_all >= 30 && refused > 10 && by_alice >= 4, "every mutating request is there, refused ones too (%zu, %zu refused)", n_all,
     refused);
  json_decref(r);
  is_int(call(&alice, "GET", "/1.0/audit", NULL, NULL, &r), 200, "alice reads her tenant's audit trail");
  entries = json_object_get(r, "entries");
  bool own = json_array_size(entries) > 0;
  for (size_t i = 0; i < json_array_size(entries); i++)
    own &= json_integer_value(json_object_get(json_array_get(entries, i), "tenant_id")) == acme;
  ok(own, "and only acme's entries");
  json_decref(r);
  is_int(call(&bob, "GET", "/1.0/audit", NULL, NULL, NULL), 403, "a member does not read it");
  is_int(call(&gus, "GET", "/1.0/audit", NULL, NULL, &r), 200, "gus reads globex's");
  entries = json_object_get(r, "entries");
  bool none_of_acme = true;
  for (size_t i = 0; i < json_array_size(entries); i++)
    none_of_acme &= json_integer_value(json_object_get(json_array_get(entries, i), "tenant_id")) != acme;
  ok(none_of_acme, "with nothing of acme's");
  json_decref(r);

  /* Searched by sandhostd: every word, case aside, anywhere in an entry. */
  size_t n_match = 0, n_want = 0;
  is_int(call(&sec, "GET", "/1.0/audit?limit=1000&q=ALICE+%2Fusers%2F", NULL, NULL, &r), 200, "?q= searches the log");
  entries = json_object_get(r, "entries");
  n_match = json_array_size(entries);
  bool all_match = n_match > 0;
  for (size_t i = 0; i < n_match; i++) {
    json_t *en = json_array_get(entries, i);
    all_match &= strcmp(json_string_value(json_object_get(en, "principal")), "alice") == 0 &&
                 strstr(json_string_value(json_object_get(en, "path")), "/users/") != NULL;
  }
  json_decref(r);
  is_int(call(&sec, "GET", "/1.0/audit?limit=1000", NULL, NULL, &r), 200, "(the whole log, to count by hand)");
  entries = json_object_get(r, "entries");
  for (size_t i = 0; i < json_array_size(entries); i++) {
    json_t *en = json_array_get(entries, i);
    n_want += strcmp(json_string_value(json_object_get(en, "principal")), "alice") == 0 &&
              strstr(json_string_value(json_object_get(en, "path")), "/users/") != NULL;
  }
  json_decref(r);
  ok(all_match && n_match == n_want, "both words in each entry, and every such entry (%zu of %zu)", n_match, n_want);
  is_int(call(&sec, "GET", "/1.0/audit?limit=1000&failed=1&q=403", NULL, NULL, &r), 200, "?failed=1 with a status as the word");
  entries = json_object_get(r, "entries");
  bool all_403 = json_array_size(entries) > 0;
  for (size_t i = 0; i < json_array_size(entries); i++)
    all_403 &= json_integer_value(json_object_get(json_array_get(entries, i), "status")) == 403;
  ok(all_403, "only refusals, each a 403 (%zu)", json_array_size(entries));
  json_decref(r);
  is_int(call(&gus, "GET", "/1.0/audit?q=alice", NULL, NULL, &r), 200, "an owner's search");
  is_int((int64_t) json_array_size(json_object_get(r, "entries")), 0, "stays in the owner's tenant (alice is acme's)");
  json_decref(r);
  get_refused(&sec, "/1.0/audit?q=a+b+c+d+e+f+g", "q", "more than 6 words");
  get_refused(&sec, "/1.0/audit?limit=0", "limit", "limit=0");

  /* A change and its entry commit together: with the log refusing writes,
   * the change does not happen. */
  hd_db_exec(db, &e, "CREATE TRIGGER t_fail BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END", NULL);
  is_int(call(&root, "PATCH", "/1.0/plans/1", "{\"pids\":999}", NULL, &r), 503, "when the audit entry cannot be written: 503");
  json_decref(r);
  hd_db_exec(db, &e, "DROP TRIGGER t_fail", NULL);
  call(&root, "GET", "/1.0/plans/1", NULL, NULL, &r);
  is_int(json_integer_value(json_object_get(r, "pids")), 300, "and the plan is unchanged");
  json_decref(r);

  /* A full disk, played by max_page_count (SQLite then fails as on ENOSPC):
   * 507 whatever the route made of it, and the tenant is not there. */
  int pages = 0;
  {
    _cleanup_stmt_ sqlite3_stmt *pc = hd_db_query(db, &e, "PRAGMA page_count", NULL);
    if (pc && sqlite3_step(pc) == SQLITE_ROW)
      pages = sqlite3_column_int(pc, 0);
  }
  char pragma[64];
  snprintf(pragma, sizeof pragma, "PRAGMA max_page_count = %d", pages);
  hd_db_exec(db, &e, pragma, NULL);
  int st = 201, n = 0;
  r = NULL;
  for (; n < 500 && st == 201; n++) {
    snprintf(body, sizeof body, "{\"name\":\"full%d\",\"plan_id\":%lld}", n, (long long) plan_id);
    json_decref(r);
    st = call(&root, "POST", "/1.0/tenants", body, NULL, &r);
  }
  is_int(st, 507, "a change once the database is full: 507 (after %d that fitted)", n - 1);
  is_str(json_string_value(json_object_get(json_object_get(r, "error"), "code")), "insufficient_storage", "code insufficient_storage");
  json_decref(r);
  snprintf(path, sizeof path, "full%d", n - 1);
  {
    _cleanup_stmt_ sqlite3_stmt *gone = hd_db_query(db, &e, "SELECT count(*) FROM tenants WHERE name = ?", "t", path);
    ok(gone && sqlite3_step(gone) == SQLITE_ROW && sqlite3_column_int(gone, 0) == 0, "and the tenant %s is not there", path);
  }
  is_int(call(&root, "GET", "/1.0/tenants/1", NULL, NULL, NULL), 200, "reads go on");
  hd_db_exec(db, &e, "PRAGMA max_page_count = 1000000", NULL);
  is_int(call(&root, "POST", "/1.0/tenants", body, NULL, NULL), 201, "with room again, the same request succeeds");
  sqlite3_close(db);
  return tap_done();
}
