/* First-fit allocation of id ranges and MCS pairs. */
#include "alloc.h"

#include "db.h"

#include <errno.h>

int hd_alloc_idmap(sqlite3 *db, int64_t container_id, const struct hd_id_range *host, uint32_t *host_start,
                   sh_error *e)
{
  int64_t slots = host->count / HD_IDMAP_SIZE;
  /* The lowest slot that is free: 0, or one past a taken one. */
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, e,
    "SELECT s FROM (SELECT 0 AS s UNION ALL SELECT slot + 1 FROM idmap_ranges)"
    " WHERE s NOT IN (SELECT slot FROM idmap_ranges) ORDER BY s LIMIT 1", NULL);
  if (!s)
    return -e->err;
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW)
    return hd_db_err(db, rc, e, "allocate id range");
  int64_t slot = sqlite3_column_int64(s, 0);
  if (slot >= slots)
    return sh_err(e, ENOSPC, "allocate id range", "idmap",
                  "all %lld ranges of 65536 ids in host ids %u-%u are in use", (long long) slots, host->start,
                  host->start + host->count - 1);
  int64_t start = (int64_t) host->start + slot * HD_IDMAP_SIZE;
  int r = hd_db_exec(db, e, "INSERT INTO idmap_ranges (container_id, slot, host_start) VALUES (?, ?, ?)", "iii",
                     container_id, slot, start);
  if (r < 0)
    return r;
  *host_start = (uint32_t) start;
  return 0;
}

int hd_alloc_mcs(sqlite3 *db, int64_t container_id, int *c1, int *c2, sh_error *e)
{
  /* Candidates: the first pair, and the successor of every taken pair in
   * (c1, c2) order; the lowest that is free. */
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, e,
    "SELECT a, b FROM (SELECT 0 AS a, 1 AS b"
    "   UNION ALL SELECT c1, c2 + 1 FROM mcs_pairs WHERE c2 < 1023"
    "   UNION ALL SELECT c1 + 1, c1 + 2 FROM mcs_pairs WHERE c2 = 1023 AND c1 < 1022)"
    " WHERE NOT EXISTS (SELECT 1 FROM mcs_pairs WHERE c1 = a AND c2 = b) ORDER BY a, b LIMIT 1", NULL);
  if (!s)
    return -e->err;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE)
    return sh_err(e, ENOSPC, "allocate MCS pair", "mcs", "all 523,776 category pairs are in use");
  if (rc != SQLITE_ROW)
    return hd_db_err(db, rc, e, "allocate MCS pair");
  int a = sqlite3_column_int(s, 0), b = sqlite3_column_int(s, 1);
  int r = hd_db_exec(db, e, "INSERT INTO mcs_pairs (container_id, c1, c2) VALUES (?, ?, ?)", "iii", container_id,
                     (int64_t) a, (int64_t) b);
  if (r < 0)
    return r;
  *c1 = a;
  *c2 = b;
  return 0;
}
