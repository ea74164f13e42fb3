/* A container's tree from outside (hostd/tree.c): opened as the container
 * sees it, and written into fd-relatively, its symlinks never followed out
 * of it.  The files API and the provisioning steps share it. */
#pragma once

#include "error.h"
#include "fdutil.h"
#include "storage.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* How every path in a tree resolves: inside it, never across a mount. */
#define HD_TREE_RESOLVE (SH_RESOLVE_IN_ROOT | SH_RESOLVE_NO_XDEV)
enum { HD_TREE_IDS = 65536 };   /* a container's id range */

/* The tree of container `ref`, whose ids start at host id host_start: an
 * O_PATH fd on its rootfs mount while it has one, else on a detached view
 * (gone with the fd).  The caller holds the volume lock (provision.h). */
int hd_tree_open(sbx_pool *pool, const char *ref, int64_t host_start, int *root, sh_error *e);

/* The parent directory of an absolute path (O_PATH) and its last name in
 * *leaf; -EINVAL for a path that names no entry of its own ("/", "x/.."). */
int hd_tree_parent(int root, const char *path, const char **leaf, sh_error *e);

/* One entry to write: a file with these bytes, or a directory. */
struct hd_tree_entry {
  const char *path;             /* absolute, in the tree */
  int64_t uid, gid, mode;       /* the owner as the container sees it */
  bool dir;
  bool keep;                    /* a directory: one there is left as it is */
  const char *data;
  size_t len;
};

/* Write an entry as its owner (host ids host_start + uid, gid).  A file
 * never writes through what is there: a new one is renamed over the name,
 * and only a regular file or a symlink is replaced.  A directory is made,
 * or the one there gets the owner and mode; anything else at its name is
 * refused.  *existed: there was an entry; *st: the new one's stat.  The
 * error's step: "name" (-EINVAL), "its directory", "look up", "replace"
 * (-EEXIST: something of another type is there), "write", or the id
 * change's; its path the one concerned. */
int hd_tree_put(int root, int64_t host_start, const struct hd_tree_entry *p, bool *existed, struct stat *st, sh_error *e);

/* "file", "directory", "symlink"... */
const char *hd_tree_type_name(mode_t m);
