/* Backups: one tar.zst per volume, portable between hosts and drivers.
 *   backup.json            {format, id, tenant, quota, image, origin, created, snapshots}
 *   rootfs/...             the volume's tree (ids as stored: 0..65535)
 *   snapshots/<name>/...   each snapshot's tree
 * Export reads the driver's read-only view of each tree (btrfs: a snapshot
 * taken for it, so a running container gives a crash-consistent copy;
 * overlay: a copy of the upper, shifted to container ids, over the image).  Import builds everything below tmp/ and
 * moves it into place only once the whole archive has been read. */
#include "storage-internal.h"
#include "archive-io.h"
#include "cleanup.h"
#include "fdutil.h"
#include "jsonutil.h"
#include "rmtree.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BACKUP_FORMAT 1
#define MAX_SNAPSHOTS 256

/* Write the tree dirfd/name as the container sees it (the driver's
 * read-only view) below prefix. */
static int export_one(sbx_pool *p, sh_archive_writer *w, int tmpfd, int dirfd, const char *name,
                      const char *prefix, sh_error *e)
{
  char stage[64];
  pool_tmp_name("export", stage);
  int treefd = -1;
  int r = p->drv->export_view(p, dirfd, name, tmpfd, stage, &treefd, e);
  if (r == 0)
    r = sh_archive_write_tree(w, treefd, prefix, e);
  if (treefd >= 0)
    close(treefd);
  sh_error ignored = {0};
  p->drv->remove(p, tmpfd, stage, &ignored);
  return r;
}

static int export_trees(sbx_pool *p, int tmpfd, int ctrfd, const char *id, int sd, json_t *snaps,
                        const char *header, int out_fd, sh_error *e)
{
  _cleanup_(sh_archive_writer_freep) sh_archive_writer *w = NULL;
  int r = sh_archive_writer_new(out_fd, SH_COMPRESS_ZSTD, &w, e);
  if (r < 0 || (r = sh_archive_write_blob(w, "backup.json", header, strlen(header), 0644, e)) < 0 ||
      (r = export_one(p, w, tmpfd, ctrfd, id, "rootfs", e)) < 0)
    return r;
  for (size_t i = 0; i < json_array_size(snaps); i++) {
    const char *name = json_string_value(json_array_get(snaps, i));
    char prefix[128];
    snprintf(prefix, sizeof prefix, "snapshots/%s", name);
    if ((r = export_one(p, w, tmpfd, sd, name, prefix, e)) < 0)
      return r;
  }
  return sh_archive_writer_close(steal_ptr(w), e);
}

int sbx_backup_export(sbx_pool *p, const char *id, bool snapshots, int out_fd, sh_error *e)
{
  int r = pool_check_name("volume id", id, e);
  if (r < 0)
    return r;
  _cleanup_close_ int ctrfd = pool_subdir(p, "containers", e);
  _cleanup_close_ int tmpfd = pool_subdir(p, "tmp", e);
  if (ctrfd < 0 || tmpfd < 0)
    return ctrfd < 0 ? ctrfd : tmpfd;
  char meta_name[80];
  snprintf(meta_name, sizeof meta_name, "%s.json", id);
  _cleanup_free_ char *meta_text = NULL;
  if ((r = pool_meta_read(ctrfd, meta_name, &meta_text, e)) < 0)
    return r == -ENOENT ? sh_err(e, ENOENT, "export volume", id, "no such volume") : r;
  _cleanup_json_ json_t *meta = json_loads(meta_text, 0, NULL);
  _cleanup_json_ json_t *snaps = json_array();
  if (!meta || !snaps)
    return sh_err(e, EINVAL, "parse volume metadata", meta_name, NULL);

  _cleanup_close_ int sd = -1;
  if (snapshots) {
    _cleanup_close_ int sroot = pool_subdir(p, "snapshots", e);
    if (sroot < 0)
      return sroot;
    sd = openat(sroot, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_strv_ char **names = NULL;
    if (sd >= 0 && (r = pool_list_dirs(sd, false, &names, e)) < 0)
      return r;
    for (char **n = names; n && *n; n++)
      json_array_append_new(snaps, json_string(*n));
  }
  json_object_set(meta, "snapshots", snaps);
  json_object_set_new(meta, "format", json_integer(BACKUP_FORMAT));
  json_object_set_new(meta, "exported", json_integer((json_int_t) time(NULL)));
  _cleanup_free_ char *header = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS);
  if (!header)
    return sh_err(e, ENOMEM, "export volume", id, NULL);

  return export_trees(p, tmpfd, ctrfd, id, sd, snaps, header, out_fd, e);
}

/* ---- import ---- */

struct import_ctx {
  sbx_pool *p;
  uint64_t tenant;
  int stagefd;       /* tmp/<stage>: a plain directory */
  int rootfd;        /* stage/rootfs subvolume */
  struct { char name[65]; int fd; } snaps[MAX_SNAPSHOTS];
  size_t n_snaps;
  sh_error *e;
};

/* Route each member of the archive to the tree it belongs to, making a
 * snapshot's staging subvolume when its first member shows up. */
static int route(void *ud, const char *path, int *dirfd, const char **rel)
{
  struct import_ctx *c = ud;
  if (strcmp(path, "backup.json") == 0) {
    *dirfd = c->stagefd;
    *rel = path;
    return 1;
  }
  if (strcmp(path, "rootfs") == 0 || strcmp(path, "rootfs/") == 0 || strcmp(path, "snapshots") == 0 ||
      strcmp(path, "snapshots/") == 0)
    return 0;
  if (strncmp(path, "rootfs/", 7) == 0) {
    *dirfd = c->rootfd;
    *rel = path + 7;
    return 1;
  }
  if (strncmp(path, "snapshots/", 10) == 0) {
    const char *name = path + 10, *slash = strchr(name, '/');
    size_t n = slash ? (size_t) (slash - name) : strlen(name);
    char snap[80];
    snprintf(snap, sizeof snap, "%.*s", (int) (n < 70 ? n : 70), name);
    int r = pool_check_name("backup snapshot name", snap, c->e);
    if (r < 0)
      return r;
    size_t i = 0;
    while (i < c->n_snaps && strcmp(c->snaps[i].name, snap) != 0)
      i++;
    if (i == c->n_snaps) {
      if (c->n_snaps == MAX_SNAPSHOTS)
        return sh_err(c->e, E2BIG, "import backup", path, "more than %d snapshots", MAX_SNAPSHOTS);
      char sub[80];
      snprintf(sub, sizeof sub, "snap-%s", snap);
      int fd = -1;
      if ((r = c->p->drv->stage(c->p, c->stagefd, sub, c->tenant, &fd, c->e)) < 0)
        return r;
      snprintf(c->snaps[i].name, sizeof c->snaps[i].name, "%s", snap);
      c->snaps[i].fd = fd;
      c->n_snaps++;
    }
    if (!slash || !slash[1])
      return 0;
    *dirfd = c->snaps[i].fd;
    *rel = slash + 1;
    return 1;
  }
  return sh_err(c->e, EINVAL, "import backup", path,
                "not part of a Sandhost backup (backup.json, rootfs/, snapshots/)");
}

static void import_ctx_done(struct import_ctx *c)
{
  for (size_t i = 0; i < c->n_snaps; i++)
    close(c->snaps[i].fd);
  if (c->rootfd >= 0)
    close(c->rootfd);
  if (c->stagefd >= 0)
    close(c->stagefd);
}

static int place(sbx_pool *p, struct import_ctx *c, const char *id,
                 const char *orig_id, uint64_t quota, json_t *hdr, sh_error *e)
{
  _cleanup_close_ int ctrfd = pool_subdir(p, "containers", e);
  _cleanup_close_ int sroot = pool_subdir(p, "snapshots", e);
  if (ctrfd < 0 || sroot < 0)
    return ctrfd < 0 ? ctrfd : sroot;
  char meta_name[80];
  snprintf(meta_name, sizeof meta_name, "%s.json", id);
  if (faccessat(ctrfd, meta_name, F_OK, 0) == 0 || faccessat(ctrfd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return sh_err(e, EEXIST, "import backup", id, "a volume of this id exists");
  int r;
  if (c->n_snaps) {
    if (mkdirat(sroot, id, 0700) < 0 && errno != EEXIST)
      return sh_errno(e, "create snapshot directory", id);
    _cleanup_close_ int sd = pool_open_dir(sroot, id, e);
    if (sd < 0)
      return sd;
    for (size_t i = 0; i < c->n_snaps; i++) {
      char sub[80];
      snprintf(sub, sizeof sub, "snap-%s", c->snaps[i].name);
      /* btrfs cannot move a read-only subvolume: seal it in place after. */
      if (renameat(c->stagefd, sub, sd, c->snaps[i].name) < 0)
        return sh_errno(e, "move snapshot into place", c->snaps[i].name);
      if ((r = p->drv->seal(sd, c->snaps[i].name, e)) < 0)
        return r;
    }
  }
  if ((r = p->drv->quota(p, c->stagefd, "rootfs", quota, e)) < 0)
    return r;
  if (renameat(c->stagefd, "rootfs", ctrfd, id) < 0)
    return sh_errno(e, "move volume into place", id);
  const char *image = json_string_value(json_object_get(hdr, "image"));
  char origin[160];
  snprintf(origin, sizeof origin, "backup:%s", orig_id);
  _cleanup_json_ json_t *m = json_pack("{s:s,s:I,s:I,s:s,s:s,s:I}", "id", id, "tenant",
                                       (json_int_t) c->tenant, "quota", (json_int_t) quota,
                                       "image", image ? image : "", "origin", origin,
                                       "created", (json_int_t) time(NULL));
  _cleanup_free_ char *text = m ? json_dumps(m, JSON_INDENT(2)) : NULL;
  if (!text)
    return sh_err(e, ENOMEM, "write volume metadata", id, NULL);
  return pool_meta_write(ctrfd, meta_name, text, e);
}

int sbx_backup_import(sbx_pool *p, int in_fd, const char *id, uint64_t tenant, uint64_t quota,
                      sh_error *e)
{
  if (id) {
    int r = pool_check_name("volume id", id, e);
    if (r < 0)
      return r;
  }
  int r = pool_check_watermark(p, "import backup", e);
  if (r < 0)
    return r;
  _cleanup_close_ int tmpfd = pool_subdir(p, "tmp", e);
  if (tmpfd < 0)
    return tmpfd;
  char stage[64];
  pool_tmp_name("backup", stage);
  if (mkdirat(tmpfd, stage, 0700) < 0)
    return sh_errno(e, "create staging", stage);
  _cleanup_(import_ctx_done) struct import_ctx c = { .p = p, .tenant = tenant, .stagefd = -1,
                                                     .rootfd = -1, .e = e };
  _cleanup_json_ json_t *hdr = NULL;
  /* Declared before the first goto: a jump into its scope would free an
   * indeterminate pointer at "fail". */
  _cleanup_free_ char *text = NULL;
  if ((c.stagefd = pool_open_dir(tmpfd, stage, e)) < 0) {
    r = c.stagefd;
    goto fail;
  }
  if ((r = p->drv->stage(p, c.stagefd, "rootfs", tenant, &c.rootfd, e)) < 0)
    goto fail;
  if (fchmod(c.rootfd, 0755) < 0) {
    r = sh_errno(e, "chmod", "rootfs");
    goto fail;
  }
  struct sh_extract_opts xo = { .route = route, .route_ud = &c };
  struct sh_extract_stats st = {0};
  if ((r = sh_archive_extract(in_fd, c.rootfd, &xo, &st, e)) < 0)
    goto fail;

  if ((r = pool_meta_read(c.stagefd, "backup.json", &text, e)) < 0) {
    r = sh_err(e, EINVAL, "import backup", "backup.json", "missing: not a Sandhost backup");
    goto fail;
  }
  json_error_t je;
  hdr = json_loads(text, 0, &je);
  int64_t format = 0;
  const char *orig_id = NULL;
  if (!hdr) {
    r = sh_err(e, EINVAL, "import backup", "backup.json", "%s", je.text);
    goto fail;
  }
  if ((r = sh_json_get_i64(hdr, "format", "backup.json", &format, e)) < 0 ||
      (r = sh_json_get_str(hdr, "id", "backup.json", &orig_id, e)) < 0)
    goto fail;
  if (format != BACKUP_FORMAT || !orig_id) {
    r = sh_err(e, EINVAL, "import backup", "backup.json.format",
               "format %" PRId64 " (this build reads %d)", format, BACKUP_FORMAT);
    goto fail;
  }
  if (!id && (r = pool_check_name("backup.json.id", orig_id, e)) < 0)
    goto fail;
  /* Every snapshot the header lists must have come, and nothing else. */
  json_t *listed = json_object_get(hdr, "snapshots");
  size_t n_listed = json_is_array(listed) ? json_array_size(listed) : 0;
  for (size_t i = 0; i < n_listed; i++) {
    const char *name = json_string_value(json_array_get(listed, i));
    size_t k = 0;
    while (name && k < c.n_snaps && strcmp(c.snaps[k].name, name) != 0)
      k++;
    if (!name || k == c.n_snaps) {
      r = sh_err(e, EINVAL, "import backup", "backup.json.snapshots",
                 "snapshot '%s' is listed but not in the archive", name ? name : "?");
      goto fail;
    }
  }
  if (n_listed != c.n_snaps) {
    r = sh_err(e, EINVAL, "import backup", "snapshots/", "%zu snapshot trees, %zu listed",
               c.n_snaps, n_listed);
    goto fail;
  }
  if ((r = place(p, &c, id ? id : orig_id, orig_id, quota, hdr, e)) < 0)
    goto fail;
  {
    sh_error ignored = {0};
    import_ctx_done(&c);
    c = (struct import_ctx){ .stagefd = -1, .rootfd = -1 };
    sh_rmtree_at(tmpfd, stage, &ignored);
  }
  return 0;
fail:
  import_ctx_done(&c);
  c = (struct import_ctx){ .stagefd = -1, .rootfd = -1 };
  {
    /* The driver's trees first (rmtree would refuse subvolumes), then the directory. */
    sh_error ignored = {0};
    _cleanup_close_ int sfd = openat(tmpfd, stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_strv_ char **names = NULL;
    if (sfd >= 0 && pool_list_dirs(sfd, false, &names, &ignored) == 0)
      for (char **n = names; *n; n++)
        p->drv->remove(p, sfd, *n, &ignored);
    sh_rmtree_at(tmpfd, stage, &ignored);
  }
  return r;
}
