/* Container volumes: writable clones of an image (O(1) in time and space),
 * their quotas and the tenant's aggregate, snapshots and restore, and the
 * idmapped mount the runtime gets as its rootfs; the pool's driver does the
 * tree work.  containers/<id>.json is each volume's commit record, written
 * last. */
#include "storage-internal.h"
#include "cleanup.h"
#include "fdutil.h"
#include "jsonutil.h"
#include "log.h"
#include "mountinfo.h"
#include "rmtree.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DIRFLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct volume_meta {
  char id[65];
  uint64_t tenant;
  uint64_t quota;
  char image[65];     /* image id, "" for clones and imports */
  char origin[160];   /* "image:<id>", "volume:<id>", "backup:<id>" */
  int64_t created;
  struct copy_stats shift; /* the last move to a new id range (overlay) */
};

static int meta_load(int ctrfd, const char *id, struct volume_meta *m, sh_error *e)
{
  char name[80];
  snprintf(name, sizeof name, "%s.json", id);
  _cleanup_json_ json_t *j = NULL;
  int r = pool_meta_load(ctrfd, name, name, &j, e);
  if (r < 0)
    return r == -ENOENT ? sh_err(e, ENOENT, "find volume", id, "no such volume") : r;
  const char *image = "", *origin = "";
  *m = (struct volume_meta){0};
  if ((r = sh_json_get_u64(j, "tenant", name, &m->tenant, e)) < 0 ||
      (r = sh_json_get_u64(j, "quota", name, &m->quota, e)) < 0 ||
      (r = sh_json_get_str(j, "image", name, &image, e)) < 0 ||
      (r = sh_json_get_str(j, "origin", name, &origin, e)) < 0 ||
      (r = sh_json_get_i64(j, "created", name, &m->created, e)) < 0)
    return r;
  json_t *sh = json_object_get(j, "last_shift");
  if (json_is_object(sh)) {
    m->shift.entries = (uint64_t) json_integer_value(json_object_get(sh, "entries"));
    m->shift.copied = (uint64_t) json_integer_value(json_object_get(sh, "copied_bytes"));
    m->shift.reflinked = (uint64_t) json_integer_value(json_object_get(sh, "reflinked_bytes"));
    m->shift.ms = json_number_value(json_object_get(sh, "ms"));
  }
  snprintf(m->id, sizeof m->id, "%s", id);
  snprintf(m->image, sizeof m->image, "%s", image);
  snprintf(m->origin, sizeof m->origin, "%s", origin);
  return 0;
}

static json_t *meta_json(const struct volume_meta *m)
{
  json_t *j = json_pack("{s:s,s:I,s:I,s:s,s:s,s:I}", "id", m->id, "tenant", (json_int_t) m->tenant,
                        "quota", (json_int_t) m->quota, "image", m->image, "origin", m->origin,
                        "created", (json_int_t) m->created);
  if (j && m->shift.entries)
    json_object_set_new(j, "last_shift",
                        json_pack("{s:I,s:I,s:I,s:f}", "entries", (json_int_t) m->shift.entries,
                                  "copied_bytes", (json_int_t) m->shift.copied, "reflinked_bytes",
                                  (json_int_t) m->shift.reflinked, "ms", m->shift.ms));
  return j;
}

static int meta_save(int ctrfd, const struct volume_meta *m, sh_error *e)
{
  _cleanup_json_ json_t *j = meta_json(m);
  _cleanup_free_ char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
  if (!text)
    return sh_err(e, ENOMEM, "write volume metadata", m->id, NULL);
  char name[80];
  snprintf(name, sizeof name, "%s.json", m->id);
  return pool_meta_write(ctrfd, name, text, e);
}

/* Check the names, open containers/ and load the volume's metadata. */
static int volume_open(sbx_pool *p, const char *id, const char *snap, int *ctrfd,
                       struct volume_meta *m, sh_error *e)
{
  int r;
  if ((r = pool_check_name("volume id", id, e)) < 0 ||
      (snap && (r = pool_check_name("snapshot name", snap, e)) < 0))
    return r;
  _cleanup_close_ int fd = pool_subdir(p, "containers", e);
  if (fd < 0)
    return fd;
  if ((r = meta_load(fd, id, m, e)) < 0)
    return r;
  *ctrfd = steal_fd(fd);
  return 0;
}

/* Make containers/<id> from the image (imgfd: images/) or by copying the
 * volume srcfd, quota it, then commit its metadata.  If anything fails the
 * half-made volume goes. */
static int volume_commit(sbx_pool *p, int imgfd, int srcfd, struct volume_meta *m, sh_error *e)
{
  _cleanup_close_ int ctrfd = pool_subdir(p, "containers", e);
  if (ctrfd < 0)
    return ctrfd;
  int r = srcfd >= 0 ? p->drv->copy(p, srcfd, ctrfd, m->id, false, m->tenant, e)
                     : p->drv->from_image(p, imgfd, m->image, ctrfd, m->id, m->tenant, e);
  if (r < 0)
    return r;
  m->created = (int64_t) time(NULL);
  if ((r = p->drv->quota(p, ctrfd, m->id, m->quota, e)) < 0 || (r = meta_save(ctrfd, m, e)) < 0) {
    sh_error ignored = {0};
    p->drv->remove(p, ctrfd, m->id, &ignored);
  }
  return r;
}

/* Already there with the same origin: creating twice is harmless. */
static int volume_exists(sbx_pool *p, const struct volume_meta *want, sh_error *e)
{
  _cleanup_close_ int ctrfd = pool_subdir(p, "containers", e);
  if (ctrfd < 0)
    return ctrfd;
  struct volume_meta have;
  sh_error ignored = {0};
  if (meta_load(ctrfd, want->id, &have, &ignored) < 0)
    return 0;
  if (strcmp(have.origin, want->origin) != 0 || have.tenant != want->tenant)
    return sh_err(e, EEXIST, "create volume", want->id, "exists, made from %s for tenant %" PRIu64,
                  have.origin, have.tenant);
  int r = have.quota == want->quota ? 0 : sbx_volume_set_quota(p, want->id, want->quota, e);
  return r < 0 ? r : 1;
}

int sbx_volume_create(sbx_pool *p, const char *id, const char *image_ref, uint64_t tenant,
                      uint64_t quota, sh_error *e)
{
  int r = pool_check_name("volume id", id, e);
  if (r < 0)
    return r;
  struct sbx_image_info img;
  if ((r = sbx_image_find(p, image_ref, &img, e)) < 0)
    return r;
  struct volume_meta m = { .tenant = tenant, .quota = quota };
  snprintf(m.id, sizeof m.id, "%s", id);
  snprintf(m.image, sizeof m.image, "%s", img.id);
  snprintf(m.origin, sizeof m.origin, "image:%s", img.id);
  if ((r = volume_exists(p, &m, e)) != 0)
    return r < 0 ? r : 0;
  if ((r = pool_check_watermark(p, "create volume", e)) < 0)
    return r;
  _cleanup_close_ int imgfd = pool_subdir(p, "images", e);
  if (imgfd < 0)
    return imgfd;
  return volume_commit(p, imgfd, -1, &m, e);
}

int sbx_volume_clone(sbx_pool *p, const char *src, const char *dst, uint64_t tenant,
                     uint64_t quota, sh_error *e)
{
  _cleanup_close_ int ctrfd = -1;
  struct volume_meta sm;
  int r;
  if ((r = volume_open(p, src, NULL, &ctrfd, &sm, e)) < 0 || (r = pool_check_name("volume id", dst, e)) < 0)
    return r;
  struct volume_meta m = { .tenant = tenant, .quota = quota };
  snprintf(m.id, sizeof m.id, "%s", dst);
  snprintf(m.image, sizeof m.image, "%s", sm.image);
  snprintf(m.origin, sizeof m.origin, "volume:%s", src);
  if ((r = volume_exists(p, &m, e)) != 0)
    return r < 0 ? r : 0;
  if ((r = pool_check_watermark(p, "clone volume", e)) < 0)
    return r;
  _cleanup_close_ int sfd = pool_open_dir(ctrfd, src, e);
  if (sfd < 0)
    return sfd;
  return volume_commit(p, -1, sfd, &m, e);
}

int sbx_volume_set_quota(sbx_pool *p, const char *id, uint64_t bytes, sh_error *e)
{
  _cleanup_close_ int ctrfd = -1;
  struct volume_meta m;
  int r;
  if ((r = volume_open(p, id, NULL, &ctrfd, &m, e)) < 0 || (r = p->drv->quota(p, ctrfd, id, bytes, e)) < 0)
    return r;
  m.quota = bytes;
  return meta_save(ctrfd, &m, e);
}

int sbx_tenant_set_quota(sbx_pool *p, uint64_t tenant, uint64_t bytes, sh_error *e)
{
  if (tenant == 0 || tenant >= (1ULL << 48))
    return sh_err(e, EINVAL, "set tenant quota", "tenant", "must be 1 to 2^48-1");
  if (!p->drv->tenant_quota)
    return sh_err(e, EOPNOTSUPP, "set tenant quota", p->dir,
                  "a %s pool cannot enforce a tenant's total in the kernel; use a btrfs pool",
                  p->drv->name);
  return p->drv->tenant_quota(p, tenant, bytes, e);
}

int sbx_volume_usage(sbx_pool *p, const char *id, struct sbx_usage *u, sh_error *e)
{
  _cleanup_close_ int ctrfd = -1;
  struct volume_meta m;
  int r = volume_open(p, id, NULL, &ctrfd, &m, e);
  return r < 0 ? r : p->drv->usage(p, ctrfd, id, u, e);
}

static int snapdir(sbx_pool *p, const char *id, bool create, sh_error *e);

/* Without kernel totals: the sum over the tenant's volumes and snapshots. */
static int tenant_sum(sbx_pool *p, uint64_t tenant, struct sbx_usage *u, sh_error *e)
{
  _cleanup_close_ int ctrfd = pool_subdir(p, "containers", e);
  if (ctrfd < 0)
    return ctrfd;
  _cleanup_strv_ char **names = NULL;
  int r = pool_list_dirs(ctrfd, false, &names, e);
  for (char **n = names; r == 0 && *n; n++) {
    struct volume_meta m;
    struct sbx_usage v;
    sh_error ignored = {0};
    if (meta_load(ctrfd, *n, &m, &ignored) < 0 || m.tenant != tenant)
      continue;
    if ((r = p->drv->usage(p, ctrfd, *n, &v, e)) < 0)
      return r;
    u->exclusive += v.exclusive;
    u->referenced += v.referenced;
    _cleanup_close_ int sd = snapdir(p, *n, false, e);
    _cleanup_strv_ char **snaps = NULL;
    if (sd < 0 || pool_list_dirs(sd, false, &snaps, &ignored) < 0)
      continue;
    for (char **s = snaps; *s; s++)
      if (p->drv->usage(p, sd, *s, &v, &ignored) == 0) {
        u->exclusive += v.exclusive;
        u->referenced += v.referenced;
      }
  }
  return r;
}

int sbx_tenant_usage(sbx_pool *p, uint64_t tenant, struct sbx_usage *u, sh_error *e)
{
  *u = (struct sbx_usage){0};
  return p->drv->tenant_usage ? p->drv->tenant_usage(p, tenant, u, e) : tenant_sum(p, tenant, u, e);
}

/* ---- mounts ---- */

/* Mount points (in this namespace) of the volume: the driver tells them
 * from the mountinfo line, beside the pool's own mount.  With want set,
 * only a mount at that path counts. */
static int find_mounts(sbx_pool *p, const char *id, const char *want, char **first, size_t *count,
                       sh_error *e)
{
  struct statx sx;
  if (statx(p->datafd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0)
    return sh_errno(e, "statx", p->data);
  _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f)
    return sh_errno(e, "open", "/proc/self/mountinfo");
  _cleanup_free_ char *line = NULL;
  size_t cap = 0;
  char dev[32] = "", data_root[4096] = "";
  /* Pass 1: the pool mount's device and root; pass 2: the volume's mounts. */
  for (int pass = 0; pass < 2; pass++) {
    rewind(f);
    while (getline(&line, &cap, f) > 0) {
      struct sh_mountinfo m;
      char mdev[32];
      if (!sh_mountinfo_parse(line, &m))
        continue;
      snprintf(mdev, sizeof mdev, "%u:%u", m.major, m.minor);
      if (pass == 0 && (uint64_t) m.id == sx.stx_mnt_id) {
        snprintf(dev, sizeof dev, "%s", mdev);
        snprintf(data_root, sizeof data_root, "%s", strcmp(m.root, "/") == 0 ? "" : m.root);
        break;
      }
      struct mnt_line l = { mdev, m.root, m.mount_point, m.fstype, m.super_options, dev, data_root };
      if (pass == 1 && p->drv->is_mount(p, &l, id) && (!want || strcmp(want, m.mount_point) == 0))
        if ((*count)++ == 0 && first)
          *first = strdup(m.mount_point);
    }
    if (pass == 0 && !dev[0])
      return sh_err(e, ENOENT, "find pool mount", p->data, "not in /proc/self/mountinfo");
  }
  return 0;
}

int sbx_volume_mounted_at(sbx_pool *p, const char *id, char **target, sh_error *e)
{
  size_t n = 0;
  *target = NULL;
  int r = find_mounts(p, id, NULL, target, &n, e);
  if (r < 0)
    return r;
  return n ? 0 : sh_err(e, ENOENT, "find volume mount", id, "not mounted");
}

static int refuse_if_mounted(sbx_pool *p, const char *id, const char *step, sh_error *e)
{
  _cleanup_free_ char *at = NULL;
  size_t n = 0;
  int r = find_mounts(p, id, NULL, &at, &n, e);
  if (r < 0)
    return r;
  if (n)
    return sh_err(e, EBUSY, step, id, "mounted at %s; stop the container and unmount it first", at);
  return 0;
}

/* Is target (as the caller wrote it) a mount of the volume? */
static int is_mount_of(sbx_pool *p, const char *id, const char *target, bool *yes, sh_error *e)
{
  *yes = false;
  _cleanup_free_ char *real = realpath(target, NULL);
  size_t n = 0;
  if (!real)
    return 0;
  int r = find_mounts(p, id, real, NULL, &n, e);
  *yes = n > 0;
  return r;
}

/* A detached mount of the volume's tree in the range of the maps; a move to
 * a new range (overlay) is recorded in the volume's metadata. */
static int volume_tree(sbx_pool *p, int ctrfd, struct volume_meta *m, const struct sbx_idmap *uid_map,
                       size_t n_uid, const struct sbx_idmap *gid_map, size_t n_gid, int *mfd,
                       sh_error *e)
{
  struct copy_stats shifted;
  int r = p->drv->mount(p, ctrfd, m->id, uid_map, n_uid, gid_map, n_gid, mfd, &shifted, e);
  if (r < 0 || !shifted.entries)
    return r;
  sh_info("volume %s: moved to a new id range: %" PRIu64 " files copied (%" PRIu64
          " bytes reflinked, %" PRIu64 " copied) in %.1f ms",
          m->id, shifted.entries, shifted.reflinked, shifted.copied, shifted.ms);
  m->shift = shifted;
  if ((r = meta_save(ctrfd, m, e)) < 0) {
    close(*mfd);
    *mfd = -1;
  }
  return r;
}

int sbx_volume_mount(sbx_pool *p, const char *id, const struct sbx_idmap *uid_map, size_t n_uid,
                     const struct sbx_idmap *gid_map, size_t n_gid, const char *target,
                     sh_error *e)
{
  if (!target || target[0] != '/')
    return sh_err(e, EINVAL, "mount volume", target ? target : "(none)", "target must be absolute");
  _cleanup_close_ int ctrfd = -1;
  struct volume_meta m;
  bool there;
  int r = volume_open(p, id, NULL, &ctrfd, &m, e);
  if (r < 0 || (r = is_mount_of(p, id, target, &there, e)) < 0)
    return r;
  if (there)
    return 0; /* mounting twice is harmless */
  _cleanup_close_ int mfd = -1;
  if ((r = volume_tree(p, ctrfd, &m, uid_map, n_uid, gid_map, n_gid, &mfd, e)) < 0)
    return r;
  if ((r = sh_mkdir_p(target, 0700)) < 0)
    return sh_err(e, -r, "create mount target", target, NULL);
  if (syscall(SYS_move_mount, mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return sh_errno(e, "attach volume mount", target);
  return 0;
}

int sbx_volume_open_view(sbx_pool *p, const char *id, const struct sbx_idmap *uid_map, size_t n_uid,
                         const struct sbx_idmap *gid_map, size_t n_gid, int *fd, sh_error *e)
{
  _cleanup_close_ int ctrfd = -1;
  struct volume_meta m;
  int r = volume_open(p, id, NULL, &ctrfd, &m, e);
  return r < 0 ? r : volume_tree(p, ctrfd, &m, uid_map, n_uid, gid_map, n_gid, fd, e);
}

int sbx_volume_unmount(sbx_pool *p, const char *id, const char *target, sh_error *e)
{
  _cleanup_close_ int ctrfd = -1;
  struct volume_meta m;
  bool there;
  int r = volume_open(p, id, NULL, &ctrfd, &m, e);
  if (r < 0 || (r = is_mount_of(p, id, target, &there, e)) < 0)
    return r;
  if (!there)
    return sh_err(e, EINVAL, "unmount volume", target, "is not a mount of volume %s", id);
  if (umount2(target, UMOUNT_NOFOLLOW) < 0)
    return sh_errno(e, "unmount volume", target);
  if (rmdir(target) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EBUSY)
    return sh_errno(e, "remove mount target", target);
  return 0;
}

/* ---- snapshots ---- */

static int snapdir(sbx_pool *p, const char *id, bool create, sh_error *e)
{
  _cleanup_close_ int sfd = pool_subdir(p, "snapshots", e);
  if (sfd < 0)
    return sfd;
  if (create && mkdirat(sfd, id, 0700) < 0 && errno != EEXIST)
    return sh_errno(e, "create snapshot directory", id);
  int fd = openat(sfd, id, DIRFLAGS);
  /* No snapshot was ever taken: not an error for the callers. */
  if (fd < 0)
    return errno == ENOENT ? -ENOENT : sh_errno(e, "open snapshot directory", id);
  return fd;
}

int sbx_snapshot_create(sbx_pool *p, const char *id, const char *name, sh_error *e)
{
  _cleanup_close_ int ctrfd = -1;
  struct volume_meta m;
  int r;
  if ((r = volume_open(p, id, name, &ctrfd, &m, e)) < 0 ||
      (r = pool_check_watermark(p, "create snapshot", e)) < 0)
    return r;
  _cleanup_close_ int sd = snapdir(p, id, true, e);
  if (sd < 0)
    return sd;
  if (faccessat(sd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return sh_err(e, EEXIST, "create snapshot", name, "volume %s already has this snapshot", id);
  _cleanup_close_ int src = pool_open_dir(ctrfd, id, e);
  if (src < 0)
    return src;
  /* Snapshots count towards the tenant's total, as the space they pin does. */
  return p->drv->copy(p, src, sd, name, true, m.tenant, e);
}

/* Put the tree just made at ctrfd/side in place of the volume, quota'd
 * like it, with one RENAME_EXCHANGE: a crash leaves either the old or the
 * new tree in place, and the dot-named loser goes at the next open. */
static int swap_in(sbx_pool *p, int ctrfd, const char *id, const char *side, uint64_t quota, sh_error *e)
{
  sh_error ignored = {0};
  int r = p->drv->quota(p, ctrfd, side, quota, e);
  if (r == 0 && renameat2(ctrfd, side, ctrfd, id, RENAME_EXCHANGE) < 0)
    r = sh_errno(e, "swap in the new tree", id);
  if (r < 0) {
    p->drv->remove(p, ctrfd, side, &ignored);
    return r;
  }
  return p->drv->remove(p, ctrfd, side, e);
}

/* The name a new tree for the volume is built under ("." first: never a
 * volume), a leftover of an interrupted attempt removed. */
static void side_name(sbx_pool *p, int ctrfd, const char *id, const char *what, char side[80])
{
  snprintf(side, 80, ".%s.%s", id, what);
  sh_error ignored = {0};
  p->drv->remove(p, ctrfd, side, &ignored);
}

/* volume_open, for a change that needs the volume unmounted (step). */
static int volume_open_unmounted(sbx_pool *p, const char *id, const char *snap, const char *step, int *ctrfd,
                                 struct volume_meta *m, sh_error *e)
{
  int r = volume_open(p, id, snap, ctrfd, m, e);
  if (r == 0 && (r = refuse_if_mounted(p, id, step, e)) < 0) {
    close(*ctrfd);
    *ctrfd = -1;
  }
  return r;
}

int sbx_snapshot_restore(sbx_pool *p, const char *id, const char *name, sh_error *e)
{
  _cleanup_close_ int ctrfd = -1;
  struct volume_meta m;
  int r;
  if ((r = volume_open_unmounted(p, id, name, "restore snapshot", &ctrfd, &m, e)) < 0)
    return r;
  _cleanup_close_ int sd = snapdir(p, id, false, e);
  _cleanup_close_ int snap = sd >= 0 ? openat(sd, name, DIRFLAGS) : -1;
  if (snap < 0)
    return sh_err(e, ENOENT, "restore snapshot", name, "volume %s has no such snapshot", id);
  char side[80];
  side_name(p, ctrfd, id, "restore", side);
  if ((r = p->drv->copy(p, snap, ctrfd, side, false, m.tenant, e)) < 0)
    return r;
  return swap_in(p, ctrfd, id, side, m.quota, e);
}

int sbx_volume_rebuild(sbx_pool *p, const char *id, const char *image_ref, sh_error *e)
{
  _cleanup_close_ int ctrfd = -1;
  struct volume_meta m;
  int r;
  if ((r = volume_open_unmounted(p, id, NULL, "rebuild volume", &ctrfd, &m, e)) < 0)
    return r;
  if (!image_ref && !m.image[0])
    return sh_err(e, EINVAL, "rebuild volume", id, "was made from no image (%s): name one", m.origin);
  struct sbx_image_info img;
  if ((r = sbx_image_find(p, image_ref ? image_ref : m.image, &img, e)) < 0 ||
      (r = pool_check_watermark(p, "rebuild volume", e)) < 0)
    return r;
  _cleanup_close_ int imgfd = pool_subdir(p, "images", e);
  if (imgfd < 0)
    return imgfd;
  char side[80];
  side_name(p, ctrfd, id, "rebuild", side);
  if ((r = p->drv->from_image(p, imgfd, img.id, ctrfd, side, m.tenant, e)) < 0 ||
      (r = swap_in(p, ctrfd, id, side, m.quota, e)) < 0)
    return r;
  snprintf(m.image, sizeof m.image, "%s", img.id);
  snprintf(m.origin, sizeof m.origin, "image:%s", img.id);
  m.shift = (struct copy_stats){0};
  return meta_save(ctrfd, &m, e);
}

int sbx_snapshot_delete(sbx_pool *p, const char *id, const char *name, sh_error *e)
{
  _cleanup_close_ int ctrfd = -1;
  struct volume_meta m;
  int r = volume_open(p, id, name, &ctrfd, &m, e);
  if (r < 0)
    return r;
  _cleanup_close_ int sd = snapdir(p, id, false, e);
  if (sd < 0 || faccessat(sd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
    return sh_err(e, ENOENT, "delete snapshot", name, "volume %s has no such snapshot", id);
  return p->drv->remove(p, sd, name, e);
}

static int snapshot_names(sbx_pool *p, const char *id, json_t *arr, sh_error *e)
{
  _cleanup_close_ int sd = snapdir(p, id, false, e);
  if (sd == -ENOENT)
    return 0;
  if (sd < 0)
    return sd;
  _cleanup_strv_ char **names = NULL;
  int r = pool_list_dirs(sd, false, &names, e);
  for (char **n = names; r == 0 && *n; n++)
    json_array_append_new(arr, json_string(*n));
  return r;
}

int sbx_volume_delete(sbx_pool *p, const char *id, sh_error *e)
{
  int r = pool_check_name("volume id", id, e);
  if (r < 0 || (r = refuse_if_mounted(p, id, "delete volume", e)) < 0)
    return r;
  _cleanup_close_ int ctrfd = pool_subdir(p, "containers", e);
  if (ctrfd < 0)
    return ctrfd;
  /* Snapshots first, so a crash never leaves snapshots of a missing volume
   * unnoticed: the volume and its metadata still stand until the end. */
  {
    _cleanup_close_ int sd = snapdir(p, id, false, e);
    if (sd >= 0) {
      _cleanup_strv_ char **names = NULL;
      if ((r = pool_list_dirs(sd, true, &names, e)) < 0)
        return r;
      for (char **n = names; *n; n++)
        if ((r = p->drv->remove(p, sd, *n, e)) < 0)
          return r;
      _cleanup_close_ int sroot = pool_subdir(p, "snapshots", e);
      if (sroot >= 0 && unlinkat(sroot, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return sh_errno(e, "remove snapshot directory", id);
    } else if (sd != -ENOENT) {
      return sd;
    }
  }
  char meta[80];
  snprintf(meta, sizeof meta, "%s.json", id);
  if (unlinkat(ctrfd, meta, 0) < 0 && errno != ENOENT)
    return sh_errno(e, "delete volume metadata", meta);
  return p->drv->remove(p, ctrfd, id, e);
}

int sbx_volume_list(sbx_pool *p, char **json_out, sh_error *e)
{
  _cleanup_close_ int ctrfd = pool_subdir(p, "containers", e);
  if (ctrfd < 0)
    return ctrfd;
  _cleanup_json_ json_t *arr = json_array();
  _cleanup_closedir_ DIR *d = fdopendir(dup(ctrfd));
  if (!arr || !d)
    return sh_errno(e, "list volumes", "containers");
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t n = strlen(de->d_name);
    if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
      continue;
    char id[80];
    snprintf(id, sizeof id, "%.*s", (int) (n - 5), de->d_name);
    struct volume_meta m;
    int r = meta_load(ctrfd, id, &m, e);
    if (r < 0)
      return r;
    json_t *j = meta_json(&m), *snaps = json_array();
    if (!j || !snaps || (r = snapshot_names(p, id, snaps, e)) < 0) {
      json_decref(j);
      json_decref(snaps);
      return r < 0 ? r : sh_err(e, ENOMEM, "list volumes", NULL, NULL);
    }
    json_object_set_new(j, "snapshots", snaps);
    json_array_append_new(arr, j);
  }
  *json_out = json_dumps(arr, JSON_INDENT(2));
  return *json_out ? 0 : sh_err(e, ENOMEM, "list volumes", NULL, NULL);
}
