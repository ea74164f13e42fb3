/* sbx_seccomp_compile: OCI seccomp -> classic BPF, and its cache.  Filters are
 * never loaded here; a small classic-BPF interpreter runs them instead. */
#include "sbx-seccomp.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SRCDIR
#error "SRCDIR must point at the source tree"
#endif

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

static const char small_profile[] =
  "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
  " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_AARCH64\"],"
  " \"syscalls\": ["
  "  {\"names\": [\"read\", \"write\", \"exit_group\", \"no_such_syscall_xyz\"], \"action\": \"SCMP_ACT_ALLOW\"},"
  "  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
  "   \"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"}]},"
  "  {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}"
  " ]}";

/* ---- a classic BPF interpreter for seccomp programs ---- */

struct cbpf_result {
  bool ok;            /* ran to a RET */
  uint32_t ret;
};

static struct cbpf_result cbpf_run(const struct sbx_seccomp *s, const struct seccomp_data *d)
{
  const struct sock_filter *f = s->prog;
  size_t n = s->len / sizeof *f;
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
  unsigned char data[sizeof *d];
  memcpy(data, d, sizeof data);
  for (size_t pc = 0; pc < n; pc++) {
    const struct sock_filter *i = &f[pc];
    uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;
    switch (BPF_CLASS(i->code)) {
    case BPF_LD:
    case BPF_LDX: {
      uint32_t v;
      switch (BPF_MODE(i->code)) {
      case BPF_ABS:
        if (BPF_SIZE(i->code) != BPF_W || i->k % 4 || i->k + 4 > sizeof data)
          return (struct cbpf_result) {0};
        memcpy(&v, data + i->k, 4);
        break;
      case BPF_IMM:
        v = i->k;
        break;
      case BPF_MEM:
        if (i->k >= BPF_MEMWORDS)
          return (struct cbpf_result) {0};
        v = mem[i->k];
        break;
      case BPF_LEN:
        v = sizeof data;
        break;
      default:
        return (struct cbpf_result) {0};
      }
      if (BPF_CLASS(i->code) == BPF_LD)
        a = v;
      else
        x = v;
      break;
    }
    case BPF_ST:
    case BPF_STX:
      if (i->k >= BPF_MEMWORDS)
        return (struct cbpf_result) {0};
      mem[i->k] = BPF_CLASS(i->code) == BPF_ST ? a : x;
      break;
    case BPF_ALU:
      switch (BPF_OP(i->code)) {
      case BPF_ADD: a += src; break;
      case BPF_SUB: a -= src; break;
      case BPF_MUL: a *= src; break;
      case BPF_DIV: if (!src) return (struct cbpf_result) {0}; a /= src; break;
      case BPF_OR: a |= src; break;
      case BPF_AND: a &= src; break;
      case BPF_LSH: a = src < 32 ? a << src : 0; break;
      case BPF_RSH: a = src < 32 ? a >> src : 0; break;
      case BPF_NEG: a = -a; break;
      default: return (struct cbpf_result) {0};
      }
      break;
    case BPF_JMP: {
      bool t;
      if (BPF_OP(i->code) == BPF_JA) {
        pc += i->k;
        continue;
      }
      switch (BPF_OP(i->code)) {
      case BPF_JEQ: t = a == src; break;
      case BPF_JGT: t = a > src; break;
      case BPF_JGE: t = a >= src; break;
      case BPF_JSET: t = (a & src) != 0; break;
      default: return (struct cbpf_result) {0};
      }
      pc += t ? i->jt : i->jf;
      break;
    }
    case BPF_RET:
      return (struct cbpf_result) { true, BPF_RVAL(i->code) == BPF_A ? a : i->k };
    case BPF_MISC:
      if (BPF_MISCOP(i->code) == BPF_TAX)
        x = a;
      else
        a = x;
      break;
    default:
      return (struct cbpf_result) {0};
    }
  }
  return (struct cbpf_result) {0};
}

/* What the kernel's seccomp_check_filter/bpf_check_classic insist on. */
static void check_shape(const struct sbx_seccomp *s, const char *what)
{
  const struct sock_filter *f = s->prog;
  size_t n = s->len / sizeof *f;
  bool jumps_ok = true;
  for (size_t pc = 0; pc < n; pc++) {
    if (BPF_CLASS(f[pc].code) != BPF_JMP)
      continue;
    if (BPF_OP(f[pc].code) == BPF_JA) {
      if (f[pc].k >= n - pc - 1)
        jumps_ok = false;
    } else if (pc + 1 + f[pc].jt >= n || pc + 1 + f[pc].jf >= n) {
      jumps_ok = false;
    }
  }
  ok(s->len > 0 && s->len % 8 == 0, "%s: program is %zu bytes, a multiple of 8", what, s->len);
  ok(n <= BPF_MAXINSNS, "%s: at most BPF_MAXINSNS instructions (%zu)", what, n);
  ok(jumps_ok, "%s: every jump lands inside the program", what);
  ok(n && BPF_CLASS(f[n - 1].code) == BPF_RET, "%s: the last instruction returns", what);
  ok(n && BPF_CLASS(f[0].code) == BPF_LD && f[0].k == offsetof(struct seccomp_data, arch),
     "%s: the program checks the architecture first", what);
}

static uint32_t verdict(const struct sbx_seccomp *s, uint32_t arch, int nr, uint64_t a0, uint64_t a1,
                        uint64_t a2)
{
  struct seccomp_data d = { .nr = nr, .arch = arch, .args = { a0, a1, a2 } };
  struct cbpf_result r = cbpf_run(s, &d);
  return r.ok ? r.ret : 0xDEADBEEF;
}

#define ALLOW SECCOMP_RET_ALLOW
#define ERRNO(n) (SECCOMP_RET_ERRNO | (n))

static json_t *load_json(const char *text)
{
  json_error_t je;
  json_t *j = json_loads(text, 0, &je);
  if (!j) {
    diag("test JSON does not parse: %s", je.text);
    abort();
  }
  return j;
}

/* ---- tests ---- */

static void test_small(void)
{
  json_t *spec = load_json(small_profile);
  struct sbx_seccomp s;
  sh_error e = {0};
  int r = sbx_seccomp_compile(spec, NULL, &s, &e);
  if (!is_int(r, 0, "small profile compiles")) {
    diag("%s: %s: %s", e.step, e.path, e.msg);
    json_decref(spec);
    return;
  }
  check_shape(&s, "small profile");
  ok(s.cache_path == NULL, "no cache path without a cache dir");
  is_int(s.flags, 0, "no filter flags");
#ifdef NATIVE_ARCH
  is_int(verdict(&s, NATIVE_ARCH, __NR_read, 0, 0, 0), ALLOW, "read is allowed");
  is_int(verdict(&s, NATIVE_ARCH, __NR_exit_group, 0, 0, 0), ALLOW, "exit_group is allowed");
  is_int(verdict(&s, NATIVE_ARCH, __NR_getpid, 0, 0, 0), ERRNO(38), "getpid gets its own errno (38)");
  is_int(verdict(&s, NATIVE_ARCH, __NR_openat, 0, 0, 0), ERRNO(1), "openat gets defaultErrnoRet (1)");
  is_int(verdict(&s, NATIVE_ARCH, __NR_personality, 8, 0, 0), ALLOW, "personality(8) is allowed");
  is_int(verdict(&s, NATIVE_ARCH, __NR_personality, 0, 0, 0), ERRNO(1), "personality(0) is not");
  is_int(verdict(&s, NATIVE_ARCH, __NR_personality, 8 | (1ULL << 32), 0, 0), ERRNO(1),
         "personality with high bits set is not (64-bit compare)");
#endif
  sbx_seccomp_clear(&s);
  ok(s.prog == NULL && s.len == 0, "sbx_seccomp_clear empties the struct");

  /* Flags are passed on for seccomp(2). */
  json_object_set_new(spec, "flags", json_pack("[s,s]", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
  r = sbx_seccomp_compile(spec, NULL, &s, &e);
  is_int(r, 0, "profile with flags compiles");
  is_int(s.flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW, "flags LOG|SPEC_ALLOW");
  sbx_seccomp_clear(&s);

  /* Defaults: no architectures, no syscalls. */
  json_t *bare = load_json("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
  r = sbx_seccomp_compile(bare, NULL, &s, &e);
  is_int(r, 0, "defaultAction alone compiles");
  if (r == 0) {
    check_shape(&s, "allow-all profile");
#ifdef NATIVE_ARCH
    is_int(verdict(&s, NATIVE_ARCH, __NR_mount, 0, 0, 0), ALLOW, "allow-all allows mount");
#endif
  }
  sbx_seccomp_clear(&s);
  json_decref(bare);
  json_decref(spec);
}

/* Loads and compiles policy/seccomp/NAME.json, checking its shape. */
static bool compile_profile(const char *name, struct sbx_seccomp *s)
{
  char path[512], what[64];
  json_error_t je;
  snprintf(path, sizeof path, SRCDIR "/policy/seccomp/%s.json", name);
  json_t *spec = json_load_file(path, 0, &je);
  if (!ok(spec != NULL, "policy/seccomp/%s.json loads", name)) {
    diag("%s", je.text);
    return false;
  }
  sh_error e = {0};
  int r = sbx_seccomp_compile(spec, NULL, s, &e);
  json_decref(spec);
  if (!is_int(r, 0, "policy/seccomp/%s.json compiles", name)) {
    diag("%s: %s: %s", e.step, e.path, e.msg);
    return false;
  }
  snprintf(what, sizeof what, "%s profile", name);
  check_shape(s, what);
  return true;
}

static void test_default_profile(void)
{
  struct sbx_seccomp s;
  if (!compile_profile("default", &s))
    return;
#if defined(__x86_64__)
  const uint32_t x64 = AUDIT_ARCH_X86_64, i386 = AUDIT_ARCH_I386;
  is_int(verdict(&s, x64, __NR_read, 0, 0, 0), ALLOW, "default: read is allowed");
  is_int(verdict(&s, x64, __NR_execve, 0, 0, 0), ALLOW, "default: execve is allowed");
  is_int(verdict(&s, x64, __NR_bpf, 0, 0, 0), ERRNO(1), "default: bpf is EPERM");
  is_int(verdict(&s, x64, __NR_kexec_load, 0, 0, 0), ERRNO(1), "default: kexec_load is EPERM");
  is_int(verdict(&s, x64, __NR_open_by_handle_at, 0, 0, 0), ERRNO(1), "default: open_by_handle_at is EPERM");
  is_int(verdict(&s, x64, __NR_clone, SIGCHLD, 0, 0), ALLOW, "default: clone(SIGCHLD) is allowed");
  is_int(verdict(&s, x64, __NR_clone, CLONE_NEWUSER | SIGCHLD, 0, 0), ERRNO(1),
         "default: clone(CLONE_NEWUSER) is EPERM");
  is_int(verdict(&s, x64, __NR_clone, CLONE_NEWUSER | (1ULL << 40), 0, 0), ERRNO(1),
         "default: clone(CLONE_NEWUSER) with high bits set is EPERM");
  is_int(verdict(&s, x64, __NR_unshare, CLONE_NEWNS, 0, 0), ALLOW, "default: unshare(CLONE_NEWNS) is allowed");
  is_int(verdict(&s, x64, __NR_unshare, CLONE_NEWUSER | CLONE_NEWNS, 0, 0), ERRNO(1),
         "default: unshare(CLONE_NEWUSER) is EPERM");
  is_int(verdict(&s, x64, __NR_clone3, 0, 0, 0), ERRNO(38), "default: clone3 is ENOSYS");
  is_int(verdict(&s, x64, __NR_socket, 2, 1, 0), ALLOW, "default: socket(AF_INET) is allowed");
  is_int(verdict(&s, x64, __NR_socket, 16, 3, 0), ALLOW, "default: socket(AF_NETLINK) is allowed");
  is_int(verdict(&s, x64, __NR_socket, 40, 1, 0), ERRNO(97), "default: socket(AF_VSOCK) is EAFNOSUPPORT");
  is_int(verdict(&s, x64, __NR_socket, 40 | (1ULL << 32), 1, 0), ERRNO(97),
         "default: socket(AF_VSOCK) with high bits set is EAFNOSUPPORT");
  is_int(verdict(&s, x64, __NR_reboot, 0xfee1dead, 672274793, 0x45584543), ERRNO(1),
         "default: reboot(LINUX_REBOOT_CMD_KEXEC) is EPERM");
  is_int(verdict(&s, x64, __NR_reboot, 0xfee1dead, 672274793, 0x01234567), ALLOW,
         "default: reboot(LINUX_REBOOT_CMD_RESTART) is allowed");
  is_int(verdict(&s, x64, 1000, 0, 0, 0), ERRNO(38), "default: an unknown syscall is ENOSYS");
  is_int(verdict(&s, x64, __NR_read | 0x40000000, 0, 0, 0), ALLOW, "default: x32 read is allowed");
  is_int(verdict(&s, x64, 321 | 0x40000000, 0, 0, 0), ERRNO(1), "default: x32 bpf is EPERM");
  is_int(verdict(&s, i386, 3, 0, 0, 0), ALLOW, "default: i386 read is allowed");
  is_int(verdict(&s, i386, 283, 0, 0, 0), ERRNO(1), "default: i386 kexec_load is EPERM");
  is_int(verdict(&s, i386, 310, CLONE_NEWUSER, 0, 0), ERRNO(1), "default: i386 unshare(CLONE_NEWUSER) is EPERM");
  uint32_t foreign = verdict(&s, AUDIT_ARCH_AARCH64, 63, 0, 0, 0);
  ok(foreign != ALLOW && foreign != 0xDEADBEEF, "default: a foreign architecture is not allowed (0x%x)", foreign);
#endif
  sbx_seccomp_clear(&s);
}

/* The strict profile as libseccomp compiles it: what the JSON means to say
 * (the integration test asserts the same from inside a container). */
static void test_strict_profile(void)
{
  struct sbx_seccomp s;
  if (!compile_profile("strict", &s))
    return;
#if defined(__x86_64__)
  const uint32_t x64 = AUDIT_ARCH_X86_64, i386 = AUDIT_ARCH_I386;
  is_int(verdict(&s, x64, __NR_read, 0, 0, 0), ALLOW, "strict: read is allowed");
  is_int(verdict(&s, x64, __NR_mount, 0, 0, 0), ERRNO(1), "strict: mount is EPERM");
  is_int(verdict(&s, x64, __NR_fsopen, 0, 0, 0), ERRNO(1), "strict: fsopen is EPERM");
  is_int(verdict(&s, x64, __NR_setns, 0, 0, 0), ERRNO(1), "strict: setns is EPERM");
  is_int(verdict(&s, x64, __NR_ptrace, 0, 0, 0), ERRNO(1), "strict: ptrace is EPERM");
  is_int(verdict(&s, x64, __NR_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, 0, 0), ALLOW,
         "strict: clone of a thread is allowed");
  is_int(verdict(&s, x64, __NR_clone, CLONE_NEWNS | SIGCHLD, 0, 0), ERRNO(1), "strict: clone(CLONE_NEWNS) is EPERM");
  is_int(verdict(&s, x64, __NR_clone, CLONE_NEWNET | CLONE_NEWPID | SIGCHLD, 0, 0), ERRNO(1),
         "strict: clone with two namespace flags is EPERM");
  is_int(verdict(&s, x64, __NR_unshare, CLONE_FILES, 0, 0), ALLOW, "strict: unshare(CLONE_FILES) is allowed");
  is_int(verdict(&s, x64, __NR_unshare, 0x80, 0, 0), ERRNO(1), "strict: unshare(CLONE_NEWTIME) is EPERM");
  is_int(verdict(&s, x64, __NR_socket, 2, 1 | 04000 | 02000000, 0), ALLOW,
         "strict: socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC) is allowed");
  is_int(verdict(&s, x64, __NR_socket, 10, 2, 0), ALLOW, "strict: socket(AF_INET6, SOCK_DGRAM) is allowed");
  is_int(verdict(&s, x64, __NR_socket, 2, 3, 1), ERRNO(1), "strict: socket(AF_INET, SOCK_RAW) is EPERM");
  is_int(verdict(&s, x64, __NR_socket, 17, 3, 0), ERRNO(97), "strict: socket(AF_PACKET) is EAFNOSUPPORT");
  is_int(verdict(&s, x64, __NR_socket, 40, 1, 0), ERRNO(97), "strict: socket(AF_VSOCK) is EAFNOSUPPORT");
  is_int(verdict(&s, x64, __NR_socket, 1, 1, 0), ALLOW, "strict: socket(AF_UNIX) is allowed");
  is_int(verdict(&s, x64, __NR_mknodat, (uint64_t) -100, 0, 0010600), ALLOW, "strict: mknodat of a FIFO is allowed");
  is_int(verdict(&s, x64, __NR_mknodat, (uint64_t) -100, 0, 0020600), ERRNO(1),
         "strict: mknodat of a character device is EPERM");
  is_int(verdict(&s, x64, __NR_personality, 0xffffffff, 0, 0), ALLOW, "strict: personality query is allowed");
  is_int(verdict(&s, x64, __NR_personality, 0x0040000, 0, 0), ERRNO(38),
         "strict: personality(ADDR_NO_RANDOMIZE) falls to ENOSYS");
  is_int(verdict(&s, x64, __NR_reboot, 0xfee1dead, 672274793, 0x01234567), ERRNO(1), "strict: every reboot is EPERM");
  is_int(verdict(&s, i386, 102, 1, 0, 0), ERRNO(1), "strict: i386 socketcall is EPERM");
  is_int(verdict(&s, i386, 21, 0, 0, 0), ERRNO(1), "strict: i386 mount is EPERM");
  is_int(verdict(&s, i386, 3, 0, 0, 0), ALLOW, "strict: i386 read is allowed");
  is_int(verdict(&s, x64, __NR_mount | 0x40000000, 0, 0, 0), ERRNO(1), "strict: x32 mount is EPERM");
#endif
  sbx_seccomp_clear(&s);
}

struct bad_case {
  const char *name;
  const char *profile;
  const char *path;
  const char *msg;
};

static const struct bad_case bad_cases[] = {
  {"unknown action",
   "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_FOO\"}]}",
   "linux.seccomp.syscalls[0].action", "SCMP_ACT_FOO"},
  {"notify action",
   "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
   "linux.seccomp.syscalls[0].action", NULL},
  {"unknown defaultAction", "{\"defaultAction\": \"SCMP_ACT_BOGUS\"}", "linux.seccomp.defaultAction", NULL},
  {"missing defaultAction", "{\"syscalls\": []}", "linux.seccomp.defaultAction", NULL},
  {"unknown op",
   "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
   " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_FOO\"}]}]}",
   "linux.seccomp.syscalls[0].args[0]", "unknown op"},
  {"arg index 6",
   "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
   " \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
   "linux.seccomp.syscalls[0].args[0]", "index"},
  {"bad architecture", "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_FOO\"]}",
   "linux.seccomp.architectures", "SCMP_ARCH_FOO"},
  {"architecture without prefix", "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"x86_64\"]}",
   "linux.seccomp.architectures", NULL},
  {"listenerPath", "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"listenerPath\": \"/run/seccomp.sock\"}",
   "linux.seccomp.listenerPath", NULL},
  {"unknown field", "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"foo\": 1}", "linux.seccomp.foo", NULL},
  {"unknown rule field",
   "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {}}]}",
   "linux.seccomp.syscalls[0].includes", NULL},
  {"errnoRet out of range",
   "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 5000}]}",
   "linux.seccomp.syscalls[0]", "errnoRet"},
  {"unsupported flag", "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": [\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}",
   "linux.seccomp.flags", "NEW_LISTENER"},
  {"empty names",
   "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"}]}",
   "linux.seccomp.syscalls[0]", "names"},
  {"rule not an object", "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [\"read\"]}",
   "linux.seccomp.syscalls[0]", NULL},
};

static void test_bad(void)
{
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const struct bad_case *t = &bad_cases[i];
    json_t *spec = load_json(t->profile);
    struct sbx_seccomp s;
    sh_error e = {0};
    int r = sbx_seccomp_compile(spec, NULL, &s, &e);
    if (!is_int(r, -EINVAL, "%s: EINVAL", t->name))
      diag("path '%s' msg '%s'", e.path, e.msg);
    ok(s.prog == NULL && s.len == 0 && s.cache_path == NULL, "%s: no program on error", t->name);
    like(e.path, t->path, "%s: error names %s", t->name, t->path);
    if (t->msg)
      like(e.msg, t->msg, "%s: message says '%s'", t->name, t->msg);
    sbx_seccomp_clear(&s);
    json_decref(spec);
  }
}

/* Names of the regular files in dir, one per line, in buf. */
static size_t list_dir(const char *dir, char *buf, size_t len, size_t *n_tmp)
{
  DIR *d = opendir(dir);
  size_t n = 0;
  buf[0] = '\0';
  *n_tmp = 0;
  if (!d)
    return 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.') {
      if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
        (*n_tmp)++;
      continue;
    }
    size_t l = strlen(buf);
    snprintf(buf + l, len - l, "%s\n", de->d_name);
    n++;
  }
  closedir(d);
  return n;
}

static bool same_prog(const struct sbx_seccomp *a, const struct sbx_seccomp *b)
{
  return a->len == b->len && a->flags == b->flags && a->prog && b->prog &&
         memcmp(a->prog, b->prog, a->len) == 0;
}

static void test_cache(void)
{
  char top[] = "/tmp/sbx-unit-seccomp-XXXXXX";
  if (!ok(mkdtemp(top) != NULL, "mkdtemp for the cache"))
    return;
  char cache[PATH_MAX];
  snprintf(cache, sizeof cache, "%s/cache/seccomp", top);   /* created by the compiler */

  json_t *spec = load_json(small_profile);
  struct sbx_seccomp first, second, plain;
  sh_error e = {0};
  char files[1024];
  size_t n_tmp;
  struct stat st1, st2;

  is_int(sbx_seccomp_compile(spec, NULL, &plain, &e), 0, "cache: uncached compile");
  is_int(sbx_seccomp_compile(spec, cache, &first, &e), 0, "cache: first compile (miss)");
  ok(first.cache_path != NULL, "cache: first compile records its cache path");
  is_int(list_dir(cache, files, sizeof files, &n_tmp), 1, "cache: one file in the cache dir");
  is_int(n_tmp, 0, "cache: no temporary files left behind");
  size_t nl = strcspn(files, "\n");
  ok(nl == 16 + 4 && strncmp(files + 16, ".bpf", 4) == 0 && strspn(files, "0123456789abcdef") == 16,
     "cache: file is named <16 hex digits>.bpf (%.*s)", (int) nl, files);
  if (first.cache_path)
    ok(strlen(first.cache_path) > nl && strncmp(first.cache_path + strlen(first.cache_path) - nl, files, nl) == 0,
       "cache: cache_path names that file");
  ok(first.cache_path && stat(first.cache_path, &st1) == 0, "cache: the cache file exists");
  ok(same_prog(&first, &plain), "cache: cached compile gives the uncached bytes");

  is_int(sbx_seccomp_compile(spec, cache, &second, &e), 0, "cache: second compile (hit)");
  is_str(second.cache_path, first.cache_path, "cache: second compile uses the same file");
  ok(same_prog(&first, &second), "cache: second compile gives identical bytes");
  ok(second.cache_path && stat(second.cache_path, &st2) == 0 && st1.st_ino == st2.st_ino &&
     st1.st_mtim.tv_sec == st2.st_mtim.tv_sec && st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec,
     "cache: the hit read the file and did not rewrite it");
  sbx_seccomp_clear(&second);

  /* Key order does not matter: the key is canonical JSON. */
  json_t *reordered = load_json(
    "{\"syscalls\": ["
    "  {\"action\": \"SCMP_ACT_ALLOW\", \"names\": [\"read\", \"write\", \"exit_group\", \"no_such_syscall_xyz\"]},"
    "  {\"action\": \"SCMP_ACT_ALLOW\", \"names\": [\"personality\"],"
    "   \"args\": [{\"op\": \"SCMP_CMP_EQ\", \"value\": 8, \"index\": 0}]},"
    "  {\"errnoRet\": 38, \"action\": \"SCMP_ACT_ERRNO\", \"names\": [\"getpid\"]}"
    " ], \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_AARCH64\"],"
    " \"defaultErrnoRet\": 1, \"defaultAction\": \"SCMP_ACT_ERRNO\"}");
  is_int(sbx_seccomp_compile(reordered, cache, &second, &e), 0, "cache: reordered profile compiles");
  is_str(second.cache_path, first.cache_path, "cache: reordered keys hit the same cache file");
  ok(same_prog(&first, &second), "cache: reordered keys give identical bytes");
  sbx_seccomp_clear(&second);
  json_decref(reordered);

  /* A corrupt cache file is a miss, and is replaced. */
  if (first.cache_path) {
    int fd = open(first.cache_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    ok(fd >= 0 && write(fd, "garbage!", 8) == 8, "cache: corrupt the cache file");
    if (fd >= 0)
      close(fd);
    is_int(sbx_seccomp_compile(spec, cache, &second, &e), 0, "cache: compile over a corrupt file");
    ok(same_prog(&first, &second), "cache: corrupt file ignored, same bytes");
    sbx_seccomp_clear(&second);
    is_int(sbx_seccomp_compile(spec, cache, &second, &e), 0, "cache: compile after the repair");
    ok(same_prog(&first, &second), "cache: the repaired file gives the same bytes");
    sbx_seccomp_clear(&second);
  }

  /* Another profile gets another file. */
  json_object_set_new(spec, "defaultErrnoRet", json_integer(13));
  is_int(sbx_seccomp_compile(spec, cache, &second, &e), 0, "cache: a changed profile compiles");
  ok(second.cache_path && first.cache_path && strcmp(second.cache_path, first.cache_path) != 0,
     "cache: a changed profile gets its own file");
  ok(!same_prog(&first, &second), "cache: a changed profile gives other bytes");
  is_int(list_dir(cache, files, sizeof files, &n_tmp), 2, "cache: two files in the cache dir");
  sbx_seccomp_clear(&second);

  /* save/read round trip (the state directory's copy). */
  int dfd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
  is_int(sbx_seccomp_save(&first, dfd, "seccomp.bpf", &e), 0, "save: writes seccomp.bpf");
  is_int(sbx_seccomp_read(dfd, "seccomp.bpf", &second, &e), 0, "read: reads seccomp.bpf back");
  ok(same_prog(&first, &second), "save/read: identical program and flags");
  sbx_seccomp_clear(&second);
  sh_error_clear(&e);
  is_int(sbx_seccomp_read(dfd, "missing.bpf", &second, &e), -ENOENT, "read: a missing file is ENOENT");
  if (dfd >= 0)
    close(dfd);

  sbx_seccomp_clear(&first);
  sbx_seccomp_clear(&plain);
  json_decref(spec);

  /* Clean up: the cache files, then the directories. */
  DIR *d = opendir(cache);
  struct dirent *de;
  while (d && (de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      unlinkat(dirfd(d), de->d_name, 0);
  if (d)
    closedir(d);
  char p[PATH_MAX + 32];
  rmdir(cache);
  snprintf(p, sizeof p, "%s/cache", top);
  rmdir(p);
  snprintf(p, sizeof p, "%s/seccomp.bpf", top);
  unlink(p);
  ok(rmdir(top) == 0, "cache: temporary directory removed");
}

int main(void)
{
  test_small();
  test_default_profile();
  test_strict_profile();
  test_bad();
  test_cache();
  return tap_done();
}
