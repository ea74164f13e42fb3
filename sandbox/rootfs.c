/* The container's mount namespace, built fd-relative with the new mount API:
 * every destination is resolved with openat2 inside the rootfs, so a symlink
 * planted by the image can never redirect a mount to the host. */
#include "internal.h"
#include "cleanup.h"
#include "fdutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

/* Device nodes every container gets, bind-mounted from the host because a
 * user namespace cannot mknod. */
static const char *const default_devices[] = { "null", "zero", "full", "random", "urandom", "tty" };

static const struct { const char *name, *target; } dev_symlinks[] = {
  {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
  {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
  {"ptmx", "pts/ptmx"},
};

/* Filesystems the kernel provides: their destinations must be free of symlinks. */
static bool is_kernel_fs(const char *type)
{
  static const char *const t[] = { "proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue" };
  for (size_t i = 0; i < SH_ARRAY_SIZE(t); i++)
    if (type && strcmp(type, t[i]) == 0)
      return true;
  return false;
}

static int attach(int mfd, int destfd, const char *dest, sh_error *e)
{
  if (move_mount(mfd, "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sh_errno(e, "attach mount", dest);
  return 0;
}

static int set_attr(int mfd, bool recursive, uint64_t set, uint64_t clr, unsigned long prop,
                    const char *dest, sh_error *e)
{
  if (!set && !clr && !prop)
    return 0;
  struct mount_attr a = { .attr_set = set, .attr_clr = clr, .propagation = prop & ~MS_REC };
  unsigned flags = AT_EMPTY_PATH | (recursive || (prop & MS_REC) ? AT_RECURSIVE : 0);
  if (mount_setattr(mfd, "", flags, &a, sizeof a) < 0)
    return sh_errno(e, "set mount attributes", dest);
  return 0;
}

/* Clone a host path (or an fd with path "") as a detached bind mount. */
static int clone_tree(int dirfd, const char *path, bool recursive, const char *dest, sh_error *e)
{
  int fd = open_tree(dirfd, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                     (recursive ? AT_RECURSIVE : 0) | (*path ? 0 : AT_EMPTY_PATH));
  if (fd < 0)
    return sh_errno(e, "clone mount", *path ? path : dest);
  return fd;
}

static int fs_create(const char *type, const char *source, char **data, const char *label,
                     uint64_t attrs, const char *dest, sh_error *e)
{
  _cleanup_close_ int fs = fsopen(type, FSOPEN_CLOEXEC);
  if (fs < 0)
    return sh_err(e, errno, "open filesystem", dest, "type %s", type);
  if (source && *source && fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0)
    return sh_err(e, errno, "configure filesystem", dest, "source=%s", source);
  for (char **d = data; d && *d; d++) {
    _cleanup_free_ char *kv = strdup(*d);
    if (!kv)
      return sh_err(e, ENOMEM, "configure filesystem", dest, NULL);
    char *eq = strchr(kv, '=');
    int r;
    if (eq) {
      *eq = '\0';
      r = fsconfig(fs, FSCONFIG_SET_STRING, kv, eq + 1, 0);
    } else {
      r = fsconfig(fs, FSCONFIG_SET_FLAG, kv, NULL, 0);
    }
    if (r < 0)
      return sh_err(e, errno, "configure filesystem", dest, "option %s of %s", *d, type);
  }
  if (label && fsconfig(fs, FSCONFIG_SET_STRING, "context", label, 0) < 0)
    return sh_err(e, errno, "configure filesystem", dest, "context=%s", label);
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return sh_err(e, errno, "create filesystem", dest, "type %s", type);
  int m = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned) attrs);
  if (m < 0)
    return sh_err(e, errno, "mount filesystem", dest, "type %s", type);
  return m;
}

static int do_mount(int root, const struct sbx_mount *m, int src_fd, const struct sbx_rootfs_opts *o, sh_error *e)
{
  const char *type = m->type;
  bool dir = true;
  int r;
  if (m->kind == SBX_MNT_BIND) {
    struct stat st;
    if (fstat(src_fd, &st) < 0)
      return sh_errno(e, "bind mount source", m->source);
    dir = S_ISDIR(st.st_mode);
  }
  /* The cgroup hierarchy a container sees is cgroup2, rooted at its own cgroup. */
  if (type && strcmp(type, "cgroup") == 0)
    type = "cgroup2";
  _cleanup_close_ int dest = sh_mkpath_in_root(root, m->destination, dir,
                                               is_kernel_fs(type) ? SH_RESOLVE_NO_SYMLINKS : SH_RESOLVE_IN_ROOT, e);
  if (dest < 0) {
    if (e->err == ELOOP)
      snprintf(e->path, sizeof e->path, "%s", m->destination);
    return dest;
  }
  _cleanup_close_ int mfd = -1;
  if (m->kind == SBX_MNT_BIND) {
    mfd = clone_tree(src_fd, "", m->recursive, m->destination, e);
    if (mfd < 0)
      return mfd;
    if ((r = set_attr(mfd, m->recursive_attr, m->attr_set, m->attr_clr, m->propagation, m->destination, e)) < 0)
      return r;
    return attach(mfd, dest, m->destination, e);
  }

  /* Not mqueue: its superblock is the ipc namespace's, made (and labelled)
   * with the namespace, so context= would conflict (sbx_rootfs_label_mqueue). */
  const char *label = o->selinux && o->c->mount_label &&
                      (strcmp(type, "tmpfs") == 0 || strcmp(type, "devpts") == 0) ? o->c->mount_label : NULL;
  if (strcmp(type, "sysfs") == 0 && o->sysfs_from_host) {
    /* A joined network namespace is not ours: sysfs cannot be mounted, so
     * bind the host's read-only instead. */
    mfd = clone_tree(AT_FDCWD, "/sys", true, m->destination, e);
    if (mfd < 0)
      return mfd;
    if ((r = set_attr(mfd, true, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                      MOUNT_ATTR_NOEXEC, 0, 0, m->destination, e)) < 0)
      return r;
    return attach(mfd, dest, m->destination, e);
  }
  mfd = fs_create(type, m->source, m->data, label, m->attr_set & ~(uint64_t) MOUNT_ATTR_IDMAP,
                  m->destination, e);
  if (mfd < 0)
    return mfd;
  if ((r = set_attr(mfd, false, 0, 0, m->propagation, m->destination, e)) < 0)
    return r;
  return attach(mfd, dest, m->destination, e);
}

int sbx_rootfs_label_mqueue(const char *label, sh_error *e)
{
  _cleanup_close_ int mfd = fs_create("mqueue", "mqueue", NULL, NULL, 0, "/dev/mqueue", e);
  if (mfd < 0)
    return mfd;
  char path[SH_FD_PATH_MAX];
  return sbx_selinux_set_label(sh_fd_path(mfd, path), label, e);
}

static bool dev_is_tmpfs(const struct sbx_config *c)
{
  for (size_t i = 0; i < c->n_mounts; i++)
    if (strcmp(c->mounts[i].destination, "/dev") == 0 && c->mounts[i].type &&
        strcmp(c->mounts[i].type, "tmpfs") == 0)
      return true;
  return false;
}

static int bind_device(int root, const char *host, const char *inner, sh_error *e)
{
  _cleanup_close_ int dest = sh_mkpath_in_root(root, inner, 0, SH_RESOLVE_NO_SYMLINKS, e);
  if (dest < 0)
    return dest;
  _cleanup_close_ int mfd = clone_tree(AT_FDCWD, host, false, inner, e);
  if (mfd < 0)
    return mfd;
  return attach(mfd, dest, inner, e);
}

static int setup_dev(int root, const struct sbx_config *c, sh_error *e)
{
  int r;
  for (size_t i = 0; i < SH_ARRAY_SIZE(default_devices); i++) {
    char host[64], inner[64];
    snprintf(host, sizeof host, "/dev/%s", default_devices[i]);
    snprintf(inner, sizeof inner, "dev/%s", default_devices[i]);
    if ((r = bind_device(root, host, inner, e)) < 0)
      return r;
  }
  _cleanup_close_ int devfd = sh_open_in_root(root, "dev", O_PATH | O_DIRECTORY, 0, SH_RESOLVE_NO_SYMLINKS, e);
  if (devfd < 0)
    return devfd;
  for (size_t i = 0; i < SH_ARRAY_SIZE(dev_symlinks); i++)
    if (symlinkat(dev_symlinks[i].target, devfd, dev_symlinks[i].name) < 0 && errno != EEXIST)
      return sh_errno(e, "create symlink", dev_symlinks[i].name);
  for (size_t i = 0; i < c->n_devices; i++) {
    const struct sbx_device *d = &c->devices[i];
    struct stat st;
    if (stat(d->path, &st) < 0 || (d->type == 'c') != !!S_ISCHR(st.st_mode) ||
        major(st.st_rdev) != d->major || minor(st.st_rdev) != d->minor)
      return sh_err(e, ENODEV, "create device", d->path,
                    "a user namespace cannot mknod, and the host has no %c %lld:%lld node at this path",
                    d->type, (long long) d->major, (long long) d->minor);
    if ((r = bind_device(root, d->path, d->path + 1, e)) < 0)
      return r;
  }
  return 0;
}

static int write_sysctls(int root, const struct sbx_config *c, sh_error *e)
{
  for (size_t i = 0; i < c->n_sysctl; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "proc/sys/%s", c->sysctl[i].key);
    for (char *p = path + 9; *p; p++)
      if (*p == '.')
        *p = '/';
    _cleanup_close_ int fd = sh_open_in_root(root, path, O_WRONLY, 0, SH_RESOLVE_NO_SYMLINKS, e);
    if (fd < 0)
      return fd;
    if (sh_write_all(fd, c->sysctl[i].value, strlen(c->sysctl[i].value)) < 0)
      return sh_err(e, errno, "write sysctl", c->sysctl[i].key, "value '%s'", c->sysctl[i].value);
  }
  return 0;
}

static int mask_paths(int root, char **paths, const char *label, sh_error *e)
{
  for (char **p = paths; p && *p; p++) {
    _cleanup_close_ int fd = sh_open_in_root(root, *p, O_PATH, 0, SH_RESOLVE_NO_SYMLINKS, NULL);
    if (fd < 0) {
      if (errno == ENOENT)
        continue; /* nothing there to hide */
      return sh_errno(e, "mask path", *p);
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
      return sh_errno(e, "mask path", *p);
    _cleanup_close_ int mfd = -1;
    if (S_ISDIR(st.st_mode))
      mfd = fs_create("tmpfs", "tmpfs", NULL, label, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                      MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, *p, e);
    else
      mfd = clone_tree(AT_FDCWD, "/dev/null", false, *p, e);
    if (mfd < 0)
      return mfd;
    int r = attach(mfd, fd, *p, e);
    if (r < 0)
      return r;
  }
  return 0;
}

static int readonly_paths(int root, char **paths, sh_error *e)
{
  for (char **p = paths; p && *p; p++) {
    _cleanup_close_ int fd = sh_open_in_root(root, *p, O_PATH, 0, SH_RESOLVE_NO_SYMLINKS, NULL);
    if (fd < 0) {
      if (errno == ENOENT)
        continue;
      return sh_errno(e, "make path read-only", *p);
    }
    _cleanup_close_ int mfd = clone_tree(fd, "", true, *p, e);
    if (mfd < 0)
      return mfd;
    int r = set_attr(mfd, true, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, *p, e);
    if (r < 0 || (r = attach(mfd, fd, *p, e)) < 0)
      return r;
  }
  return 0;
}

int sbx_rootfs_open(const struct sbx_config *c, int *root_fd, int **bind_fds, sh_error *e)
{
  _cleanup_close_ int rfd = open(c->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0)
    return sh_errno(e, "open rootfs", c->root_path);
  int *fds = calloc(c->n_mounts + 1, sizeof *fds);
  if (!fds)
    return sh_err(e, ENOMEM, "open rootfs", NULL, NULL);
  for (size_t i = 0; i < c->n_mounts; i++) {
    fds[i] = -1;
    if (c->mounts[i].kind != SBX_MNT_BIND)
      continue;
    fds[i] = open(c->mounts[i].source, O_PATH | O_CLOEXEC);
    if (fds[i] < 0) {
      int r = sh_err(e, errno, "bind mount source", c->mounts[i].source, "for %s", c->mounts[i].destination);
      while (i-- > 0)
        if (fds[i] >= 0)
          close(fds[i]);
      free(fds);
      return r;
    }
  }
  *root_fd = steal_fd(rfd);
  *bind_fds = fds;
  return 0;
}

int sbx_rootfs_setup(const struct sbx_rootfs_opts *o, sh_error *e)
{
  const struct sbx_config *c = o->c;
  const char *mount_label = o->selinux ? c->mount_label : NULL;
  int r;
  /* Mount points and /dev links we create belong to the container too. */
  if (mount_label && (r = sbx_selinux_set_create_label(mount_label, e)) < 0)
    return r;
  /* Nothing we mount may propagate back to the host. */
  if (mount(NULL, "/", NULL, c->rootfs_propagation, NULL) < 0)
    return sh_errno(e, "set mount propagation", "/");
  int rfd = o->root_fd;
  _cleanup_close_ int root = clone_tree(rfd, "", true, c->root_path, e);
  if (root < 0)
    return root;
  /* Attach the clone on top of the rootfs so it is a mount point for pivot_root. */
  if ((r = attach(root, rfd, c->root_path, e)) < 0)
    return r;

  for (size_t i = 0; i < c->n_mounts; i++)
    if ((r = do_mount(root, &c->mounts[i], o->bind_fds[i], o, e)) < 0)
      return r;
  if (dev_is_tmpfs(c) && (r = setup_dev(root, c, e)) < 0)
    return r;
  _cleanup_close_ int cwd = sh_mkpath_in_root(root, c->process.cwd, 1, SH_RESOLVE_IN_ROOT, e);
  if (cwd < 0)
    return cwd;
  if ((r = write_sysctls(root, c, e)) < 0 ||
      (r = mask_paths(root, c->masked, mount_label, e)) < 0 ||
      (r = readonly_paths(root, c->readonly, e)) < 0)
    return r;

  if (fchdir(root) < 0)
    return sh_errno(e, "enter rootfs", c->root_path);
  /* pivot_root(".", ".") stacks the old root on top; detach it right away. */
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    return sh_errno(e, "pivot_root", c->root_path);
  if (umount2(".", MNT_DETACH) < 0)
    return sh_errno(e, "detach old root", "/");
  if (chdir("/") < 0)
    return sh_errno(e, "chdir", "/");
  if (c->root_readonly) {
    struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
    if (mount_setattr(AT_FDCWD, "/", 0, &a, sizeof a) < 0)
      return sh_errno(e, "make root read-only", "/");
  }
  return 0;
}

int sbx_console_setup(int *master_out, bool mount_console, sh_error *e)
{
  _cleanup_close_ int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return sh_errno(e, "open pty master", "/dev/pts/ptmx (terminal:true needs a devpts mount)");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
    return sh_errno(e, "unlock pty", "/dev/pts/ptmx");
  _cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return sh_errno(e, "open pty slave", "/dev/pts");
  int fd = mount_console ? open("/dev/console", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
  if (fd >= 0) {
    close(fd);
    _cleanup_close_ int mfd = clone_tree(slave, "", false, "/dev/console", e);
    _cleanup_close_ int dest = open("/dev/console", O_PATH | O_CLOEXEC | O_NOFOLLOW);
    if (mfd < 0 || dest < 0 || attach(mfd, dest, "/dev/console", e) < 0)
      return e->err ? -e->err : sh_errno(e, "mount console", "/dev/console");
  }
  if (setsid() < 0)
    return sh_errno(e, "setsid", NULL);
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    return sh_errno(e, "set controlling terminal", "/dev/console");
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0)
      return sh_errno(e, "dup pty slave", NULL);
  *master_out = steal_fd(master);
  return 0;
}
