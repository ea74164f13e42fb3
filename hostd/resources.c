/* Plans, tenants, images, users and tokens: each a table of columns, served
 * by one set of list/get/create/patch/delete handlers that validate every
 * field by its description and authorize through hd_authorize. */
#include "resources.h"

#include "cleanup.h"
#include "db.h"
#include "jsonutil.h"
#include "log.h"
#include "tenant-cg.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  COL_REQUIRED = 1,     /* must be given on create */
  COL_MUTABLE = 2,      /* may be changed by PATCH */
  COL_READONLY = 4,     /* shown, never written through the API */
};

struct hd_column {
  const char *name;
  char type;                    /* 'i' integer, 't' text, 'b' boolean (read-only) */
  unsigned flags;
  int64_t min, max;             /* integers */
  const char *const *choices;   /* texts: the allowed values, NULL-terminated */
  const char *ref;              /* integers: an id in this table */
  const char *expr;             /* read-only ones: the SQL computing it (NULL: the column `name`) */
};

struct hd_resource {
  const char *name;             /* path segment and list key: "plans" */
  const char *singular;         /* "plan" */
  const char *table;
  const struct hd_column *cols;
  size_t n_cols;
  /* SQL for the tenant owning a row (NULL: provider-wide, e.g. plans) and
   * for the user it belongs to (NULL: none). */
  const char *tenant_expr, *self_expr;
  enum hd_access write;         /* to create, change or delete */
  enum hd_access self_access;   /* what a user may do to a row that is theirs (self_expr) */
  bool has_etag;
  /* Extra rules on a create: fails the call and returns -1. */
  int (*check_create)(struct hd_call *c, json_t *body, int64_t *tenant);
  /* What goes with a deleted row outside the database. */
  void (*after_delete)(int64_t id);
};

#define NAME_COL { "name", 't', COL_REQUIRED | COL_MUTABLE, 0, 0, NULL, NULL }
#define POS(n) { n, 'i', COL_REQUIRED | COL_MUTABLE, 1, INT64_C(1) << 40, NULL, NULL }

static const char *const net_defaults[] = { "allow", "deny", NULL };
static const char *const seccomp_profiles[] = { "default", "strict", NULL };
static const struct hd_column plan_cols[] = {
  NAME_COL,
  POS("cpu_millis"), POS("memory_mib"), POS("pids"), POS("disk_mib"), POS("bandwidth_mbit"),
  POS("max_containers"), POS("total_cpu_millis"), POS("total_memory_mib"), POS("total_disk_mib"),
  { "net_default", 't', COL_REQUIRED | COL_MUTABLE, 0, 0, net_defaults, NULL },
  { "seccomp", 't', COL_REQUIRED | COL_MUTABLE, 0, 0, seccomp_profiles, NULL },
};
const struct hd_resource hd_res_plans = {
  "plans", "plan", "plans", plan_cols, SH_ARRAY_SIZE(plan_cols), NULL, NULL, HD_ADMIN, HD_READ, true, NULL,
};

static const struct hd_column tenant_cols[] = {
  NAME_COL,
  { "plan_id", 'i', COL_REQUIRED | COL_MUTABLE, 1, INT64_MAX, NULL, "plans" },
};
/* A deleted tenant's cgroup goes too (it has no containers: the schema
 * refuses to delete a tenant that has). */
static void tenant_deleted(int64_t id)
{
  sh_error e = {0};
  if (hd_tenant_cgroup_remove(id, &e) < 0)
    sh_warn("tenant %" PRId64 ": its cgroup stays: %s: %s", id, e.path, e.msg);
}
const struct hd_resource hd_res_tenants = {
  "tenants", "tenant", "tenants", tenant_cols, SH_ARRAY_SIZE(tenant_cols), "id", NULL, HD_ADMIN, HD_READ, true, NULL,
  tenant_deleted,
};

static const struct hd_column image_cols[] = {
  /* The pool knows an image by its name: it does not change here. */
  { "name", 't', COL_REQUIRED, 0, 0, NULL, NULL },
  { "description", 't', COL_MUTABLE, 0, 0, NULL, NULL },
};
const struct hd_resource hd_res_images = {
  "images", "image", "images", image_cols, SH_ARRAY_SIZE(image_cols), NULL, NULL, HD_ADMIN, HD_READ, false, NULL,
};

static const char *const role_choices[] = { "admin", "auditor", "owner", "member", NULL };
/* Passwords and TOTP change through their own routes (hostd/login.c). */
static const struct hd_column user_cols[] = {
  { "name", 't', COL_REQUIRED, 0, 0, NULL, NULL },
  { "role", 't', COL_REQUIRED | COL_MUTABLE, 0, 0, role_choices, NULL },
  { "tenant_id", 'i', 0, 1, INT64_MAX, NULL, "tenants" },
  { "totp_enabled", 'b', COL_READONLY, 0, 0, NULL, NULL },
  { "has_password", 'b', COL_READONLY, 0, 0, NULL, NULL, "password_hash IS NOT NULL" },
  { "locked_until", 'i', COL_READONLY, 0, 0, NULL, NULL },
};
static int user_check(struct hd_call *c, json_t *body, int64_t *tenant);
const struct hd_resource hd_res_users = {
  /* Users read their own row; changing it (their role!) is for whoever manages them. */
  "users", "user", "users", user_cols, SH_ARRAY_SIZE(user_cols), "tenant_id", "id", HD_MANAGE, HD_READ, true, user_check,
};

static const char *const restart_choices[] = { "never", "on-failure", "always", NULL };
#define RO(n, t) { n, t, COL_READONLY, 0, 0, NULL, NULL }
#define SIZE(n) { n, 'i', COL_MUTABLE, 1, INT64_C(1) << 40, NULL, NULL }
static const struct hd_column container_cols[] = {
  RO("name", 't'), RO("tenant_id", 'i'), RO("image_id", 'i'), RO("state", 't'),
  /* Sizes change through hd_container_patch (the plan's checks, then live). */
  SIZE("cpu_millis"), SIZE("memory_mib"), SIZE("pids"), SIZE("disk_mib"), RO("bandwidth_mbit", 'i'),
  { "restart_policy", 't', COL_MUTABLE, 0, 0, restart_choices, NULL },
  RO("last_exit", 'i'), RO("pid", 'i'), RO("restarts", 'i'), RO("seccomp", 't'),
  /* Its addresses on the tenant's network, while it holds them. */
  { "ipv4", 't', COL_READONLY, 0, 0, NULL, NULL, "(SELECT address FROM addresses WHERE container_id = containers.id AND family = 4)" },
  { "ipv6", 't', COL_READONLY, 0, 0, NULL, NULL, "(SELECT address FROM addresses WHERE container_id = containers.id AND family = 6)" },
};
/* Created, started, stopped and deleted through operations (hostd/containers.c). */
const struct hd_resource hd_res_containers = {
  "containers", "container", "containers", container_cols, SH_ARRAY_SIZE(container_cols), "tenant_id", NULL, HD_OPERATE,
  HD_READ, true, NULL,
};

static const struct hd_column token_cols[] = {
  RO("name", 't'), RO("user_id", 'i'), RO("last_used_at", 'i'),
};
const struct hd_resource hd_res_tokens = {
  "tokens", "token", "api_tokens", token_cols, SH_ARRAY_SIZE(token_cols),
  /* Users revoke their own tokens. */
  "(SELECT tenant_id FROM users WHERE users.id = api_tokens.user_id)", "user_id", HD_MANAGE, HD_MANAGE, false, NULL,
};

/* ---- rows as JSON ---- */

/* "SELECT id, created_at[, etag], cols..., <tenant>, <self> FROM table" */
static void select_sql(const struct hd_resource *r, char *sql, size_t len)
{
  int n = snprintf(sql, len, "SELECT id, created_at, %s", r->has_etag ? "etag" : "0");
  for (size_t i = 0; i < r->n_cols; i++)
    n += snprintf(sql + n, len - (size_t) n, ", %s", r->cols[i].expr ? r->cols[i].expr : r->cols[i].name);
  snprintf(sql + n, len - (size_t) n, ", coalesce(%s, 0), coalesce(%s, 0) FROM %s", r->tenant_expr ? r->tenant_expr : "0",
           r->self_expr ? r->self_expr : "0", r->table);
}

static json_t *row_json(const struct hd_resource *r, sqlite3_stmt *s, int64_t *tenant, int64_t *self, int64_t *etag)
{
  json_t *o = json_object();
  json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
  json_object_set_new(o, "created_at", json_integer(sqlite3_column_int64(s, 1)));
  for (size_t i = 0; i < r->n_cols; i++) {
    int k = (int) i + 3;
    json_t *v = sqlite3_column_type(s, k) == SQLITE_NULL ? json_null()
                : r->cols[i].type == 'i' ? json_integer(sqlite3_column_int64(s, k))
                : r->cols[i].type == 'b' ? json_boolean(sqlite3_column_int(s, k))
                : json_string((const char *) sqlite3_column_text(s, k));
    json_object_set_new(o, r->cols[i].name, v);
  }
  int last = (int) r->n_cols + 3;
  *tenant = sqlite3_column_int64(s, last);
  *self = sqlite3_column_int64(s, last + 1);
  *etag = sqlite3_column_int64(s, 2);
  return o;
}

static bool may_see(const struct hd_call *c, const struct hd_resource *r, int64_t tenant, int64_t self, enum hd_access access,
                    bool *hide)
{
  /* What is a user's own: they read it, and do what the resource allows. */
  if (self && self == c->who.user_id && (access == HD_READ || access == r->self_access) && c->who.role != HD_ROLE_AUDITOR) {
    *hide = false;
    return true;
  }
  return hd_authorize(&c->who, access, tenant, hide);
}

/* Load one row by id into *out, checking access; fails the call on no. */
static int load(struct hd_call *c, const struct hd_resource *r, enum hd_access access, json_t **out, int64_t *tenant,
                int64_t *etag)
{
  char sql[1024];
  select_sql(r, sql, sizeof sql);
  strcat(sql, " WHERE id = ?");
  sh_error e = {0};
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, &e, sql, "i", c->ids[0]);
  int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
  int64_t self = 0, t = 0;
  bool hide = true;
  json_t *o = rc == SQLITE_ROW ? row_json(r, s, &t, &self, etag) : NULL;
  c->audit_tenant = t;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    hd_db_err(c->db, rc, &e, "read");   /* a busy database is noted for hd_api_handle */
    hd_api_fail(c, 500, NULL, "reading %s %" PRId64 ": %s", r->singular, c->ids[0], e.msg);
    return -1;
  }
  /* What a principal may not even read does not exist for it. */
  bool readable = o && may_see(c, r, t, self, HD_READ, &hide);
  if (!readable) {
    json_decref(o);
    hd_api_fail(c, 404, NULL, "no %s %" PRId64, r->singular, c->ids[0]);
    return -1;
  }
  if (access != HD_READ && !may_see(c, r, t, self, access, &hide)) {
    json_decref(o);
    hd_api_fail(c, hide ? 404 : 403, NULL, hide ? "no %s %" PRId64 : "a %s (%" PRId64 ") may not be changed by role %s",
                r->singular, c->ids[0], hd_role_name(c->who.role));
    return -1;
  }
  *out = o;
  *tenant = t;
  return 0;
}

json_t *hd_res_load(struct hd_call *c, const struct hd_resource *r, enum hd_access access, int64_t *tenant)
{
  json_t *o;
  int64_t etag;
  return load(c, r, access, &o, tenant, &etag) < 0 ? NULL : o;
}

void hd_res_get(struct hd_call *c, const struct hd_resource *r)
{
  json_t *o;
  int64_t t, etag;
  if (load(c, r, HD_READ, &o, &t, &etag) < 0)
    return;
  if (r->has_etag)
    snprintf(c->etag, sizeof c->etag, "\"%" PRId64 "\"", etag);
  c->status = 200;
  c->result = o;
}

/* A list's validator: its table's change counter (moved by triggers on
 * every change to the table, whichever connection makes it; schema 4) and
 * who asks, since what a principal sees depends only on its role, tenant
 * and user. */
static bool list_etag(struct hd_call *c, const struct hd_resource *r, char *etag, size_t len)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL, "SELECT n FROM generations WHERE name = ?", "t", r->table);
  if (!s || sqlite3_step(s) != SQLITE_ROW)
    return false;
  snprintf(etag, len, "\"%.12s.%" PRId64 ".%d.%" PRId64 ".%" PRId64 "\"", r->name, (int64_t) sqlite3_column_int64(s, 0),
           (int) c->who.role, c->who.tenant_id, c->who.user_id);
  return true;
}

/* The last few lists as sent, by entity tag and query: a list polled by
 * many clients is read and encoded once per change, not once per request. */
static struct {
  pthread_mutex_t lock;
  unsigned next;
  struct { char key[160]; char *body; size_t len; } slot[8];
} list_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void cache_key(const struct hd_call *c, const struct hd_resource *r, const char *etag, char *key, size_t len)
{
  snprintf(key, len, "%s %s?%.100s", etag, r->name, c->query ? c->query : "");
}

static bool cache_get(struct hd_call *c, const char *key)
{
  pthread_mutex_lock(&list_cache.lock);
  bool hit = false;
  for (size_t i = 0; i < SH_ARRAY_SIZE(list_cache.slot) && !hit; i++) {
    if (!list_cache.slot[i].body || strcmp(list_cache.slot[i].key, key) != 0)
      continue;
    c->text = malloc(list_cache.slot[i].len);
    if (c->text) {
      memcpy(c->text, list_cache.slot[i].body, list_cache.slot[i].len);
      c->text_len = list_cache.slot[i].len;
      c->content_type = "application/json";
      c->status = 200;
      hit = true;
    }
  }
  pthread_mutex_unlock(&list_cache.lock);
  return hit;
}

/* Encode the call's list into its text body, and keep a copy. */
static void cache_put(struct hd_call *c, const char *key)
{
  char *body = json_dumps(c->result, JSON_COMPACT);
  size_t len = body ? strlen(body) : 0;
  char *copy = body ? malloc(len + 1) : NULL;
  if (!copy) {
    free(body);
    return;   /* the call still has its result */
  }
  body[len] = 0;
  memcpy(copy, body, len);
  copy[len] = '\n';
  json_decref(c->result);
  c->result = NULL;
  c->text = copy;
  c->text_len = len + 1;
  c->content_type = "application/json";
  pthread_mutex_lock(&list_cache.lock);
  unsigned i = list_cache.next++ % SH_ARRAY_SIZE(list_cache.slot);
  free(list_cache.slot[i].body);
  snprintf(list_cache.slot[i].key, sizeof list_cache.slot[i].key, "%s", key);
  body[len] = '\n';
  list_cache.slot[i].body = body;   /* json_dumps left room for the NUL: the newline takes it */
  list_cache.slot[i].len = len + 1;
  pthread_mutex_unlock(&list_cache.lock);
}

/* Whether an If-None-Match list holds this entity tag (or is "*"). */
static bool none_match(const char *header, const char *etag)
{
  size_t n = strlen(etag);
  for (const char *p = header; p && *p;) {
    p += strspn(p, " \t,");
    if (strncmp(p, "W/", 2) == 0)
      p += 2;   /* If-None-Match compares weakly */
    if (*p == '*' || (strncmp(p, etag, n) == 0 && (p[n] == 0 || p[n] == ',' || p[n] == ' ')))
      return true;
    p = strchr(p, ',');
  }
  return false;
}

/* Lists take ?limit=N (1..1000) and ?after=ID (ids ascending); a page that
 * may not be the last one says where the next begins. */
static bool list_page(struct hd_call *c, int64_t *limit, int64_t *after)
{
  char key[16], val[24];
  size_t len;
  *limit = 0;
  *after = 0;
  for (const char *q = c->query; hd_query_next(&q, key, sizeof key, val, sizeof val, &len);) {
    int64_t *to = strcmp(key, "limit") == 0 ? limit : strcmp(key, "after") == 0 ? after : NULL;
    if (!to)
      continue;
    char *end;
    long long v = strtoll(val, &end, 10);
    if (!*val || *end || v < 0 || (to == limit && (v < 1 || v > 1000))) {
      hd_api_fail(c, 400, key, to == limit ? "limit: %.20s is not a number from 1 to 1000" : "after: %.20s is not an id", val);
      return false;
    }
    *to = v;
  }
  return true;
}

void hd_res_list(struct hd_call *c, const struct hd_resource *r)
{
  int64_t limit, after;
  if (!list_page(c, &limit, &after))
    return;
  char etag[sizeof c->etag], key[160] = "";
  if (list_etag(c, r, etag, sizeof etag)) {
    snprintf(c->etag, sizeof c->etag, "%s", etag);
    if (c->if_none_match && none_match(c->if_none_match, etag)) {
      c->status = 304;
      return;
    }
    cache_key(c, r, etag, key, sizeof key);
    if (cache_get(c, key))
      return;
  }
  char sql[1300];
  select_sql(r, sql, sizeof sql);
  sh_error e = {0};
  bool everyone = c->who.role == HD_ROLE_ADMIN || c->who.role == HD_ROLE_AUDITOR;
  _cleanup_stmt_ sqlite3_stmt *s = NULL;
  size_t n = strlen(sql);
  /* Visibility is checked row by row below, so a page can hold fewer rows
   * than the limit: it is cut by rows read, and "next" follows the last. */
  const char *page = limit ? " AND id > ? ORDER BY id LIMIT ?" : " AND id > ? ORDER BY id";
  if (r->tenant_expr && !everyone) {
    /* A tenant's users see their tenant's rows, and their own. */
    snprintf(sql + n, sizeof sql - n, " WHERE (%s = ? OR %s = ?)%s", r->tenant_expr, r->self_expr ? r->self_expr : "0", page);
    s = hd_db_query(c->db, &e, sql, limit ? "iiii" : "iii", c->who.tenant_id, c->who.user_id ? c->who.user_id : -1, after,
                    limit);
  } else {
    snprintf(sql + n, sizeof sql - n, " WHERE 1%s", page);
    s = hd_db_query(c->db, &e, sql, limit ? "ii" : "i", after, limit);
  }
  if (!s) {
    hd_api_fail(c, 500, NULL, "listing %s: %s", r->name, e.msg);
    return;
  }
  json_t *list = json_array();
  int rc;
  int64_t rows = 0, last = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t t, self, row_etag;
    bool hide;
    json_t *o = row_json(r, s, &t, &self, &row_etag);
    last = sqlite3_column_int64(s, 0);
    rows++;
    if (may_see(c, r, t, self, HD_READ, &hide))
      json_array_append_new(list, o);
    else
      json_decref(o);
  }
  if (rc != SQLITE_DONE) {
    json_decref(list);
    c->etag[0] = 0;
    hd_api_fail(c, 500, NULL, "listing %s: %s", r->name, sqlite3_errmsg(c->db));
    return;
  }
  c->status = 200;
  c->result = json_pack("{s:o}", r->name, list);
  if (limit && rows == limit) {
    char next[128];
    snprintf(next, sizeof next, "/1.0/%s?limit=%" PRId64 "&after=%" PRId64, r->name, limit, last);
    json_object_set_new(c->result, "next", json_string(next));
  }
  if (key[0])
    cache_put(c, key);
}

/* ---- writing ---- */

bool hd_name_valid(const char *t)
{
  /* Names appear in URLs, logs, metrics labels and the portal: keep them plain. */
  size_t n = strlen(t);
  bool ok = n >= 1 && n <= 63;
  for (size_t i = 0; ok && i < n; i++)
    ok = (t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || ((t[i] == '-' || t[i] == '_' || t[i] == '.') && i > 0);
  return ok;
}

/* Check one field of the body against its column; fail the call on error. */
static int check_value(struct hd_call *c, const struct hd_resource *r, const struct hd_column *col, json_t *v)
{
  if (col->type == 'i') {
    if (!json_is_integer(v)) {
      hd_api_fail(c, 400, col->name, "%s: an integer is expected", col->name);
      return -1;
    }
    int64_t x = json_integer_value(v);
    if (x < col->min || x > col->max) {
      hd_api_fail(c, 400, col->name, "%s: %" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")", col->name, x, col->min,
                  col->max);
      return -1;
    }
    if (col->ref) {
      char sql[128];
      snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE id = ?", col->ref);
      _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL, sql, "i", x);
      if (!s || sqlite3_step(s) != SQLITE_ROW) {
        hd_api_fail(c, 400, col->name, "%s: there is no %.*s %" PRId64, col->name, (int) strlen(col->ref) - 1, col->ref, x);
        return -1;
      }
    }
    return 0;
  }
  const char *t = json_string_value(v);
  if (!t) {
    hd_api_fail(c, 400, col->name, "%s: a string is expected", col->name);
    return -1;
  }
  if (col->choices) {
    for (const char *const *ch = col->choices; *ch; ch++)
      if (strcmp(*ch, t) == 0)
        return 0;
    hd_api_fail(c, 400, col->name, "%s: \"%s\" is not one of the allowed values", col->name, t);
    return -1;
  }
  if (strcmp(col->name, "name") == 0) {
    if (!hd_name_valid(t)) {
      hd_api_fail(c, 400, "name", "name: %s", HD_NAME_RULE);
      return -1;
    }
  } else if (strlen(t) > 1024) {
    hd_api_fail(c, 400, col->name, "%s: at most 1024 characters", col->name);
    return -1;
  }
  return 0;
}

static const struct hd_column *find_col(const struct hd_resource *r, const char *name)
{
  for (size_t i = 0; i < r->n_cols; i++)
    if (strcmp(r->cols[i].name, name) == 0)
      return &r->cols[i];
  return NULL;
}

/* Every key of the body is a column the call may write, with a valid value. */
static int check_body(struct hd_call *c, const struct hd_resource *r, bool creating)
{
  if (!json_is_object(c->body)) {
    hd_api_fail(c, 400, NULL, "a JSON object is expected as the body");
    return -1;
  }
  const char *k;
  json_t *v;
  json_object_foreach(c->body, k, v) {
    const struct hd_column *col = find_col(r, k);
    if (!col || (col->flags & COL_READONLY)) {
      hd_api_fail(c, 400, k, "%s: unknown field of a %s", k, r->singular);
      return -1;
    }
    if (!creating && !(col->flags & COL_MUTABLE)) {
      hd_api_fail(c, 400, k, "%s: cannot be changed after creation", k);
      return -1;
    }
    if (check_value(c, r, col, v) < 0)
      return -1;
  }
  for (size_t i = 0; creating && i < r->n_cols; i++)
    if ((r->cols[i].flags & COL_REQUIRED) && !json_object_get(c->body, r->cols[i].name)) {
      hd_api_fail(c, 400, r->cols[i].name, "%s: required", r->cols[i].name);
      return -1;
    }
  return 0;
}

/* A constraint the schema refused, as the client's error. */
static void constraint_fail(struct hd_call *c, const struct hd_resource *r, const sh_error *e)
{
  const char *m = e->msg, *p;
  if ((p = strstr(m, "UNIQUE constraint failed: "))) {
    const char *dot = strchr(p, '.');
    char field[64] = "";
    if (dot)
      snprintf(field, sizeof field, "%.*s", (int) strcspn(dot + 1, ", "), dot + 1);
    hd_api_fail(c, 409, field[0] ? field : NULL, "%s: another %s already has this value", field[0] ? field : "object",
                r->singular);
  } else if (strstr(m, "FOREIGN KEY")) {
    hd_api_fail(c, 409, NULL, "the %s is still in use by other objects", r->singular);
  } else if ((p = strstr(m, "CHECK constraint failed: "))) {
    hd_api_fail(c, 400, NULL, "invalid %s: %s", r->singular, p + strlen("CHECK constraint failed: "));
  } else {
    hd_api_fail(c, 400, NULL, "invalid %s: %s", r->singular, m);
  }
}

static int bind_json(sqlite3_stmt *s, int idx, const struct hd_column *col, json_t *v)
{
  if (json_is_null(v))
    return sqlite3_bind_null(s, idx);
  if (col->type == 'i')
    return sqlite3_bind_int64(s, idx, json_integer_value(v));
  return sqlite3_bind_text(s, idx, json_string_value(v), -1, SQLITE_TRANSIENT);
}

/* Run a write built from the body's columns; fails the call on error. */
static int run_write(struct hd_call *c, const struct hd_resource *r, const char *sql, bool with_now, int64_t id_last)
{
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
    hd_api_fail(c, 500, NULL, "preparing a %s write: %s", r->singular, sqlite3_errmsg(c->db));
    return -1;
  }
  int idx = 1;
  const char *k;
  json_t *v;
  json_object_foreach(c->body, k, v)
    bind_json(s, idx++, find_col(r, k), v);
  if (with_now)
    sqlite3_bind_int64(s, idx++, hd_now());
  if (id_last)
    sqlite3_bind_int64(s, idx, id_last);
  int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) {
    sh_error e = {0};
    hd_db_err(c->db, rc, &e, "write");
    if (e.err == EEXIST)
      constraint_fail(c, r, &e);
    else
      hd_api_fail(c, e.err == EBUSY ? 503 : 500, NULL, "writing the %s: %s", r->singular, e.msg);
    return -1;
  }
  return 0;
}

void hd_res_create(struct hd_call *c, const struct hd_resource *r)
{
  if (check_body(c, r, true) < 0)
    return;
  int64_t tenant = 0;
  json_t *tj = r->tenant_expr && strcmp(r->tenant_expr, "tenant_id") == 0 ? json_object_get(c->body, "tenant_id") : NULL;
  if (tj)
    tenant = json_integer_value(tj);
  if (r->check_create && r->check_create(c, c->body, &tenant) < 0)
    return;
  bool hide;
  if (!hd_authorize(&c->who, r->write, tenant, &hide)) {
    if (hide)
      hd_api_fail(c, 404, "tenant_id", "tenant_id: there is no tenant %" PRId64, tenant);
    else
      hd_api_fail(c, 403, NULL, "role %s may not create a %s", hd_role_name(c->who.role), r->singular);
    return;
  }
  char sql[1024], vals[256] = "";
  int n = snprintf(sql, sizeof sql, "INSERT INTO %s (", r->table);
  const char *k;
  json_t *v;
  json_object_foreach(c->body, k, v) {
    n += snprintf(sql + n, sizeof sql - (size_t) n, "%s, ", k);
    strcat(vals, "?, ");
  }
  snprintf(sql + n, sizeof sql - (size_t) n, "created_at) VALUES (%s?)", vals);
  if (run_write(c, r, sql, true, 0) < 0)
    return;
  c->ids[0] = sqlite3_last_insert_rowid(c->db);
  hd_res_get(c, r);
  if (c->status == 200) {
    c->status = 201;
    snprintf(c->location, sizeof c->location, "/1.0/%s/%" PRId64, r->name, c->ids[0]);
  }
}

/* If-Match, when given, must name the current version. */
static int check_etag(struct hd_call *c, const struct hd_resource *r, int64_t etag)
{
  if (!c->if_match || !r->has_etag || strcmp(c->if_match, "*") == 0)
    return 0;
  char cur[32];
  snprintf(cur, sizeof cur, "\"%" PRId64 "\"", etag);
  if (strcmp(c->if_match, cur) == 0)
    return 0;
  hd_api_fail(c, 412, NULL, "the %s changed since %s (now %s): read it again", r->singular, c->if_match, cur);
  return -1;
}

void hd_res_patch(struct hd_call *c, const struct hd_resource *r)
{
  json_t *o;
  int64_t t, etag;
  if (load(c, r, r->write, &o, &t, &etag) < 0)
    return;
  json_decref(o);
  if (check_etag(c, r, etag) < 0 || check_body(c, r, false) < 0)
    return;
  if (json_object_size(c->body) == 0) {
    hd_res_get(c, r);
    return;
  }
  if (r == &hd_res_users && json_object_get(c->body, "role")) {
    /* A role change must keep the user's tenant consistent and within the caller's reach. */
    json_t *body = json_pack("{s:O, s:I}", "role", json_object_get(c->body, "role"), "tenant_id", (json_int_t) t);
    if (!t)
      json_object_del(body, "tenant_id");
    int64_t tt = t;
    int rr = user_check(c, body, &tt);
    json_decref(body);
    if (rr < 0)
      return;
  }
  char sql[1024];
  int n = snprintf(sql, sizeof sql, "UPDATE %s SET ", r->table);
  const char *k;
  json_t *v;
  json_object_foreach(c->body, k, v)
    n += snprintf(sql + n, sizeof sql - (size_t) n, "%s = ?, ", k);
  /* The version moves with every change (If-Match compares it). */
  snprintf(sql + n - 2, sizeof sql - (size_t) n + 2, "%s WHERE id = ?", r->has_etag ? ", etag = etag + 1" : "");
  if (run_write(c, r, sql, false, c->ids[0]) < 0)
    return;
  hd_res_get(c, r);
}

void hd_res_delete(struct hd_call *c, const struct hd_resource *r)
{
  json_t *o;
  int64_t t, etag;
  if (load(c, r, r->write, &o, &t, &etag) < 0)
    return;
  json_decref(o);
  if (check_etag(c, r, etag) < 0)
    return;
  if (r == &hd_res_users && c->ids[0] == c->who.user_id) {
    hd_api_fail(c, 409, NULL, "a user cannot delete themselves");
    return;
  }
  char sql[128];
  snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = ?", r->table);
  sh_error e = {0};
  int rr = hd_db_exec(c->db, &e, sql, "i", c->ids[0]);
  if (rr < 0) {
    if (e.err == EEXIST)
      constraint_fail(c, r, &e);
    else
      hd_api_fail(c, 500, NULL, "deleting the %s: %s", r->singular, e.msg);
    return;
  }
  if (r->after_delete)
    r->after_delete(c->ids[0]);
  c->status = 204;
}

/* ---- users and tokens ---- */

static int user_check(struct hd_call *c, json_t *body, int64_t *tenant)
{
  enum hd_role role = hd_role_parse(json_string_value(json_object_get(body, "role")));
  bool tenant_role = role == HD_ROLE_OWNER || role == HD_ROLE_MEMBER;
  json_t *tj = json_object_get(body, "tenant_id");
  if (tenant_role && !tj && c->who.tenant_id) {
    /* An owner adds users to their own tenant. */
    json_object_set_new(body, "tenant_id", json_integer(c->who.tenant_id));
    *tenant = c->who.tenant_id;
    tj = json_object_get(body, "tenant_id");
  }
  if (tenant_role != (tj != NULL)) {
    hd_api_fail(c, 400, "tenant_id", tenant_role ? "tenant_id: owners and members belong to a tenant"
                                                 : "tenant_id: admins and auditors belong to no tenant");
    return -1;
  }
  if (!tenant_role && c->who.role != HD_ROLE_ADMIN) {
    hd_api_fail(c, 403, "role", "role: only a provider admin grants %s", hd_role_name(role));
    return -1;
  }
  return 0;
}

void hd_token_post(struct hd_call *c)
{
  json_t *o;
  int64_t t, etag;
  if (load(c, &hd_res_users, HD_READ, &o, &t, &etag) < 0)
    return;
  json_decref(o);
  /* Your own tokens, or as whoever manages the user's tenant. */
  bool hide;
  if (c->ids[0] != c->who.user_id && !hd_authorize(&c->who, t ? HD_MANAGE : HD_ADMIN, t, &hide)) {
    if (hide)
      hd_api_fail(c, 404, NULL, "no user %" PRId64, c->ids[0]);
    else
      hd_api_fail(c, 403, NULL, "role %s may not create tokens for user %" PRId64, hd_role_name(c->who.role), c->ids[0]);
    return;
  }
  static const char *const keys[] = { "name", NULL };
  sh_error e = {0};
  const char *name = NULL;
  if (!json_is_object(c->body) || sh_json_check_keys(c->body, keys, NULL, &e) < 0 ||
      sh_json_get_str(c->body, "name", NULL, &name, &e) < 0 || !name || !hd_name_valid(name)) {
    hd_api_fail(c, 400, e.path[0] ? e.path : "name", "%s: %s", e.path[0] ? e.path : "name", e.msg[0] ? e.msg : HD_NAME_RULE);
    return;
  }
  char secret[64];
  int64_t id;
  if (hd_token_create(c->db, c->ids[0], name, secret, &id, &e) < 0) {
    if (e.err == EEXIST)
      hd_api_fail(c, 409, "name", "name: user %" PRId64 " already has a token named \"%s\"", c->ids[0], name);
    else
      hd_api_fail(c, 500, NULL, "creating the token: %s", e.msg);
    return;
  }
  c->status = 201;
  c->result = json_pack("{s:I, s:s, s:I, s:s, s:s}", "id", (json_int_t) id, "name", name, "user_id", (json_int_t) c->ids[0],
                        "token", secret, "note", "shown once: only its hash is stored");
  snprintf(c->location, sizeof c->location, "/1.0/tokens/%" PRId64, id);
}
