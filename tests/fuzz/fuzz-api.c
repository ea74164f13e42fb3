/* libFuzzer: the API's JSON request decoding.  The body goes through what
 * hostd/http.c does with a request (json_loadb with duplicate keys
 * rejected, a malformed body refused with 400) and then through
 * hd_api_handle as a POST, PATCH or PUT to each route that takes a body,
 * as the provider admin, on an in-memory database that holds a plan, a
 * tenant, a user, an image and a container so every route finds its
 * object.  Invariant: every answer is a status with a JSON document, and a
 * 4xx names its code. */
#include "fuzz.h"
#include "api.h"
#include "config.h"
#include "containers.h"
#include "db.h"

static sqlite3 *db;
static const struct hd_principal admin = { .role = HD_ROLE_ADMIN, .name = "unix:uid=0" };

static const struct { const char *method, *path; } routes[] = {
  { "POST", "/1.0/plans" },
  { "PATCH", "/1.0/plans/1" },
  { "POST", "/1.0/tenants" },
  { "PATCH", "/1.0/tenants/1" },
  { "POST", "/1.0/users" },
  { "PATCH", "/1.0/users/1" },
  { "POST", "/1.0/users/1/tokens" },
  { "PATCH", "/1.0/images/1" },
  { "POST", "/1.0/containers" },
  { "PATCH", "/1.0/containers/1" },
  { "PUT", "/1.0/containers/1/state" },
  { "PUT", "/1.0/containers/1/policy" },
  { "POST", "/1.0/containers/1/snapshots" },
};

static int handle(const char *method, const char *path, json_t *body, int refuse, const char *msg)
{
  struct hd_call c = { .db = db, .who = admin, .method = method, .path = path, .body = body,
                       .source = "fuzz", .refuse_status = refuse, .refuse_msg = msg };
  hd_api_handle(&c);
  int status = c.status;
  FUZZ_CHECK(status >= 100 && status < 600, "%s %s: status %d", method, path, status);
  FUZZ_CHECK(c.result || c.text, "%s %s: no answer", method, path);
  if (status >= 400)
    FUZZ_CHECK(json_is_object(json_object_get(c.result, "error")) &&
               json_is_string(json_object_get(json_object_get(c.result, "error"), "code")),
               "%s %s: a %d without the error shape", method, path, status);
  hd_call_clear(&c);
  return status;
}

static void seed(const char *method, const char *path, const char *body)
{
  json_error_t je;
  json_t *j = json_loads(body, 0, &je);
  int st = handle(method, path, j, 0, NULL);
  json_decref(j);
  FUZZ_CHECK(st < 300, "setting up %s %s: %d", method, path, st);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  sh_error e = {0};
  static struct hd_config cfg;  /* the daemon's defaults: id ranges, subnets */
  hd_config_defaults(&cfg);
  hd_containers_init(&cfg, NULL);   /* no daemon: no pool, no runtime */
  FUZZ_CHECK(hd_db_open(":memory:", &db, &e) == 0, "open the database: %s", e.msg);
  seed("POST", "/1.0/plans", "{\"name\":\"basic\",\"cpu_millis\":1000,\"memory_mib\":512,\"pids\":256,\"disk_mib\":1024,"
       "\"bandwidth_mbit\":50,\"max_containers\":3,\"total_cpu_millis\":2000,\"total_memory_mib\":1024,"
       "\"total_disk_mib\":3072,\"net_default\":\"allow\",\"seccomp\":\"default\"}");
  FUZZ_CHECK(hd_db_exec(db, &e, "INSERT OR IGNORE INTO images (name, created_at) VALUES ('busybox', 0)", NULL) >= 0, "image");
  seed("POST", "/1.0/tenants", "{\"name\":\"acme\",\"plan_id\":1}");
  seed("POST", "/1.0/users", "{\"name\":\"alice\",\"tenant_id\":1,\"role\":\"owner\"}");
  seed("POST", "/1.0/containers", "{\"name\":\"web\",\"tenant_id\":1}");
  /* As if the worker had created it: stopped, its operation done. */
  FUZZ_CHECK(hd_db_exec(db, &e, "UPDATE containers SET state = 'stopped'", NULL) >= 0 &&
             hd_db_exec(db, &e, "UPDATE operations SET status = 'success'", NULL) >= 0, "settle the container");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* As http.c: an empty body is no body; a malformed one is refused. */
  json_t *body = NULL;
  char msg[256] = "";
  int refuse = 0;
  if (size > 0) {
    json_error_t je;
    body = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, &je);
    if (!body) {
      snprintf(msg, sizeof msg, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
      refuse = 400;
    }
  }
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    int st = handle(routes[i].method, routes[i].path, body, refuse, refuse ? msg : NULL);
    if (refuse)
      FUZZ_CHECK(st == 400, "a malformed body answered %d", st);
  }
  json_decref(body);
  return 0;
}
