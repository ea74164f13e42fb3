/* Containers and operations over the API: creating, changing state and
 * deleting a container queue an operation (202 Accepted, with its URL);
 * the worker (hostd/ops.c) carries it out.  Plan sizes and tenant totals
 * are checked here, in the same transaction that records the container. */
#include "containers.h"

#include "alloc.h"
#include "cleanup.h"
#include "db.h"
#include "jsonutil.h"
#include "ctpolicy.h"
#include "files.h"
#include "netpolicy.h"
#include "network.h"
#include "ops.h"
#include "resources.h"
#include "sshkeys.h"
#include "tenant-cg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static struct hd_id_range host_ids;
static const struct hd_config *cfg;
static struct hd_host *host;

void hd_containers_init(const struct hd_config *config, struct hd_host *h)
{
  cfg = config;
  host = h;
  host_ids = (struct hd_id_range){ config->idmap_start, config->idmap_count };
  hd_files_init(h);
}

/* 202 with the operation, and where to follow it. */
static void accepted(struct hd_call *c, int64_t op)
{
  int64_t t;
  c->status = 202;
  c->result = json_pack("{s:o}", "operation", hd_op_json(c->db, op, &t));
  snprintf(c->location, sizeof c->location, "/1.0/operations/%" PRId64, op);
  c->kick = true;
}

/* Queue an operation on container ids[0] and answer 202 with it. */
static void queue(struct hd_call *c, int64_t tenant, const char *kind, json_t *args)
{
  sh_error e = {0};
  int64_t op;
  if (hd_op_queue(c->db, tenant, c->ids[0], kind, args, &op, &e) < 0) {
    hd_api_fail(c, 500, NULL, "%s: %s", e.step, e.msg);
    return;
  }
  accepted(c, op);
}

/* Whether the caller may do `access` to container ids[0] (the call fails
 * when not); its tenant in *tenant. */
static bool container_access(struct hd_call *c, enum hd_access access, int64_t *tenant)
{
  json_t *o = hd_res_load(c, &hd_res_containers, access, tenant);
  json_decref(o);
  return o != NULL;
}

/* A container's sizes, in this order everywhere. */
static const char *const size_keys[] = { "cpu_millis", "memory_mib", "pids", "disk_mib", "bandwidth_mbit" };
enum { N_SIZES = 5 };

/* The sizes a container gets: those the body asks for, else base's (NULL:
 * the plan's).  Each asked for is within the plan's per-container size, and
 * with the tenant's other containers within its totals; a new container
 * (container 0) must also fit in max_containers.  On no the call fails
 * (400 for a value that is no size, 422 naming the field and the numbers). */
static bool plan_sizes(struct hd_call *c, int64_t tenant, int64_t container, const int64_t *base, int64_t size[N_SIZES])
{
  sh_error e = {0};
  _cleanup_stmt_ sqlite3_stmt *p = hd_db_query(c->db, &e,
    "SELECT p.cpu_millis, p.memory_mib, p.pids, p.disk_mib, p.bandwidth_mbit, p.max_containers, p.total_cpu_millis,"
    " p.total_memory_mib, p.total_disk_mib, p.name,"
    " (SELECT count(*) FROM containers WHERE tenant_id = t.id AND id != ?1),"
    " (SELECT coalesce(sum(cpu_millis), 0) FROM containers WHERE tenant_id = t.id AND id != ?1),"
    " (SELECT coalesce(sum(memory_mib), 0) FROM containers WHERE tenant_id = t.id AND id != ?1),"
    " (SELECT coalesce(sum(disk_mib), 0) FROM containers WHERE tenant_id = t.id AND id != ?1)"
    " FROM tenants t JOIN plans p ON p.id = t.plan_id WHERE t.id = ?2", "ii", container, tenant);
  if (!p || sqlite3_step(p) != SQLITE_ROW) {
    hd_api_fail(c, 404, "tenant_id", "tenant_id: there is no tenant %" PRId64, tenant);
    return false;
  }
  const char *plan = (const char *) sqlite3_column_text(p, 9);
  for (int i = 0; i < N_SIZES; i++) {
    int64_t most = sqlite3_column_int64(p, i);
    size[i] = base ? base[i] : most;
    json_t *v = json_object_get(c->body, size_keys[i]);
    if (!v)
      continue;
    if (!json_is_integer(v)) {
      hd_api_fail(c, 400, size_keys[i], "%s: an integer is expected", size_keys[i]);
      return false;
    }
    if (json_integer_value(v) < 1 || json_integer_value(v) > most) {
      hd_api_fail(c, 422, size_keys[i], "%s: 1 to %" PRId64 " on plan %s", size_keys[i], most, plan);
      return false;
    }
    size[i] = json_integer_value(v);
  }
  int64_t count = sqlite3_column_int64(p, 10), max = sqlite3_column_int64(p, 5);
  if (!container && count >= max) {
    hd_api_fail(c, 422, NULL, "the tenant has %" PRId64 " of the %" PRId64 " containers its plan %s allows", count, max, plan);
    return false;
  }
  static const struct { int size, total, used; } totals[] = { { 0, 6, 11 }, { 1, 7, 12 }, { 3, 8, 13 } };
  for (size_t i = 0; i < SH_ARRAY_SIZE(totals); i++) {
    const char *what = size_keys[totals[i].size];
    int64_t used = sqlite3_column_int64(p, totals[i].used), total = sqlite3_column_int64(p, totals[i].total);
    /* A change is held to the totals only in what it changes. */
    if ((!container || json_object_get(c->body, what)) && used + size[totals[i].size] > total) {
      hd_api_fail(c, 422, what, "%s: %" PRId64 " more would exceed the tenant's total of %" PRId64 " (%" PRId64 " in use)", what,
                  size[totals[i].size], total, used);
      return false;
    }
  }
  return true;
}

/* The body of a new container: only `keys`, a valid name and restart
 * policy (*restart keeps its default when not given).  False when the call
 * failed. */
static bool new_body(struct hd_call *c, const char *const *keys, const char **name, const char **restart)
{
  sh_error e = {0};
  if (!json_is_object(c->body) || sh_json_check_keys(c->body, keys, NULL, &e) < 0 ||
      sh_json_get_str(c->body, "name", NULL, name, &e) < 0 || sh_json_get_str(c->body, "restart_policy", NULL, restart, &e) < 0) {
    hd_api_fail(c, 400, e.path, "%s: %s", e.path, e.msg);
    return false;
  }
  if (!*name || !hd_name_valid(*name)) {
    hd_api_fail(c, 400, "name", "name: %s", *name ? HD_NAME_RULE : "required");
    return false;
  }
  if (strcmp(*restart, "never") && strcmp(*restart, "on-failure") && strcmp(*restart, "always")) {
    hd_api_fail(c, 400, "restart_policy", "restart_policy: never, on-failure or always");
    return false;
  }
  return true;
}

/* Record a new container of the tenant with its own id range, MCS pair and
 * addresses, and queue the operation (kind, args) that makes its volume:
 * 202.  All in the call's transaction. */
static void provision_new(struct hd_call *c, int64_t tenant, const char *name, int64_t image_id, const int64_t size[N_SIZES],
                          const char *restart, const char *seccomp, const char *kind, json_t *args)
{
  sh_error e = {0};
  int r = hd_db_exec(c->db, &e,
                     "INSERT INTO containers (tenant_id, name, image_id, state, cpu_millis, memory_mib, pids, disk_mib,"
                     " bandwidth_mbit, restart_policy, seccomp, created_at) VALUES (?, ?, ?, 'creating', ?, ?, ?, ?, ?, ?, ?, ?)",
                     "itIiiiiitti", tenant, name, image_id, size[0], size[1], size[2], size[3], size[4], restart, seccomp, hd_now());
  if (r < 0) {
    if (strstr(e.msg, "UNIQUE"))
      hd_api_fail(c, 409, "name", "name: the tenant already has a container named \"%s\"", name);
    else
      hd_api_fail(c, 400, NULL, "invalid container: %s", e.msg);
    return;
  }
  int64_t id = sqlite3_last_insert_rowid(c->db), op;
  uint32_t start;
  int c1, c2;
  if ((r = hd_alloc_idmap(c->db, id, &host_ids, &start, &e)) < 0 || (r = hd_alloc_mcs(c->db, id, &c1, &c2, &e)) < 0 ||
      (r = hd_net_assign(c->db, cfg, tenant, id, &e)) < 0 || (r = hd_op_queue(c->db, tenant, id, kind, args, &op, &e)) < 0) {
    hd_api_fail(c, r == -ENOSPC ? 503 : 500, NULL, "%s: %s", e.step, e.msg);
    return;
  }
  c->audit_tenant = tenant;
  accepted(c, op);
}

void hd_container_create(struct hd_call *c)
{
  static const char *const keys[] = { "name", "image", "tenant_id", "cpu_millis", "memory_mib", "pids", "disk_mib",
                                      "bandwidth_mbit", "restart_policy", "seccomp", "ssh_authorized_keys", NULL };
  sh_error e = {0};
  const char *name = NULL, *image = "busybox", *restart = "never", *seccomp = NULL, *ssh_keys = NULL;
  int64_t tenant = c->who.tenant_id;
  if (!new_body(c, keys, &name, &restart))
    return;
  if (sh_json_get_str(c->body, "image", NULL, &image, &e) < 0 || sh_json_get_i64(c->body, "tenant_id", NULL, &tenant, &e) < 0 ||
      sh_json_get_str(c->body, "seccomp", NULL, &seccomp, &e) < 0 ||
      sh_json_get_str(c->body, "ssh_authorized_keys", NULL, &ssh_keys, &e) < 0) {
    hd_api_fail(c, 400, e.path, "%s: %s", e.path, e.msg);
    return;
  }
  /* The keys travel in the operation's arguments; the audit says how many. */
  _cleanup_free_ char *normal = NULL;
  int n_keys = 0;
  if (ssh_keys && hd_ssh_keys_check(ssh_keys, &normal, &n_keys, &e) < 0) {
    hd_api_fail(c, 400, "ssh_authorized_keys", "ssh_authorized_keys: %s", e.msg);
    return;
  }
  /* A tenant may narrow its plan's profile; only a provider admin may turn
   * it off, to debug (the audit reports such a container as a finding). */
  if (seccomp && strcmp(seccomp, "default") && strcmp(seccomp, "strict") && strcmp(seccomp, "unconfined")) {
    hd_api_fail(c, 400, "seccomp", "seccomp: default, strict or (provider admins, to debug) unconfined");
    return;
  }
  if (seccomp && strcmp(seccomp, "unconfined") == 0 && c->who.role != HD_ROLE_ADMIN) {
    hd_api_fail(c, 403, "seccomp", "seccomp: only a provider admin may create a container without seccomp");
    return;
  }
  bool hide;
  if (!tenant) {
    hd_api_fail(c, 400, "tenant_id", "tenant_id: required for a provider admin");
    return;
  }
  if (!hd_authorize(&c->who, HD_OPERATE, tenant, &hide)) {
    if (hide)
      hd_api_fail(c, 404, "tenant_id", "tenant_id: there is no tenant %" PRId64, tenant);
    else
      hd_api_fail(c, 403, NULL, "role %s may not create containers", hd_role_name(c->who.role));
    return;
  }
  int64_t size[N_SIZES];
  if (!plan_sizes(c, tenant, 0, NULL, size))
    return;
  _cleanup_stmt_ sqlite3_stmt *img = hd_db_query(c->db, &e, "SELECT id FROM images WHERE name = ?", "t", image);
  if (!img || sqlite3_step(img) != SQLITE_ROW) {
    hd_api_fail(c, 400, "image", "image: there is no image \"%s\"", image);
    return;
  }
  int64_t image_id = sqlite3_column_int64(img, 0);
  sqlite3_reset(img);
  _cleanup_json_ json_t *args = n_keys ? json_pack("{s:s}", "ssh_authorized_keys", normal) : NULL;
  provision_new(c, tenant, name, image_id, size, restart, seccomp, "create", args);
  if (c->status == 202 && n_keys)
    snprintf(c->detail, sizeof c->detail, "with %d SSH key%s", n_keys, n_keys == 1 ? "" : "s");
}

/* The container, with the caller allowed to operate it; 0 on failure. */
static int64_t operable(struct hd_call *c, char state[16])
{
  int64_t tenant;
  json_t *o = hd_res_load(c, &hd_res_containers, HD_OPERATE, &tenant);
  if (!o)
    return 0;
  snprintf(state, 16, "%s", json_string_value(json_object_get(o, "state")));
  json_decref(o);
  int64_t busy = hd_op_busy(c->db, c->ids[0]);
  /* A clone pending from it reads its volume: that counts too. */
  _cleanup_stmt_ sqlite3_stmt *s = busy ? NULL : hd_db_query(c->db, NULL,
    "SELECT id FROM operations WHERE kind = 'clone' AND status IN ('pending', 'running') AND json_extract(args, '$.source') = ?"
    " LIMIT 1", "i", c->ids[0]);
  if (s && sqlite3_step(s) == SQLITE_ROW)
    busy = sqlite3_column_int64(s, 0);
  if (busy) {
    hd_api_fail(c, 409, NULL, "container %" PRId64 " has operation %" PRId64 " in progress: wait for it (/1.0/operations/%" PRId64
                "/wait)", c->ids[0], busy, busy);
    return 0;
  }
  return tenant;
}

/* The arguments of a rebuild: the image asked for (or the container's
 * own) and the one it has now, for the compensation; NULL when the call
 * failed. */
static json_t *rebuild_args(struct hd_call *c, const char *image)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL,
    "SELECT i.name FROM containers c LEFT JOIN images i ON i.id = c.image_id WHERE c.id = ?", "i", c->ids[0]);
  const char *now = s && sqlite3_step(s) == SQLITE_ROW ? (const char *) sqlite3_column_text(s, 0) : NULL;
  if (!image && !now) {
    hd_api_fail(c, 400, "image", "image: container %" PRId64 " has no image of its own to rebuild from: name one", c->ids[0]);
    return NULL;
  }
  _cleanup_stmt_ sqlite3_stmt *img = hd_db_query(c->db, NULL, "SELECT 1 FROM images WHERE name = ?", "t", image ? image : now);
  if (!img || sqlite3_step(img) != SQLITE_ROW) {
    hd_api_fail(c, 400, "image", "image: there is no image \"%s\"", image ? image : now);
    return NULL;
  }
  return json_pack("{s:s, s:s?}", "image", image ? image : now, "old_image", now);
}

void hd_container_state(struct hd_call *c)
{
  static const char *const keys[] = { "action", "timeout", "image", NULL };
  sh_error e = {0};
  const char *action = NULL, *image = NULL;
  int64_t timeout = -1;
  if (!json_is_object(c->body) || sh_json_check_keys(c->body, keys, NULL, &e) < 0 ||
      sh_json_get_str(c->body, "action", NULL, &action, &e) < 0 || sh_json_get_i64(c->body, "timeout", NULL, &timeout, &e) < 0 ||
      sh_json_get_str(c->body, "image", NULL, &image, &e) < 0) {
    hd_api_fail(c, 400, e.path, "%s: %s", e.path, e.msg);
    return;
  }
  /* Which actions each state allows. */
  static const struct { const char *action, *from; } allowed[] = {
    { "start", "stopped" }, { "stop", "running" }, { "restart", "running" }, { "stop", "error" }, { "rebuild", "stopped" },
  };
  bool known = false;
  for (size_t i = 0; action && i < SH_ARRAY_SIZE(allowed); i++)
    known |= strcmp(allowed[i].action, action) == 0;
  if (!known) {
    hd_api_fail(c, 400, "action", "action: start, stop, restart or rebuild");
    return;
  }
  bool rebuild = strcmp(action, "rebuild") == 0;
  if (timeout < -1 || timeout > 3600 || (rebuild && timeout >= 0)) {
    hd_api_fail(c, 400, "timeout", rebuild ? "timeout: not for a rebuild" : "timeout: 0 to 3600 seconds");
    return;
  }
  if (image && !rebuild) {
    hd_api_fail(c, 400, "image", "image: only for a rebuild");
    return;
  }
  char state[16];
  int64_t tenant = operable(c, state);
  if (!tenant)
    return;
  bool ok = false;
  for (size_t i = 0; i < SH_ARRAY_SIZE(allowed); i++)
    ok |= strcmp(allowed[i].action, action) == 0 && strcmp(allowed[i].from, state) == 0;
  if (!ok) {
    hd_api_fail(c, 409, "action", "cannot %s a container that is %s%s", action, state, rebuild ? " (stop it first)" : "");
    return;
  }
  _cleanup_json_ json_t *args = timeout >= 0 ? json_pack("{s:I}", "timeout", (json_int_t) timeout) : NULL;
  if (rebuild && !(args = rebuild_args(c, image)))
    return;
  /* Stopped by hand: the restart policy waits for the next start. */
  if (strcmp(action, "stop") == 0)
    hd_db_exec(c->db, &e, "UPDATE containers SET restart_at = NULL, restarts = 0 WHERE id = ?", "i", c->ids[0]);
  queue(c, tenant, action, args);
}

/* operable(), and the container's sizes, image (0: none) and restart policy. */
static int64_t operable_row(struct hd_call *c, char state[16], int64_t size[N_SIZES], int64_t *image_id, char restart[16])
{
  int64_t tenant = operable(c, state);
  if (!tenant)
    return 0;
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL,
    "SELECT cpu_millis, memory_mib, pids, disk_mib, bandwidth_mbit, coalesce(image_id, 0), restart_policy FROM containers"
    " WHERE id = ?", "i", c->ids[0]);
  if (!s || sqlite3_step(s) != SQLITE_ROW) {
    hd_api_fail(c, 500, NULL, "reading container %" PRId64 ": %s", c->ids[0], sqlite3_errmsg(c->db));
    return 0;
  }
  for (int i = 0; i < N_SIZES; i++)
    size[i] = sqlite3_column_int64(s, i);
  *image_id = sqlite3_column_int64(s, 5);
  snprintf(restart, 16, "%s", sqlite3_column_text(s, 6));
  return tenant;
}

/* ---- clone ---- */

/* POST /1.0/containers/#/clone: a new container of the same tenant from a
 * stopped container's volume, with an identity of its own. */
void hd_container_clone(struct hd_call *c)
{
  static const char *const keys[] = { "name", "cpu_millis", "memory_mib", "pids", "disk_mib", "bandwidth_mbit", "restart_policy",
                                      NULL };
  char state[16], source_restart[16];
  int64_t base[N_SIZES], size[N_SIZES], image_id;
  int64_t tenant = operable_row(c, state, base, &image_id, source_restart);
  if (!tenant)
    return;
  const char *name = NULL, *restart = source_restart;
  if (!new_body(c, keys, &name, &restart))
    return;
  if (strcmp(state, "stopped") != 0) {
    hd_api_fail(c, 409, NULL, "container %" PRId64 " is %s: clone a stopped container", c->ids[0], state);
    return;
  }
  /* The source's sizes, or others asked for; a new container for the plan. */
  if (!plan_sizes(c, tenant, 0, base, size))
    return;
  _cleanup_json_ json_t *args = json_pack("{s:I}", "source", (json_int_t) c->ids[0]);
  /* A clone runs under its plan's profile, whatever its source had. */
  provision_new(c, tenant, name, image_id, size, restart, NULL, "clone", args);
}

/* ---- sizes, live ---- */

/* A container's sizes into its kernel objects: the cgroup's limits when it
 * has one (running), the volume's quota when disk_mib changed.  On failure
 * what was set goes back to `was`, as far as it can. */
static int apply_sizes(int64_t tenant, int64_t id, const int64_t was[N_SIZES], const int64_t now[N_SIZES], sh_error *e)
{
  char ref[24];
  hd_container_ref(id, ref);
  if (now[3] != was[3]) {
    if (!host || !host->pool)
      return sh_err(e, EAGAIN, "set disk quota", ref, "the storage pool is not open in this process");
    int r = sbx_volume_set_quota(host->pool, ref, (uint64_t) now[3] << 20, e);
    if (r < 0)
      return r;
  }
  struct hd_tenant_limits l = { now[0], now[1], now[2] };
  int r = hd_container_cgroup_apply(tenant, id, &l, e);
  if (r == -ENOENT) {   /* not running: its next start takes the sizes */
    sh_error_clear(e);
    return 0;
  }
  if (r < 0) {
    sh_error ig = {0};
    hd_container_cgroup_apply(tenant, id, &(struct hd_tenant_limits){ was[0], was[1], was[2] }, &ig);
    if (now[3] != was[3])
      sbx_volume_set_quota(host->pool, ref, (uint64_t) was[3] << 20, &ig);
  }
  return r;
}

void hd_container_patch(struct hd_call *c)
{
  bool sizes = false;
  for (int i = 0; i < N_SIZES; i++)
    sizes |= json_object_get(c->body, size_keys[i]) != NULL;
  if (!sizes) {   /* the restart policy (and the refusals of the generic patch) */
    hd_res_patch(c, &hd_res_containers);
    return;
  }
  char state[16], restart[16];
  int64_t was[N_SIZES], now[N_SIZES], image_id;
  int64_t tenant = operable_row(c, state, was, &image_id, restart);
  if (!tenant)
    return;
  if (!plan_sizes(c, tenant, c->ids[0], was, now))
    return;
  /* The row first (its checks, If-Match), then the kernel; a refusal there
   * fails the call, and the row's change is rolled back with it. */
  hd_res_patch(c, &hd_res_containers);
  sh_error e = {0};
  if (c->status == 200 && apply_sizes(tenant, c->ids[0], was, now, &e) < 0)
    hd_api_fail(c, e.err == EAGAIN ? 503 : e.err == EBUSY || e.err == EINVAL ? 409 : 500, NULL,
                "the container's limits stay as they were: %s: %s: %s", e.step, e.path, e.msg);
  if (c->status == 200)
    snprintf(c->detail, sizeof c->detail, "sizes: cpu_millis %" PRId64 ", memory_mib %" PRId64 ", pids %" PRId64 ", disk_mib %" PRId64
             " (%s)", now[0], now[1], now[2], now[3], strcmp(state, "running") == 0 ? "live" : "at the next start");
}

void hd_container_delete(struct hd_call *c)
{
  char state[16];
  int64_t tenant = operable(c, state);
  if (!tenant)
    return;
  if (strcmp(state, "creating") == 0 || strcmp(state, "deleting") == 0) {
    hd_api_fail(c, 409, NULL, "the container is %s", state);
    return;
  }
  queue(c, tenant, "delete", NULL);
}

/* ---- logs ---- */

/* GET /1.0/containers/#/logs[?lines=N]: the container's stdout and stderr
 * (its console.log), the last N lines (default 1000), at most 1 MiB. */
void hd_container_logs(struct hd_call *c)
{
  int64_t tenant;
  if (!container_access(c, HD_READ, &tenant))
    return;
  long long lines = 1000;
  if (c->query && (sscanf(c->query, "lines=%lld", &lines) != 1 || lines < 1 || lines > 100000)) {
    hd_api_fail(c, 400, "lines", "lines: 1 to 100000 (the only parameter)");
    return;
  }
  char path[400];
  snprintf(path, sizeof path, "%s/bundles/c%" PRId64 "/console.log", cfg->state_dir, c->ids[0]);
  _cleanup_fclose_ FILE *f = fopen(path, "re");
  char *text = NULL;
  size_t len = 0;
  if (f) {
    enum { MAX = 1 << 20 };
    fseeko(f, 0, SEEK_END);
    off_t size = ftello(f), from = size > MAX ? size - MAX : 0;
    fseeko(f, from, SEEK_SET);
    text = malloc(MAX + 1);
    len = text ? fread(text, 1, MAX, f) : 0;
    if (text)
      text[len] = 0;
  }
  if (!text)
    text = strdup("");
  /* Keep the last `lines` lines. */
  char *start = text + len;
  for (long long n = 0; start > text;) {
    if (start[-1] == '\n' && start != text + len && ++n == lines)
      break;
    start--;
  }
  memmove(text, start, strlen(start) + 1);
  c->status = 200;
  c->text = text;
  c->content_type = "text/plain; charset=utf-8";
}

/* ---- exec ---- */

/* GET /1.0/containers/#/exec?command=...&tty=0|1&cols=N&rows=N: checks here;
 * the transport upgrades to a websocket and runs the command (hostd/exec-ws.c). */
void hd_container_exec(struct hd_call *c)
{
  int64_t tenant;
  json_t *o = hd_res_load(c, &hd_res_containers, HD_OPERATE, &tenant);
  if (!o)
    return;
  const char *state = json_string_value(json_object_get(o, "state"));
  bool running = state && strcmp(state, "running") == 0;
  json_decref(o);
  if (!running) {
    hd_api_fail(c, 409, NULL, "container %" PRId64 " is not running", c->ids[0]);
    return;
  }
  c->exec.tty = true;
  c->exec.cols = 80;
  c->exec.rows = 24;
  c->exec.command[0] = 0;
  char key[16], val[sizeof c->exec.command];
  size_t len;
  for (const char *q = c->query; hd_query_next(&q, key, sizeof key, val, sizeof val, &len);) {
    unsigned v;
    char end;
    bool num = sscanf(val, "%u%c", &v, &end) == 1;
    if (strcmp(key, "command") == 0 && len == strlen(val))
      memcpy(c->exec.command, val, len + 1);
    else if (strcmp(key, "tty") == 0 && num && v <= 1)
      c->exec.tty = v;
    else if (strcmp(key, "cols") == 0 && num && v >= 1 && v <= 1000)
      c->exec.cols = v;
    else if (strcmp(key, "rows") == 0 && num && v >= 1 && v <= 1000)
      c->exec.rows = v;
    else {
      hd_api_fail(c, 400, key, "bad query parameter \"%s\" (command, tty=0|1, cols and rows 1..1000)", key);
      return;
    }
  }
  c->exec.container = c->ids[0];
  c->audit_tenant = tenant;
  c->status = 101;
}

/* ---- network policy ---- */

void hd_policy_get(struct hd_call *c)
{
  int64_t tenant;
  if (!container_access(c, HD_READ, &tenant))
    return;
  _cleanup_free_ char *text = NULL;
  sh_error e = {0};
  if (hd_policy_text(c->db, c->ids[0], &text, &e) < 0) {
    hd_api_fail(c, 500, NULL, "%s: %s", e.step, e.msg);
    return;
  }
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL, "SELECT policy IS NULL FROM containers WHERE id = ?", "i", c->ids[0]);
  bool dflt = s && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0);
  c->status = 200;
  c->result = json_pack("{s:s, s:b}", "policy", text, "plan_default", dflt);
}

/* Store a new policy (null: back to the plan's default); a running
 * container gets it live through an operation. */
void hd_policy_put(struct hd_call *c)
{
  static const char *const keys[] = { "policy", NULL };
  sh_error e = {0};
  json_t *v = json_object_get(c->body, "policy");
  if (!json_is_object(c->body) || sh_json_check_keys(c->body, keys, NULL, &e) < 0 || !v || !(json_is_string(v) || json_is_null(v))) {
    hd_api_fail(c, 400, e.path[0] ? e.path : "policy", "%s: %s", e.path[0] ? e.path : "policy",
                e.msg[0] ? e.msg : "the policy's text, or null for the plan's default");
    return;
  }
  const char *text = json_string_value(v);
  _cleanup_(sh_netpolicy_clear) struct sh_netpolicy p = {0};
  if (text) {
    if (strlen(text) > (1u << 20)) {
      hd_api_fail(c, 400, "policy", "policy: at most 1 MiB of text");
      return;
    }
    if (sh_netpolicy_parse(text, &p, &e) < 0) {
      hd_api_fail(c, 400, "policy", "policy: %s: %s", e.path, e.msg);
      return;
    }
    /* The provider keeps the host's own ports: only its range is forwarded. */
    for (size_t i = 0; i < p.n_forwards; i++)
      if (p.forwards[i].public_port < cfg->forward_lo || p.forwards[i].public_port > cfg->forward_hi) {
        hd_api_fail(c, 400, "policy", "policy: line %u, column %u: public port %u is outside the ports this host forwards (%s)",
                    p.forwards[i].line, p.forwards[i].col, p.forwards[i].public_port, cfg->forward_ports);
        return;
      }
  }
  char state[16];
  int64_t tenant = operable(c, state);
  if (!tenant)
    return;
  if (hd_db_exec(c->db, &e, "UPDATE containers SET policy = ?, etag = etag + 1 WHERE id = ?", "ti", text, c->ids[0]) < 0 ||
      hd_db_exec(c->db, &e, "DELETE FROM forwards WHERE container_id = ?", "i", c->ids[0]) < 0) {
    hd_api_fail(c, 500, NULL, "%s: %s", e.step, e.msg);
    return;
  }
  /* A public port is one container's: the table's key says whose. */
  for (size_t i = 0; i < p.n_forwards; i++) {
    const struct sh_np_forward *f = &p.forwards[i];
    const char *proto = f->proto == SH_NP_TCP ? "tcp" : "udp";
    if (hd_db_exec(c->db, &e, "INSERT INTO forwards (proto, public_port, container_id, port) VALUES (?, ?, ?, ?)", "tiii", proto,
                   (int64_t) f->public_port, c->ids[0], (int64_t) f->port) < 0) {
      if (e.err == EEXIST)
        hd_api_fail(c, 409, "policy", "policy: line %u, column %u: public %s port %u of the host is forwarded to another container",
                    f->line, f->col, proto, f->public_port);
      else
        hd_api_fail(c, 500, NULL, "%s: %s", e.step, e.msg);
      return;
    }
  }
  if (strcmp(state, "running") != 0) {
    hd_policy_get(c);   /* in force at the next start */
    return;
  }
  queue(c, tenant, "policy", NULL);
}

/* ---- snapshots ---- */

void hd_snapshot_list(struct hd_call *c)
{
  int64_t tenant;
  if (!container_access(c, HD_READ, &tenant))
    return;
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL,
    "SELECT id, name, created_at FROM snapshots WHERE container_id = ? ORDER BY id", "i", c->ids[0]);
  json_t *list = json_array();
  while (s && sqlite3_step(s) == SQLITE_ROW)
    json_array_append_new(list, json_pack("{s:I, s:s, s:I}", "id", (json_int_t) sqlite3_column_int64(s, 0), "name",
                                          sqlite3_column_text(s, 1), "created_at", (json_int_t) sqlite3_column_int64(s, 2)));
  c->status = 200;
  c->result = json_pack("{s:o}", "snapshots", list);
}

/* Queue a snapshot operation; the container's state must be one of `states`. */
static void snapshot_op(struct hd_call *c, const char *kind, const char *name, const char *states)
{
  char state[16];
  int64_t tenant = operable(c, state);
  if (!tenant)
    return;
  if (!strstr(states, state)) {
    hd_api_fail(c, 409, NULL, "a container that is %s cannot be %s", state,
                strcmp(kind, "restore") == 0 ? "restored (stop it first)" : "snapshotted now");
    return;
  }
  _cleanup_json_ json_t *args = json_pack("{s:s}", "snapshot", name);
  queue(c, tenant, kind, args);
}

void hd_snapshot_create(struct hd_call *c)
{
  static const char *const keys[] = { "name", NULL };
  sh_error e = {0};
  const char *name = NULL;
  if (!json_is_object(c->body) || sh_json_check_keys(c->body, keys, NULL, &e) < 0 ||
      sh_json_get_str(c->body, "name", NULL, &name, &e) < 0 || !name || !hd_name_valid(name)) {
    hd_api_fail(c, 400, e.path[0] ? e.path : "name", "%s: %s", e.path[0] ? e.path : "name", e.msg[0] ? e.msg : HD_NAME_RULE);
    return;
  }
  int64_t tenant;
  if (!container_access(c, HD_OPERATE, &tenant))
    return;
  /* The row first: the schema refuses a name given twice. */
  if (hd_db_exec(c->db, &e, "INSERT INTO snapshots (container_id, name, created_at) VALUES (?, ?, ?)", "iti", c->ids[0], name,
                 hd_now()) < 0) {
    hd_api_fail(c, 409, "name", "name: the container already has a snapshot \"%s\"", name);
    return;
  }
  snapshot_op(c, "snapshot", name, "stopped running");
}

/* The snapshot ids[1] of container ids[0]: its name, or fail the call. */
static bool snapshot_name(struct hd_call *c, char name[64])
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL, "SELECT name FROM snapshots WHERE id = ? AND container_id = ?", "ii",
                                              c->ids[1], c->ids[0]);
  if (!s || sqlite3_step(s) != SQLITE_ROW) {
    /* Checked after the container itself, so another tenant's still reads as absent. */
    int64_t tenant;
    if (container_access(c, HD_READ, &tenant))
      hd_api_fail(c, 404, NULL, "container %" PRId64 " has no snapshot %" PRId64, c->ids[0], c->ids[1]);
    return false;
  }
  snprintf(name, 64, "%s", sqlite3_column_text(s, 0));
  return true;
}

void hd_snapshot_restore(struct hd_call *c)
{
  char name[64];
  if (snapshot_name(c, name))
    snapshot_op(c, "restore", name, "stopped");
}

void hd_snapshot_delete(struct hd_call *c)
{
  char name[64];
  if (snapshot_name(c, name))
    snapshot_op(c, "snapshot-delete", name, "stopped running");
}

/* ---- operations ---- */

void hd_operation_get(struct hd_call *c)
{
  int64_t tenant = 0;
  json_t *o = hd_op_json(c->db, c->ids[0], &tenant);
  bool hide;
  if (!o || !hd_authorize(&c->who, HD_READ, tenant, &hide)) {
    json_decref(o);
    hd_api_fail(c, 404, NULL, "no operation %" PRId64, c->ids[0]);
    return;
  }
  c->status = 200;
  c->result = o;
  const char *st = json_string_value(json_object_get(o, "status"));
  /* /wait: the transport answers once it is done or the timeout passes. */
  if (c->n_ids == 1 && strstr(c->path, "/wait") && (strcmp(st, "pending") == 0 || strcmp(st, "running") == 0)) {
    long long t = 30;
    if (c->query)
      sscanf(c->query, "timeout=%lld", &t);
    c->wait_op = c->ids[0];
    c->wait_ms = (int) (t < 0 ? 0 : t > 600 ? 600000 : t * 1000);
  }
}

void hd_operation_list(struct hd_call *c)
{
  bool everyone = c->who.role == HD_ROLE_ADMIN || c->who.role == HD_ROLE_AUDITOR;
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL,
    "SELECT id FROM operations WHERE ? OR tenant_id = ? ORDER BY id DESC LIMIT 200", "ii", (int64_t) everyone, c->who.tenant_id);
  json_t *list = json_array();
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    int64_t t;
    json_t *o = hd_op_json(c->db, sqlite3_column_int64(s, 0), &t);
    if (o)
      json_array_append_new(list, o);
  }
  c->status = 200;
  c->result = json_pack("{s:o}", "operations", list);
}
