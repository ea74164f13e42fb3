/* Safe archive extraction and tree export through libarchive.
 *
 * Extraction never follows a symlink on the way to an entry and never
 * writes outside the target directory: every entry is created fd-relative
 * (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) below rootfd.  Hostile
 * entries are refused with an error naming the entry, or neutralised, as
 * docs/storage.md lists ("Archive safety"). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "error.h"

struct sh_extract_limits {
  uint64_t max_bytes;   /* logical file bytes in all, sparse sizes included; 0: 16 GiB */
  uint64_t max_entries; /* 0: 2,000,000 */
};

struct sh_extract_stats {
  uint64_t entries;         /* entries written */
  uint64_t bytes;           /* logical file bytes written */
  uint64_t devices_skipped; /* device nodes dropped (the runtime provides /dev) */
  uint64_t whiteouts;       /* OCI whiteouts applied */
};

enum sh_extract_flags {
  /* OCI layer semantics: ".wh.NAME" removes NAME, ".wh..wh..opq" empties
   * its directory of what earlier layers put there, and an entry may
   * replace what an earlier layer left at its path.  Without this flag the
   * target must start empty and a duplicate path is an error. */
  SH_EXTRACT_OCI_LAYER = 1u << 0,
};

/* Where an entry goes: set *dirfd (a directory fd owned by the router) and
 * *rel (a pointer into path) and return 1; return 0 to skip the entry; or
 * return a negative errno.  Lets one pass spread an archive over several
 * trees (a backup's rootfs and snapshots). */
typedef int (*sh_extract_route)(void *ud, const char *path, int *dirfd, const char **rel);

struct sh_extract_opts {
  unsigned flags;                 /* enum sh_extract_flags */
  struct sh_extract_limits limits;
  sh_extract_route route;         /* NULL: everything below rootfd */
  void *route_ud;
};

/* Extract the archive readable from fd (tar, pax, gnu tar; plain, gzip, xz,
 * zstd, bzip2) into rootfd.  Owners, modes, setuid bits, xattrs, hardlinks
 * (to entries of the same tree only), symlinks, fifos, sparse files and
 * mtimes are kept.  On error the partial tree is left for the caller to
 * remove: callers extract into a staging directory. */
int sh_archive_extract(int fd, int rootfd, const struct sh_extract_opts *o,
                       struct sh_extract_stats *st, sh_error *e);

enum sh_archive_compress { SH_COMPRESS_NONE, SH_COMPRESS_GZIP, SH_COMPRESS_ZSTD };

typedef struct sh_archive_writer sh_archive_writer;

/* A pax tar on out_fd with the given compression. */
int sh_archive_writer_new(int out_fd, enum sh_archive_compress c, sh_archive_writer **w,
                          sh_error *e);
/* Add the tree at dirfd (not followed if a symlink) under prefix ("" for
 * the top, else "rootfs" gives "rootfs/...").  Owners, modes, xattrs,
 * hardlinks, symlinks, fifos, devices and mtimes are recorded. */
int sh_archive_write_tree(sh_archive_writer *w, int dirfd, const char *prefix, sh_error *e);
/* Add one regular file with the given bytes (metadata such as backup.json). */
int sh_archive_write_blob(sh_archive_writer *w, const char *name, const void *data,
                          size_t len, unsigned mode, sh_error *e);
/* Finish the archive and free w (also on error). */
int sh_archive_writer_close(sh_archive_writer *w, sh_error *e);
void sh_archive_writer_freep(sh_archive_writer **w);
