/* The events table and its endpoint. */
#include "events.h"

#include "cleanup.h"
#include "db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hd_event_emit(sqlite3 *db, int64_t tenant, const char *type, json_t *body)
{
  _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  hd_db_exec(db, NULL, "INSERT INTO events (tenant_id, type, body, at) VALUES (?, ?, ?, ?)", "Itti", tenant, type,
             text ? text : "{}", hd_now());
}

json_t *hd_events_since(sqlite3 *db, const struct hd_principal *who, int64_t since, int limit, int64_t *last)
{
  bool everyone = who->role == HD_ROLE_ADMIN || who->role == HD_ROLE_AUDITOR;
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL,
    "SELECT id, coalesce(tenant_id, 0), type, body, at FROM events WHERE id > ? AND (? OR tenant_id = ?) ORDER BY id LIMIT ?",
    "iiii", since, (int64_t) everyone, who->tenant_id, (int64_t) limit);
  json_t *list = json_array();
  *last = since;
  json_error_t je;
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    *last = sqlite3_column_int64(s, 0);
    json_t *body = json_loads((const char *) sqlite3_column_text(s, 3), 0, &je);
    json_array_append_new(list, json_pack("{s:I, s:I, s:s, s:o, s:I}", "id", (json_int_t) *last, "tenant_id",
                                          (json_int_t) sqlite3_column_int64(s, 1), "type", sqlite3_column_text(s, 2),
                                          "body", body ? body : json_object(), "at", (json_int_t) sqlite3_column_int64(s, 4)));
  }
  /* Ids others may see still move the cursor on, so a stream does not re-read them. */
  _cleanup_stmt_ sqlite3_stmt *m = hd_db_query(db, NULL, "SELECT coalesce(max(id), 0) FROM events WHERE id > ? AND id <= ?", "ii",
                                              since, json_array_size(list) == (size_t) limit ? *last : INT64_MAX);
  if (m && sqlite3_step(m) == SQLITE_ROW && sqlite3_column_int64(m, 0) > *last)
    *last = sqlite3_column_int64(m, 0);
  return list;
}

void hd_events_prune(sqlite3 *db)
{
  hd_db_exec(db, NULL, "DELETE FROM events WHERE at < ?", "i", hd_now() - 7 * 86400);
}

void hd_events(struct hd_call *c)
{
  long long since = 0;
  bool stream = false;
  for (const char *q = c->query; q && *q;) {
    size_t n = strcspn(q, "&");
    if (sscanf(q, "since=%lld", &since) == 1 && since >= 0)
      ;
    else if (n == 8 && strncmp(q, "stream=1", 8) == 0)
      stream = true;
    else {
      hd_api_fail(c, 400, NULL, "unknown query parameter \"%.*s\" (since=N, stream=1)", (int) n, q);
      return;
    }
    q += n + (q[n] == '&');
  }
  int64_t last;
  json_t *list = hd_events_since(c->db, &c->who, since, 1000, &last);
  c->status = 200;
  c->result = json_pack("{s:o, s:I}", "events", list, "last", (json_int_t) last);
  if (stream)
    c->stream_since = last ? last : -1;   /* the transport keeps the connection and follows */
}
