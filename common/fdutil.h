/* fd helpers and symlink-safe, fd-relative path work inside a root. */
#pragma once

#include <stddef.h>
#include <sys/types.h>
#include "error.h"

ssize_t sh_write_all(int fd, const void *buf, size_t len);
ssize_t sh_read_all(int fd, void *buf, size_t len);

/* Read a whole file (at dirfd, may be AT_FDCWD) into a NUL-terminated buffer. */
int sh_read_file_at(int dirfd, const char *path, char **out, size_t *len, sh_error *e);
/* Write a string to an existing file; no O_CREAT. */
int sh_write_file_at(int dirfd, const char *path, const char *data, sh_error *e);
/* Write atomically: temp file in the same dir, fsync-free rename. */
int sh_write_file_atomic(const char *path, const char *data, mode_t mode, sh_error *e);

/* Resolution flags for paths inside a container rootfs (or'ed). */
enum sh_resolve {
  SH_RESOLVE_IN_ROOT = 0,     /* symlinks followed, but never above the root */
  SH_RESOLVE_NO_SYMLINKS = 1, /* any symlink on the way is an error (ELOOP) */
  SH_RESOLVE_NO_XDEV = 2,     /* never cross into another mount (EXDEV) */
};

/* openat2() relative to rootfd with the given policy. */
int sh_open_in_root(int rootfd, const char *path, int flags, mode_t mode,
                    enum sh_resolve how, sh_error *e);

/* Make sure path exists inside rootfd (directories made as needed; the last
 * component is a directory when dir, else an empty file) and return an
 * O_PATH fd to it.  Never follows a symlink out of rootfd. */
int sh_mkpath_in_root(int rootfd, const char *path, int dir, enum sh_resolve how,
                      sh_error *e);

/* mkdir -p on the host (for state and cgroup dirs).  Returns 0 or -errno. */
int sh_mkdir_p(const char *path, mode_t mode);

/* "/proc/self/fd/N" for APIs that only take paths. */
#define SH_FD_PATH_MAX 32
const char *sh_fd_path(int fd, char buf[SH_FD_PATH_MAX]);

/* Send len bytes of data and, unless fd is -1, fd (SCM_RIGHTS) over a unix
 * socket; what names the fd in errors. */
int sh_send_fd(int sock, int fd, const void *data, size_t len, const char *what, sh_error *e);
/* Receive up to len bytes into data and the fd if one came (else *fd = -1,
 * or EPROTO when need_fd).  Returns the bytes received. */
int sh_recv_fd(int sock, int *fd, void *data, size_t len, int need_fd, const char *what, sh_error *e);
