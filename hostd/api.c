/* Routing, the error shape and the audit log of the REST API. */
#include "api.h"

#include "cleanup.h"
#include "audit.h"
#include "containers.h"
#include "db.h"
#include "events.h"
#include "files.h"
#include "log.h"
#include "login.h"
#include "metrics.h"
#include "ops.h"
#include "usage.h"
#include "resources.h"
#include "sandhost-config.h"

#include <errno.h>
#include <ctype.h>
#include <openssl/crypto.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { int status; const char *code; } codes[] = {
  { 202, "accepted" }, { 400, "bad_request" }, { 401, "unauthorized" }, { 403, "forbidden" }, { 404, "not_found" },
  { 405, "method_not_allowed" }, { 409, "conflict" }, { 412, "precondition_failed" },
  { 413, "payload_too_large" }, { 415, "unsupported_media_type" }, { 422, "quota_exceeded" }, { 429, "too_many_requests" },
  { 500, "internal" }, { 503, "unavailable" }, { 507, "insufficient_storage" },
};
/* Codes of their own, given through hd_api_fail_code (listed here for the
 * openapi test, which reads this file). */
static const struct { int status; const char *code; } auth_codes[] __attribute__((unused)) = {
  { 401, "bad_credentials" }, { 401, "totp_required" }, { 401, "bad_totp" }, { 401, "session_expired" },
  { 403, "csrf" }, { 403, "totp_enrollment_required" }, { 429, "locked" },
};

const char *hd_api_code(int status)
{
  for (size_t i = 0; i < SH_ARRAY_SIZE(codes); i++)
    if (codes[i].status == status)
      return codes[i].code;
  return "error";
}

static void vfail(struct hd_call *c, int status, const char *code, const char *field, const char *fmt, va_list ap)
  __attribute__((format(printf, 5, 0)));

void hd_api_fail(struct hd_call *c, int status, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfail(c, status, hd_api_code(status), field, fmt, ap);
  va_end(ap);
}

void hd_api_fail_code(struct hd_call *c, int status, const char *code, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfail(c, status, code, field, fmt, ap);
  va_end(ap);
}

static void vfail(struct hd_call *c, int status, const char *code, const char *field, const char *fmt, va_list ap)
{
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  json_decref(c->result);
  free(c->text);
  c->text = NULL;
  c->text_len = 0;
  c->status = status;
  c->etag[0] = c->location[0] = 0;
  json_t *err = json_pack("{s:i, s:s, s:s}", "status", status, "code", code, "message", msg);
  if (field && *field)
    json_object_set_new(err, "field", json_string(field));
  c->result = json_pack("{s:o}", "error", err);
}

void hd_call_clear(struct hd_call *c)
{
  json_decref(c->result);
  c->result = NULL;
  free(c->text);
  c->text = NULL;
  c->text_len = 0;
}

bool hd_query_next(const char **q, char *key, size_t klen, char *val, size_t vlen, size_t *len)
{
  const char *p = *q;
  if (!p || !*p)
    return false;
  size_t n = strcspn(p, "&"), k = strcspn(p, "=");
  if (k > n)
    k = n;
  snprintf(key, klen, "%.*s", (int) k, p);
  size_t o = 0, out = 0;
  for (size_t i = k < n ? k + 1 : n; i < n; i++, out++) {
    char ch = p[i] == '+' ? ' ' : p[i];
    if (p[i] == '%' && i + 2 < n && isxdigit((unsigned char) p[i + 1]) && isxdigit((unsigned char) p[i + 2])) {
      char hex[3] = { p[i + 1], p[i + 2], 0 };
      ch = (char) strtoul(hex, NULL, 16);
      i += 2;
    }
    if (o + 1 < vlen)
      val[o++] = ch;
  }
  if (vlen)
    val[o] = 0;
  *len = out;
  *q = p + n + (p[n] == '&');
  return true;
}

/* GET /1.0: what this server is, and who the caller is to it. */
static void server_info(struct hd_call *c)
{
  c->status = 200;
  c->result = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:I, s:I}}", "api_version", "1.0", "server", "sandhostd", "version",
                        SANDHOST_VERSION, "auth", "principal", c->who.name, "role", hd_role_name(c->who.role), "user_id",
                        (json_int_t) c->who.user_id, "tenant_id", (json_int_t) c->who.tenant_id);
}

/* GET /1.0/audit: the audit log, newest first; a tenant's owners see their
 * tenant's entries, admins and auditors everything (?tenant=N narrows).
 * ?q=WORDS keeps entries where each word is found, case aside, in who made
 * the request, its source, method, path, status, tenant or detail;
 * ?failed=1 the refused ones (status 400 and up).  Searched here, not in the
 * browser, so a search reaches entries no page has loaded. */
#define AUDIT_WORDS 6
static void audit_list(struct hd_call *c)
{
  bool everyone = c->who.role == HD_ROLE_ADMIN || c->who.role == HD_ROLE_AUDITOR;
  if (!everyone && c->who.role != HD_ROLE_OWNER) {
    hd_api_fail(c, 403, NULL, "role %s may not read the audit log", hd_role_name(c->who.role));
    return;
  }
  int64_t tenant = everyone ? 0 : c->who.tenant_id, limit = 100, before = INT64_MAX, failed = 0;
  char words[AUDIT_WORDS][128] = { "" }, key[16], val[256];
  size_t len;
  for (const char *q = c->query; hd_query_next(&q, key, sizeof key, val, sizeof val, &len);) {
    char *end;
    long long v = strtoll(val, &end, 10);
    bool num = val[0] && !*end;
    if (strcmp(key, "tenant") == 0 && everyone && num && v > 0)
      tenant = v;
    else if (strcmp(key, "limit") == 0) {
      if (!num || v < 1 || v > 1000) {
        hd_api_fail(c, 400, "limit", "limit: a number from 1 to 1000");
        return;
      }
      limit = v;
    } else if (strcmp(key, "before") == 0 && num)
      before = v;
    else if (strcmp(key, "failed") == 0)
      failed = strcmp(val, "1") == 0 || strcmp(val, "true") == 0;
    else if (strcmp(key, "q") == 0) {
      size_t n = 0;
      if (len != strlen(val)) {
        hd_api_fail(c, 400, "q", "q: at most %zu characters, and no NUL", sizeof val - 1);
        return;
      }
      for (char *save = NULL, *w = strtok_r(val, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (n == AUDIT_WORDS || strlen(w) >= sizeof words[0]) {
          hd_api_fail(c, 400, "q", "q: at most %d words of at most %zu characters", AUDIT_WORDS, sizeof words[0] - 1);
          return;
        }
        snprintf(words[n++], sizeof words[0], "%s", w);
      }
    }
  }
  sh_error e = {0};
  /* One text per entry, and each word looked for in it (an empty word matches). */
#define W(n) " AND instr(t, lower(?" #n ")) > 0"
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, &e,
    "SELECT id, at, principal, role, tenant_id, source, method, path, status, detail FROM ("
    " SELECT *, lower(principal || ' ' || role || ' ' || source || ' ' || method || ' ' || path || ' ' || status || ' ' ||"
    "  coalesce(tenant_id, '') || ' ' || coalesce(detail, '')) AS t FROM audit_log"
    " WHERE (?1 = 0 OR tenant_id = ?1) AND id < ?2 AND (?3 = 0 OR status >= 400))"
    " WHERE 1" W(5) W(6) W(7) W(8) W(9) W(10) " ORDER BY id DESC LIMIT ?4",
    "iiiitttttt", tenant, before, failed, limit, words[0], words[1], words[2], words[3], words[4], words[5]);
#undef W
  if (!s) {
    hd_api_fail(c, 500, NULL, "reading the audit log: %s", e.msg);
    return;
  }
  json_t *list = json_array();
  while (sqlite3_step(s) == SQLITE_ROW) {
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "id", (json_int_t) sqlite3_column_int64(s, 0), "at",
                          (json_int_t) sqlite3_column_int64(s, 1), "principal", sqlite3_column_text(s, 2), "role",
                          sqlite3_column_text(s, 3), "source", sqlite3_column_text(s, 5), "method", sqlite3_column_text(s, 6),
                          "path", sqlite3_column_text(s, 7), "status", sqlite3_column_int(s, 8), "detail",
                          sqlite3_column_text(s, 9));
    json_object_set_new(o, "tenant_id", sqlite3_column_type(s, 4) == SQLITE_NULL ? json_null()
                                                                                 : json_integer(sqlite3_column_int64(s, 4)));
    json_array_append_new(list, o);
  }
  c->status = 200;
  c->result = json_pack("{s:o}", "entries", list);
}

enum { ANY = 0 };
typedef void (*res_fn)(struct hd_call *, const struct hd_resource *);

/* The routes.  "#" in a pattern is a positive integer id. */
static const struct route {
  const char *method, *pattern;
  void (*fn)(struct hd_call *);
  res_fn rfn;
  const struct hd_resource *res;
  bool bodyless;      /* a POST that takes no body */
  bool raw;           /* takes an application/octet-stream body (or none) */
  bool open;          /* needs no principal (login, logout) */
} routes[] = {
  { "POST", "/1.0/auth/login", hd_login, NULL, NULL, false, false, true },
  { "POST", "/1.0/auth/logout", hd_logout, NULL, NULL, true, false, true },
  { "GET", "/1.0/auth/session", hd_session_get, NULL, NULL },
  { "PUT", "/1.0/users/#/password", hd_password_put, NULL, NULL },
  { "POST", "/1.0/users/#/totp", hd_totp_post, NULL, NULL, true },
  { "POST", "/1.0/users/#/totp/confirm", hd_totp_confirm, NULL, NULL },
  { "DELETE", "/1.0/users/#/totp", hd_totp_delete, NULL, NULL },
  { "GET", "/1.0", server_info, NULL, NULL },
  { "GET", "/1.0/audit", audit_list, NULL, NULL },
  { "GET", "/1.0/audit/report", hd_audit_get, NULL, NULL },
  { "GET", "/1.0/metrics", hd_metrics, NULL, NULL },
  { "GET", "/1.0/usage", hd_usage, NULL, NULL },
  { "GET", "/1.0/events", hd_events, NULL, NULL },
  { "POST", "/1.0/users/#/tokens", hd_token_post, NULL, NULL },
#define CRUD(path, r)                                                  \
  { "GET", "/1.0/" path, NULL, hd_res_list, &r },                      \
  { "POST", "/1.0/" path, NULL, hd_res_create, &r },                   \
  { "GET", "/1.0/" path "/#", NULL, hd_res_get, &r },                  \
  { "PATCH", "/1.0/" path "/#", NULL, hd_res_patch, &r },              \
  { "DELETE", "/1.0/" path "/#", NULL, hd_res_delete, &r }
  CRUD("plans", hd_res_plans),
  CRUD("tenants", hd_res_tenants),
  /* Images come from the pool (first start builds busybox); the API reads
   * them and edits their description. */
  { "GET", "/1.0/images", NULL, hd_res_list, &hd_res_images },
  { "GET", "/1.0/images/#", NULL, hd_res_get, &hd_res_images },
  { "PATCH", "/1.0/images/#", NULL, hd_res_patch, &hd_res_images },
  /* Users: created with an optional password (hostd/login.c). */
  { "GET", "/1.0/users", NULL, hd_res_list, &hd_res_users },
  { "POST", "/1.0/users", hd_user_create, NULL, NULL },
  { "GET", "/1.0/users/#", NULL, hd_res_get, &hd_res_users },
  { "PATCH", "/1.0/users/#", NULL, hd_res_patch, &hd_res_users },
  { "DELETE", "/1.0/users/#", NULL, hd_res_delete, &hd_res_users },
  { "GET", "/1.0/containers", NULL, hd_res_list, &hd_res_containers },
  { "POST", "/1.0/containers", hd_container_create, NULL, NULL },
  { "GET", "/1.0/containers/#", NULL, hd_res_get, &hd_res_containers },
  { "PATCH", "/1.0/containers/#", hd_container_patch, NULL, NULL },
  { "DELETE", "/1.0/containers/#", hd_container_delete, NULL, NULL },
  { "PUT", "/1.0/containers/#/state", hd_container_state, NULL, NULL },
  { "POST", "/1.0/containers/#/clone", hd_container_clone, NULL, NULL },
  { "GET", "/1.0/containers/#/logs", hd_container_logs, NULL, NULL },
  { "GET", "/1.0/containers/#/exec", hd_container_exec, NULL, NULL },
  { "GET", "/1.0/containers/#/files", hd_file_get, NULL, NULL },
  { "PUT", "/1.0/containers/#/files", hd_file_put, NULL, NULL, false, true },
  { "DELETE", "/1.0/containers/#/files", hd_file_delete, NULL, NULL },
  { "GET", "/1.0/containers/#/policy", hd_policy_get, NULL, NULL },
  { "PUT", "/1.0/containers/#/policy", hd_policy_put, NULL, NULL },
  { "GET", "/1.0/containers/#/snapshots", hd_snapshot_list, NULL, NULL },
  { "POST", "/1.0/containers/#/snapshots", hd_snapshot_create, NULL, NULL },
  { "POST", "/1.0/containers/#/snapshots/#/restore", hd_snapshot_restore, NULL, NULL, true },
  { "DELETE", "/1.0/containers/#/snapshots/#", hd_snapshot_delete, NULL, NULL },
  { "GET", "/1.0/operations", hd_operation_list, NULL, NULL },
  { "GET", "/1.0/operations/#", hd_operation_get, NULL, NULL },
  { "GET", "/1.0/operations/#/wait", hd_operation_get, NULL, NULL },
  { "GET", "/1.0/tokens", NULL, hd_res_list, &hd_res_tokens },
  { "GET", "/1.0/tokens/#", NULL, hd_res_get, &hd_res_tokens },
  { "DELETE", "/1.0/tokens/#", NULL, hd_res_delete, &hd_res_tokens },
#undef CRUD
};

size_t hd_api_route_count(void)
{
  return SH_ARRAY_SIZE(routes);
}

void hd_api_route_at(size_t i, const char **method, const char **pattern)
{
  *method = routes[i].method;
  *pattern = routes[i].pattern;
}

void hd_api_routes(FILE *f)
{
  for (size_t i = 0; i < SH_ARRAY_SIZE(routes); i++) {
    fprintf(f, "%s ", routes[i].method);
    for (const char *p = routes[i].pattern; *p; p++)
      if (*p == '#')
        fputs("{id}", f);
      else
        fputc(*p, f);
    fputc('\n', f);
  }
}

/* Whether path matches pattern; the ids in c. */
static bool match(const char *pattern, const char *path, struct hd_call *c)
{
  c->n_ids = 0;
  while (*pattern && *path) {
    if (*pattern == '#') {
      char *end;
      if (*path < '1' || *path > '9')
        return false;
      long long v = strtoll(path, &end, 10);
      if (v <= 0 || c->n_ids == (int) SH_ARRAY_SIZE(c->ids))
        return false;
      c->ids[c->n_ids++] = v;
      path = end;
      pattern++;
    } else if (*pattern++ != *path++) {
      return false;
    }
  }
  return !*pattern && (!*path || strcmp(path, "/") == 0);
}

static bool mutating(const char *method)
{
  return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* What a session (not a token) must also pass: the CSRF token on every
 * request that may change something, and TOTP enrollment first where the
 * role requires it. */
static bool session_checks(struct hd_call *c)
{
  const struct hd_principal *w = &c->who;
  if (!w->session)
    return true;
  if (mutating(c->method) && strcmp(c->method, "OPTIONS") != 0) {
    size_t n = strlen(w->csrf);
    if (!c->csrf || strlen(c->csrf) != n || n == 0 || CRYPTO_memcmp(c->csrf, w->csrf, n) != 0) {
      hd_api_fail_code(c, 403, "csrf", "X-CSRF-Token", "X-CSRF-Token: missing or not this session's CSRF token");
      return false;
    }
  }
  if (w->must_enroll) {
    char own[64];
    int n = snprintf(own, sizeof own, "/1.0/users/%lld/totp", (long long) w->user_id);
    bool allowed = strncmp(c->path, "/1.0/auth/", 10) == 0 ||
                   (strncmp(c->path, own, (size_t) n) == 0 && (!c->path[n] || strcmp(c->path + n, "/confirm") == 0));
    if (!allowed) {
      hd_api_fail_code(c, 403, "totp_enrollment_required", NULL,
                       "role %s must set up two-factor authentication first (POST %s)", hd_role_name(w->role), own);
      return false;
    }
  }
  return true;
}

/* Every mutating request, whatever its result.  A change and its entry
 * commit together (hd_api_handle), so no change goes unrecorded. */
static int audit(struct hd_call *c, sh_error *e)
{
  const char *detail = c->detail;
  json_t *err = json_object_get(c->result, "error");
  if (err)
    detail = json_string_value(json_object_get(err, "message"));
  /* The tenant the change concerns: the caller's, or the object's. */
  int64_t tenant = c->who.tenant_id ? c->who.tenant_id : c->audit_tenant;
  return hd_db_exec(c->db, e,
                     "INSERT INTO audit_log (at, principal, role, tenant_id, source, method, path, status, detail)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "ittItttit", hd_now(), c->who.name, hd_role_name(c->who.role), tenant, c->source ? c->source : "",
                     c->method, c->path, (int64_t) c->status, detail ? detail : "");
}

void hd_api_audit(struct hd_call *c)
{
  sh_error e = {0};
  if (audit(c, &e) < 0)
    sh_warn("audit log: %s %s by %s not recorded: %s", c->method, c->path, c->who.name, e.msg);
}

static void dispatch(struct hd_call *c)
{
  if (c->refuse_status) {
    hd_api_fail(c, c->refuse_status, NULL, "%s", c->refuse_msg);
    return;
  }
  bool path_known = false;
  const struct route *rt = NULL;
  for (size_t i = 0; i < SH_ARRAY_SIZE(routes) && !rt; i++)
    if (match(routes[i].pattern, c->path, c)) {
      path_known = true;
      if (strcmp(routes[i].method, c->method) == 0)
        rt = &routes[i];
    }
  if (rt && rt->open) {
    /* Logout checks a live session's CSRF token; login carries its own
     * credentials (and must work for a page that lost its token). */
    if (c->who.session && rt->fn != hd_login && !session_checks(c))
      return;
  } else if (c->who.role == HD_ROLE_NONE) {
    if (c->who.fail == HD_AUTH_EXPIRED)
      hd_api_fail_code(c, 401, "session_expired", NULL, "the session expired or was ended: log in again");
    else
      hd_api_fail(c, 401, NULL, "authentication required: a session, a bearer API token, or the admin socket as root or the admin group");
    return;
  } else if (!session_checks(c)) {
    return;
  }
  if (!rt) {
    if (path_known)
      hd_api_fail(c, 405, NULL, "%s is not allowed on %s", c->method, c->path);
    else
      hd_api_fail(c, 404, NULL, "no such resource: %s", c->path);
  } else if (c->raw && !rt->raw) {
    hd_api_fail(c, 415, NULL, "the body must be application/json");
  } else if (mutating(c->method) && strcmp(c->method, "DELETE") != 0 && !c->body && !rt->bodyless && !rt->raw) {
    hd_api_fail(c, 400, NULL, "a JSON body is expected");
  } else if (rt->fn) {
    rt->fn(c);
  } else {
    rt->rfn(c, rt->res);
  }
}

/* What no route accepts, refused before any of them runs: a body that is
 * not an object, an If-Match that is not one entity tag or "*" (a weak
 * tag is well formed but never matches: If-Match compares strongly). */
static bool well_formed(struct hd_call *c)
{
  if (c->body && !json_is_object(c->body)) {
    hd_api_fail(c, 400, NULL, "the body must be a JSON object ({...})");
    return false;
  }
  const char *m = c->if_match;
  if (m && strcmp(m, "*") != 0) {
    const char *tag = strncmp(m, "W/", 2) == 0 ? m + 2 : m;
    size_t n = strlen(tag);
    if (n < 2 || tag[0] != '"' || tag[n - 1] != '"' || memchr(tag + 1, '"', n - 2)) {
      hd_api_fail(c, 400, "If-Match", "If-Match: %.64s is not an entity tag: send the ETag as read (\"3\", quotes included) or *",
                  m);
      return false;
    }
  }
  return true;
}

/* The database could not take the call: a full disk (507) or another
 * process holding its write lock past the busy timeout (503).  Decided
 * here, from what hostd/db.c saw, whatever status the handler chose. */
static void storage_fault(struct hd_call *c, int fault)
{
  if (fault == ENOSPC)
    hd_api_fail(c, 507, NULL, "the disk of the database is full: nothing was changed; free some space and try again");
  else
    hd_api_fail(c, 503, NULL, "the database is busy (another process holds its write lock): nothing was changed; try again");
}

void hd_api_handle(struct hd_call *c)
{
  c->status = 0;
  c->result = NULL;
  c->text = NULL;
  c->audit_tenant = 0;
  c->kick = false;
  c->wait_op = 0;
  c->stream_since = 0;
  c->exec.container = 0;
  c->etag[0] = c->location[0] = 0;
  c->set_session = false;
  c->retry_after = 0;
  c->finally = NULL;
  c->failed_user = 0;
  hd_db_fault_take();   /* whatever came before (a token's last use) is not this call's */
  if (!mutating(c->method)) {
    dispatch(c);
    int fault = hd_db_fault_take();
    if (fault && c->status >= 400)
      storage_fault(c, fault);
    return;
  }
  /* A change and its audit entry commit together, or neither does; a
   * refused request is audited on its own. */
  sh_error e = {0};
  int fault = 0;
  c->login.checked = false;
  bool ok = well_formed(c);
  if (ok && strcmp(c->path, "/1.0/auth/login") == 0 && strcmp(c->method, "POST") == 0)
    hd_login_prepare(c);   /* the scrypt before the write lock, not under it */
  if (!ok) {
    /* refused: audited below */
  } else if (hd_db_begin(c->db, &e) < 0) {
    if (!(fault = hd_db_fault_take()))
      hd_api_fail(c, 503, NULL, "the database cannot take changes: %s", e.msg);
  } else {
    dispatch(c);
    if (c->status < 400 && (audit(c, &e) < 0 || hd_db_commit(c->db, &e) < 0))
      hd_api_fail(c, 503, NULL, "nothing was changed: recording it failed: %s", e.msg);
    /* A fault fails the whole call, even one its handler shrugged off:
     * SQLite may have rolled the transaction back already. */
    fault = hd_db_fault_take();
    hd_db_rollback(c->db);  /* a no-op after a commit */
    if (c->finally)
      c->finally(c);
    if (c->status < 400 && !fault) {
      if (c->kick)
        hd_worker_kick();
      return;
    }
  }
  if (fault)
    storage_fault(c, fault);
  sh_error_clear(&e);
  /* A refusal for a busy database would wait out the busy timeout again. */
  if (fault == EBUSY)
    sh_warn("audit log: %s %s by %s (%d) not recorded: the database is busy", c->method, c->path, c->who.name, c->status);
  else if (audit(c, &e) < 0)
    sh_warn("audit log: %s %s by %s (%d) not recorded: %s", c->method, c->path, c->who.name, c->status, e.msg);
}
