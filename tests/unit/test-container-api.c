/* Container routes that need no kernel: the checks files, rebuild, live
 * limits and clone make before they touch storage or cgroups, on an
 * in-memory database (no pool: what would reach the storage answers 503 or
 * queues an operation nobody runs).  And the query-string parser. */
#include "tap.h"
#include "api-call.h"
#include "cleanup.h"
#include "containers.h"
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3 *db;
static const struct hd_principal root = { .role = HD_ROLE_ADMIN, .name = "unix:uid=0" };

static int call_raw(const char *method, const char *path, const char *body, const char *raw, json_t **out)
{
  return api_call(db, &root, method, path, body, NULL, raw, out);
}

static int call(const char *method, const char *path, const char *body, json_t **out)
{
  return api_call(db, &root, method, path, body, NULL, NULL, out);
}

static void query_parser(void)
{
  const char *q = "path=%2Fetc%2Fmy+file&x&mode=0644&cut=abcdefgh&nul=a%00b&bad=%zz";
  char key[8], val[6];
  size_t len;
  static const struct { const char *key, *val; size_t len; } want[] = {
    { "path", "/etc/", 12 }, { "x", "", 0 }, { "mode", "0644", 4 }, { "cut", "abcde", 8 }, { "nul", "a", 3 }, { "bad", "%zz", 3 },
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    ok(hd_query_next(&q, key, sizeof key, val, sizeof val, &len), "pair %zu is there", i);
    is_str(key, want[i].key, "its key");
    is_str(val, want[i].val, "its value, decoded and cut to the buffer");
    is_int((long long) len, (long long) want[i].len, "its full decoded length (a cut or a NUL shows)");
  }
  ok(!hd_query_next(&q, key, sizeof key, val, sizeof val, &len), "then the end");
  const char *none = NULL;
  ok(!hd_query_next(&none, key, sizeof key, val, sizeof val, &len), "no query: no pair");
}

static void files(int64_t ct)
{
  char path[256];
  json_t *r = NULL;
  static const struct { const char *method, *query, *body, *raw; int status; const char *field, *what; } cases[] = {
    { "GET", "", NULL, NULL, 400, "path", "no path" },
    { "GET", "?path=etc/hostname", NULL, NULL, 400, "path", "a relative path" },
    { "GET", "?path=/etc/a%00b", NULL, NULL, 400, "path", "a path with a NUL" },
    { "GET", "?path=/etc&uid=5", NULL, NULL, 400, "uid", "a parameter GET does not take" },
    { "GET", "?path=/etc&stat=2", NULL, NULL, 400, "stat", "stat neither 0 nor 1" },
    { "PUT", "?path=/etc/x&uid=65536", NULL, "", 400, "uid", "a uid outside the container's range" },
    { "PUT", "?path=/etc/x&gid=-1", NULL, "", 400, "gid", "a negative gid" },
    { "PUT", "?path=/etc/x&mode=0800", NULL, "", 400, "mode", "a mode that is not octal" },
    { "PUT", "?path=/etc/x&mode=17777", NULL, "", 400, "mode", "a mode above 07777" },
    { "PUT", "?path=/etc/x&type=fifo", NULL, "", 400, "type", "a type other than file or directory" },
    { "PUT", "?path=/etc/x", "{\"a\":1}", NULL, 415, "", "a JSON body" },
    { "DELETE", "?path=/etc/x&mode=0644", NULL, NULL, 400, "mode", "a parameter DELETE does not take" },
    { "GET", "?path=/etc/hostname", NULL, NULL, 503, "", "a good call, without the pool" },
    { "PUT", "?path=/etc/x&uid=1000&gid=1000&mode=0600", NULL, "bytes", 503, "", "a good write, without the pool" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(path, sizeof path, "/1.0/containers/%lld/files%s", (long long) ct, cases[i].query);
    is_int(call_raw(cases[i].method, path, cases[i].body, cases[i].raw, &r), cases[i].status, "files: %s: %d", cases[i].what,
           cases[i].status);
    is_str(api_err_field(r), cases[i].field, "naming the field (%s)", cases[i].field[0] ? cases[i].field : "none");
    json_decref(r);
  }
  snprintf(path, sizeof path, "/1.0/containers/%lld/snapshots", (long long) ct);
  is_int(call_raw("POST", path, NULL, "bytes", NULL), 415, "raw bytes to a JSON route: 415");
}

/* Mark every operation done, as if the worker had run them. */
static void ops_done(void)
{
  hd_db_exec(db, NULL, "UPDATE operations SET status = 'success'", NULL);
}

/* Calls that must fail: each body's status and the field it names. */
struct refusal {
  const char *body;
  int status;
  const char *field, *what;
};

static void refused(const char *method, const char *path, const char *topic, const struct refusal *bad, size_t n)
{
  json_t *r = NULL;
  for (size_t i = 0; i < n; i++) {
    is_int(call(method, path, bad[i].body, &r), bad[i].status, "%s: %s: %d", topic, bad[i].what, bad[i].status);
    is_str(api_err_field(r), bad[i].field, "naming %s", bad[i].field[0] ? bad[i].field : "no field");
    json_decref(r);
  }
}

static void rebuild(int64_t ct)
{
  char path[128];
  json_t *r = NULL;
  snprintf(path, sizeof path, "/1.0/containers/%lld/state", (long long) ct);
  static const struct refusal bad[] = {
    { "{\"action\":\"rebuild\",\"image\":\"nope\"}", 400, "image", "an image that does not exist" },
    { "{\"action\":\"rebuild\",\"image\":7}", 400, "image", "an image that is not a name" },
    { "{\"action\":\"rebuild\",\"timeout\":5}", 400, "timeout", "a timeout (rebuilds stop nothing)" },
    { "{\"action\":\"start\",\"image\":\"debian\"}", 400, "image", "an image for another action" },
  };
  refused("PUT", path, "rebuild", bad, sizeof bad / sizeof bad[0]);
  is_int(call("PUT", path, "{\"action\":\"rebuild\"}", &r), 202, "rebuild a stopped container: 202");
  json_t *op = json_object_get(r, "operation");
  is_str(json_string_value(json_object_get(op, "kind")), "rebuild", "an operation of kind rebuild");
  is_int(json_integer_value(json_object_get(op, "steps")), 2, "of two steps (image, volume)");
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL, "SELECT args FROM operations WHERE id = ?", "i",
                                              (int64_t) json_integer_value(json_object_get(op, "id")));
  is_str(s && sqlite3_step(s) == SQLITE_ROW ? (const char *) sqlite3_column_text(s, 0) : "", "{\"image\":\"busybox\",\"old_image\":\"busybox\"}",
         "from its own image, the old one kept for the compensation");
  json_decref(r);
  is_int(call("PUT", path, "{\"action\":\"rebuild\"}", NULL), 409, "while it is pending, another: 409");
  ops_done();
  is_int(call("PUT", path, "{\"action\":\"rebuild\",\"image\":\"debian\"}", NULL), 202, "rebuild from another image: 202");
  ops_done();
  hd_db_exec(db, NULL, "UPDATE containers SET state = 'running' WHERE id = ?", "i", ct);
  is_int(call("PUT", path, "{\"action\":\"rebuild\"}", &r), 409, "a running container: 409");
  like(json_string_value(json_object_get(json_object_get(r, "error"), "message")), "stop it first", "saying to stop it first");
  json_decref(r);
  hd_db_exec(db, NULL, "UPDATE containers SET state = 'stopped' WHERE id = ?", "i", ct);
}

/* A container's column, as the API shows it. */
static int64_t column(int64_t ct, const char *key)
{
  char path[64];
  json_t *r = NULL;
  snprintf(path, sizeof path, "/1.0/containers/%lld", (long long) ct);
  call("GET", path, NULL, &r);
  int64_t v = json_integer_value(json_object_get(r, key));
  json_decref(r);
  return v;
}

static void limits(int64_t ct)
{
  char path[64];
  json_t *r = NULL;
  snprintf(path, sizeof path, "/1.0/containers/%lld", (long long) ct);
  is_int(call("POST", "/1.0/containers", "{\"name\":\"web2\",\"tenant_id\":1,\"memory_mib\":400}", &r), 202, "a second container, 400 MiB");
  int64_t ct2 = json_integer_value(json_object_get(json_object_get(r, "operation"), "container_id"));
  json_decref(r);
  hd_db_exec(db, NULL, "UPDATE containers SET state = 'stopped'", NULL);
  ops_done();
  char path2[64];
  snprintf(path2, sizeof path2, "/1.0/containers/%lld", (long long) ct2);
  static const struct refusal bad[] = {
    { "{\"memory_mib\":513}", 422, "memory_mib", "above the plan's per-container size" },
    { "{\"memory_mib\":0}", 422, "memory_mib", "zero" },
    { "{\"pids\":\"many\"}", 400, "pids", "not an integer" },
    { "{\"bandwidth_mbit\":5}", 400, "bandwidth_mbit", "bandwidth (not changed live)" },
    { "{\"disk_mib\":100}", 503, "", "a disk quota without the storage pool" },
  };
  refused("PATCH", path, "PATCH sizes", bad, sizeof bad / sizeof bad[0]);
  is_int(column(ct, "disk_mib"), 1024, "a refused change leaves the row as it was");
  is_int(call("PATCH", path2, "{\"memory_mib\":512, \"pids\":50}", &r), 200, "web2 to 512 MiB: the tenant's 1024 in all: 200");
  is_int(json_integer_value(json_object_get(r, "memory_mib")) * 1000 + json_integer_value(json_object_get(r, "pids")), 512050,
         "the answer shows the new sizes");
  json_decref(r);
  is_int(call("PATCH", path2, "{\"memory_mib\":511}", NULL), 200, "and back down");
  is_int(call("PATCH", path2, "{\"memory_mib\":512}", NULL), 200, "and up again");
  is_int(call("POST", "/1.0/containers", "{\"name\":\"web3\",\"tenant_id\":1,\"memory_mib\":1,\"cpu_millis\":1}", &r), 422,
         "a third container would pass the tenant's memory total: 422");
  is_str(api_err_field(r), "memory_mib", "naming memory_mib");
  json_decref(r);
  is_int(call("PATCH", path, "{\"cpu_millis\":1000, \"memory_mib\":100}", NULL), 200,
         "a change of cpu alone is held to the cpu total only (memory going down)");
  hd_db_exec(db, NULL, "UPDATE containers SET memory_mib = 600 WHERE id = ?", "i", ct);   /* as if the plan had shrunk */
  is_int(call("PATCH", path2, "{\"cpu_millis\":500}", NULL), 200, "a tenant over its memory total may still change cpu");
  is_int(call("PATCH", path2, "{\"memory_mib\":500}", &r), 422, "but not grow memory");
  json_decref(r);
  is_int(call("PATCH", path, "{\"restart_policy\":\"always\"}", NULL), 200, "the restart policy changes as before");
  char state[80];
  snprintf(state, sizeof state, "%s/state", path);
  is_int(call("PUT", state, "{\"action\":\"start\"}", NULL), 202, "a start queued");
  is_int(call("PATCH", path, "{\"pids\":10}", NULL), 409, "sizes while an operation is pending: 409");
  ops_done();
  is_int(column(ct, "pids"), 100, "unchanged");
}

static void clone(int64_t ct)
{
  char path[96], src[64];
  json_t *r = NULL;
  snprintf(path, sizeof path, "/1.0/containers/%lld/clone", (long long) ct);
  snprintf(src, sizeof src, "/1.0/containers/%lld", (long long) ct);
  /* Two containers of three: room for one more, within the totals. */
  hd_db_exec(db, NULL, "UPDATE containers SET memory_mib = 100, cpu_millis = 100", NULL);
  static const struct refusal bad[] = {
    { "{}", 400, "name", "no name" },
    { "{\"name\":\"web\"}", 409, "name", "the name of a container the tenant has" },
    { "{\"name\":\"w\",\"image\":\"debian\"}", 400, "image", "an image (a clone has its source's)" },
    { "{\"name\":\"w\",\"memory_mib\":513}", 422, "memory_mib", "a size above the plan's" },
    { "{\"name\":\"w\",\"restart_policy\":\"often\"}", 400, "restart_policy", "a bad restart policy" },
  };
  refused("POST", path, "clone", bad, sizeof bad / sizeof bad[0]);
  hd_db_exec(db, NULL, "UPDATE containers SET state = 'running' WHERE id = ?", "i", ct);
  is_int(call("POST", path, "{\"name\":\"w\"}", NULL), 409, "clone a running container: 409");
  hd_db_exec(db, NULL, "UPDATE containers SET state = 'stopped' WHERE id = ?", "i", ct);
  is_int(call("POST", path, "{\"name\":\"copy\",\"pids\":7}", &r), 202, "clone a stopped container: 202");
  json_t *op = json_object_get(r, "operation");
  int64_t cc = json_integer_value(json_object_get(op, "container_id"));
  is_str(json_string_value(json_object_get(op, "kind")), "clone", "an operation of kind clone");
  ok(cc != ct && cc > 0, "for a new container (%lld)", (long long) cc);
  json_decref(r);
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL,
    "SELECT (SELECT count(DISTINCT host_start) FROM idmap_ranges WHERE container_id IN (?1, ?2)),"
    " (SELECT count(*) FROM mcs_pairs WHERE container_id = ?2), (SELECT count(*) FROM addresses WHERE container_id = ?2),"
    " (SELECT image_id FROM containers WHERE id = ?1) = (SELECT image_id FROM containers WHERE id = ?2)", "ii", ct, cc);
  ok(s && sqlite3_step(s) == SQLITE_ROW, "its allocations are there");
  is_int(sqlite3_column_int(s, 0), 2, "its own id range");
  is_int(sqlite3_column_int(s, 1) * 10 + sqlite3_column_int(s, 2), 12, "its own MCS pair and two addresses (IPv4, IPv6)");
  is_int(sqlite3_column_int(s, 3), 1, "and its source's image");
  is_int(column(cc, "memory_mib") * 1000 + column(cc, "pids"), 100007, "the source's sizes, or those asked for");
  char state[96];
  snprintf(state, sizeof state, "%s/state", src);
  is_int(call("PUT", state, "{\"action\":\"start\"}", &r), 409, "while the clone is pending, the source does not start");
  like(json_string_value(json_object_get(json_object_get(r, "error"), "message")), "in progress", "the clone's operation named");
  json_decref(r);
  is_int(call("DELETE", src, NULL, NULL), 409, "nor is it deleted");
  ops_done();
  hd_db_exec(db, NULL, "UPDATE containers SET state = 'stopped'", NULL);
  is_int(call("POST", path, "{\"name\":\"copy2\"}", &r), 422, "a fourth container on a plan of three: 422");
  like(json_string_value(json_object_get(json_object_get(r, "error"), "message")), "3 of the 3 containers", "counted against the plan");
  json_decref(r);
}

int main(void)
{
  sh_error e = {0};
  if (hd_db_open(":memory:", &db, &e) < 0)
    return 1;
  static struct hd_config cfg;
  hd_config_defaults(&cfg);
  hd_containers_init(&cfg, NULL);
  query_parser();
  json_t *r = NULL;
  call("POST", "/1.0/plans", "{\"name\":\"p\",\"cpu_millis\":1000,\"memory_mib\":512,\"pids\":100,\"disk_mib\":1024,"
       "\"bandwidth_mbit\":10,\"max_containers\":3,\"total_cpu_millis\":2500,\"total_memory_mib\":1024,\"total_disk_mib\":4096,"
       "\"net_default\":\"allow\",\"seccomp\":\"default\"}", NULL);
  hd_db_exec(db, &e, "INSERT INTO images (name, created_at) VALUES ('busybox', 0), ('debian', 0)", NULL);
  call("POST", "/1.0/tenants", "{\"name\":\"a\",\"plan_id\":1}", NULL);
  is_int(call("POST", "/1.0/containers", "{\"name\":\"web\",\"tenant_id\":1}", &r), 202, "a container to work on");
  int64_t ct = json_integer_value(json_object_get(json_object_get(r, "operation"), "container_id"));
  json_decref(r);
  /* As if the worker had created it. */
  hd_db_exec(db, &e, "UPDATE containers SET state = 'stopped'", NULL);
  ops_done();
  files(ct);
  rebuild(ct);
  limits(ct);
  clone(ct);
  sqlite3_close(db);
  return tap_done();
}
