/* cgroup placement and lifecycle for both modes. */
#include "cgroup-internal.h"
#include "cleanup.h"
#include "fdutil.h"
#include "jsonutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#define CG_ROOT "/sys/fs/cgroup"

struct sbx_cg_write *cg_plan_add(struct cg_plan *p, const char *ctrl, const char *file,
                                 const char *alt, const char *field, const char *fmt, ...)
{
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    struct sbx_cg_write *w = realloc(p->w, cap * sizeof *w);
    if (!w)
      return NULL;
    p->w = w;
    p->cap = cap;
  }
  struct sbx_cg_write *w = &p->w[p->n++];
  memset(w, 0, sizeof *w);
  snprintf(w->ctrl, sizeof w->ctrl, "%s", ctrl ? ctrl : "");
  snprintf(w->file, sizeof w->file, "%s", file);
  w->alt_file = alt;
  w->field = field;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->value, sizeof w->value, fmt, ap);
  va_end(ap);
  return w;
}

void cg_plan_cpuset_pids(const struct sbx_resources *r, struct cg_plan *p)
{
  const char *cr = "linux.resources.cpu";
  if (r->cpus)
    cg_plan_add(p, "cpuset", "cpuset.cpus", NULL, cr, "%s", r->cpus);
  if (r->mems)
    cg_plan_add(p, "cpuset", "cpuset.mems", NULL, cr, "%s", r->mems);
  if (r->pids_limit.set) {
    if (r->pids_limit.v > 0)
      cg_plan_add(p, "pids", "pids.max", NULL, "linux.resources.pids", "%lld", (long long) r->pids_limit.v);
    else
      cg_plan_add(p, "pids", "pids.max", NULL, "linux.resources.pids", "max");
  }
}

int sbx_cgroup_plan(const struct sbx_resources *r, enum sbx_cg_mode mode,
                    struct sbx_cg_write **out, size_t *n, sh_error *e)
{
  struct cg_plan p = {0};
  int ret = mode == SBX_CG_V2 ? cg_plan_v2(r, &p, e) : cg_plan_v1(r, &p, e);
  if (ret < 0) {
    free(p.w);
    return ret;
  }
  *out = p.w;
  *n = p.n;
  return 0;
}

enum sbx_cg_mode sbx_cgroup_host_mode(void)
{
  struct statfs s;
  if (statfs(CG_ROOT, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC)
    return SBX_CG_V2;
  return SBX_CG_HYBRID;
}

const char *sbx_cgroup_unified_mount(void)
{
  return sbx_cgroup_host_mode() == SBX_CG_V2 ? CG_ROOT : CG_ROOT "/unified";
}

/* Our own cgroup for a controller ("" for the unified hierarchy). */
static int own_cgroup(const char *ctrl, char *out, size_t len, sh_error *e)
{
  _cleanup_free_ char *text = NULL;
  int r = sh_read_file_at(AT_FDCWD, "/proc/self/cgroup", &text, NULL, e);
  if (r < 0)
    return r;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2)
      continue;
    *c2 = '\0';
    const char *ctrls = c1 + 1;
    bool match = false;
    if (!*ctrl)
      match = *ctrls == '\0';
    else {
      _cleanup_free_ char *dup = strdup(ctrls);
      char *s2 = NULL;
      for (char *t = dup ? strtok_r(dup, ",", &s2) : NULL; t; t = strtok_r(NULL, ",", &s2))
        match |= strcmp(t, ctrl) == 0;
    }
    if (match) {
      snprintf(out, len, "%s", strcmp(c2 + 1, "/") == 0 ? "" : c2 + 1);
      return 0;
    }
  }
  return sh_err(e, ENOENT, "find own cgroup", "/proc/self/cgroup",
                "no line for controller '%s'", *ctrl ? ctrl : "unified");
}

/* v1 controllers a container joins; the optional ones only when a limit needs them. */
static const struct { const char *name; bool always; } v1_ctrls[] = {
  {"memory", true}, {"pids", true}, {"cpu", true}, {"cpuacct", true}, {"freezer", true},
  {"cpuset", false}, {"blkio", false},
};

static int leaf_path(const char *mount, const char *own, const char *cgpath, char **out, sh_error *e)
{
  int n;
  if (cgpath[0] == '/') {
    /* An absolute cgroupsPath must already lie below our own cgroup. */
    size_t ol = strlen(own);
    if (ol && (strncmp(cgpath, own, ol) != 0 || (cgpath[ol] != '/' && cgpath[ol] != '\0')))
      return sh_err(e, EPERM, "config", "linux.cgroupsPath",
                    "%s is outside this process's cgroup %s", cgpath, own);
    if (strlen(cgpath) == ol)
      return sh_err(e, EINVAL, "config", "linux.cgroupsPath", "must name a cgroup below %s", own[0] ? own : "/");
    n = asprintf(out, "%s%s", mount, cgpath);
  } else {
    n = asprintf(out, "%s%s/%s", mount, own, cgpath);
  }
  return n < 0 ? sh_err(e, ENOMEM, "cgroup", cgpath, NULL) : 0;
}

int sbx_cgroup_resolve(const struct sbx_config *c, const char *id, struct sbx_cgroup *cg, sh_error *e)
{
  char own[PATH_MAX], cgpath[PATH_MAX];
  int r;
  memset(cg, 0, sizeof *cg);
  cg->mode = sbx_cgroup_host_mode();
  if (c->cgroups_path && *c->cgroups_path)
    snprintf(cgpath, sizeof cgpath, "%s", c->cgroups_path);
  else {
    snprintf(cgpath, sizeof cgpath, "sbx/%s", id);
    cg->own_parent = true;
  }

  if ((r = own_cgroup("", own, sizeof own, e)) < 0)
    return r;
  if ((r = leaf_path(sbx_cgroup_unified_mount(), own, cgpath, &cg->unified, e)) < 0)
    return r;
  if (cg->mode == SBX_CG_V2)
    return 0;
  for (size_t i = 0; i < SH_ARRAY_SIZE(v1_ctrls); i++) {
    const char *name = v1_ctrls[i].name;
    if (!v1_ctrls[i].always) {
      bool need = strcmp(name, "cpuset") == 0 ? (c->res.cpus || c->res.mems)
                : (c->res.blkio_weight.set || c->res.n_weight_dev || c->res.n_throttle[0] ||
                   c->res.n_throttle[1] || c->res.n_throttle[2] || c->res.n_throttle[3]);
      if (!need)
        continue;
    }
    char mount[PATH_MAX];
    snprintf(mount, sizeof mount, CG_ROOT "/%s", name);
    if (access(mount, F_OK) < 0) {
      if (v1_ctrls[i].always && strcmp(name, "cpuacct") == 0)
        continue;
      return sh_err(e, ENODEV, "cgroup", mount, "controller %s is not mounted; its limits cannot be enforced", name);
    }
    if ((r = own_cgroup(name, own, sizeof own, e)) < 0)
      return r;
    cg->v1_name[cg->n_v1] = strdup(name);
    if (!cg->v1_name[cg->n_v1])
      return sh_err(e, ENOMEM, "cgroup", name, NULL);
    if ((r = leaf_path(mount, own, cgpath, &cg->v1[cg->n_v1], e)) < 0)
      return r;
    cg->n_v1++;
  }
  return 0;
}

static const char *v1_leaf(const struct sbx_cgroup *cg, const char *ctrl)
{
  for (size_t i = 0; i < cg->n_v1; i++)
    if (strcmp(cg->v1_name[i], ctrl) == 0)
      return cg->v1[i];
  return NULL;
}

/* cpuset refuses tasks until cpus and mems are set; copy them down from the parent. */
static int cpuset_init(const char *leaf, sh_error *e)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", leaf);
  char *slash = strrchr(parent, '/');
  if (!slash)
    return 0;
  *slash = '\0';
  for (size_t i = 0; i < SH_ARRAY_SIZE(files); i++) {
    char f[PATH_MAX];
    _cleanup_free_ char *cur = NULL, *val = NULL;
    snprintf(f, sizeof f, "%s/%s", leaf, files[i]);
    if (sh_read_file_at(AT_FDCWD, f, &cur, NULL, e) < 0)
      return -e->err;
    if (cur[0] != '\n' && cur[0] != '\0')
      continue;
    int r = cpuset_init(parent, e);
    if (r < 0)
      return r;
    snprintf(f, sizeof f, "%s/%s", parent, files[i]);
    if (sh_read_file_at(AT_FDCWD, f, &val, NULL, e) < 0)
      return -e->err;
    snprintf(f, sizeof f, "%s/%s", leaf, files[i]);
    if (sh_write_file_at(AT_FDCWD, f, val, e) < 0)
      return -e->err;
  }
  return 0;
}

static int apply_plan(const struct sbx_cgroup *cg, const struct sbx_cg_write *w, size_t n, sh_error *e)
{
  for (size_t i = 0; i < n; i++) {
    const char *dir = cg->mode == SBX_CG_V2 ? cg->unified : v1_leaf(cg, w[i].ctrl);
    char f[PATH_MAX];
    if (!dir)
      return sh_err(e, ENODEV, "cgroup", w[i].field, "controller %s is not available", w[i].ctrl);
    snprintf(f, sizeof f, "%s/%s", dir, w[i].file);
    if (access(f, F_OK) < 0 && w[i].alt_file)
      snprintf(f, sizeof f, "%s/%s", dir, w[i].alt_file);
    if (access(f, F_OK) < 0)
      return sh_err(e, EOPNOTSUPP, "cgroup", w[i].field,
                    "%s does not exist on this host, so the limit cannot be enforced", f);
    if (sh_write_file_at(AT_FDCWD, f, w[i].value, NULL) < 0)
      return sh_err(e, errno, "cgroup", w[i].field, "writing '%s' to %s", w[i].value, f);
  }
  return 0;
}

int sbx_cgroup_apply(const struct sbx_cgroup *cg, const struct sbx_resources *r, sh_error *e)
{
  _cleanup_free_ struct sbx_cg_write *w = NULL;
  size_t n = 0;
  int ret = sbx_cgroup_plan(r, cg->mode, &w, &n, e);
  if (ret < 0)
    return ret;
  return apply_plan(cg, w, n, e);
}

static int mkleaf(const char *path, sh_error *e)
{
  int r = sh_mkdir_p(path, 0755);
  /* A concurrent delete may remove an empty shared parent between our mkdirs. */
  for (int i = 0; r == -ENOENT && i < 5; i++)
    r = sh_mkdir_p(path, 0755);
  if (r < 0)
    return sh_err(e, -r, "create cgroup", path, NULL);
  return 0;
}

int sbx_cgroup_create(const struct sbx_config *c, struct sbx_cgroup *cg, sh_error *e)
{
  struct cg_plan p = {0};
  int r = cg->mode == SBX_CG_V2 ? cg_plan_v2(&c->res, &p, e) : cg_plan_v1(&c->res, &p, e);
  _cleanup_free_ struct sbx_cg_write *guard = p.w;
  if (r < 0)
    return r;
  struct stat st;
  if (stat(cg->unified, &st) == 0)
    return sh_err(e, EEXIST, "create cgroup", cg->unified, "already exists");
  if (cg->mode == SBX_CG_V2) {
    char own[PATH_MAX];
    const char *mnt = sbx_cgroup_unified_mount();
    if ((r = own_cgroup("", own, sizeof own, e)) < 0)
      return r;
    char ownabs[PATH_MAX];
    snprintf(ownabs, sizeof ownabs, "%s%s", mnt, own);
    /* Intermediate dirs first, so controllers can be enabled on the way down. */
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", cg->unified);
    *strrchr(parent, '/') = '\0';
    if ((r = mkleaf(parent, e)) < 0)
      return r;
    if ((r = cg_v2_enable(ownabs, cg->unified, &p, e)) < 0)
      return r;
  }
  if ((r = mkleaf(cg->unified, e)) < 0)
    return r;
  for (size_t i = 0; i < cg->n_v1; i++) {
    if ((r = mkleaf(cg->v1[i], e)) < 0)
      return r;
    if (strcmp(cg->v1_name[i], "cpuset") == 0 && (r = cpuset_init(cg->v1[i], e)) < 0)
      return r;
  }
  if ((r = apply_plan(cg, p.w, p.n, e)) < 0)
    return r;
  if (c->res.n_devices)
    return sbx_cgroup_dev_attach(cg->unified, c->res.devices, c->res.n_devices, e);
  return 0;
}

static int write_pid(const char *dir, pid_t pid, sh_error *e)
{
  char f[PATH_MAX], v[32];
  snprintf(f, sizeof f, "%s/cgroup.procs", dir);
  snprintf(v, sizeof v, "%d", pid);
  if (sh_write_file_at(AT_FDCWD, f, v, NULL) < 0)
    return sh_err(e, errno, "join cgroup", f, NULL);
  return 0;
}

int sbx_cgroup_enter(const struct sbx_cgroup *cg, pid_t pid, sh_error *e)
{
  int r;
  for (size_t i = 0; i < cg->n_v1; i++)
    if ((r = write_pid(cg->v1[i], pid, e)) < 0)
      return r;
  return write_pid(cg->unified, pid, e);
}

int sbx_cgroup_enter_self_v1(const struct sbx_cgroup *cg, sh_error *e)
{
  /* Moving oneself by thread ("0" into tasks) skips the global threadgroup
   * lock whose write side waits for an RCU grace period: a whole-process move
   * costs milliseconds, this costs microseconds.  Callers are single-threaded. */
  for (size_t i = 0; i < cg->n_v1; i++) {
    char f[PATH_MAX];
    snprintf(f, sizeof f, "%s/tasks", cg->v1[i]);
    if (sh_write_file_at(AT_FDCWD, f, "0", NULL) < 0)
      return sh_err(e, errno, "join cgroup", f, NULL);
  }
  return 0;
}

int sbx_cgroup_open_leaf(const struct sbx_cgroup *cg, sh_error *e)
{
  int fd = open(cg->unified, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sh_errno(e, "open cgroup", cg->unified);
  return fd;
}

/* Signal every process listed in dir; returns how many were signalled. */
static int signal_procs(const char *dir, int sig)
{
  char f[PATH_MAX];
  _cleanup_free_ char *text = NULL;
  snprintf(f, sizeof f, "%s/cgroup.procs", dir);
  if (sh_read_file_at(AT_FDCWD, f, &text, NULL, NULL) < 0)
    return -errno;
  int n = 0;
  for (char *p = text, *end; *p; p = end) {
    long pid = strtol(p, &end, 10);
    if (end == p)
      break;
    if (pid > 0 && kill((pid_t) pid, sig) == 0)
      n++;
    while (*end == '\n')
      end++;
  }
  return n;
}

static int kill_procs(const char *dir)
{
  return signal_procs(dir, SIGKILL);
}

int sbx_cgroup_signal(const struct sbx_cgroup *cg, int sig)
{
  return signal_procs(cg->unified, sig);
}

static int rmdir_wait(const char *dir, sh_error *e)
{
  /* A killed task leaves its cgroup a moment after the signal. */
  for (int i = 0; i < 2000; i++) {
    if (rmdir(dir) == 0 || errno == ENOENT)
      return 0;
    if (errno != EBUSY)
      return sh_errno(e, "remove cgroup", dir);
    kill_procs(dir);
    struct timespec ts = { 0, 1000000 };
    nanosleep(&ts, NULL);
  }
  return sh_err(e, EBUSY, "remove cgroup", dir, "processes did not exit");
}

static void rmdir_parent(const char *leaf)
{
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", leaf);
  char *slash = strrchr(parent, '/');
  if (slash) {
    *slash = '\0';
    rmdir(parent); /* EBUSY or ENOTEMPTY: other containers still use it */
  }
}

int sbx_cgroup_destroy(const struct sbx_cgroup *cg, sh_error *e)
{
  int ret = 0, r;
  if (!cg->unified)
    return 0;
  if (cg->mode == SBX_CG_V2) {
    char f[PATH_MAX];
    snprintf(f, sizeof f, "%s/cgroup.kill", cg->unified);
    if (sh_write_file_at(AT_FDCWD, f, "1", NULL) < 0 && errno != ENOENT)
      kill_procs(cg->unified);
  } else {
    /* A frozen v1 task cannot die; thaw first. */
    const char *fz = v1_leaf(cg, "freezer");
    char f[PATH_MAX];
    if (fz) {
      snprintf(f, sizeof f, "%s/freezer.state", fz);
      sh_write_file_at(AT_FDCWD, f, "THAWED", NULL);
    }
    kill_procs(cg->unified);
  }
  if ((r = rmdir_wait(cg->unified, e)) < 0)
    ret = r;
  for (size_t i = 0; i < cg->n_v1; i++)
    if ((r = rmdir_wait(cg->v1[i], e)) < 0 && ret == 0)
      ret = r;
  if (ret == 0 && cg->own_parent) {
    /* The shared "sbx" parent goes with the last container; busy is fine. */
    rmdir_parent(cg->unified);
    for (size_t i = 0; i < cg->n_v1; i++)
      rmdir_parent(cg->v1[i]);
  }
  return ret;
}

int sbx_cgroup_freeze(const struct sbx_cgroup *cg, bool freeze, sh_error *e)
{
  char f[PATH_MAX];
  const char *want;
  if (cg->mode == SBX_CG_V2) {
    snprintf(f, sizeof f, "%s/cgroup.freeze", cg->unified);
    if (sh_write_file_at(AT_FDCWD, f, freeze ? "1" : "0", e) < 0)
      return -e->err;
    snprintf(f, sizeof f, "%s/cgroup.events", cg->unified);
    want = freeze ? "frozen 1" : "frozen 0";
  } else {
    const char *fz = v1_leaf(cg, "freezer");
    if (!fz)
      return sh_err(e, ENODEV, "freeze", "freezer", "the freezer controller is not available");
    snprintf(f, sizeof f, "%s/freezer.state", fz);
    if (sh_write_file_at(AT_FDCWD, f, freeze ? "FROZEN" : "THAWED", e) < 0)
      return -e->err;
    want = freeze ? "FROZEN" : "THAWED";
  }
  for (int i = 0; i < 5000; i++) {
    _cleanup_free_ char *text = NULL;
    if (sh_read_file_at(AT_FDCWD, f, &text, NULL, e) < 0)
      return -e->err;
    if (strstr(text, want))
      return 0;
    struct timespec ts = { 0, 1000000 };
    nanosleep(&ts, NULL);
  }
  return sh_err(e, ETIMEDOUT, freeze ? "freeze" : "thaw", f, "the cgroup did not reach '%s'", want);
}

bool sbx_cgroup_is_frozen(const struct sbx_cgroup *cg)
{
  char f[PATH_MAX];
  _cleanup_free_ char *text = NULL;
  if (cg->mode == SBX_CG_V2) {
    snprintf(f, sizeof f, "%s/cgroup.freeze", cg->unified);
    return sh_read_file_at(AT_FDCWD, f, &text, NULL, NULL) == 0 && text[0] == '1';
  }
  const char *fz = v1_leaf(cg, "freezer");
  if (!fz)
    return false;
  snprintf(f, sizeof f, "%s/freezer.state", fz);
  return sh_read_file_at(AT_FDCWD, f, &text, NULL, NULL) == 0 && strncmp(text, "FROZEN", 6) == 0;
}

json_t *sbx_cgroup_to_json(const struct sbx_cgroup *cg)
{
  json_t *v1 = json_object();
  for (size_t i = 0; i < cg->n_v1; i++)
    json_object_set_new(v1, cg->v1_name[i], json_string(cg->v1[i]));
  return json_pack("{s:s,s:s,s:o,s:b}", "mode", cg->mode == SBX_CG_V2 ? "v2" : "hybrid",
                   "unified", cg->unified ? cg->unified : "", "v1", v1, "ownParent", cg->own_parent);
}

int sbx_cgroup_from_json(json_t *j, struct sbx_cgroup *cg, sh_error *e)
{
  const char *mode = NULL, *unified = NULL;
  json_t *v1 = NULL;
  memset(cg, 0, sizeof *cg);
  if (!j || json_unpack(j, "{s:s,s:s,s:o}", "mode", &mode, "unified", &unified, "v1", &v1) < 0)
    return sh_err(e, EINVAL, "read state", "cgroup", "malformed cgroup record");
  cg->mode = strcmp(mode, "v2") == 0 ? SBX_CG_V2 : SBX_CG_HYBRID;
  cg->unified = strdup(unified);
  cg->own_parent = json_is_true(json_object_get(j, "ownParent"));
  const char *k;
  json_t *v;
  json_object_foreach(v1, k, v) {
    if (cg->n_v1 == SBX_CG_V1_MAX || !json_is_string(v))
      break;
    cg->v1_name[cg->n_v1] = strdup(k);
    cg->v1[cg->n_v1] = strdup(json_string_value(v));
    cg->n_v1++;
  }
  return 0;
}

void sbx_cgroup_clear(struct sbx_cgroup *cg)
{
  free(cg->unified);
  for (size_t i = 0; i < cg->n_v1; i++) {
    free(cg->v1_name[i]);
    free(cg->v1[i]);
  }
  memset(cg, 0, sizeof *cg);
}

/* ---- usage ---- */

/* The first number in dir/file, or after "key " in it; 0 when absent. */
static uint64_t read_num(const char *dir, const char *file, const char *key)
{
  if (!dir)
    return 0;
  char f[PATH_MAX];
  snprintf(f, sizeof f, "%s/%s", dir, file);
  _cleanup_free_ char *text = NULL;
  if (sh_read_file_at(AT_FDCWD, f, &text, NULL, NULL) < 0)
    return 0;
  const char *p = text;
  if (key) {
    size_t kl = strlen(key);
    for (p = text; p && !(strncmp(p, key, kl) == 0 && p[kl] == ' '); p = strchr(p, '\n'), p = p ? p + 1 : NULL)
      ;
    if (!p)
      return 0;
    p += kl + 1;
  }
  return strtoull(p, NULL, 10);
}

/* Sum "rbytes=" and "wbytes=" over io.stat's devices (v2). */
static void io_v2(const char *dir, struct sbx_cg_stats *out)
{
  char f[PATH_MAX];
  snprintf(f, sizeof f, "%s/io.stat", dir);
  _cleanup_free_ char *text = NULL;
  if (sh_read_file_at(AT_FDCWD, f, &text, NULL, NULL) < 0)
    return;
  for (char *p = text; (p = strstr(p, "bytes=")); p += 6) {
    uint64_t v = strtoull(p + 6, NULL, 10);
    if (p > text && p[-1] == 'r')
      out->io_read_bytes += v;
    else if (p > text && p[-1] == 'w')
      out->io_write_bytes += v;
  }
}

/* Sum "Read" and "Write" lines of blkio.throttle.io_service_bytes (v1). */
static void io_v1(const char *dir, struct sbx_cg_stats *out)
{
  if (!dir)
    return;
  char f[PATH_MAX];
  snprintf(f, sizeof f, "%s/blkio.throttle.io_service_bytes", dir);
  _cleanup_free_ char *text = NULL;
  if (sh_read_file_at(AT_FDCWD, f, &text, NULL, NULL) < 0)
    return;
  for (char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    char dev[32], op[16];
    unsigned long long v;
    if (sscanf(line, "%31s %15s %llu", dev, op, &v) == 3) {
      if (strcmp(op, "Read") == 0)
        out->io_read_bytes += v;
      else if (strcmp(op, "Write") == 0)
        out->io_write_bytes += v;
    }
  }
}

int sbx_cgroup_stats(const struct sbx_cgroup *cg, struct sbx_cg_stats *out, sh_error *e)
{
  memset(out, 0, sizeof *out);
  struct stat st;
  if (!cg->unified || stat(cg->unified, &st) < 0)
    return sh_err(e, ENOENT, "cgroup stats", cg->unified, "no such cgroup");
  if (cg->mode == SBX_CG_V2) {
    out->cpu_usec = read_num(cg->unified, "cpu.stat", "usage_usec");
    out->memory_bytes = read_num(cg->unified, "memory.current", NULL);
    out->pids = read_num(cg->unified, "pids.current", NULL);
    io_v2(cg->unified, out);
    return 0;
  }
  out->cpu_usec = read_num(v1_leaf(cg, "cpuacct"), "cpuacct.usage", NULL) / 1000;
  out->memory_bytes = read_num(v1_leaf(cg, "memory"), "memory.usage_in_bytes", NULL);
  out->pids = read_num(v1_leaf(cg, "pids"), "pids.current", NULL);
  io_v1(v1_leaf(cg, "blkio"), out);
  return 0;
}
