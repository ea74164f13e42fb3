/* One line of /proc/PID/mountinfo, parsed in place. */
#pragma once

#include <stdbool.h>

struct sh_mountinfo {
  int id, parent;
  unsigned major, minor;
  char *root, *mount_point, *options, *fstype, *source, *super_options;
  const char *optional; /* "shared:1 master:2", or "" */
};

/* Parses one mountinfo line in place: fields are cut at their ends and the
 * octal escapes of root, mount point and source decoded.  false when the
 * line is malformed; *m is then undefined. */
bool sh_mountinfo_parse(char *line, struct sh_mountinfo *m);
/* Whether opt is one of the comma-separated options in opts. */
bool sh_has_option(const char *opts, const char *opt);
