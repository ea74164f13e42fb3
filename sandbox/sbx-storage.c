/* sbx-storage: the storage library from the command line, so pools, images,
 * volumes, snapshots and backups can be used and tested without sandhostd.
 * Output is JSON where there is data; errors name the step and the path. */
#include "sandhost-config.h"
#include "storage.h"
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_POOL "/var/lib/sandhost/pools/default"

static const char *pool_dir = DEFAULT_POOL;

struct args {
  const char *driver, *source, *name, *ref, *id, *out;
  uint64_t size, quota, tenant, max_bytes;
  unsigned watermark;
  bool snapshots, quota_set;
  struct sbx_idmap uid[8], gid[8];
  size_t n_uid, n_gid;
  char **pos;   /* positional arguments after the verb */
  int n_pos;
};

static int fail(const sh_error *e)
{
  char buf[1400];
  fprintf(stderr, "sbx-storage: %s\n", sh_error_str(e, buf, sizeof buf));
  return e->err == ENOENT ? 2 : 1;
}

static int usage(void)
{
  fprintf(stderr,
    "usage: sbx-storage [--pool DIR] OBJECT VERB ...   (pool default " DEFAULT_POOL ")\n"
    "  pool create [--driver btrfs|overlay] [--source DEV|DIR] [--size SIZE] [--watermark PCT]\n"
    "  pool info | pool unmount\n"
    "  image import FILE|- [--name N] [--max-bytes SIZE]\n"
    "  image import-oci LAYOUT [--ref REF] [--name N] [--max-bytes SIZE]\n"
    "  image build busybox | image build debian [SUITE[,MIRROR]]\n"
    "  image list | image delete REF\n"
    "  volume create ID IMAGE [--tenant T] [--quota SIZE]\n"
    "  volume clone SRC DST [--tenant T] [--quota SIZE]\n"
    "  volume rebuild ID [IMAGE]   (a fresh tree from the image; the volume must not be mounted)\n"
    "  volume delete ID | volume list | volume usage ID | volume quota ID SIZE|none\n"
    "  volume mount ID TARGET --uid-map C:H:N [--gid-map C:H:N]   (gid map defaults to the uid map)\n"
    "  volume unmount ID TARGET\n"
    "  tenant quota T SIZE|none | tenant usage T\n"
    "  snapshot create|restore|delete ID NAME\n"
    "  backup export ID FILE|- [--snapshots] | backup import FILE|- [--id ID] [--tenant T] [--quota SIZE]\n"
    "SIZE: bytes, or with K, M, G, T (powers of 1024)\n");
  return 2;
}

static int parse_u64(const char *what, const char *s, uint64_t *out)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-') {
    fprintf(stderr, "sbx-storage: %s: '%s' is not a number\n", what, s);
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_map(const char *s, struct sbx_idmap *m)
{
  unsigned c, h, n;
  char tail;
  if (sscanf(s, "%u:%u:%u%c", &c, &h, &n, &tail) != 3) {
    fprintf(stderr, "sbx-storage: id map '%s': want CONTAINER:HOST:COUNT\n", s);
    return -1;
  }
  *m = (struct sbx_idmap){ .container_id = c, .host_id = h, .size = n };
  return 0;
}

static int size_arg(const char *what, const char *s, uint64_t *out)
{
  if (sbx_parse_size(s, out) < 0) {
    fprintf(stderr, "sbx-storage: %s: '%s' is not a size (bytes, or a number with K, M, G, T)\n",
            what, s);
    return -1;
  }
  return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
  enum { O_DRIVER = 1, O_SOURCE, O_SIZE, O_WATERMARK, O_NAME, O_MAXB, O_REF, O_TENANT, O_QUOTA, O_UIDMAP,
         O_GIDMAP, O_SNAPS, O_ID };
  static const struct option opts[] = {
    {"driver", required_argument, NULL, O_DRIVER}, {"source", required_argument, NULL, O_SOURCE}, {"size", required_argument, NULL, O_SIZE},
    {"watermark", required_argument, NULL, O_WATERMARK}, {"name", required_argument, NULL, O_NAME},
    {"max-bytes", required_argument, NULL, O_MAXB}, {"ref", required_argument, NULL, O_REF},
    {"tenant", required_argument, NULL, O_TENANT}, {"quota", required_argument, NULL, O_QUOTA},
    {"uid-map", required_argument, NULL, O_UIDMAP}, {"gid-map", required_argument, NULL, O_GIDMAP},
    {"snapshots", no_argument, NULL, O_SNAPS}, {"id", required_argument, NULL, O_ID},
    {NULL, 0, NULL, 0},
  };
  optind = 1;
  int c;
  uint64_t v;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case O_DRIVER: a->driver = optarg; break;
    case O_SOURCE: a->source = optarg; break;
    case O_SIZE: if (size_arg("--size", optarg, &a->size) < 0) return -1; break;
    case O_WATERMARK:
      if (parse_u64("--watermark", optarg, &v) < 0) return -1;
      a->watermark = v > 100 ? 100 : (unsigned) v;
      break;
    case O_NAME: a->name = optarg; break;
    case O_MAXB: if (size_arg("--max-bytes", optarg, &a->max_bytes) < 0) return -1; break;
    case O_REF: a->ref = optarg; break;
    case O_TENANT: if (parse_u64("--tenant", optarg, &a->tenant) < 0) return -1; break;
    case O_QUOTA:
      if (size_arg("--quota", optarg, &a->quota) < 0) return -1;
      a->quota_set = true;
      break;
    case O_UIDMAP:
      if (a->n_uid == 8 || parse_map(optarg, &a->uid[a->n_uid++]) < 0) return -1;
      break;
    case O_GIDMAP:
      if (a->n_gid == 8 || parse_map(optarg, &a->gid[a->n_gid++]) < 0) return -1;
      break;
    case O_SNAPS: a->snapshots = true; break;
    case O_ID: a->id = optarg; break;
    default: return -1;
    }
  }
  a->pos = argv + optind;
  a->n_pos = argc - optind;
  return 0;
}

static int print_json(char *text)
{
  puts(text);
  free(text);
  return 0;
}

static int print_usage(const struct sbx_usage *u)
{
  printf("{\"referenced\": %" PRIu64 ", \"exclusive\": %" PRIu64 ", \"limit\": %" PRIu64 "}\n",
         u->referenced, u->exclusive, u->limit);
  return 0;
}

static int print_image(const struct sbx_image_info *i)
{
  printf("{\"id\": \"%s\", \"name\": \"%s\", \"architecture\": \"%s\", \"size\": %" PRIu64 "}\n",
         i->id, i->name, i->architecture, i->size);
  return 0;
}

/* Verbs are rows: object, verb, positional count, handler. */
typedef int (*handler)(sbx_pool *p, struct args *a, sh_error *e);

static int h_image_import(sbx_pool *p, struct args *a, sh_error *e)
{
  struct sbx_import_opts o = { .name = a->name, .max_bytes = a->max_bytes };
  struct sbx_image_info i;
  int r = sbx_image_import_tar(p, a->pos[0], &o, &i, e);
  return r < 0 ? r : print_image(&i);
}
static int h_image_import_oci(sbx_pool *p, struct args *a, sh_error *e)
{
  struct sbx_import_opts o = { .name = a->name, .max_bytes = a->max_bytes };
  struct sbx_image_info i;
  int r = sbx_image_import_oci(p, a->pos[0], a->ref, &o, &i, e);
  return r < 0 ? r : print_image(&i);
}
static int h_image_build(sbx_pool *p, struct args *a, sh_error *e)
{
  struct sbx_image_info i;
  int r = sbx_image_build(p, a->pos[0], a->n_pos > 1 ? a->pos[1] : NULL, &i, e);
  return r < 0 ? r : print_image(&i);
}
static int h_image_list(sbx_pool *p, struct args *a, sh_error *e)
{
  char *j;
  int r = sbx_image_list(p, &j, e);
  return r < 0 ? r : print_json(j);
}
static int h_image_delete(sbx_pool *p, struct args *a, sh_error *e)
{
  return sbx_image_delete(p, a->pos[0], e);
}
static int h_vol_create(sbx_pool *p, struct args *a, sh_error *e)
{
  return sbx_volume_create(p, a->pos[0], a->pos[1], a->tenant, a->quota, e);
}
static int h_vol_clone(sbx_pool *p, struct args *a, sh_error *e)
{
  return sbx_volume_clone(p, a->pos[0], a->pos[1], a->tenant, a->quota, e);
}
static int h_vol_rebuild(sbx_pool *p, struct args *a, sh_error *e)
{
  return sbx_volume_rebuild(p, a->pos[0], a->n_pos > 1 ? a->pos[1] : NULL, e);
}
static int h_vol_delete(sbx_pool *p, struct args *a, sh_error *e)
{
  return sbx_volume_delete(p, a->pos[0], e);
}
static int h_vol_list(sbx_pool *p, struct args *a, sh_error *e)
{
  char *j;
  int r = sbx_volume_list(p, &j, e);
  return r < 0 ? r : print_json(j);
}
static int h_vol_usage(sbx_pool *p, struct args *a, sh_error *e)
{
  struct sbx_usage u;
  int r = sbx_volume_usage(p, a->pos[0], &u, e);
  return r < 0 ? r : print_usage(&u);
}
static int h_vol_quota(sbx_pool *p, struct args *a, sh_error *e)
{
  uint64_t q;
  if (size_arg("quota", a->pos[1], &q) < 0)
    return sh_err(e, EINVAL, "parse", "quota", "bad size");
  return sbx_volume_set_quota(p, a->pos[0], q, e);
}
static int h_vol_mount(sbx_pool *p, struct args *a, sh_error *e)
{
  if (!a->n_uid)
    return sh_err(e, EINVAL, "mount volume", "--uid-map", "required (e.g. 0:100000:65536)");
  return sbx_volume_mount(p, a->pos[0], a->uid, a->n_uid, a->n_gid ? a->gid : a->uid,
                          a->n_gid ? a->n_gid : a->n_uid, a->pos[1], e);
}
static int h_vol_unmount(sbx_pool *p, struct args *a, sh_error *e)
{
  return sbx_volume_unmount(p, a->pos[0], a->pos[1], e);
}
static int tenant_arg(const char *s, uint64_t *t, sh_error *e)
{
  if (parse_u64("tenant", s, t) < 0)
    return sh_err(e, EINVAL, "parse", "tenant", "'%s' is not a number", s);
  return 0;
}
static int h_tenant_quota(sbx_pool *p, struct args *a, sh_error *e)
{
  uint64_t t, q;
  int r = tenant_arg(a->pos[0], &t, e);
  if (r < 0)
    return r;
  if (size_arg("quota", a->pos[1], &q) < 0)
    return sh_err(e, EINVAL, "parse", "quota", "bad size");
  return sbx_tenant_set_quota(p, t, q, e);
}
static int h_tenant_usage(sbx_pool *p, struct args *a, sh_error *e)
{
  uint64_t t;
  struct sbx_usage u;
  int r = tenant_arg(a->pos[0], &t, e);
  if (r < 0 || (r = sbx_tenant_usage(p, t, &u, e)) < 0)
    return r;
  return print_usage(&u);
}
static int h_snap_create(sbx_pool *p, struct args *a, sh_error *e)
{
  return sbx_snapshot_create(p, a->pos[0], a->pos[1], e);
}
static int h_snap_restore(sbx_pool *p, struct args *a, sh_error *e)
{
  return sbx_snapshot_restore(p, a->pos[0], a->pos[1], e);
}
static int h_snap_delete(sbx_pool *p, struct args *a, sh_error *e)
{
  return sbx_snapshot_delete(p, a->pos[0], a->pos[1], e);
}
static int h_backup_export(sbx_pool *p, struct args *a, sh_error *e)
{
  const char *out = a->pos[1];
  _cleanup_close_ int fd = strcmp(out, "-") == 0 ? dup(STDOUT_FILENO)
                                                 : open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return sh_errno(e, "create backup file", out);
  int r = sbx_backup_export(p, a->pos[0], a->snapshots, fd, e);
  if (r < 0 && strcmp(out, "-") != 0)
    unlink(out);
  return r;
}
static int h_backup_import(sbx_pool *p, struct args *a, sh_error *e)
{
  const char *in = a->pos[0];
  _cleanup_close_ int fd = strcmp(in, "-") == 0 ? dup(STDIN_FILENO) : open(in, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sh_errno(e, "open backup file", in);
  return sbx_backup_import(p, fd, a->id, a->tenant, a->quota, e);
}
static int h_pool_info(sbx_pool *p, struct args *a, sh_error *e)
{
  struct sbx_pool_space s;
  int r = sbx_pool_space(p, &s, e);
  if (r < 0)
    return r;
  printf("{\"driver\": \"%s\", \"data\": \"%s\", \"quota_mode\": \"%s\", \"size\": %" PRIu64 ", \"used\": %" PRIu64
         ", \"avail\": %" PRIu64 ", \"used_pct\": %u, \"watermark\": %u}\n",
         sbx_pool_driver(p), sbx_pool_data_path(p), sbx_pool_quota_mode(p), s.size, s.used, s.avail, s.used_pct,
         s.watermark);
  return 0;
}

static const struct verb {
  const char *object, *verb;
  int min_pos, max_pos;
  handler fn;
} verbs[] = {
  {"pool", "info", 0, 0, h_pool_info},
  {"image", "import", 1, 1, h_image_import},
  {"image", "import-oci", 1, 1, h_image_import_oci},
  {"image", "build", 1, 2, h_image_build},
  {"image", "list", 0, 0, h_image_list},
  {"image", "delete", 1, 1, h_image_delete},
  {"volume", "create", 2, 2, h_vol_create},
  {"volume", "clone", 2, 2, h_vol_clone},
  {"volume", "rebuild", 1, 2, h_vol_rebuild},
  {"volume", "delete", 1, 1, h_vol_delete},
  {"volume", "list", 0, 0, h_vol_list},
  {"volume", "usage", 1, 1, h_vol_usage},
  {"volume", "quota", 2, 2, h_vol_quota},
  {"volume", "mount", 2, 2, h_vol_mount},
  {"volume", "unmount", 2, 2, h_vol_unmount},
  {"tenant", "quota", 2, 2, h_tenant_quota},
  {"tenant", "usage", 1, 1, h_tenant_usage},
  {"snapshot", "create", 2, 2, h_snap_create},
  {"snapshot", "restore", 2, 2, h_snap_restore},
  {"snapshot", "delete", 2, 2, h_snap_delete},
  {"backup", "export", 2, 2, h_backup_export},
  {"backup", "import", 1, 1, h_backup_import},
};

int main(int argc, char **argv)
{
  /* What the pool did on its own (crash cleanup, an upper moved to a new
   * id range) is worth a line on stderr. */
  sh_log_set_level(SH_LOG_INFO);
  sh_log_set_name("sbx-storage");
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--pool") == 0 && i + 1 < argc)
      pool_dir = argv[++i];
    else if (strcmp(argv[i], "--version") == 0) {
      printf("sbx-storage %s\n", SANDHOST_VERSION);
      return 0;
    } else
      return usage();
  }
  if (argc - i < 2)
    return usage();
  const char *object = argv[i], *verb = argv[i + 1];
  struct args a = {0};
  if (parse_args(argc - i - 1, argv + i + 1, &a) < 0)
    return 2;
  /* getopt saw the verb as argv[0]: the positionals follow it. */
  sh_error e = {0};
  if (strcmp(object, "pool") == 0 && strcmp(verb, "create") == 0) {
    struct sbx_pool_config c = { .driver = a.driver, .source = a.source, .size = a.size, .watermark = a.watermark };
    return sbx_pool_create(pool_dir, &c, &e) < 0 ? fail(&e) : 0;
  }
  if (strcmp(object, "pool") == 0 && strcmp(verb, "unmount") == 0)
    return sbx_pool_unmount(pool_dir, &e) < 0 ? fail(&e) : 0;
  for (size_t k = 0; k < SH_ARRAY_SIZE(verbs); k++) {
    if (strcmp(verbs[k].object, object) != 0 || strcmp(verbs[k].verb, verb) != 0)
      continue;
    if (a.n_pos < verbs[k].min_pos || a.n_pos > verbs[k].max_pos) {
      fprintf(stderr, "sbx-storage: %s %s: wrong number of arguments\n", object, verb);
      return usage();
    }
    _cleanup_pool_ sbx_pool *p = NULL;
    if (sbx_pool_open(pool_dir, &p, &e) < 0)
      return fail(&e);
    return verbs[k].fn(p, &a, &e) < 0 ? fail(&e) : 0;
  }
  fprintf(stderr, "sbx-storage: unknown command '%s %s'\n", object, verb);
  return usage();
}
