/* A container's tree from outside.
 *
 * The tree is the one the container itself uses, mapped to its host id
 * range: its mount at bundles/c<id>/rootfs while that exists (running),
 * else a detached view the storage library makes the same way
 * (sbx_volume_open_view), gone with its fd.  So ids translate alike for
 * every driver: container id u is host id host_start + u in the tree, and
 * the storage keeps it as it keeps the container's own writes (btrfs: u on
 * disk, the mount maps it; overlay: host_start + u in the upper).
 *
 * The tree is the tenant's and may be hostile.  Every path is resolved from
 * an fd on its root with openat2 RESOLVE_IN_ROOT | NO_MAGICLINKS | NO_XDEV:
 * symlinks and ".." stay inside it and nothing crosses a mount.  A write
 * never opens what is there: it makes a new file beside it and renames it
 * over the name (so a link, a FIFO or a device is replaced, never written
 * through), and only a regular file or a link may be replaced.
 *
 * Creating a file on an idmapped mount needs a caller id the mount maps:
 * for a write this thread takes the new owner's host ids as its fsuid and
 * fsgid (its file capabilities raised again, which the change drops) and
 * goes back to root after.  Both are per thread. */
#include "tree.h"

#include "cleanup.h"
#include "fdutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

int hd_tree_open(sbx_pool *pool, const char *ref, int64_t host_start, int *root, sh_error *e)
{
  _cleanup_free_ char *at = NULL;
  if (sbx_volume_mounted_at(pool, ref, &at, NULL) < 0) {
    struct sbx_idmap map = { 0, (uint32_t) host_start, HD_TREE_IDS };
    return sbx_volume_open_view(pool, ref, &map, 1, &map, 1, root, e);
  }
  _cleanup_close_ int fd = open(at, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return sh_errno(e, "open the container's rootfs", at);
  /* Its root directory shows an owner in the container's range: else it
   * is mounted for another range, and ids would translate wrong. */
  if ((int64_t) st.st_uid < host_start || (int64_t) st.st_uid >= host_start + HD_TREE_IDS)
    return sh_err(e, EBUSY, "open the container's rootfs", at, "mounted for other ids than the container's");
  *root = steal_fd(fd);
  return 0;
}

int hd_tree_parent(int root, const char *path, const char **leaf, sh_error *e)
{
  const char *slash = strrchr(path, '/');
  if (path[0] != '/' || !slash[1] || strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
    return sh_err(e, EINVAL, "name", path, "name the entry itself (no trailing /, . or ..)");
  *leaf = slash + 1;
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%.*s", slash == path ? 1 : (int) (slash - path), path);
  sh_error oe = {0};
  int fd = sh_open_in_root(root, parent, O_PATH | O_DIRECTORY, 0, HD_TREE_RESOLVE, &oe);
  return fd >= 0 ? fd : sh_err(e, oe.err, "its directory", parent, NULL);
}

const char *hd_tree_type_name(mode_t m)
{
  static const struct { mode_t type; const char *name; } types[] = {
    { S_IFREG, "file" }, { S_IFDIR, "directory" }, { S_IFLNK, "symlink" }, { S_IFIFO, "fifo" },
    { S_IFSOCK, "socket" }, { S_IFCHR, "char-device" }, { S_IFBLK, "block-device" },
  };
  for (size_t i = 0; i < SH_ARRAY_SIZE(types); i++)
    if ((m & S_IFMT) == types[i].type)
      return types[i].name;
  return "unknown";
}

/* This thread's file ids become host ids uid and gid (0: back to root).
 * With a fsuid other than 0 the kernel drops the file capabilities from
 * the effective set; they are raised again from the permitted one (a fsuid
 * of 0 brings them back by itself). */
static int as_ids(int64_t uid, int64_t gid, sh_error *e)
{
  setfsgid((gid_t) gid);
  setfsuid((uid_t) uid);
  if (setfsuid((uid_t) -1) != (int) uid || setfsgid((gid_t) -1) != (int) gid)
    return sh_err(e, EPERM, "take the owner's ids", NULL, "setfsuid(%" PRId64 ") did not hold", uid);
  if (!uid)
    return 0;
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0)
    return sh_errno(e, "capget", NULL);
  d[0].effective = d[0].permitted;
  d[1].effective = d[1].permitted;
  if (syscall(SYS_capset, &h, d) < 0)
    return sh_errno(e, "capset", NULL);
  return 0;
}

static void as_root(int *unused)
{
  (void) unused;
  as_ids(0, 0, &(sh_error){0});
}

/* Owner and mode of the new entry, as asked. */
static int set_owner(int64_t host_start, const struct hd_tree_entry *p, int fd)
{
  return fchown(fd, (uid_t) (host_start + p->uid), (gid_t) (host_start + p->gid)) < 0 || fchmod(fd, (mode_t) p->mode) < 0
           ? -errno : 0;
}

/* A new file beside the name, then renamed over it; *st its stat. */
static int write_new(int64_t host_start, const struct hd_tree_entry *p, int dirfd, const char *leaf, struct stat *st)
{
  uint64_t rnd;
  char tmp[40];
  if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
    return -errno;
  snprintf(tmp, sizeof tmp, ".sandhost-put-%016" PRIx64, rnd);
  _cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return -errno;
  ssize_t n = p->len ? sh_write_all(fd, p->data, p->len) : 0;
  int r = n < 0 ? (int) n : set_owner(host_start, p, fd);
  if (r == 0 && (fsync(fd) < 0 || fstat(fd, st) < 0 || renameat(dirfd, tmp, dirfd, leaf) < 0))
    r = -errno;
  if (r < 0)
    unlinkat(dirfd, tmp, 0);
  return r;
}

/* A directory at the name (made, or the one there), given owner and mode
 * unless one there is kept as it is. */
static int make_dir(int64_t host_start, const struct hd_tree_entry *p, int dirfd, const char *leaf, bool exists, struct stat *st)
{
  if (!exists && mkdirat(dirfd, leaf, (mode_t) p->mode) < 0)
    return -errno;
  _cleanup_close_ int fd = openat(dirfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int r = exists && p->keep ? 0 : set_owner(host_start, p, fd);
  return r < 0 ? r : fstat(fd, st) < 0 ? -errno : 0;
}

int hd_tree_put(int root, int64_t host_start, const struct hd_tree_entry *p, bool *existed, struct stat *st, sh_error *e)
{
  const char *leaf;
  _cleanup_close_ int dirfd = hd_tree_parent(root, p->path, &leaf, e);
  if (dirfd < 0)
    return dirfd;
  struct stat old;
  bool exists = *existed = fstatat(dirfd, leaf, &old, AT_SYMLINK_NOFOLLOW) == 0;
  if (!exists && errno != ENOENT)
    return sh_errno(e, "look up", p->path);
  bool replaceable = !exists || (p->dir ? S_ISDIR(old.st_mode) : S_ISREG(old.st_mode) || S_ISLNK(old.st_mode));
  if (!replaceable)
    return sh_err(e, EEXIST, "replace", p->path, "a %s is there: %s", hd_tree_type_name(old.st_mode),
                  p->dir ? "only a directory is kept as one" : "only a regular file or a symlink is replaced by a file");
  _cleanup_(as_root) int scope = 0;
  int r = as_ids(host_start + p->uid, host_start + p->gid, e);
  if (r < 0)
    return r;
  r = p->dir ? make_dir(host_start, p, dirfd, leaf, exists, st) : write_new(host_start, p, dirfd, leaf, st);
  return r < 0 ? sh_err(e, -r, "write", p->path, NULL) : 0;
}
