/* Inside the storage module: the pool object, the driver interface and the
 * two drivers (btrfs: subvolumes, snapshots, qgroups; overlay: an image as
 * the lower layer, an upper and work dir per container, project quotas). */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include "storage.h"

enum pool_source { POOL_LOOP, POOL_BLOCK, POOL_DIR };
enum quota_mode { QUOTA_NONE, QUOTA_FULL, QUOTA_SIMPLE, QUOTA_PROJECT };

struct pool_driver;

struct sbx_pool {
  const struct pool_driver *drv;
  char *dir;           /* the pool's own directory (pool.json) */
  char *data;          /* data root: dir/data, or the configured directory */
  int datafd;          /* O_DIRECTORY on data */
  enum pool_source source_kind;
  char *source;
  uint64_t size;
  unsigned watermark;
  enum quota_mode qmode;
  char fsid[40];       /* for /sys/fs/btrfs/<fsid>/qgroups */
};

/* Names: ids of containers and snapshots, [A-Za-z0-9][A-Za-z0-9_.-]{0,63}. */
int pool_check_name(const char *what, const char *name, sh_error *e);
/* Refuse new provisioning above the watermark, with the figures. */
int pool_check_watermark(sbx_pool *p, const char *what, sh_error *e);
/* An O_DIRECTORY fd for data/<sub>, made if missing. */
int pool_subdir(sbx_pool *p, const char *sub, sh_error *e);
/* openat(name, O_DIRECTORY | O_NOFOLLOW), failing with the step named. */
int pool_open_dir(int dirfd, const char *name, sh_error *e);
/* Names of the directories in dirfd (not . and ..), sorted, as a NULL-ended
 * vector; hidden (dot) names only when dot is set. */
int pool_list_dirs(int dirfd, bool dot, char ***names, sh_error *e);
/* A fresh unique name for staging below tmp/ ("<prefix>-<random>"). */
void pool_tmp_name(const char *prefix, char out[64]);

/* A detached clone of the tree at treefd, idmapped through userns (private
 * propagation).  what names it in errors. */
int pool_idmapped_tree(int treefd, const char *what, int userns, sh_error *e);

/* Small JSON metadata files next to images and volumes, written atomically. */
int pool_meta_write(int dirfd, const char *name, const char *json_text, sh_error *e);
int pool_meta_read(int dirfd, const char *name, char **text, sh_error *e);
/* Read and parse one; what names it in errors. */
int pool_meta_load(int dirfd, const char *name, const char *what, json_t **out, sh_error *e);

/* What a tree copy did (storage-copy.c). */
struct copy_stats {
  uint64_t entries, copied, reflinked; /* names; bytes copied and bytes reflinked */
  double ms;
};
/* Ids for a shifted copy: a tree stored with host ids under from[] (none:
 * stored as container ids) is written with the same container ids under
 * to[] (none: as container ids).  Ids outside from[] are kept. */
struct id_shift {
  const struct sbx_idmap *from_uid, *from_gid, *to_uid, *to_gid;
  size_t n_from_uid, n_from_gid, n_to_uid, n_to_gid;
};
/* Copy the directory sdir/sname to ddir/dname (made; must not exist).  The
 * caller removes a partial copy on failure. */
int pool_copy_tree(int sdir, const char *sname, int ddir, const char *dname,
                   const struct id_shift *shift, struct copy_stats *st, sh_error *e);

/* One mountinfo line, and the pool's own mount (device, root) beside it. */
struct mnt_line {
  const char *dev, *root, *point, *fstype, *options;
  const char *pool_dev, *pool_root;
};

/* The driver interface: every tree of a pool (image, volume, snapshot,
 * staging) is made, copied and removed through it.  dirfd/name name a tree
 * in one of the pool's directories. */
struct pool_driver {
  const char *name;
  /* The filesystem under p->datafd: its quota mode (enabled at create). */
  int (*probe)(sbx_pool *p, bool create, sh_error *e);
  /* An empty image tree to fill (staging). */
  int (*image_new)(sbx_pool *p, int dirfd, const char *name, sh_error *e);
  /* Make a committed image or imported snapshot read-only. */
  int (*seal)(int dirfd, const char *name, sh_error *e);
  int (*remove)(sbx_pool *p, int dirfd, const char *name, sh_error *e);
  /* A container volume from images/<image> (imgfd: images/). */
  int (*from_image)(sbx_pool *p, int imgfd, const char *image, int dirfd, const char *name,
                    uint64_t tenant, sh_error *e);
  /* A copy of a volume or snapshot: clones, snapshots (ro), restores. */
  int (*copy)(sbx_pool *p, int srcfd, int dirfd, const char *name, bool ro, uint64_t tenant,
              sh_error *e);
  /* An empty volume or snapshot whose tree the caller fills through
   * *rootfd (backup import). */
  int (*stage)(sbx_pool *p, int dirfd, const char *name, uint64_t tenant, int *rootfd, sh_error *e);
  int (*quota)(sbx_pool *p, int dirfd, const char *name, uint64_t bytes, sh_error *e);
  int (*usage)(sbx_pool *p, int dirfd, const char *name, struct sbx_usage *u, sh_error *e);
  /* NULL: tenants' totals are not enforced by this driver. */
  int (*tenant_quota)(sbx_pool *p, uint64_t tenant, uint64_t bytes, sh_error *e);
  /* NULL: the sum over the tenant's volumes and snapshots. */
  int (*tenant_usage)(sbx_pool *p, uint64_t tenant, struct sbx_usage *u, sh_error *e);
  /* A detached mount of containers/<id> (ctrfd: containers/) showing its
   * files in the range of userns; *shifted says what was copied to get
   * there when the tree had to move to a new range (overlay). */
  int (*mount)(sbx_pool *p, int ctrfd, const char *id, const struct sbx_idmap *uid, size_t n_uid,
               const struct sbx_idmap *gid, size_t n_gid, int *mfd, struct copy_stats *shifted,
               sh_error *e);
  bool (*is_mount)(sbx_pool *p, const struct mnt_line *l, const char *id);
  /* A read-only view of volume or snapshot dirfd/name as the container sees
   * it, in container ids, for a backup: *treefd, with what must be removed
   * after in tmpfd/stage. */
  int (*export_view)(sbx_pool *p, int dirfd, const char *name, int tmpfd, const char *stage,
                     int *treefd, sh_error *e);
  /* Was dirfd/name (a volume or snapshot) made from images/<image>? */
  bool (*uses_image)(sbx_pool *p, int imgfd, const char *image, int dirfd, const char *name);
  void (*gc)(sbx_pool *p);
};

/* overlayfs options cannot carry every path: refuse those at pool create. */
int overlay_check_path(const char *path, sh_error *e);

extern const struct pool_driver pool_btrfs_driver, pool_overlay_driver;

/* ---- btrfs (storage-btrfs.c) ---- */
int btrfs_quota_enable(int fd, enum quota_mode *mode, sh_error *e);
/* Which quota mode the filesystem at fd runs, and its fsid. */
int btrfs_fs_probe(int fd, enum quota_mode *mode, char fsid[40], sh_error *e);
/* An empty subvolume, charged to tenant's qgroup when tenant != 0. */
int btrfs_subvol_create(sbx_pool *p, int dirfd, const char *name, uint64_t tenant, sh_error *e);
/* Snapshot src (an fd on a subvolume) to dirfd/name; tenant's level-1
 * qgroup (made if missing) becomes its parent when tenant != 0. */
int btrfs_snapshot(sbx_pool *p, int srcfd, int dirfd, const char *name, bool readonly,
                   uint64_t tenant, sh_error *e);
int btrfs_subvol_delete(sbx_pool *p, int dirfd, const char *name, sh_error *e);
int btrfs_set_readonly(int dirfd, const char *name, bool ro, sh_error *e);
int btrfs_subvol_id(int dirfd, const char *name, uint64_t *id, sh_error *e);
/* uuid / parent uuid of the subvolume at dirfd/name as 36-char strings. */
int btrfs_subvol_uuids(int dirfd, const char *name, char uuid[37], char parent[37], sh_error *e);
/* qgroup limits: level 0 is a subvolume id, level 1 a tenant. 0 clears. */
int btrfs_qgroup_limit(sbx_pool *p, int level, uint64_t id, uint64_t bytes, sh_error *e);
int btrfs_qgroup_usage(sbx_pool *p, int level, uint64_t id, struct sbx_usage *u, sh_error *e);
/* Drop level-0 qgroups whose subvolume is gone (best effort). */
void btrfs_qgroup_gc(sbx_pool *p);
