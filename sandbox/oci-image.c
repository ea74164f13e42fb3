/* OCI image layouts: the manifest is chosen from index.json, and every blob
 * (nested index, manifest, config, layers) is checked against its sha256
 * digest and size before anything reads its content. */
#include "oci-image.h"
#include "cleanup.h"
#include "digest.h"
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
#include <sys/utsname.h>
#include <unistd.h>

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define REF_ANNOTATION "org.opencontainers.image.ref.name"
#define MAX_JSON_BLOB (4 << 20)

static const char *const layer_types[] = {
  "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.oci.image.layer.v1.tar+zstd",
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
};

const char *sh_oci_arch(void)
{
  static const struct { const char *uname, *oci; } map[] = {
    {"x86_64", "amd64"}, {"aarch64", "arm64"}, {"armv7l", "arm"}, {"i686", "386"},
    {"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"},
  };
  static struct utsname u;
  if (uname(&u) < 0)
    return "unknown";
  for (size_t i = 0; i < SH_ARRAY_SIZE(map); i++)
    if (strcmp(u.machine, map[i].uname) == 0)
      return map[i].oci;
  return u.machine;
}

/* Open blobs/sha256/<hex> of a descriptor, checking digest and size. */
static int open_blob(int layoutfd, json_t *desc, const char *ctx, int *fd_out, sh_error *e)
{
  const char *digest = NULL;
  int64_t size = -1;
  int r;
  if ((r = sh_json_get_str(desc, "digest", ctx, &digest, e)) < 0 ||
      (r = sh_json_get_i64(desc, "size", ctx, &size, e)) < 0)
    return r;
  char what[160];
  if (!digest)
    return sh_err(e, EINVAL, "read OCI image", sh_json_path(what, sizeof what, ctx, "digest"), "missing");
  if (strncmp(digest, "sha256:", 7) != 0)
    return sh_err(e, EINVAL, "read OCI image", sh_json_path(what, sizeof what, ctx, "digest"),
                  "'%s': only sha256 digests are accepted", digest);
  const char *hex = digest + 7;
  if (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
    return sh_err(e, EINVAL, "read OCI image", sh_json_path(what, sizeof what, ctx, "digest"),
                  "'%s' is not a sha256 digest", digest);
  char path[96];
  snprintf(path, sizeof path, "blobs/sha256/%s", hex);
  _cleanup_close_ int fd = sh_open_in_root(layoutfd, path, O_RDONLY | O_CLOEXEC, 0, SH_RESOLVE_NO_SYMLINKS, e);
  if (fd < 0)
    return fd;
  struct stat sb;
  if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
    return sh_err(e, EINVAL, "read OCI image", path, "not a regular file");
  if (size >= 0 && sb.st_size != size)
    return sh_err(e, EINVAL, "read OCI image", path, "size %" PRId64 " where %s says %" PRId64,
                  (int64_t) sb.st_size, ctx, size);
  char got[65];
  if ((r = sh_sha256_copy(fd, -1, got, NULL, e)) < 0)
    return r;
  if (strcmp(got, hex) != 0)
    return sh_err(e, EINVAL, "read OCI image", path, "digest mismatch: the blob hashes to sha256:%s, %s says %s",
                  got, ctx, digest);
  if (lseek(fd, 0, SEEK_SET) < 0)
    return sh_errno(e, "rewind", path);
  *fd_out = steal_fd(fd);
  return 0;
}

static int read_json_fd(int fd, const char *what, json_t **out, sh_error *e)
{
  char fdp[SH_FD_PATH_MAX];
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  int r = sh_read_file_at(AT_FDCWD, sh_fd_path(fd, fdp), &text, &len, e);
  if (r < 0)
    return r;
  if (len > MAX_JSON_BLOB)
    return sh_err(e, EFBIG, "read OCI image", what, "a JSON document of %zu bytes", len);
  json_error_t je;
  if (!(*out = json_loads(text, 0, &je)))
    return sh_err(e, EINVAL, "read OCI image", what, "line %d: %s", je.line, je.text);
  return 0;
}

static int read_blob_json(int layoutfd, json_t *desc, const char *ctx, json_t **out, sh_error *e)
{
  _cleanup_close_ int fd = -1;
  int r = open_blob(layoutfd, desc, ctx, &fd, e);
  return r < 0 ? r : read_json_fd(fd, ctx, out, e);
}

static const char *media_type(json_t *o)
{
  const char *t = json_string_value(json_object_get(o, "mediaType"));
  return t ? t : "";
}

/* From an index's manifests, the one for ref, or the only one, or the one
 * for this machine's platform. */
static int pick(json_t *index, const char *ctx, const char *ref, json_t **out, sh_error *e)
{
  json_t *ms = NULL;
  int r = sh_json_get_arr(index, "manifests", ctx, &ms, e);
  if (r < 0)
    return r;
  size_t n = json_array_size(ms);
  if (n == 0)
    return sh_err(e, ENOENT, "read OCI image", ctx, "lists no manifests");
  if (ref) {
    char avail[512] = "";
    for (size_t i = 0; i < n; i++) {
      json_t *m = json_array_get(ms, i);
      const char *name = json_string_value(json_object_get(json_object_get(m, "annotations"), REF_ANNOTATION));
      if (name && strcmp(name, ref) == 0) {
        *out = m;
        return 0;
      }
      if (name)
        snprintf(avail + strlen(avail), sizeof avail - strlen(avail), "%s%s", *avail ? ", " : "", name);
    }
    return sh_err(e, ENOENT, "read OCI image", ref, "no manifest has this ref (available: %s)",
                  *avail ? avail : "none");
  }
  if (n == 1) {
    *out = json_array_get(ms, 0);
    return 0;
  }
  const char *arch = sh_oci_arch();
  size_t matches = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *m = json_array_get(ms, i), *pl = json_object_get(m, "platform");
    const char *os = json_string_value(json_object_get(pl, "os"));
    const char *a = json_string_value(json_object_get(pl, "architecture"));
    if (os && a && strcmp(os, "linux") == 0 && strcmp(a, arch) == 0 && matches++ == 0)
      *out = m;
  }
  if (matches == 1)
    return 0;
  return sh_err(e, ENOENT, "read OCI image", ctx, "%zu manifests, %zu of them for linux/%s: give a ref",
                n, matches, arch);
}

static bool is_layer_type(const char *t)
{
  for (size_t i = 0; i < SH_ARRAY_SIZE(layer_types); i++)
    if (strcmp(t, layer_types[i]) == 0)
      return true;
  return false;
}

static int import_layout(int layoutfd, const char *layout, const char *ref, int rootfd,
                         const struct sh_extract_limits *lim, struct sh_oci_import_result *res,
                         sh_error *e)
{
  _cleanup_json_ json_t *marker = NULL, *index = NULL;
  _cleanup_close_ int mfd = sh_open_in_root(layoutfd, "oci-layout", O_RDONLY | O_CLOEXEC, 0,
                                            SH_RESOLVE_NO_SYMLINKS, e);
  if (mfd < 0)
    return sh_err(e, e->err ? e->err : EINVAL, "read OCI image", layout, "no oci-layout file: not an OCI image layout");
  int r = read_json_fd(mfd, "oci-layout", &marker, e);
  if (r < 0)
    return r;
  const char *ver = json_string_value(json_object_get(marker, "imageLayoutVersion"));
  if (!ver || strcmp(ver, "1.0.0") != 0)
    return sh_err(e, EINVAL, "read OCI image", "oci-layout.imageLayoutVersion", "'%s', not 1.0.0",
                  ver ? ver : "(missing)");
  _cleanup_close_ int ifd = sh_open_in_root(layoutfd, "index.json", O_RDONLY | O_CLOEXEC, 0,
                                            SH_RESOLVE_NO_SYMLINKS, e);
  if (ifd < 0 || (r = read_json_fd(ifd, "index.json", &index, e)) < 0)
    return ifd < 0 ? ifd : r;

  /* Walk down through nested indexes (at most a few) to a manifest. */
  json_t *desc = NULL;
  if ((r = pick(index, "index.json", ref, &desc, e)) < 0)
    return r;
  _cleanup_json_ json_t *nested = NULL, *manifest = NULL;
  for (int hops = 0;; hops++) {
    const char *mt = media_type(desc);
    if (strcmp(mt, MT_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0) {
      if (hops > 4)
        return sh_err(e, ELOOP, "read OCI image", layout, "image indexes nested too deep");
      json_t *next_index = NULL;
      if ((r = read_blob_json(layoutfd, desc, "image index", &next_index, e)) < 0)
        return r;
      if (nested)
        json_decref(nested);
      nested = next_index;
      if ((r = pick(nested, "image index", NULL, &desc, e)) < 0)
        return r;
      continue;
    }
    if (*mt && strcmp(mt, MT_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MANIFEST) != 0)
      return sh_err(e, EINVAL, "read OCI image", "index.json", "media type '%s' is not a manifest", mt);
    break;
  }
  const char *mdigest = json_string_value(json_object_get(desc, "digest"));
  if ((r = read_blob_json(layoutfd, desc, "manifest", &manifest, e)) < 0)
    return r;
  snprintf(res->manifest_digest, sizeof res->manifest_digest, "%s", mdigest);

  json_t *cdesc = NULL, *layers = NULL;
  if ((r = sh_json_get_obj(manifest, "config", "manifest", &cdesc, e)) < 0 ||
      (r = sh_json_get_arr(manifest, "layers", "manifest", &layers, e)) < 0)
    return r;
  if (!cdesc)
    return sh_err(e, EINVAL, "read OCI image", "manifest.config", "missing");
  if ((r = read_blob_json(layoutfd, cdesc, "manifest.config", &res->config, e)) < 0)
    return r;
  const char *arch = json_string_value(json_object_get(res->config, "architecture"));
  snprintf(res->architecture, sizeof res->architecture, "%s", arch ? arch : "");

  struct sh_extract_opts xo = { .flags = SH_EXTRACT_OCI_LAYER };
  if (lim)
    xo.limits = *lim;
  for (size_t i = 0; i < json_array_size(layers); i++) {
    json_t *l = json_array_get(layers, i);
    char ctx[48];
    snprintf(ctx, sizeof ctx, "manifest.layers[%zu]", i);
    if (!is_layer_type(media_type(l)))
      return sh_err(e, EINVAL, "read OCI image", ctx, "layer media type '%s' is not supported", media_type(l));
    _cleanup_close_ int lfd = -1;
    if ((r = open_blob(layoutfd, l, ctx, &lfd, e)) < 0)
      return r;
    /* One budget for the whole image: what is left after earlier layers. */
    struct sh_extract_stats st = {0};
    if (xo.limits.max_bytes || res->stats.bytes) {
      uint64_t cap = lim && lim->max_bytes ? lim->max_bytes : (16ULL << 30);
      xo.limits.max_bytes = cap > res->stats.bytes ? cap - res->stats.bytes : 1;
    }
    if ((r = sh_archive_extract(lfd, rootfd, &xo, &st, e)) < 0)
      return r;
    res->stats.entries += st.entries;
    res->stats.bytes += st.bytes;
    res->stats.devices_skipped += st.devices_skipped;
    res->stats.whiteouts += st.whiteouts;
  }
  return 0;
}

int sh_oci_import(const char *layout, const char *ref, int rootfd,
                  const struct sh_extract_limits *lim, struct sh_oci_import_result *r, sh_error *e)
{
  *r = (struct sh_oci_import_result){0};
  struct stat sb;
  if (stat(layout, &sb) < 0)
    return sh_errno(e, "open OCI image", layout);
  int rc;
  if (S_ISDIR(sb.st_mode)) {
    _cleanup_close_ int lfd = open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lfd < 0)
      return sh_errno(e, "open OCI image", layout);
    rc = import_layout(lfd, layout, ref, rootfd, lim, r, e);
  } else {
    /* An archive of a layout: unpack it (safely) into a private dir first. */
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/sandhost-oci.XXXXXX", tmp && *tmp ? tmp : "/var/tmp");
    if (!mkdtemp(dir))
      return sh_errno(e, "create temporary directory", dir);
    _cleanup_close_ int afd = open(layout, O_RDONLY | O_CLOEXEC);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (afd < 0 || dfd < 0)
      rc = sh_errno(e, "open OCI image", afd < 0 ? layout : dir);
    else {
      struct sh_extract_opts xo = {0};
      if (lim)
        xo.limits = *lim;
      rc = sh_archive_extract(afd, dfd, &xo, NULL, e);
      if (rc == 0)
        rc = import_layout(dfd, layout, ref, rootfd, lim, r, e);
    }
    sh_error ignored = {0};
    char *slash = strrchr(dir, '/');
    *slash = 0;
    _cleanup_close_ int pfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd >= 0)
      sh_rmtree_at(pfd, slash + 1, &ignored);
  }
  if (rc < 0 && r->config) {
    json_decref(r->config);
    r->config = NULL;
  }
  return rc;
}
