/* Tree copies for the overlay driver: clones, snapshots and restores of an
 * upper dir, and the shifted copy that moves an upper from one id range to
 * another.  Everything is fd-relative and never follows a symlink; data is
 * reflinked where the filesystem can (FICLONE), else copied in the kernel
 * (copy_file_range).  Owners, modes (setuid included), times, xattrs (the
 * overlay's trusted.* markers too), whiteouts and hard links are kept. */
#include "storage-internal.h"
#include "cleanup.h"
#include "fdutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_DEPTH 512

struct link_seen {
  dev_t dev;
  ino_t ino;
  char *path;  /* where the first copy went, below the destination root */
};

struct copy_ctx {
  const struct id_shift *shift;
  struct copy_stats *st;
  struct link_seen *links;
  size_t n_links, cap_links;
  const char *where;  /* the name being copied, for errors */
  int droot;          /* the destination root */
  char path[PATH_MAX];/* the directory being copied, relative to both roots ("" at the top) */
  sh_error *e;
};

/* Host id x of a tree stored under from[] (none: stored as container ids)
 * as the host id of the same container id under to[] (none: container ids).
 * Ids outside from[] (the overlay's own whiteouts, owned by the mounter)
 * stay as they are. */
static int shift_one(const struct sbx_idmap *from, size_t nf, const struct sbx_idmap *to, size_t nt,
                     uint32_t x, uint32_t *out)
{
  uint32_t c = x;
  if (nf) {
    size_t i = 0;
    while (i < nf && !(x >= from[i].host_id && x - from[i].host_id < from[i].size))
      i++;
    if (i == nf) {
      *out = x;
      return 0;
    }
    c = x - from[i].host_id + from[i].container_id;
  }
  if (!nt) {
    *out = c;
    return 0;
  }
  for (size_t i = 0; i < nt; i++)
    if (c >= to[i].container_id && c - to[i].container_id < to[i].size) {
      *out = c - to[i].container_id + to[i].host_id;
      return 0;
    }
  return -EOVERFLOW;
}

static int shift_ids(struct copy_ctx *c, const struct stat *s, uid_t *uid, gid_t *gid)
{
  const struct id_shift *h = c->shift;
  *uid = s->st_uid;
  *gid = s->st_gid;
  if (!h)
    return 0;
  uint32_t u, g;
  if (shift_one(h->from_uid, h->n_from_uid, h->to_uid, h->n_to_uid, s->st_uid, &u) < 0)
    return sh_err(c->e, EOVERFLOW, "shift owner", c->where, "uid %u has no id in the new range", s->st_uid);
  if (shift_one(h->from_gid, h->n_from_gid, h->to_gid, h->n_to_gid, s->st_gid, &g) < 0)
    return sh_err(c->e, EOVERFLOW, "shift owner", c->where, "gid %u has no id in the new range", s->st_gid);
  *uid = u;
  *gid = g;
  return 0;
}

/* security.capability v3 names the root id it is valid for: shift it too. */
static void shift_caps(struct copy_ctx *c, void *val, ssize_t len)
{
  struct vfs_ns_cap_data *d = val;
  if (!c->shift || len != (ssize_t) sizeof *d ||
      (d->magic_etc & VFS_CAP_REVISION_MASK) != VFS_CAP_REVISION_3)
    return;
  uint32_t out;
  const struct id_shift *h = c->shift;
  if (shift_one(h->from_uid, h->n_from_uid, h->to_uid, h->n_to_uid, d->rootid, &out) == 0)
    d->rootid = out;
}

/* All xattrs of sdir/name onto ddir/name (l*xattr through /proc/self/fd, so
 * symlinks are read, never followed). */
static int copy_xattrs(struct copy_ctx *c, int sdir, const char *sname, int ddir, const char *dname)
{
  char sp[SH_FD_PATH_MAX + 256], dp[SH_FD_PATH_MAX + 256], fb[SH_FD_PATH_MAX];
  snprintf(sp, sizeof sp, "%s/%s", sh_fd_path(sdir, fb), sname);
  snprintf(dp, sizeof dp, "%s/%s", sh_fd_path(ddir, fb), dname);
  ssize_t n = llistxattr(sp, NULL, 0);
  if (n <= 0)
    return n < 0 && errno != ENOTSUP ? sh_errno(c->e, "list xattrs", c->where) : 0;
  _cleanup_free_ char *list = malloc((size_t) n);
  if (!list || (n = llistxattr(sp, list, (size_t) n)) < 0)
    return list ? sh_errno(c->e, "list xattrs", c->where) : sh_err(c->e, ENOMEM, "copy", c->where, NULL);
  for (char *k = list; k < list + n; k += strlen(k) + 1) {
    char val[65536];
    ssize_t vl = lgetxattr(sp, k, val, sizeof val);
    if (vl < 0)
      return sh_errno(c->e, "read xattr", c->where);
    if (strcmp(k, "security.capability") == 0)
      shift_caps(c, val, vl);
    if (lsetxattr(dp, k, val, (size_t) vl, 0) < 0)
      return sh_err(c->e, errno, "write xattr", c->where, "%s", k);
  }
  return 0;
}

/* Owner, then mode (chown clears setuid), xattrs (chown drops file caps),
 * then times. */
static int copy_attrs(struct copy_ctx *c, int sdir, int ddir, const char *name, const struct stat *s)
{
  uid_t uid;
  gid_t gid;
  int r = shift_ids(c, s, &uid, &gid);
  if (r < 0)
    return r;
  if (fchownat(ddir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return sh_errno(c->e, "chown", c->where);
  if (!S_ISLNK(s->st_mode) && fchmodat(ddir, name, s->st_mode & 07777, 0) < 0)
    return sh_errno(c->e, "chmod", c->where);
  if ((r = copy_xattrs(c, sdir, name, ddir, name)) < 0)
    return r;
  struct timespec ts[2] = { s->st_atim, s->st_mtim };
  if (utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return sh_errno(c->e, "set times", c->where);
  return 0;
}

static int copy_data(struct copy_ctx *c, int sdir, int ddir, const char *name, const struct stat *s)
{
  _cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (in < 0)
    return sh_errno(c->e, "open", c->where);
  _cleanup_close_ int out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return sh_errno(c->e, "create", c->where);
  if (s->st_size == 0)
    return 0;
  if (ioctl(out, FICLONE, in) == 0) {
    c->st->reflinked += (uint64_t) s->st_size;
    return 0;
  }
  off_t left = s->st_size;
  while (left > 0) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t) left, 0);
    if (n < 0)
      return sh_errno(c->e, "copy data", c->where);
    if (n == 0)
      break; /* the file shrank under us */
    left -= n;
  }
  c->st->copied += (uint64_t) (s->st_size - left);
  return 0;
}

/* A second name of an inode already copied becomes a hard link again. */
static int link_again(struct copy_ctx *c, int ddir, const char *name, const struct stat *s, bool *done)
{
  *done = false;
  if (S_ISDIR(s->st_mode) || s->st_nlink < 2)
    return 0;
  for (size_t i = 0; i < c->n_links; i++) {
    struct link_seen *l = &c->links[i];
    if (l->dev == s->st_dev && l->ino == s->st_ino) {
      if (linkat(c->droot, l->path, ddir, name, 0) < 0)
        return sh_errno(c->e, "link", c->where);
      *done = true;
      return 0;
    }
  }
  return 1;
}

static int remember_link(struct copy_ctx *c, const char *name, const struct stat *s)
{
  if (c->n_links == c->cap_links) {
    size_t cap = c->cap_links ? c->cap_links * 2 : 16;
    struct link_seen *n = realloc(c->links, cap * sizeof *n);
    if (!n)
      return sh_err(c->e, ENOMEM, "copy", c->where, NULL);
    c->links = n;
    c->cap_links = cap;
  }
  char *path = NULL;
  if (asprintf(&path, "%s%s", c->path, name) < 0)
    return sh_err(c->e, ENOMEM, "copy", c->where, NULL);
  c->links[c->n_links++] = (struct link_seen){ s->st_dev, s->st_ino, path };
  return 0;
}

static int copy_dir(struct copy_ctx *c, int sfd, int dfd, int depth);

static int copy_entry(struct copy_ctx *c, int sdir, int ddir, const char *name, int depth)
{
  struct stat s;
  c->where = name;
  if (fstatat(sdir, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : sh_errno(c->e, "stat", name);
  bool done;
  int r = link_again(c, ddir, name, &s, &done);
  if (r < 0 || done)
    return r < 0 ? r : 0;
  bool track = r == 1;
  c->st->entries++;
  switch (s.st_mode & S_IFMT) {
  case S_IFDIR: {
    if (depth >= MAX_DEPTH)
      return sh_err(c->e, ELOOP, "copy", name, "more than %d levels deep", MAX_DEPTH);
    if (mkdirat(ddir, name, 0700) < 0)
      return sh_errno(c->e, "mkdir", name);
    _cleanup_close_ int sfd = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_close_ int dfd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0 || dfd < 0)
      return sh_errno(c->e, "open directory", name);
    size_t len = strlen(c->path);
    if (len + strlen(name) + 2 > sizeof c->path)
      return sh_err(c->e, ENAMETOOLONG, "copy", name, NULL);
    sprintf(c->path + len, "%s/", name);
    r = copy_dir(c, sfd, dfd, depth + 1);
    c->path[len] = 0;
    if (r < 0)
      return r;
    c->where = name;
    break;
  }
  case S_IFREG:
    if ((r = copy_data(c, sdir, ddir, name, &s)) < 0)
      return r;
    break;
  case S_IFLNK: {
    char target[PATH_MAX];
    ssize_t n = readlinkat(sdir, name, target, sizeof target - 1);
    if (n < 0)
      return sh_errno(c->e, "readlink", name);
    target[n] = 0;
    if (symlinkat(target, ddir, name) < 0)
      return sh_errno(c->e, "symlink", name);
    break;
  }
  default: /* devices (overlay whiteouts are 0:0 char devices), fifos, sockets */
    if (mknodat(ddir, name, s.st_mode & S_IFMT, s.st_rdev) < 0)
      return sh_errno(c->e, "mknod", name);
    break;
  }
  if ((r = copy_attrs(c, sdir, ddir, name, &s)) < 0)
    return r;
  return track ? remember_link(c, name, &s) : 0;
}

static int copy_dir(struct copy_ctx *c, int sfd, int dfd, int depth)
{
  int dup_fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
  _cleanup_closedir_ DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (!d) {
    if (dup_fd >= 0)
      close(dup_fd);
    return sh_errno(c->e, "read directory", c->where);
  }
  struct dirent *de;
  while ((errno = 0, de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    int r = copy_entry(c, sfd, dfd, de->d_name, depth);
    if (r < 0)
      return r;
  }
  return errno ? sh_errno(c->e, "read directory", c->where) : 0;
}

int pool_copy_tree(int sdir, const char *sname, int ddir, const char *dname,
                   const struct id_shift *shift, struct copy_stats *st, sh_error *e)
{
  struct copy_stats ignored = {0};
  struct copy_ctx c = { .shift = shift, .st = st ? st : &ignored, .droot = -1, .e = e };
  struct stat s;
  int r;
  if (fstatat(sdir, sname, &s, AT_SYMLINK_NOFOLLOW) < 0)
    return sh_errno(e, "stat", sname);
  if (!S_ISDIR(s.st_mode))
    return sh_err(e, ENOTDIR, "copy tree", sname, NULL);
  if (mkdirat(ddir, dname, 0700) < 0)
    return sh_errno(e, "mkdir", dname);
  _cleanup_close_ int sfd = openat(sdir, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  _cleanup_close_ int dfd = openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sfd < 0 || dfd < 0)
    r = sh_errno(e, "open directory", sfd < 0 ? sname : dname);
  else if ((c.droot = dfd, r = copy_dir(&c, sfd, dfd, 0)) == 0) {
    c.where = dname;
    c.st->entries++;
    /* The root's attributes: copy_attrs wants a name, so go through the parent. */
    uid_t uid;
    gid_t gid;
    if ((r = shift_ids(&c, &s, &uid, &gid)) == 0 && fchown(dfd, uid, gid) < 0)
      r = sh_errno(e, "chown", dname);
    if (r == 0 && fchmod(dfd, s.st_mode & 07777) < 0)
      r = sh_errno(e, "chmod", dname);
    if (r == 0)
      r = copy_xattrs(&c, sdir, sname, ddir, dname);
  }
  for (size_t i = 0; i < c.n_links; i++)
    free(c.links[i].path);
  free(c.links);
  return r;
}
