/* fd-relative tree removal: never follows a symlink, never leaves the mount
 * it started on, and handles btrfs subvolumes met on the way. */
#include "rmtree.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIRFLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static int mnt_id(int dirfd, const char *name, uint64_t *id)
{
  struct statx sx;
  if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH), STATX_MNT_ID, &sx) < 0)
    return -errno;
  *id = sx.stx_mnt_id;
  return 0;
}

/* A directory that rmdir refuses may be a btrfs subvolume: delete it as one. */
static int remove_dir(int dirfd, const char *name, sh_error *e)
{
  if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
    return 0;
  int err = errno;
  if (err == EPERM || err == ENOTEMPTY || err == EBUSY) {
    /* Without linking libbtrfsutil: the ioctl takes the name in its parent
     * (which must be opened for reading, not O_PATH). */
    struct btrfs_ioctl_vol_args va = {0};
    snprintf(va.name, sizeof va.name, "%s", name);
    if (ioctl(dirfd, BTRFS_IOC_SNAP_DESTROY, &va) == 0)
      return 0;
  }
  return sh_err(e, err, "remove directory", name, NULL);
}

/* Depth-first with an explicit stack of open directories, so depth costs
 * heap, not C stack. */
struct frame {
  int fd;
  DIR *d;
  char *name; /* this directory's name in its parent */
};

static int rm_children(int topfd, uint64_t mnt, sh_error *e)
{
  size_t cap = 16, n = 0;
  struct frame *st = calloc(cap, sizeof *st);
  if (!st)
    return sh_err(e, ENOMEM, "remove tree", NULL, NULL);
  int r = 0;
  int fd0 = dup(topfd);
  DIR *d0 = fd0 >= 0 ? fdopendir(fd0) : NULL;
  if (!d0) {
    if (fd0 >= 0)
      close(fd0);
    free(st);
    return sh_errno(e, "open directory", NULL);
  }
  st[n++] = (struct frame){ .fd = dirfd(d0), .d = d0, .name = NULL };
  while (n > 0 && r == 0) {
    struct frame *f = &st[n - 1];
    errno = 0;
    struct dirent *de = readdir(f->d);
    if (!de) {
      if (errno) {
        r = sh_errno(e, "read directory", f->name);
        break;
      }
      /* Done with this level: remove it from its parent. */
      char *name = f->name;
      closedir(f->d);
      n--;
      if (name) {
        r = remove_dir(st[n - 1].fd, name, e);
        free(name);
      }
      continue;
    }
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    unsigned char type = de->d_type;
    if (type == DT_UNKNOWN) {
      struct stat sb;
      if (fstatat(f->fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
          continue;
        r = sh_errno(e, "stat", de->d_name);
        break;
      }
      type = S_ISDIR(sb.st_mode) ? DT_DIR : DT_REG;
    }
    if (type != DT_DIR) {
      if (unlinkat(f->fd, de->d_name, 0) < 0 && errno != ENOENT)
        r = sh_errno(e, "remove", de->d_name);
      continue;
    }
    uint64_t m = 0;
    if ((r = mnt_id(f->fd, de->d_name, &m)) < 0) {
      r = r == -ENOENT ? 0 : sh_err(e, -r, "stat", de->d_name, NULL);
      continue;
    }
    if (m != mnt)
      r = sh_err(e, EBUSY, "remove tree", de->d_name, "a mount point: unmount it first");
    if (r < 0)
      break;
    int cfd = openat(f->fd, de->d_name, DIRFLAGS);
    DIR *cd = cfd >= 0 ? fdopendir(cfd) : NULL;
    if (!cd) {
      r = sh_errno(e, "open directory", de->d_name);
      if (cfd >= 0)
        close(cfd);
      break;
    }
    if (n == cap) {
      struct frame *ns = realloc(st, 2 * cap * sizeof *st);
      if (!ns) {
        closedir(cd);
        r = sh_err(e, ENOMEM, "remove tree", NULL, NULL);
        break;
      }
      st = ns;
      cap *= 2;
    }
    char *name = strdup(de->d_name);
    if (!name) {
      closedir(cd);
      r = sh_err(e, ENOMEM, "remove tree", NULL, NULL);
      break;
    }
    st[n++] = (struct frame){ .fd = cfd, .d = cd, .name = name };
  }
  while (n > 0) {
    n--;
    closedir(st[n].d);
    free(st[n].name);
  }
  free(st);
  return r;
}

int sh_rmtree_children(int dirfd, sh_error *e)
{
  uint64_t mnt = 0;
  int r = mnt_id(dirfd, "", &mnt);
  if (r < 0)
    return sh_err(e, -r, "stat", NULL, NULL);
  return rm_children(dirfd, mnt, e);
}

int sh_rmtree_at(int dirfd, const char *name, sh_error *e)
{
  struct stat sb;
  if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : sh_errno(e, "stat", name);
  if (!S_ISDIR(sb.st_mode)) {
    if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
      return sh_errno(e, "remove", name);
    return 0;
  }
  uint64_t parent_mnt = 0, mnt = 0;
  int r;
  if ((r = mnt_id(dirfd, "", &parent_mnt)) < 0 || (r = mnt_id(dirfd, name, &mnt)) < 0)
    return sh_err(e, -r, "stat", name, NULL);
  if (mnt != parent_mnt)
    return sh_err(e, EBUSY, "remove tree", name, "a mount point: unmount it first");
  _cleanup_close_ int fd = openat(dirfd, name, DIRFLAGS);
  if (fd < 0)
    return errno == ENOENT ? 0 : sh_errno(e, "open directory", name);
  if ((r = rm_children(fd, mnt, e)) < 0)
    return r;
  return remove_dir(dirfd, name, e);
}
