/* Orphans: runtime state, volumes and bundles named c<id> for no container. */
#include "reconcile.h"

#include "cleanup.h"
#include "ctpolicy.h"
#include "db.h"
#include "jsonutil.h"
#include "log.h"
#include "network.h"
#include "provision.h"
#include "sandbox.h"
#include "tenant-cg.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A derived name's id: "c42" -> 42; 0 for names that are not ours. */
static int64_t ref_id(const char *name)
{
  if (name[0] != 'c' || name[1] < '1' || name[1] > '9')
    return 0;
  char *end;
  long long v = strtoll(name + 1, &end, 10);
  return *end ? 0 : v;
}

static bool known(sqlite3 *db, int64_t id)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL, "SELECT 1 FROM containers WHERE id = ?", "i", id);
  return s && sqlite3_step(s) == SQLITE_ROW;
}

/* Add the ids named in a JSON array of objects (key) or a directory. */
static void collect(json_t *arr, const char *key, const char *dir, int64_t **ids, size_t *n)
{
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    int64_t id = ref_id(json_string_value(json_object_get(v, key)) ?: "");
    if (id && (*ids = realloc(*ids, (*n + 1) * sizeof **ids)))
      (*ids)[(*n)++] = id;
  }
  _cleanup_closedir_ DIR *d = dir ? opendir(dir) : NULL;
  struct dirent *de;
  while (d && (de = readdir(d))) {
    int64_t id = ref_id(de->d_name);
    if (id && (*ids = realloc(*ids, (*n + 1) * sizeof **ids)))
      (*ids)[(*n)++] = id;
  }
}

/* Whether a container may hold kernel objects now: it is not stopped (it
 * runs, or a failure left it for someone to look at), or an operation on it
 * is open (finishing it puts them right). */
static bool may_hold(sqlite3 *db, int64_t id)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL,
    "SELECT 1 FROM containers c WHERE c.id = ? AND (c.state != 'stopped' OR EXISTS"
    " (SELECT 1 FROM operations o WHERE o.container_id = c.id AND o.status IN ('pending', 'running')))", "i", id);
  return s && sqlite3_step(s) == SQLITE_ROW;
}

static bool tenant_known(sqlite3 *db, int64_t id)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL, "SELECT 1 FROM tenants WHERE id = ?", "i", id);
  return s && sqlite3_step(s) == SQLITE_ROW;
}

/* Each kind of kernel object under a derived name: c<id> containers' cgroups
 * (below t<tenant>), policy pins and veths (sh<hex id>).  Those of a
 * container that may not hold them go; so do tenant cgroups of tenants that
 * are gone.  Returns how many went. */
static int sweep_cgroups(sqlite3 *db)
{
  sh_error e = {0};
  char buf[600];
  int n = 0;
  _cleanup_free_ char *root = hd_cgroup_root_dir(&e);
  _cleanup_closedir_ DIR *d = root ? opendir(root) : NULL;
  struct dirent *de;
  while (d && (de = readdir(d))) {
    char *end;
    int64_t t = de->d_name[0] == 't' ? strtoll(de->d_name + 1, &end, 10) : 0;
    if (t <= 0 || *end || de->d_type != DT_DIR)
      continue;
    char tdir[4200];
    snprintf(tdir, sizeof tdir, "%s/%s", root, de->d_name);
    _cleanup_closedir_ DIR *td = opendir(tdir);
    struct dirent *ce;
    while (td && (ce = readdir(td))) {
      int64_t id = ce->d_type == DT_DIR ? ref_id(ce->d_name) : 0;
      if (!id || may_hold(db, id))
        continue;
      char path[64];
      hd_cgroup_path(t, id, path, sizeof path);
      if (hd_cgroup_remove(path, &e) < 0)
        sh_warn("reconcile: cgroup %s: %s", path, sh_error_str(&e, buf, sizeof buf));
      else
        n++, sh_info("reconcile: removed cgroup %s (container %" PRId64 " does not run)", path, id);
      sh_error_clear(&e);
    }
    if (!tenant_known(db, t)) {
      if (hd_tenant_cgroup_remove(t, &e) < 0)
        sh_warn("reconcile: tenant cgroup t%" PRId64 ": %s", t, sh_error_str(&e, buf, sizeof buf));
      else
        n++, sh_info("reconcile: removed the cgroup of tenant %" PRId64 " (no such tenant)", t);
      sh_error_clear(&e);
    }
  }
  return n;
}

static int sweep_pins(struct hd_host *h, sqlite3 *db)
{
  int n = 0;
  _cleanup_closedir_ DIR *d = opendir(h->cfg.bpf_dir);
  struct dirent *de;
  while (d && (de = readdir(d))) {
    int64_t id = ref_id(de->d_name);
    if (!id || may_hold(db, id))
      continue;
    sh_error e = {0};
    char buf[600];
    if (hd_policy_remove(h, id, &e) < 0)
      sh_warn("reconcile: policy pins of c%" PRId64 ": %s", id, sh_error_str(&e, buf, sizeof buf));
    else
      n++, sh_info("reconcile: removed the policy pins of c%" PRId64 " (it does not run)", id);
  }
  return n;
}

static int sweep_veths(sqlite3 *db)
{
  int n = 0;
  struct if_nameindex *ifs = if_nameindex();
  for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
    char *end;
    if (strncmp(i->if_name, "sh", 2) != 0 || !i->if_name[2])
      continue;
    int64_t id = strtoll(i->if_name + 2, &end, 16);
    if (*end || id <= 0 || may_hold(db, id))
      continue;
    sh_error e = {0};
    char buf[600];
    if (hd_net_unplug(id, &e) < 0)
      sh_warn("reconcile: veth %s: %s", i->if_name, sh_error_str(&e, buf, sizeof buf));
    else
      n++, sh_info("reconcile: removed veth %s (container %" PRId64 " does not run)", i->if_name, id);
  }
  if (ifs)
    if_freenameindex(ifs);
  return n;
}

/* The runtime's state and rootfs mounts of containers that are stopped
 * with nothing open (those the database does not know go below, whole). */
static int sweep_stopped(struct hd_host *h, sqlite3 *db, json_t *runtime)
{
  int n = 0;
  size_t i;
  json_t *v;
  json_array_foreach(runtime, i, v) {
    int64_t id = ref_id(json_string_value(json_object_get(v, "id")) ?: "");
    if (!id || !known(db, id) || may_hold(db, id))
      continue;
    char ref[24];
    hd_container_ref(id, ref);
    sh_error e = {0};
    char buf[600];
    if (hd_runtime_sweep(h, ref, &e) < 0)
      sh_warn("reconcile: %s: %s", ref, sh_error_str(&e, buf, sizeof buf));
    else
      n++, sh_info("reconcile: removed the runtime state of %s (it is stopped)", ref);
  }
  return n;
}

int hd_reconcile(struct hd_host *h, sqlite3 *db, sh_error *e)
{
  _cleanup_free_ char *rt = NULL, *vols = NULL;
  _cleanup_free_ int64_t *ids = NULL;
  size_t n = 0;
  json_error_t je;
  if (sbx_list(h->sbx_root, &rt, e) < 0 || sbx_volume_list(h->pool, &vols, e) < 0)
    return -e->err;
  _cleanup_json_ json_t *a = json_loads(rt, 0, &je), *b = json_loads(vols, 0, &je);
  collect(a, "id", NULL, &ids, &n);
  collect(b, "id", h->bundles, &ids, &n);
  int removed = 0;
  for (size_t i = 0; i < n; i++) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++)
      seen = ids[j] == ids[i];
    if (seen || known(db, ids[i]))
      continue;
    char ref[24];
    hd_container_ref(ids[i], ref);
    sh_error oe = {0};
    char buf[600];
    if (hd_orphan_remove(h, ref, &oe) < 0) {
      sh_warn("reconcile: orphan %s: %s", ref, sh_error_str(&oe, buf, sizeof buf));
      continue;
    }
    sh_info("reconcile: removed orphan %s (no container %" PRId64 " in the database)", ref, ids[i]);
    removed++;
  }
  removed += sweep_stopped(h, db, a) + sweep_cgroups(db) + sweep_pins(h, db) + sweep_veths(db);
  /* The nft tables as the database says (nothing when there is no network). */
  sh_error ne = {0};
  char nb[600];
  if (hd_net_apply(h, db, &ne) < 0)
    sh_warn("reconcile: nftables: %s", sh_error_str(&ne, nb, sizeof nb));
  return removed;
}
