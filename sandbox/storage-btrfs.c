/* The btrfs layer of a pool: subvolumes through libbtrfsutil, qgroups
 * through their ioctls, usage from sysfs.  Never the btrfs command. */
#include "storage-internal.h"
#include "cleanup.h"
#include "fdutil.h"

#include <btrfsutil.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/btrfs.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Kernel >= 6.7: simple quotas charge each extent to the subvolume that
 * wrote it, so a snapshot joins a tenant's qgroup without a rescan. */
#define QUOTA_CTL_ENABLE_SIMPLE 4

static uint64_t qgroupid(int level, uint64_t id) { return ((uint64_t) level << 48) | id; }

/* libbtrfsutil keeps errno from the failing call; map to our contract. */
static int util_err(sh_error *e, enum btrfs_util_error r, const char *step, const char *path)
{
  int err = errno ? errno : EIO;
  return sh_err(e, err, step, path, "%s", btrfs_util_strerror(r));
}

int btrfs_fs_probe(int fd, enum quota_mode *mode, char fsid[40], sh_error *e)
{
  struct btrfs_ioctl_fs_info_args fi = {0};
  if (ioctl(fd, BTRFS_IOC_FS_INFO, &fi) < 0)
    return sh_err(e, errno, "btrfs fs info", NULL, "is the pool on btrfs?");
  const uint8_t *u = fi.fsid;
  snprintf(fsid, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
           u[13], u[14], u[15]);
  char path[128];
  snprintf(path, sizeof path, "/sys/fs/btrfs/%s/qgroups", fsid);
  if (access(path, F_OK) < 0) {
    *mode = QUOTA_NONE;
    return 0;
  }
  _cleanup_free_ char *m = NULL;
  snprintf(path, sizeof path, "/sys/fs/btrfs/%s/qgroups/mode", fsid);
  sh_error ignored = {0};
  /* Kernels before simple quotas have no mode file: full qgroups. */
  *mode = sh_read_file_at(AT_FDCWD, path, &m, NULL, &ignored) == 0 && strncmp(m, "squota", 6) == 0
              ? QUOTA_SIMPLE : QUOTA_FULL;
  return 0;
}

int btrfs_quota_enable(int fd, enum quota_mode *mode, sh_error *e)
{
  struct btrfs_ioctl_quota_ctl_args a = { .cmd = QUOTA_CTL_ENABLE_SIMPLE };
  if (ioctl(fd, BTRFS_IOC_QUOTA_CTL, &a) == 0) {
    *mode = QUOTA_SIMPLE;
    return 0;
  }
  if (errno != EINVAL && errno != EOPNOTSUPP)
    return sh_errno(e, "enable btrfs simple quotas", NULL);
  a.cmd = BTRFS_QUOTA_CTL_ENABLE;
  if (ioctl(fd, BTRFS_IOC_QUOTA_CTL, &a) < 0)
    return sh_errno(e, "enable btrfs quotas", NULL);
  *mode = QUOTA_FULL;
  return 0;
}

static int tenant_qgroup(sbx_pool *p, uint64_t tenant, sh_error *e)
{
  struct btrfs_ioctl_qgroup_create_args a = { .create = 1, .qgroupid = qgroupid(1, tenant) };
  if (ioctl(p->datafd, BTRFS_IOC_QGROUP_CREATE, &a) < 0 && errno != EEXIST) {
    char what[32];
    snprintf(what, sizeof what, "1/%" PRIu64, tenant);
    return sh_errno(e, "create tenant qgroup", what);
  }
  return 0;
}

/* Full qgroups cannot account a new member of a tenant group at once; the
 * kernel flags itself inconsistent and a rescan (in the background) fixes
 * the tenant's referenced figure.  Exclusive figures and limits hold. */
static void rescan_if_inconsistent(sbx_pool *p)
{
  if (p->qmode != QUOTA_FULL)
    return;
  char path[128];
  snprintf(path, sizeof path, "/sys/fs/btrfs/%s/qgroups/inconsistent", p->fsid);
  _cleanup_free_ char *v = NULL;
  sh_error ignored = {0};
  if (sh_read_file_at(AT_FDCWD, path, &v, NULL, &ignored) == 0 && v[0] == '1') {
    struct btrfs_ioctl_quota_rescan_args a = {0};
    (void) ioctl(p->datafd, BTRFS_IOC_QUOTA_RESCAN, &a); /* EINPROGRESS is fine */
  }
}

/* The tenant's level-1 qgroup as the parent of a subvolume being made, so
 * the kernel charges the tenant from the first byte. */
static int tenant_inherit(sbx_pool *p, uint64_t tenant, struct btrfs_util_qgroup_inherit **inh,
                          const char *name, sh_error *e)
{
  *inh = NULL;
  if (!tenant || p->qmode == QUOTA_NONE)
    return 0;
  int rc = tenant_qgroup(p, tenant, e);
  if (rc < 0)
    return rc;
  enum btrfs_util_error r;
  if ((r = btrfs_util_create_qgroup_inherit(0, inh)) ||
      (r = btrfs_util_qgroup_inherit_add_group(inh, qgroupid(1, tenant)))) {
    btrfs_util_destroy_qgroup_inherit(*inh);
    *inh = NULL;
    return util_err(e, r, "qgroup inherit", name);
  }
  return 0;
}

int btrfs_subvol_create(sbx_pool *p, int dirfd, const char *name, uint64_t tenant, sh_error *e)
{
  struct btrfs_util_qgroup_inherit *inh;
  int rc = tenant_inherit(p, tenant, &inh, name, e);
  if (rc < 0)
    return rc;
  errno = 0;
  enum btrfs_util_error r = btrfs_util_create_subvolume_fd(dirfd, name, 0, NULL, inh);
  btrfs_util_destroy_qgroup_inherit(inh);
  return r ? util_err(e, r, "create subvolume", name) : 0;
}

int btrfs_snapshot(sbx_pool *p, int srcfd, int dirfd, const char *name, bool readonly,
                   uint64_t tenant, sh_error *e)
{
  struct btrfs_util_qgroup_inherit *inh;
  int rc = tenant_inherit(p, tenant, &inh, name, e);
  if (rc < 0)
    return rc;
  errno = 0;
  enum btrfs_util_error r = btrfs_util_create_snapshot_fd2(
      srcfd, dirfd, name, readonly ? BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY : 0, NULL, inh);
  btrfs_util_destroy_qgroup_inherit(inh);
  if (r)
    return util_err(e, r, "snapshot subvolume", name);
  if (tenant)
    rescan_if_inconsistent(p);
  return 0;
}

int btrfs_subvol_id(int dirfd, const char *name, uint64_t *id, sh_error *e)
{
  _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sh_errno(e, "open subvolume", name);
  errno = 0;
  enum btrfs_util_error r = btrfs_util_subvolume_id_fd(fd, id);
  return r ? util_err(e, r, "subvolume id", name) : 0;
}

static void uuid_str(const uint8_t u[16], char out[37])
{
  static const int dash[] = {4, 6, 8, 10};
  size_t o = 0;
  for (int i = 0, d = 0; i < 16; i++) {
    if (d < 4 && i == dash[d]) {
      out[o++] = '-';
      d++;
    }
    o += (size_t) snprintf(out + o, 3, "%02x", u[i]);
  }
  out[o] = 0;
}

int btrfs_subvol_uuids(int dirfd, const char *name, char uuid[37], char parent[37], sh_error *e)
{
  _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sh_errno(e, "open subvolume", name);
  struct btrfs_util_subvolume_info info;
  errno = 0;
  enum btrfs_util_error r = btrfs_util_subvolume_info_fd(fd, 0, &info);
  if (r)
    return util_err(e, r, "subvolume info", name);
  uuid_str(info.uuid, uuid);
  uuid_str(info.parent_uuid, parent);
  return 0;
}

int btrfs_set_readonly(int dirfd, const char *name, bool ro, sh_error *e)
{
  _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sh_errno(e, "open subvolume", name);
  errno = 0;
  enum btrfs_util_error r = btrfs_util_set_subvolume_read_only_fd(fd, ro);
  return r ? util_err(e, r, "set subvolume read-only", name) : 0;
}

static void qgroup_destroy(sbx_pool *p, uint64_t subvol)
{
  struct btrfs_ioctl_qgroup_create_args a = { .create = 0, .qgroupid = qgroupid(0, subvol) };
  (void) ioctl(p->datafd, BTRFS_IOC_QGROUP_CREATE, &a);
}

int btrfs_subvol_delete(sbx_pool *p, int dirfd, const char *name, sh_error *e)
{
  uint64_t id = 0;
  sh_error ignored = {0};
  if (btrfs_subvol_id(dirfd, name, &id, &ignored) < 0 && ignored.err == ENOENT)
    return 0;
  /* A read-only subvolume cannot lose its nested subvolumes; unlock first. */
  (void) btrfs_set_readonly(dirfd, name, false, &ignored);
  errno = 0;
  enum btrfs_util_error r =
      btrfs_util_delete_subvolume_fd(dirfd, name, BTRFS_UTIL_DELETE_SUBVOLUME_RECURSIVE);
  if (r && errno != ENOENT)
    return util_err(e, r, "delete subvolume", name);
  /* The qgroup goes once the cleaner has dropped the tree; until then the
   * kernel refuses, and btrfs_qgroup_gc() retries at the next open. */
  if (p->qmode == QUOTA_FULL && id)
    qgroup_destroy(p, id);
  return 0;
}

int btrfs_qgroup_limit(sbx_pool *p, int level, uint64_t id, uint64_t bytes, sh_error *e)
{
  char what[40];
  snprintf(what, sizeof what, "%d/%" PRIu64, level, id);
  if (p->qmode == QUOTA_NONE)
    return sh_err(e, EOPNOTSUPP, "set quota", what, "quotas are not enabled on this pool");
  if (level == 1) {
    int r = tenant_qgroup(p, id, e);
    if (r < 0)
      return r;
  }
  /* The kernel takes (u64)-1 with the flag as "no limit". */
  struct btrfs_ioctl_qgroup_limit_args a = {
    .qgroupid = qgroupid(level, id),
    .lim = { .flags = BTRFS_QGROUP_LIMIT_MAX_EXCL, .max_excl = bytes ? bytes : (uint64_t) -1 },
  };
  if (ioctl(p->datafd, BTRFS_IOC_QGROUP_LIMIT, &a) < 0)
    return sh_errno(e, "set qgroup limit", what);
  return 0;
}

static int read_u64(const char *dir, const char *file, uint64_t *v, sh_error *e)
{
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  _cleanup_free_ char *s = NULL;
  int r = sh_read_file_at(AT_FDCWD, path, &s, NULL, e);
  if (r < 0)
    return r;
  /* Unlimited reads as "none". */
  *v = strncmp(s, "none", 4) == 0 ? 0 : strtoull(s, NULL, 10);
  return 0;
}

int btrfs_qgroup_usage(sbx_pool *p, int level, uint64_t id, struct sbx_usage *u, sh_error *e)
{
  *u = (struct sbx_usage){0};
  if (p->qmode == QUOTA_NONE)
    return sh_err(e, EOPNOTSUPP, "read usage", p->data, "quotas are not enabled on this pool");
  /* Qgroup figures move at transaction commit: commit first. */
  errno = 0;
  enum btrfs_util_error ur = btrfs_util_sync_fd(p->datafd);
  if (ur)
    return util_err(e, ur, "sync pool", p->data);
  char dir[160];
  snprintf(dir, sizeof dir, "/sys/fs/btrfs/%s/qgroups/%d_%" PRIu64, p->fsid, level, id);
  if (access(dir, F_OK) < 0 && errno == ENOENT && level == 1)
    return 0; /* a tenant with nothing yet */
  int r;
  if ((r = read_u64(dir, "referenced", &u->referenced, e)) < 0 ||
      (r = read_u64(dir, "exclusive", &u->exclusive, e)) < 0 ||
      (r = read_u64(dir, "max_exclusive", &u->limit, e)) < 0)
    return r;
  return 0;
}

void btrfs_qgroup_gc(sbx_pool *p)
{
  if (p->qmode == QUOTA_NONE)
    return;
  char path[128];
  snprintf(path, sizeof path, "/sys/fs/btrfs/%s/qgroups", p->fsid);
  _cleanup_closedir_ DIR *d = opendir(path);
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir(d))) {
    uint64_t id;
    if (sscanf(de->d_name, "0_%" SCNu64, &id) != 1 || id < 256)
      continue;
    /* Look the subvolume up by id: gone means its qgroup is garbage. */
    _cleanup_free_ char *where = NULL;
    errno = 0;
    if (btrfs_util_subvolume_path_fd(p->datafd, id, &where) == BTRFS_UTIL_ERROR_SUBVOLUME_NOT_FOUND)
      qgroup_destroy(p, id);
  }
}

/* ---- the btrfs driver: every tree is a subvolume ---- */

static int bt_probe(sbx_pool *p, bool create, sh_error *e)
{
  int r = btrfs_fs_probe(p->datafd, &p->qmode, p->fsid, e);
  if (r == 0 && create && p->qmode == QUOTA_NONE)
    r = btrfs_quota_enable(p->datafd, &p->qmode, e);
  return r;
}

static int bt_image_new(sbx_pool *p, int dirfd, const char *name, sh_error *e)
{
  return btrfs_subvol_create(p, dirfd, name, 0, e);
}

static int bt_seal(int dirfd, const char *name, sh_error *e)
{
  return btrfs_set_readonly(dirfd, name, true, e);
}

static int bt_from_image(sbx_pool *p, int imgfd, const char *image, int dirfd, const char *name,
                         uint64_t tenant, sh_error *e)
{
  _cleanup_close_ int src = pool_open_dir(imgfd, image, e);
  return src < 0 ? src : btrfs_snapshot(p, src, dirfd, name, false, tenant, e);
}

static int bt_copy(sbx_pool *p, int srcfd, int dirfd, const char *name, bool ro, uint64_t tenant,
                   sh_error *e)
{
  return btrfs_snapshot(p, srcfd, dirfd, name, ro, tenant, e);
}

static int bt_stage(sbx_pool *p, int dirfd, const char *name, uint64_t tenant, int *rootfd, sh_error *e)
{
  int r = btrfs_subvol_create(p, dirfd, name, tenant, e);
  if (r < 0)
    return r;
  *rootfd = pool_open_dir(dirfd, name, e);
  return *rootfd < 0 ? *rootfd : 0;
}

static int bt_quota(sbx_pool *p, int dirfd, const char *name, uint64_t bytes, sh_error *e)
{
  if (!bytes && p->qmode == QUOTA_NONE)
    return 0;
  uint64_t sid;
  int r = btrfs_subvol_id(dirfd, name, &sid, e);
  return r < 0 ? r : btrfs_qgroup_limit(p, 0, sid, bytes, e);
}

static int bt_usage(sbx_pool *p, int dirfd, const char *name, struct sbx_usage *u, sh_error *e)
{
  uint64_t sid;
  int r = btrfs_subvol_id(dirfd, name, &sid, e);
  return r < 0 ? r : btrfs_qgroup_usage(p, 0, sid, u, e);
}

static int bt_tenant_quota(sbx_pool *p, uint64_t tenant, uint64_t bytes, sh_error *e)
{
  return btrfs_qgroup_limit(p, 1, tenant, bytes, e);
}

static int bt_tenant_usage(sbx_pool *p, uint64_t tenant, struct sbx_usage *u, sh_error *e)
{
  return btrfs_qgroup_usage(p, 1, tenant, u, e);
}

/* An idmapped clone of the subvolume itself: files stored as container ids
 * appear in the container's range; nothing is copied or chowned. */
static int bt_mount(sbx_pool *p, int ctrfd, const char *id, const struct sbx_idmap *uid, size_t n_uid,
                    const struct sbx_idmap *gid, size_t n_gid, int *mfd, struct copy_stats *shifted,
                    sh_error *e)
{
  (void) p;
  *shifted = (struct copy_stats){0};
  _cleanup_close_ int tree = pool_open_dir(ctrfd, id, e);
  if (tree < 0)
    return tree;
  _cleanup_close_ int userns = sbx_userns_fd(uid, n_uid, gid, n_gid, e);
  if (userns < 0)
    return userns;
  _cleanup_close_ int fd = pool_idmapped_tree(tree, id, userns, e);
  if (fd < 0)
    return fd;
  /* The idmap keeps setuid files inside the container's range, so this
   * mount alone may honour them; device nodes never. */
  struct mount_attr a = { .attr_set = MOUNT_ATTR_NODEV, .attr_clr = MOUNT_ATTR_NOSUID };
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
    return sh_errno(e, "set volume mount flags", id);
  *mfd = steal_fd(fd);
  return 0;
}

static bool bt_is_mount(sbx_pool *p, const struct mnt_line *l, const char *id)
{
  (void) p;
  char want[4200];
  snprintf(want, sizeof want, "%s/containers/%s", l->pool_root, id);
  return strcmp(l->dev, l->pool_dev) == 0 && strcmp(l->root, want) == 0;
}

/* A read-only snapshot: a running container gives a crash-consistent copy. */
static int bt_export_view(sbx_pool *p, int dirfd, const char *name, int tmpfd, const char *stage,
                          int *treefd, sh_error *e)
{
  _cleanup_close_ int src = pool_open_dir(dirfd, name, e);
  int r = src < 0 ? src : btrfs_snapshot(p, src, tmpfd, stage, true, 0, e);
  if (r < 0)
    return r;
  *treefd = pool_open_dir(tmpfd, stage, e);
  return *treefd < 0 ? *treefd : 0;
}

/* A volume is a snapshot of the image: its parent uuid is the image's. */
static bool bt_uses_image(sbx_pool *p, int imgfd, const char *image, int dirfd, const char *name)
{
  (void) p;
  char iu[37], ip[37], u[37], parent[37];
  sh_error ignored = {0};
  return btrfs_subvol_uuids(imgfd, image, iu, ip, &ignored) == 0 &&
         btrfs_subvol_uuids(dirfd, name, u, parent, &ignored) == 0 && strcmp(parent, iu) == 0;
}

const struct pool_driver pool_btrfs_driver = {
  .name = "btrfs",
  .probe = bt_probe,
  .image_new = bt_image_new,
  .seal = bt_seal,
  .remove = btrfs_subvol_delete,
  .from_image = bt_from_image,
  .copy = bt_copy,
  .stage = bt_stage,
  .quota = bt_quota,
  .usage = bt_usage,
  .tenant_quota = bt_tenant_quota,
  .tenant_usage = bt_tenant_usage,
  .mount = bt_mount,
  .is_mount = bt_is_mount,
  .export_view = bt_export_view,
  .uses_image = bt_uses_image,
  .gc = btrfs_qgroup_gc,
};
