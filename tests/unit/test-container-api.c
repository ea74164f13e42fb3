/* Container routes that need no kernel: the checks files, rebuild, live
 * limits and clone make before they touch storage or cgroups, on an
 * in-memory database (no pool: what would reach the storage answers 503 or
 * queues an operation nobody runs).  And the query-string parser, and the
 * SSH keys of a create: checked, and written into a scratch tree. */
#include "tap.h"
#include "api-call.h"
#include "cleanup.h"
#include "containers.h"
#include "db.h"
#include "sshkeys.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Key data whose blob names its type (made as OpenSSH would lay it out). */
#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
#define ECDSA "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhsc" \
  "HR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

static void ssh_key_check(void)
{
  static const struct { const char *text; int keys; const char *why; } cases[] = {
    { ED25519 " me@laptop", 1, NULL },
    { "# mine\r\n\n  " ED25519 "\r\n" ECDSA " two words\n", 2, NULL },
    { "", 0, NULL },
    { "\n# only a comment\n", 0, NULL },
    { ED25519 "\nssh-dss AAAAB3NzaC1kc3MAAACB me", 0, "line 2: not \"<type> <base64> [comment]\"" },
    { "from=\"10.0.0.1\" " ED25519, 0, "line 1: not \"<type> <base64> [comment]\"" },
    { "ssh-ed25519", 0, "line 1: the key's data is missing" },
    { "ssh-ed25519\nAAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f", 0, "line 1: the key's data is missing" },
    { "ssh-ed25519 AAAA!!!!", 0, "line 1: its data is not base64" },
    { "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4", 0, "line 1: its data is not base64" },
    { "ssh-ed25519 AA=A", 0, "line 1: its data is not base64" },
    { "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f", 0,
      "line 1: its data is not a key of the type it names" },
    { "ssh-rsa AAAAB3NzaC1yc2E=", 0, "line 1: its data is not a key of the type it names" },
    { "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", 0, "line 1: a private key" },
    { ED25519 "\n\n" ED25519 " a\rb", 0, "line 3: a carriage return" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sh_error e = {0};
    char *normal = NULL;
    int n = -1, r = hd_ssh_keys_check(cases[i].text, &normal, &n, &e);
    if (!cases[i].why) {
      is_int(r, 0, "keys case %zu passes", i);
      is_int(n, cases[i].keys, "with %d keys", cases[i].keys);
      ok(normal && !strchr(normal, '\r') && (!*normal || normal[strlen(normal) - 1] == '\n'), "written with LF line ends, one at the end");
    } else {
      is_int(r, -EINVAL, "keys case %zu refused", i);
      like(e.msg, cases[i].why, "saying %s", cases[i].why);
      ok(!strstr(e.msg, "AAAA"), "without quoting the key");
    }
    free(normal);
  }
  char *big = malloc(HD_SSH_KEYS_MAX + 2), *normal = NULL;
  memset(big, '#', HD_SSH_KEYS_MAX + 1);
  big[HD_SSH_KEYS_MAX + 1] = 0;
  sh_error e = {0};
  int n;
  is_int(hd_ssh_keys_check(big, &normal, &n, &e), -EINVAL, "more than 16 KiB of text: refused");
  like(e.msg, "at most 16384", "saying the limit");
  free(big);
}

/* The same ids on every entry, whoever runs the test: its own uid is the
 * "host start" of the scratch tree (container root is host_start + 0). */
static void ssh_key_install(void)
{
  char dir[] = "/tmp/sandhost-keys.XXXXXX";
  ok(mkdtemp(dir) != NULL, "a scratch tree");
  int tree = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int64_t hs = getuid();
  char p[128];
  struct stat st;
  sh_error e = {0};
  is_int(hd_ssh_keys_install(tree, hs, ED25519 " a\n", &e), 0, "keys into a tree without /root");
  static const struct { const char *path; unsigned mode; } want[] = {
    { "root", 040700 }, { "root/.ssh", 040700 }, { "root/.ssh/authorized_keys", 0100600 },
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, want[i].path);
    ok(lstat(p, &st) == 0, "%s is there", want[i].path);
    is_int(st.st_mode, want[i].mode, "a %s of mode %04o", S_ISDIR(st.st_mode) ? "directory" : "file", want[i].mode & 07777);
    is_int(st.st_uid * 1000000 + st.st_gid, hs * 1000000 + getgid(), "owned by the container's root (host ids of its 0:0)");
  }
  snprintf(p, sizeof p, "%s/root", dir);
  chmod(p, 0755);
  is_int(hd_ssh_keys_install(tree, hs, ED25519 " b\n", &e), 0, "run again (a resumed step)");
  char got[256] = "";
  snprintf(p, sizeof p, "%s/root/.ssh/authorized_keys", dir);
  FILE *f = fopen(p, "r");
  size_t len = f ? fread(got, 1, sizeof got - 1, f) : 0;
  got[len] = 0;
  if (f)
    fclose(f);
  is_str(got, ED25519 " b\n", "the file holds the keys, rewritten");
  snprintf(p, sizeof p, "%s/root", dir);
  is_int(stat(p, &st) == 0 ? st.st_mode & 07777 : 0, 0755, "an existing /root is left as it is");
  /* A hostile tree: .ssh a symlink out of it, then a file. */
  snprintf(p, sizeof p, "%s/root/.ssh/authorized_keys", dir);
  unlink(p);
  snprintf(p, sizeof p, "%s/root/.ssh", dir);
  rmdir(p);
  char out[] = "/tmp/sandhost-keys-out.XXXXXX";
  ok(mkdtemp(out) && symlink(out, p) == 0, "/root/.ssh a symlink to a directory outside the tree");
  is_int(hd_ssh_keys_install(tree, hs, ED25519 "\n", &e), -EEXIST, "refused");
  is_str(e.path, "/root/.ssh", "naming /root/.ssh");
  like(e.msg, "a symlink is there", "saying what is there");
  snprintf(p, sizeof p, "%s/authorized_keys", out);
  ok(access(p, F_OK) != 0, "nothing written through the link");
  snprintf(p, sizeof p, "%s/root/.ssh", dir);
  unlink(p);
  rmdir(out);
  close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  sh_error_clear(&e);
  is_int(hd_ssh_keys_install(tree, hs, ED25519 "\n", &e), -EEXIST, "a file at /root/.ssh: refused");
  is_str(e.path, "/root/.ssh", "naming /root/.ssh");
  unlink(p);
  snprintf(p, sizeof p, "%s/root", dir);
  rmdir(p);
  rmdir(dir);
  close(tree);
}

/* POST /1.0/containers with ssh_authorized_keys: a refusal names the field
 * and the line; the keys go to the operation, the audit counts them. */
static void ssh_key_api(void)
{
  json_t *r = NULL;
  static const struct refusal bad[] = {
    { "{\"name\":\"k\",\"tenant_id\":1,\"ssh_authorized_keys\":\"" ED25519 "\\nssh-ed25519 nope!\"}", 400, "ssh_authorized_keys",
      "a bad second key" },
    { "{\"name\":\"k\",\"tenant_id\":1,\"ssh_authorized_keys\":[\"" ED25519 "\"]}", 400, "ssh_authorized_keys", "keys not as a string" },
  };
  refused("POST", "/1.0/containers", "create with keys", bad, sizeof bad / sizeof bad[0]);
  is_int(call("POST", "/1.0/containers", bad[0].body, &r), 400, "the bad key again");
  like(json_string_value(json_object_get(json_object_get(r, "error"), "message")), "ssh_authorized_keys: line 2: its data is not base64",
       "the message names the field and the line");
  json_decref(r);
  is_int(call("POST", "/1.0/containers", "{\"name\":\"k\",\"tenant_id\":1,\"ssh_authorized_keys\":\"" ED25519 " a\\r\\n" ECDSA "\"}", &r),
         202, "two good keys: 202");
  json_t *op = json_object_get(r, "operation");
  int64_t opid = json_integer_value(json_object_get(op, "id")), ct = json_integer_value(json_object_get(op, "container_id"));
  is_int(json_integer_value(json_object_get(op, "steps")), 3, "a create of three steps (volume, ssh-keys, stopped)");
  json_decref(r);
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL, "SELECT json_extract(args, '$.ssh_authorized_keys') FROM operations WHERE id = ?",
                                              "i", opid);
  is_str(s && sqlite3_step(s) == SQLITE_ROW ? (const char *) sqlite3_column_text(s, 0) : "", ED25519 " a\n" ECDSA "\n",
         "the operation's arguments hold the keys, with LF line ends");
  _cleanup_stmt_ sqlite3_stmt *a = hd_db_query(db, NULL,
    "SELECT detail FROM audit_log WHERE method = 'POST' AND path = '/1.0/containers' AND status = 202 ORDER BY id DESC LIMIT 1", NULL);
  is_str(a && sqlite3_step(a) == SQLITE_ROW ? (const char *) sqlite3_column_text(a, 0) : "", "with 2 SSH keys",
         "the audit says how many keys, not what they are");
  hd_db_exec(db, NULL, "DELETE FROM containers WHERE id = ?", "i", ct);
  is_int(call("POST", "/1.0/containers", "{\"name\":\"k2\",\"tenant_id\":1,\"ssh_authorized_keys\":\"# none\"}", &r), 202,
         "keys text without a key: 202");
  op = json_object_get(r, "operation");
  _cleanup_stmt_ sqlite3_stmt *n = hd_db_query(db, NULL, "SELECT args FROM operations WHERE id = ?", "i",
                                              (int64_t) json_integer_value(json_object_get(op, "id")));
  is_str(n && sqlite3_step(n) == SQLITE_ROW ? (const char *) sqlite3_column_text(n, 0) : "", "{}", "and no keys in its arguments");
  int64_t ct2 = json_integer_value(json_object_get(op, "container_id"));
  json_decref(r);
  hd_db_exec(db, NULL, "DELETE FROM containers WHERE id = ?", "i", ct2);
  ops_done();
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
  ssh_key_check();
  ssh_key_install();
  ssh_key_api();
  rebuild(ct);
  limits(ct);
  clone(ct);
  sqlite3_close(db);
  return tap_done();
}
