/* Pools: pool.json, the driver, the filesystem under it (a loop file the
 * pool made, a block device, or a directory: on btrfs for the btrfs driver,
 * anywhere for overlay), opening with crash cleanup, and the watermark that
 * stops provisioning before the filesystem fills. */
#include "storage-internal.h"
#include "cleanup.h"
#include "fdutil.h"
#include "jsonutil.h"
#include "log.h"
#include "rmtree.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/loop.h>
#include <linux/mount.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LOOP_SIZE (20ULL << 30)
#define DEFAULT_WATERMARK 90

static const char *const source_names[] = { [POOL_LOOP] = "loop", [POOL_BLOCK] = "block",
                                            [POOL_DIR] = "dir" };
static const char *const quota_names[] = { [QUOTA_NONE] = "none", [QUOTA_FULL] = "full",
                                           [QUOTA_SIMPLE] = "simple", [QUOTA_PROJECT] = "project" };
static const struct pool_driver *const drivers[] = { &pool_btrfs_driver, &pool_overlay_driver };

static const struct pool_driver *driver_by_name(const char *name)
{
  for (size_t i = 0; i < SH_ARRAY_SIZE(drivers); i++)
    if (strcmp(drivers[i]->name, name) == 0)
      return drivers[i];
  return NULL;
}

int pool_idmapped_tree(int treefd, const char *what, int userns, sh_error *e)
{
  _cleanup_close_ int fd = (int) syscall(SYS_open_tree, treefd, "",
                                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (fd < 0)
    return sh_errno(e, "clone mount", what);
  struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns,
                          .propagation = MS_PRIVATE };
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
    return sh_err(e, errno, "idmap mount", what,
                  errno == EINVAL ? "the filesystem or kernel cannot idmap mounts" : NULL);
  return steal_fd(fd);
}

int pool_check_name(const char *what, const char *name, sh_error *e)
{
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > 64)
    return sh_err(e, EINVAL, "check name", what, "must be 1 to 64 characters");
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (i > 0 && (c == '_' || c == '.' || c == '-'));
    if (!ok)
      return sh_err(e, EINVAL, "check name", what,
                    "'%s': use letters, digits and _ . - (not first)", name);
  }
  return 0;
}

void pool_tmp_name(const char *prefix, char out[64])
{
  uint64_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r)
    r = (uint64_t) getpid() << 20 ^ (uint64_t) time(NULL);
  snprintf(out, 64, "%s-%016" PRIx64, prefix, r);
}

int pool_subdir(sbx_pool *p, const char *sub, sh_error *e)
{
  if (mkdirat(p->datafd, sub, 0700) < 0 && errno != EEXIST)
    return sh_errno(e, "create pool directory", sub);
  int fd = openat(p->datafd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sh_errno(e, "open pool directory", sub);
  return fd;
}

int pool_open_dir(int dirfd, const char *name, sh_error *e)
{
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd < 0 ? sh_errno(e, "open", name) : fd;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

int pool_list_dirs(int dirfd, bool dot, char ***names, sh_error *e)
{
  _cleanup_closedir_ DIR *d = fdopendir(dup(dirfd));
  if (!d)
    return sh_errno(e, "list directory", NULL);
  _cleanup_strv_ char **v = calloc(1, sizeof *v);
  size_t n = 0;
  struct dirent *de;
  while (v && (de = readdir(d))) {
    if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
        (!dot && de->d_name[0] == '.'))
      continue;
    char **nv = realloc(v, (n + 2) * sizeof *v);
    if (!nv)
      break;
    v = nv;
    if (!(v[n] = strdup(de->d_name)))
      break;
    v[++n] = NULL;
  }
  if (!v || (de = NULL, errno == ENOMEM))
    return sh_err(e, ENOMEM, "list directory", NULL, NULL);
  qsort(v, n, sizeof *v, cmp_str);
  *names = steal_ptr(v);
  return 0;
}

int pool_meta_write(int dirfd, const char *name, const char *json_text, sh_error *e)
{
  char tmp[300];
  snprintf(tmp, sizeof tmp, ".%s.tmp", name);
  _cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return sh_errno(e, "write metadata", name);
  size_t len = strlen(json_text);
  if (sh_write_all(fd, json_text, len) != (ssize_t) len || fsync(fd) < 0)
    return sh_errno(e, "write metadata", name);
  if (renameat(dirfd, tmp, dirfd, name) < 0)
    return sh_errno(e, "rename metadata", name);
  return 0;
}

int pool_meta_read(int dirfd, const char *name, char **text, sh_error *e)
{
  return sh_read_file_at(dirfd, name, text, NULL, e);
}

int pool_meta_load(int dirfd, const char *name, const char *what, json_t **out, sh_error *e)
{
  _cleanup_free_ char *text = NULL;
  int r = pool_meta_read(dirfd, name, &text, e);
  if (r < 0)
    return r;
  json_error_t je;
  *out = json_loads(text, 0, &je);
  return *out ? 0 : sh_err(e, EINVAL, "parse metadata", what, "line %d: %s", je.line, je.text);
}

/* ---- the filesystem below the pool ---- */

static int run_mkfs(const char *dev, sh_error *e)
{
  pid_t pid = fork();
  if (pid < 0)
    return sh_errno(e, "fork", "mkfs.btrfs");
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, 1);
      dup2(null, 2);
    }
    /* No library makes a filesystem; mkfs.btrfs is the tool for it.  DUP
     * metadata keeps a copy of every tree block, as btrfs does on disks. */
    execlp("mkfs.btrfs", "mkfs.btrfs", "-q", "-m", "dup", "-L", "sandhost", dev, (char *) NULL);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      return sh_errno(e, "wait", "mkfs.btrfs");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return sh_err(e, EIO, "make filesystem", dev, "mkfs.btrfs exited with %d%s",
                  WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                  WIFEXITED(st) && WEXITSTATUS(st) == 127 ? " (is btrfs-progs installed?)" : "");
  return 0;
}

/* Attach file to a free loop device that goes away with its last user;
 * the returned fd keeps it until the caller has mounted it. */
static int loop_attach(const char *file, char dev[32], sh_error *e)
{
  _cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0)
    return sh_err(e, errno, "open", "/dev/loop-control",
                  errno == ENOENT ? "is the loop module loaded (modprobe loop)?" : NULL);
  _cleanup_close_ int ffd = open(file, O_RDWR | O_CLOEXEC);
  if (ffd < 0)
    return sh_errno(e, "open loop file", file);
  for (int tries = 0; tries < 16; tries++) {
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0)
      return sh_errno(e, "find free loop device", NULL);
    snprintf(dev, 32, "/dev/loop%d", n);
    _cleanup_close_ int lfd = open(dev, O_RDWR | O_CLOEXEC);
    if (lfd < 0)
      return sh_errno(e, "open loop device", dev);
    int r = 0;
    struct loop_config cfg = {
      .fd = (uint32_t) ffd,
      .info = { .lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO },
    };
    snprintf((char *) cfg.info.lo_file_name, LO_NAME_SIZE, "%s", file);
    if ((r = ioctl(lfd, LOOP_CONFIGURE, &cfg)) < 0 && errno == EINVAL) {
      /* Direct I/O needs aligned backing storage; fall back to buffered. */
      cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
      r = ioctl(lfd, LOOP_CONFIGURE, &cfg);
    }
    if (r == 0)
      return steal_fd(lfd);
    if (errno != EBUSY) /* lost a race for this device: try the next */
      return sh_errno(e, "configure loop device", dev);
  }
  return sh_err(e, EBUSY, "configure loop device", file, "no free loop device after 16 tries");
}

static bool is_btrfs_fd(int fd)
{
  struct statfs sf;
  return fstatfs(fd, &sf) == 0 && sf.f_type == BTRFS_SUPER_MAGIC;
}

static bool is_mountpoint(const char *path)
{
  struct statx a, b;
  _cleanup_free_ char *parent = NULL;
  if (asprintf(&parent, "%s/..", path) < 0)
    return false;
  return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &a) == 0 &&
         statx(AT_FDCWD, parent, 0, STATX_MNT_ID, &b) == 0 && a.stx_mnt_id != b.stx_mnt_id;
}

/* The pool's filesystem is mounted nosuid and nodev: files of images are
 * stored with container ids, and only idmapped mounts (which map them into
 * a container's range) ever let their setuid bits count. */
static int mount_data(const char *dev, const char *data, sh_error *e)
{
  if (mount(dev, data, "btrfs", MS_NOSUID | MS_NODEV | MS_NOATIME, NULL) < 0)
    return sh_errno(e, "mount pool", data);
  /* Containers' idmapped mounts must not travel into other namespaces. */
  if (mount(NULL, data, NULL, MS_PRIVATE, NULL) < 0)
    return sh_errno(e, "make pool mount private", data);
  return 0;
}

static int write_pool_json(const char *dir, const char *driver, enum pool_source kind,
                           const char *source, uint64_t size, unsigned watermark, sh_error *e)
{
  _cleanup_json_ json_t *j = json_pack("{s:i,s:s,s:s,s:s?,s:I,s:i}", "version", 1, "driver", driver,
                                       "source", source_names[kind], "path", source,
                                       "size", (json_int_t) size, "watermark", (int) watermark);
  _cleanup_free_ char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
  if (!text)
    return sh_err(e, ENOMEM, "write pool.json", dir, NULL);
  _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return sh_errno(e, "open pool", dir);
  return pool_meta_write(dfd, "pool.json", text, e);
}

static int make_layout(sbx_pool *p, sh_error *e)
{
  static const char *const dirs[] = { "images", "containers", "snapshots", "tmp" };
  for (size_t i = 0; i < SH_ARRAY_SIZE(dirs); i++) {
    int fd = pool_subdir(p, dirs[i], e);
    if (fd < 0)
      return fd;
    close(fd);
  }
  return 0;
}

/* A block device given to a pool is formatted: refuse one that carries a
 * filesystem, swap, LUKS or a partition table, rather than destroy it. */
static int check_blank(const char *dev, sh_error *e)
{
  static const struct { off_t off; const char *magic; size_t len; const char *what; } sigs[] = {
    {1080, "\x53\xef", 2, "an ext2/3/4 filesystem"}, {0, "XFSB", 4, "an XFS filesystem"},
    {65600, "_BHRfS_M", 8, "a btrfs filesystem"}, {4086, "SWAPSPACE2", 10, "swap"},
    {0, "LUKS\xba\xbe", 6, "LUKS"}, {510, "\x55\xaa", 2, "a partition table"},
  };
  _cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sh_errno(e, "open pool device", dev);
  for (size_t i = 0; i < SH_ARRAY_SIZE(sigs); i++) {
    char buf[16];
    if (pread(fd, buf, sigs[i].len, sigs[i].off) == (ssize_t) sigs[i].len &&
        memcmp(buf, sigs[i].magic, sigs[i].len) == 0)
      return sh_err(e, EEXIST, "pool source", dev, "holds %s; wipe it first if it is to be a pool",
                    sigs[i].what);
  }
  return 0;
}

int sbx_pool_create(const char *dir, const struct sbx_pool_config *c, sh_error *e)
{
  const char *driver = c->driver ? c->driver : "btrfs";
  const struct pool_driver *drv = driver_by_name(driver);
  if (!drv)
    return sh_err(e, EINVAL, "create pool", "driver", "'%s' is not btrfs or overlay", driver);
  if (drv == &pool_overlay_driver && !c->source)
    return sh_err(e, EINVAL, "create pool", "source",
                  "an overlay pool lives in a directory: give one (--source DIR)");
  if (c->watermark > 99)
    return sh_err(e, EINVAL, "create pool", "watermark", "must be 1 to 99 (percent), not %u",
                  c->watermark);
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return sh_errno(e, "create pool directory", dir);
  _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return sh_errno(e, "open pool directory", dir);
  if (faccessat(dfd, "pool.json", F_OK, 0) == 0)
    return sh_err(e, EEXIST, "create pool", dir, "a pool already exists here");
  /* Only root may walk into a pool: it holds every tenant's files. */
  if (fchmod(dfd, 0700) < 0)
    return sh_errno(e, "chmod pool directory", dir);

  enum pool_source kind = POOL_LOOP;
  struct stat st;
  if (c->source) {
    if (stat(c->source, &st) < 0)
      return sh_errno(e, "pool source", c->source);
    if (S_ISBLK(st.st_mode))
      kind = POOL_BLOCK;
    else if (S_ISDIR(st.st_mode))
      kind = POOL_DIR;
    else
      return sh_err(e, EINVAL, "pool source", c->source, "must be a block device or a directory");
  }
  uint64_t size = c->size ? c->size : DEFAULT_LOOP_SIZE;
  if (kind == POOL_LOOP && size < (256ULL << 20))
    return sh_err(e, EINVAL, "create pool", "size", "at least 256 MiB, not %" PRIu64, size);

  _cleanup_free_ char *data = NULL;
  _cleanup_free_ char *img = NULL;
  bool made_data = false, mounted = false;
  int r = 0;
  if (kind == POOL_DIR) {
    _cleanup_close_ int sfd = open(c->source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0)
      return sh_errno(e, "open pool source", c->source);
    if (drv == &pool_btrfs_driver && !is_btrfs_fd(sfd))
      return sh_err(e, EINVAL, "pool source", c->source, "is not on btrfs (an overlay pool can use any directory)");
    if (!(data = realpath(c->source, NULL)))
      return sh_errno(e, "resolve pool source", c->source);
    if (drv == &pool_overlay_driver) {
      struct statfs sf;
      if ((r = overlay_check_path(data, e)) < 0)
        return r;
      if (fstatfs(sfd, &sf) == 0 && sf.f_type == OVERLAYFS_SUPER_MAGIC)
        return sh_err(e, EINVAL, "pool source", c->source, "is on overlayfs, which cannot hold upper dirs");
    }
    /* Images keep their setuid files with container ids: only root may
     * walk into the data. */
    if (fchmod(sfd, 0700) < 0)
      return sh_errno(e, "chmod pool source", c->source);
  } else {
    if (drv == &pool_overlay_driver)
      return sh_err(e, EINVAL, "pool source", c->source, "an overlay pool needs a directory, not a device");
    if (kind == POOL_BLOCK && (r = check_blank(c->source, e)) < 0)
      return r;
    if (asprintf(&data, "%s/data", dir) < 0 || (kind == POOL_LOOP && asprintf(&img, "%s/disk.img", dir) < 0))
      return sh_err(e, ENOMEM, "create pool", dir, NULL);
    if (mkdir(data, 0700) < 0)
      return sh_errno(e, "create pool mount point", data);
    made_data = true;
    char dev[32];
    const char *mdev = c->source;
    _cleanup_close_ int loopfd = -1;
    if (kind == POOL_LOOP) {
      /* Sparse: the file takes space only as the pool fills. */
      _cleanup_close_ int ifd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (ifd < 0) {
        r = sh_errno(e, "create pool file", img);
        free(steal_ptr(img)); /* not ours to remove */
        goto fail;
      }
      if (ftruncate(ifd, (off_t) size) < 0) {
        r = sh_errno(e, "size pool file", img);
        goto fail;
      }
    }
    if ((r = run_mkfs(kind == POOL_LOOP ? img : c->source, e)) < 0)
      goto fail;
    if (kind == POOL_LOOP) {
      if ((loopfd = loop_attach(img, dev, e)) < 0) {
        r = loopfd;
        goto fail;
      }
      mdev = dev;
    }
    if ((r = mount_data(mdev, data, e)) < 0)
      goto fail;
    mounted = true;
  }

  {
    _cleanup_(sbx_pool_closep) sbx_pool *p = calloc(1, sizeof *p);
    if (!p) {
      r = sh_err(e, ENOMEM, "create pool", dir, NULL);
      goto fail;
    }
    p->datafd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (p->datafd < 0) {
      r = sh_errno(e, "open pool data", data);
      goto fail;
    }
    p->drv = drv;
    if (!(p->data = strdup(data)) || (r = drv->probe(p, true, e)) < 0 ||
        (r = make_layout(p, e)) < 0 ||
        (r = write_pool_json(dir, driver, kind, kind == POOL_DIR ? data : c->source, kind == POOL_LOOP ? size : 0,
                             c->watermark ? c->watermark : DEFAULT_WATERMARK, e)) < 0) {
      r = r < 0 ? r : sh_err(e, ENOMEM, "create pool", dir, NULL);
      goto fail;
    }
  }
  return 0;

fail:
  /* Nothing of a failed create stays: not the mount, file or directory. */
  if (mounted)
    umount2(data, UMOUNT_NOFOLLOW);
  if (img)
    unlink(img);
  if (made_data)
    rmdir(data);
  return r;
}

static int read_pool_json(sbx_pool *p, sh_error *e)
{
  _cleanup_close_ int dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return sh_errno(e, "open pool", p->dir);
  _cleanup_json_ json_t *j = NULL;
  int r = pool_meta_load(dfd, "pool.json", "pool.json", &j, e);
  if (r < 0)
    return r;
  static const char *const keys[] = { "version", "driver", "source", "path", "size", "watermark", NULL };
  const char *driver = "btrfs", *kind = NULL, *path = NULL;
  int64_t ver = 0, wm = DEFAULT_WATERMARK;
  uint64_t size = 0;
  if ((r = sh_json_check_keys(j, keys, "pool.json", e)) < 0 ||
      (r = sh_json_get_i64(j, "version", "pool.json", &ver, e)) < 0 ||
      (r = sh_json_get_str(j, "driver", "pool.json", &driver, e)) < 0 ||
      (r = sh_json_get_str(j, "source", "pool.json", &kind, e)) < 0 ||
      (r = sh_json_get_str(j, "path", "pool.json", &path, e)) < 0 ||
      (r = sh_json_get_u64(j, "size", "pool.json", &size, e)) < 0 ||
      (r = sh_json_get_i64(j, "watermark", "pool.json", &wm, e)) < 0)
    return r;
  if (ver != 1)
    return sh_err(e, EINVAL, "parse pool.json", "pool.json.version", "version %" PRId64 " unknown", ver);
  if (!(p->drv = driver_by_name(driver)))
    return sh_err(e, EINVAL, "parse pool.json", "pool.json.driver", "'%s' unknown", driver);
  size_t k = 0;
  while (k < SH_ARRAY_SIZE(source_names) && (!kind || strcmp(kind, source_names[k]) != 0))
    k++;
  if (k == SH_ARRAY_SIZE(source_names))
    return sh_err(e, EINVAL, "parse pool.json", "pool.json.source", "'%s' is not loop, block or dir",
                  kind ? kind : "(missing)");
  p->source_kind = (enum pool_source) k;
  if (p->source_kind != POOL_LOOP && !path)
    return sh_err(e, EINVAL, "parse pool.json", "pool.json.path", "required for source '%s'", kind);
  p->source = path ? strdup(path) : NULL;
  p->size = size;
  p->watermark = wm > 0 && wm < 100 ? (unsigned) wm : DEFAULT_WATERMARK;
  return 0;
}

/* What a crash left: staging trees, and images or volumes whose metadata
 * never got written (the metadata file is the commit record). */
static void cleanup_interrupted(sbx_pool *p)
{
  sh_error ignored = {0};
  _cleanup_close_ int tmp = pool_subdir(p, "tmp", &ignored);
  _cleanup_strv_ char **staged = NULL;
  if (tmp >= 0 && pool_list_dirs(tmp, true, &staged, &ignored) == 0)
    for (char **n = staged; *n; n++)
      p->drv->remove(p, tmp, *n, &ignored);
  /* Whatever is left (files, plain dirs holding subvolumes) goes. */
  sh_error_clear(&ignored);
  if (tmp >= 0 && sh_rmtree_children(tmp, &ignored) < 0)
    sh_warn("pool %s: cannot empty tmp/: %s", p->dir, strerror(ignored.err));
  static const char *const trees[] = { "images", "containers" };
  for (size_t i = 0; i < SH_ARRAY_SIZE(trees); i++) {
    sh_error_clear(&ignored);
    _cleanup_close_ int dfd = pool_subdir(p, trees[i], &ignored);
    _cleanup_strv_ char **names = NULL;
    if (dfd < 0 || pool_list_dirs(dfd, true, &names, &ignored) < 0)
      continue;
    for (char **n = names; *n; n++) {
      char meta[300];
      snprintf(meta, sizeof meta, "%s.json", *n);
      /* ".<id>.restore" and ".<id>.rebuild" are the losing side of a swap. */
      if ((*n)[0] != '.' && faccessat(dfd, meta, F_OK, 0) == 0)
        continue;
      sh_warn("pool %s: removing %s/%s: interrupted before it was committed", p->dir, trees[i], *n);
      if (p->drv->remove(p, dfd, *n, &ignored) < 0)
        sh_error_clear(&ignored);
    }
  }
}

int sbx_pool_open(const char *dir, sbx_pool **out, sh_error *e)
{
  _cleanup_(sbx_pool_closep) sbx_pool *p = calloc(1, sizeof *p);
  if (!p || !(p->dir = strdup(dir)))
    return sh_err(e, ENOMEM, "open pool", dir, NULL);
  p->datafd = -1;
  int r = read_pool_json(p, e);
  if (r < 0)
    return r;
  if (p->source_kind == POOL_DIR) {
    p->data = strdup(p->source);
  } else if (asprintf(&p->data, "%s/data", dir) < 0) {
    p->data = NULL;
  }
  if (!p->data)
    return sh_err(e, ENOMEM, "open pool", dir, NULL);
  if (p->source_kind != POOL_DIR && !is_mountpoint(p->data)) {
    char dev[32];
    const char *mdev = p->source;
    _cleanup_close_ int loopfd = -1;
    if (p->source_kind == POOL_LOOP) {
      _cleanup_free_ char *img = NULL;
      if (asprintf(&img, "%s/disk.img", dir) < 0)
        return sh_err(e, ENOMEM, "open pool", dir, NULL);
      if ((loopfd = loop_attach(img, dev, e)) < 0)
        return loopfd;
      mdev = dev;
    }
    if ((r = mount_data(mdev, p->data, e)) < 0)
      return r;
  }
  p->datafd = open(p->data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (p->datafd < 0)
    return sh_errno(e, "open pool data", p->data);
  if ((r = p->drv->probe(p, false, e)) < 0)
    return r;
  if ((r = make_layout(p, e)) < 0)
    return r;
  cleanup_interrupted(p);
  p->drv->gc(p);
  *out = steal_ptr(p);
  return 0;
}

void sbx_pool_close(sbx_pool *p)
{
  if (!p)
    return;
  if (p->datafd >= 0)
    close(p->datafd);
  free(p->dir);
  free(p->data);
  free(p->source);
  free(p);
}

int sbx_pool_unmount(const char *dir, sh_error *e)
{
  _cleanup_free_ char *data = NULL;
  if (asprintf(&data, "%s/data", dir) < 0)
    return sh_err(e, ENOMEM, "unmount pool", dir, NULL);
  if (!is_mountpoint(data))
    return 0;
  /* Not lazy: a container still using the pool must make this fail. */
  if (umount2(data, UMOUNT_NOFOLLOW) < 0)
    return sh_err(e, errno, "unmount pool", data,
                  errno == EBUSY ? "still in use (mounted containers?)" : NULL);
  return 0;
}

const char *sbx_pool_data_path(const sbx_pool *p) { return p->data; }
const char *sbx_pool_quota_mode(const sbx_pool *p) { return quota_names[p->qmode]; }
const char *sbx_pool_driver(const sbx_pool *p) { return p->drv->name; }

int sbx_pool_space(sbx_pool *p, struct sbx_pool_space *s, sh_error *e)
{
  struct statfs sf;
  if (fstatfs(p->datafd, &sf) < 0)
    return sh_errno(e, "statfs", p->data);
  s->size = (uint64_t) sf.f_blocks * (uint64_t) sf.f_bsize;
  s->avail = (uint64_t) sf.f_bavail * (uint64_t) sf.f_bsize;
  s->used = s->size - (uint64_t) sf.f_bfree * (uint64_t) sf.f_bsize;
  s->used_pct = s->size ? (unsigned) ((s->size - s->avail) * 100 / s->size) : 100;
  s->watermark = p->watermark;
  return 0;
}

int pool_check_watermark(sbx_pool *p, const char *what, sh_error *e)
{
  struct sbx_pool_space s;
  int r = sbx_pool_space(p, &s, e);
  if (r < 0)
    return r;
  if (s.used_pct >= s.watermark)
    return sh_err(e, ENOSPC, what, p->dir,
                  "pool is %u%% full (%" PRIu64 " MiB free of %" PRIu64 " MiB); new provisioning "
                  "stops at the %u%% watermark so running containers keep room",
                  s.used_pct, s.avail >> 20, s.size >> 20, s.watermark);
  return 0;
}

int sbx_parse_size(const char *s, uint64_t *out)
{
  if (strcmp(s, "none") == 0) {
    *out = 0;
    return 0;
  }
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || s[0] == '-')
    return -EINVAL;
  static const struct { const char *suffix; unsigned shift; } units[] = {
    {"", 0}, {"B", 0}, {"K", 10}, {"KB", 10}, {"KiB", 10}, {"M", 20}, {"MB", 20}, {"MiB", 20},
    {"G", 30}, {"GB", 30}, {"GiB", 30}, {"T", 40}, {"TB", 40}, {"TiB", 40},
  };
  for (size_t i = 0; i < SH_ARRAY_SIZE(units); i++) {
    if (strcasecmp(end, units[i].suffix) != 0)
      continue;
    if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
      return -EINVAL;
    *out = (uint64_t) v << units[i].shift;
    return 0;
  }
  return -EINVAL;
}
