/* Storage pools: images, O(1) container clones, two-level quotas, snapshots
 * and backups.  A pool is one directory holding pool.json and a driver:
 *   btrfs (default): a loop file the pool made, a block device, or a
 *     directory already on btrfs; images are read-only subvolumes, volumes
 *     and snapshots are snapshots of them, quotas are qgroups.
 *   overlay: any directory; an image is the lower layer of its volumes,
 *     each volume has its own upper and work dirs, quotas are project quotas
 *     (docs/storage.md).
 * Layout of the data root, all names derived:
 *
 *   images/<sha256>        read-only tree             images/<sha256>.json
 *   containers/<id>        the container's tree       containers/<id>.json
 *   snapshots/<id>/<name>  read-only snapshot
 *   tmp/                   staging; emptied at every open
 *
 * libsandbox never calls this: it takes the prepared rootfs path that
 * sbx_volume_mount() gives.  Every call returns 0 or -errno and fills *e. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "config.h"
#include "error.h"

struct sbx_pool_config {
  const char *driver;   /* "btrfs" (the default) or "overlay" (needs a directory source) */
  const char *source;   /* NULL: a sparse loop file in the pool dir;
                           a block device: formatted (it must hold no filesystem);
                           a directory: must already be on btrfs (btrfs),
                           or anywhere but overlayfs (overlay) */
  uint64_t size;        /* loop file size in bytes; 0: 20 GiB */
  unsigned watermark;   /* refuse provisioning once the pool is this % full; 0: 90 */
};

typedef struct sbx_pool sbx_pool;

/* Make a new pool at dir (created; must be empty or absent). */
int sbx_pool_create(const char *dir, const struct sbx_pool_config *c, sh_error *e);
/* Open a pool: mount its filesystem if needed, remove what an interrupted
 * import or clone left in tmp/ and half-written images. */
int sbx_pool_open(const char *dir, sbx_pool **p, sh_error *e);
void sbx_pool_close(sbx_pool *p);
static inline void sbx_pool_closep(sbx_pool **p) { if (*p) sbx_pool_close(*p); }
#define _cleanup_pool_ __attribute__((cleanup(sbx_pool_closep)))
/* Unmount and detach the loop device (containers must be unmounted). */
int sbx_pool_unmount(const char *dir, sh_error *e);
/* The data root's path and an O_PATH fd to it (owned by the pool). */
const char *sbx_pool_data_path(const sbx_pool *p);
/* "btrfs" or "overlay". */
const char *sbx_pool_driver(const sbx_pool *p);
/* The quota mode in force: btrfs "simple" (kernel >= 6.7) or "full";
 * overlay "project"; or "none". */
const char *sbx_pool_quota_mode(const sbx_pool *p);

/* Space of the whole pool, and the refusal threshold. */
struct sbx_pool_space {
  uint64_t size, used, avail;
  unsigned used_pct, watermark;
};
int sbx_pool_space(sbx_pool *p, struct sbx_pool_space *s, sh_error *e);

/* ---- images ---- */
struct sbx_image_info {
  char id[65];          /* sha256 hex: of the tarball, of the OCI manifest, or of the builder's inputs */
  char name[128];
  char architecture[32];
  char source[512];
  uint64_t size;        /* bytes of file data */
  int64_t created;      /* unix seconds */
};

struct sbx_import_opts {
  const char *name;     /* display name; NULL: derived from the source */
  uint64_t max_bytes;   /* decompression-bomb limit; 0: the default 16 GiB */
};

/* Import a rootfs tarball (tar, .gz, .xz, .zst, .bz2; "-" is stdin). */
int sbx_image_import_tar(sbx_pool *p, const char *path, const struct sbx_import_opts *o,
                         struct sbx_image_info *out, sh_error *e);
/* Import an OCI image layout (a directory, or a tar of one); ref selects a
 * manifest by its ref.name annotation (NULL: the only one / this platform). */
int sbx_image_import_oci(sbx_pool *p, const char *layout, const char *ref,
                         const struct sbx_import_opts *o, struct sbx_image_info *out, sh_error *e);
/* Built-in builders: "busybox" (Debian's busybox-static) or "debian"
 * (mmdebstrap, minbase, from the mirror given by arg or the system's apt
 * sources; arg "suite[,mirror]", default "bookworm"). */
int sbx_image_build(sbx_pool *p, const char *builder, const char *arg,
                    struct sbx_image_info *out, sh_error *e);
/* Find an image by id, unique id prefix (>= 12 chars) or name. */
int sbx_image_find(sbx_pool *p, const char *ref, struct sbx_image_info *out, sh_error *e);
/* JSON array of image metadata (malloc'd text). */
int sbx_image_list(sbx_pool *p, char **json_out, sh_error *e);
/* Delete an image; EBUSY (naming them) while containers were cloned from it. */
int sbx_image_delete(sbx_pool *p, const char *ref, sh_error *e);

/* ---- containers ---- */
/* Clone an image into containers/<id> for tenant (0: none), with a disk
 * quota in bytes (0: none).  O(1): a btrfs snapshot, or an empty overlay upper. */
int sbx_volume_create(sbx_pool *p, const char *id, const char *image_ref, uint64_t tenant,
                      uint64_t quota, sh_error *e);
/* Clone a container (stopped or not: a crash-consistent copy) to a new id. */
int sbx_volume_clone(sbx_pool *p, const char *src, const char *dst, uint64_t tenant,
                     uint64_t quota, sh_error *e);
/* A fresh clone of image_ref (NULL: the image the volume was made from) in
 * place of the volume's tree, swapped in at once (crash-safe); its id,
 * tenant, quota and snapshots stay.  EBUSY while mounted. */
int sbx_volume_rebuild(sbx_pool *p, const char *id, const char *image_ref, sh_error *e);
/* Delete a container's volume and its snapshots.  EBUSY while mounted. */
int sbx_volume_delete(sbx_pool *p, const char *id, sh_error *e);
/* Set (0: remove) a container's quota. */
int sbx_volume_set_quota(sbx_pool *p, const char *id, uint64_t bytes, sh_error *e);
/* Set (0: remove) a tenant's total over all its containers and snapshots. */
int sbx_tenant_set_quota(sbx_pool *p, uint64_t tenant, uint64_t bytes, sh_error *e);

struct sbx_usage {
  uint64_t referenced; /* bytes reachable from the volume (shared included) */
  uint64_t exclusive;  /* bytes only it holds: what it costs */
  uint64_t limit;      /* its quota, 0: none */
};
/* Usage of one container volume, and of a tenant (all its volumes and snapshots). */
int sbx_volume_usage(sbx_pool *p, const char *id, struct sbx_usage *u, sh_error *e);
int sbx_tenant_usage(sbx_pool *p, uint64_t tenant, struct sbx_usage *u, sh_error *e);
/* JSON array of volumes with tenant, image, quota and snapshots. */
int sbx_volume_list(sbx_pool *p, char **json_out, sh_error *e);

/* Attach the container's tree at target as an idmapped mount: files stored
 * as ids 0..65535 appear as the container's host range, so one image serves
 * every container and nothing is chowned.  target is created if missing.
 * nosuid is cleared on this mount only (setuid stays inside the range). */
int sbx_volume_mount(sbx_pool *p, const char *id, const struct sbx_idmap *uid_map, size_t n_uid,
                     const struct sbx_idmap *gid_map, size_t n_gid, const char *target,
                     sh_error *e);
int sbx_volume_unmount(sbx_pool *p, const char *id, const char *target, sh_error *e);
/* The same tree, mapped the same way, as a detached mount that goes with
 * its last fd (never in any mount table): *fd is an O_PATH fd on its root.
 * For work on a stopped container's files; one tree per volume at a time on
 * an overlay pool (a second overlay of the same upper would be undefined),
 * so a mounted volume is reached through its mount instead. */
int sbx_volume_open_view(sbx_pool *p, const char *id, const struct sbx_idmap *uid_map, size_t n_uid,
                         const struct sbx_idmap *gid_map, size_t n_gid, int *fd, sh_error *e);
/* Where the volume is mounted (first found), or ENOENT. */
int sbx_volume_mounted_at(sbx_pool *p, const char *id, char **target, sh_error *e);

/* ---- snapshots ---- */
int sbx_snapshot_create(sbx_pool *p, const char *id, const char *name, sh_error *e);
/* Put the volume back to the snapshot; the container must be unmounted. */
int sbx_snapshot_restore(sbx_pool *p, const char *id, const char *name, sh_error *e);
int sbx_snapshot_delete(sbx_pool *p, const char *id, const char *name, sh_error *e);

/* ---- backups ---- */
/* Export a volume (and its snapshots) as tar.zst to out_fd: backup.json,
 * rootfs/ and snapshots/<name>/. */
int sbx_backup_export(sbx_pool *p, const char *id, bool snapshots, int out_fd, sh_error *e);
/* Import a backup as volume id (NULL: the id it was exported with). */
int sbx_backup_import(sbx_pool *p, int in_fd, const char *id, uint64_t tenant, uint64_t quota,
                      sh_error *e);

/* "1048576", "512K", "10M", "1G", "2T" (powers of 1024; "MiB"/"MB" read the
 * same), "none" or "0" for no limit.  Returns 0 or -EINVAL. */
int sbx_parse_size(const char *s, uint64_t *out);
