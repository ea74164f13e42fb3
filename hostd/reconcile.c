/* Orphans: runtime state, volumes and bundles named c<id> for no container. */
#include "reconcile.h"

#include "cleanup.h"
#include "db.h"
#include "jsonutil.h"
#include "log.h"
#include "network.h"
#include "provision.h"
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
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
  /* The nft tables as the database says (nothing when there is no network). */
  sh_error ne = {0};
  char nb[600];
  if (hd_net_apply(h, db, &ne) < 0)
    sh_warn("reconcile: nftables: %s", sh_error_str(&ne, nb, sizeof nb));
  return removed;
}
