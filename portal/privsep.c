/* Dropping to the portal's user, its capabilities, and the seccomp filter. */
#include "privsep.h"

#include "cleanup.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int pt_privsep_lookup(const char *user, uid_t *uid, gid_t *gid, sh_error *e)
{
  errno = 0;
  struct passwd *pw = getpwnam(user);
  if (!pw)
    return sh_err(e, errno ? errno : ENOENT, "look up the portal's user", user,
                  "no such user (create it: useradd --system --no-create-home --shell /usr/sbin/nologin %s)", user);
  if (pw->pw_uid == 0)
    return sh_err(e, EINVAL, "look up the portal's user", user, "uid 0: the portal must not run as root");
  *uid = pw->pw_uid;
  *gid = pw->pw_gid;
  return 0;
}

int pt_privsep_drop(uid_t uid, gid_t gid, sh_error *e)
{
  /* The bounding set can only shrink while we still hold CAP_SETPCAP. */
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
      return sh_errno(e, "drop the capability bounding set", NULL);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return sh_errno(e, "clear the ambient capabilities", NULL);
  if (setgroups(0, NULL) < 0)
    return sh_errno(e, "setgroups", NULL);
  if (setresgid(gid, gid, gid) < 0)
    return sh_errno(e, "setresgid", NULL);
  if (setresuid(uid, uid, uid) < 0)
    return sh_errno(e, "setresuid", NULL);
  /* A uid change from 0 empties the permitted and effective sets; the
   * inheritable one is emptied here. */
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[2] = { { 0 } };
  if (syscall(SYS_capset, &hdr, data) < 0)
    return sh_errno(e, "capset", NULL);
  if (setuid(0) == 0)
    return sh_err(e, EPERM, "drop privileges", NULL, "root could be regained");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return sh_errno(e, "set no_new_privs", NULL);
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return sh_errno(e, "set not dumpable", NULL);
  return 0;
}

/* What h2o's event loop, OpenSSL, glibc's allocator and the static file
 * handler call while serving: the integration test, the e2e suite and the
 * benchmark run the portal under this filter, whose default kills it. */
static const char *const allowed[] = {
  /* sockets: clients and the upstream unix socket */
  "accept4", "accept", "connect", "getsockopt", "setsockopt", "getsockname", "getpeername", "shutdown",
  "read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg",
  /* the event loop and signals (a signalfd) */
  "epoll_wait", "epoll_pwait", "epoll_ctl", "poll", "ppoll", "rt_sigreturn", "rt_sigprocmask", "rt_sigaction",
  /* files: assets, certificate reloads */
  "openat", "open", "close", "fstat", "newfstatat", "stat", "lstat", "statx", "lseek", "pread64", "fcntl",
  "getdents64", "readlink",
  /* memory, time, randomness, exit */
  "brk", "mmap", "munmap", "mremap", "madvise", "mprotect", "futex", "clock_gettime", "gettimeofday", "time",
  "getrandom", "getpid", "gettid", "exit", "exit_group", "restart_syscall", "clock_nanosleep", "nanosleep",
  "sched_yield", "getuid", "geteuid", "getgid", "getegid", "uname", "sysinfo",
};

int pt_privsep_seccomp(sh_error *e)
{
  scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (!f)
    return sh_err(e, ENOMEM, "make the seccomp filter", NULL, NULL);
  int r = 0;
  for (size_t i = 0; i < SH_ARRAY_SIZE(allowed) && r == 0; i++) {
    int nr = seccomp_syscall_resolve_name(allowed[i]);
    if (nr == __NR_SCMP_ERROR)
      continue;   /* not on this architecture (open, stat on arm64) */
    r = seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0);
    if (r < 0)
      sh_err(e, -r, "allow a system call", allowed[i], NULL);
  }
  /* ioctl only asks (stdio's isatty, bytes waiting): never TIOCSTI into the
   * terminal a foreground portal was started from. */
  static const unsigned long ioctls[] = { TCGETS, FIONREAD, FIONBIO, FIOCLEX };
  for (size_t i = 0; i < SH_ARRAY_SIZE(ioctls) && r == 0; i++)
    if ((r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, ioctls[i]))) < 0)
      sh_err(e, -r, "allow a system call", "ioctl", NULL);
  /* New sockets are the upstream's only: unix ones. */
  if (r == 0 && (r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX))) < 0)
    sh_err(e, -r, "allow a system call", "socket", NULL);
  if (r == 0 && (r = seccomp_load(f)) < 0)
    sh_err(e, -r, "load the seccomp filter", NULL, NULL);
  seccomp_release(f);
  return r;
}
