/* Inside the storage module: the pool object and the btrfs layer. */
#pragma once

#include <stdint.h>
#include "storage.h"

enum pool_source { POOL_LOOP, POOL_BLOCK, POOL_DIR };
enum quota_mode { QUOTA_NONE, QUOTA_FULL, QUOTA_SIMPLE };

struct sbx_pool {
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

/* Small JSON metadata files next to images and volumes, written atomically. */
int pool_meta_write(int dirfd, const char *name, const char *json_text, sh_error *e);
int pool_meta_read(int dirfd, const char *name, char **text, sh_error *e);

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
