#include "fdutil.h"
#include "cleanup.h"

#include <errno.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

ssize_t sh_write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, p + done, len - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    done += n;
  }
  return done;
}

ssize_t sh_read_all(int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t done = 0;
  while (done < len) {
    ssize_t n = read(fd, p + done, len - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (n == 0)
      break;
    done += n;
  }
  return done;
}

int sh_read_file_at(int dirfd, const char *path, char **out, size_t *len, sh_error *e)
{
  _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  _cleanup_free_ char *buf = NULL;
  size_t cap = 4096, used = 0;

  if (fd < 0)
    return sh_errno(e, "open", path);
  buf = malloc(cap);
  if (!buf)
    return sh_err(e, ENOMEM, "read", path, NULL);
  for (;;) {
    if (used + 1 >= cap) {
      char *n = realloc(buf, cap * 2);
      if (!n)
        return sh_err(e, ENOMEM, "read", path, NULL);
      buf = n;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + used, cap - used - 1);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return sh_errno(e, "read", path);
    }
    if (r == 0)
      break;
    used += r;
  }
  buf[used] = '\0';
  if (len)
    *len = used;
  *out = steal_ptr(buf);
  return 0;
}

int sh_write_file_at(int dirfd, const char *path, const char *data, sh_error *e)
{
  _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return sh_errno(e, "open", path);
  ssize_t n = sh_write_all(fd, data, strlen(data));
  if (n < 0)
    return sh_err(e, (int) -n, "write", path, "value '%.64s'", data);
  return 0;
}

int sh_write_file_atomic(const char *path, const char *data, mode_t mode, sh_error *e)
{
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp)
    return sh_err(e, ENAMETOOLONG, "write", path, NULL);
  _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return sh_errno(e, "create", tmp);
  ssize_t n = sh_write_all(fd, data, strlen(data));
  if (n < 0) {
    unlink(tmp);
    return sh_err(e, (int) -n, "write", tmp, NULL);
  }
  if (rename(tmp, path) < 0) {
    int r = sh_errno(e, "rename", path);
    unlink(tmp);
    return r;
  }
  return 0;
}

int sh_open_in_root(int rootfd, const char *path, int flags, mode_t mode,
                    enum sh_resolve how, sh_error *e)
{
  struct open_how oh = {
    .flags = (unsigned) flags | O_CLOEXEC,
    .mode = (flags & O_CREAT) ? mode : 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  if (how & SH_RESOLVE_NO_SYMLINKS)
    oh.resolve |= RESOLVE_NO_SYMLINKS;
  if (how & SH_RESOLVE_NO_XDEV)
    oh.resolve |= RESOLVE_NO_XDEV;
  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  for (;;) {
    int fd = (int) syscall(SYS_openat2, rootfd, path, &oh, sizeof oh);
    if (fd >= 0)
      return fd;
    if (errno == EAGAIN || errno == EINTR)
      continue; /* a rename raced us; the kernel asks to retry */
    if (errno == ELOOP && (how & SH_RESOLVE_NO_SYMLINKS))
      return sh_err(e, ELOOP, "resolve", path, "a symlink is not allowed here");
    return sh_errno(e, "open", path);
  }
}

int sh_mkpath_in_root(int rootfd, const char *path, int dir, enum sh_resolve how,
                      sh_error *e)
{
  char buf[PATH_MAX];
  const char *rel = path;
  while (*rel == '/')
    rel++;
  if (strlen(rel) >= sizeof buf)
    return sh_err(e, ENAMETOOLONG, "resolve", path, NULL);
  if (*rel == '\0')
    return sh_open_in_root(rootfd, ".", O_PATH | O_DIRECTORY, 0, how, e);

  /* Fast path: it exists already. */
  int fd = sh_open_in_root(rootfd, rel, O_PATH, 0, how, NULL);
  if (fd >= 0)
    return fd;

  strcpy(buf, rel);
  _cleanup_close_ int cur = sh_open_in_root(rootfd, ".", O_PATH | O_DIRECTORY, 0, how, e);
  if (cur < 0)
    return cur;
  char *save = NULL;
  char *comp = strtok_r(buf, "/", &save);
  size_t prefix_len = 0;
  while (comp) {
    char *next = strtok_r(NULL, "/", &save);
    int last = next == NULL;
    if (strcmp(comp, "..") == 0)
      return sh_err(e, EINVAL, "resolve", path, "'..' is not allowed in a mount destination");
    prefix_len += strlen(comp) + 1;
    /* Re-resolve the prefix from the root so symlinks stay inside it. */
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof prefix, "%.*s", (int) (prefix_len - 1), rel);
    int nfd = sh_open_in_root(rootfd, prefix, O_PATH | (last && !dir ? 0 : O_DIRECTORY), 0, how, NULL);
    if (nfd < 0 && errno == ENOENT) {
      if (last && !dir) {
        int f = openat(cur, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0 && errno != EEXIST)
          return sh_errno(e, "create file", path);
        if (f >= 0)
          close(f);
      } else if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
        return sh_errno(e, "mkdir", path);
      }
      nfd = sh_open_in_root(rootfd, prefix, O_PATH | (last && !dir ? 0 : O_DIRECTORY), 0, how, NULL);
    }
    if (nfd < 0) {
      if (errno == ELOOP)
        return sh_err(e, ELOOP, "resolve", path, "a symlink is not allowed here");
      return sh_errno(e, "resolve", path);
    }
    close(cur);
    cur = nfd;
    comp = next;
  }
  return steal_fd(cur);
}

int sh_mkdir_p(const char *path, mode_t mode)
{
  /* Usually only the last component is missing: try it first. */
  if (mkdir(path, mode) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return -errno;
  char buf[PATH_MAX];
  if (strlen(path) >= sizeof buf)
    return -ENAMETOOLONG;
  strcpy(buf, path);
  char *slash = strrchr(buf, '/');
  if (!slash || slash == buf)
    return -ENOENT;
  *slash = '\0';
  int r = sh_mkdir_p(buf, mode);
  if (r < 0)
    return r;
  if (mkdir(path, mode) < 0 && errno != EEXIST)
    return -errno;
  return 0;
}

const char *sh_fd_path(int fd, char buf[SH_FD_PATH_MAX])
{
  snprintf(buf, SH_FD_PATH_MAX, "/proc/self/fd/%d", fd);
  return buf;
}

int sh_send_fd(int sock, int fd, const void *data, size_t len, const char *what, sh_error *e)
{
  struct iovec iov = { (void *) data, len };
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (fd >= 0) {
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  }
  if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
    return sh_err(e, errno, "send", what, NULL);
  return 0;
}

int sh_recv_fd(int sock, int *fd, void *data, size_t len, int need_fd, const char *what, sh_error *e)
{
  struct iovec iov = { data, len };
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf };
  ssize_t n;
  *fd = -1;
  do
    n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return sh_err(e, errno, "receive", what, NULL);
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  if (cm && cm->cmsg_type == SCM_RIGHTS)
    memcpy(fd, CMSG_DATA(cm), sizeof(int));
  else if (need_fd)
    return sh_err(e, EPROTO, "receive", what, "no descriptor in message");
  return (int) n;
}
