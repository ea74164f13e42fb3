/* The overlay driver: a pool on any directory.  An image is a plain tree,
 * the read-only lower layer of every container made from it; a container
 * volume is a directory holding its own upper and work dirs:
 *
 *   containers/<id>/upper      what the container changed (copy-up, new files, whiteouts)
 *   containers/<id>/work       overlayfs's scratch dir
 *   containers/<id>/layer.json {lower, projid, uid_map, gid_map}
 *
 * The lower is idmapped into the container's range for each mount, so the
 * image is shared and never chowned.  The upper cannot be idmapped in an
 * overlay mounted from the host, so its files are stored with the host ids
 * of the range it was last mounted for (layer.json's maps; none: container
 * ids, as after a create or a backup import).  Mounting for another range
 * makes a shifted copy of the upper first and swaps it in: a one-time cost
 * reported to the caller.  Snapshots and clones are copies of the upper
 * (reflinked where the filesystem can).  Quotas are project quotas: every
 * volume and snapshot directory gets its own project id, inherited by all
 * it holds; a filesystem without them refuses quota requests. */
#include "storage-internal.h"
#include "cleanup.h"
#include "fdutil.h"
#include "jsonutil.h"
#include "rmtree.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/quota.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_MAPS 16
#define FIRST_PROJID 100000
#define EMPTY_LOWER "lower-empty"

struct layer {
  char lower[65];   /* image id; "": no image (a backup import's full tree) */
  uint32_t projid;  /* 0: none (no project quotas here) */
  struct sbx_idmap uid[MAX_MAPS], gid[MAX_MAPS];
  size_t n_uid, n_gid;
};

/* ---- layer.json ---- */

static int maps_from_json(json_t *a, const char *what, struct sbx_idmap *m, size_t *n, sh_error *e)
{
  *n = 0;
  if (!a)
    return 0;
  if (!json_is_array(a) || json_array_size(a) > MAX_MAPS)
    return sh_err(e, EINVAL, "parse layer.json", what, "must be an array of at most %d [container, host, size]", MAX_MAPS);
  for (size_t i = 0; i < json_array_size(a); i++) {
    json_t *t = json_array_get(a, i);
    json_int_t v[3];
    if (!json_is_array(t) || json_array_size(t) != 3)
      return sh_err(e, EINVAL, "parse layer.json", what, "entry %zu is not [container, host, size]", i);
    for (int k = 0; k < 3; k++) {
      v[k] = json_integer_value(json_array_get(t, (size_t) k));
      if (!json_is_integer(json_array_get(t, (size_t) k)) || v[k] < 0 || v[k] > UINT32_MAX)
        return sh_err(e, EINVAL, "parse layer.json", what, "entry %zu: ids are 0 to 2^32-1", i);
    }
    m[i] = (struct sbx_idmap){ (uint32_t) v[0], (uint32_t) v[1], (uint32_t) v[2] };
  }
  *n = json_array_size(a);
  return 0;
}

static json_t *maps_to_json(const struct sbx_idmap *m, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++)
    json_array_append_new(a, json_pack("[I,I,I]", (json_int_t) m[i].container_id,
                                       (json_int_t) m[i].host_id, (json_int_t) m[i].size));
  return a;
}

static int layer_read(int dirfd, const char *name, struct layer *l, sh_error *e)
{
  _cleanup_close_ int fd = pool_open_dir(dirfd, name, e);
  if (fd < 0)
    return fd;
  _cleanup_json_ json_t *j = NULL;
  int r = pool_meta_load(fd, "layer.json", "layer.json", &j, e);
  if (r < 0)
    return r;
  const char *lower = "";
  uint64_t projid = 0;
  *l = (struct layer){0};
  if ((r = sh_json_get_str(j, "lower", "layer.json", &lower, e)) < 0 ||
      (r = sh_json_get_u64(j, "projid", "layer.json", &projid, e)) < 0 ||
      (r = maps_from_json(json_object_get(j, "uid_map"), "layer.json.uid_map", l->uid, &l->n_uid, e)) < 0 ||
      (r = maps_from_json(json_object_get(j, "gid_map"), "layer.json.gid_map", l->gid, &l->n_gid, e)) < 0)
    return r;
  if (lower[0] && pool_check_name("layer.json.lower", lower, e) < 0)
    return -EINVAL;
  snprintf(l->lower, sizeof l->lower, "%s", lower);
  l->projid = (uint32_t) projid;
  return 0;
}

static int layer_write(int volfd, const struct layer *l, sh_error *e)
{
  _cleanup_json_ json_t *j = json_pack("{s:s,s:I,s:o,s:o}", "lower", l->lower, "projid",
                                       (json_int_t) l->projid, "uid_map", maps_to_json(l->uid, l->n_uid),
                                       "gid_map", maps_to_json(l->gid, l->n_gid));
  _cleanup_free_ char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
  if (!text)
    return sh_err(e, ENOMEM, "write layer.json", NULL, NULL);
  return pool_meta_write(volfd, "layer.json", text, e);
}

/* ---- project quotas ---- */

static int quotactl_fd(int fd, unsigned cmd, uint32_t id, void *addr)
{
  /* QCMD() shifts a signed int past its top bit (UBSan); the same bits, unsigned. */
  unsigned qcmd = ((unsigned) cmd << SUBCMDSHIFT) | (PRJQUOTA & SUBCMDMASK);
  return (int) syscall(SYS_quotactl_fd, fd, qcmd, id, addr);
}

/* A project id no other volume or snapshot of the pool has: a counter in
 * the data root, under a lock, so concurrent creates never share one. */
static int projid_alloc(sbx_pool *p, uint32_t *out, sh_error *e)
{
  *out = 0;
  if (p->qmode != QUOTA_PROJECT)
    return 0;
  _cleanup_close_ int fd = openat(p->datafd, ".projid", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return sh_errno(e, "open project id counter", ".projid");
  if (flock(fd, LOCK_EX) < 0)
    return sh_errno(e, "lock project id counter", ".projid");
  char buf[16] = "";
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  uint32_t last = n > 0 ? (uint32_t) strtoul(buf, NULL, 10) : 0;
  uint32_t id = last < FIRST_PROJID ? FIRST_PROJID : last + 1;
  int len = snprintf(buf, sizeof buf, "%u\n", id);
  if (pwrite(fd, buf, (size_t) len, 0) != len || ftruncate(fd, len) < 0 || fsync(fd) < 0)
    return sh_errno(e, "write project id counter", ".projid");
  *out = id;
  return 0;
}

/* The project of a directory, inherited by everything made below it. */
static int projid_set(int fd, const char *name, uint32_t projid, sh_error *e)
{
  if (!projid)
    return 0;
  struct fsxattr fa;
  if (ioctl(fd, FS_IOC_FSGETXATTR, &fa) < 0)
    return sh_errno(e, "read project of", name);
  fa.fsx_projid = projid;
  fa.fsx_xflags |= FS_XFLAG_PROJINHERIT;
  if (ioctl(fd, FS_IOC_FSSETXATTR, &fa) < 0)
    return sh_errno(e, "set project of", name);
  return 0;
}

static int project_limit(sbx_pool *p, uint32_t projid, uint64_t bytes, const char *what, sh_error *e)
{
  struct if_dqblk q = {
    .dqb_bhardlimit = (bytes + QIF_DQBLKSIZE - 1) / QIF_DQBLKSIZE,
    .dqb_bsoftlimit = (bytes + QIF_DQBLKSIZE - 1) / QIF_DQBLKSIZE,
    .dqb_valid = QIF_BLIMITS,
  };
  if (quotactl_fd(p->datafd, Q_SETQUOTA, projid, &q) < 0)
    return sh_errno(e, "set project quota", what);
  return 0;
}

/* ---- the driver ---- */

static int ov_probe(sbx_pool *p, bool create, sh_error *e)
{
  (void) create;
  (void) e;
  struct if_dqinfo info;
  p->qmode = quotactl_fd(p->datafd, Q_GETINFO, 0, &info) == 0 ? QUOTA_PROJECT : QUOTA_NONE;
  if (mkdirat(p->datafd, EMPTY_LOWER, 0755) < 0 && errno != EEXIST)
    return sh_errno(e, "create empty lower", EMPTY_LOWER);
  return 0;
}

static int ov_image_new(sbx_pool *p, int dirfd, const char *name, sh_error *e)
{
  (void) p;
  return mkdirat(dirfd, name, 0755) < 0 ? sh_errno(e, "create image tree", name) : 0;
}

/* Images stay writable to root only (the pool dir is 0700); overlayfs never
 * writes to a lower layer. */
static int ov_seal(int dirfd, const char *name, sh_error *e)
{
  (void) dirfd;
  (void) name;
  (void) e;
  return 0;
}

static int ov_remove(sbx_pool *p, int dirfd, const char *name, sh_error *e)
{
  (void) p;
  return sh_rmtree_at(dirfd, name, e);
}

/* dirfd/name as a new volume directory with its own project; returns its fd. */
static int vol_dir(sbx_pool *p, int dirfd, const char *name, struct layer *l, sh_error *e)
{
  int r = projid_alloc(p, &l->projid, e);
  if (r < 0)
    return r;
  if (mkdirat(dirfd, name, 0700) < 0)
    return sh_errno(e, "create volume directory", name);
  int fd = pool_open_dir(dirfd, name, e);
  if (fd < 0)
    return fd;
  if ((r = projid_set(fd, name, l->projid, e)) < 0) {
    close(fd);
    return r;
  }
  return fd;
}

/* Fill a fresh volume dir: upper (given its root's owner and mode), work,
 * layer.json last. */
static int vol_finish(int vfd, const char *name, const struct layer *l, const struct stat *root,
                      bool with_upper, bool with_work, sh_error *e)
{
  if (with_upper) {
    if (mkdirat(vfd, "upper", 0755) < 0)
      return sh_errno(e, "create upper", name);
    if (root && (fchownat(vfd, "upper", root->st_uid, root->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                 fchmodat(vfd, "upper", root->st_mode & 07777, 0) < 0))
      return sh_errno(e, "set owner of upper", name);
  }
  if (with_work && mkdirat(vfd, "work", 0700) < 0)
    return sh_errno(e, "create work", name);
  return layer_write(vfd, l, e);
}

static int failed(int dirfd, const char *name, int r)
{
  sh_error ignored = {0};
  sh_rmtree_at(dirfd, name, &ignored);
  return r;
}

static int ov_from_image(sbx_pool *p, int imgfd, const char *image, int dirfd, const char *name,
                         uint64_t tenant, sh_error *e)
{
  (void) tenant;
  struct stat root;
  if (fstatat(imgfd, image, &root, AT_SYMLINK_NOFOLLOW) < 0)
    return sh_errno(e, "stat image", image);
  struct layer l = {0};
  snprintf(l.lower, sizeof l.lower, "%s", image);
  _cleanup_close_ int vfd = vol_dir(p, dirfd, name, &l, e);
  if (vfd < 0)
    return vfd;
  int r = vol_finish(vfd, name, &l, &root, true, true, e);
  return r < 0 ? failed(dirfd, name, r) : 0;
}

static int ov_copy(sbx_pool *p, int srcfd, int dirfd, const char *name, bool ro, uint64_t tenant,
                   sh_error *e)
{
  (void) tenant;
  struct layer l;
  int r = layer_read(srcfd, ".", &l, e);
  if (r < 0)
    return r;
  _cleanup_close_ int vfd = vol_dir(p, dirfd, name, &l, e);
  if (vfd < 0)
    return vfd;
  if ((r = pool_copy_tree(srcfd, "upper", vfd, "upper", NULL, NULL, e)) < 0 ||
      (r = vol_finish(vfd, name, &l, NULL, false, !ro, e)) < 0)
    return failed(dirfd, name, r);
  return 0;
}

static int ov_stage(sbx_pool *p, int dirfd, const char *name, uint64_t tenant, int *rootfd, sh_error *e)
{
  (void) tenant;
  struct layer l = {0};
  _cleanup_close_ int vfd = vol_dir(p, dirfd, name, &l, e);
  if (vfd < 0)
    return vfd;
  int r = vol_finish(vfd, name, &l, NULL, true, true, e);
  if (r < 0 || (*rootfd = pool_open_dir(vfd, "upper", e)) < 0)
    return failed(dirfd, name, r < 0 ? r : *rootfd);
  return 0;
}

static int ov_quota(sbx_pool *p, int dirfd, const char *name, uint64_t bytes, sh_error *e)
{
  if (p->qmode != QUOTA_PROJECT)
    return bytes ? sh_err(e, EOPNOTSUPP, "set quota", p->data,
                          "the filesystem has no project quotas: mount it with prjquota "
                          "(ext4 made with -O quota,project; xfs) or use a btrfs pool")
                 : 0;
  struct layer l;
  int r = layer_read(dirfd, name, &l, e);
  if (r < 0)
    return r;
  if (!l.projid)
    return sh_err(e, EOPNOTSUPP, "set quota", name, "made before project quotas were on; clone it");
  return project_limit(p, l.projid, bytes, name, e);
}

/* Bytes allocated below fd; an inode with n links counts 1/n per name, so
 * hard links inside the tree are counted once. */
static int du_tree(int fd, uint64_t *bytes, int depth)
{
  int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  _cleanup_closedir_ DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) {
    if (dfd >= 0)
      close(dfd);
    return -errno;
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    struct stat s;
    if (fstatat(fd, de->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    *bytes += (uint64_t) s.st_blocks * 512 / (s.st_nlink && !S_ISDIR(s.st_mode) ? s.st_nlink : 1);
    if (S_ISDIR(s.st_mode) && depth < 512) {
      _cleanup_close_ int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0)
        du_tree(sub, bytes, depth + 1);
    }
  }
  return 0;
}

static int ov_usage(sbx_pool *p, int dirfd, const char *name, struct sbx_usage *u, sh_error *e)
{
  *u = (struct sbx_usage){0};
  struct layer l;
  int r = layer_read(dirfd, name, &l, e);
  if (r < 0)
    return r;
  if (p->qmode == QUOTA_PROJECT && l.projid) {
    struct if_dqblk q = {0};
    if (quotactl_fd(p->datafd, Q_GETQUOTA, l.projid, &q) < 0)
      return sh_errno(e, "read project quota", name);
    u->exclusive = q.dqb_curspace;
    u->limit = q.dqb_bhardlimit * QIF_DQBLKSIZE;
  } else {
    _cleanup_close_ int vfd = pool_open_dir(dirfd, name, e);
    if (vfd < 0)
      return vfd;
    if ((r = du_tree(vfd, &u->exclusive, 0)) < 0)
      return sh_err(e, -r, "measure volume", name, NULL);
  }
  /* What the container sees: its own bytes plus the image it shares. */
  struct sbx_image_info img;
  sh_error ignored = {0};
  u->referenced = u->exclusive + (l.lower[0] && sbx_image_find(p, l.lower, &img, &ignored) == 0 ? img.size : 0);
  return 0;
}

static bool maps_equal(const struct sbx_idmap *a, size_t na, const struct sbx_idmap *b, size_t nb)
{
  if (na != nb)
    return false;
  for (size_t i = 0; i < na; i++)
    if (a[i].container_id != b[i].container_id || a[i].host_id != b[i].host_id || a[i].size != b[i].size)
      return false;
  return true;
}

static double now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

/* Move the upper of containers/<id> to new host ids: a shifted copy beside
 * it (with a project of its own, so both fit under the quota), then one
 * RENAME_EXCHANGE; a crash leaves either tree whole, and the dot-named
 * loser goes at the next open. */
static int shift_volume(sbx_pool *p, int ctrfd, const char *id, struct layer *l,
                        const struct sbx_idmap *uid, size_t n_uid, const struct sbx_idmap *gid,
                        size_t n_gid, struct copy_stats *st, sh_error *e)
{
  if (n_uid > MAX_MAPS || n_gid > MAX_MAPS)
    return sh_err(e, E2BIG, "mount volume", id, "more than %d id map entries", MAX_MAPS);
  double t0 = now_ms();
  char side[80];
  snprintf(side, sizeof side, ".%s.shift", id);
  sh_error ignored = {0};
  sh_rmtree_at(ctrfd, side, &ignored);
  _cleanup_close_ int vol = pool_open_dir(ctrfd, id, e);
  if (vol < 0)
    return vol;
  struct layer nl = *l;
  _cleanup_close_ int sfd = vol_dir(p, ctrfd, side, &nl, e);
  if (sfd < 0)
    return sfd;
  memcpy(nl.uid, uid, n_uid * sizeof *uid);
  memcpy(nl.gid, gid, n_gid * sizeof *gid);
  nl.n_uid = n_uid;
  nl.n_gid = n_gid;
  struct id_shift sh = { .from_uid = l->uid, .n_from_uid = l->n_uid, .from_gid = l->gid,
                         .n_from_gid = l->n_gid, .to_uid = uid, .n_to_uid = n_uid, .to_gid = gid,
                         .n_to_gid = n_gid };
  int r = pool_copy_tree(vol, "upper", sfd, "upper", &sh, st, e);
  if (r == 0)
    r = vol_finish(sfd, side, &nl, NULL, false, true, e);
  /* The limit moves to the new project before the swap. */
  if (r == 0 && p->qmode == QUOTA_PROJECT && l->projid && nl.projid) {
    struct if_dqblk q = {0};
    if (quotactl_fd(p->datafd, Q_GETQUOTA, l->projid, &q) == 0 && q.dqb_bhardlimit)
      r = project_limit(p, nl.projid, q.dqb_bhardlimit * QIF_DQBLKSIZE, id, e);
  }
  if (r == 0 && renameat2(ctrfd, side, ctrfd, id, RENAME_EXCHANGE) < 0)
    r = sh_errno(e, "swap in shifted volume", id);
  if (r < 0)
    return failed(ctrfd, side, r);
  if (p->qmode == QUOTA_PROJECT && l->projid)
    (void) project_limit(p, l->projid, 0, side, &ignored);
  sh_rmtree_at(ctrfd, side, &ignored);
  *l = nl;
  st->ms = now_ms() - t0;
  return 0;
}

static int fs_set(int fs, const char *key, const char *value, const char *id, sh_error *e)
{
  if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value, 0) < 0)
    return sh_err(e, errno, "configure overlay", id, "%s=%s", key, value);
  return 0;
}

/* The kernel's own words on a failed overlay mount. */
static int fs_failed(int fs, const char *step, const char *id, sh_error *e)
{
  int err = errno;
  char msg[512] = "";
  ssize_t n = read(fs, msg, sizeof msg - 1);
  msg[n > 0 ? n : 0] = 0;
  return sh_err(e, err, step, id, "%s", msg[0] ? msg : strerror(err));
}

static int lower_fd(sbx_pool *p, const struct layer *l, sh_error *e)
{
  if (!l->lower[0])
    return pool_open_dir(p->datafd, EMPTY_LOWER, e);
  _cleanup_close_ int imgfd = pool_subdir(p, "images", e);
  return imgfd < 0 ? imgfd : pool_open_dir(imgfd, l->lower, e);
}

/* A new overlay of lowerdir (and upper/work unless NULL) as a detached
 * mount with attrs. */
static int overlay_fs(const char *lowerdir, const char *upper, const char *work, const char *id,
                      unsigned attrs, int *mfd, sh_error *e)
{
  _cleanup_close_ int fs = (int) syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    return sh_err(e, errno, "mount overlay", id, "overlayfs is not available");
  /* No index, metacopy or redirects: an upper must stay a plain tree that
   * can be copied, shifted and backed up on its own. */
  int r;
  if ((r = fs_set(fs, "lowerdir", lowerdir, id, e)) < 0 ||
      (upper && ((r = fs_set(fs, "upperdir", upper, id, e)) < 0 || (r = fs_set(fs, "workdir", work, id, e)) < 0 ||
                 (r = fs_set(fs, "index", "off", id, e)) < 0 ||
                 (r = fs_set(fs, "redirect_dir", "off", id, e)) < 0 ||
                 (r = fs_set(fs, "metacopy", "off", id, e)) < 0)))
    return r;
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return fs_failed(fs, "mount overlay", id, e);
  _cleanup_close_ int m = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
  if (m < 0)
    return sh_errno(e, "mount overlay", id);
  struct mount_attr a = { .propagation = MS_PRIVATE };
  if (syscall(SYS_mount_setattr, m, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
    return sh_errno(e, "make volume mount private", id);
  *mfd = steal_fd(m);
  return 0;
}

/* Kernels before 6.15 or so refuse a detached mount as an overlay layer
 * ("failed to clone lowerpath"): there, a child in a private mount
 * namespace attaches the idmapped lower over lower-empty/, makes the
 * overlay and sends the finished mount back.  Nothing shows in our
 * namespace, and nothing is left if either side dies. */
static int overlay_via_child(sbx_pool *p, int lower, const char *upper, const char *work,
                             const char *id, int *mfd, sh_error *e)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return sh_errno(e, "socketpair", id);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    return sh_errno(e, "fork", id);
  }
  if (pid == 0) {
    /* Its work is for a caller that is there: it dies with it (and with it
     * the copies of the caller's fds it holds, a daemon's sockets among them). */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
      _exit(1);
    sh_error ce = {0};
    int fd = -1;
    char at[4200];
    snprintf(at, sizeof at, "%s/%s", p->data, EMPTY_LOWER);
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
      sh_errno(&ce, "make a private mount namespace", id);
    else if (syscall(SYS_move_mount, lower, "", AT_FDCWD, at, MOVE_MOUNT_F_EMPTY_PATH) < 0)
      sh_errno(&ce, "attach lower", at);
    else
      overlay_fs(at, upper, work, id, MOUNT_ATTR_NODEV, &fd, &ce);
    _exit(sh_send_fd(sv[1], fd, &ce, sizeof ce, "overlay mount", &ce) < 0 ? 1 : 0);
  }
  close(sv[1]);
  sh_error ce = {0};
  int fd = -1;
  int r = sh_recv_fd(sv[0], &fd, &ce, sizeof ce, 0, "overlay mount", e);
  close(sv[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (r < 0)
    return r;
  if (ce.err || fd < 0) {
    if (fd >= 0)
      close(fd);
    *e = ce;
    return -(ce.err ? ce.err : EIO);
  }
  *mfd = fd;
  return 0;
}

static int ov_mount(sbx_pool *p, int ctrfd, const char *id, const struct sbx_idmap *uid, size_t n_uid,
                    const struct sbx_idmap *gid, size_t n_gid, int *mfd, struct copy_stats *shifted,
                    sh_error *e)
{
  *shifted = (struct copy_stats){0};
  struct layer l;
  int r = layer_read(ctrfd, id, &l, e);
  if (r < 0)
    return r;
  if ((!maps_equal(l.uid, l.n_uid, uid, n_uid) || !maps_equal(l.gid, l.n_gid, gid, n_gid)) &&
      (r = shift_volume(p, ctrfd, id, &l, uid, n_uid, gid, n_gid, shifted, e)) < 0)
    return r;
  _cleanup_close_ int userns = sbx_userns_fd(uid, n_uid, gid, n_gid, e);
  _cleanup_close_ int lfd = userns < 0 ? -1 : lower_fd(p, &l, e);
  if (userns < 0 || lfd < 0)
    return userns < 0 ? userns : lfd;
  _cleanup_close_ int lower = pool_idmapped_tree(lfd, l.lower[0] ? l.lower : EMPTY_LOWER, userns, e);
  if (lower < 0)
    return lower;
  char lp[SH_FD_PATH_MAX], upper[4200], work[4200];
  snprintf(upper, sizeof upper, "%s/containers/%s/upper", p->data, id);
  snprintf(work, sizeof work, "%s/containers/%s/work", p->data, id);
  sh_error first = {0};
  r = overlay_fs(sh_fd_path(lower, lp), upper, work, id, MOUNT_ATTR_NODEV, mfd, &first);
  if (r == -EINVAL)
    return overlay_via_child(p, lower, upper, work, id, mfd, e);
  if (r < 0)
    *e = first;
  return r;
}

static bool ov_is_mount(sbx_pool *p, const struct mnt_line *l, const char *id)
{
  if (strcmp(l->fstype, "overlay") != 0)
    return false;
  char want[4200];
  int n = snprintf(want, sizeof want, "upperdir=%s/containers/%s/upper", p->data, id);
  for (const char *o = strstr(l->options, want); o; o = strstr(o + 1, want))
    if ((o == l->options || o[-1] == ',') && (o[n] == ',' || o[n] == 0))
      return true;
  return false;
}

/* A backup reads the merged tree in container ids: shift a copy of the
 * upper back to container ids, then lay it read-only over the image in a
 * detached mount that goes away with the last fd. */
static int ov_export_view(sbx_pool *p, int dirfd, const char *name, int tmpfd, const char *stage,
                          int *treefd, sh_error *e)
{
  struct layer l;
  int r = layer_read(dirfd, name, &l, e);
  if (r < 0)
    return r;
  _cleanup_close_ int src = pool_open_dir(dirfd, name, e);
  if (src < 0)
    return src;
  struct id_shift sh = { .from_uid = l.uid, .n_from_uid = l.n_uid, .from_gid = l.gid, .n_from_gid = l.n_gid };
  if ((r = pool_copy_tree(src, "upper", tmpfd, stage, &sh, NULL, e)) < 0)
    return r;
  char lower[8500];
  if (l.lower[0])
    snprintf(lower, sizeof lower, "%s/tmp/%s:%s/images/%s", p->data, stage, p->data, l.lower);
  else
    snprintf(lower, sizeof lower, "%s/tmp/%s:%s/%s", p->data, stage, p->data, EMPTY_LOWER);
  _cleanup_close_ int m = -1;
  if ((r = overlay_fs(lower, NULL, NULL, name, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, &m, e)) < 0)
    return r;
  *treefd = openat(m, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return *treefd < 0 ? sh_errno(e, "open export view", name) : 0;
}

static bool ov_uses_image(sbx_pool *p, int imgfd, const char *image, int dirfd, const char *name)
{
  (void) p;
  (void) imgfd;
  struct layer l;
  sh_error ignored = {0};
  return layer_read(dirfd, name, &l, &ignored) == 0 && strcmp(l.lower, image) == 0;
}

static void ov_gc(sbx_pool *p)
{
  (void) p;
}

/* overlayfs takes ':' and ',' as separators in its options, and mountinfo
 * escapes blanks and backslashes: such a data path cannot be a pool. */
int overlay_check_path(const char *path, sh_error *e)
{
  if (strpbrk(path, ":, \t\n\\"))
    return sh_err(e, EINVAL, "pool source", path,
                  "an overlay pool's path must not hold ':', ',', blanks or '\\'");
  return 0;
}

const struct pool_driver pool_overlay_driver = {
  .name = "overlay",
  .probe = ov_probe,
  .image_new = ov_image_new,
  .seal = ov_seal,
  .remove = ov_remove,
  .from_image = ov_from_image,
  .copy = ov_copy,
  .stage = ov_stage,
  .quota = ov_quota,
  .usage = ov_usage,
  .tenant_quota = NULL,
  .tenant_usage = NULL,
  .mount = ov_mount,
  .is_mount = ov_is_mount,
  .export_view = ov_export_view,
  .uses_image = ov_uses_image,
  .gc = ov_gc,
};
