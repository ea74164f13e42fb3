/* Lists' entity tags, If-None-Match, the encoded-list cache and paging:
 * a list is answered 304 while its table did not change (other tables'
 * writes do not count), and fresh as soon as any connection (a worker's
 * too) changes it; a cached list is never another
 * principal's; pages follow "next" to the end. */
#include "tap.h"
#include "api-call.h"
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sqlite3 *db;

/* GET path as who with If-None-Match inm; the status, the ETag in tag. */
static int get(const struct hd_principal *who, const char *path, const char *inm, char *tag, json_t **out)
{
  return api_call_tagged(db, who, "GET", path, NULL, NULL, inm, NULL, out, tag);
}

static size_t count(json_t *r, const char *key)
{
  return json_array_size(json_object_get(r, key));
}

int main(void)
{
  const char *path = "test-list-cache.db";
  char wal[64], shm[64];
  snprintf(wal, sizeof wal, "%s-wal", path);
  snprintf(shm, sizeof shm, "%s-shm", path);
  unlink(path), unlink(wal), unlink(shm);
  sh_error e = {0};
  sqlite3 *worker = NULL;
  if (hd_db_open(path, &db, &e) < 0 || hd_db_open(path, &worker, &e) < 0) {
    diag("open %s: %s", path, e.msg);
    return 1;
  }
  struct hd_principal root = { .role = HD_ROLE_ADMIN, .name = "root" };
  json_t *r = NULL;
  char tag[64], tag2[64], body[256];
  is_int(api_call(db, &root, "POST", "/1.0/plans",
                  "{\"name\":\"p\",\"cpu_millis\":1000,\"memory_mib\":512,\"pids\":512,\"disk_mib\":1024,\"bandwidth_mbit\":100,"
                  "\"max_containers\":10,\"total_cpu_millis\":2000,\"total_memory_mib\":2048,\"total_disk_mib\":4096,"
                  "\"net_default\":\"allow\",\"seccomp\":\"default\"}",
                  NULL, NULL, NULL), 201, "a plan");
  for (int i = 0; i < 7; i++) {
    snprintf(body, sizeof body, "{\"name\":\"t%d\",\"plan_id\":1}", i);
    is_int(api_call(db, &root, "POST", "/1.0/tenants", body, NULL, NULL, NULL), 201, "tenant t%d", i);
  }
  is_int(api_call(db, &root, "POST", "/1.0/users", "{\"name\":\"own\",\"role\":\"owner\",\"tenant_id\":2}", NULL, NULL, &r),
         201, "an owner of t1");
  struct hd_principal owner = { .role = HD_ROLE_OWNER, .tenant_id = 2, .user_id = json_integer_value(json_object_get(r, "id")),
                                .name = "own" };
  json_decref(r);

  is_int(get(&root, "/1.0/tenants", NULL, tag, &r), 200, "a list");
  is_int((long long) count(r, "tenants"), 7, "of 7 tenants");
  json_decref(r);
  ok(tag[0] == '"', "with an entity tag (%s)", tag);
  is_int(get(&root, "/1.0/tenants", tag, NULL, &r), 304, "If-None-Match with it: 304");
  ok(!r, "and no body");
  snprintf(body, sizeof body, "\"x\", W/%s", tag);
  is_int(get(&root, "/1.0/tenants", body, NULL, NULL), 304, "a weak form of it in a list of tags: 304");
  is_int(get(&root, "/1.0/tenants", "\"x\"", NULL, &r), 200, "another tag: 200");
  is_int((long long) count(r, "tenants"), 7, "the whole list (from the cache)");
  json_decref(r);

  is_int(get(&owner, "/1.0/tenants", NULL, tag2, &r), 200, "the owner's list");
  is_int((long long) count(r, "tenants"), 1, "is its own tenant only, never the admin's cached list");
  json_decref(r);
  ok(strcmp(tag, tag2) != 0, "and carries another tag");
  is_int(get(&owner, "/1.0/tenants", tag, NULL, NULL), 200, "the admin's tag gets the owner no 304");

  /* What a list does not show does not change its tag: a usage sample. */
  ok(hd_db_exec(worker, &e, "INSERT INTO usage_samples VALUES (1, 1, 1, 0, 0, 0, 0, 0)", NULL) >= 0, "a usage sample written");
  is_int(get(&root, "/1.0/tenants", tag, NULL, NULL), 304, "the tenants' list is still 304");

  /* Another connection commits, as a worker does. */
  ok(hd_db_exec(worker, &e, "UPDATE tenants SET name = 'renamed' WHERE id = 3", NULL) >= 0, "a worker's change");
  is_int(get(&root, "/1.0/tenants", tag, tag2, &r), 200, "the old tag then gets 200");
  ok(strcmp(tag, tag2) != 0, "with a new tag");
  char *text = json_dumps(r, JSON_COMPACT);
  like(text, "renamed", "and the change");
  free(text);
  json_decref(r);
  is_int(api_call(db, &root, "PATCH", "/1.0/tenants/4", "{\"name\":\"patched\"}", NULL, NULL, NULL), 200, "a change through the API");
  is_int(get(&root, "/1.0/tenants", tag2, NULL, &r), 200, "gets 200 too");
  text = json_dumps(r, JSON_COMPACT);
  like(text, "patched", "with it");
  free(text);
  json_decref(r);

  /* Pages. */
  int64_t after = 0, seen = 0;
  int pages = 0;
  for (char next[128] = "/1.0/tenants?limit=3"; next[0] && pages < 10; pages++) {
    is_int(get(&root, next, NULL, NULL, &r), 200, "page %s", next);
    seen += (int64_t) count(r, "tenants");
    json_t *last = json_array_get(json_object_get(r, "tenants"), count(r, "tenants") - 1);
    ok(!last || json_integer_value(json_object_get(last, "id")) > after, "ids ascend across pages");
    after = last ? json_integer_value(json_object_get(last, "id")) : after;
    const char *n = json_string_value(json_object_get(r, "next"));
    snprintf(next, sizeof next, "%s", n ? n : "");
    json_decref(r);
  }
  is_int(seen, 7, "3 pages of at most 3 hold all 7");
  is_int(pages, 3, "in 3 pages");
  is_int(get(&root, "/1.0/tenants?limit=0", NULL, NULL, &r), 400, "limit 0: 400");
  is_str(api_err_field(r), "limit", "naming limit");
  json_decref(r);
  is_int(get(&root, "/1.0/tenants?after=x", NULL, NULL, &r), 400, "after x: 400");
  is_str(api_err_field(r), "after", "naming after");
  json_decref(r);

  sqlite3_close(worker);
  sqlite3_close(db);
  unlink(path), unlink(wal), unlink(shm);
  return tap_done();
}
