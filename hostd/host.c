/* The host's storage and runtime, set up once at start. */
#include "host.h"
#include "cleanup.h"

#include "db.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

void hd_container_ref(int64_t id, char out[24])
{
  snprintf(out, 24, "c%" PRId64, id);
}

static int dir(const char *path, mode_t mode, sh_error *e)
{
  if (mkdir(path, mode) < 0 && errno != EEXIST)
    return sh_errno(e, "create directory", path);
  struct stat st;
  if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
    return sh_err(e, ENOTDIR, "create directory", path, "exists and is not a directory");
  return 0;
}

/* A helper binary: as configured, else the first of rel (relative to
 * sandhostd's directory: installed side by side, or the build tree) that
 * exists, else fallback. */
static void find_beside(const char *configured, const char *const *rel, size_t n_rel, const char *fallback, char out[300])
{
  if (configured[0]) {
    snprintf(out, 300, "%s", configured);
    return;
  }
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  char *slash = n > 0 ? (self[n] = 0, strrchr(self, '/')) : NULL;
  if (slash) {
    *slash = 0;
    for (size_t i = 0; i < n_rel; i++) {
      snprintf(out, 300, "%s/%s", self, rel[i]);
      if (access(out, X_OK) == 0)
        return;
    }
  }
  snprintf(out, 300, "%s", fallback);
}

/* The runtime: next to sandhostd or in the build tree's sandbox/, else sbx
 * on PATH; the probe: the build tree's, or libexec's. */
static void find_helpers(struct hd_host *h)
{
  static const char *const sbx[] = { "sbx", "../sandbox/sbx", "../bin/sbx" };
  static const char *const probe[] = { "../policy/probe/sandhost-probe", "../libexec/sandhost/sandhost-probe" };
  find_beside(h->cfg.sbx, sbx, SH_ARRAY_SIZE(sbx), "sbx", h->sbx);
  find_beside(h->cfg.probe, probe, SH_ARRAY_SIZE(probe), "", h->probe);
  if (h->probe[0] && access(h->probe, X_OK) < 0)
    h->probe[0] = 0;
}

/* The pin directory must be on bpffs: a directory of a bpffs (production:
 * /sys/fs/bpf is one), or else a bpffs instance of our own mounted there. */
static int bpf_dir(const char *path, sh_error *e)
{
  struct statfs fs;
  if (statfs(path, &fs) == 0 && fs.f_type == BPF_FS_MAGIC)
    return 0;
  char parent[300];
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent)
    *slash = 0;
  if (statfs(parent, &fs) == 0 && fs.f_type == BPF_FS_MAGIC)
    return dir(path, 0700, e);
  int r = dir(path, 0700, e);
  if (r < 0)
    return r;
  if (mount("bpf", path, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
    return sh_errno(e, "mount bpffs", path);
  return 0;
}

int hd_host_paths(struct hd_host *h, sh_error *e)
{
  char pools[300];
  snprintf(h->db_path, sizeof h->db_path, "%s/sandhost.db", h->cfg.state_dir);
  snprintf(pools, sizeof pools, "%s/pools", h->cfg.state_dir);
  snprintf(h->pool_dir, sizeof h->pool_dir, "%s/default", pools);
  snprintf(h->bundles, sizeof h->bundles, "%s/bundles", h->cfg.state_dir);
  snprintf(h->sbx_root, sizeof h->sbx_root, "%s/sbx", h->cfg.runtime_dir);
  find_helpers(h);
  /* Pins go where the host keeps bpffs (systemd mounts /sys/fs/bpf);
   * without one, on a bpffs instance of our own in the runtime directory.
   * Either way they live until reboot, past any daemon restart. */
  struct statfs fs;
  if (!h->cfg.bpf_dir[0])
    snprintf(h->cfg.bpf_dir, sizeof h->cfg.bpf_dir, "%s",
             statfs("/sys/fs/bpf", &fs) == 0 && fs.f_type == BPF_FS_MAGIC ? "/sys/fs/bpf/sandhost" : "");
  if (!h->cfg.bpf_dir[0])
    snprintf(h->cfg.bpf_dir, sizeof h->cfg.bpf_dir, "%s/bpf", h->cfg.runtime_dir);
  int r;
  if ((r = dir(h->cfg.state_dir, 0700, e)) < 0 || (r = dir(h->cfg.runtime_dir, 0755, e)) < 0 ||
      (r = dir(pools, 0700, e)) < 0 || (r = dir(h->bundles, 0700, e)) < 0 || (r = dir(h->sbx_root, 0700, e)) < 0 ||
      (r = bpf_dir(h->cfg.bpf_dir, e)) < 0)
    return r;
  return 0;
}

int hd_host_open_pool(struct hd_host *h, sqlite3 *db, sh_error *e)
{
  int r = sbx_pool_open(h->pool_dir, &h->pool, e);
  if (r == -ENOENT) {
    sh_error_clear(e);
    struct sbx_pool_config pc = { .driver = h->cfg.pool_driver, .size = h->cfg.pool_size };
    sh_info("first start: creating the default storage pool in %s (%s)", h->pool_dir, pc.driver);
    if ((r = sbx_pool_create(h->pool_dir, &pc, e)) < 0)
      return r;
    r = sbx_pool_open(h->pool_dir, &h->pool, e);
  }
  if (r < 0)
    return r;
  struct sbx_image_info img;
  if ((r = sbx_image_find(h->pool, "busybox", &img, e)) == -ENOENT) {
    sh_error_clear(e);
    sh_info("first start: building the busybox image");
    r = sbx_image_build(h->pool, "busybox", NULL, &img, e);
  }
  if (r < 0)
    return r;
  /* The database lists what the pool holds (by name). */
  r = hd_db_exec(db, e, "INSERT OR IGNORE INTO images (name, description, created_at) VALUES (?, ?, ?)", "tti", img.name,
                 "BusyBox from Debian's busybox-static: a shell and the basic tools", (int64_t) img.created);
  return r < 0 ? r : 0;
}

void hd_host_close(struct hd_host *h)
{
  if (h->pool)
    sbx_pool_close(h->pool);
  h->pool = NULL;
}
