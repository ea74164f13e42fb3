/* The syscall checks.  Each runs in a forked child (child.c), so a seccomp
 * kill shows as SIGSYS and whatever a call changes dies with the child.
 * The arguments are chosen so that even a call that gets through does no
 * harm outside that child: the kernel then fails it on a later check (an
 * fd of -1, a NULL pointer, a bad magic number, a path that cannot exist),
 * or it makes something the child owns and drops (a key in the process
 * keyring, a map fd, a namespace).  The mount checks undo what they make;
 * the one that mounts a real block device is skipped in the initial user
 * namespace. */
#include "syscalls.h"
#include "ids.h"
#include "jsonout.h"
#include "result.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/kcmp.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/quota.h>
#include <linux/reboot.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_TIMEOUT_SECONDS 10
#define ALL_KNOWN(n) ((1u << (n)) - 1)
/* The kernel's SOCK_MAX: socket() refuses this type before it loads the
 * module of an address family, so a family check never autoloads one. */
#define BAD_SOCK_TYPE 11
/* No pid_max reaches this, so calls that look a process up fail with ESRCH. */
#define NO_PID 0x7fffffff
#define NONEXISTENT "/proc/self/sandhost-probe-nonexistent"
/* makedev() for majors below 4096 and minors below 256, as a constant. */
#define OLD_DEV(ma, mi) (((ma) << 8) | (mi))

#if defined(__x86_64__) && !defined(__ILP32__)
#define PROBE_X86_COMPAT 1
#define NATIVE_NAME "x86_64"
#elif defined(__aarch64__)
#define NATIVE_NAME "aarch64"
#elif defined(__i386__)
#define NATIVE_NAME "x86"
#elif defined(__arm__)
#define NATIVE_NAME "arm"
#else
#define NATIVE_NAME "native"
#endif

const char *probe_arch_name(enum probe_arch a)
{
  switch (a) {
  case PROBE_ARCH_NATIVE: return NATIVE_NAME;
  case PROBE_ARCH_X86: return "x86";
  case PROBE_ARCH_X32: return "x32";
  }
  return "?";
}

/* ---- entry points ---------------------------------------------------------- */

#ifdef PROBE_X86_COMPAT
/* A 32-bit call from 64-bit code: arguments in ebx, ecx, edx, esi, edi.  A
 * filter that checks only the x86_64 table would let these through. */
static long int80(long nr, long a1, long a2, long a3, long a4, long a5)
{
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "0"(nr), "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5)
                   : "r8", "r9", "r10", "r11", "memory", "cc");
  return (int) ret; /* the i386 ABI returns a 32-bit value */
}
#endif

static long run_plain(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  const int64_t *a = c->args;
  if (c->arch == PROBE_ARCH_X86) {
#ifdef PROBE_X86_COMPAT
    return int80(c->nr, (long) a[0], (long) a[1], (long) a[2], (long) a[3], (long) a[4]);
#else
    return -ENOSYS;
#endif
  }
  return probe_sys_ret(syscall(c->nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}

/* ---- checks that need more than their arguments -------------------------- */

/* The child of a clone-like check leaves at once; the parent reaps it. */
static long reap_clone(long r)
{
  if (r == 0)
    _exit(0);
  if (r > 0)
    waitpid((pid_t) r, NULL, __WALL);
  return r;
}

static long run_clone(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  /* No stack and no CLONE_VM: the child runs on a copy, like fork. */
  return reap_clone(probe_sys_ret(syscall(c->nr, (unsigned long) c->args[0], NULL, NULL, NULL, 0UL)));
}

static long run_clone3(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  /* struct clone_args as of CLONE_ARGS_SIZE_VER0 (64 bytes). */
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  } args;
  _Static_assert(sizeof args == 64, "clone_args VER0 is 64 bytes");
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  return reap_clone(probe_sys_ret(syscall(c->nr, &args, (size_t) c->args[1])));
}

static long run_add_key(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  /* Into the process keyring, which dies with this child. */
  long id = probe_sys_ret(syscall(c->nr, "user", "sandhost-probe", "x", (size_t) c->args[3],
                                  (long) c->args[4]));
  if (id > 0)
    syscall(SYS_keyctl, KEYCTL_INVALIDATE, (int) id);
  return id;
}

static long run_request_key(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  /* No callout: the kernel never starts /sbin/request-key. */
  return probe_sys_ret(syscall(c->nr, "user", "sandhost-probe-nonexistent", NULL, (long) c->args[3]));
}

static long run_bpf(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  return probe_sys_ret(syscall(c->nr, (long) c->args[0], &attr, (size_t) c->args[2]));
}

static long run_perf_event_open(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.disabled = 1;
  attr.exclude_kernel = 1; /* what perf_event_paranoid=2 still allows */
  attr.exclude_hv = 1;
  return probe_sys_ret(syscall(c->nr, &attr, (long) c->args[1], (long) c->args[2], (long) c->args[3],
                               (unsigned long) c->args[4]));
}

static long run_io_uring_setup(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  return probe_sys_ret(syscall(c->nr, (unsigned) c->args[0], &params));
}

static long run_open_by_handle_at(const struct probe_syscall_check *c, const char *arg, char *why,
                                  size_t n)
{
  _Alignas(struct file_handle) unsigned char buf[sizeof(struct file_handle) + 8];
  struct file_handle *fh = (struct file_handle *) buf;
  memset(buf, 0, sizeof buf);
  fh->handle_bytes = 8;
  return probe_sys_ret(syscall(c->nr, (int) c->args[0], fh, (int) c->args[2]));
}

static long run_name_to_handle_at(const struct probe_syscall_check *c, const char *arg, char *why,
                                  size_t n)
{
  /* A handle buffer of 0 bytes: the kernel answers EOVERFLOW with the size. */
  struct file_handle fh = { .handle_bytes = 0 };
  int mount_id;
  return probe_sys_ret(syscall(c->nr, (int) c->args[0], "/", &fh, &mount_id, (int) c->args[4]));
}

static long run_path_call(const struct probe_syscall_check *c, const char *path)
{
  const int64_t *a = c->args;
  return probe_sys_ret(syscall(c->nr, path, a[1], a[2], a[3], a[4], a[5]));
}

/* A path that can never exist: past the permission check these fail with
 * ENOENT (delete_module: a module name that is never loaded). */
static long run_nonexistent_path(const struct probe_syscall_check *c, const char *arg, char *why,
                                 size_t n)
{
  return run_path_call(c, NONEXISTENT);
}

static long run_delete_module(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  return run_path_call(c, "sandhost_probe_nonexistent");
}

static long run_vhangup(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  /* Without a controlling terminal a permitted vhangup hangs up nothing. */
  if (setsid() < 0)
    return probe_skip(why, n, "setsid", errno);
  return probe_sys_ret(syscall(c->nr));
}

static long run_chroot(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  return run_path_call(c, "/");
}

static long run_personality(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  long old = probe_sys_ret(syscall(c->nr, (unsigned long) c->args[0]));
  if (old >= 0)
    syscall(c->nr, (unsigned long) old);
  return old;
}

static long run_mknod(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  char path[64];
  snprintf(path, sizeof path, "/tmp/sandhost-probe-node-%d", (int) getpid());
  long r;
#ifdef SYS_mknod
  if (c->nr == SYS_mknod)
    r = probe_sys_ret(syscall(c->nr, path, (unsigned long) c->args[1], (unsigned long) c->args[2]));
  else
#endif
    r = probe_sys_ret(syscall(c->nr, (int) c->args[0], path, (unsigned long) c->args[2],
                              (unsigned long) c->args[3]));
  if (r == 0)
    unlink(path);
  return r;
}

/* Where a mount check mounts: a fresh directory under /tmp, else /mnt (made
 * if missing), else an existing /tmp.  Any directory reaches the permission
 * check; a mount that succeeds is detached at once. */
static const char *mount_target(char *buf, size_t size, bool *made)
{
  struct stat st;

  snprintf(buf, size, "/tmp/sandhost-probe-XXXXXX");
  *made = mkdtemp(buf) != NULL;
  if (*made)
    return buf;
  if (mkdir("/mnt", 0755) == 0) {
    *made = true;
    return "/mnt";
  }
  if (stat("/mnt", &st) == 0 && S_ISDIR(st.st_mode))
    return "/mnt";
  if (stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode))
    return "/tmp";
  return NULL;
}

long probe_mount_and_undo(const char *source, const char *fstype, unsigned long flags,
                          const char *data, char *why, size_t why_size)
{
  char buf[64];
  bool made;
  const char *target = mount_target(buf, sizeof buf, &made);
  if (!target)
    return probe_skip(why, why_size, "mount-target", errno);
  long r = probe_sys_ret(syscall(SYS_mount, source, target, fstype, flags, data));
  if (r == 0)
    umount2(target, MNT_DETACH);
  if (made)
    rmdir(target);
  return r;
}

static long run_mount_tmpfs(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  return probe_mount_and_undo("tmpfs", "tmpfs", (unsigned long) c->args[3], "size=64k", why, n);
}

/* The first block device in /dev by name, for a deterministic choice. */
static const char *first_block_device(char *buf, size_t size)
{
  DIR *d = opendir("/dev");
  struct dirent *de;
  bool found = false;
  char path[300];
  struct stat st;

  while (d && (de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "/dev/%s", de->d_name);
    if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
      continue;
    if (!found || strcmp(path, buf) < 0)
      snprintf(buf, size, "%s", path);
    found = true;
  }
  if (d)
    closedir(d);
  return found ? buf : NULL;
}

static long run_mount_blockdev(const struct probe_syscall_check *c, const char *arg, char *why, size_t n)
{
  char dev[300];
  const char *source = arg ? arg : first_block_device(dev, sizeof dev);
  /* Read-only and "norecovery": even a permitted mount never writes to the
   * device (an ext4 journal replay would). */
  return probe_mount_and_undo(source ? source : "/dev/vda", "ext4", (unsigned long) c->args[3],
                              "norecovery", why, n);
}

/* ---- the table -------------------------------------------------------------- */

#define NATIVE PROBE_ARCH_NATIVE
#define X86 PROBE_ARCH_X86
#define X32 PROBE_ARCH_X32

/* A call whose arguments are all plain values. */
#define PLAIN(nm, sc, nrv, na, ...) \
  { .name = nm, .syscall = sc, .arch = NATIVE, .nr = nrv, .nargs = na, .known = ALL_KNOWN(na), \
    .args = { __VA_ARGS__ } }
/* The same through the 32-bit or x32 entry point. */
#define PLAIN_AT(ar, nm, sc, nrv, na, ...) \
  { .name = nm, .syscall = sc, .arch = ar, .nr = nrv, .nargs = na, .known = ALL_KNOWN(na), \
    .args = { __VA_ARGS__ } }
/* A call with pointers: known says which arguments are plain values. */
#define CUSTOM(nm, sc, nrv, na, kn, fn, ...) \
  { .name = nm, .syscall = sc, .arch = NATIVE, .nr = nrv, .nargs = na, .known = kn, .run = fn, \
    .args = { __VA_ARGS__ } }
#define BIT(i) (1u << (i))
#define CLONE(nm, flag) CUSTOM(nm, "clone", SYS_clone, 5, BIT(0), run_clone, (flag) | SIGCHLD)
#define UNSHARE(nm, flag) PLAIN(nm, "unshare", SYS_unshare, 1, flag)
/* socket(family, a type the kernel refuses before it looks the family up). */
#define SOCKET_FAMILY(nm, fam) PLAIN(nm, "socket", SYS_socket, 3, fam, BAD_SOCK_TYPE, 0)
/* reboot with a wrong magic: past the CAP_SYS_BOOT check it is EINVAL. */
#define REBOOT(nm, cmd) PLAIN(nm, "reboot", SYS_reboot, 4, 0, 0, (int32_t) (cmd), 0)
#define PERSONA(nm, p) CUSTOM(nm, "personality", SYS_personality, 1, BIT(0), run_personality, p)

#define KEYRING_ID KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0
#define CLONE_NS_ANY (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
                      CLONE_NEWPID | CLONE_NEWNET)
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const struct probe_syscall_check probe_syscall_checks[] = {
  /* Kernel keyrings. */
  PLAIN("keyctl", "keyctl", SYS_keyctl, 3, KEYRING_ID),
  CUSTOM("add_key", "add_key", SYS_add_key, 5, BIT(3) | BIT(4), run_add_key, 0, 0, 0, 1,
         KEY_SPEC_PROCESS_KEYRING),
  CUSTOM("request_key", "request_key", SYS_request_key, 4, BIT(3), run_request_key, 0, 0, 0, 0),
  /* eBPF, perf, userfaultfd, io_uring. */
  CUSTOM("bpf", "bpf", SYS_bpf, 3, BIT(0) | BIT(2), run_bpf, BPF_MAP_CREATE, 0, sizeof(union bpf_attr)),
  CUSTOM("perf_event_open", "perf_event_open", SYS_perf_event_open, 5, 0x1e, run_perf_event_open,
         0, 0, -1, -1, 0),
  PLAIN("userfaultfd", "userfaultfd", SYS_userfaultfd, 1, O_CLOEXEC),
  CUSTOM("io_uring_setup", "io_uring_setup", SYS_io_uring_setup, 2, BIT(0), run_io_uring_setup, 1),
  PLAIN("io_uring_enter", "io_uring_enter", SYS_io_uring_enter, 6, -1, 0, 0, 0, 0, 0),
  PLAIN("io_uring_register", "io_uring_register", SYS_io_uring_register, 4, -1, 0, 0, 0),
  /* File handles (open_by_handle_at is the "shocker" escape). */
  CUSTOM("open_by_handle_at", "open_by_handle_at", SYS_open_by_handle_at, 3, BIT(0) | BIT(2),
         run_open_by_handle_at, AT_FDCWD, 0, O_RDONLY | O_CLOEXEC),
  CUSTOM("name_to_handle_at", "name_to_handle_at", SYS_name_to_handle_at, 5, BIT(0) | BIT(4),
         run_name_to_handle_at, AT_FDCWD, 0, 0, 0, 0),
  PLAIN("fanotify_init", "fanotify_init", SYS_fanotify_init, 2, 0, O_RDONLY),
  /* Kernels and modules; flags 0x8000 are invalid for both kexec calls
   * (EINVAL right after the permission check, before anything is freed). */
  PLAIN("kexec_load", "kexec_load", SYS_kexec_load, 4, 0, 0, 0, 0x8000),
  PLAIN("kexec_file_load", "kexec_file_load", SYS_kexec_file_load, 5, -1, -1, 0, 0, 0x8000),
  PLAIN("init_module", "init_module", SYS_init_module, 3, 0, 0, 0),
  PLAIN("finit_module", "finit_module", SYS_finit_module, 3, -1, 0, 0),
  CUSTOM("delete_module", "delete_module", SYS_delete_module, 2, BIT(1), run_delete_module, 0, O_NONBLOCK),
#ifdef SYS_create_module
  PLAIN("create_module", "create_module", SYS_create_module, 2, 0, 0),
  PLAIN("get_kernel_syms", "get_kernel_syms", SYS_get_kernel_syms, 1, 0),
  PLAIN("query_module", "query_module", SYS_query_module, 5, 0, 0, 0, 0, 0),
#endif
#ifdef SYS_nfsservctl
  PLAIN("nfsservctl", "nfsservctl", SYS_nfsservctl, 3, 0, 0, 0),
#endif
#ifdef SYS__sysctl
  PLAIN("_sysctl", "_sysctl", SYS__sysctl, 1, 0),
#endif
#ifdef SYS_uselib
  PLAIN("uselib", "uselib", SYS_uselib, 1, 0),
#endif
  PLAIN("lookup_dcookie", "lookup_dcookie", SYS_lookup_dcookie, 3, 0, 0, 0),
  /* Host-wide state: swap, accounting, clocks, quotas, the kernel log. */
  CUSTOM("swapon", "swapon", SYS_swapon, 2, BIT(1), run_nonexistent_path, 0, 0),
  CUSTOM("swapoff", "swapoff", SYS_swapoff, 1, 0, run_nonexistent_path, 0),
  CUSTOM("acct", "acct", SYS_acct, 1, 0, run_nonexistent_path, 0),
  PLAIN("settimeofday", "settimeofday", SYS_settimeofday, 2, 0, 0),
  PLAIN("clock_settime", "clock_settime", SYS_clock_settime, 2, CLOCK_REALTIME, 0),
  PLAIN("quotactl", "quotactl", SYS_quotactl, 4, (int32_t) QCMD(Q_GETFMT, 0), 0, 0, 0),
  PLAIN("quotactl_fd", "quotactl_fd", SYS_quotactl_fd, 4, -1, 0, 0, 0),
  PLAIN("syslog", "syslog", SYS_syslog, 3, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, 0, 0),
  CUSTOM("vhangup", "vhangup", SYS_vhangup, 0, 0, run_vhangup, 0),
  REBOOT("reboot-cad-on", LINUX_REBOOT_CMD_CAD_ON),
  REBOOT("reboot-cad-off", LINUX_REBOOT_CMD_CAD_OFF),
  REBOOT("reboot-kexec", LINUX_REBOOT_CMD_KEXEC),
  REBOOT("reboot-sw-suspend", LINUX_REBOOT_CMD_SW_SUSPEND),
  REBOOT("reboot-restart", LINUX_REBOOT_CMD_RESTART),
  REBOOT("reboot-halt", LINUX_REBOOT_CMD_HALT),
  REBOOT("reboot-power-off", LINUX_REBOOT_CMD_POWER_OFF),
  /* Hardware access. */
#ifdef SYS_iopl
  PLAIN("iopl", "iopl", SYS_iopl, 1, 3),
  PLAIN("ioperm", "ioperm", SYS_ioperm, 3, 0x80, 1, 1),
  PLAIN("modify_ldt", "modify_ldt", SYS_modify_ldt, 3, 0, 0, 0),
#endif
  /* Personas: the query and PER_LINUX32 stay allowed; disabling ASLR and
   * READ_IMPLIES_EXEC are exploit helpers. */
  PERSONA("personality-query", 0xffffffff),
  PERSONA("personality-linux32", 0x0008),
  PERSONA("personality-uname26", 0x0020000),
  PERSONA("personality-addr-no-randomize", 0x0040000),
  PERSONA("personality-read-implies-exec", 0x0400000),
  /* Namespaces. */
  CLONE("clone-plain", 0),
  CLONE("clone-newuser", CLONE_NEWUSER),
  CLONE("clone-newns", CLONE_NEWNS),
  CLONE("clone-newuts", CLONE_NEWUTS),
  CLONE("clone-newipc", CLONE_NEWIPC),
  CLONE("clone-newpid", CLONE_NEWPID),
  CLONE("clone-newnet", CLONE_NEWNET),
  CLONE("clone-newcgroup", CLONE_NEWCGROUP),
#ifdef SYS_clone3
  CUSTOM("clone3", "clone3", SYS_clone3, 2, BIT(1), run_clone3, 0, 64),
#endif
  UNSHARE("unshare-files", CLONE_FILES),
  UNSHARE("unshare-user", CLONE_NEWUSER),
  UNSHARE("unshare-ns", CLONE_NEWNS),
  UNSHARE("unshare-uts", CLONE_NEWUTS),
  UNSHARE("unshare-ipc", CLONE_NEWIPC),
  UNSHARE("unshare-pid", CLONE_NEWPID),
  UNSHARE("unshare-net", CLONE_NEWNET),
  UNSHARE("unshare-cgroup", CLONE_NEWCGROUP),
  UNSHARE("unshare-time", CLONE_NEWTIME),
  PLAIN("setns", "setns", SYS_setns, 2, -1, 0),
  /* Mounts: the old API (a tmpfs, mounted and detached at once), then the
   * new one with arguments that fail after the permission check. */
  CUSTOM("mount-tmpfs", "mount", SYS_mount, 5, BIT(3), run_mount_tmpfs, 0, 0, 0,
         MS_NOSUID | MS_NODEV | MS_NOEXEC),
  { .name = "mount-blockdev", .syscall = "mount", .arch = NATIVE, .nr = SYS_mount, .nargs = 5,
    .known = BIT(3), .args = { 0, 0, 0, MS_RDONLY }, .run = run_mount_blockdev,
    .flags = PROBE_TAKES_ARG | PROBE_HOST_UNSAFE },
  CUSTOM("umount2", "umount2", SYS_umount2, 2, BIT(1), run_nonexistent_path, 0, 0),
  PLAIN("pivot_root", "pivot_root", SYS_pivot_root, 2, 0, 0),
  CUSTOM("chroot", "chroot", SYS_chroot, 1, 0, run_chroot, 0),
  PLAIN("fsopen", "fsopen", SYS_fsopen, 2, 0, 0x8000),
  PLAIN("fsconfig", "fsconfig", SYS_fsconfig, 5, -1, 0, 0, 0, 0),
  PLAIN("fsmount", "fsmount", SYS_fsmount, 3, -1, 0, 0),
  PLAIN("fspick", "fspick", SYS_fspick, 3, -1, 0, 0x8000),
  PLAIN("open_tree", "open_tree", SYS_open_tree, 3, -1, 0, 0),
  PLAIN("move_mount", "move_mount", SYS_move_mount, 5, -1, 0, -1, 0, 0),
  PLAIN("mount_setattr", "mount_setattr", SYS_mount_setattr, 5, -1, 0, 0, 0, 0),
  /* Names of the UTS namespace: a length of -1 is EINVAL past the check. */
  PLAIN("sethostname", "sethostname", SYS_sethostname, 2, 0, -1),
  PLAIN("setdomainname", "setdomainname", SYS_setdomainname, 2, 0, -1),
  /* Other processes: a pid no process can have, or an fd of -1. */
  PLAIN("ptrace", "ptrace", SYS_ptrace, 4, PTRACE_ATTACH, NO_PID, 0, 0),
  PLAIN("process_vm_readv", "process_vm_readv", SYS_process_vm_readv, 6, NO_PID, 0, 0, 0, 0, 0),
  PLAIN("process_vm_writev", "process_vm_writev", SYS_process_vm_writev, 6, NO_PID, 0, 0, 0, 0, 0),
  PLAIN("kcmp", "kcmp", SYS_kcmp, 5, NO_PID, NO_PID, KCMP_FILE, 0, 0),
  PLAIN("pidfd_getfd", "pidfd_getfd", SYS_pidfd_getfd, 3, -1, 0, 0),
  PLAIN("process_madvise", "process_madvise", SYS_process_madvise, 5, -1, 0, 0, 0, 0),
  PLAIN("migrate_pages", "migrate_pages", SYS_migrate_pages, 4, NO_PID, 0, 0, 0),
  PLAIN("move_pages", "move_pages", SYS_move_pages, 6, NO_PID, 0, 0, 0, 0, 0),
  /* Device nodes (made in /tmp and removed; a FIFO is the control).  The
   * mknod-* names are mknodat, which every architecture has; the
   * mknod-legacy-* ones the old call where it exists. */
  CUSTOM("mknod-char", "mknodat", SYS_mknodat, 4, BIT(0) | BIT(2) | BIT(3), run_mknod, AT_FDCWD, 0,
         S_IFCHR | 0600, OLD_DEV(1, 3)),
  CUSTOM("mknod-block", "mknodat", SYS_mknodat, 4, BIT(0) | BIT(2) | BIT(3), run_mknod, AT_FDCWD, 0,
         S_IFBLK | 0600, OLD_DEV(8, 0)),
  CUSTOM("mknod-fifo", "mknodat", SYS_mknodat, 4, BIT(0) | BIT(2) | BIT(3), run_mknod, AT_FDCWD, 0,
         S_IFIFO | 0600, 0),
#ifdef SYS_mknod
  CUSTOM("mknod-legacy-char", "mknod", SYS_mknod, 3, BIT(1) | BIT(2), run_mknod, 0, S_IFCHR | 0600,
         OLD_DEV(1, 3)),
  CUSTOM("mknod-legacy-block", "mknod", SYS_mknod, 3, BIT(1) | BIT(2), run_mknod, 0, S_IFBLK | 0600,
         OLD_DEV(8, 0)),
#endif
  /* Sockets: every address family (with a type that fails before the
   * family's module would load), then raw and packet sockets for real. */
  PLAIN("socket-inet-stream", "socket", SYS_socket, 3, AF_INET, SOCK_STREAM, 0),
  PLAIN("socket-inet-raw", "socket", SYS_socket, 3, AF_INET, SOCK_RAW, IPPROTO_ICMP),
  PLAIN("socket-inet6-raw", "socket", SYS_socket, 3, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6),
  PLAIN("socket-inet-packet", "socket", SYS_socket, 3, AF_INET, SOCK_PACKET, 0),
  PLAIN("socket-inet6-packet", "socket", SYS_socket, 3, AF_INET6, SOCK_PACKET, 0),
  PLAIN("socket-packet-raw", "socket", SYS_socket, 3, AF_PACKET, SOCK_RAW, 0x0300 /* htons(ETH_P_ALL) */),
  SOCKET_FAMILY("socket-af-0", 0), SOCKET_FAMILY("socket-af-1", 1), SOCKET_FAMILY("socket-af-3", 3),
  SOCKET_FAMILY("socket-af-4", 4), SOCKET_FAMILY("socket-af-8", 8), SOCKET_FAMILY("socket-af-11", 11),
  SOCKET_FAMILY("socket-af-12", 12), SOCKET_FAMILY("socket-af-16", 16), SOCKET_FAMILY("socket-af-17", 17),
  SOCKET_FAMILY("socket-af-18", 18), SOCKET_FAMILY("socket-af-20", 20), SOCKET_FAMILY("socket-af-24", 24),
  SOCKET_FAMILY("socket-af-32", 32), SOCKET_FAMILY("socket-af-38", 38), SOCKET_FAMILY("socket-vsock", 40),
  SOCKET_FAMILY("socket-af-41", 41), SOCKET_FAMILY("socket-af-44", 44),
#ifdef PROBE_X86_COMPAT
  /* The 32-bit entry point, with i386 numbers (asm/unistd_32.h); pointers
   * are NULL, the only address that means the same in both ABIs.  getpid
   * is the control: the entry point itself works. */
  PLAIN_AT(X86, "int80-getpid", "getpid", 20, 0, 0),
  PLAIN_AT(X86, "int80-keyctl", "keyctl", 288, 3, KEYRING_ID),
  PLAIN_AT(X86, "int80-unshare-user", "unshare", 310, 1, CLONE_NEWUSER),
  PLAIN_AT(X86, "int80-bpf", "bpf", 357, 3, BPF_MAP_CREATE, 0, 0),
  PLAIN_AT(X86, "int80-mount", "mount", 21, 5, 0, 0, 0, 0, 0),
  PLAIN_AT(X86, "int80-umount", "umount", 22, 1, 0),
  PLAIN_AT(X86, "int80-ptrace", "ptrace", 26, 4, PTRACE_ATTACH, NO_PID, 0, 0),
  PLAIN_AT(X86, "int80-socket-vsock", "socket", 359, 3, 40, BAD_SOCK_TYPE, 0),
  PLAIN_AT(X86, "int80-socketcall", "socketcall", 102, 2, 1 /* SYS_SOCKET */, 0),
  PLAIN_AT(X86, "int80-reboot-kexec", "reboot", 88, 4, 0, 0, (int32_t) LINUX_REBOOT_CMD_KEXEC, 0),
  PLAIN_AT(X86, "int80-stime", "stime", 25, 1, 0),
  PLAIN_AT(X86, "int80-clock_settime64", "clock_settime64", 404, 2, CLOCK_REALTIME, 0),
  PLAIN_AT(X86, "int80-vm86old", "vm86old", 113, 1, 0),
  PLAIN_AT(X86, "int80-vm86", "vm86", 166, 2, 0, 0),
  /* The x32 entry point (asm/unistd_x32.h); kernels without x32 answer
   * ENOSYS to anything a filter lets through. */
  PLAIN_AT(X32, "x32-keyctl", "keyctl", __X32_SYSCALL_BIT + 250, 3, KEYRING_ID),
  PLAIN_AT(X32, "x32-unshare-user", "unshare", __X32_SYSCALL_BIT + 272, 1, CLONE_NEWUSER),
  PLAIN_AT(X32, "x32-bpf", "bpf", __X32_SYSCALL_BIT + 321, 3, BPF_MAP_CREATE, 0, 0),
  PLAIN_AT(X32, "x32-mount", "mount", __X32_SYSCALL_BIT + 165, 5, 0, 0, 0, 0, 0),
  PLAIN_AT(X32, "x32-ptrace", "ptrace", __X32_SYSCALL_BIT + 521, 4, PTRACE_ATTACH, NO_PID, 0, 0),
#endif
};
const size_t probe_syscall_count = sizeof probe_syscall_checks / sizeof probe_syscall_checks[0];

_Static_assert((CLONE_NS_ANY & 0xff) == 0, "clone's low byte is the exit signal");

const struct probe_syscall_check *probe_syscall_find(const char *spec, const char **arg)
{
  const char *eq = strchr(spec, '=');
  size_t len = eq ? (size_t) (eq - spec) : strlen(spec);
  *arg = eq ? eq + 1 : NULL;
  for (size_t i = 0; i < probe_syscall_count; i++) {
    const struct probe_syscall_check *c = &probe_syscall_checks[i];
    if (strlen(c->name) == len && !strncmp(c->name, spec, len))
      return (eq && !(c->flags & PROBE_TAKES_ARG)) ? NULL : c;
  }
  return NULL;
}

struct attempt {
  const struct probe_syscall_check *c;
  const char *arg;
};

static long attempt(const void *p, char *why, size_t n)
{
  const struct attempt *a = p;
  return (a->c->run ? a->c->run : run_plain)(a->c, a->arg, why, n);
}

void probe_syscall_run(const struct probe_syscall_check *c, const char *arg, struct probe_child *out)
{
  if ((c->flags & PROBE_HOST_UNSAFE) && probe_in_initial_userns()) {
    memset(out, 0, sizeof *out);
    out->kind = PROBE_NOT_RUN;
    snprintf(out->why, sizeof out->why, "initial-user-namespace");
    return;
  }
  struct attempt a = { c, arg };
  probe_in_child(attempt, &a, CHECK_TIMEOUT_SECONDS, out);
}

json_t *probe_syscall_json(const struct probe_syscall_check *c, const struct probe_child *out)
{
  json_t *args = json_array();
  for (unsigned i = 0; i < c->nargs; i++) {
    /* The filter sees a 32-bit call's arguments zero-extended. */
    json_int_t v = c->arch == PROBE_ARCH_X86 ? (json_int_t) (uint32_t) c->args[i] : c->args[i];
    probe_append(args, (c->known & BIT(i)) ? json_integer(v) : json_null());
  }
  json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o}", "name", c->name, "syscall", c->syscall,
                        "arch", probe_arch_name(c->arch), "nr", (json_int_t) c->nr, "args", args);
  if (!o)
    return NULL;
  probe_child_to_json(out, o);
  return o;
}

json_t *probe_section_syscalls(void)
{
  json_t *arr = json_array();
  for (size_t i = 0; i < probe_syscall_count; i++) {
    struct probe_child out;
    probe_syscall_run(&probe_syscall_checks[i], NULL, &out);
    probe_append(arr, probe_syscall_json(&probe_syscall_checks[i], &out));
  }
  return arr;
}
