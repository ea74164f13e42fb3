/* Usage over a period: counters summed over their increases (a counter that
 * goes down was reset by a restart: its new value is the increase), gauges
 * averaged and maxed. */
#include "usage.h"

#include "cleanup.h"
#include "db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INC(col) "sum(CASE WHEN prev_" col " IS NULL THEN 0 WHEN " col " >= prev_" col " THEN " col " - prev_" col \
                 " ELSE " col " END)"

static const char *const columns[] = {
  "tenant_id", "container_id", "container", "samples", "from", "to", "cpu_seconds", "memory_avg_bytes",
  "memory_max_bytes", "disk_max_bytes", "net_in_bytes", "net_out_bytes",
  "bucket_start",   /* only with step */
};

void hd_usage(struct hd_call *c)
{
  bool everyone = c->who.role == HD_ROLE_ADMIN || c->who.role == HD_ROLE_AUDITOR;
  long long tenant = everyone ? 0 : c->who.tenant_id, from = 0, to = INT64_MAX, step = 0, container = 0;
  bool csv = false;
  for (const char *q = c->query; q && *q;) {
    size_t n = strcspn(q, "&");
    long long v;
    if (sscanf(q, "tenant=%lld", &v) == 1) {
      if (!everyone && v != c->who.tenant_id) {
        hd_api_fail(c, 404, "tenant", "tenant: there is no tenant %lld", v);
        return;
      }
      tenant = v;
    } else if (sscanf(q, "from=%lld", &v) == 1) {
      from = v;
    } else if (sscanf(q, "to=%lld", &v) == 1) {
      to = v;
    } else if (sscanf(q, "container=%lld", &v) == 1) {
      container = v;   /* another tenant's simply has no rows here */
    } else if (sscanf(q, "step=%lld", &v) == 1) {
      if (v < 1) {
        hd_api_fail(c, 400, "step", "step: %lld is not a number of seconds (1 or more)", v);
        return;
      }
      step = v;
    } else if (strncmp(q, "format=csv", n) == 0 && n == 10) {
      csv = true;
    } else if (strncmp(q, "format=json", n) != 0 || n != 11) {
      hd_api_fail(c, 400, NULL, "unknown query parameter \"%.*s\" (tenant, container, from, to, step, format=json|csv)", (int) n,
                  q);
      return;
    }
    q += n + (q[n] == '&');
  }
  if (step && to == INT64_MAX) {
    hd_api_fail(c, 400, "to", "to: a period cut into steps needs its end");
    return;
  }
  /* Counters' increases come from the sample before, also when it lies
   * before the bucket (or before the period): lag runs over every sample,
   * the period is applied after it. */
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL,
    "WITH s AS (SELECT *, lag(cpu_usec) OVER w AS prev_cpu_usec, lag(net_in_bytes) OVER w AS prev_net_in_bytes,"
    "   lag(net_out_bytes) OVER w AS prev_net_out_bytes FROM usage_samples"
    "   WHERE (?1 = 0 OR tenant_id = ?1) AND (?5 = 0 OR container_id = ?5) AND at BETWEEN ?2 - 3600 AND ?3"
    "   WINDOW w AS (PARTITION BY container_id ORDER BY at))"
    " SELECT s.tenant_id, s.container_id, coalesce(c.name, ''), count(*), min(at), max(at), " INC("cpu_usec") ","
    " avg(memory_bytes), max(memory_bytes), max(disk_bytes), " INC("net_in_bytes") ", " INC("net_out_bytes") ","
    " CASE WHEN ?4 > 0 THEN ?2 + (at - ?2) / ?4 * ?4 ELSE 0 END AS bucket"
    " FROM s LEFT JOIN containers c ON c.id = s.container_id WHERE at BETWEEN ?2 AND ?3"
    " GROUP BY s.tenant_id, s.container_id, bucket ORDER BY s.tenant_id, s.container_id, bucket", "iiiii", (int64_t) tenant,
    (int64_t) from, (int64_t) to, (int64_t) step, (int64_t) container);
  if (!s) {
    hd_api_fail(c, 500, NULL, "reading usage: %s", sqlite3_errmsg(c->db));
    return;
  }
  size_t n_cols = SH_ARRAY_SIZE(columns) - (step ? 0 : 1);
  char *text = NULL;
  size_t len = 0;
  FILE *f = csv ? open_memstream(&text, &len) : NULL;
  json_t *rows = json_array();
  for (size_t i = 0; f && i < n_cols; i++)
    fprintf(f, "%s%s", columns[i], i + 1 < n_cols ? "," : "\n");
  while (sqlite3_step(s) == SQLITE_ROW) {
    int64_t v[13];
    for (int i = 0; i < 13; i++)
      v[i] = sqlite3_column_int64(s, i);
    v[7] = (int64_t) sqlite3_column_double(s, 7);   /* the average */
    double cpu = (double) v[6] / 1e6;
    const char *name = (const char *) sqlite3_column_text(s, 2);
    json_t *row = f ? NULL : json_object();
    for (size_t i = 0; i < n_cols; i++) {
      if (f) {
        if (i == 2)
          fprintf(f, "%s,", name);
        else if (i == 6)
          fprintf(f, "%.3f,", cpu);
        else
          fprintf(f, "%" PRId64 "%s", v[i], i + 1 < n_cols ? "," : "\n");
        continue;
      }
      json_object_set_new(row, columns[i], i == 2 ? json_string(name) : i == 6 ? json_real(cpu) : json_integer(v[i]));
    }
    if (row)
      json_array_append_new(rows, row);
  }
  c->status = 200;
  if (f) {
    fclose(f);
    json_decref(rows);
    c->text = text;
    c->content_type = "text/csv";
    return;
  }
  c->result = json_pack("{s:o}", "usage", rows);
}
