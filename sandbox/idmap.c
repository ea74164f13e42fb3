/* User-namespace id maps: validation and writing. */
#include "config.h"
#include "cleanup.h"
#include "fdutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int sbx_idmap_validate(const struct sbx_idmap *m, size_t n, const char *what, sh_error *e)
{
  if (n > 340)
    return sh_err(e, EINVAL, "config", what, "the kernel allows at most 340 ranges");
  for (size_t i = 0; i < n; i++) {
    char ctx[128];
    snprintf(ctx, sizeof ctx, "%s[%zu]", what, i);
    if (m[i].size == 0)
      return sh_err(e, EINVAL, "config", ctx, "size must be positive");
    if ((uint64_t) m[i].container_id + m[i].size > (uint64_t) UINT32_MAX + 1 ||
        (uint64_t) m[i].host_id + m[i].size > (uint64_t) UINT32_MAX + 1)
      return sh_err(e, EINVAL, "config", ctx, "range wraps past 2^32");
    /* Host id 0 anywhere in the range would give the container host root. */
    if (m[i].host_id == 0)
      return sh_err(e, EPERM, "config", ctx,
                    "maps container id %u to host root; sbx never runs privileged containers",
                    m[i].container_id);
    for (size_t j = 0; j < i; j++) {
      bool c_overlap = m[i].container_id < (uint64_t) m[j].container_id + m[j].size &&
                       m[j].container_id < (uint64_t) m[i].container_id + m[i].size;
      bool h_overlap = m[i].host_id < (uint64_t) m[j].host_id + m[j].size &&
                       m[j].host_id < (uint64_t) m[i].host_id + m[i].size;
      if (c_overlap)
        return sh_err(e, EINVAL, "config", ctx, "container range overlaps %s[%zu]", what, j);
      if (h_overlap)
        return sh_err(e, EINVAL, "config", ctx, "host range overlaps %s[%zu]", what, j);
    }
  }
  return 0;
}

uint32_t sbx_idmap_to_host(const struct sbx_idmap *m, size_t n, uint32_t id)
{
  for (size_t i = 0; i < n; i++)
    if (id >= m[i].container_id && id - m[i].container_id < m[i].size)
      return m[i].host_id + (id - m[i].container_id);
  return (uint32_t) -1;
}

static int write_map(int procfd, const char *file, const struct sbx_idmap *m, size_t n, sh_error *e)
{
  char buf[340 * 36];
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += (size_t) snprintf(buf + len, sizeof buf - len, "%u %u %u\n",
                             m[i].container_id, m[i].host_id, m[i].size);
  _cleanup_close_ int fd = openat(procfd, file, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return sh_errno(e, "open id map", file);
  /* The kernel wants the whole map in one write. */
  if (write(fd, buf, len) != (ssize_t) len)
    return sh_errno(e, "write id map", file);
  return 0;
}

int sbx_idmap_write_maps(pid_t pid, const struct sbx_idmap *uid, size_t n_uid,
                        const struct sbx_idmap *gid, size_t n_gid, sh_error *e)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d", pid);
  _cleanup_close_ int procfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0)
    return sh_errno(e, "open", path);
  int r = write_map(procfd, "uid_map", uid, n_uid, e);
  if (r < 0)
    return r;
  return write_map(procfd, "gid_map", gid, n_gid, e);
}

int sbx_idmap_write(pid_t pid, const struct sbx_config *c, sh_error *e)
{
  return sbx_idmap_write_maps(pid, c->uid_map, c->n_uid_map, c->gid_map, c->n_gid_map, e);
}

int sbx_userns_fd(const struct sbx_idmap *uid, size_t n_uid, const struct sbx_idmap *gid,
                  size_t n_gid, sh_error *e)
{
  int r;
  if ((r = sbx_idmap_validate(uid, n_uid, "uidMappings", e)) < 0 ||
      (r = sbx_idmap_validate(gid, n_gid, "gidMappings", e)) < 0)
    return r;
  /* A child makes the namespace and waits; its maps are written from here,
   * the namespace is kept through its fd, and the child goes. */
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return sh_errno(e, "pipe", NULL);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return sh_errno(e, "fork", "user namespace holder");
  }
  if (pid == 0) {
    /* It never execs, so it would hold a copy of every fd of ours (a
     * daemon's listening sockets, its clients, its database) for as long
     * as it waits: it keeps only its pipe, and it dies with us.  Without
     * that, a caller killed between fork and kill left it paused for ever,
     * and the caller's sockets open with it. */
    if (dup2(p[1], 3) < 0 || syscall(SYS_close_range, 4U, ~0U, 0U) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
        getppid() != parent)
      _exit(1);
    p[1] = 3;
    char ok = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
    if (write(p[1], &ok, 1) != 1)
      _exit(1);
    pause();
    _exit(0);
  }
  close(p[1]);
  char ok = 0;
  ssize_t n = read(p[0], &ok, 1);
  close(p[0]);
  int fd = -1;
  if (n != 1 || ok != 'y')
    r = sh_err(e, EPERM, "create user namespace", NULL, "unshare(CLONE_NEWUSER) failed");
  else if ((r = sbx_idmap_write_maps(pid, uid, n_uid, gid, n_gid, e)) == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
      r = sh_errno(e, "open", path);
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return r < 0 ? r : fd;
}
