/* Safe archive extraction and tree export through libarchive.  libarchive
 * reads and writes the formats; every filesystem change is made here,
 * fd-relative, so an archive can never steer a write outside its target. */
#include "archive-io.h"
#include "cleanup.h"
#include "fdutil.h"
#include "rmtree.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_BYTES (16ULL << 30)
#define DEFAULT_MAX_ENTRIES 2000000ULL
#define PATH_LIMIT 4095
#define NAME_LIMIT 255
#define WHITEOUT ".wh."
#define OPAQUE ".wh..wh..opq"

static void archive_freep(struct archive **a)
{
  if (*a)
    archive_read_free(*a);
}

/* ---- a set of paths: what this archive (or layer) wrote ---- */

enum { SEEN_IMPLICIT = 1, SEEN_EXPLICIT = 2 };

struct pathset {
  char **keys;
  unsigned char *how;
  size_t cap, n;
};

static uint64_t fnv(const char *s)
{
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ULL;
  return h;
}

static size_t set_slot(const struct pathset *s, const char *k)
{
  size_t i = fnv(k) & (s->cap - 1);
  while (s->keys[i] && strcmp(s->keys[i], k) != 0)
    i = (i + 1) & (s->cap - 1);
  return i;
}

static int set_get(const struct pathset *s, const char *k)
{
  if (!s->cap)
    return 0;
  size_t i = set_slot(s, k);
  return s->keys[i] ? s->how[i] : 0;
}

static int set_put(struct pathset *s, const char *k, int how)
{
  if ((s->n + 1) * 2 > s->cap) {
    struct pathset g = { .cap = s->cap ? s->cap * 2 : 1024 };
    g.keys = calloc(g.cap, sizeof *g.keys);
    g.how = calloc(g.cap, 1);
    if (!g.keys || !g.how) {
      free(g.keys);
      free(g.how);
      return -ENOMEM;
    }
    for (size_t i = 0; i < s->cap; i++)
      if (s->keys[i]) {
        size_t j = set_slot(&g, s->keys[i]);
        g.keys[j] = s->keys[i];
        g.how[j] = s->how[i];
        g.n++;
      }
    free(s->keys);
    free(s->how);
    *s = g;
  }
  size_t i = set_slot(s, k);
  if (!s->keys[i]) {
    if (!(s->keys[i] = strdup(k)))
      return -ENOMEM;
    s->n++;
  }
  if (how > s->how[i])
    s->how[i] = (unsigned char) how;
  return 0;
}

static void set_free(struct pathset *s)
{
  for (size_t i = 0; i < s->cap; i++)
    free(s->keys[i]);
  free(s->keys);
  free(s->how);
  *s = (struct pathset){0};
}

/* ---- paths ---- */

/* Normalise an entry name in place: no leading "/" or "./", no "//", no
 * "/./", no trailing "/".  ".." anywhere is refused. */
static int normalise(char *p, const char *orig, sh_error *e)
{
  char *o = p;
  const char *i = p;
  while (*i) {
    while (*i == '/')
      i++;
    if (!*i)
      break;
    const char *c = i;
    while (*i && *i != '/')
      i++;
    size_t len = (size_t) (i - c);
    if (len == 1 && c[0] == '.')
      continue;
    if (len == 2 && c[0] == '.' && c[1] == '.')
      return sh_err(e, EINVAL, "extract", orig, "a '..' component: the entry would leave the tree");
    if (len > NAME_LIMIT)
      return sh_err(e, ENAMETOOLONG, "extract", orig, "a name of %zu bytes (limit %d)", len, NAME_LIMIT);
    if (o != p)
      *o++ = '/';
    memmove(o, c, len);
    o += len;
  }
  *o = 0;
  if ((size_t) (o - p) > PATH_LIMIT)
    return sh_err(e, ENAMETOOLONG, "extract", orig, "a path of %zu bytes (limit %d)", (size_t) (o - p),
                  PATH_LIMIT);
  return 0;
}

/* Does a relative symlink target, read from the directory at depth (the
 * number of components of the link's parent), climb above the root? */
static bool escapes(const char *target, int depth)
{
  const char *t = target;
  while (*t) {
    while (*t == '/')
      t++;
    const char *c = t;
    while (*t && *t != '/')
      t++;
    size_t len = (size_t) (t - c);
    if (len == 2 && c[0] == '.' && c[1] == '.') {
      if (--depth < 0)
        return true;
    } else if (len && !(len == 1 && c[0] == '.')) {
      depth++;
    }
  }
  return false;
}

static int open_beneath(int dirfd, const char *path, int flags)
{
  struct open_how how = {
    .flags = (uint64_t) (flags | O_CLOEXEC | O_NOFOLLOW),
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  return (int) syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* ---- extraction ---- */

struct dirtime {
  int dirfd;        /* borrowed from the router, or rootfd */
  char *rel;
  struct timespec ts[2];
};

struct xctx {
  int rootfd;
  const struct sh_extract_opts *o;
  struct sh_extract_stats *st;
  sh_error *e;
  uint64_t max_bytes, max_entries;
  struct pathset seen;      /* keyed "<dirfd>:<rel>" */
  struct dirtime *times;
  size_t n_times, cap_times;
  char **opaque;            /* OCI: "<dirfd>:<rel>" of opaque dirs */
  size_t n_opaque;
  /* The last parent directory opened, kept: archives list siblings together. */
  int cache_dirfd;
  char *cache_parent;
  int cache_fd;
  bool cache_stale;         /* something was removed: the cached dir may be gone */
};

static void key_of(char *buf, size_t len, int dirfd, const char *rel)
{
  snprintf(buf, len, "%d:%s", dirfd, rel);
}

/* Open (making missing directories) the parent of rel below dirfd. */
static void cache_drop(struct xctx *x);

static int open_parent(struct xctx *x, int dirfd, const char *parent, const char *entry)
{
  if (x->cache_stale) {
    cache_drop(x);
    x->cache_stale = false;
  }
  if (x->cache_fd >= 0 && x->cache_dirfd == dirfd && strcmp(x->cache_parent, parent) == 0)
    return x->cache_fd;
  int fd = -1;
  if (!*parent) {
    fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
  } else {
    fd = open_beneath(dirfd, parent, O_PATH | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      /* Make the missing directories one by one, as tar does. */
      _cleanup_free_ char *copy = strdup(parent);
      if (!copy)
        return sh_err(x->e, ENOMEM, "extract", entry, NULL);
      int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
      char prefix[PATH_LIMIT + 2] = "";
      for (char *save = NULL, *c = strtok_r(copy, "/", &save); c && cur >= 0; c = strtok_r(NULL, "/", &save)) {
        snprintf(prefix + strlen(prefix), sizeof prefix - strlen(prefix), "%s%s", *prefix ? "/" : "", c);
        if (mkdirat(cur, c, 0755) == 0) {
          char key[PATH_LIMIT + 32];
          key_of(key, sizeof key, dirfd, prefix);
          if (set_put(&x->seen, key, SEEN_IMPLICIT) < 0) {
            close(cur);
            return sh_err(x->e, ENOMEM, "extract", entry, NULL);
          }
        } else if (errno != EEXIST) {
          int r = sh_errno(x->e, "extract: make parent", entry);
          close(cur);
          return r;
        }
        int next = open_beneath(cur, c, O_PATH | O_DIRECTORY);
        close(cur);
        cur = next;
      }
      fd = cur;
    }
    if (fd < 0)
      return sh_err(x->e, errno, "extract", entry,
                    errno == ELOOP || errno == EXDEV || errno == ENOTDIR
                        ? "a parent is a symlink or not a directory: not followed"
                        : "cannot open the parent directory");
  }
  if (x->cache_fd >= 0)
    close(x->cache_fd);
  free(x->cache_parent);
  x->cache_parent = strdup(parent);
  x->cache_fd = x->cache_parent ? fd : -1;
  x->cache_dirfd = dirfd;
  if (x->cache_fd < 0) {
    close(fd);
    return sh_err(x->e, ENOMEM, "extract", entry, NULL);
  }
  return fd;
}

static void cache_drop(struct xctx *x)
{
  if (x->cache_fd >= 0)
    close(x->cache_fd);
  x->cache_fd = -1;
  free(x->cache_parent);
  x->cache_parent = NULL;
}

static const char *proc_path(char *buf, size_t len, int parentfd, const char *leaf)
{
  snprintf(buf, len, "/proc/self/fd/%d/%s", parentfd, leaf);
  return buf;
}

/* Owner, mode and xattrs on the created leaf (never followed). */
static int apply_meta(struct xctx *x, struct archive_entry *ae, int parentfd, const char *leaf,
                      bool is_link, const char *entry)
{
  uid_t uid = (uid_t) archive_entry_uid(ae);
  gid_t gid = (gid_t) archive_entry_gid(ae);
  if (fchownat(parentfd, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return sh_errno(x->e, "extract: chown", entry);
  /* chmod after chown: chown clears setuid and setgid. */
  if (!is_link && fchmodat(parentfd, leaf, archive_entry_perm(ae) & 07777, 0) < 0)
    return sh_errno(x->e, "extract: chmod", entry);
  char p[PATH_LIMIT + 64];
  const char *name;
  const void *val;
  size_t size;
  archive_entry_xattr_reset(ae);
  while (archive_entry_xattr_next(ae, &name, &val, &size) == ARCHIVE_OK) {
    if (lsetxattr(proc_path(p, sizeof p, parentfd, leaf), name, val, size, 0) < 0)
      return sh_err(x->e, errno, "extract: set xattr", entry, "%s", name);
  }
  struct timespec ts[2] = {
    { .tv_sec = archive_entry_mtime(ae), .tv_nsec = archive_entry_mtime_nsec(ae) },
    { .tv_sec = archive_entry_mtime(ae), .tv_nsec = archive_entry_mtime_nsec(ae) },
  };
  if (utimensat(parentfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return sh_errno(x->e, "extract: set times", entry);
  return 0;
}

/* What is at parent/leaf already: an OCI layer replaces it, anything else
 * is a duplicate. */
static int clear_leaf(struct xctx *x, int parentfd, const char *leaf, bool want_dir, const char *key,
                      const char *entry)
{
  struct stat sb;
  if (fstatat(parentfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : sh_errno(x->e, "extract: stat", entry);
  int how = set_get(&x->seen, key);
  if (how == SEEN_EXPLICIT)
    return sh_err(x->e, EEXIST, "extract", entry, "a duplicate entry");
  if (want_dir && S_ISDIR(sb.st_mode))
    return 1; /* keep the directory and its children */
  if (!(x->o->flags & SH_EXTRACT_OCI_LAYER) && how == 0)
    return sh_err(x->e, EEXIST, "extract", entry, "already exists in the target");
  if (how == SEEN_IMPLICIT && !S_ISDIR(sb.st_mode))
    return sh_err(x->e, EEXIST, "extract", entry, "a duplicate entry");
  x->cache_stale = true;
  int r = sh_rmtree_at(parentfd, leaf, x->e);
  return r < 0 ? r : 0;
}

static int write_data(struct xctx *x, struct archive *a, int fd, int64_t size, const char *entry)
{
  const void *buf;
  size_t len;
  int64_t off;
  for (;;) {
    int r = archive_read_data_block(a, &buf, &len, &off);
    if (r == ARCHIVE_EOF)
      break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return sh_err(x->e, EIO, "extract: read", entry, "%s", archive_error_string(a));
    /* The header declared the size; data beyond it is a lie. */
    if (off < 0 || (uint64_t) off + len > (uint64_t) size)
      return sh_err(x->e, EFBIG, "extract", entry, "more data than the header declares");
    for (size_t done = 0; done < len;) {
      ssize_t n = pwrite(fd, (const char *) buf + done, len - done, off + (off_t) done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return sh_errno(x->e, "extract: write", entry);
      done += (size_t) n;
    }
  }
  /* Holes at the end of a sparse file. */
  if (ftruncate(fd, size) < 0)
    return sh_errno(x->e, "extract: truncate", entry);
  return 0;
}

static int do_whiteout(struct xctx *x, int dirfd, int parentfd, const char *parent, const char *leaf,
                       const char *entry)
{
  x->st->whiteouts++;
  char key[PATH_LIMIT + 32];
  if (strcmp(leaf, OPAQUE) == 0) {
    key_of(key, sizeof key, dirfd, parent);
    char **no = realloc(x->opaque, (x->n_opaque + 1) * sizeof *no);
    if (!no || !(no[x->n_opaque] = strdup(key))) {
      if (no)
        x->opaque = no;
      return sh_err(x->e, ENOMEM, "extract", entry, NULL);
    }
    x->opaque = no;
    x->n_opaque++;
    return 0;
  }
  const char *victim = leaf + strlen(WHITEOUT);
  if (!*victim || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0 || strchr(victim, '/'))
    return sh_err(x->e, EINVAL, "extract", entry, "a whiteout without a valid name");
  x->cache_stale = true;
  return sh_rmtree_at(parentfd, victim, x->e);
}

static int extract_entry(struct xctx *x, struct archive *a, struct archive_entry *ae)
{
  const char *raw = archive_entry_pathname(ae);
  if (!raw)
    return sh_err(x->e, EINVAL, "extract", "(no name)", "an entry without a name");
  if (++x->st->entries > x->max_entries)
    return sh_err(x->e, E2BIG, "extract", raw, "more than %" PRIu64 " entries", x->max_entries);
  _cleanup_free_ char *path = strdup(raw);
  if (!path)
    return sh_err(x->e, ENOMEM, "extract", raw, NULL);
  int r = normalise(path, raw, x->e);
  if (r < 0)
    return r;
  int dirfd = x->rootfd;
  const char *rel = path;
  if (x->o->route) {
    r = x->o->route(x->o->route_ud, path, &dirfd, &rel);
    if (r < 0)
      return x->e->err ? r : sh_err(x->e, -r, "extract", raw, "refused by the importer");
    if (r == 0)
      return 0;
  }
  if (!*rel)
    return 0; /* the root directory itself: its metadata is the caller's */

  char parent[PATH_LIMIT + 1];
  const char *slash = strrchr(rel, '/');
  const char *leaf = slash ? slash + 1 : rel;
  snprintf(parent, sizeof parent, "%.*s", slash ? (int) (slash - rel) : 0, rel);
  int depth = 0;
  for (const char *c = parent; *parent && c; c = strchr(c + 1, '/'))
    depth++;

  mode_t type = archive_entry_filetype(ae);
  const char *hard = archive_entry_hardlink(ae);
  bool oci = x->o->flags & SH_EXTRACT_OCI_LAYER;

  if (type == AE_IFCHR || type == AE_IFBLK) {
    x->st->devices_skipped++;
    return 0;
  }
  if (type == AE_IFSOCK)
    return 0;
  if (!hard && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFIFO)
    return sh_err(x->e, EINVAL, "extract", raw, "an entry of unknown type 0%o", (unsigned) type);

  int parentfd = open_parent(x, dirfd, parent, raw);
  if (parentfd < 0)
    return parentfd;
  if (oci && strncmp(leaf, WHITEOUT, strlen(WHITEOUT)) == 0)
    return do_whiteout(x, dirfd, parentfd, parent, leaf, raw);

  char key[PATH_LIMIT + 32];
  key_of(key, sizeof key, dirfd, rel);
  r = clear_leaf(x, parentfd, leaf, type == AE_IFDIR && !hard, key, raw);
  if (r < 0)
    return r;
  bool exists = r == 1;

  if (hard) {
    _cleanup_free_ char *t = strdup(hard);
    if (!t)
      return sh_err(x->e, ENOMEM, "extract", raw, NULL);
    if ((r = normalise(t, hard, x->e)) < 0)
      return r;
    int tdirfd = x->rootfd;
    const char *trel = t;
    if (x->o->route && (x->o->route(x->o->route_ud, t, &tdirfd, &trel) != 1 || tdirfd != dirfd))
      return sh_err(x->e, EINVAL, "extract", raw, "a hardlink to '%s' in another tree", hard);
    char tkey[PATH_LIMIT + 32];
    key_of(tkey, sizeof tkey, dirfd, trel);
    if (set_get(&x->seen, tkey) != SEEN_EXPLICIT && !oci)
      return sh_err(x->e, EINVAL, "extract", raw, "a hardlink to '%s', which is not an earlier entry", hard);
    _cleanup_close_ int tfd = open_beneath(dirfd, trel, O_PATH);
    struct stat sb;
    if (tfd < 0 || fstat(tfd, &sb) < 0 || !S_ISREG(sb.st_mode))
      return sh_err(x->e, EINVAL, "extract", raw, "a hardlink to '%s', which is not a file in the tree", hard);
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", tfd);
    if (linkat(AT_FDCWD, p, parentfd, leaf, AT_SYMLINK_FOLLOW) < 0)
      return sh_errno(x->e, "extract: hardlink", raw);
  } else if (type == AE_IFDIR) {
    if (!exists && mkdirat(parentfd, leaf, 0700) < 0)
      return sh_errno(x->e, "extract: mkdir", raw);
    /* A directory's times are set after its children changed it. */
    if (x->n_times == x->cap_times) {
      size_t cap = x->cap_times ? x->cap_times * 2 : 256;
      struct dirtime *nt = realloc(x->times, cap * sizeof *nt);
      if (!nt)
        return sh_err(x->e, ENOMEM, "extract", raw, NULL);
      x->times = nt;
      x->cap_times = cap;
    }
    struct dirtime *d = &x->times[x->n_times];
    if (!(d->rel = strdup(rel)))
      return sh_err(x->e, ENOMEM, "extract", raw, NULL);
    d->dirfd = dirfd;
    d->ts[0] = d->ts[1] = (struct timespec){ archive_entry_mtime(ae), archive_entry_mtime_nsec(ae) };
    x->n_times++;
  } else if (type == AE_IFLNK) {
    const char *target = archive_entry_symlink(ae);
    if (!target || !*target)
      return sh_err(x->e, EINVAL, "extract", raw, "a symlink without a target");
    if (target[0] != '/' && escapes(target, depth))
      return sh_err(x->e, EINVAL, "extract", raw, "a symlink to '%s', above the root", target);
    if (symlinkat(target, parentfd, leaf) < 0)
      return sh_errno(x->e, "extract: symlink", raw);
  } else if (type == AE_IFIFO) {
    if (mknodat(parentfd, leaf, S_IFIFO | 0600, 0) < 0)
      return sh_errno(x->e, "extract: mkfifo", raw);
  } else {
    int64_t size = archive_entry_size(ae);
    if (size < 0 || (uint64_t) size > x->max_bytes - x->st->bytes)
      return sh_err(x->e, EFBIG, "extract", raw,
                    "%" PRId64 " bytes would pass the limit of %" PRIu64 " bytes in all "
                    "(the decompression-bomb limit)", size, x->max_bytes);
    _cleanup_close_ int fd = openat(parentfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
      return sh_errno(x->e, "extract: create", raw);
    if ((r = write_data(x, a, fd, size, raw)) < 0)
      return r;
    x->st->bytes += (uint64_t) size;
  }
  if (!hard && (r = apply_meta(x, ae, parentfd, leaf, type == AE_IFLNK, raw)) < 0)
    return r;
  if (set_put(&x->seen, key, SEEN_EXPLICIT) < 0)
    return sh_err(x->e, ENOMEM, "extract", raw, NULL);
  return 0;
}

/* OCI: an opaque directory keeps only what this layer put in it. */
static int apply_opaque(struct xctx *x)
{
  for (size_t i = 0; i < x->n_opaque; i++) {
    char *colon = strchr(x->opaque[i], ':');
    int dirfd = atoi(x->opaque[i]);
    const char *rel = colon + 1;
    _cleanup_close_ int fd = *rel ? open_beneath(dirfd, rel, O_RDONLY | O_DIRECTORY)
                                  : fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
      continue; /* nothing there to hide */
    _cleanup_closedir_ DIR *d = fdopendir(dup(fd));
    struct dirent *de;
    while (d && (de = readdir(d))) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      char key[PATH_LIMIT + 32];
      snprintf(key, sizeof key, "%d:%s%s%s", dirfd, rel, *rel ? "/" : "", de->d_name);
      if (set_get(&x->seen, key))
        continue;
      int r = sh_rmtree_at(fd, de->d_name, x->e);
      if (r < 0)
        return r;
    }
  }
  return 0;
}

int sh_archive_extract(int fd, int rootfd, const struct sh_extract_opts *o,
                       struct sh_extract_stats *st, sh_error *e)
{
  static const struct sh_extract_opts none = {0};
  struct sh_extract_stats ignored = {0};
  if (!o)
    o = &none;
  if (!st)
    st = &ignored;
  struct xctx x = {
    .rootfd = rootfd, .o = o, .st = st, .e = e, .cache_fd = -1,
    .max_bytes = o->limits.max_bytes ? o->limits.max_bytes : DEFAULT_MAX_BYTES,
    .max_entries = o->limits.max_entries ? o->limits.max_entries : DEFAULT_MAX_ENTRIES,
  };
  _cleanup_(archive_freep) struct archive *a = archive_read_new();
  if (!a)
    return sh_err(e, ENOMEM, "extract", NULL, NULL);
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  int r = 0;
  if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
    return sh_err(e, EINVAL, "extract", NULL, "not a readable archive: %s", archive_error_string(a));
  for (;;) {
    struct archive_entry *ae;
    int ar = archive_read_next_header(a, &ae);
    if (ar == ARCHIVE_EOF)
      break;
    if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
      r = sh_err(e, EINVAL, "extract", NULL, "a damaged archive after %" PRIu64 " entries: %s",
                 st->entries, archive_error_string(a));
      break;
    }
    if ((r = extract_entry(&x, a, ae)) < 0)
      break;
  }
  cache_drop(&x);
  if (r == 0)
    r = apply_opaque(&x);
  /* Directory times last, deepest first, so nothing changes them after. */
  for (size_t i = x.n_times; i-- > 0;) {
    if (r == 0) {
      _cleanup_close_ int dfd = open_beneath(x.times[i].dirfd, x.times[i].rel, O_PATH | O_DIRECTORY);
      if (dfd >= 0)
        utimensat(dfd, "", x.times[i].ts, AT_EMPTY_PATH);
    }
    free(x.times[i].rel);
  }
  free(x.times);
  for (size_t i = 0; i < x.n_opaque; i++)
    free(x.opaque[i]);
  free(x.opaque);
  set_free(&x.seen);
  return r;
}

/* ---- writing ---- */

struct inode_seen {
  dev_t dev;
  ino_t ino;
  char *path;
};

struct sh_archive_writer {
  struct archive *a;
  struct inode_seen *links;
  size_t n_links;
  char *buf;
};

static void writer_free(sh_archive_writer *w)
{
  if (!w)
    return;
  if (w->a)
    archive_write_free(w->a);
  for (size_t i = 0; i < w->n_links; i++)
    free(w->links[i].path);
  free(w->links);
  free(w->buf);
  free(w);
}

void sh_archive_writer_freep(sh_archive_writer **w)
{
  writer_free(*w);
  *w = NULL;
}

int sh_archive_writer_new(int out_fd, enum sh_archive_compress c, sh_archive_writer **out, sh_error *e)
{
  sh_archive_writer *w = calloc(1, sizeof *w);
  if (!w || !(w->a = archive_write_new()) || !(w->buf = malloc(1 << 20))) {
    writer_free(w);
    return sh_err(e, ENOMEM, "write archive", NULL, NULL);
  }
  int r = archive_write_set_format_pax_restricted(w->a);
  if (r == ARCHIVE_OK)
    r = c == SH_COMPRESS_ZSTD ? archive_write_add_filter_zstd(w->a)
        : c == SH_COMPRESS_GZIP ? archive_write_add_filter_gzip(w->a)
                                : archive_write_add_filter_none(w->a);
  if (r == ARCHIVE_OK)
    r = archive_write_open_fd(w->a, out_fd);
  if (r != ARCHIVE_OK) {
    r = sh_err(e, EIO, "write archive", NULL, "%s", archive_error_string(w->a));
    writer_free(w);
    return r;
  }
  *out = w;
  return 0;
}

static int add_xattrs(struct archive_entry *ae, const char *path, const char *name, sh_error *e)
{
  char list[65536];
  ssize_t n = llistxattr(path, list, sizeof list);
  if (n < 0)
    return errno == ENOTSUP ? 0 : sh_errno(e, "list xattrs", name);
  for (char *k = list; k < list + n; k += strlen(k) + 1) {
    char val[65536];
    ssize_t vn = lgetxattr(path, k, val, sizeof val);
    if (vn < 0)
      return sh_err(e, errno, "read xattr", name, "%s", k);
    archive_entry_xattr_add_entry(ae, k, val, (size_t) vn);
  }
  return 0;
}

static int write_one(sh_archive_writer *w, int parentfd, const char *leaf, const char *name,
                     const struct stat *sb, sh_error *e)
{
  struct archive_entry *ae = archive_entry_new();
  if (!ae)
    return sh_err(e, ENOMEM, "write archive", name, NULL);
  int r = 0;
  archive_entry_copy_stat(ae, sb);
  archive_entry_set_pathname(ae, name);
  archive_entry_set_uname(ae, NULL);
  archive_entry_set_gname(ae, NULL);
  char p[PATH_LIMIT + 64];
  proc_path(p, sizeof p, parentfd, leaf);
  if (S_ISLNK(sb->st_mode)) {
    char target[PATH_LIMIT + 1];
    ssize_t n = readlinkat(parentfd, leaf, target, sizeof target - 1);
    if (n < 0) {
      r = sh_errno(e, "read symlink", name);
      goto out;
    }
    target[n] = 0;
    archive_entry_set_symlink(ae, target);
  }
  if (S_ISREG(sb->st_mode) && sb->st_nlink > 1) {
    for (size_t i = 0; i < w->n_links; i++)
      if (w->links[i].dev == sb->st_dev && w->links[i].ino == sb->st_ino) {
        archive_entry_set_hardlink(ae, w->links[i].path);
        archive_entry_set_size(ae, 0);
        if (archive_write_header(w->a, ae) != ARCHIVE_OK)
          r = sh_err(e, EIO, "write archive", name, "%s", archive_error_string(w->a));
        goto out;
      }
    struct inode_seen *nl = realloc(w->links, (w->n_links + 1) * sizeof *nl);
    if (!nl || !(nl[w->n_links].path = strdup(name))) {
      if (nl)
        w->links = nl;
      r = sh_err(e, ENOMEM, "write archive", name, NULL);
      goto out;
    }
    w->links = nl;
    w->links[w->n_links].dev = sb->st_dev;
    w->links[w->n_links].ino = sb->st_ino;
    w->n_links++;
  }
  if ((r = add_xattrs(ae, p, name, e)) < 0)
    goto out;
  if (archive_write_header(w->a, ae) != ARCHIVE_OK) {
    r = sh_err(e, EIO, "write archive", name, "%s", archive_error_string(w->a));
    goto out;
  }
  if (S_ISREG(sb->st_mode) && sb->st_size > 0) {
    _cleanup_close_ int fd = openat(parentfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      r = sh_errno(e, "open", name);
      goto out;
    }
    off_t left = sb->st_size;
    while (left > 0) {
      ssize_t n = read(fd, w->buf, (size_t) (left < (1 << 20) ? left : (1 << 20)));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        r = sh_err(e, n < 0 ? errno : EIO, "read", name, n == 0 ? "the file shrank while read" : NULL);
        goto out;
      }
      if (archive_write_data(w->a, w->buf, (size_t) n) != n) {
        r = sh_err(e, EIO, "write archive", name, "%s", archive_error_string(w->a));
        goto out;
      }
      left -= n;
    }
  }
out:
  archive_entry_free(ae);
  return r;
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sorted names in dirfd, for a stable member order. */
static int sorted_names(int dirfd, char ***out, size_t *n, sh_error *e)
{
  _cleanup_closedir_ DIR *d = fdopendir(dup(dirfd));
  if (!d)
    return sh_errno(e, "list directory", NULL);
  char **v = NULL;
  size_t k = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    char **nv = realloc(v, (k + 1) * sizeof *v);
    if (!nv || !(nv[k] = strdup(de->d_name))) {
      v = nv ? nv : v;
      for (size_t i = 0; i < k; i++)
        free(v[i]);
      free(v);
      return sh_err(e, ENOMEM, "list directory", NULL, NULL);
    }
    v = nv;
    k++;
  }
  if (k)
    qsort(v, k, sizeof *v, cmp_names);
  *out = v;
  *n = k;
  return 0;
}

static int write_dir(sh_archive_writer *w, int dirfd, const char *prefix, uint64_t mnt, int depth,
                     sh_error *e)
{
  if (depth > 4096)
    return sh_err(e, ELOOP, "write archive", prefix, "deeper than 4096 directories");
  char **names = NULL;
  size_t n = 0;
  int r = sorted_names(dirfd, &names, &n, e);
  for (size_t i = 0; r == 0 && i < n; i++) {
    _cleanup_free_ char *name = NULL;
    if (asprintf(&name, "%s%s%s", prefix, *prefix ? "/" : "", names[i]) < 0) {
      name = NULL;
      r = sh_err(e, ENOMEM, "write archive", names[i], NULL);
      break;
    }
    struct statx sx;
    struct stat sb;
    if (fstatat(dirfd, names[i], &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
        statx(dirfd, names[i], AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0) {
      r = sh_errno(e, "stat", name);
      break;
    }
    if ((r = write_one(w, dirfd, names[i], name, &sb, e)) < 0)
      break;
    /* Another mount below is recorded as an empty directory, not entered. */
    if (S_ISDIR(sb.st_mode) && sx.stx_mnt_id == mnt) {
      _cleanup_close_ int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        r = sh_errno(e, "open directory", name);
        break;
      }
      r = write_dir(w, sub, name, mnt, depth + 1, e);
    }
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return r;
}

int sh_archive_write_tree(sh_archive_writer *w, int dirfd, const char *prefix, sh_error *e)
{
  struct statx sx;
  struct stat sb;
  if (fstat(dirfd, &sb) < 0 || statx(dirfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0)
    return sh_errno(e, "stat", prefix);
  if (!S_ISDIR(sb.st_mode))
    return sh_err(e, ENOTDIR, "write archive", prefix, "not a directory");
  if (*prefix) {
    /* The tree's own directory entry carries its owner and mode. */
    int r = write_one(w, dirfd, ".", prefix, &sb, e);
    if (r < 0)
      return r;
  }
  return write_dir(w, dirfd, prefix, sx.stx_mnt_id, 0, e);
}

int sh_archive_write_blob(sh_archive_writer *w, const char *name, const void *data, size_t len,
                          unsigned mode, sh_error *e)
{
  struct archive_entry *ae = archive_entry_new();
  if (!ae)
    return sh_err(e, ENOMEM, "write archive", name, NULL);
  archive_entry_set_pathname(ae, name);
  archive_entry_set_filetype(ae, AE_IFREG);
  archive_entry_set_perm(ae, mode & 07777);
  archive_entry_set_size(ae, (la_int64_t) len);
  archive_entry_set_mtime(ae, time(NULL), 0);
  int r = 0;
  if (archive_write_header(w->a, ae) != ARCHIVE_OK ||
      (len && archive_write_data(w->a, data, len) != (la_ssize_t) len))
    r = sh_err(e, EIO, "write archive", name, "%s", archive_error_string(w->a));
  archive_entry_free(ae);
  return r;
}

int sh_archive_writer_close(sh_archive_writer *w, sh_error *e)
{
  int r = 0;
  if (archive_write_close(w->a) != ARCHIVE_OK)
    r = sh_err(e, EIO, "write archive", NULL, "%s", archive_error_string(w->a));
  writer_free(w);
  return r;
}
