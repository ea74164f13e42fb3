/* A container's files through the API, in its tree as it sees it (ids
 * within its range), reached and written as hostd/tree.c does: symlinks
 * resolve inside the tree, a write never goes through what is there.  The
 * volume lock (hostd/provision.h) keeps the tree from being unmounted,
 * swapped or deleted under a call.  A read takes a regular file or a
 * directory, checked on an O_PATH fd before it is opened. */
#include "files.h"

#include "cleanup.h"
#include "db.h"
#include "fdutil.h"
#include "log.h"
#include "provision.h"
#include "resources.h"
#include "storage.h"
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
  OVERFLOW_ID = 65534,         /* how the container sees an id outside its range */
  MAX_ENTRIES = 10000,         /* of a directory listing */
  LOCK_MS = 10000,
};

static struct hd_host *host;

void hd_files_init(struct hd_host *h)
{
  host = h;
}

/* One call: its container, parameters and tree. */
struct target {
  int64_t id, tenant, host_start;
  char path[PATH_MAX];
  bool stat, dir, have_mode;
  int64_t uid, gid, mode;
  int root;                    /* O_PATH on the tree's root */
  bool locked;
};

static void target_close(struct target *t)
{
  if (t->root >= 0)
    close(t->root);
  if (t->locked)
    hd_volume_unlock();
}

/* A string as JSON: as it is when it is UTF-8, else its bytes %XX-encoded
 * (the form ?path= takes) with *encoded set. */
static json_t *name_json(const char *s, bool *encoded)
{
  json_t *j = json_string(s);
  if (j)
    return j;
  char out[PATH_MAX * 3 + 1];
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *) s; *p && o + 4 < sizeof out; p++)
    o += (size_t) (*p < 0x80 && *p != '%' ? snprintf(out + o, 2, "%c", *p) : snprintf(out + o, 4, "%%%02X", *p));
  *encoded = true;
  return json_string(out);
}

/* The path for an error message: as it is when printable as JSON. */
static const char *shown(const char *path)
{
  json_t *j = json_string(path);
  json_decref(j);
  return j ? path : "(not UTF-8)";
}

static void fail_errno(struct hd_call *c, int err, const char *path, const char *what)
{
  static const struct { int err, status; const char *why; } map[] = {
    { ENOENT, 404, "no such file or directory" }, { ENOTDIR, 404, "a component is not a directory" },
    { ELOOP, 400, "too many symlinks" }, { EXDEV, 400, "it would cross a mount" },
    { ENAMETOOLONG, 400, "a name is too long" }, { EISDIR, 409, "it is a directory" },
    { ENOTEMPTY, 409, "the directory is not empty" }, { EEXIST, 409, "it exists" },
    { EACCES, 409, "the file system refuses it" }, { EPERM, 409, "the file system refuses it" },
    { EOVERFLOW, 409, "its owner is outside the container's ids" }, { EROFS, 409, "read-only" },
    { EDQUOT, 422, "the container's disk quota is full" }, { ENOSPC, 422, "the storage pool is full" },
  };
  for (size_t i = 0; i < SH_ARRAY_SIZE(map); i++)
    if (map[i].err == err) {
      hd_api_fail(c, map[i].status, "path", "path %s: %s: %s", shown(path), what, map[i].why);
      return;
    }
  hd_api_fail(c, 500, "path", "path %s: %s: %s", shown(path), what, strerror(err));
}

/* A failure of hd_tree_put or hd_tree_parent, as the call's answer. */
static void put_failed(struct hd_call *c, const sh_error *e)
{
  if (e->err == EINVAL || strcmp(e->step, "replace") == 0)
    hd_api_fail(c, e->err == EINVAL ? 400 : 409, "path", "path %s: %s", shown(e->path), e->msg);
  else if (!e->path[0])
    hd_api_fail(c, 500, NULL, "%s: %s", e->step, e->msg);
  else
    fail_errno(c, e->err, e->path, e->step);
}

/* A host id in the tree as the container sees it. */
static int64_t inside(const struct target *t, int64_t id)
{
  return id >= t->host_start && id < t->host_start + HD_TREE_IDS ? id - t->host_start : OVERFLOW_ID;
}

/* {name, type, size, mode, uid, gid, mtime[, target]}: ids as the container
 * sees them; a symlink's target read at dirfd/name. */
static json_t *stat_json(const struct target *t, const char *key, const char *name, const struct stat *st, int dirfd)
{
  char mode[8];
  bool encoded = false;
  snprintf(mode, sizeof mode, "%04o", (unsigned) (st->st_mode & 07777));
  json_t *o = json_pack("{s:o, s:s, s:I, s:s, s:I, s:I, s:I}", key, name_json(name, &encoded), "type", hd_tree_type_name(st->st_mode),
                        "size", (json_int_t) st->st_size, "mode", mode, "uid", (json_int_t) inside(t, st->st_uid), "gid",
                        (json_int_t) inside(t, st->st_gid), "mtime", (json_int_t) st->st_mtime);
  char target[PATH_MAX];
  ssize_t n = S_ISLNK(st->st_mode) && dirfd >= 0 ? readlinkat(dirfd, name, target, sizeof target - 1) : -1;
  if (o && n >= 0) {
    target[n] = 0;
    json_object_set_new(o, "target", name_json(target, &encoded));
  }
  if (o && encoded)
    json_object_set_new(o, "percent_encoded", json_true());
  return o;
}

/* ---- the call's target ---- */

/* Parameters of each method: the keys it takes. */
static const struct { const char *method, *keys; } method_keys[] = {
  { "GET", " path stat " }, { "PUT", " path uid gid mode type " }, { "DELETE", " path " },
};

static bool parse_id(const char *v, int64_t max, int base, int64_t *out)
{
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, base);
  if (!*v || *end || errno || v[0] == '-' || v[0] == '+' || v[0] == ' ' || x > (unsigned long long) max)
    return false;
  *out = (int64_t) x;
  return true;
}

static bool parse_query(struct hd_call *c, struct target *t)
{
  const char *keys = "";
  for (size_t i = 0; i < SH_ARRAY_SIZE(method_keys); i++)
    if (strcmp(method_keys[i].method, c->method) == 0)
      keys = method_keys[i].keys;
  char key[16], val[PATH_MAX], pad[20];
  size_t len;
  t->uid = t->gid = 0;
  for (const char *q = c->query; hd_query_next(&q, key, sizeof key, val, sizeof val, &len);) {
    snprintf(pad, sizeof pad, " %s ", key);
    bool ok = strstr(keys, pad) != NULL && len == strlen(val);
    if (!ok)
      ;
    else if (strcmp(key, "path") == 0 && (ok = val[0] == '/'))
      memcpy(t->path, val, len + 1);
    else if (strcmp(key, "stat") == 0)
      ok = (t->stat = strcmp(val, "1") == 0) || strcmp(val, "0") == 0;
    else if (strcmp(key, "uid") == 0 || strcmp(key, "gid") == 0)
      ok = parse_id(val, HD_TREE_IDS - 1, 10, key[0] == 'u' ? &t->uid : &t->gid);
    else if (strcmp(key, "mode") == 0)
      ok = (t->have_mode = parse_id(val, 07777, 8, &t->mode));
    else if (strcmp(key, "type") == 0)
      ok = (t->dir = strcmp(val, "directory") == 0) || strcmp(val, "file") == 0;
    if (!ok) {
      hd_api_fail(c, 400, key, "%s: %s (%s takes:%s)", key,
                  strstr(keys, pad) ? "a bad value" : "not a parameter here", c->method, keys);
      return false;
    }
  }
  if (!t->path[0]) {
    hd_api_fail(c, 400, "path", "path: required, absolute (/etc/hostname), in the container's tree");
    return false;
  }
  if (c->body) {
    hd_api_fail(c, 415, NULL, "the body is the file's bytes: send it as application/octet-stream");
    return false;
  }
  if (!t->have_mode)
    t->mode = t->dir ? 0755 : 0644;
  return true;
}

/* Access to container ids[0], the parameters and its tree: false when the
 * call failed. */
static bool begin(struct hd_call *c, enum hd_access access, struct target *t)
{
  *t = (struct target){ .id = c->ids[0], .root = -1 };
  json_t *o = hd_res_load(c, &hd_res_containers, access, &t->tenant);
  if (!o)
    return false;
  char state[16];
  snprintf(state, sizeof state, "%s", json_string_value(json_object_get(o, "state")));
  json_decref(o);
  c->audit_tenant = t->tenant;
  if (!parse_query(c, t))
    return false;
  if (strcmp(state, "creating") == 0 || strcmp(state, "deleting") == 0) {
    hd_api_fail(c, 409, NULL, "container %" PRId64 " is %s: it has no files to reach now", t->id, state);
    return false;
  }
  if (!host || !host->pool) {
    hd_api_fail(c, 503, NULL, "container files need the storage pool, which this process has not opened");
    return false;
  }
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL, "SELECT host_start FROM idmap_ranges WHERE container_id = ?", "i", t->id);
  if (!s || sqlite3_step(s) != SQLITE_ROW) {
    hd_api_fail(c, 500, NULL, "container %" PRId64 " has no id range", t->id);
    return false;
  }
  t->host_start = sqlite3_column_int64(s, 0);
  if (!(t->locked = hd_volume_lock_timed(LOCK_MS))) {
    hd_api_fail(c, 503, NULL, "container %" PRId64 "'s volume stayed busy (mounting, restoring...): try again", t->id);
    return false;
  }
  sh_error e = {0};
  char ref[24];
  hd_container_ref(t->id, ref);
  if (hd_tree_open(host->pool, ref, t->host_start, &t->root, &e) < 0) {
    hd_api_fail(c, e.err == ENOENT ? 409 : 500, NULL, "%s: %s: %s", e.step, e.path, e.msg);
    return false;
  }
  return true;
}

/* The parent directory of the path (O_PATH), and its last name; fails the
 * call on a path that names no entry of its own ("/", "/etc/.."). */
static int parent_of(struct hd_call *c, struct target *t, const char **leaf)
{
  sh_error e = {0};
  int fd = hd_tree_parent(t->root, t->path, leaf, &e);
  if (fd < 0)
    put_failed(c, &e);
  return fd;
}

/* Reopen an O_PATH fd for reading, now that its type is known. */
static int reopen(int fd, int flags)
{
  char p[SH_FD_PATH_MAX];
  return open(sh_fd_path(fd, p), flags | O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

/* ---- reading ---- */

static int name_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

static void list_dir(struct hd_call *c, struct target *t, int fd, const struct stat *st)
{
  int dfd = reopen(fd, O_DIRECTORY);
  _cleanup_closedir_ DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) {
    if (dfd >= 0)
      close(dfd);
    fail_errno(c, errno, t->path, "list");
    return;
  }
  char **names = NULL;
  size_t n = 0;
  bool truncated = false;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    char **nn = n < MAX_ENTRIES ? realloc(names, (n + 1) * sizeof *names) : NULL;
    if (!nn) {
      truncated = true;
      break;
    }
    names = nn;
    if ((names[n] = strdup(de->d_name)))
      n++;
  }
  qsort(names, n, sizeof *names, name_cmp);
  json_t *entries = json_array();
  for (size_t i = 0; i < n; i++) {
    struct stat est;
    if (fstatat(dirfd(d), names[i], &est, AT_SYMLINK_NOFOLLOW) == 0)
      json_array_append_new(entries, stat_json(t, "name", names[i], &est, dirfd(d)));
    free(names[i]);
  }
  free(names);
  json_t *o = stat_json(t, "path", t->path, st, -1);
  json_object_set_new(o, "entries", entries);
  json_object_set_new(o, "truncated", json_boolean(truncated));
  c->status = 200;
  c->result = o;
}

static void read_file(struct hd_call *c, struct target *t, int fd, const struct stat *st)
{
  if ((uint64_t) st->st_size > host->cfg.max_body) {
    hd_api_fail(c, 413, "path", "path %s: %jd bytes, more than max_body (%u)", shown(t->path), (intmax_t) st->st_size,
                host->cfg.max_body);
    return;
  }
  _cleanup_close_ int rfd = reopen(fd, O_NONBLOCK);
  char *buf = rfd >= 0 ? malloc((size_t) st->st_size + 1) : NULL;
  ssize_t n = buf ? sh_read_all(rfd, buf, (size_t) st->st_size) : -errno;
  if (n < 0) {
    free(buf);
    fail_errno(c, (int) -n, t->path, "read");
    return;
  }
  buf[n] = 0;
  c->status = 200;
  c->text = buf;
  c->text_len = (size_t) n;
  c->content_type = "application/octet-stream";
}

void hd_file_get(struct hd_call *c)
{
  _cleanup_(target_close) struct target t;
  if (!begin(c, HD_READ, &t))
    return;
  sh_error e = {0};
  _cleanup_close_ int fd = sh_open_in_root(t.root, t.path, O_PATH, 0, HD_TREE_RESOLVE, &e);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) {
    fail_errno(c, fd < 0 ? e.err : errno, t.path, "open");
    return;
  }
  if (t.stat) {
    c->status = 200;
    c->result = stat_json(&t, "path", t.path, &st, -1);
  } else if (S_ISDIR(st.st_mode)) {
    list_dir(c, &t, fd, &st);
  } else if (S_ISREG(st.st_mode)) {
    read_file(c, &t, fd, &st);
  } else {
    hd_api_fail(c, 409, "path", "path %s: a %s: only regular files and directories are read", shown(t.path),
                hd_tree_type_name(st.st_mode));
  }
}

/* ---- writing ---- */

void hd_file_put(struct hd_call *c)
{
  _cleanup_(target_close) struct target t;
  if (!begin(c, HD_OPERATE, &t))
    return;
  if (c->raw_len > host->cfg.max_body || (t.dir && c->raw_len)) {
    hd_api_fail(c, t.dir ? 400 : 413, NULL, t.dir ? "a directory takes no body" : "more than max_body (%u bytes)",
                host->cfg.max_body);
    return;
  }
  struct hd_tree_entry entry = { t.path, t.uid, t.gid, t.mode, t.dir, false, c->raw, c->raw_len };
  struct stat st;
  bool exists;
  sh_error e = {0};
  if (hd_tree_put(t.root, t.host_start, &entry, &exists, &st, &e) < 0) {
    put_failed(c, &e);
    return;
  }
  c->status = exists ? 200 : 201;
  c->result = stat_json(&t, "path", t.path, &st, -1);
  snprintf(c->detail, sizeof c->detail, "%s %s (%zu bytes, %" PRId64 ":%" PRId64 " %04" PRIo64 ")",
           t.dir ? "directory" : exists ? "replaced" : "wrote", shown(t.path), c->raw_len, t.uid, t.gid, t.mode);
}

void hd_file_delete(struct hd_call *c)
{
  _cleanup_(target_close) struct target t;
  if (!begin(c, HD_OPERATE, &t))
    return;
  const char *leaf;
  _cleanup_close_ int dirfd = parent_of(c, &t, &leaf);
  if (dirfd < 0)
    return;
  struct stat st;
  if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || unlinkat(dirfd, leaf, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0) {
    fail_errno(c, errno, t.path, "remove");
    return;
  }
  c->status = 204;
  snprintf(c->detail, sizeof c->detail, "removed %s %s", hd_tree_type_name(st.st_mode), shown(t.path));
}
