/* Tenant cgroups through libsandbox's cgroup layer (v2, or v1-hybrid). */
#include "tenant-cg.h"

#include "cgroup.h"
#include "cleanup.h"
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static char root[32] = "sandhost";

void hd_cgroup_init(const char *name)
{
  snprintf(root, sizeof root, "%s", name);
}

void hd_cgroup_path(int64_t tenant, int64_t container, char *out, size_t len)
{
  if (container > 0)
    snprintf(out, len, "%s/t%" PRId64 "/c%" PRId64, root, tenant, container);
  else
    snprintf(out, len, "%s/t%" PRId64, root, tenant);
}

static int resolve(int64_t tenant, int64_t container, struct sbx_config *c, struct sbx_cgroup *cg, char path[64], sh_error *e)
{
  hd_cgroup_path(tenant, container, path, 64);
  c->cgroups_path = path;
  return sbx_cgroup_resolve(c, path, cg, e);
}

/* The limits as libsandbox resources (cpu: a quota per 100 ms period). */
static void limits_res(const struct hd_tenant_limits *l, struct sbx_resources *res)
{
  if (l->memory_mib)
    res->mem_limit = (struct sbx_opt){ true, l->memory_mib << 20 };
  if (l->cpu_millis) {
    res->cpu_period = (struct sbx_opt){ true, 100000 };
    res->cpu_quota = (struct sbx_opt){ true, l->cpu_millis * 100 };
  }
  if (l->pids)
    res->pids_limit = (struct sbx_opt){ true, l->pids };
  res->any = true;
}

/* Set the limits of a cgroup that exists; one that does not is made when
 * create, else ENOENT. */
static int apply(int64_t tenant, int64_t container, const struct hd_tenant_limits *l, bool create, sh_error *e)
{
  struct sbx_config c = {0};
  struct sbx_cgroup cg;
  char path[64];
  limits_res(l, &c.res);
  int r = resolve(tenant, container, &c, &cg, path, e);
  if (r < 0)
    return r;
  /* Workers starting two containers of one tenant: one creates, one sets. */
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&lock);
  struct stat st;
  r = stat(cg.unified, &st) == 0 ? sbx_cgroup_apply(&cg, &c.res, e)
      : create                   ? sbx_cgroup_create(&c, &cg, e)
                                 : sh_err(e, ENOENT, "set limits", path, "no such cgroup");
  pthread_mutex_unlock(&lock);
  sbx_cgroup_clear(&cg);
  return r;
}

int hd_tenant_cgroup_apply(int64_t tenant, const struct hd_tenant_limits *l, sh_error *e)
{
  return apply(tenant, 0, l, true, e);
}

int hd_container_cgroup_apply(int64_t tenant, int64_t container, const struct hd_tenant_limits *l, sh_error *e)
{
  return apply(tenant, container, l, false, e);
}

int hd_cgroup_remove(const char *path, sh_error *e)
{
  char p[64];
  snprintf(p, sizeof p, "%s", path);
  struct sbx_config c = { .cgroups_path = p };
  struct sbx_cgroup cg;
  int r = sbx_cgroup_resolve(&c, p, &cg, e);
  if (r < 0)
    return r;
  r = sbx_cgroup_destroy(&cg, e);
  sbx_cgroup_clear(&cg);
  if (r == -ENOENT) {
    sh_error_clear(e);
    r = 0;
  }
  return r;
}

int hd_tenant_cgroup_remove(int64_t tenant, sh_error *e)
{
  char path[64];
  hd_cgroup_path(tenant, 0, path, sizeof path);
  return hd_cgroup_remove(path, e);
}

char *hd_cgroup_root_dir(sh_error *e)
{
  struct sbx_config c = { .cgroups_path = root };
  struct sbx_cgroup cg;
  if (sbx_cgroup_resolve(&c, root, &cg, e) < 0)
    return NULL;
  char *dir = steal_ptr(cg.unified);
  sbx_cgroup_clear(&cg);
  return dir;
}
