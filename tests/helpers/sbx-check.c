/* sbx-check: a probe the integration tests copy into a container's rootfs and
 * run there as the container's root, to assert isolation facts from inside.
 * It is linked statically and uses nothing from the rootfs.
 *
 *   sbx-check syscall NAME[=ARG]...   one line per check: "NAME RESULT"
 *   sbx-check --all-denied            the syscall checks a hardened container must fail
 *   sbx-check --list                  the names of all syscall checks
 *   sbx-check open PATH r|w|rw        "PATH RESULT"
 *   sbx-check read PATH               "PATH ok BYTES" (at most 1 MiB is read) or "PATH ERRNO"
 *   sbx-check write PATH STRING       "PATH RESULT" (O_WRONLY|O_TRUNC, never creates)
 *   sbx-check caps                    the Cap*, NoNewPrivs and Seccomp* lines of /proc/self/status
 *   sbx-check fork-bomb N             "forked K RESULT", then kills and reaps the K children
 *   sbx-check hog MB                  "hog K" every 16 MiB touched (and at MB)
 *   sbx-check spin SECONDS            "spin cpu_ms=C wall_ms=W"
 *   sbx-check fds                     "fds 0 1 2"
 *   sbx-check label                   "label CONTEXT" from /proc/self/attr/current, or "label ERRNO"
 *
 * RESULT is "ok" when the call succeeded, else the errno name ("EPERM",
 * "ENOSYS", or "E<number>" for one not in the table).  A syscall check whose
 * child was killed prints the signal instead ("SIGSYS" for a seccomp kill).
 * The shell test compares the printed result; the exit status only says
 * whether sbx-check could do what it was asked:
 *   0  everything ran, whatever the calls returned
 *   1  something could not run: its line reads "NAME SKIP WHY", or hog failed to allocate
 *   2  usage error; nothing was run
 *
 * Every syscall check runs in a forked child that reports through a pipe, so
 * one check (an unshare, a personality change) cannot influence the next.
 * A check that unexpectedly succeeds undoes what it made (mounts, nodes, keys)
 * or uses arguments that make success harmless; the three whose success
 * would act on the whole machine (kexec_load, reboot-kexec, acct) refuse to
 * run in the initial user namespace unless SBX_CHECK_ALLOW_HOST=1 is set. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED __attribute__((unused))

static inline void closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}
static inline void fclosep(FILE **f)
{
  if (*f)
    fclose(*f);
}
static inline void closedirp(DIR **d)
{
  if (*d)
    closedir(*d);
}
static inline void freep(void *p) { free(*(void **) p); }
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(closedirp)))
#define _cleanup_free_ __attribute__((cleanup(freep)))

#define CHECK_TIMEOUT_SECONDS 10
#define MIB (1024 * 1024)
#define READ_CAP MIB

/* ---- errno and signal names ---------------------------------------------- */

#define NAMED(x) { x, #x }
static const struct { int num; const char *name; } errno_names[] = {
  NAMED(EPERM), NAMED(ENOENT), NAMED(ESRCH), NAMED(EINTR), NAMED(EIO), NAMED(ENXIO),
  NAMED(E2BIG), NAMED(ENOEXEC), NAMED(EBADF), NAMED(ECHILD), NAMED(EAGAIN), NAMED(ENOMEM),
  NAMED(EACCES), NAMED(EFAULT), NAMED(ENOTBLK), NAMED(EBUSY), NAMED(EEXIST), NAMED(EXDEV),
  NAMED(ENODEV), NAMED(ENOTDIR), NAMED(EISDIR), NAMED(EINVAL), NAMED(ENFILE), NAMED(EMFILE),
  NAMED(ENOTTY), NAMED(ETXTBSY), NAMED(EFBIG), NAMED(ENOSPC), NAMED(ESPIPE), NAMED(EROFS),
  NAMED(EMLINK), NAMED(EPIPE), NAMED(EDOM), NAMED(ERANGE), NAMED(EDEADLK),
  NAMED(ENAMETOOLONG), NAMED(ENOLCK), NAMED(ENOSYS), NAMED(ENOTEMPTY), NAMED(ELOOP),
  NAMED(ENOMSG), NAMED(EIDRM), NAMED(ENODATA), NAMED(ETIME), NAMED(ENOLINK), NAMED(EPROTO),
  NAMED(EBADMSG), NAMED(EOVERFLOW), NAMED(EBADFD), NAMED(EILSEQ), NAMED(EUSERS),
  NAMED(ENOTSOCK), NAMED(EDESTADDRREQ), NAMED(EMSGSIZE), NAMED(EPROTOTYPE),
  NAMED(ENOPROTOOPT), NAMED(EPROTONOSUPPORT), NAMED(EOPNOTSUPP), NAMED(EAFNOSUPPORT),
  NAMED(EADDRINUSE), NAMED(EADDRNOTAVAIL), NAMED(ENETDOWN), NAMED(ENETUNREACH),
  NAMED(ECONNABORTED), NAMED(ECONNRESET), NAMED(ENOBUFS), NAMED(EISCONN), NAMED(ENOTCONN),
  NAMED(ETIMEDOUT), NAMED(ECONNREFUSED), NAMED(EHOSTUNREACH), NAMED(EALREADY),
  NAMED(EINPROGRESS), NAMED(ESTALE), NAMED(EDQUOT), NAMED(ENOMEDIUM), NAMED(EMEDIUMTYPE),
  NAMED(ECANCELED), NAMED(ENOKEY), NAMED(EKEYEXPIRED), NAMED(EKEYREVOKED),
  NAMED(EKEYREJECTED), NAMED(EOWNERDEAD), NAMED(ENOTRECOVERABLE), NAMED(ERFKILL),
  NAMED(EHWPOISON),
};

static const struct { int num; const char *name; } signal_names[] = {
  NAMED(SIGHUP), NAMED(SIGINT), NAMED(SIGQUIT), NAMED(SIGILL), NAMED(SIGTRAP), NAMED(SIGABRT),
  NAMED(SIGBUS), NAMED(SIGFPE), NAMED(SIGKILL), NAMED(SIGSEGV), NAMED(SIGPIPE),
  NAMED(SIGALRM), NAMED(SIGTERM), NAMED(SIGXCPU), NAMED(SIGXFSZ), NAMED(SIGSYS),
};

static const char *errno_name(int err)
{
  static char fallback[24];
  for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++)
    if (errno_names[i].num == err)
      return errno_names[i].name;
  snprintf(fallback, sizeof fallback, "E%d", err);
  return fallback;
}

static const char *signal_name(int sig)
{
  static char fallback[24];
  for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
    if (signal_names[i].num == sig)
      return signal_names[i].name;
  snprintf(fallback, sizeof fallback, "SIG%d", sig);
  return fallback;
}

/* ---- syscall checks -------------------------------------------------------- */

/* A check returns the call's result the way the kernel does: >= 0 on
 * success, -errno on failure; or SKIPPED when a setup step failed and the
 * call was never made (skip_why then says which step). */
#define SKIPPED LONG_MIN
static char skip_why[96];

static long skip(const char *step, int err)
{
  snprintf(skip_why, sizeof skip_why, "%s:%s", step, errno_name(err));
  return SKIPPED;
}

static long sys_ret(long r)
{
  return r == -1 ? -errno : r;
}

/* The kernel gives the initial user namespace this fixed inode number
 * (PROC_USER_INIT_INO in include/linux/proc_ns.h). */
#define INIT_USER_NS_INO 0xEFFFFFFDUL

static bool in_initial_userns(void)
{
  struct stat st;
  if (stat("/proc/self/ns/user", &st) < 0)
    return true; /* cannot tell: assume the case that could hurt */
  return st.st_ino == INIT_USER_NS_INO;
}

/* The child of a clone-like check leaves at once; the parent reaps it. */
static long reap_clone(long r)
{
  if (r == 0)
    _exit(0);
  if (r > 0)
    waitpid((pid_t) r, NULL, 0);
  return r;
}

/* Where a mount check mounts: a fresh directory under /tmp, else /mnt
 * (made if missing), else an existing /tmp.  Any directory reaches the
 * permission check; a mount that unexpectedly succeeds is detached at once. */
static const char *mount_target(char *buf, size_t size, bool *made)
{
  struct stat st;

  snprintf(buf, size, "/tmp/sbx-check-XXXXXX");
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

static long mount_and_undo(const char *source, const char *fstype, unsigned long flags,
                           const char *data)
{
  char buf[64];
  bool made;
  const char *target = mount_target(buf, sizeof buf, &made);
  if (!target)
    return skip("mount-target", errno);
  long r = sys_ret(syscall(SYS_mount, source, target, fstype, flags, data));
  if (r == 0)
    umount2(target, MNT_DETACH);
  if (made)
    rmdir(target);
  return r;
}

/* The first block device in /dev by name, for a deterministic choice. */
static const char *first_block_device(char *buf, size_t size)
{
  _cleanup_closedir_ DIR *d = opendir("/dev");
  struct dirent *de;
  bool found = false;
  char path[PATH_MAX];
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
  return found ? buf : NULL;
}

static long mknod_and_undo(const char *kind, mode_t type, dev_t dev)
{
  char path[64];
  snprintf(path, sizeof path, "/tmp/sbx-check-%s-%d", kind, (int) getpid());
  long r = sys_ret(syscall(SYS_mknodat, AT_FDCWD, path, (unsigned long) (type | 0600),
                           (unsigned long) dev));
  if (r == 0)
    unlink(path);
  return r;
}

static long check_keyctl(const char *arg UNUSED)
{
  return sys_ret(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
}

static long check_add_key(const char *arg UNUSED)
{
  /* Into the process keyring, which dies with this child. */
  long id = sys_ret(syscall(SYS_add_key, "user", "sbx-check", "x", (size_t) 1,
                            KEY_SPEC_PROCESS_KEYRING));
  if (id > 0)
    syscall(SYS_keyctl, KEYCTL_INVALIDATE, (int) id);
  return id;
}

static long check_request_key(const char *arg UNUSED)
{
  /* No callout: the kernel never starts /sbin/request-key. */
  return sys_ret(syscall(SYS_request_key, "user", "sbx-check-nonexistent", NULL, 0));
}

static long check_bpf(const char *arg UNUSED)
{
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  return sys_ret(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
}

static long check_perf_event_open(const char *arg UNUSED)
{
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.disabled = 1;
  attr.exclude_kernel = 1; /* what perf_event_paranoid=2 still allows */
  attr.exclude_hv = 1;
  return sys_ret(syscall(SYS_perf_event_open, &attr, 0 /* self */, -1 /* any cpu */, -1, 0UL));
}

static long check_unshare_user(const char *arg UNUSED)
{
  return sys_ret(syscall(SYS_unshare, CLONE_NEWUSER));
}

static long check_unshare_net(const char *arg UNUSED)
{
  return sys_ret(syscall(SYS_unshare, CLONE_NEWNET));
}

static long check_clone_newuser(const char *arg UNUSED)
{
  /* No stack and no CLONE_VM: the child runs on a copy, like fork. */
  return reap_clone(sys_ret(syscall(SYS_clone, (unsigned long) (CLONE_NEWUSER | SIGCHLD),
                                    NULL, NULL, NULL, 0UL)));
}

static long check_clone3(const char *arg UNUSED)
{
#ifdef SYS_clone3
  /* struct clone_args as of CLONE_ARGS_SIZE_VER0 (64 bytes). */
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  } args;
  _Static_assert(sizeof args == 64, "clone_args VER0 is 64 bytes");
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  return reap_clone(sys_ret(syscall(SYS_clone3, &args, sizeof args)));
#else
  return -ENOSYS;
#endif
}

static long check_kexec_load(const char *arg UNUSED)
{
  /* No segments: with CAP_SYS_BOOT this unloads a staged kexec kernel,
   * hence the refusal in the initial user namespace. */
  return sys_ret(syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL));
}

static long check_kexec_file_load(const char *arg UNUSED)
{
#ifdef SYS_kexec_file_load
  /* Bad fds: past the permission check this can only fail with EBADF. */
  return sys_ret(syscall(SYS_kexec_file_load, -1, -1, 0UL, "", 0UL));
#else
  return -ENOSYS;
#endif
}

static long check_init_module(const char *arg UNUSED)
{
  return sys_ret(syscall(SYS_init_module, NULL, 0UL, ""));
}

static long check_finit_module(const char *arg UNUSED)
{
  return sys_ret(syscall(SYS_finit_module, -1, "", 0));
}

static long check_delete_module(const char *arg UNUSED)
{
  return sys_ret(syscall(SYS_delete_module, "sbx_check_nonexistent", 0));
}

static long check_userfaultfd(const char *arg UNUSED)
{
#ifdef SYS_userfaultfd
  return sys_ret(syscall(SYS_userfaultfd, O_CLOEXEC));
#else
  return -ENOSYS;
#endif
}

static long check_io_uring_setup(const char *arg UNUSED)
{
#ifdef SYS_io_uring_setup
  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  return sys_ret(syscall(SYS_io_uring_setup, 1U, &params));
#else
  return -ENOSYS;
#endif
}

static long check_open_by_handle_at(const char *arg UNUSED)
{
  _Alignas(struct file_handle) unsigned char buf[sizeof(struct file_handle) + 8];
  struct file_handle *fh = (struct file_handle *) buf;
  memset(buf, 0, sizeof buf);
  fh->handle_bytes = 8;
  return sys_ret(syscall(SYS_open_by_handle_at, AT_FDCWD, fh, O_RDONLY | O_CLOEXEC));
}

static long check_mount_blockdev(const char *arg)
{
  char dev[PATH_MAX];
  const char *source = arg ? arg : first_block_device(dev, sizeof dev);
  /* Read-only and "norecovery": even a permitted mount never writes to the
   * device (an ext4 journal replay would). */
  return mount_and_undo(source ? source : "/dev/vda", "ext4", MS_RDONLY, "norecovery");
}

static long check_mount_tmpfs(const char *arg UNUSED)
{
  return mount_and_undo("tmpfs", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k");
}

static long check_swapon(const char *arg UNUSED)
{
  /* A path that can never exist (unlike one under /tmp): past the
   * permission check this fails with ENOENT. */
  return sys_ret(syscall(SYS_swapon, "/proc/self/sbx-check-nonexistent", 0));
}

static long check_reboot_kexec(const char *arg UNUSED)
{
  return sys_ret(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                         LINUX_REBOOT_CMD_KEXEC, NULL));
}

static long check_syslog(const char *arg UNUSED)
{
  char buf[4096];
  return sys_ret(syscall(SYS_syslog, 3 /* SYSLOG_ACTION_READ_ALL */, buf, (int) sizeof buf));
}

static long check_personality_bad(const char *arg UNUSED)
{
  /* PER_LINUX | ADDR_NO_RANDOMIZE (0x0040000): outside the personas
   * (0, 8, 0x20000, 0x20008, query 0xffffffff) that seccomp profiles allow. */
  long old = sys_ret(syscall(SYS_personality, 0x0040000UL));
  if (old >= 0)
    syscall(SYS_personality, (unsigned long) old);
  return old;
}

static long check_mknod_char(const char *arg UNUSED)
{
  return mknod_and_undo("char", S_IFCHR, makedev(1, 3)); /* /dev/null */
}

static long check_mknod_block(const char *arg UNUSED)
{
  return mknod_and_undo("block", S_IFBLK, makedev(8, 0)); /* /dev/sda */
}

static long check_acct(const char *arg UNUSED)
{
  /* With CAP_SYS_PACCT this stops process accounting of the caller's pid
   * namespace, hence the refusal in the initial user namespace. */
  return sys_ret(syscall(SYS_acct, NULL));
}

static long check_settimeofday(const char *arg UNUSED)
{
  /* Neither time nor zone: the kernel makes its CAP_SYS_TIME check and
   * then does nothing, so success cannot move the clock. */
  return sys_ret(syscall(SYS_settimeofday, NULL, NULL));
}

static long check_iopl(const char *arg UNUSED)
{
#ifdef SYS_iopl
  return sys_ret(syscall(SYS_iopl, 3)); /* this child's own I/O privilege */
#else
  return -ENOSYS;
#endif
}

#if defined(__x86_64__) && !defined(__ILP32__)
/* Syscall numbers of the i386 table (asm/unistd_32.h). */
enum { I386_NR_getpid = 20, I386_NR_keyctl = 288, I386_NR_unshare = 310 };

/* The 32-bit entry point from 64-bit code: a filter that checks only the
 * x86_64 arch would let these through.  Returns -errno like the kernel. */
static long int80(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3)
{
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "0"(nr), "b"(a1), "c"(a2), "d"(a3)
                   : "r8", "r9", "r10", "r11", "memory", "cc");
  return (int) ret; /* the i386 ABI returns a 32-bit value */
}
#endif

static long check_int80_getpid(const char *arg UNUSED)
{
#if defined(__x86_64__) && !defined(__ILP32__)
  return int80(I386_NR_getpid, 0, 0, 0);
#else
  return -ENOSYS;
#endif
}

static long check_int80_keyctl(const char *arg UNUSED)
{
#if defined(__x86_64__) && !defined(__ILP32__)
  return int80(I386_NR_keyctl, KEYCTL_GET_KEYRING_ID, (uint32_t) KEY_SPEC_SESSION_KEYRING, 0);
#else
  return -ENOSYS;
#endif
}

static long check_int80_unshare_user(const char *arg UNUSED)
{
#if defined(__x86_64__) && !defined(__ILP32__)
  return int80(I386_NR_unshare, CLONE_NEWUSER, 0, 0);
#else
  return -ENOSYS;
#endif
}

static long check_x32_keyctl(const char *arg UNUSED)
{
#ifdef __X32_SYSCALL_BIT
  /* keyctl is 250 in the x32 table (asm/unistd_x32.h); kernels without
   * CONFIG_X86_X32_ABI answer ENOSYS. */
  return sys_ret(syscall(__X32_SYSCALL_BIT | 250, KEYCTL_GET_KEYRING_ID,
                         KEY_SPEC_SESSION_KEYRING, 0));
#else
  return -ENOSYS;
#endif
}

enum {
  SHOW_VALUE = 1 << 0,   /* print "ok VALUE" */
  TAKES_ARG = 1 << 1,    /* accepts NAME=ARG */
  MACHINE_WIDE = 1 << 2, /* success would act on the whole machine */
};

static const struct syscall_check {
  const char *name;
  long (*run)(const char *arg);
  unsigned flags;
} syscall_checks[] = {
  { "keyctl", check_keyctl, 0 },
  { "add_key", check_add_key, 0 },
  { "request_key", check_request_key, 0 },
  { "bpf", check_bpf, 0 },
  { "perf_event_open", check_perf_event_open, 0 },
  { "unshare-user", check_unshare_user, 0 },
  { "unshare-net", check_unshare_net, 0 },
  { "clone-newuser", check_clone_newuser, 0 },
  { "clone3", check_clone3, 0 },
  { "kexec_load", check_kexec_load, MACHINE_WIDE },
  { "kexec_file_load", check_kexec_file_load, 0 },
  { "init_module", check_init_module, 0 },
  { "finit_module", check_finit_module, 0 },
  { "delete_module", check_delete_module, 0 },
  { "userfaultfd", check_userfaultfd, 0 },
  { "io_uring_setup", check_io_uring_setup, 0 },
  { "open_by_handle_at", check_open_by_handle_at, 0 },
  { "mount-blockdev", check_mount_blockdev, TAKES_ARG },
  { "mount-tmpfs", check_mount_tmpfs, 0 },
  { "swapon", check_swapon, 0 },
  { "reboot-kexec", check_reboot_kexec, MACHINE_WIDE },
  { "syslog", check_syslog, 0 },
  { "personality-bad", check_personality_bad, 0 },
  { "mknod-char", check_mknod_char, 0 },
  { "mknod-block", check_mknod_block, 0 },
  { "acct", check_acct, MACHINE_WIDE },
  { "settimeofday", check_settimeofday, 0 },
  { "iopl", check_iopl, 0 },
  { "int80-getpid", check_int80_getpid, SHOW_VALUE },
  { "int80-keyctl", check_int80_keyctl, 0 },
  { "int80-unshare-user", check_int80_unshare_user, 0 },
  { "x32-keyctl", check_x32_keyctl, 0 },
};

static const char *const all_denied[] = {
  "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "unshare-user",
  "clone-newuser", "kexec_load", "kexec_file_load", "init_module", "finit_module",
  "delete_module", "userfaultfd", "io_uring_setup", "open_by_handle_at", "swapon",
  "reboot-kexec", "mknod-block", "int80-keyctl", "int80-unshare-user", "acct", "settimeofday",
};

/* What the child sends back through the pipe. */
struct outcome {
  long result; /* >= 0, -errno or SKIPPED */
  char why[96];
};

static const struct syscall_check *find_check(const char *spec, const char **arg)
{
  const char *eq = strchr(spec, '=');
  size_t len = eq ? (size_t) (eq - spec) : strlen(spec);
  *arg = eq ? eq + 1 : NULL;
  for (size_t i = 0; i < ARRAY_SIZE(syscall_checks); i++) {
    const struct syscall_check *c = &syscall_checks[i];
    if (strlen(c->name) == len && !strncmp(c->name, spec, len))
      return (eq && !(c->flags & TAKES_ARG)) ? NULL : c;
  }
  return NULL;
}

static bool read_full(int fd, void *buf, size_t size)
{
  size_t done = 0;
  while (done < size) {
    ssize_t n = read(fd, (char *) buf + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += (size_t) n;
  }
  return true;
}

/* Runs one check in a child; returns 0 if it ran, 1 if it could not. */
static int run_syscall_check(const struct syscall_check *c, const char *arg)
{
  if ((c->flags & MACHINE_WIDE) && in_initial_userns() && !getenv("SBX_CHECK_ALLOW_HOST")) {
    printf("%s SKIP initial-user-namespace\n", c->name);
    return 1;
  }

  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    printf("%s SKIP pipe:%s\n", c->name, errno_name(errno));
    return 1;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    printf("%s SKIP fork:%s\n", c->name, errno_name(errno));
    close(p[0]);
    close(p[1]);
    return 1;
  }
  if (pid == 0) {
    struct outcome out;
    close(p[0]);
    alarm(CHECK_TIMEOUT_SECONDS); /* a hung call shows as SIGALRM */
    memset(&out, 0, sizeof out);
    out.result = c->run(arg);
    snprintf(out.why, sizeof out.why, "%s", skip_why);
    _exit(write(p[1], &out, sizeof out) == (ssize_t) sizeof out ? 0 : 3);
  }

  _cleanup_close_ int rfd = p[0];
  close(p[1]);
  struct outcome out;
  bool got = read_full(rfd, &out, sizeof out);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!got) {
    if (WIFSIGNALED(status)) {
      printf("%s %s\n", c->name, signal_name(WTERMSIG(status)));
      return 0;
    }
    printf("%s SKIP no-result\n", c->name);
    return 1;
  }
  if (out.result == SKIPPED) {
    printf("%s SKIP %s\n", c->name, out.why);
    return 1;
  }
  if (out.result < 0)
    printf("%s %s\n", c->name, errno_name((int) -out.result));
  else if (c->flags & SHOW_VALUE)
    printf("%s ok %ld\n", c->name, out.result);
  else
    printf("%s ok\n", c->name);
  return 0;
}

/* ---- file checks ------------------------------------------------------------ */

static int cmd_open(const char *path, const char *mode)
{
  int flags;
  if (!strcmp(mode, "r"))
    flags = O_RDONLY;
  else if (!strcmp(mode, "w"))
    flags = O_WRONLY;
  else if (!strcmp(mode, "rw"))
    flags = O_RDWR;
  else
    return -1;
  /* O_NONBLOCK: a FIFO or a tty must not hang the test. */
  _cleanup_close_ int fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  printf("%s %s\n", path, fd < 0 ? errno_name(errno) : "ok");
  return 0;
}

static int cmd_read(const char *path)
{
  static char buf[64 * 1024];
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    printf("%s %s\n", path, errno_name(errno));
    return 0;
  }
  size_t total = 0;
  while (total < READ_CAP) {
    size_t want = READ_CAP - total < sizeof buf ? READ_CAP - total : sizeof buf;
    ssize_t n = read(fd, buf, want);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) /* /dev/kmsg and the like: nothing more now */
      break;
    if (n < 0) {
      printf("%s %s\n", path, errno_name(errno));
      return 0;
    }
    if (n == 0)
      break;
    total += (size_t) n;
  }
  printf("%s ok %zu\n", path, total);
  return 0;
}

static int cmd_write(const char *path, const char *data)
{
  _cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    printf("%s %s\n", path, errno_name(errno));
    return 0;
  }
  size_t len = strlen(data), done = 0;
  while (done < len) {
    ssize_t n = write(fd, data + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      printf("%s %s\n", path, errno_name(errno));
      return 0;
    }
    if (n == 0)
      break;
    done += (size_t) n;
  }
  printf("%s ok\n", path);
  return 0;
}

/* ---- process facts ---------------------------------------------------------- */

static int cmd_caps(void)
{
  static const char *const keys[] = {
    "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters",
  };
  _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
  _cleanup_free_ char *line = NULL;
  size_t size = 0;

  if (!f) {
    printf("caps %s\n", errno_name(errno));
    return 0;
  }
  while (getline(&line, &size, f) > 0) {
    size_t keylen = strcspn(line, ":");
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
      if (strlen(keys[i]) == keylen && !strncmp(line, keys[i], keylen))
        fputs(line, stdout);
  }
  return 0;
}

static int compare_int(const void *a, const void *b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

static int cmd_fds(void)
{
  _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
  _cleanup_free_ int *list = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;

  if (!d) {
    printf("fds %s\n", errno_name(errno));
    return 0;
  }
  int self = dirfd(d);
  while ((de = readdir(d))) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9')
      continue;
    int fd = atoi(de->d_name);
    if (fd == self)
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      int *grown = realloc(list, cap * sizeof *list);
      if (!grown) {
        printf("fds %s\n", errno_name(ENOMEM));
        return 0;
      }
      list = grown;
    }
    list[n++] = fd;
  }
  if (n)
    qsort(list, n, sizeof *list, compare_int);
  fputs("fds", stdout);
  for (size_t i = 0; i < n; i++)
    printf(" %d", list[i]);
  putchar('\n');
  return 0;
}

static int cmd_label(void)
{
  char buf[4096];
  _cleanup_close_ int fd = open("/proc/self/attr/current", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    printf("label %s\n", errno_name(errno));
    return 0;
  }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n < 0) {
    printf("label %s\n", errno_name(errno));
    return 0;
  }
  /* The kernel ends the context with "\n" (AppArmor) or "\0" (SELinux). */
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
    n--;
  buf[n] = '\0';
  printf("label %s\n", buf);
  return 0;
}

/* ---- resource limits ---------------------------------------------------------- */

static int cmd_fork_bomb(long n)
{
  _cleanup_free_ pid_t *kids = calloc((size_t) n, sizeof *kids);
  const char *result = "ok";
  pid_t parent = getpid();
  long k = 0;

  if (!kids) {
    printf("forked 0 %s\n", errno_name(ENOMEM));
    return 0;
  }
  fflush(stdout);
  for (; k < n; k++) {
    pid_t pid = fork();
    if (pid == 0) {
      /* Die with the parent even if it is killed before it reaps us. */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent)
        _exit(0);
      for (;;)
        pause();
    }
    if (pid < 0) {
      result = errno_name(errno);
      break;
    }
    kids[k] = pid;
  }
  printf("forked %ld %s\n", k, result);
  fflush(stdout);
  for (long i = 0; i < k; i++)
    kill(kids[i], SIGKILL);
  for (long i = 0; i < k; i++)
    while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
      ;
  return 0;
}

static int cmd_hog(long mb)
{
  for (long k = 1; k <= mb; k++) {
    char *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      printf("hog %ld %s\n", k - 1, errno_name(errno));
      return 1;
    }
    memset(p, 0xa5, MIB); /* touch every page: untouched memory is not charged */
    if (k % 16 == 0 || k == mb) {
      printf("hog %ld\n", k);
      fflush(stdout);
    }
  }
  return 0;
}

static long long now_ms(clockid_t clock)
{
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmd_spin(double seconds)
{
  long long wall0 = now_ms(CLOCK_MONOTONIC), cpu0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
  long long limit = (long long) (seconds * 1000);
  volatile unsigned long sink = 0;

  while (now_ms(CLOCK_MONOTONIC) - wall0 < limit)
    for (int i = 0; i < 10000; i++)
      sink = sink + (unsigned long) i;
  printf("spin cpu_ms=%lld wall_ms=%lld\n", now_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0,
         now_ms(CLOCK_MONOTONIC) - wall0);
  return 0;
}

/* ---- command line ---------------------------------------------------------- */

static bool parse_count(const char *s, long max, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < 0 || v > max)
    return false;
  *out = v;
  return true;
}

static int usage(void)
{
  fputs("usage: sbx-check syscall NAME[=ARG]... | --all-denied | --list\n"
        "       sbx-check open PATH r|w|rw | read PATH | write PATH STRING\n"
        "       sbx-check caps | fds | label\n"
        "       sbx-check fork-bomb N | hog MB | spin SECONDS\n",
        stderr);
  return 2;
}

static int cmd_syscalls(size_t n, const char *const *specs)
{
  _cleanup_free_ const struct syscall_check **checks = calloc(n, sizeof *checks);
  _cleanup_free_ const char **args = calloc(n, sizeof *args);
  int rc = 0;

  if (!checks || !args) {
    fprintf(stderr, "sbx-check: out of memory\n");
    return 1;
  }
  /* Resolve every name first: a typo runs nothing. */
  for (size_t i = 0; i < n; i++) {
    checks[i] = find_check(specs[i], &args[i]);
    if (!checks[i]) {
      fprintf(stderr, "sbx-check: unknown syscall check '%s' (see --list)\n", specs[i]);
      return 2;
    }
  }
  for (size_t i = 0; i < n; i++)
    rc |= run_syscall_check(checks[i], args[i]);
  return rc;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2)
    return usage();
  const char *cmd = argv[1];
  long n;

  if (!strcmp(cmd, "syscall") && argc > 2)
    return cmd_syscalls((size_t) argc - 2, (const char *const *) (argv + 2));
  if (!strcmp(cmd, "--all-denied") && argc == 2)
    return cmd_syscalls(ARRAY_SIZE(all_denied), all_denied);
  if (!strcmp(cmd, "--list") && argc == 2) {
    for (size_t i = 0; i < ARRAY_SIZE(syscall_checks); i++)
      puts(syscall_checks[i].name);
    return 0;
  }
  if (!strcmp(cmd, "open") && argc == 4)
    return cmd_open(argv[2], argv[3]) < 0 ? usage() : 0;
  if (!strcmp(cmd, "read") && argc == 3)
    return cmd_read(argv[2]);
  if (!strcmp(cmd, "write") && argc == 4)
    return cmd_write(argv[2], argv[3]);
  if (!strcmp(cmd, "caps") && argc == 2)
    return cmd_caps();
  if (!strcmp(cmd, "fds") && argc == 2)
    return cmd_fds();
  if (!strcmp(cmd, "label") && argc == 2)
    return cmd_label();
  if (!strcmp(cmd, "fork-bomb") && argc == 3 && parse_count(argv[2], 1 << 20, &n) && n > 0)
    return cmd_fork_bomb(n);
  if (!strcmp(cmd, "hog") && argc == 3 && parse_count(argv[2], 1 << 20, &n))
    return cmd_hog(n);
  if (!strcmp(cmd, "spin") && argc == 3) {
    char *end;
    double seconds = strtod(argv[2], &end);
    if (end != argv[2] && !*end && seconds >= 0 && seconds <= 3600)
      return cmd_spin(seconds);
  }
  return usage();
}
