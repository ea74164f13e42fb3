/* Visible mounts (/proc/self/mountinfo) and which of them are writable. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "mountinfo.h"

struct probe_mounts {
  char *text;   /* the file, cut into fields */
  struct sh_mountinfo *v;
  size_t n;
};
/* Reads and parses /proc/self/mountinfo (malformed lines are left out).
 * 0 or -errno. */
int probe_mounts_load(struct probe_mounts *out);
void probe_mounts_free(struct probe_mounts *m);
/* The mount path is on: the last mounted of those whose mount point is
 * path or a parent of it; NULL when none is. */
const struct sh_mountinfo *probe_mount_covering(const struct probe_mounts *m, const char *path);

/* The "mounts" section. */
json_t *probe_section_mounts(void);
