/* Images: content-addressed read-only trees (btrfs: subvolumes) with a
 * metadata file.
 * An import builds in tmp/, then renames into images/<sha256> and writes
 * images/<sha256>.json last: the metadata is the commit record, so a crash
 * at any point leaves nothing that the next open does not remove. */
#include "storage-internal.h"
#include "archive-io.h"
#include "cleanup.h"
#include "digest.h"
#include "fdutil.h"
#include "jsonutil.h"
#include "oci-image.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUSYBOX_PATH "/bin/busybox"
#define BUILDER_VERSION "1"

static int info_from_json(const char *text, struct sbx_image_info *out, sh_error *e)
{
  json_error_t je;
  _cleanup_json_ json_t *j = json_loads(text, 0, &je);
  if (!j)
    return sh_err(e, EINVAL, "parse image metadata", NULL, "%s", je.text);
  const char *id = "", *name = "", *arch = "", *source = "";
  uint64_t size = 0;
  int64_t created = 0;
  int r;
  if ((r = sh_json_get_str(j, "id", "image", &id, e)) < 0 ||
      (r = sh_json_get_str(j, "name", "image", &name, e)) < 0 ||
      (r = sh_json_get_str(j, "architecture", "image", &arch, e)) < 0 ||
      (r = sh_json_get_str(j, "source", "image", &source, e)) < 0 ||
      (r = sh_json_get_u64(j, "size", "image", &size, e)) < 0 ||
      (r = sh_json_get_i64(j, "created", "image", &created, e)) < 0)
    return r;
  *out = (struct sbx_image_info){ .size = size, .created = created };
  snprintf(out->id, sizeof out->id, "%s", id);
  snprintf(out->name, sizeof out->name, "%s", name);
  snprintf(out->architecture, sizeof out->architecture, "%s", arch);
  snprintf(out->source, sizeof out->source, "%s", source);
  return 0;
}

static char *info_to_json(const struct sbx_image_info *i)
{
  _cleanup_json_ json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "id", i->id, "name", i->name,
                                       "architecture", i->architecture, "source", i->source,
                                       "size", (json_int_t) i->size, "created", (json_int_t) i->created);
  return j ? json_dumps(j, JSON_INDENT(2)) : NULL;
}

static int read_info(int imgfd, const char *id, struct sbx_image_info *out, sh_error *e)
{
  char meta[80];
  snprintf(meta, sizeof meta, "%s.json", id);
  _cleanup_free_ char *text = NULL;
  int r = pool_meta_read(imgfd, meta, &text, e);
  return r < 0 ? r : info_from_json(text, out, e);
}

/* A staging tree below tmp/: an import in progress. */
struct staging {
  sbx_pool *p;
  int tmpfd;
  int rootfd;
  char name[64];
};

static void staging_done(struct staging *s)
{
  if (s->rootfd >= 0)
    close(s->rootfd);
  if (s->tmpfd >= 0) {
    sh_error ignored = {0};
    if (s->name[0])
      s->p->drv->remove(s->p, s->tmpfd, s->name, &ignored);
    close(s->tmpfd);
  }
}

static int staging_new(sbx_pool *p, struct staging *s, sh_error *e)
{
  *s = (struct staging){ .p = p, .tmpfd = -1, .rootfd = -1 };
  int r = pool_check_watermark(p, "import image", e);
  if (r < 0)
    return r;
  if ((s->tmpfd = pool_subdir(p, "tmp", e)) < 0)
    return s->tmpfd;
  pool_tmp_name("image", s->name);
  if ((r = p->drv->image_new(p, s->tmpfd, s->name, e)) < 0) {
    s->name[0] = 0;
    return r;
  }
  s->rootfd = openat(s->tmpfd, s->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (s->rootfd < 0)
    return sh_errno(e, "open staging", s->name);
  /* Extraction makes no root dir entry: give / the usual owner and mode. */
  if (fchmod(s->rootfd, 0755) < 0)
    return sh_errno(e, "chmod staging", s->name);
  return 0;
}

/* Seal the staging tree and commit it as images/<info->id>.  An image that
 * is already there wins (same content): ours is dropped. */
static int staging_commit(struct staging *s, struct sbx_image_info *info, sh_error *e)
{
  sbx_pool *p = s->p;
  _cleanup_close_ int imgfd = pool_subdir(p, "images", e);
  if (imgfd < 0)
    return imgfd;
  struct sbx_image_info existing;
  sh_error ignored = {0};
  if (read_info(imgfd, info->id, &existing, &ignored) == 0) {
    *info = existing;
    return 0;
  }
  info->created = (int64_t) time(NULL);
  close(s->rootfd);
  s->rootfd = -1;
  /* A dir without metadata is a leftover of a crash: replace it. */
  (void) p->drv->remove(p, imgfd, info->id, &ignored);
  /* Rename before sealing: btrfs cannot move a read-only subvolume. */
  if (renameat(s->tmpfd, s->name, imgfd, info->id) < 0)
    return sh_errno(e, "commit image", info->id);
  s->name[0] = 0;
  _cleanup_free_ char *text = info_to_json(info);
  char meta[80];
  snprintf(meta, sizeof meta, "%s.json", info->id);
  int r = p->drv->seal(imgfd, info->id, e);
  if (r == 0 && !text)
    r = sh_err(e, ENOMEM, "write image metadata", meta, NULL);
  else if (r == 0)
    r = pool_meta_write(imgfd, meta, text, e);
  if (r < 0)
    (void) p->drv->remove(p, imgfd, info->id, &ignored);
  return r;
}

static void default_name(const char *path, char *out, size_t len)
{
  const char *b = strrchr(path, '/');
  b = b && b[1] ? b + 1 : path;
  snprintf(out, len, "%s", b);
  static const char *const exts[] = { ".tar.gz", ".tar.xz", ".tar.zst", ".tar.bz2", ".tgz", ".tar" };
  for (size_t i = 0; i < SH_ARRAY_SIZE(exts); i++) {
    size_t n = strlen(out), x = strlen(exts[i]);
    if (n > x && strcmp(out + n - x, exts[i]) == 0) {
      out[n - x] = 0;
      break;
    }
  }
}

static int import_tar_fd(sbx_pool *p, int fd, const char *source, const char *hex,
                         const struct sbx_import_opts *o, struct sbx_image_info *out, sh_error *e)
{
  _cleanup_(staging_done) struct staging s;
  int r = staging_new(p, &s, e);
  if (r < 0)
    return r;
  struct sh_extract_opts xo = { .limits.max_bytes = o ? o->max_bytes : 0 };
  struct sh_extract_stats st = {0};
  if (lseek(fd, 0, SEEK_SET) < 0)
    return sh_errno(e, "rewind", source);
  if ((r = sh_archive_extract(fd, s.rootfd, &xo, &st, e)) < 0)
    return r;
  struct sbx_image_info info = { .size = st.bytes };
  snprintf(info.id, sizeof info.id, "%s", hex);
  if (o && o->name)
    snprintf(info.name, sizeof info.name, "%s", o->name);
  else
    default_name(source, info.name, sizeof info.name);
  snprintf(info.architecture, sizeof info.architecture, "%s", sh_oci_arch());
  snprintf(info.source, sizeof info.source, "tar:%s", source);
  if ((r = staging_commit(&s, &info, e)) < 0)
    return r;
  if (out)
    *out = info;
  return 0;
}

int sbx_image_import_tar(sbx_pool *p, const char *path, const struct sbx_import_opts *o,
                         struct sbx_image_info *out, sh_error *e)
{
  char hex[65];
  _cleanup_close_ int fd = -1;
  char spool[64] = "";
  _cleanup_close_ int tmpfd = -1;
  struct stat st;
  int r;
  if (strcmp(path, "-") != 0) {
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return sh_errno(e, "open image archive", path);
  }
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    if ((r = sh_sha256_copy(fd, -1, hex, NULL, e)) < 0)
      return r;
  } else {
    /* A stream is read once: spool it below tmp/ while hashing. */
    if ((r = pool_check_watermark(p, "import image", e)) < 0)
      return r;
    if ((tmpfd = pool_subdir(p, "tmp", e)) < 0)
      return tmpfd;
    pool_tmp_name("spool", spool);
    _cleanup_close_ int sfd = openat(tmpfd, spool, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (sfd < 0)
      return sh_errno(e, "create spool", spool);
    r = sh_sha256_copy(fd >= 0 ? fd : STDIN_FILENO, sfd, hex, NULL, e);
    if (r < 0) {
      unlinkat(tmpfd, spool, 0);
      return r;
    }
    if (fd >= 0)
      close(fd);
    fd = steal_fd(sfd);
  }
  r = import_tar_fd(p, fd, strcmp(path, "-") ? path : "stdin", hex, o, out, e);
  if (spool[0])
    unlinkat(tmpfd, spool, 0);
  return r;
}

int sbx_image_import_oci(sbx_pool *p, const char *layout, const char *ref,
                         const struct sbx_import_opts *o, struct sbx_image_info *out, sh_error *e)
{
  _cleanup_(staging_done) struct staging s;
  int r = staging_new(p, &s, e);
  if (r < 0)
    return r;
  struct sh_extract_limits lim = { .max_bytes = o ? o->max_bytes : 0 };
  struct sh_oci_import_result res = {0};
  r = sh_oci_import(layout, ref, s.rootfd, &lim, &res, e);
  _cleanup_json_ json_t *cfg = res.config;
  if (r < 0)
    return r;
  const char *hex = strncmp(res.manifest_digest, "sha256:", 7) == 0 ? res.manifest_digest + 7 : "";
  if (strlen(hex) != 64)
    return sh_err(e, EINVAL, "import OCI image", layout, "manifest digest '%s' is not sha256",
                  res.manifest_digest);
  struct sbx_image_info info = { .size = res.stats.bytes };
  snprintf(info.id, sizeof info.id, "%s", hex);
  if (o && o->name)
    snprintf(info.name, sizeof info.name, "%s", o->name);
  else if (ref)
    snprintf(info.name, sizeof info.name, "%s", ref);
  else
    default_name(layout, info.name, sizeof info.name);
  snprintf(info.architecture, sizeof info.architecture, "%s",
           res.architecture[0] ? res.architecture : sh_oci_arch());
  snprintf(info.source, sizeof info.source, "oci:%s%s%s", layout, ref ? ":" : "", ref ? ref : "");
  if ((r = staging_commit(&s, &info, e)) < 0)
    return r;
  if (out)
    *out = info;
  return 0;
}

/* ---- builders ---- */

/* Run argv with stdout into out_fd (or /dev/null when -1). */
static int run(char *const argv[], int out_fd, sh_error *e)
{
  pid_t pid = fork();
  if (pid < 0)
    return sh_errno(e, "fork", argv[0]);
  if (pid == 0) {
    if (out_fd >= 0)
      dup2(out_fd, 1);
    else {
      int null = open("/dev/null", O_WRONLY);
      if (null >= 0)
        dup2(null, 1);
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      return sh_errno(e, "wait", argv[0]);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return sh_err(e, EIO, "run", argv[0], "exited with status %d%s",
                  WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
                  WIFEXITED(st) && WEXITSTATUS(st) == 127 ? " (not installed?)" : "");
  return 0;
}

static int write_file(int dirfd, const char *path, const char *text, mode_t mode, sh_error *e)
{
  _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return sh_errno(e, "build: create", path);
  size_t n = strlen(text);
  if (sh_write_all(fd, text, n) != (ssize_t) n || fchmod(fd, mode) < 0)
    return sh_errno(e, "build: write", path);
  return 0;
}

/* The busybox image: Debian's static busybox, one symlink per applet, and
 * the few files a shell expects.  Its id hashes the binary and this
 * builder's version, so a rebuild finds the existing image. */
static int build_busybox(sbx_pool *p, struct sbx_image_info *out, sh_error *e)
{
  _cleanup_close_ int bfd = open(BUSYBOX_PATH, O_RDONLY | O_CLOEXEC);
  if (bfd < 0)
    return sh_err(e, errno, "build busybox", BUSYBOX_PATH, "install Debian's busybox-static");
  char bhex[65], hex[65];
  uint64_t bsize = 0;
  int r = sh_sha256_copy(bfd, -1, bhex, &bsize, e);
  if (r < 0)
    return r;
  char seed[128];
  snprintf(seed, sizeof seed, "sandhost busybox builder %s\n%s\n", BUILDER_VERSION, bhex);
  if ((r = sh_sha256_hex(seed, strlen(seed), hex)) < 0)
    return sh_err(e, -r, "sha256", NULL, NULL);
  _cleanup_close_ int imgfd = pool_subdir(p, "images", e);
  if (imgfd < 0)
    return imgfd;
  sh_error ignored = {0};
  if (read_info(imgfd, hex, out, &ignored) == 0)
    return 0;

  _cleanup_(staging_done) struct staging s;
  if ((r = staging_new(p, &s, e)) < 0)
    return r;
  static const struct { const char *path; mode_t mode; } dirs[] = {
    {"bin", 0755}, {"sbin", 0755}, {"usr", 0755}, {"usr/bin", 0755}, {"usr/sbin", 0755},
    {"etc", 0755}, {"dev", 0755}, {"proc", 0555}, {"sys", 0555}, {"tmp", 01777},
    {"root", 0700}, {"home", 0755}, {"var", 0755}, {"var/tmp", 01777}, {"run", 0755},
  };
  for (size_t i = 0; i < SH_ARRAY_SIZE(dirs); i++)
    if (mkdirat(s.rootfd, dirs[i].path, dirs[i].mode) < 0 ||
        fchmodat(s.rootfd, dirs[i].path, dirs[i].mode, 0) < 0)
      return sh_errno(e, "build: mkdir", dirs[i].path);
  {
    _cleanup_close_ int dst = openat(s.rootfd, "bin/busybox", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    if (dst < 0 || lseek(bfd, 0, SEEK_SET) < 0)
      return sh_errno(e, "build: create", "bin/busybox");
    char h2[65];
    if ((r = sh_sha256_copy(bfd, dst, h2, NULL, e)) < 0)
      return r;
    if (strcmp(h2, bhex) != 0)
      return sh_err(e, EAGAIN, "build busybox", BUSYBOX_PATH, "changed while being copied");
  }
  static const struct { const char *path, *text; mode_t mode; } files[] = {
    {"etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", 0644},
    {"etc/group", "root:x:0:\nnogroup:x:65534:\n", 0644},
    {"etc/shadow", "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0600},
    {"etc/hosts", "127.0.0.1 localhost\n::1 localhost\n", 0644},
    {"etc/os-release", "NAME=\"Sandhost busybox\"\nID=busybox\nPRETTY_NAME=\"Sandhost busybox\"\n", 0644},
  };
  for (size_t i = 0; i < SH_ARRAY_SIZE(files); i++)
    if ((r = write_file(s.rootfd, files[i].path, files[i].text, files[i].mode, e)) < 0)
      return r;

  /* Applet links, from busybox itself: "bin/sh", "usr/bin/awk", ... */
  char spool[64];
  pool_tmp_name("applets", spool);
  _cleanup_close_ int lfd = openat(s.tmpfd, spool, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (lfd < 0)
    return sh_errno(e, "create", spool);
  unlinkat(s.tmpfd, spool, 0);
  char *argv[] = { (char *) BUSYBOX_PATH, (char *) "--list-full", NULL };
  if ((r = run(argv, lfd, e)) < 0)
    return r;
  _cleanup_free_ char *list = NULL;
  char fdp[SH_FD_PATH_MAX];
  if ((r = sh_read_file_at(AT_FDCWD, sh_fd_path(lfd, fdp), &list, NULL, e)) < 0)
    return r;
  size_t links = 0;
  for (char *save = NULL, *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (strstr(line, "..") || line[0] == '/' || strcmp(line, "bin/busybox") == 0)
      continue;
    int depth = 0;
    for (const char *c = line; *c; c++)
      depth += *c == '/';
    char target[64] = "";
    for (int d = 0; d < depth; d++)
      strcat(target, "../");
    strcat(target, "bin/busybox");
    if (symlinkat(target, s.rootfd, line) < 0 && errno != EEXIST)
      return sh_errno(e, "build: symlink", line);
    links++;
  }
  if (links < 10)
    return sh_err(e, EIO, "build busybox", BUSYBOX_PATH, "only %zu applets listed", links);
  struct sbx_image_info info = { .size = bsize };
  snprintf(info.id, sizeof info.id, "%s", hex);
  snprintf(info.name, sizeof info.name, "busybox");
  snprintf(info.architecture, sizeof info.architecture, "%s", sh_oci_arch());
  snprintf(info.source, sizeof info.source, "builder:busybox:%.16s", bhex);
  if ((r = staging_commit(&s, &info, e)) < 0)
    return r;
  *out = info;
  return 0;
}

/* The debian image: mmdebstrap's minbase as a tarball, imported as any
 * other (the tarball's sha256 names it). */
static int build_debian(sbx_pool *p, const char *arg, struct sbx_image_info *out, sh_error *e)
{
  _cleanup_free_ char *suite = strdup(arg && *arg ? arg : "bookworm");
  if (!suite)
    return sh_err(e, ENOMEM, "build debian", NULL, NULL);
  char *mirror = strchr(suite, ',');
  if (mirror)
    *mirror++ = 0;
  for (const char *c = suite; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
      return sh_err(e, EINVAL, "build debian", "suite", "'%s' is not a Debian suite name", suite);
  int r = pool_check_watermark(p, "build image", e);
  if (r < 0)
    return r;
  _cleanup_close_ int tmpfd = pool_subdir(p, "tmp", e);
  if (tmpfd < 0)
    return tmpfd;
  char spool[64], tarpath[512];
  pool_tmp_name("debian", spool);
  snprintf(tarpath, sizeof tarpath, "%s/tmp/%s.tar", p->data, spool);
  /* Reproducible: fixed timestamps, so the same packages give the same id. */
  setenv("SOURCE_DATE_EPOCH", "1700000000", 0);
  char *argv[] = { (char *) "mmdebstrap", (char *) "--quiet", (char *) "--variant=minbase",
                   (char *) "--mode=root", (char *) "--format=tar", suite, tarpath, mirror, NULL };
  r = run(argv, -1, e);
  if (r == 0) {
    char name[64];
    snprintf(name, sizeof name, "debian-%s", suite);
    struct sbx_import_opts o = { .name = name };
    r = sbx_image_import_tar(p, tarpath, &o, out, e);
    if (r == 0)
      snprintf(out->source, sizeof out->source, "builder:debian:%s%s%s", suite,
               mirror ? ":" : "", mirror ? mirror : "");
  }
  char leaf[80];
  snprintf(leaf, sizeof leaf, "%s.tar", spool);
  unlinkat(tmpfd, leaf, 0);
  if (r == 0) {
    /* Record the builder as the source. */
    _cleanup_close_ int imgfd = pool_subdir(p, "images", e);
    _cleanup_free_ char *text = info_to_json(out);
    char meta[80];
    snprintf(meta, sizeof meta, "%s.json", out->id);
    if (imgfd < 0 || !text || (r = pool_meta_write(imgfd, meta, text, e)) < 0)
      return r < 0 ? r : sh_err(e, ENOMEM, "write image metadata", meta, NULL);
  }
  return r;
}

int sbx_image_build(sbx_pool *p, const char *builder, const char *arg,
                    struct sbx_image_info *out, sh_error *e)
{
  if (strcmp(builder, "busybox") == 0)
    return build_busybox(p, out, e);
  if (strcmp(builder, "debian") == 0)
    return build_debian(p, arg, out, e);
  return sh_err(e, EINVAL, "build image", builder, "unknown builder: use busybox or debian");
}

/* ---- lookup ---- */

typedef int (*image_visit)(void *ud, const struct sbx_image_info *i);

static int each_image(sbx_pool *p, image_visit fn, void *ud, sh_error *e)
{
  _cleanup_close_ int imgfd = pool_subdir(p, "images", e);
  if (imgfd < 0)
    return imgfd;
  _cleanup_closedir_ DIR *d = fdopendir(dup(imgfd));
  if (!d)
    return sh_errno(e, "list images", "images");
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t n = strlen(de->d_name);
    if (n != 64 + 5 || strcmp(de->d_name + 64, ".json") != 0)
      continue;
    char id[65];
    memcpy(id, de->d_name, 64);
    id[64] = 0;
    struct sbx_image_info info;
    int r = read_info(imgfd, id, &info, e);
    if (r < 0)
      return r;
    if ((r = fn(ud, &info)) != 0)
      return r < 0 ? r : 0;
  }
  return 0;
}

struct find_ctx {
  const char *ref;
  size_t matches;
  struct sbx_image_info best;
};

static int find_visit(void *ud, const struct sbx_image_info *i)
{
  struct find_ctx *f = ud;
  size_t n = strlen(f->ref);
  bool by_id = n >= 12 && strncmp(i->id, f->ref, n) == 0;
  bool by_name = strcmp(i->name, f->ref) == 0;
  if (!by_id && !by_name)
    return 0;
  /* Several images of one name: the newest answers to it. */
  if (by_name && f->matches && strcmp(f->best.name, f->ref) == 0) {
    if (i->created > f->best.created)
      f->best = *i;
    return 0;
  }
  f->matches++;
  f->best = *i;
  return 0;
}

int sbx_image_find(sbx_pool *p, const char *ref, struct sbx_image_info *out, sh_error *e)
{
  struct find_ctx f = { .ref = ref };
  int r = each_image(p, find_visit, &f, e);
  if (r < 0)
    return r;
  if (f.matches == 0)
    return sh_err(e, ENOENT, "find image", ref, "no image has this name or id");
  if (f.matches > 1)
    return sh_err(e, EINVAL, "find image", ref, "ambiguous: give more of the id");
  *out = f.best;
  return 0;
}

static int list_visit(void *ud, const struct sbx_image_info *i)
{
  json_t *arr = ud;
  _cleanup_free_ char *text = info_to_json(i);
  json_t *j = text ? json_loads(text, 0, NULL) : NULL;
  if (!j || json_array_append_new(arr, j) < 0)
    return -ENOMEM;
  return 0;
}

int sbx_image_list(sbx_pool *p, char **json_out, sh_error *e)
{
  _cleanup_json_ json_t *arr = json_array();
  if (!arr)
    return sh_err(e, ENOMEM, "list images", NULL, NULL);
  int r = each_image(p, list_visit, arr, e);
  if (r < 0)
    return e->err ? r : sh_err(e, -r, "list images", NULL, NULL);
  *json_out = json_dumps(arr, JSON_INDENT(2));
  return *json_out ? 0 : sh_err(e, ENOMEM, "list images", NULL, NULL);
}

int sbx_image_delete(sbx_pool *p, const char *ref, sh_error *e)
{
  struct sbx_image_info info;
  int r = sbx_image_find(p, ref, &info, e);
  if (r < 0)
    return r;
  _cleanup_close_ int imgfd = pool_subdir(p, "images", e);
  _cleanup_close_ int ctrfd = pool_subdir(p, "containers", e);
  if (imgfd < 0 || ctrfd < 0)
    return imgfd < 0 ? imgfd : ctrfd;
  /* Volumes are made from the image (btrfs: they share its extents, and
   * deleting it would move their whole size onto their own quota; overlay:
   * it is their lower layer).  Refuse while any volume or snapshot needs it. */
  _cleanup_strv_ char **vols = NULL;
  if ((r = pool_list_dirs(ctrfd, false, &vols, e)) < 0)
    return r;
  _cleanup_close_ int sroot = pool_subdir(p, "snapshots", e);
  if (sroot < 0)
    return sroot;
  char users[256] = "";
  size_t n_users = 0;
  for (char **v = vols; *v; v++) {
    bool uses = p->drv->uses_image(p, imgfd, info.id, ctrfd, *v);
    _cleanup_close_ int sd = openat(sroot, *v, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_strv_ char **snaps = NULL;
    sh_error ignored = {0};
    if (sd >= 0 && pool_list_dirs(sd, false, &snaps, &ignored) == 0)
      for (char **s = snaps; *s && !uses; s++)
        uses = p->drv->uses_image(p, imgfd, info.id, sd, *s);
    if (!uses)
      continue;
    if (n_users++ < 8)
      snprintf(users + strlen(users), sizeof users - strlen(users), "%s%s",
               n_users > 1 ? ", " : "", *v);
  }
  if (n_users)
    return sh_err(e, EBUSY, "delete image", info.id, "in use by %zu volume(s): %s%s", n_users,
                  users, n_users > 8 ? ", ..." : "");
  char meta[80];
  snprintf(meta, sizeof meta, "%s.json", info.id);
  /* Metadata first: a crash after it leaves a tree the next open removes. */
  if (unlinkat(imgfd, meta, 0) < 0 && errno != ENOENT)
    return sh_errno(e, "delete image metadata", meta);
  return p->drv->remove(p, imgfd, info.id, e);
}
