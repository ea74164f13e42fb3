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
};

void hd_usage(struct hd_call *c)
{
  bool everyone = c->who.role == HD_ROLE_ADMIN || c->who.role == HD_ROLE_AUDITOR;
  long long tenant = everyone ? 0 : c->who.tenant_id, from = 0, to = INT64_MAX;
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
    } else if (strncmp(q, "format=csv", n) == 0 && n == 10) {
      csv = true;
    } else if (strncmp(q, "format=json", n) != 0 || n != 11) {
      hd_api_fail(c, 400, NULL, "unknown query parameter \"%.*s\" (tenant, from, to, format=json|csv)", (int) n, q);
      return;
    }
    q += n + (q[n] == '&');
  }
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL,
    "WITH s AS (SELECT *, lag(cpu_usec) OVER w AS prev_cpu_usec, lag(net_in_bytes) OVER w AS prev_net_in_bytes,"
    "   lag(net_out_bytes) OVER w AS prev_net_out_bytes FROM usage_samples"
    "   WHERE (? = 0 OR tenant_id = ?) AND at BETWEEN ? AND ? WINDOW w AS (PARTITION BY container_id ORDER BY at))"
    " SELECT s.tenant_id, s.container_id, coalesce(c.name, ''), count(*), min(at), max(at), " INC("cpu_usec") ","
    " avg(memory_bytes), max(memory_bytes), max(disk_bytes), " INC("net_in_bytes") ", " INC("net_out_bytes")
    " FROM s LEFT JOIN containers c ON c.id = s.container_id GROUP BY s.tenant_id, s.container_id"
    " ORDER BY s.tenant_id, s.container_id", "iiii", (int64_t) tenant, (int64_t) tenant, (int64_t) from, (int64_t) to);
  if (!s) {
    hd_api_fail(c, 500, NULL, "reading usage: %s", sqlite3_errmsg(c->db));
    return;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *f = csv ? open_memstream(&text, &len) : NULL;
  json_t *rows = json_array();
  for (size_t i = 0; f && i < SH_ARRAY_SIZE(columns); i++)
    fprintf(f, "%s%s", columns[i], i + 1 < SH_ARRAY_SIZE(columns) ? "," : "\n");
  while (sqlite3_step(s) == SQLITE_ROW) {
    int64_t v[12];
    for (int i = 0; i < 12; i++)
      v[i] = sqlite3_column_int64(s, i);
    double cpu = (double) v[6] / 1e6;
    const char *name = (const char *) sqlite3_column_text(s, 2);
    if (f) {
      fprintf(f, "%" PRId64 ",%" PRId64 ",%s,%" PRId64 ",%" PRId64 ",%" PRId64 ",%.3f,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
              ",%" PRId64 "\n", v[0], v[1], name, v[3], v[4], v[5], cpu, (int64_t) sqlite3_column_double(s, 7), v[8], v[9], v[10],
              v[11]);
      continue;
    }
    json_array_append_new(rows, json_pack("{s:I, s:I, s:s, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I}", columns[0],
                                          (json_int_t) v[0], columns[1], (json_int_t) v[1], columns[2], name, columns[3],
                                          (json_int_t) v[3], columns[4], (json_int_t) v[4], columns[5], (json_int_t) v[5],
                                          columns[6], cpu, columns[7], (json_int_t) sqlite3_column_double(s, 7), columns[8],
                                          (json_int_t) v[8], columns[9], (json_int_t) v[9], columns[10], (json_int_t) v[10],
                                          columns[11], (json_int_t) v[11]));
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
