/* The operations journal and the workers that run it: a small pool of
 * threads, each with its own database connection, that never run two
 * operations of one container at once; and a supervisor thread for exits,
 * restarts and usage samples.  A container's init is waited for only by
 * the operation on it or, when none runs, by the supervisor. */
#include "ops.h"

#include "cleanup.h"
#include "db.h"
#include "log.h"
#include "tenant-cg.h"
#include "cgroup.h"
#include "ctpolicy.h"
#include "events.h"
#include "provision.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool hd_op_kind_known(const char *kind)
{
  return hd_op_kind_find(kind) != NULL;
}

int hd_op_queue(sqlite3 *db, int64_t tenant, int64_t container, const char *kind, json_t *args, int64_t *id, sh_error *e)
{
  _cleanup_free_ char *a = args ? json_dumps(args, JSON_COMPACT) : NULL;
  int64_t now = hd_now();
  int r = hd_db_exec(db, e,
                     "INSERT INTO operations (tenant_id, container_id, kind, status, args, created_at, updated_at)"
                     " VALUES (?, ?, ?, 'pending', ?, ?, ?)", "IItti" "i", tenant, container, kind, a ? a : "{}", now, now);
  if (r < 0)
    return r;
  *id = sqlite3_last_insert_rowid(db);
  return 0;
}

int64_t hd_op_busy(sqlite3 *db, int64_t container)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL,
    "SELECT id FROM operations WHERE container_id = ? AND status IN ('pending', 'running') LIMIT 1", "i", container);
  return s && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
}

json_t *hd_op_json(sqlite3 *db, int64_t id, int64_t *tenant)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL,
    "SELECT id, coalesce(tenant_id, 0), coalesce(container_id, 0), kind, status, step, error, created_at, updated_at"
    " FROM operations WHERE id = ?", "i", id);
  if (!s || sqlite3_step(s) != SQLITE_ROW)
    return NULL;
  *tenant = sqlite3_column_int64(s, 1);
  const char *err = (const char *) sqlite3_column_text(s, 6);
  const struct hd_op_kind *k = hd_op_kind_find((const char *) sqlite3_column_text(s, 3));
  return json_pack("{s:I, s:I, s:I, s:s, s:s, s:i, s:i, s:s?, s:I, s:I}", "id", (json_int_t) sqlite3_column_int64(s, 0),
                   "tenant_id", (json_int_t) *tenant, "container_id", (json_int_t) sqlite3_column_int64(s, 2), "kind",
                   sqlite3_column_text(s, 3), "status", sqlite3_column_text(s, 4), "steps_done", sqlite3_column_int(s, 5),
                   "steps", k ? (int) k->n_steps : 0, "error", err, "created_at",
                   (json_int_t) sqlite3_column_int64(s, 7), "updated_at", (json_int_t) sqlite3_column_int64(s, 8));
}

/* ---- the workers ---- */

enum { MAX_WORKERS = 64, CLAIM_WINDOW = 1024 };

static struct {
  pthread_t threads[MAX_WORKERS], supervisor;
  size_t n;
  pthread_mutex_t lock;
  pthread_cond_t cond;      /* new work, a worker done, or stop */
  uint64_t kicks;
  bool stop, supervising;
  /* What each worker runs: no two workers ever take operations of one
   * container, so a container's operations run one after another. */
  struct { int64_t op, container; } busy[MAX_WORKERS];
  struct hd_host *h;
} w = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

void hd_worker_kick(void)
{
  pthread_mutex_lock(&w.lock);
  w.kicks++;
  pthread_cond_broadcast(&w.cond);
  pthread_mutex_unlock(&w.lock);
}

static void op_status(sqlite3 *db, int64_t op, const char *status, int step, const char *error)
{
  sh_error e = {0};
  if (hd_db_exec(db, &e, "UPDATE operations SET status = ?, step = ?, error = ?, updated_at = ? WHERE id = ?", "titii", status,
                 (int64_t) step, error, hd_now(), op) < 0)
    sh_error_log("operation %" PRId64 ": cannot record %s: %s", op, status, e.msg);
  if (strcmp(status, "running") == 0)
    return;
  int64_t tenant;
  json_t *o = hd_op_json(db, op, &tenant);
  hd_event_emit(db, tenant, "operation", o);
  json_decref(o);
}

/* Run an operation from the step it reached; on failure undo the steps
 * done, in reverse. */
static void run_op(sqlite3 *db, int64_t op)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL, "SELECT kind, coalesce(container_id, 0), step, args FROM operations WHERE id = ?",
                                              "i", op);
  if (!s || sqlite3_step(s) != SQLITE_ROW)
    return;
  const struct hd_op_kind *k = hd_op_kind_find((const char *) sqlite3_column_text(s, 0));
  struct hd_ctx c = { .h = w.h, .db = db, .op = op, .id = sqlite3_column_int64(s, 1) };
  int step = sqlite3_column_int(s, 2);
  json_error_t je;
  c.args = json_loads((const char *) sqlite3_column_text(s, 3), 0, &je);
  /* Done reading: a statement left open would hold a read snapshot, and a
   * write after another connection's commit would fail at once (WAL). */
  sqlite3_reset(s);
  snprintf(c.snapshot, sizeof c.snapshot, "%s", json_string_value(json_object_get(c.args, "snapshot")) ?: "");
  hd_container_ref(c.id, c.ref);
  sh_error e = {0};
  char buf[600];
  if (!k || hd_ctx_load(&c, &e) < 0) {
    op_status(db, op, "failure", step, k ? sh_error_str(&e, buf, sizeof buf) : "unknown operation kind");
    json_decref(c.args);
    return;
  }
  op_status(db, op, "running", step, NULL);
  sh_info("operation %" PRId64 ": %s %s from step %d of %zu", op, k->kind, c.ref, step, k->n_steps);
  struct timespec t0, t1;
  char slow[300] = "";
  size_t slow_len = 0;
  for (; (size_t) step < k->n_steps; step++) {
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int sr = k->steps[step].run(&c, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    /* Where an operation's time goes, for whoever tunes provisioning. */
    if (ms >= 10 && slow_len < sizeof slow - 40)
      slow_len += (size_t) snprintf(slow + slow_len, sizeof slow - slow_len, " %s %ld ms", k->steps[step].name, ms);
    if (sr < 0) {
      sh_error_str(&e, buf, sizeof buf);
      sh_warn("operation %" PRId64 ": %s %s failed at %s: %s", op, k->kind, c.ref, k->steps[step].name, buf);
      for (int j = step - 1; j >= 0; j--) {
        sh_error ue = {0};
        char ub[600];
        if (k->steps[j].undo && k->steps[j].undo(&c, &ue) < 0)
          sh_warn("operation %" PRId64 ": undoing %s: %s", op, k->steps[j].name, sh_error_str(&ue, ub, sizeof ub));
      }
      sh_error fe = {0};
      char fb[600];
      c.pid = 0;
      if (k->on_fail(&c, &fe) < 0)
        sh_warn("operation %" PRId64 ": after the failure: %s", op, sh_error_str(&fe, fb, sizeof fb));
      op_status(db, op, "failure", step, buf);
      json_decref(c.args);
      return;
    }
    op_status(db, op, "running", step + 1, NULL);
  }
  op_status(db, op, "success", step, NULL);
  if (slow[0])
    sh_info("operation %" PRId64 ": %s %s done;%s", op, k->kind, c.ref, slow);
  json_decref(c.args);
}

/* Take the oldest operation whose container has no older operation
 * waiting or running: interrupted ones first (they hold their container's
 * place), then pending ones in order.  With w.lock held. */
static int64_t claim(sqlite3 *db, size_t self)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL,
    "SELECT id, coalesce(container_id, 0) FROM operations WHERE status IN ('running', 'pending')"
    " ORDER BY status = 'pending', id LIMIT ?", "i", (int64_t) CLAIM_WINDOW);
  static int64_t seen[CLAIM_WINDOW];   /* containers with an older operation; under w.lock */
  size_t n_seen = 0;
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    int64_t op = sqlite3_column_int64(s, 0), ct = sqlite3_column_int64(s, 1);
    bool blocked = false;
    for (size_t i = 0; i < w.n && !blocked; i++)
      blocked = w.busy[i].op == op || (ct && w.busy[i].container == ct);
    for (size_t i = 0; ct && i < n_seen && !blocked; i++)
      blocked = seen[i] == ct;
    if (!blocked) {
      w.busy[self].op = op;
      w.busy[self].container = ct;
      return op;
    }
    if (ct)
      seen[n_seen++] = ct;
  }
  return 0;
}

/* Containers whose init ended on its own: record the exit, clean up through
 * a stop operation and, as the restart policy says, start them again after
 * a backoff (1, 2, 4 ... 300 s; back to 1 s after a minute of running). */
/* Rows of (id, tenant) from a query, collected before anything is written
 * (see run_op: no statement stays open across writes). */
struct pair {
  int64_t id, tenant, pid, started, restarts, pid_start;
  char policy[16];
};

static size_t collect(sqlite3 *db, const char *sql, const int64_t *arg, struct pair **out)
{
  _cleanup_stmt_ sqlite3_stmt *s = arg ? hd_db_query(db, NULL, sql, "i", *arg) : hd_db_query(db, NULL, sql, NULL);
  size_t n = 0;
  *out = NULL;
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    struct pair *np = realloc(*out, (n + 1) * sizeof *np);
    if (!np)
      break;
    *out = np;
    struct pair *p = &np[n++];
    memset(p, 0, sizeof *p);
    int cols = sqlite3_column_count(s);
    p->id = sqlite3_column_int64(s, 0);
    p->tenant = sqlite3_column_int64(s, 1);
    if (cols > 2)
      p->pid = sqlite3_column_int64(s, 2);
    if (cols > 3)
      snprintf(p->policy, sizeof p->policy, "%s", sqlite3_column_text(s, 3));
    if (cols > 4)
      p->started = sqlite3_column_int64(s, 4);
    if (cols > 5)
      p->restarts = sqlite3_column_int64(s, 5);
    if (cols > 6)
      p->pid_start = sqlite3_column_int64(s, 6);
  }
  return n;
}

/* Containers whose init ended on its own: record the exit, clean up through
 * a stop operation and, as the restart policy says, start them again after
 * a backoff (1, 2, 4 ... 300 s; back to 1 s after a minute of running). */
static size_t supervise(sqlite3 *db)
{
  size_t queued = 0;
  int64_t now = hd_now();
  _cleanup_free_ struct pair *run = NULL, *due = NULL;
  size_t n = collect(db,
    "SELECT id, tenant_id, pid, restart_policy, coalesce(started_at, 0), restarts, coalesce(pid_start, 0) FROM containers c"
    " WHERE state = 'running' AND pid IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM operations o WHERE o.container_id = c.id AND o.status IN ('pending', 'running'))", NULL, &run);
  for (size_t i = 0; i < n; i++) {
    struct pair *p = &run[i];
    int64_t ran = now - p->started, restarts = ran > 60 ? 0 : p->restarts;
    int code;
    if (hd_init_alive(p->pid, p->pid_start, &code))
      continue;
    /* An exit code we could not see (an adopted init) counts as a failure. */
    bool again = strcmp(p->policy, "always") == 0 || (strcmp(p->policy, "on-failure") == 0 && code != 0);
    int64_t delay = restarts >= 8 ? 300 : INT64_C(1) << restarts;   /* 1 ... 256, then 300 s */
    sh_info("c%" PRId64 ": its init (pid %" PRId64 ") exited (%d)%s", p->id, p->pid, code, again ? ": restart policy" : "");
    sh_error e = {0};
    int64_t op;
    if (code >= 0)
      hd_db_exec(db, &e, "UPDATE containers SET last_exit = ? WHERE id = ?", "ii", (int64_t) code, p->id);
    hd_db_exec(db, &e, "UPDATE containers SET restarts = ?, restart_at = ? WHERE id = ?", "iIi",
               again ? restarts + 1 : (int64_t) 0, again ? now + delay : (int64_t) 0, p->id);
    queued += hd_op_queue(db, p->tenant, p->id, "stop", NULL, &op, &e) == 0;
  }
  /* Due restarts. */
  n = collect(db,
    "SELECT id, tenant_id FROM containers c WHERE state = 'stopped' AND restart_at IS NOT NULL AND restart_at <= ?"
    " AND NOT EXISTS (SELECT 1 FROM operations o WHERE o.container_id = c.id AND o.status IN ('pending', 'running'))", &now, &due);
  for (size_t i = 0; i < n; i++) {
    int64_t op;
    sh_error e = {0};
    hd_db_exec(db, &e, "UPDATE containers SET restart_at = NULL WHERE id = ?", "i", due[i].id);
    queued += hd_op_queue(db, due[i].tenant, due[i].id, "start", NULL, &op, &e) == 0;
  }
  return queued;
}

/* Metering: a sample of every running container's usage (cgroup counters
 * and its volume's exclusive bytes), kept for billing. */
static void sample_usage(sqlite3 *db)
{
  static int64_t last;
  int64_t now = hd_now();
  if (now - last < (int64_t) w.h->cfg.usage_interval)
    return;
  last = now;
  _cleanup_free_ struct pair *run = NULL;
  size_t n = collect(db, "SELECT id, tenant_id FROM containers WHERE state = 'running'", NULL, &run);
  for (size_t i = 0; i < n; i++) {
    int64_t id = run[i].id, tenant = run[i].tenant;
    char path[64], ref[24];
    hd_cgroup_path(tenant, id, path, sizeof path);
    hd_container_ref(id, ref);
    struct sbx_config cfg = { .cgroups_path = path };
    struct sbx_cgroup cg;
    struct sbx_cg_stats st;
    struct sbx_usage du = {0};
    if (sbx_cgroup_resolve(&cfg, path, &cg, NULL) < 0)
      continue;
    int r = sbx_cgroup_stats(&cg, &st, NULL);
    sbx_cgroup_clear(&cg);
    if (r < 0)
      continue;
    sbx_volume_usage(w.h->pool, ref, &du, NULL);
    struct nf_counters nc = {0};
    hd_policy_counters(w.h, id, &nc, NULL);   /* the policy programs count the container's traffic */
    hd_db_exec(db, NULL,
               "INSERT OR REPLACE INTO usage_samples (container_id, tenant_id, at, cpu_usec, memory_bytes, disk_bytes,"
               " net_in_bytes, net_out_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "iiiiiiii", id, tenant, now,
               (int64_t) st.cpu_usec, (int64_t) st.memory_bytes, (int64_t) du.exclusive, (int64_t) nc.bytes_in,
               (int64_t) nc.bytes_out);
  }
}

static void *worker_main(void *arg)
{
  size_t self = (size_t) (uintptr_t) arg;
  sqlite3 *db = NULL;
  sh_error e = {0};
  char buf[600];
  if (hd_db_open(w.h->db_path, &db, &e) < 0 || hd_db_relax(db, &e) < 0) {
    sh_error_log("worker %zu: %s", self, sh_error_str(&e, buf, sizeof buf));
    return NULL;
  }
  pthread_mutex_lock(&w.lock);
  while (!w.stop) {
    uint64_t kicks = w.kicks;
    int64_t op = claim(db, self);
    if (op) {
      pthread_mutex_unlock(&w.lock);
      run_op(db, op);
      pthread_mutex_lock(&w.lock);
      w.busy[self].op = w.busy[self].container = 0;
      /* The container's next operation may wait for this one. */
      w.kicks++;
      pthread_cond_broadcast(&w.cond);
      continue;
    }
    if (w.kicks == kicks) {
      struct timespec t;
      clock_gettime(CLOCK_REALTIME, &t);
      t.tv_sec += 1;
      pthread_cond_timedwait(&w.cond, &w.lock, &t);
    }
  }
  pthread_mutex_unlock(&w.lock);
  sqlite3_close(db);
  return NULL;
}

/* Once a second: containers that ended on their own, due restarts, usage
 * samples; the events table pruned hourly. */
static void *supervisor_main(void *arg)
{
  sqlite3 *db = NULL;
  sh_error e = {0};
  char buf[600];
  if (hd_db_open(w.h->db_path, &db, &e) < 0 || hd_db_relax(db, &e) < 0) {
    sh_error_log("supervisor: %s", sh_error_str(&e, buf, sizeof buf));
    return NULL;
  }
  int64_t pruned = 0;
  for (;;) {
    if (supervise(db))
      hd_worker_kick();
    sample_usage(db);
    if (hd_now() - pruned > 3600) {
      hd_events_prune(db);
      pruned = hd_now();
    }
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += 1;
    pthread_mutex_lock(&w.lock);
    while (!w.stop && pthread_cond_timedwait(&w.cond, &w.lock, &t) != ETIMEDOUT)
      ;
    bool stop = w.stop;
    pthread_mutex_unlock(&w.lock);
    if (stop)
      break;
  }
  sqlite3_close(db);
  return NULL;
}

int hd_worker_start(struct hd_host *h, sh_error *e)
{
  w.h = h;
  size_t want = h->cfg.workers < MAX_WORKERS ? h->cfg.workers : MAX_WORKERS;
  for (w.n = 0; w.n < want; w.n++) {
    int r = pthread_create(&w.threads[w.n], NULL, worker_main, (void *) (uintptr_t) w.n);
    if (r != 0) {
      hd_worker_stop();
      return sh_err(e, r, "start worker", NULL, NULL);
    }
  }
  int r = pthread_create(&w.supervisor, NULL, supervisor_main, NULL);
  if (r != 0) {
    hd_worker_stop();
    return sh_err(e, r, "start supervisor", NULL, NULL);
  }
  w.supervising = true;
  return 0;
}

void hd_worker_stop(void)
{
  pthread_mutex_lock(&w.lock);
  w.stop = true;
  pthread_cond_broadcast(&w.cond);
  pthread_mutex_unlock(&w.lock);
  for (size_t i = 0; i < w.n; i++)
    pthread_join(w.threads[i], NULL);
  w.n = 0;
  if (w.supervising)
    pthread_join(w.supervisor, NULL);
  w.supervising = false;
}
