/* Visible mounts (/proc/self/mountinfo) and which of them are writable. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct probe_mount {
  int id, parent;
  unsigned major, minor;
  char *root, *mount_point, *options, *fstype, *source, *super_options;
  const char *optional; /* "shared:1 master:2", or "" */
};

/* Parses one mountinfo line in place: fields are cut at their ends and
 * their octal escapes (\040 for a space, ...) decoded.  false when the line
 * is malformed; *m is then undefined. */
bool probe_parse_mountinfo_line(char *line, struct probe_mount *m);
/* Whether opt is one of the comma-separated options in opts. */
bool probe_has_option(const char *opts, const char *opt);

struct probe_mounts {
  char *text;   /* the file, cut into fields */
  struct probe_mount *v;
  size_t n;
};
/* Reads and parses /proc/self/mountinfo (malformed lines are left out).
 * 0 or -errno. */
int probe_mounts_load(struct probe_mounts *out);
void probe_mounts_free(struct probe_mounts *m);
/* The mount path is on: the last mounted of those whose mount point is
 * path or a parent of it; NULL when none is. */
const struct probe_mount *probe_mount_covering(const struct probe_mounts *m, const char *path);

/* The "mounts" section. */
json_t *probe_section_mounts(void);
