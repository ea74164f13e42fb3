/* The last steps of a container process: identity, limits, capabilities,
 * no_new_privs, the start barrier, seccomp, execve. */
#include "internal.h"
#include "cleanup.h"
#include "fdutil.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static bool is_exe(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int sbx_find_exe(const char *argv0, char **env, char **out, sh_error *e)
{
  if (strchr(argv0, '/')) {
    if (!is_exe(argv0))
      return sh_err(e, errno ? errno : EACCES, "exec", argv0, "not an executable file in the container");
    *out = strdup(argv0);
    return *out ? 0 : sh_err(e, ENOMEM, "exec", argv0, NULL);
  }
  const char *path = DEFAULT_PATH;
  for (char **v = env; v && *v; v++)
    if (strncmp(*v, "PATH=", 5) == 0)
      path = *v + 5;
  _cleanup_free_ char *dup = strdup(path);
  if (!dup)
    return sh_err(e, ENOMEM, "exec", argv0, NULL);
  char *save = NULL;
  for (char *dir = strtok_r(dup, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", *dir ? dir : ".", argv0);
    if (is_exe(full)) {
      *out = strdup(full);
      return *out ? 0 : sh_err(e, ENOMEM, "exec", argv0, NULL);
    }
  }
  return sh_err(e, ENOENT, "exec", argv0, "not found in the container's PATH (%s)", path);
}

static int set_identity(const struct sbx_process *p, sh_error *e)
{
  if (setgroups(p->user.n_groups, p->user.groups) < 0)
    return sh_errno(e, "setgroups", "process.user.additionalGids");
  if (setresgid(p->user.gid, p->user.gid, p->user.gid) < 0)
    return sh_err(e, errno, "setgid", "process.user.gid", "gid %u (is it mapped?)", p->user.gid);
  /* Keep permitted capabilities across the uid change; capset trims them next. */
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return sh_errno(e, "keep capabilities", NULL);
  if (setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
    return sh_err(e, errno, "setuid", "process.user.uid", "uid %u (is it mapped?)", p->user.uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return sh_errno(e, "reset keepcaps", NULL);
  return 0;
}

static int wait_start(int fifo_fd, sh_error *e)
{
  char path[SH_FD_PATH_MAX];
  /* Blocks until `start` opens the read end. */
  _cleanup_close_ int w = open(sh_fd_path(fifo_fd, path), O_WRONLY | O_CLOEXEC);
  if (w < 0)
    return sh_errno(e, "open exec fifo", "exec.fifo");
  if (write(w, "0", 1) != 1)
    return sh_errno(e, "write exec fifo", "exec.fifo");
  return 0;
}

/* The working directory is resolved inside the root without magic links:
 * a "/proc/self/fd/N" naming a directory fd still open in this process
 * (the runtime's, or a caller's stdin) would otherwise leave it in a host
 * directory (CVE-2024-21626). */
static int enter_cwd(const char *cwd, sh_error *e)
{
  _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return sh_errno(e, "open", "/");
  _cleanup_close_ int fd = sh_open_in_root(root, cwd, O_PATH | O_DIRECTORY, 0, SH_RESOLVE_IN_ROOT, NULL);
  if (fd < 0)
    return sh_err(e, errno, "chdir", cwd, "not a directory inside the container (magic links are not followed)");
  if (fchdir(fd) < 0)
    return sh_errno(e, "chdir", cwd);
  return 0;
}

int sbx_process_exec(const struct sbx_exec_ctx *x, sh_error *e)
{
  const struct sbx_process *p = x->p;
  int r;

  for (size_t i = 0; i < p->n_rlimits; i++) {
    struct rlimit rl = { p->rlimits[i].soft, p->rlimits[i].hard };
    if (setrlimit(p->rlimits[i].resource, &rl) < 0)
      return sh_err(e, errno, "setrlimit", "process.rlimits",
                    "resource %d (raising a hard limit needs host privileges)", p->rlimits[i].resource);
  }
  if ((r = sbx_caps_drop_bounding(p->caps.bounding, e)) < 0)
    return r;
  /* Without no_new_privs the filter must go in while we still hold CAP_SYS_ADMIN. */
  if (x->seccomp && !p->no_new_privs && (r = sbx_seccomp_load(x->seccomp, e)) < 0)
    return r;
  if ((r = set_identity(p, e)) < 0)
    return r;
  if ((r = sbx_caps_apply(&p->caps, e)) < 0)
    return r;
  umask(p->user.umask_set ? p->user.umask : 022);
  if ((r = enter_cwd(p->cwd, e)) < 0)
    return r;
  _cleanup_free_ char *exe = NULL;
  if ((r = sbx_find_exe(p->args[0], p->env, &exe, e)) < 0)
    return r;
  if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return sh_errno(e, "set no_new_privs", NULL);
  if (x->selinux_label && (r = sbx_selinux_set_exec_label(x->selinux_label, e)) < 0)
    return r;
  /* Everything but stdio and the preserved fds closes at execve. */
  if (syscall(SYS_close_range, 3 + x->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return sh_errno(e, "close_range", NULL);

  if (x->sync_fd >= 0 && (r = sbx_sync_send(x->sync_fd, SBX_SYNC_READY, 0, NULL)) < 0)
    return sh_err(e, -r, "report ready", NULL, NULL);
  if (x->fifo_fd >= 0 && (r = wait_start(x->fifo_fd, e)) < 0)
    return r;
  if (x->seccomp && p->no_new_privs && (r = sbx_seccomp_load(x->seccomp, e)) < 0)
    return r;
  /* The process starts with no signal blocked, whatever its runtime's
   * caller had blocked (a daemon taking SIGTERM through a signalfd, say):
   * an init that cannot receive SIGTERM cannot be stopped cleanly.
   * Handlers do not survive execve; ignored signals are the image's own
   * business and stay as runc leaves them. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execve(exe, p->args, p->env);
  return sh_errno(e, "execve", exe);
}
