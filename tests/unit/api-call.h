/* One REST call without HTTP, for the unit tests: the path may carry a
 * query, the body is JSON text (or raw bytes, as application/octet-stream
 * would bring them).  The status; the result kept in *out (may be NULL). */
#pragma once

#include "api.h"

#include <stdio.h>
#include <string.h>

/* With an If-None-Match too, and the answer's ETag copied to etag (64 bytes, or NULL). */
static inline int api_call_tagged(sqlite3 *db, const struct hd_principal *who, const char *method, const char *path,
                                  const char *body, const char *if_match, const char *if_none_match, const char *raw,
                                  json_t **out, char *etag)
{
  struct hd_call c = { .db = db, .who = *who, .method = method, .if_match = if_match, .if_none_match = if_none_match,
                       .source = "test", .raw = raw, .raw_len = raw ? strlen(raw) : 0 };
  char p[512];
  snprintf(p, sizeof p, "%s", path);
  char *q = strchr(p, '?');
  if (q) {
    *q = 0;
    c.query = q + 1;
  }
  c.path = p;
  json_error_t je;
  c.body = body ? json_loads(body, 0, &je) : NULL;
  hd_api_handle(&c);
  int st = c.status;
  if (out) {
    /* Lists come encoded (as sent, from hostd's list cache). */
    json_error_t te;
    *out = c.result ? json_incref(c.result) : c.text ? json_loadb(c.text, c.text_len, 0, &te) : NULL;
  }
  if (etag)
    snprintf(etag, 64, "%s", c.etag);
  hd_call_clear(&c);
  json_decref(c.body);
  return st;
}

static inline int api_call(sqlite3 *db, const struct hd_principal *who, const char *method, const char *path, const char *body,
                           const char *if_match, const char *raw, json_t **out)
{
  return api_call_tagged(db, who, method, path, body, if_match, NULL, raw, out, NULL);
}

/* The field an error names ("" for none). */
static inline const char *api_err_field(json_t *r)
{
  const char *f = json_string_value(json_object_get(json_object_get(r, "error"), "field"));
  return f ? f : "";
}
