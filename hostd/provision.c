/* Provisioning steps: a table per operation kind.  Storage goes through
 * libsandbox's storage library in-process; the runtime is the sbx binary
 * (spawned), so a runtime crash never takes the daemon with it and the
 * container's init is reparented to sandhostd, its subreaper. */
#include "provision.h"

#include "cleanup.h"
#include "db.h"
#include "fdutil.h"
#include "jsonutil.h"
#include "log.h"
#include "rtspawn.h"
#include "rmtree.h"
#include "sshkeys.h"
#include "tree.h"
#include "sandbox.h"
#include "ctpolicy.h"
#include "events.h"
#include "network.h"
#include "tenant-cg.h"

#include <errno.h>
#include <selinux/selinux.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int hd_ctx_load(struct hd_ctx *c, sh_error *e)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, e,
    "SELECT c.tenant_id, c.name, coalesce(i.name, ''), c.state, c.cpu_millis, c.memory_mib, c.pids, c.disk_mib,"
    " p.total_disk_mib, coalesce(r.host_start, 0), coalesce(m.c1, -1), coalesce(m.c2, -1), coalesce(c.pid, 0),"
    " p.total_cpu_millis, p.total_memory_mib, p.max_containers * p.pids, coalesce(c.pid_start, 0),"
    " coalesce(c.seccomp, p.seccomp)"
    " FROM containers c JOIN tenants t ON t.id = c.tenant_id JOIN plans p ON p.id = t.plan_id"
    " LEFT JOIN images i ON i.id = c.image_id LEFT JOIN idmap_ranges r ON r.container_id = c.id"
    " LEFT JOIN mcs_pairs m ON m.container_id = c.id WHERE c.id = ?", "i", c->id);
  if (!s)
    return -e->err;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE)
    return sh_err(e, ENOENT, "load container", c->ref, "no such container");
  if (rc != SQLITE_ROW)
    return hd_db_err(c->db, rc, e, "load container");
  c->tenant = sqlite3_column_int64(s, 0);
  snprintf(c->name, sizeof c->name, "%s", sqlite3_column_text(s, 1));
  snprintf(c->image, sizeof c->image, "%s", sqlite3_column_text(s, 2));
  snprintf(c->state, sizeof c->state, "%s", sqlite3_column_text(s, 3));
  c->cpu_millis = sqlite3_column_int64(s, 4);
  c->memory_mib = sqlite3_column_int64(s, 5);
  c->pids = sqlite3_column_int64(s, 6);
  c->disk_mib = sqlite3_column_int64(s, 7);
  c->total_disk_mib = sqlite3_column_int64(s, 8);
  c->host_start = sqlite3_column_int64(s, 9);
  c->c1 = sqlite3_column_int(s, 10);
  c->c2 = sqlite3_column_int(s, 11);
  c->pid = sqlite3_column_int64(s, 12);
  c->total_cpu_millis = sqlite3_column_int64(s, 13);
  c->total_memory_mib = sqlite3_column_int64(s, 14);
  c->total_pids = sqlite3_column_int64(s, 15);
  c->pid_start = sqlite3_column_int64(s, 16);
  snprintf(c->seccomp, sizeof c->seccomp, "%s", sqlite3_column_text(s, 17));
  return 0;
}

static int set_state(struct hd_ctx *c, const char *state, sh_error *e)
{
  int r = hd_db_exec(c->db, e, "UPDATE containers SET state = ?, pid = ?, pid_start = ?, etag = etag + 1 WHERE id = ?", "tIIi",
                     state, c->pid, c->pid ? c->pid_start : 0, c->id);
  if (r >= 0) {
    snprintf(c->state, sizeof c->state, "%s", state);
    json_t *b = json_pack("{s:I, s:s, s:s}", "id", (json_int_t) c->id, "name", c->name, "state", state);
    hd_event_emit(c->db, c->tenant, "container-state", b);
    json_decref(b);
  }
  return r < 0 ? r : 0;
}

static void bundle_path(const struct hd_ctx *c, const char *leaf, char *out, size_t len)
{
  snprintf(out, len, "%s/%s%s%s", c->h->bundles, c->ref, leaf ? "/" : "", leaf ? leaf : "");
}

/* Run the runtime: sbx --root <root> --log <bundle>/runtime.log ARGS.  Its
 * stdout and stderr, which the container's init inherits, go to the
 * container's console.log; its own errors to runtime.log, whose last line
 * becomes the step's error. */
static int sbx_run(struct hd_ctx *c, const char *step, const char *const *args, sh_error *e)
{
  char dir[400], log[400], console[400];
  bundle_path(c, NULL, dir, sizeof dir);
  bundle_path(c, "runtime.log", log, sizeof log);
  bundle_path(c, "console.log", console, sizeof console);
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return sh_errno(e, "create bundle", dir);
  unlink(log);
  const char *argv[20] = { c->h->sbx, "--root", c->h->sbx_root, "--log", log };
  size_t n = 5;
  for (size_t i = 0; args[i] && n < 19; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, console, O_WRONLY | O_APPEND | O_CREAT, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid;
  int r = hd_spawn(&pid, argv, &fa);
  posix_spawn_file_actions_destroy(&fa);
  if (r != 0)
    return sh_err(e, r, step, argv[0], "cannot run the runtime");
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  _cleanup_free_ char *text = NULL;
  const char *msg = "the runtime failed";
  if (sh_read_file_at(AT_FDCWD, log, &text, NULL, NULL) == 0 && text[0]) {
    size_t len = strlen(text);
    while (len && text[len - 1] == '\n')
      text[--len] = 0;
    char *last = strrchr(text, '\n');
    msg = last ? last + 1 : text;
  }
  return sh_err(e, EIO, step, c->ref, "%s", msg);
}

/* ---- storage ---- */

static pthread_mutex_t volume_mutex = PTHREAD_MUTEX_INITIALIZER;

void hd_volume_lock(void)
{
  pthread_mutex_lock(&volume_mutex);
}

bool hd_volume_lock_timed(int timeout_ms)
{
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  t.tv_sec += timeout_ms / 1000;
  t.tv_nsec += (long) (timeout_ms % 1000) * 1000000;
  if (t.tv_nsec >= 1000000000) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000;
  }
  return pthread_mutex_timedlock(&volume_mutex, &t) == 0;
}

void hd_volume_unlock(void)
{
  pthread_mutex_unlock(&volume_mutex);
}

/* A storage step under the volume lock. */
static int locked(int (*fn)(struct hd_ctx *, sh_error *), struct hd_ctx *c, sh_error *e)
{
  hd_volume_lock();
  int r = fn(c, e);
  hd_volume_unlock();
  return r;
}

/* The tenant's disk total is the kernel's to enforce (a qgroup over all its volumes). */
static int tenant_disk(struct hd_ctx *c, sh_error *e)
{
  return sbx_tenant_set_quota(c->h->pool, (uint64_t) c->tenant, (uint64_t) c->total_disk_mib << 20, e);
}

static int volume_create(struct hd_ctx *c, sh_error *e)
{
  if (sbx_volume_usage(c->h->pool, c->ref, &(struct sbx_usage){0}, NULL) == 0)
    return 0;  /* there already (a step re-run after a crash) */
  int r = sbx_volume_create(c->h->pool, c->ref, c->image, (uint64_t) c->tenant, (uint64_t) c->disk_mib << 20, e);
  return r < 0 ? r : tenant_disk(c, e);
}

/* A clone of the source container's volume (args.source): O(1) on btrfs,
 * a copy of the upper on overlay; the storage library keeps it when it is
 * there already from the same source. */
static int clone_now(struct hd_ctx *c, sh_error *e)
{
  char src[24];
  hd_container_ref(json_integer_value(json_object_get(c->args, "source")), src);
  int r = sbx_volume_clone(c->h->pool, src, c->ref, (uint64_t) c->tenant, (uint64_t) c->disk_mib << 20, e);
  return r < 0 ? r : tenant_disk(c, e);
}

/* The SSH keys asked for at create (args.ssh_authorized_keys) into the
 * new volume, its root's: the same text again when the step runs again. */
static int ssh_keys_now(struct hd_ctx *c, sh_error *e)
{
  const char *keys = json_string_value(json_object_get(c->args, "ssh_authorized_keys"));
  if (!keys)
    return 0;
  _cleanup_close_ int root = -1;
  int r = hd_tree_open(c->h->pool, c->ref, c->host_start, &root, e);
  return r < 0 ? r : hd_ssh_keys_install(root, c->host_start, keys, e);
}

static int volume_delete(struct hd_ctx *c, sh_error *e)
{
  hd_volume_lock();
  int r = sbx_volume_delete(c->h->pool, c->ref, e);
  hd_volume_unlock();
  if (r == -ENOENT) {
    sh_error_clear(e);
    return 0;
  }
  return r;
}

static int mount_now(struct hd_ctx *c, sh_error *e)
{
  char dir[400], target[400];
  bundle_path(c, NULL, dir, sizeof dir);
  bundle_path(c, "rootfs", target, sizeof target);
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return sh_errno(e, "create bundle", dir);
  _cleanup_free_ char *at = NULL;
  if (sbx_volume_mounted_at(c->h->pool, c->ref, &at, NULL) == 0 && strcmp(at, target) == 0)
    return 0;
  struct sbx_idmap map = { 0, (uint32_t) c->host_start, 65536 };
  return sbx_volume_mount(c->h->pool, c->ref, &map, 1, &map, 1, target, e);
}

static int unmount_now(struct hd_ctx *c, sh_error *e)
{
  char target[400];
  bundle_path(c, "rootfs", target, sizeof target);
  _cleanup_free_ char *at = NULL;
  if (sbx_volume_mounted_at(c->h->pool, c->ref, &at, NULL) < 0)
    return 0;
  return sbx_volume_unmount(c->h->pool, c->ref, target, e);
}

static int mount_rootfs(struct hd_ctx *c, sh_error *e) { return locked(mount_now, c, e); }
static int volume_clone(struct hd_ctx *c, sh_error *e) { return locked(clone_now, c, e); }
static int unmount_rootfs(struct hd_ctx *c, sh_error *e) { return locked(unmount_now, c, e); }
static int ssh_keys(struct hd_ctx *c, sh_error *e) { return locked(ssh_keys_now, c, e); }

static int bundle_remove(struct hd_ctx *c, sh_error *e)
{
  char dir[400];
  bundle_path(c, NULL, dir, sizeof dir);
  int r = sh_rmtree_at(AT_FDCWD, dir, e);
  if (r == -ENOENT) {
    sh_error_clear(e);
    return 0;
  }
  return r;
}

/* ---- network ---- */

static int net_up(struct hd_ctx *c, sh_error *e) { return hd_net_up(c->h, c->db, c->id, (pid_t) c->pid, e); }
static int policy_up(struct hd_ctx *c, sh_error *e) { return hd_policy_apply(c->h, c->db, c->id, c->tenant, e); }
static int policy_down(struct hd_ctx *c, sh_error *e) { return hd_policy_remove(c->h, c->id, e); }
static int net_down(struct hd_ctx *c, sh_error *e) { return hd_net_down(c->h, c->db, c->id, e); }

/* ---- runtime ---- */

/* The tenant's cgroup with the plan's totals, before a container joins it. */
static int tenant_limits(struct hd_ctx *c, sh_error *e)
{
  struct hd_tenant_limits l = { c->total_cpu_millis, c->total_memory_mib, c->total_pids };
  return hd_tenant_cgroup_apply(c->tenant, &l, e);
}

/* config.json: the hardened spec, with this container's identity and sizes. */
static int write_config(struct hd_ctx *c, sh_error *e)
{
  _cleanup_free_ char *text = NULL;
  bool unconfined = strcmp(c->seccomp, "unconfined") == 0;
  struct sbx_spec_opts so = { .hardened = true, .seccomp = unconfined ? NULL : c->seccomp };
  int r = sbx_spec_generate_opts(&so, &text, e);
  if (r < 0)
    return r;
  json_error_t je;
  _cleanup_json_ json_t *spec = json_loads(text, 0, &je);
  if (!spec)
    return sh_err(e, EIO, "write config", c->ref, "the generated spec does not parse: %s", je.text);
  json_t *proc = json_object_get(spec, "process"), *linux_ = json_object_get(spec, "linux");
  json_object_set_new(proc, "terminal", json_false());
  if (unconfined)   /* a provider admin's debugging aid; the audit flags it */
    json_object_del(linux_, "seccomp");
  /* The probe, read-only, for the audit to run inside (it cannot be mounted
   * into a running container later). */
  if (c->h->probe[0])
    json_array_append_new(json_object_get(spec, "mounts"),
                          json_pack("{s:s, s:s, s:s, s:[s, s, s, s]}", "destination", HD_PROBE_PATH, "type", "bind", "source",
                                    c->h->probe, "options", "bind", "ro", "nosuid", "nodev"));
  /* Until images carry their own init: a shell that waits, and leaves on SIGTERM. */
  json_object_set_new(proc, "args", json_pack("[s, s, s]", "/bin/sh", "-c",
                                              "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"));
  json_object_set_new(spec, "hostname", json_string(c->name));
  json_object_set_new(json_object_get(spec, "root"), "path", json_string("rootfs"));
  json_t *map = json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t) c->host_start, "size", 65536);
  json_object_set(linux_, "uidMappings", map);
  json_object_set_new(linux_, "gidMappings", map);
  char cg[96];
  hd_cgroup_path(c->tenant, c->id, cg, sizeof cg);
  json_object_set_new(linux_, "cgroupsPath", json_string(cg));
  json_t *res = json_object_get(linux_, "resources");
  if (!res)
    json_object_set_new(linux_, "resources", res = json_object());
  json_object_set_new(res, "memory", json_pack("{s:I}", "limit", (json_int_t) (c->memory_mib << 20)));
  json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t) c->pids));
  json_object_set_new(res, "cpu", json_pack("{s:I, s:I}", "quota", (json_int_t) (c->cpu_millis * 100), "period", (json_int_t) 100000));
  if (c->c1 >= 0) {
    char label[64];
    snprintf(label, sizeof label, "system_u:system_r:container_t:s0:c%d,c%d", c->c1, c->c2);
    json_object_set_new(proc, "selinuxLabel", json_string(label));
  }
  char path[400];
  bundle_path(c, "config.json", path, sizeof path);
  _cleanup_free_ char *out = json_dumps(spec, JSON_INDENT(2));
  return out ? sh_write_file_atomic(path, out, 0600, e) : sh_err(e, ENOMEM, "write config", path, NULL);
}

static int read_pid(struct hd_ctx *c, sh_error *e)
{
  char path[400];
  _cleanup_free_ char *text = NULL;
  bundle_path(c, "init.pid", path, sizeof path);
  int r = sh_read_file_at(AT_FDCWD, path, &text, NULL, e);
  if (r < 0)
    return r;
  c->pid = strtoll(text, NULL, 10);
  return c->pid > 0 ? 0 : sh_err(e, EIO, "read pid", path, "no pid");
}

/* sbx create: the container exists, its init waits at the start barrier
 * (so the network step can wire its namespace first). */
static int runtime_create(struct hd_ctx *c, sh_error *e)
{
  char bundle[400], pidf[400], log[400], old[400];
  bundle_path(c, NULL, bundle, sizeof bundle);
  bundle_path(c, "init.pid", pidf, sizeof pidf);
  /* One older generation of the container's output is kept past 8 MiB. */
  struct stat st;
  bundle_path(c, "console.log", log, sizeof log);
  bundle_path(c, "console.log.1", old, sizeof old);
  if (stat(log, &st) == 0 && st.st_size > (8 << 20))
    rename(log, old);
  /* On an SELinux host the container's init writes its output there: the
   * file carries the container's own label, or SELinux closes it at exec. */
  if (c->c1 >= 0 && is_selinux_enabled() > 0) {
    char con[96];
    snprintf(con, sizeof con, "system_u:object_r:container_file_t:s0:c%d,c%d", c->c1, c->c2);
    _cleanup_close_ int lfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (lfd < 0 || fsetfilecon(lfd, con) < 0)
      return sh_errno(e, "label the container's log", log);
  }
  /* A leftover from an interrupted start goes first. */
  sbx_run(c, "remove stale runtime state", (const char *const[]){ "delete", "--force", c->ref, NULL }, &(sh_error){0});
  int r = sbx_run(c, "create container", (const char *const[]){ "create", "--bundle", bundle, "--pid-file", pidf, c->ref, NULL }, e);
  if (r == 0)
    r = read_pid(c, e);
  if (r == 0 && kill((pid_t) c->pid, 0) < 0)
    r = sh_err(e, ESRCH, "create container", c->ref, "its init (pid %" PRId64 ") is gone right after create", c->pid);
  /* Recorded now, so a crash before "running" still finds (and reaps) it. */
  if (r == 0)
    r = hd_db_exec(c->db, e, "UPDATE containers SET pid = ?, pid_start = ? WHERE id = ?", "iii", c->pid,
                   c->pid_start = hd_proc_start(c->pid), c->id) < 0 ? -e->err : 0;
  return r;
}

static int runtime_start(struct hd_ctx *c, sh_error *e)
{
  return sbx_run(c, "start container", (const char *const[]){ "start", c->ref, NULL }, e);
}

static int runtime_remove(struct hd_ctx *c, sh_error *e)
{
  return sbx_run(c, "delete container", (const char *const[]){ "delete", "--force", c->ref, NULL }, e);
}

int64_t hd_proc_start(int64_t pid)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%" PRId64 "/stat", pid);
  _cleanup_free_ char *t = NULL;
  if (sh_read_file_at(AT_FDCWD, path, &t, NULL, NULL) < 0)
    return 0;
  /* After the command's ")" (it may hold anything): state is field 3,
   * starttime field 22. */
  const char *p = strrchr(t, ')');
  unsigned long long v = 0;
  if (!p || sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu", &v) != 1)
    return 0;
  return (int64_t) v;
}

bool hd_init_alive(int64_t pid, int64_t start, int *exit_code)
{
  *exit_code = -1;
  if (pid <= 0)
    return false;
  int status;
  pid_t w = waitpid((pid_t) pid, &status, WNOHANG);
  if (w == (pid_t) pid) {
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  if (w == 0)
    return true;
  /* Not our child (adopted after a restart): is it there at all, and is it
   * still the process we started (not another with its pid)? */
  if (kill((pid_t) pid, 0) < 0 && errno != EPERM)
    return false;
  return !start || hd_proc_start(pid) == start;
}

/* SIGTERM to init, SIGKILL to everything after the timeout; the exit code
 * is recorded.  Then the runtime's state goes. */
static int halt(struct hd_ctx *c, sh_error *e)
{
  int code = -1;
  bool alive = c->pid > 0 && hd_init_alive(c->pid, c->pid_start, &code);
  if (alive) {
    json_int_t t = json_integer_value(json_object_get(c->args, "timeout"));
    int timeout = json_object_get(c->args, "timeout") ? (int) t : (int) c->h->cfg.stop_timeout;
    sbx_run(c, "stop container", (const char *const[]){ "kill", c->ref, "TERM", NULL }, &(sh_error){0});
    /* Once reaped, a second look would lose the exit code: keep the first. */
    for (int i = 0; alive && i < timeout * 20; i++) {
      nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
      alive = hd_init_alive(c->pid, c->pid_start, &code);
    }
    if (alive) {
      sh_info("%s: still running %d s after SIGTERM: SIGKILL", c->ref, timeout);
      sbx_run(c, "kill container", (const char *const[]){ "kill", "--all", c->ref, "KILL", NULL }, &(sh_error){0});
      for (int i = 0; alive && i < 100; i++) {
        nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
        alive = hd_init_alive(c->pid, c->pid_start, &code);
      }
    }
  }
  if (code >= 0)
    hd_db_exec(c->db, NULL, "UPDATE containers SET last_exit = ? WHERE id = ?", "ii", (int64_t) code, c->id);
  if (c->pid > 0)
    sh_info("%s: init %" PRId64 " %s (exit %d)", c->ref, c->pid, alive ? "would not die" : "ended", code);
  int r = runtime_remove(c, e);
  if (r < 0 && strstr(e->msg, "does not exist")) {
    sh_error_clear(e);
    r = 0;
  }
  c->pid = 0;
  return r;
}

int hd_runtime_sweep(struct hd_host *h, const char *ref, sh_error *e)
{
  struct hd_ctx c = { .h = h };
  snprintf(c.ref, sizeof c.ref, "%s", ref);
  sh_error ig = {0};
  runtime_remove(&c, &ig);   /* absent is fine */
  return unmount_rootfs(&c, e);
}

int hd_orphan_remove(struct hd_host *h, const char *ref, sh_error *e)
{
  struct hd_ctx c = { .h = h };
  snprintf(c.ref, sizeof c.ref, "%s", ref);
  int r = hd_runtime_sweep(h, ref, e);
  if (r == 0)
    r = volume_delete(&c, e);
  if (r == 0)
    r = bundle_remove(&c, e);
  return r;
}

/* ---- states ---- */

static int to_stopped(struct hd_ctx *c, sh_error *e) { c->pid = 0; return set_state(c, "stopped", e); }
static int to_running(struct hd_ctx *c, sh_error *e)
{
  int r = hd_db_exec(c->db, e, "UPDATE containers SET started_at = ? WHERE id = ?", "ii", hd_now(), c->id);
  return r < 0 ? r : set_state(c, "running", e);
}
static int to_starting(struct hd_ctx *c, sh_error *e) { return set_state(c, "starting", e); }
static int to_stopping(struct hd_ctx *c, sh_error *e) { return set_state(c, "stopping", e); }
static int to_deleting(struct hd_ctx *c, sh_error *e) { return set_state(c, "deleting", e); }

static int forget(struct hd_ctx *c, sh_error *e)
{
  int r = hd_db_exec(c->db, e, "DELETE FROM containers WHERE id = ?", "i", c->id);
  return r < 0 ? r : 0;
}

#define STEPS(name, ...) static const struct hd_step name[] = { __VA_ARGS__ }
/* (The volume's undo takes the keys with it.) */
STEPS(create_steps,
  { "volume", volume_create, volume_delete },
  { "ssh-keys", ssh_keys, NULL },
  { "stopped", to_stopped, NULL });
STEPS(clone_steps,
  { "volume", volume_clone, volume_delete },
  { "stopped", to_stopped, NULL });
#define START_STEPS \
  { "starting", to_starting, to_stopped }, \
  { "mount", mount_rootfs, unmount_rootfs }, \
  { "config", write_config, NULL }, \
  { "tenant", tenant_limits, NULL }, \
  { "create", runtime_create, halt }, \
  { "network", net_up, net_down }, \
  { "policy", policy_up, policy_down }, \
  { "start", runtime_start, NULL }, \
  { "running", to_running, NULL }
#define STOP_STEPS \
  { "stopping", to_stopping, NULL }, \
  { "halt", halt, NULL }, \
  { "policy", policy_down, NULL }, \
  { "network", net_down, NULL }, \
  { "unmount", unmount_rootfs, NULL }, \
  { "stopped", to_stopped, NULL }
STEPS(start_steps, START_STEPS);
STEPS(stop_steps, STOP_STEPS);
STEPS(restart_steps, STOP_STEPS, START_STEPS);
STEPS(delete_steps,
  { "deleting", to_deleting, NULL },
  { "halt", halt, NULL },
  { "policy", policy_down, NULL },
  { "network", net_down, NULL },
  { "unmount", unmount_rootfs, NULL },
  { "bundle", bundle_remove, NULL },
  { "volume", volume_delete, NULL },
  { "forget", forget, NULL });

/* ---- snapshots ---- */

static int snap_create(struct hd_ctx *c, sh_error *e)
{
  int r = sbx_snapshot_create(c->h->pool, c->ref, c->snapshot, e);
  if (r == -EEXIST) {  /* a step re-run after a crash */
    sh_error_clear(e);
    return 0;
  }
  return r;
}

static int snap_delete(struct hd_ctx *c, sh_error *e)
{
  int r = sbx_snapshot_delete(c->h->pool, c->ref, c->snapshot, e);
  if (r == -ENOENT) {
    sh_error_clear(e);
    return 0;
  }
  return r;
}

static int restore_now(struct hd_ctx *c, sh_error *e)
{
  return sbx_snapshot_restore(c->h->pool, c->ref, c->snapshot, e);
}

static int snap_restore(struct hd_ctx *c, sh_error *e) { return locked(restore_now, c, e); }

static int snap_forget(struct hd_ctx *c, sh_error *e)
{
  int r = hd_db_exec(c->db, e, "DELETE FROM snapshots WHERE container_id = ? AND name = ?", "it", c->id, c->snapshot);
  return r < 0 ? r : 0;
}

/* ---- rebuild ---- */

/* The container's image as args.image (record) or args.old_image (undo). */
static int set_image(struct hd_ctx *c, const char *key, sh_error *e)
{
  int r = hd_db_exec(c->db, e, "UPDATE containers SET image_id = (SELECT id FROM images WHERE name = ?), etag = etag + 1 WHERE id = ?",
                     "ti", json_string_value(json_object_get(c->args, key)), c->id);
  return r < 0 ? r : 0;
}
static int record_image(struct hd_ctx *c, sh_error *e) { return set_image(c, "image", e); }
static int unrecord_image(struct hd_ctx *c, sh_error *e) { return set_image(c, "old_image", e); }

/* A fresh tree from the image in place of the volume's, swapped in at once
 * by the storage library: a failure or a crash leaves the old tree or the
 * new one whole, and running it again rebuilds again. */
static int rebuild_now(struct hd_ctx *c, sh_error *e)
{
  return sbx_volume_rebuild(c->h->pool, c->ref, json_string_value(json_object_get(c->args, "image")), e);
}
static int rebuild_volume(struct hd_ctx *c, sh_error *e) { return locked(rebuild_now, c, e); }

static int nothing(struct hd_ctx *c, sh_error *e) { return 0; }
static int to_error(struct hd_ctx *c, sh_error *e) { return set_state(c, "error", e); }

static int net_refresh(struct hd_ctx *c, sh_error *e) { return hd_net_apply(c->h, c->db, e); }
/* The programs, then nft (its forwards come from the policy). */
STEPS(policy_steps, { "policy", policy_up, NULL }, { "forwards", net_refresh, NULL });
STEPS(snapshot_steps, { "snapshot", snap_create, snap_delete });
STEPS(restore_steps, { "restore", snap_restore, NULL });
STEPS(snapshot_delete_steps, { "snapshot", snap_delete, NULL }, { "forget", snap_forget, NULL });
STEPS(rebuild_steps, { "image", record_image, unrecord_image }, { "volume", rebuild_volume, NULL });

static const struct hd_op_kind kinds[] = {
  { "create", create_steps, SH_ARRAY_SIZE(create_steps), forget },
  /* A failed clone leaves no container (the source is untouched). */
  { "clone", clone_steps, SH_ARRAY_SIZE(clone_steps), forget },
  { "start", start_steps, SH_ARRAY_SIZE(start_steps), to_stopped },
  { "stop", stop_steps, SH_ARRAY_SIZE(stop_steps), to_error },
  { "restart", restart_steps, SH_ARRAY_SIZE(restart_steps), to_error },
  { "delete", delete_steps, SH_ARRAY_SIZE(delete_steps), to_error },
  /* A failed snapshot leaves no row; a failed restore or snapshot delete
   * leaves the container as it was. */
  { "snapshot", snapshot_steps, SH_ARRAY_SIZE(snapshot_steps), snap_forget },
  /* A live policy change that fails leaves the policy in force as it was. */
  { "policy", policy_steps, SH_ARRAY_SIZE(policy_steps), nothing },
  { "restore", restore_steps, SH_ARRAY_SIZE(restore_steps), nothing },
  { "snapshot-delete", snapshot_delete_steps, SH_ARRAY_SIZE(snapshot_delete_steps), nothing },
  /* A failed rebuild leaves the container stopped, with its old tree and image. */
  { "rebuild", rebuild_steps, SH_ARRAY_SIZE(rebuild_steps), nothing },
};

const struct hd_op_kind *hd_op_kind_find(const char *kind)
{
  for (size_t i = 0; kind && i < SH_ARRAY_SIZE(kinds); i++)
    if (strcmp(kinds[i].kind, kind) == 0)
      return &kinds[i];
  return NULL;
}
