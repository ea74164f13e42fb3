/* Strict parsing of the OCI runtime-spec config.json. */
#include "config.h"
#include "cleanup.h"
#include "fdutil.h"
#include "jsonutil.h"

#include <errno.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <time.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define CTX_MAX 256

static int oom(sh_error *e, const char *what)
{
  return sh_err(e, ENOMEM, "config", what, NULL);
}

static int bad(sh_error *e, const char *ctx, const char *key, const char *why)
{
  char p[CTX_MAX];
  return sh_err(e, EINVAL, "config", sh_json_path(p, sizeof p, ctx, key), "%s", why);
}

static int dupstr(json_t *o, const char *key, const char *ctx, char **out, sh_error *e)
{
  const char *s = NULL;
  int r = sh_json_get_str(o, key, ctx, &s, e);
  if (r < 0 || !s)
    return r;
  *out = strdup(s);
  return *out ? 0 : oom(e, key);
}

/* ---- capabilities ---- */

static int parse_capset(json_t *caps, const char *key, const char *ctx, uint64_t *out, sh_error *e)
{
  json_t *arr = NULL;
  char p[CTX_MAX];
  int r = sh_json_get_arr(caps, key, ctx, &arr, e);
  if (r < 0 || !arr)
    return r;
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    int c = json_is_string(v) ? sh_cap_from_name(json_string_value(v)) : -1;
    if (c < 0) {
      char q[CTX_MAX + 16];
      snprintf(q, sizeof q, "%s[%zu]", sh_json_path(p, sizeof p, ctx, key), i);
      return sh_err(e, EINVAL, "config", q, "unknown capability %s",
                    json_is_string(v) ? json_string_value(v) : "(not a string)");
    }
    *out |= 1ULL << c;
  }
  return 0;
}

/* ---- rlimits ---- */

static const struct { const char *name; int res; } rlimit_table[] = {
  {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU},
  {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE},
  {"RLIMIT_LOCKS", RLIMIT_LOCKS}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
  {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
  {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},
  {"RLIMIT_RSS", RLIMIT_RSS}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
  {"RLIMIT_RTTIME", RLIMIT_RTTIME}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
  {"RLIMIT_STACK", RLIMIT_STACK},
};

/* ---- process ---- */

void sbx_process_clear(struct sbx_process *p)
{
  sh_strvfreep(&p->args);
  sh_strvfreep(&p->env);
  free(p->cwd);
  free(p->user.groups);
  free(p->rlimits);
  free(p->selinux_label);
  memset(p, 0, sizeof *p);
}

int sbx_process_parse(json_t *p, const char *ctx, struct sbx_process *out, sh_error *e)
{
  static const char *const keys[] = {
    "args", "env", "cwd", "user", "capabilities", "rlimits", "noNewPrivileges",
    "oomScoreAdj", "selinuxLabel", "terminal", "consoleSize", "apparmorProfile", NULL };
  char c2[CTX_MAX];
  int r;

  if ((r = sh_json_check_keys(p, keys, ctx, e)) < 0)
    return r;
  if ((r = sh_json_get_strv(p, "args", ctx, &out->args, e)) < 0)
    return r;
  if (!out->args || !out->args[0])
    return bad(e, ctx, "args", "must hold at least one element");
  if ((r = sh_json_get_strv(p, "env", ctx, &out->env, e)) < 0)
    return r;
  if (!out->env && !(out->env = calloc(1, sizeof(char *))))
    return oom(e, "env");
  for (size_t i = 0; out->env[i]; i++)
    if (!strchr(out->env[i], '='))
      return bad(e, ctx, "env", "entries must be KEY=VALUE");
  if ((r = dupstr(p, "cwd", ctx, &out->cwd, e)) < 0)
    return r;
  if (!out->cwd)
    return bad(e, ctx, "cwd", "is required");
  if (out->cwd[0] != '/')
    return bad(e, ctx, "cwd", "must be an absolute path");
  if ((r = sh_json_get_bool(p, "terminal", ctx, &out->terminal, e)) < 0)
    return r;
  if ((r = sh_json_get_bool(p, "noNewPrivileges", ctx, &out->no_new_privs, e)) < 0)
    return r;
  if ((r = dupstr(p, "selinuxLabel", ctx, &out->selinux_label, e)) < 0)
    return r;
  const char *aa = NULL;
  if ((r = sh_json_get_str(p, "apparmorProfile", ctx, &aa, e)) < 0)
    return r;
  if (aa && *aa)
    return bad(e, ctx, "apparmorProfile", "AppArmor is not supported by sbx (SELinux is)");
  json_t *cs = NULL;
  if ((r = sh_json_get_obj(p, "consoleSize", ctx, &cs, e)) < 0)
    return r;
  if (json_object_get(p, "oomScoreAdj")) {
    out->oom_score_adj.set = true;
    if ((r = sh_json_get_i64(p, "oomScoreAdj", ctx, &out->oom_score_adj.v, e)) < 0)
      return r;
    if (out->oom_score_adj.v < -1000 || out->oom_score_adj.v > 1000)
      return bad(e, ctx, "oomScoreAdj", "must be within -1000..1000");
  }

  json_t *u = NULL;
  sh_json_path(c2, sizeof c2, ctx, "user");
  if ((r = sh_json_get_obj(p, "user", ctx, &u, e)) < 0)
    return r;
  if (u) {
    static const char *const ukeys[] = { "uid", "gid", "additionalGids", "umask", "username", NULL };
    int64_t uid = 0, gid = 0, um = 0;
    if ((r = sh_json_check_keys(u, ukeys, c2, e)) < 0 ||
        (r = sh_json_get_i64(u, "uid", c2, &uid, e)) < 0 ||
        (r = sh_json_get_i64(u, "gid", c2, &gid, e)) < 0)
      return r;
    if (uid < 0 || uid > UINT32_MAX - 1 || gid < 0 || gid > UINT32_MAX - 1)
      return bad(e, c2, "uid", "uid and gid must be valid ids");
    out->user.uid = (uid_t) uid;
    out->user.gid = (gid_t) gid;
    if (json_object_get(u, "umask")) {
      if ((r = sh_json_get_i64(u, "umask", c2, &um, e)) < 0)
        return r;
      if (um < 0 || um > 0777)
        return bad(e, c2, "umask", "must be within 0..0777");
      out->user.umask = (mode_t) um;
      out->user.umask_set = true;
    }
    json_t *g = NULL;
    if ((r = sh_json_get_arr(u, "additionalGids", c2, &g, e)) < 0)
      return r;
    if (g && json_array_size(g)) {
      out->user.n_groups = json_array_size(g);
      if (!(out->user.groups = calloc(out->user.n_groups, sizeof(gid_t))))
        return oom(e, "additionalGids");
      size_t i;
      json_t *v;
      json_array_foreach(g, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX - 1)
          return bad(e, c2, "additionalGids", "must hold valid gids");
        out->user.groups[i] = (gid_t) json_integer_value(v);
      }
    }
  }

  json_t *caps = NULL;
  sh_json_path(c2, sizeof c2, ctx, "capabilities");
  if ((r = sh_json_get_obj(p, "capabilities", ctx, &caps, e)) < 0)
    return r;
  if (caps) {
    static const char *const ckeys[] = { "bounding", "effective", "inheritable", "permitted", "ambient", NULL };
    if ((r = sh_json_check_keys(caps, ckeys, c2, e)) < 0 ||
        (r = parse_capset(caps, "bounding", c2, &out->caps.bounding, e)) < 0 ||
        (r = parse_capset(caps, "effective", c2, &out->caps.effective, e)) < 0 ||
        (r = parse_capset(caps, "inheritable", c2, &out->caps.inheritable, e)) < 0 ||
        (r = parse_capset(caps, "permitted", c2, &out->caps.permitted, e)) < 0 ||
        (r = parse_capset(caps, "ambient", c2, &out->caps.ambient, e)) < 0)
      return r;
    if ((out->caps.effective & ~out->caps.permitted) != 0)
      return bad(e, c2, "effective", "must be a subset of permitted");
    if ((out->caps.ambient & ~(out->caps.permitted & out->caps.inheritable)) != 0)
      return bad(e, c2, "ambient", "must be a subset of permitted and inheritable");
  }

  json_t *rl = NULL;
  sh_json_path(c2, sizeof c2, ctx, "rlimits");
  if ((r = sh_json_get_arr(p, "rlimits", ctx, &rl, e)) < 0)
    return r;
  if (rl && json_array_size(rl)) {
    out->n_rlimits = json_array_size(rl);
    if (!(out->rlimits = calloc(out->n_rlimits, sizeof *out->rlimits)))
      return oom(e, "rlimits");
    size_t i;
    json_t *v;
    json_array_foreach(rl, i, v) {
      static const char *const rkeys[] = { "type", "soft", "hard", NULL };
      char c3[CTX_MAX + 16];
      snprintf(c3, sizeof c3, "%s[%zu]", c2, i);
      if (!json_is_object(v))
        return bad(e, c3, "", "must be an object");
      const char *type = NULL;
      uint64_t soft = 0, hard = 0;
      if ((r = sh_json_check_keys(v, rkeys, c3, e)) < 0 ||
          (r = sh_json_get_str(v, "type", c3, &type, e)) < 0 ||
          (r = sh_json_get_u64(v, "soft", c3, &soft, e)) < 0 ||
          (r = sh_json_get_u64(v, "hard", c3, &hard, e)) < 0)
        return r;
      int res = -1;
      for (size_t k = 0; type && k < SH_ARRAY_SIZE(rlimit_table); k++)
        if (strcmp(rlimit_table[k].name, type) == 0)
          res = rlimit_table[k].res;
      if (res < 0)
        return bad(e, c3, "type", "unknown rlimit");
      if (soft > hard)
        return bad(e, c3, "soft", "must not exceed hard");
      for (size_t k = 0; k < i; k++)
        if (out->rlimits[k].resource == res)
          return bad(e, c3, "type", "is given twice");
      out->rlimits[i] = (struct sbx_rlimit) { res, soft, hard };
    }
  }
  return 0;
}

/* ---- mounts ---- */

enum { OPT_ATTR, OPT_BIND, OPT_RBIND, OPT_PROP, OPT_RATTR, OPT_BAD };

static const struct mount_opt {
  const char *name;
  int kind;
  uint64_t set, clr;
  unsigned long prop;
} mount_opts[] = {
  {"ro", OPT_ATTR, MOUNT_ATTR_RDONLY, 0, 0},
  {"rw", OPT_ATTR, 0, MOUNT_ATTR_RDONLY, 0},
  {"nosuid", OPT_ATTR, MOUNT_ATTR_NOSUID, 0, 0},
  {"suid", OPT_ATTR, 0, MOUNT_ATTR_NOSUID, 0},
  {"nodev", OPT_ATTR, MOUNT_ATTR_NODEV, 0, 0},
  {"dev", OPT_ATTR, 0, MOUNT_ATTR_NODEV, 0},
  {"noexec", OPT_ATTR, MOUNT_ATTR_NOEXEC, 0, 0},
  {"exec", OPT_ATTR, 0, MOUNT_ATTR_NOEXEC, 0},
  {"noatime", OPT_ATTR, MOUNT_ATTR_NOATIME, 0, 0},
  {"relatime", OPT_ATTR, MOUNT_ATTR_RELATIME, 0, 0},
  {"strictatime", OPT_ATTR, MOUNT_ATTR_STRICTATIME, 0, 0},
  {"nodiratime", OPT_ATTR, MOUNT_ATTR_NODIRATIME, 0, 0},
  {"atime", OPT_ATTR, 0, 0, 0},
  {"diratime", OPT_ATTR, 0, MOUNT_ATTR_NODIRATIME, 0},
  {"norelatime", OPT_ATTR, 0, 0, 0},
  {"rro", OPT_RATTR, MOUNT_ATTR_RDONLY, 0, 0},
  {"rrw", OPT_RATTR, 0, MOUNT_ATTR_RDONLY, 0},
  {"rnosuid", OPT_RATTR, MOUNT_ATTR_NOSUID, 0, 0},
  {"rnodev", OPT_RATTR, MOUNT_ATTR_NODEV, 0, 0},
  {"rnoexec", OPT_RATTR, MOUNT_ATTR_NOEXEC, 0, 0},
  {"bind", OPT_BIND, 0, 0, 0},
  {"rbind", OPT_RBIND, 0, 0, 0},
  {"private", OPT_PROP, 0, 0, MS_PRIVATE},
  {"rprivate", OPT_PROP, 0, 0, MS_PRIVATE | MS_REC},
  {"slave", OPT_PROP, 0, 0, MS_SLAVE},
  {"rslave", OPT_PROP, 0, 0, MS_SLAVE | MS_REC},
  {"unbindable", OPT_PROP, 0, 0, MS_UNBINDABLE},
  {"runbindable", OPT_PROP, 0, 0, MS_UNBINDABLE | MS_REC},
  {"shared", OPT_BAD, 0, 0, 0},
  {"rshared", OPT_BAD, 0, 0, 0},
  {"idmap", OPT_BAD, 0, 0, 0},
  {"ridmap", OPT_BAD, 0, 0, 0},
  {"tmpcopyup", OPT_BAD, 0, 0, 0},
  {"remount", OPT_BAD, 0, 0, 0},
  {"sync", OPT_BAD, 0, 0, 0},
  {"dirsync", OPT_BAD, 0, 0, 0},
  {"mand", OPT_BAD, 0, 0, 0},
};

static const char *const kernel_fs_types[] = {
  "proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2", "bind", "none", NULL };

static int parse_mount(json_t *m, const char *ctx, struct sbx_mount *out, sh_error *e)
{
  static const char *const keys[] = { "destination", "source", "type", "options", "uidMappings", "gidMappings", NULL };
  int r;
  if (!json_is_object(m))
    return bad(e, ctx, "", "must be an object");
  if ((r = sh_json_check_keys(m, keys, ctx, e)) < 0)
    return r;
  json_t *um = json_object_get(m, "uidMappings"), *gm = json_object_get(m, "gidMappings");
  if ((um && json_array_size(um)) || (gm && json_array_size(gm)))
    return bad(e, ctx, "uidMappings", "idmapped mounts are not supported yet");
  if ((r = dupstr(m, "destination", ctx, &out->destination, e)) < 0 ||
      (r = dupstr(m, "source", ctx, &out->source, e)) < 0 ||
      (r = dupstr(m, "type", ctx, &out->type, e)) < 0)
    return r;
  if (!out->destination || out->destination[0] != '/')
    return bad(e, ctx, "destination", "must be an absolute path");
  if (strstr(out->destination, "/../") || (strlen(out->destination) >= 3 &&
      strcmp(out->destination + strlen(out->destination) - 3, "/..") == 0))
    return bad(e, ctx, "destination", "must not contain '..'");
  _cleanup_strv_ char **opts = NULL;
  if ((r = sh_json_get_strv(m, "options", ctx, &opts, e)) < 0)
    return r;
  size_t ndata = 0;
  size_t nopts = 0;
  while (opts && opts[nopts])
    nopts++;
  out->data = calloc(nopts + 1, sizeof(char *));
  if (!out->data)
    return oom(e, "options");
  out->kind = out->type && strcmp(out->type, "bind") == 0 ? SBX_MNT_BIND : SBX_MNT_FS;
  if (out->type && strcmp(out->type, "bind") == 0)
    out->recursive = false;
  for (size_t i = 0; opts && opts[i]; i++) {
    const struct mount_opt *mo = NULL;
    for (size_t k = 0; k < SH_ARRAY_SIZE(mount_opts); k++)
      if (strcmp(mount_opts[k].name, opts[i]) == 0)
        mo = &mount_opts[k];
    if (!mo) {
      /* Anything else is filesystem data (size=, mode=, newinstance, ...). */
      if (!(out->data[ndata++] = strdup(opts[i])))
        return oom(e, "options");
      continue;
    }
    switch (mo->kind) {
    case OPT_BAD: {
      char c2[CTX_MAX];
      return sh_err(e, EINVAL, "config", sh_json_path(c2, sizeof c2, ctx, "options"),
                    "mount option '%s' is not supported", opts[i]);
    }
    case OPT_BIND:
      out->kind = SBX_MNT_BIND;
      break;
    case OPT_RBIND:
      out->kind = SBX_MNT_BIND;
      out->recursive = true;
      break;
    case OPT_PROP:
      out->propagation = mo->prop;
      break;
    case OPT_RATTR:
      out->recursive_attr = true;
      /* fall through */
    case OPT_ATTR:
      if (strstr(mo->name, "atime") && strcmp(mo->name, "nodiratime") && strcmp(mo->name, "diratime")) {
        /* The atime mode is one field: clear it, then set the mode. */
        out->attr_clr |= MOUNT_ATTR__ATIME;
        out->attr_set = (out->attr_set & ~(uint64_t) MOUNT_ATTR__ATIME) | mo->set;
        break;
      }
      out->attr_set = (out->attr_set & ~mo->clr) | mo->set;
      out->attr_clr = (out->attr_clr & ~mo->set) | mo->clr;
      break;
    }
  }
  if (out->kind == SBX_MNT_BIND) {
    if (!out->source || out->source[0] != '/')
      return bad(e, ctx, "source", "a bind mount needs an absolute host path");
    if (ndata)
      return sh_err(e, EINVAL, "config", ctx, "bind mount with unknown option '%s'", out->data[0]);
  } else {
    if (!out->type)
      return bad(e, ctx, "type", "is required for a non-bind mount");
    bool known = false;
    for (const char *const *t = kernel_fs_types; *t; t++)
      known |= strcmp(*t, out->type) == 0;
    if (!known)
      return sh_err(e, EINVAL, "config", ctx, "mount type '%s' is not supported "
                    "(proc, sysfs, tmpfs, devpts, mqueue, cgroup, cgroup2, bind)", out->type);
  }
  return 0;
}

/* ---- namespaces ---- */

static const struct { const char *name; int flag; } ns_table[] = {
  {"pid", CLONE_NEWPID}, {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
  {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"user", CLONE_NEWUSER},
  {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

static int parse_idmaps(json_t *linux_, const char *key, struct sbx_idmap **out, size_t *n, sh_error *e)
{
  json_t *arr = NULL;
  int r = sh_json_get_arr(linux_, key, "linux", &arr, e);
  if (r < 0 || !arr)
    return r;
  *n = json_array_size(arr);
  if (*n == 0)
    return 0;
  if (!(*out = calloc(*n, sizeof **out)))
    return oom(e, key);
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    static const char *const keys[] = { "containerID", "hostID", "size", NULL };
    char ctx[CTX_MAX];
    snprintf(ctx, sizeof ctx, "linux.%s[%zu]", key, i);
    if (!json_is_object(v))
      return bad(e, ctx, "", "must be an object");
    uint64_t c = UINT64_MAX, h = UINT64_MAX, s = 0;
    if ((r = sh_json_check_keys(v, keys, ctx, e)) < 0 ||
        (r = sh_json_get_u64(v, "containerID", ctx, &c, e)) < 0 ||
        (r = sh_json_get_u64(v, "hostID", ctx, &h, e)) < 0 ||
        (r = sh_json_get_u64(v, "size", ctx, &s, e)) < 0)
      return r;
    if (c > UINT32_MAX || h > UINT32_MAX || s == 0 || s > UINT32_MAX)
      return bad(e, ctx, "size", "containerID, hostID and a non-zero size are required");
    (*out)[i] = (struct sbx_idmap) { (uint32_t) c, (uint32_t) h, (uint32_t) s };
  }
  return 0;
}

/* ---- resources ---- */

static int opt_i64(json_t *o, const char *key, const char *ctx, struct sbx_opt *out, sh_error *e)
{
  if (!json_object_get(o, key) || json_is_null(json_object_get(o, key)))
    return 0;
  json_t *v = json_object_get(o, key);
  if (json_is_real(v) && json_real_value(v) >= 1.8e19) {
    out->set = true;
    out->v = -1; /* Go's uint64 max: unlimited */
    return 0;
  }
  int r = sh_json_get_i64(o, key, ctx, &out->v, e);
  if (r == 0)
    out->set = true;
  return r;
}

static int parse_io_devs(json_t *o, const char *key, const char *ctx, const char *valkey,
                         struct sbx_io_dev **out, size_t *n, sh_error *e)
{
  json_t *arr = NULL;
  int r = sh_json_get_arr(o, key, ctx, &arr, e);
  if (r < 0 || !arr || !json_array_size(arr))
    return r;
  *n = json_array_size(arr);
  if (!(*out = calloc(*n, sizeof **out)))
    return oom(e, key);
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    static const char *const k_rate[] = { "major", "minor", "rate", NULL };
    static const char *const k_weight[] = { "major", "minor", "weight", "leafWeight", NULL };
    char c2[CTX_MAX], c3[CTX_MAX + 16];
    snprintf(c3, sizeof c3, "%s[%zu]", sh_json_path(c2, sizeof c2, ctx, key), i);
    if (!json_is_object(v))
      return bad(e, c3, "", "must be an object");
    uint64_t val = 0;
    if ((r = sh_json_check_keys(v, strcmp(valkey, "rate") == 0 ? k_rate : k_weight, c3, e)) < 0 ||
        (r = sh_json_get_i64(v, "major", c3, &(*out)[i].major, e)) < 0 ||
        (r = sh_json_get_i64(v, "minor", c3, &(*out)[i].minor, e)) < 0 ||
        (r = sh_json_get_u64(v, valkey, c3, &val, e)) < 0)
      return r;
    if (json_object_get(v, "leafWeight"))
      return bad(e, c3, "leafWeight", "is not supported (cgroup v2 has no leaf weight)");
    if (strcmp(valkey, "weight") == 0 && (val < 10 || val > 1000))
      return bad(e, c3, "weight", "must be within 10..1000");
    (*out)[i].value = val;
  }
  return 0;
}

static int parse_dev_rules(json_t *arr, const char *ctx, struct sbx_resources *res, sh_error *e)
{
  res->n_devices = json_array_size(arr);
  if (!res->n_devices)
    return 0;
  if (!(res->devices = calloc(res->n_devices, sizeof *res->devices)))
    return oom(e, ctx);
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    static const char *const keys[] = { "allow", "type", "major", "minor", "access", NULL };
    char c3[CTX_MAX + 16];
    int r;
    snprintf(c3, sizeof c3, "%s[%zu]", ctx, i);
    if (!json_is_object(v))
      return bad(e, c3, "", "must be an object");
    struct sbx_dev_rule *d = &res->devices[i];
    const char *type = "a", *access = "rwm";
    d->major = d->minor = -1;
    if ((r = sh_json_check_keys(v, keys, c3, e)) < 0 ||
        (r = sh_json_get_bool(v, "allow", c3, &d->allow, e)) < 0 ||
        (r = sh_json_get_str(v, "type", c3, &type, e)) < 0 ||
        (r = sh_json_get_i64(v, "major", c3, &d->major, e)) < 0 ||
        (r = sh_json_get_i64(v, "minor", c3, &d->minor, e)) < 0 ||
        (r = sh_json_get_str(v, "access", c3, &access, e)) < 0)
      return r;
    if (!json_object_get(v, "allow"))
      return bad(e, c3, "allow", "is required");
    if (strlen(type) != 1 || !strchr("acb", type[0]))
      return bad(e, c3, "type", "must be a, c or b");
    d->type = type[0];
    for (const char *a = access; *a; a++) {
      switch (*a) {
      case 'r': d->access |= BPF_DEVCG_ACC_READ; break;
      case 'w': d->access |= BPF_DEVCG_ACC_WRITE; break;
      case 'm': d->access |= BPF_DEVCG_ACC_MKNOD; break;
      default: return bad(e, c3, "access", "must be made of r, w and m");
      }
    }
    if (!*access)
      d->access = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
  }
  return 0;
}

static int parse_resources(json_t *o, struct sbx_resources *res, sh_error *e)
{
  static const char *const keys[] = { "memory", "cpu", "pids", "blockIO", "devices", "unified", NULL };
  const char *ctx = "linux.resources";
  json_t *m = NULL, *c = NULL, *p = NULL, *b = NULL, *d = NULL, *u = NULL;
  int r;
  if ((r = sh_json_check_keys(o, keys, ctx, e)) < 0 ||
      (r = sh_json_get_obj(o, "memory", ctx, &m, e)) < 0 ||
      (r = sh_json_get_obj(o, "cpu", ctx, &c, e)) < 0 ||
      (r = sh_json_get_obj(o, "pids", ctx, &p, e)) < 0 ||
      (r = sh_json_get_obj(o, "blockIO", ctx, &b, e)) < 0 ||
      (r = sh_json_get_arr(o, "devices", ctx, &d, e)) < 0 ||
      (r = sh_json_get_obj(o, "unified", ctx, &u, e)) < 0)
    return r;
  if (m) {
    static const char *const mk[] = { "limit", "reservation", "swap", "swappiness", "disableOOMKiller", NULL };
    const char *cm = "linux.resources.memory";
    uint64_t sw = 0;
    if ((r = sh_json_check_keys(m, mk, cm, e)) < 0 ||
        (r = opt_i64(m, "limit", cm, &res->mem_limit, e)) < 0 ||
        (r = opt_i64(m, "reservation", cm, &res->mem_reservation, e)) < 0 ||
        (r = opt_i64(m, "swap", cm, &res->mem_swap, e)) < 0 ||
        (r = sh_json_get_bool(m, "disableOOMKiller", cm, &res->mem_disable_oom, e)) < 0)
      return r;
    if (json_object_get(m, "swappiness")) {
      if ((r = sh_json_get_u64(m, "swappiness", cm, &sw, e)) < 0)
        return r;
      if (sw > 100)
        return bad(e, cm, "swappiness", "must be within 0..100");
      res->mem_swappiness = (struct sbx_opt) { true, (int64_t) sw };
    }
    if (res->mem_limit.set && res->mem_limit.v == 0)
      return bad(e, cm, "limit", "must be positive or -1 (unlimited)");
  }
  if (c) {
    static const char *const ck[] = { "shares", "quota", "period", "cpus", "mems", "idle",
                                      "realtimeRuntime", "realtimePeriod", NULL };
    const char *cc = "linux.resources.cpu";
    struct sbx_opt rt = {0}, rtp = {0};
    if ((r = sh_json_check_keys(c, ck, cc, e)) < 0 ||
        (r = opt_i64(c, "shares", cc, &res->cpu_shares, e)) < 0 ||
        (r = opt_i64(c, "quota", cc, &res->cpu_quota, e)) < 0 ||
        (r = opt_i64(c, "period", cc, &res->cpu_period, e)) < 0 ||
        (r = opt_i64(c, "idle", cc, &res->cpu_idle, e)) < 0 ||
        (r = opt_i64(c, "realtimeRuntime", cc, &rt, e)) < 0 ||
        (r = opt_i64(c, "realtimePeriod", cc, &rtp, e)) < 0 ||
        (r = dupstr(c, "cpus", cc, &res->cpus, e)) < 0 ||
        (r = dupstr(c, "mems", cc, &res->mems, e)) < 0)
      return r;
    if ((rt.set && rt.v) || (rtp.set && rtp.v))
      return bad(e, cc, "realtimeRuntime", "real-time scheduling budgets are not supported");
    if (res->cpu_shares.set && (res->cpu_shares.v < 2 || res->cpu_shares.v > 262144))
      return bad(e, cc, "shares", "must be within 2..262144");
    if (res->cpu_period.set && (res->cpu_period.v < 1000 || res->cpu_period.v > 1000000))
      return bad(e, cc, "period", "must be within 1000..1000000 microseconds");
    if (res->cpu_quota.set && res->cpu_quota.v != -1 && res->cpu_quota.v < 1000)
      return bad(e, cc, "quota", "must be at least 1000 microseconds, or -1");
  }
  if (p) {
    static const char *const pk[] = { "limit", NULL };
    if ((r = sh_json_check_keys(p, pk, "linux.resources.pids", e)) < 0 ||
        (r = opt_i64(p, "limit", "linux.resources.pids", &res->pids_limit, e)) < 0)
      return r;
  }
  if (b) {
    static const char *const bk[] = { "weight", "leafWeight", "weightDevice", "throttleReadBpsDevice",
      "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice", NULL };
    static const char *const tk[] = { "throttleReadBpsDevice", "throttleWriteBpsDevice",
      "throttleReadIOPSDevice", "throttleWriteIOPSDevice" };
    const char *cb = "linux.resources.blockIO";
    if ((r = sh_json_check_keys(b, bk, cb, e)) < 0 ||
        (r = opt_i64(b, "weight", cb, &res->blkio_weight, e)) < 0 ||
        (r = parse_io_devs(b, "weightDevice", cb, "weight", &res->weight_dev, &res->n_weight_dev, e)) < 0)
      return r;
    if (json_object_get(b, "leafWeight"))
      return bad(e, cb, "leafWeight", "is not supported (cgroup v2 has no leaf weight)");
    if (res->blkio_weight.set && (res->blkio_weight.v < 10 || res->blkio_weight.v > 1000))
      return bad(e, cb, "weight", "must be within 10..1000");
    for (int i = 0; i < 4; i++)
      if ((r = parse_io_devs(b, tk[i], cb, "rate", &res->throttle[i], &res->n_throttle[i], e)) < 0)
        return r;
  }
  if (d && (r = parse_dev_rules(d, "linux.resources.devices", res, e)) < 0)
    return r;
  if (u && json_object_size(u)) {
    const char *k;
    json_t *v;
    res->n_unified = json_object_size(u);
    if (!(res->unified = calloc(res->n_unified, sizeof *res->unified)))
      return oom(e, "unified");
    size_t i = 0;
    json_object_foreach(u, k, v) {
      if (!json_is_string(v))
        return bad(e, "linux.resources.unified", k, "must be a string");
      if (strchr(k, '/') || k[0] == '.' || !strchr(k, '.'))
        return bad(e, "linux.resources.unified", k, "is not a cgroup interface file name");
      res->unified[i].key = strdup(k);
      res->unified[i].value = strdup(json_string_value(v));
      if (!res->unified[i].key || !res->unified[i].value)
        return oom(e, "unified");
      i++;
    }
  }
  res->any = res->mem_limit.set || res->mem_reservation.set || res->mem_swap.set ||
             res->mem_swappiness.set || res->mem_disable_oom || res->cpu_shares.set ||
             res->cpu_quota.set || res->cpu_period.set || res->cpu_idle.set || res->cpus ||
             res->mems || res->pids_limit.set || res->blkio_weight.set || res->n_weight_dev ||
             res->n_throttle[0] || res->n_throttle[1] || res->n_throttle[2] || res->n_throttle[3] ||
             res->n_unified;
  return 0;
}

/* Only sysctls that are scoped to the container's own namespaces. */
static int check_sysctl(const struct sbx_config *c, const char *key, sh_error *e)
{
  static const char *const ipc_keys[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
    "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", NULL };
  for (const char *p = key; *p; p++)
    if (!(*p == '.' || *p == '_' || *p == '-' || (*p >= 'a' && *p <= 'z') ||
          (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
      return bad(e, "linux.sysctl", key, "is not a sysctl name");
  if (strstr(key, ".."))
    return bad(e, "linux.sysctl", key, "is not a sysctl name");
  for (const char *const *k = ipc_keys; *k; k++)
    if (strcmp(*k, key) == 0)
      return (c->ns_new_flags & CLONE_NEWIPC) ? 0 :
             bad(e, "linux.sysctl", key, "needs a new ipc namespace");
  if (strncmp(key, "fs.mqueue.", 10) == 0)
    return (c->ns_new_flags & CLONE_NEWIPC) ? 0 :
           bad(e, "linux.sysctl", key, "needs a new ipc namespace");
  if (strncmp(key, "net.", 4) == 0)
    return (c->ns_new_flags & CLONE_NEWNET) ? 0 :
           bad(e, "linux.sysctl", key, "needs a new network namespace");
  return bad(e, "linux.sysctl", key, "is not namespaced; only ipc and net sysctls are allowed");
}

static int parse_linux(json_t *l, struct sbx_config *c, sh_error *e)
{
  static const char *const keys[] = {
    "namespaces", "uidMappings", "gidMappings", "resources", "cgroupsPath", "seccomp",
    "maskedPaths", "readonlyPaths", "mountLabel", "sysctl", "timeOffsets", "devices",
    "rootfsPropagation", NULL };
  int r;
  if ((r = sh_json_check_keys(l, keys, "linux", e)) < 0)
    return r;

  json_t *ns = NULL;
  if ((r = sh_json_get_arr(l, "namespaces", "linux", &ns, e)) < 0)
    return r;
  if (ns) {
    c->n_ns = json_array_size(ns);
    if (c->n_ns && !(c->ns = calloc(c->n_ns, sizeof *c->ns)))
      return oom(e, "namespaces");
    size_t i;
    json_t *v;
    json_array_foreach(ns, i, v) {
      static const char *const nk[] = { "type", "path", NULL };
      char ctx[CTX_MAX];
      const char *type = NULL;
      snprintf(ctx, sizeof ctx, "linux.namespaces[%zu]", i);
      if (!json_is_object(v))
        return bad(e, ctx, "", "must be an object");
      if ((r = sh_json_check_keys(v, nk, ctx, e)) < 0 ||
          (r = sh_json_get_str(v, "type", ctx, &type, e)) < 0 ||
          (r = dupstr(v, "path", ctx, &c->ns[i].path, e)) < 0)
        return r;
      for (size_t k = 0; type && k < SH_ARRAY_SIZE(ns_table); k++)
        if (strcmp(ns_table[k].name, type) == 0)
          c->ns[i].flag = ns_table[k].flag;
      if (!c->ns[i].flag)
        return bad(e, ctx, "type", "unknown namespace type");
      for (size_t k = 0; k < i; k++)
        if (c->ns[k].flag == c->ns[i].flag)
          return bad(e, ctx, "type", "is given twice");
      if (c->ns[i].path && c->ns[i].path[0] == '\0') {
        free(c->ns[i].path);
        c->ns[i].path = NULL;
      }
      if (c->ns[i].path && c->ns[i].path[0] != '/')
        return bad(e, ctx, "path", "must be an absolute path");
      if (!c->ns[i].path)
        c->ns_new_flags |= c->ns[i].flag;
    }
  }
  bool has_user = false, has_mnt = false;
  for (size_t i = 0; i < c->n_ns; i++) {
    has_user |= c->ns[i].flag == CLONE_NEWUSER;
    has_mnt |= c->ns[i].flag == CLONE_NEWNS && !c->ns[i].path;
  }
  if (!has_user)
    return bad(e, "linux", "namespaces", "a user namespace is required: sbx never runs privileged containers");
  if (!has_mnt)
    return bad(e, "linux", "namespaces", "a new mount namespace is required");

  if ((r = parse_idmaps(l, "uidMappings", &c->uid_map, &c->n_uid_map, e)) < 0 ||
      (r = parse_idmaps(l, "gidMappings", &c->gid_map, &c->n_gid_map, e)) < 0)
    return r;
  if (c->ns_new_flags & CLONE_NEWUSER) {
    if (!c->n_uid_map || !c->n_gid_map)
      return bad(e, "linux", "uidMappings", "a new user namespace needs uidMappings and gidMappings");
    if ((r = sbx_idmap_validate(c->uid_map, c->n_uid_map, "linux.uidMappings", e)) < 0 ||
        (r = sbx_idmap_validate(c->gid_map, c->n_gid_map, "linux.gidMappings", e)) < 0)
      return r;
  } else if (c->n_uid_map || c->n_gid_map) {
    return bad(e, "linux", "uidMappings", "cannot be set when joining an existing user namespace");
  }

  json_t *res = NULL;
  if ((r = sh_json_get_obj(l, "resources", "linux", &res, e)) < 0)
    return r;
  if (res && (r = parse_resources(res, &c->res, e)) < 0)
    return r;
  if ((r = dupstr(l, "cgroupsPath", "linux", &c->cgroups_path, e)) < 0)
    return r;
  if (c->cgroups_path && (strchr(c->cgroups_path, ':') || strstr(c->cgroups_path, "..")))
    return bad(e, "linux", "cgroupsPath", "must be a plain path (systemd slice syntax and '..' are not supported)");
  if ((r = sh_json_get_obj(l, "seccomp", "linux", &c->seccomp, e)) < 0)
    return r;
  if ((r = sh_json_get_strv(l, "maskedPaths", "linux", &c->masked, e)) < 0 ||
      (r = sh_json_get_strv(l, "readonlyPaths", "linux", &c->readonly, e)) < 0 ||
      (r = dupstr(l, "mountLabel", "linux", &c->mount_label, e)) < 0)
    return r;
  for (char **p = c->masked; p && *p; p++)
    if (**p != '/')
      return bad(e, "linux", "maskedPaths", "entries must be absolute paths");
  for (char **p = c->readonly; p && *p; p++)
    if (**p != '/')
      return bad(e, "linux", "readonlyPaths", "entries must be absolute paths");

  const char *prop = NULL;
  if ((r = sh_json_get_str(l, "rootfsPropagation", "linux", &prop, e)) < 0)
    return r;
  c->rootfs_propagation = MS_SLAVE | MS_REC;
  if (prop) {
    if (strcmp(prop, "private") == 0 || strcmp(prop, "rprivate") == 0)
      c->rootfs_propagation = MS_PRIVATE | MS_REC;
    else if (strcmp(prop, "slave") == 0 || strcmp(prop, "rslave") == 0)
      c->rootfs_propagation = MS_SLAVE | MS_REC;
    else
      return bad(e, "linux", "rootfsPropagation", "only private and slave are supported");
  }

  json_t *sc = NULL;
  if ((r = sh_json_get_obj(l, "sysctl", "linux", &sc, e)) < 0)
    return r;
  if (sc && json_object_size(sc)) {
    const char *k;
    json_t *v;
    size_t i = 0;
    c->n_sysctl = json_object_size(sc);
    if (!(c->sysctl = calloc(c->n_sysctl, sizeof *c->sysctl)))
      return oom(e, "sysctl");
    json_object_foreach(sc, k, v) {
      if (!json_is_string(v))
        return bad(e, "linux.sysctl", k, "must be a string");
      if ((r = check_sysctl(c, k, e)) < 0)
        return r;
      c->sysctl[i].key = strdup(k);
      c->sysctl[i].value = strdup(json_string_value(v));
      if (!c->sysctl[i].key || !c->sysctl[i].value)
        return oom(e, "sysctl");
      i++;
    }
  }

  json_t *to = NULL;
  if ((r = sh_json_get_obj(l, "timeOffsets", "linux", &to, e)) < 0)
    return r;
  if (to && json_object_size(to)) {
    if (!(c->ns_new_flags & CLONE_NEWTIME))
      return bad(e, "linux", "timeOffsets", "needs a new time namespace");
    const char *k;
    json_t *v;
    size_t i = 0;
    c->n_time_offsets = json_object_size(to);
    if (!(c->time_offsets = calloc(c->n_time_offsets, sizeof *c->time_offsets)))
      return oom(e, "timeOffsets");
    json_object_foreach(to, k, v) {
      static const char *const tk[] = { "secs", "nanosecs", NULL };
      char ctx[CTX_MAX];
      uint64_t ns_ = 0;
      sh_json_path(ctx, sizeof ctx, "linux.timeOffsets", k);
      if (strcmp(k, "monotonic") == 0)
        c->time_offsets[i].clock = CLOCK_MONOTONIC;
      else if (strcmp(k, "boottime") == 0)
        c->time_offsets[i].clock = CLOCK_BOOTTIME;
      else
        return bad(e, "linux.timeOffsets", k, "only monotonic and boottime can be offset");
      if (!json_is_object(v))
        return bad(e, ctx, "", "must be an object");
      if ((r = sh_json_check_keys(v, tk, ctx, e)) < 0 ||
          (r = sh_json_get_i64(v, "secs", ctx, &c->time_offsets[i].secs, e)) < 0 ||
          (r = sh_json_get_u64(v, "nanosecs", ctx, &ns_, e)) < 0)
        return r;
      if (ns_ >= 1000000000)
        return bad(e, ctx, "nanosecs", "must be below 1e9");
      c->time_offsets[i].nanosecs = (uint32_t) ns_;
      i++;
    }
  }

  json_t *dev = NULL;
  if ((r = sh_json_get_arr(l, "devices", "linux", &dev, e)) < 0)
    return r;
  if (dev && json_array_size(dev)) {
    c->n_devices = json_array_size(dev);
    if (!(c->devices = calloc(c->n_devices, sizeof *c->devices)))
      return oom(e, "devices");
    size_t i;
    json_t *v;
    json_array_foreach(dev, i, v) {
      static const char *const dk[] = { "path", "type", "major", "minor", "fileMode", "uid", "gid", NULL };
      char ctx[CTX_MAX];
      const char *type = NULL;
      int64_t mode = -1, uid = 0, gid = 0;
      struct sbx_device *d = &c->devices[i];
      snprintf(ctx, sizeof ctx, "linux.devices[%zu]", i);
      if (!json_is_object(v))
        return bad(e, ctx, "", "must be an object");
      if ((r = sh_json_check_keys(v, dk, ctx, e)) < 0 ||
          (r = dupstr(v, "path", ctx, &d->path, e)) < 0 ||
          (r = sh_json_get_str(v, "type", ctx, &type, e)) < 0 ||
          (r = sh_json_get_i64(v, "major", ctx, &d->major, e)) < 0 ||
          (r = sh_json_get_i64(v, "minor", ctx, &d->minor, e)) < 0 ||
          (r = sh_json_get_i64(v, "fileMode", ctx, &mode, e)) < 0 ||
          (r = sh_json_get_i64(v, "uid", ctx, &uid, e)) < 0 ||
          (r = sh_json_get_i64(v, "gid", ctx, &gid, e)) < 0)
        return r;
      if (!d->path || strncmp(d->path, "/dev/", 5) != 0 || strstr(d->path, ".."))
        return bad(e, ctx, "path", "must be a path below /dev");
      if (!type || strlen(type) != 1 || !strchr("cbu", type[0]))
        return bad(e, ctx, "type", "must be c, b or u");
      d->type = type[0] == 'u' ? 'c' : type[0];
      if (mode >= 0) {
        d->mode = (mode_t) mode;
        d->mode_set = true;
      }
      d->uid = (uid_t) uid;
      d->gid = (gid_t) gid;
    }
  }
  return 0;
}

static int parse_root(json_t *doc, struct sbx_config *c, sh_error *e)
{
  static const char *const keys[] = { "path", "readonly", NULL };
  json_t *root = NULL;
  const char *path = NULL;
  int r;
  if ((r = sh_json_get_obj(doc, "root", "", &root, e)) < 0)
    return r;
  if (!root)
    return bad(e, "", "root", "is required");
  if ((r = sh_json_check_keys(root, keys, "root", e)) < 0 ||
      (r = sh_json_get_str(root, "path", "root", &path, e)) < 0 ||
      (r = sh_json_get_bool(root, "readonly", "root", &c->root_readonly, e)) < 0)
    return r;
  if (!path || !*path)
    return bad(e, "root", "path", "is required");
  if (path[0] == '/')
    c->root_path = strdup(path);
  else if (asprintf(&c->root_path, "%s/%s", c->bundle, path) < 0)
    c->root_path = NULL;
  return c->root_path ? 0 : oom(e, "root.path");
}

int sbx_config_parse(const char *text, const char *bundle, struct sbx_config **out, sh_error *e)
{
  static const char *const keys[] = {
    "ociVersion", "process", "root", "hostname", "domainname", "mounts", "linux",
    "annotations", "hooks", NULL };
  json_error_t je;
  int r;
  struct sbx_config *c = calloc(1, sizeof *c);
  if (!c)
    return oom(e, "config");
  _cleanup_config_ struct sbx_config *guard = c;

  c->json = sh_json_loads_oci(text, JSON_REJECT_DUPLICATES, &je);
  if (!c->json)
    return sh_err(e, EINVAL, "parse config.json", bundle, "line %d column %d: %s",
                  je.line, je.column, je.text);
  if (!json_is_object(c->json))
    return sh_err(e, EINVAL, "parse config.json", bundle, "the document must be an object");
  char abs[PATH_MAX];
  if (!realpath(bundle, abs))
    return sh_errno(e, "resolve bundle", bundle);
  if (!(c->bundle = strdup(abs)))
    return oom(e, "bundle");
  if ((r = sh_json_check_keys(c->json, keys, "", e)) < 0)
    return r;

  const char *ver = NULL;
  if ((r = sh_json_get_str(c->json, "ociVersion", "", &ver, e)) < 0)
    return r;
  if (!ver || strncmp(ver, "1.", 2) != 0)
    return bad(e, "", "ociVersion", "must be a 1.x runtime-spec version");

  json_t *hooks = json_object_get(c->json, "hooks");
  if (hooks && !json_is_null(hooks) && (!json_is_object(hooks) || json_object_size(hooks)))
    return bad(e, "", "hooks", "hooks are not supported");

  if ((r = parse_root(c->json, c, e)) < 0)
    return r;
  if ((r = dupstr(c->json, "hostname", "", &c->hostname, e)) < 0 ||
      (r = dupstr(c->json, "domainname", "", &c->domainname, e)) < 0)
    return r;

  json_t *p = NULL;
  if ((r = sh_json_get_obj(c->json, "process", "", &p, e)) < 0)
    return r;
  if (!p)
    return bad(e, "", "process", "is required");
  if ((r = sbx_process_parse(p, "process", &c->process, e)) < 0)
    return r;

  json_t *l = NULL;
  if ((r = sh_json_get_obj(c->json, "linux", "", &l, e)) < 0)
    return r;
  if (!l)
    return bad(e, "", "linux", "is required (namespaces, uidMappings)");
  if ((r = parse_linux(l, c, e)) < 0)
    return r;
  if ((c->hostname || c->domainname) && !(c->ns_new_flags & CLONE_NEWUTS))
    return bad(e, "", "hostname", "needs a new uts namespace");

  json_t *mounts = NULL;
  if ((r = sh_json_get_arr(c->json, "mounts", "", &mounts, e)) < 0)
    return r;
  if (mounts && json_array_size(mounts)) {
    c->n_mounts = json_array_size(mounts);
    if (!(c->mounts = calloc(c->n_mounts, sizeof *c->mounts)))
      return oom(e, "mounts");
    size_t i;
    json_t *v;
    json_array_foreach(mounts, i, v) {
      char ctx[CTX_MAX];
      snprintf(ctx, sizeof ctx, "mounts[%zu]", i);
      if ((r = parse_mount(v, ctx, &c->mounts[i], e)) < 0)
        return r;
    }
  }

  json_t *ann = NULL;
  if ((r = sh_json_get_obj(c->json, "annotations", "", &ann, e)) < 0)
    return r;
  if (ann) {
    const char *k;
    json_t *v;
    json_object_foreach(ann, k, v)
      if (!json_is_string(v))
        return bad(e, "annotations", k, "must be a string");
  }
  c->annotations = ann;
  *out = steal_ptr(guard);
  return 0;
}

int sbx_config_load(const char *bundle, struct sbx_config **out, sh_error *e)
{
  _cleanup_close_ int dfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_free_ char *text = NULL;
  int r;
  if (dfd < 0)
    return sh_errno(e, "open bundle", bundle);
  if ((r = sh_read_file_at(dfd, "config.json", &text, NULL, e)) < 0)
    return r;
  return sbx_config_parse(text, bundle, out, e);
}

static void free_kv(struct sbx_kv *kv, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(kv[i].key);
    free(kv[i].value);
  }
  free(kv);
}

void sbx_config_free(struct sbx_config *c)
{
  if (!c)
    return;
  free(c->bundle);
  free(c->root_path);
  free(c->hostname);
  free(c->domainname);
  sbx_process_clear(&c->process);
  for (size_t i = 0; i < c->n_mounts; i++) {
    free(c->mounts[i].destination);
    free(c->mounts[i].source);
    free(c->mounts[i].type);
    sh_strvfreep(&c->mounts[i].data);
  }
  free(c->mounts);
  for (size_t i = 0; i < c->n_ns; i++)
    free(c->ns[i].path);
  free(c->ns);
  free(c->uid_map);
  free(c->gid_map);
  free(c->res.cpus);
  free(c->res.mems);
  free(c->res.weight_dev);
  for (int i = 0; i < 4; i++)
    free(c->res.throttle[i]);
  free(c->res.devices);
  free_kv(c->res.unified, c->res.n_unified);
  free(c->cgroups_path);
  sh_strvfreep(&c->masked);
  sh_strvfreep(&c->readonly);
  free(c->mount_label);
  free_kv(c->sysctl, c->n_sysctl);
  free(c->time_offsets);
  for (size_t i = 0; i < c->n_devices; i++)
    free(c->devices[i].path);
  free(c->devices);
  if (c->json)
    json_decref(c->json);
  free(c);
}
