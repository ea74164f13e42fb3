/* The cgroup the probe is in and the limits it can see there. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

struct probe_cgroup_line {
  int hierarchy;           /* 0 for cgroup v2 */
  char *controllers;       /* "memory", "cpu,cpuacct", "name=systemd", "" for v2 */
  char *path;              /* relative to the hierarchy's root (in the cgroup namespace) */
};
/* Parses one /proc/self/cgroup line ("4:memory:/a/b") in place. */
bool probe_parse_cgroup_line(char *line, struct probe_cgroup_line *out);

/* The "cgroup" section. */
json_t *probe_section_cgroup(void);
