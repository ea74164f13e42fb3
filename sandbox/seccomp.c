/* OCI seccomp → libseccomp → classic BPF, cached by content hash. */
#include "sbx-seccomp.h"
#include "cleanup.h"
#include "fdutil.h"
#include "jsonutil.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CACHE_MAGIC "SBXSECC2"
/* Bump when the compiler changes its output, so cached filters are redone. */
#define COMPILER_REV 2

static const struct { const char *name; uint32_t action; bool errno_arg; } actions[] = {
  {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false},
  {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
  {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
  {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
  {"SCMP_ACT_ERRNO", 0, true},
  {"SCMP_ACT_TRACE", 0, true},
  {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
  {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
};

static const struct { const char *name; enum scmp_compare op; } ops[] = {
  {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
  {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
  {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct { const char *name; unsigned flag; } filter_flags[] = {
  {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
  {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
  {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

static int parse_action(json_t *o, const char *key, const char *ctx, int64_t default_errno,
                        uint32_t *out, sh_error *e)
{
  const char *name = NULL;
  char p[256];
  int r = sh_json_get_str(o, key, ctx, &name, e);
  if (r < 0)
    return r;
  if (!name)
    return sh_err(e, EINVAL, "config", sh_json_path(p, sizeof p, ctx, key), "is required");
  for (size_t i = 0; i < SH_ARRAY_SIZE(actions); i++) {
    if (strcmp(actions[i].name, name) != 0)
      continue;
    if (!actions[i].errno_arg) {
      *out = actions[i].action;
      return 0;
    }
    int64_t ret = default_errno;
    if ((r = sh_json_get_i64(o, strcmp(key, "defaultAction") == 0 ? "defaultErrnoRet" : "errnoRet",
                             ctx, &ret, e)) < 0)
      return r;
    if (ret < 0 || ret > 4095)
      return sh_err(e, EINVAL, "config", ctx, "errnoRet must be within 0..4095");
    *out = strcmp(name, "SCMP_ACT_TRACE") == 0 ? SCMP_ACT_TRACE((uint16_t) ret) : SCMP_ACT_ERRNO((uint16_t) ret);
    return 0;
  }
  return sh_err(e, EINVAL, "config", sh_json_path(p, sizeof p, ctx, key),
                "unknown or unsupported action %s", name);
}

static bool runnable_here(uint32_t arch)
{
  uint32_t native = seccomp_arch_native();
  if (arch == native)
    return true;
  if (native == SCMP_ARCH_X86_64)
    return arch == SCMP_ARCH_X86 || arch == SCMP_ARCH_X32;
  if (native == SCMP_ARCH_AARCH64)
    return arch == SCMP_ARCH_ARM;
  return false;
}

static int add_arches(scmp_filter_ctx ctx, json_t *arr, sh_error *e)
{
  size_t i;
  json_t *v;
  json_array_foreach(arr ? arr : NULL, i, v) {
    char name[32];
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    if (strncmp(s, "SCMP_ARCH_", 10) != 0 || strlen(s) - 10 >= sizeof name)
      return sh_err(e, EINVAL, "config", "linux.seccomp.architectures", "bad architecture '%s'", s);
    size_t k = 0;
    for (const char *c = s + 10; *c; c++)
      name[k++] = (char) tolower((unsigned char) *c);
    name[k] = '\0';
    uint32_t arch = seccomp_arch_resolve_name(name);
    if (!arch)
      return sh_err(e, EINVAL, "config", "linux.seccomp.architectures", "unknown architecture '%s'", s);
    /* A process can only enter through this host's own entry points; code for
     * other architectures would only make every syscall slower. */
    if (!runnable_here(arch)) {
      sh_debug("seccomp: %s cannot run on this host; left out of the filter", s);
      continue;
    }
    int r = seccomp_arch_add(ctx, arch);
    if (r < 0 && r != -EEXIST)
      return sh_err(e, -r, "seccomp", "linux.seccomp.architectures", "adding %s", s);
  }
  /* A 64-bit host also runs its 32-bit entry points; filter them all. */
  static const char *const native_subs[][3] = {
    {"x86_64", "x86", "x32"}, {"aarch64", "arm", NULL},
  };
  const char *native = NULL;
  uint32_t na = seccomp_arch_native();
  if (na == SCMP_ARCH_X86_64)
    native = "x86_64";
  else if (na == SCMP_ARCH_AARCH64)
    native = "aarch64";
  for (size_t n = 0; native && n < SH_ARRAY_SIZE(native_subs); n++) {
    if (strcmp(native_subs[n][0], native) != 0)
      continue;
    for (int s = 1; s < 3 && native_subs[n][s]; s++) {
      int r = seccomp_arch_add(ctx, seccomp_arch_resolve_name(native_subs[n][s]));
      if (r < 0 && r != -EEXIST)
        return sh_err(e, -r, "seccomp", native_subs[n][s], "adding the native sub-architecture");
    }
  }
  return 0;
}

static int add_rule(scmp_filter_ctx ctx, json_t *rule, size_t idx, uint32_t def_action, sh_error *e)
{
  static const char *const keys[] = { "names", "action", "errnoRet", "args", "comment", NULL };
  char c[64];
  int r;
  snprintf(c, sizeof c, "linux.seccomp.syscalls[%zu]", idx);
  if (!json_is_object(rule))
    return sh_err(e, EINVAL, "config", c, "must be an object");
  if ((r = sh_json_check_keys(rule, keys, c, e)) < 0)
    return r;
  uint32_t action;
  if ((r = parse_action(rule, "action", c, EPERM, &action, e)) < 0)
    return r;
  _cleanup_strv_ char **names = NULL;
  if ((r = sh_json_get_strv(rule, "names", c, &names, e)) < 0)
    return r;
  if (!names || !names[0])
    return sh_err(e, EINVAL, "config", c, "names must list at least one syscall");

  json_t *args = NULL;
  if ((r = sh_json_get_arr(rule, "args", c, &args, e)) < 0)
    return r;
  size_t nargs = args ? json_array_size(args) : 0;
  if (nargs > 6)
    return sh_err(e, EINVAL, "config", c, "at most 6 argument conditions");
  struct scmp_arg_cmp cmp[6];
  bool same_index = false;
  for (size_t i = 0; i < nargs; i++) {
    static const char *const akeys[] = { "index", "value", "valueTwo", "op", NULL };
    json_t *a = json_array_get(args, i);
    char ac[96];
    const char *op = NULL;
    uint64_t index = 0, value = 0, two = 0;
    snprintf(ac, sizeof ac, "%s.args[%zu]", c, i);
    if (!json_is_object(a))
      return sh_err(e, EINVAL, "config", ac, "must be an object");
    if ((r = sh_json_check_keys(a, akeys, ac, e)) < 0 ||
        (r = sh_json_get_u64(a, "index", ac, &index, e)) < 0 ||
        (r = sh_json_get_u64(a, "value", ac, &value, e)) < 0 ||
        (r = sh_json_get_u64(a, "valueTwo", ac, &two, e)) < 0 ||
        (r = sh_json_get_str(a, "op", ac, &op, e)) < 0)
      return r;
    if (index > 5)
      return sh_err(e, EINVAL, "config", ac, "index must be within 0..5");
    int opv = -1;
    for (size_t k = 0; op && k < SH_ARRAY_SIZE(ops); k++)
      if (strcmp(ops[k].name, op) == 0)
        opv = (int) ops[k].op;
    if (opv < 0)
      return sh_err(e, EINVAL, "config", ac, "unknown op '%s'", op ? op : "");
    cmp[i] = (struct scmp_arg_cmp) { (unsigned) index, (enum scmp_compare) opv, value, two };
    for (size_t k = 0; k < i; k++)
      same_index |= cmp[k].arg == cmp[i].arg;
  }
  if (action == def_action)
    return 0; /* nothing to add: the default already does it */

  for (char **n = names; *n; n++) {
    int nr = seccomp_syscall_resolve_name(*n);
    if (nr == __NR_SCMP_ERROR) {
      sh_debug("seccomp: %s is unknown to libseccomp %u.%u; the default action covers it", *n,
               seccomp_version()->major, seccomp_version()->minor);
      continue;
    }
    if (same_index) {
      /* Conditions on one argument index are alternatives (runc semantics). */
      for (size_t i = 0; i < nargs; i++)
        if ((r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[i])) < 0)
          return sh_err(e, -r, "seccomp rule", c, "%s", *n);
    } else if ((r = seccomp_rule_add_array(ctx, action, nr, (unsigned) nargs, cmp)) < 0) {
      return sh_err(e, -r, "seccomp rule", c, "%s", *n);
    }
  }
  return 0;
}

static int compile(json_t *spec, struct sbx_seccomp *out, sh_error *e)
{
  static const char *const keys[] = { "defaultAction", "defaultErrnoRet", "architectures", "flags",
                                      "syscalls", "listenerPath", "listenerMetadata", NULL };
  const char *c = "linux.seccomp";
  int r;
  if ((r = sh_json_check_keys(spec, keys, c, e)) < 0)
    return r;
  const char *lp = NULL;
  if ((r = sh_json_get_str(spec, "listenerPath", c, &lp, e)) < 0)
    return r;
  if (lp && *lp)
    return sh_err(e, EINVAL, "config", "linux.seccomp.listenerPath", "seccomp notify is not supported");
  uint32_t def;
  if ((r = parse_action(spec, "defaultAction", c, EPERM, &def, e)) < 0)
    return r;
  scmp_filter_ctx ctx = seccomp_init(def);
  if (!ctx)
    return sh_err(e, ENOMEM, "seccomp", c, "seccomp_init");
  /* We load the program ourselves; keep libseccomp from setting NNP. */
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  /* A binary tree instead of a linear list: every syscall of the container
   * pays for the filter, so its depth matters more than its size. */
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  json_t *arches = NULL, *flags = NULL, *sys = NULL;
  if ((r = sh_json_get_arr(spec, "architectures", c, &arches, e)) < 0 ||
      (r = sh_json_get_arr(spec, "flags", c, &flags, e)) < 0 ||
      (r = sh_json_get_arr(spec, "syscalls", c, &sys, e)) < 0)
    goto out;
  if ((r = add_arches(ctx, arches, e)) < 0)
    goto out;
  out->flags = 0;
  size_t i;
  json_t *v;
  if (flags)
    json_array_foreach(flags, i, v) {
      bool ok = false;
      for (size_t k = 0; k < SH_ARRAY_SIZE(filter_flags); k++)
        if (json_is_string(v) && strcmp(json_string_value(v), filter_flags[k].name) == 0) {
          out->flags |= filter_flags[k].flag;
          ok = true;
        }
      if (!ok) {
        r = sh_err(e, EINVAL, "config", "linux.seccomp.flags", "unsupported flag %s",
                   json_is_string(v) ? json_string_value(v) : "(not a string)");
        goto out;
      }
    }
  if (sys)
    json_array_foreach(sys, i, v)
      if ((r = add_rule(ctx, v, i, def, e)) < 0)
        goto out;

  int mfd = memfd_create("sbx-seccomp", MFD_CLOEXEC);
  if (mfd < 0) {
    r = sh_errno(e, "seccomp export", "memfd");
    goto out;
  }
  if ((r = seccomp_export_bpf(ctx, mfd)) < 0) {
    close(mfd);
    r = sh_err(e, -r, "seccomp export", c, NULL);
    goto out;
  }
  off_t len = lseek(mfd, 0, SEEK_END);
  out->len = (size_t) len;
  out->prog = malloc(out->len ? out->len : 1);
  if (!out->prog || pread(mfd, out->prog, out->len, 0) != (ssize_t) out->len) {
    close(mfd);
    r = sh_err(e, EIO, "seccomp export", c, NULL);
    goto out;
  }
  close(mfd);
  r = 0;
out:
  seccomp_release(ctx);
  return r;
}

/* File layout: magic, flags, program length, key length, key, program.  The
 * key is the exact canonical JSON the program was compiled from; a cache hit
 * must match it byte for byte, so the file name hash needs no crypto. */
struct file_hdr {
  char magic[8];
  uint32_t flags, prog_len, key_len, pad;
};

static int save_keyed(const struct sbx_seccomp *s, int dirfd, const char *name, const char *key,
                      sh_error *e)
{
  char tmp[300];
  snprintf(tmp, sizeof tmp, ".%s.%d", name, getpid());
  _cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return sh_errno(e, "write seccomp", tmp);
  struct file_hdr h = { .flags = s->flags, .prog_len = (uint32_t) s->len, .key_len = (uint32_t) strlen(key) };
  memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
  if (sh_write_all(fd, &h, sizeof h) != (ssize_t) sizeof h ||
      sh_write_all(fd, key, h.key_len) != (ssize_t) h.key_len ||
      sh_write_all(fd, s->prog, s->len) != (ssize_t) s->len || renameat(dirfd, tmp, dirfd, name) < 0) {
    int r = sh_errno(e, "write seccomp", name);
    unlinkat(dirfd, tmp, 0);
    return r;
  }
  return 0;
}

/* key NULL: accept any key (the state dir's own copy). */
static int read_keyed(int dirfd, const char *name, const char *key, struct sbx_seccomp *out, sh_error *e)
{
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  int r = sh_read_file_at(dirfd, name, &buf, &len, e);
  if (r < 0)
    return r;
  struct file_hdr h;
  if (len < sizeof h)
    return sh_err(e, EINVAL, "read seccomp", name, "not a compiled filter");
  memcpy(&h, buf, sizeof h);
  if (memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) != 0)
    return sh_err(e, EINVAL, "read seccomp", name, "not a compiled filter");
  if ((uint64_t) h.key_len + h.prog_len + sizeof h != len || h.prog_len % sizeof(struct sock_filter))
    return sh_err(e, EINVAL, "read seccomp", name, "truncated filter");
  if (key && (strlen(key) != h.key_len || memcmp(buf + sizeof h, key, h.key_len) != 0))
    return sh_err(e, ESTALE, "read seccomp", name, "compiled from another profile");
  out->flags = h.flags;
  out->len = h.prog_len;
  out->prog = malloc(out->len);
  if (!out->prog)
    return sh_err(e, ENOMEM, "read seccomp", name, NULL);
  memcpy(out->prog, buf + sizeof h + h.key_len, out->len);
  return 0;
}

int sbx_seccomp_save(const struct sbx_seccomp *s, int dirfd, const char *name, sh_error *e)
{
  return save_keyed(s, dirfd, name, "", e);
}

int sbx_seccomp_read(int dirfd, const char *name, struct sbx_seccomp *out, sh_error *e)
{
  return read_keyed(dirfd, name, NULL, out, e);
}

static uint64_t fnv1a(const char *s)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 0x100000001b3ULL;
  return h;
}

int sbx_seccomp_compile(json_t *spec, const char *cache_dir, struct sbx_seccomp *out, sh_error *e)
{
  memset(out, 0, sizeof *out);
  _cleanup_free_ char *canon = json_dumps(spec, JSON_SORT_KEYS | JSON_COMPACT);
  if (!canon)
    return sh_err(e, ENOMEM, "seccomp", "linux.seccomp", NULL);
  const struct scmp_version *ver = seccomp_version();
  _cleanup_free_ char *key = NULL;
  if (asprintf(&key, "%d|%u.%u.%u|%u|%s", COMPILER_REV, ver->major, ver->minor, ver->micro,
               seccomp_arch_native(), canon) < 0)
    return sh_err(e, ENOMEM, "seccomp", "linux.seccomp", NULL);
  char name[64];
  snprintf(name, sizeof name, "%016llx.bpf", (unsigned long long) fnv1a(key));

  _cleanup_close_ int dfd = -1;
  if (cache_dir) {
    if (sh_mkdir_p(cache_dir, 0700) == 0)
      dfd = open(cache_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0 && read_keyed(dfd, name, key, out, NULL) == 0) {
      if (asprintf(&out->cache_path, "%s/%s", cache_dir, name) < 0)
        out->cache_path = NULL;
      return 0;
    }
  }
  int r = compile(spec, out, e);
  if (r < 0) {
    sbx_seccomp_clear(out);
    return r;
  }
  /* A failed save only means a cache miss next time. */
  if (dfd >= 0 && save_keyed(out, dfd, name, key, NULL) == 0 &&
      asprintf(&out->cache_path, "%s/%s", cache_dir, name) < 0)
    out->cache_path = NULL;
  return 0;
}

int sbx_seccomp_load(const struct sbx_seccomp *s, sh_error *e)
{
  struct sock_fprog prog = {
    .len = (unsigned short) (s->len / sizeof(struct sock_filter)),
    .filter = s->prog,
  };
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->flags, &prog) < 0)
    return sh_errno(e, "load seccomp filter", NULL);
  return 0;
}

void sbx_seccomp_clear(struct sbx_seccomp *s)
{
  free(s->prog);
  free(s->cache_path);
  memset(s, 0, sizeof *s);
}
