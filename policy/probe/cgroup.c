/* /proc/self/cgroup, each hierarchy located among the visible mounts, and
 * the limit files read there: memory.max, pids.max, cpu.max and friends for
 * cgroup v2, the v1 controllers' files for the v1 hierarchies. */
#include "cgroup.h"
#include "jsonout.h"
#include "mounts.h"
#include "procfile.h"
#include "result.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool probe_parse_cgroup_line(char *line, struct probe_cgroup_line *out)
{
  line[strcspn(line, "\n")] = '\0';
  char *c1 = strchr(line, ':');
  char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (!c1 || !c2 || c2[1] != '/')
    return false;
  *c1 = *c2 = '\0';
  char *end;
  long h = strtol(line, &end, 10);
  if (end == line || *end || h < 0)
    return false;
  out->hierarchy = (int) h;
  out->controllers = c1 + 1;
  out->path = c2 + 1;
  return true;
}

static const char *const v2_files[] = {
  "cgroup.controllers", "memory.max", "memory.high", "memory.swap.max", "pids.max", "cpu.max",
  "cpu.weight", "io.max", "cpuset.cpus.effective", "cpuset.mems.effective",
};

static const struct { const char *controller, *file; } v1_files[] = {
  {"memory", "memory.limit_in_bytes"}, {"memory", "memory.memsw.limit_in_bytes"},
  {"memory", "memory.soft_limit_in_bytes"}, {"pids", "pids.max"}, {"cpu", "cpu.cfs_quota_us"},
  {"cpu", "cpu.cfs_period_us"}, {"cpu", "cpu.shares"}, {"cpuset", "cpuset.cpus"},
  {"cpuset", "cpuset.mems"}, {"blkio", "blkio.throttle.read_bps_device"},
  {"blkio", "blkio.throttle.write_bps_device"},
};

/* The mount of this hierarchy whose root is the cgroup or one of its parents. */
static const struct sh_mountinfo *find_mount(const struct probe_mounts *ms,
                                            const struct probe_cgroup_line *l)
{
  const struct sh_mountinfo *best = NULL;
  for (size_t i = 0; i < ms->n; i++) {
    const struct sh_mountinfo *m = &ms->v[i];
    bool match = l->hierarchy == 0 ? !strcmp(m->fstype, "cgroup2")
                                   : !strcmp(m->fstype, "cgroup") && *l->controllers;
    if (match && l->hierarchy != 0) {
      /* Every controller of the line is an option of the mount. */
      char buf[256];
      snprintf(buf, sizeof buf, "%s", l->controllers);
      char *save = NULL;
      for (char *c = strtok_r(buf, ",", &save); c && match; c = strtok_r(NULL, ",", &save))
        match = sh_has_option(m->super_options, c);
    }
    size_t rl = strlen(m->root);
    if (match && (!strcmp(m->root, "/") ||
                  (!strncmp(l->path, m->root, rl) && (l->path[rl] == '\0' || l->path[rl] == '/'))))
      best = m; /* the last one: mounted on top */
  }
  return best;
}

static json_t *read_value(const char *dir, const char *file)
{
  char path[4300];
  char *text = NULL;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  int r = probe_read_file(path, 4096, &text, NULL);
  if (r < 0)
    return r == -ENOENT ? json_null() : json_pack("{s:s}", "error", probe_errno_name(-r));
  size_t n = strlen(text);
  while (n && text[n - 1] == '\n')
    text[--n] = '\0';
  json_t *v = probe_json_str(text);
  free(text);
  return v;
}

static json_t *hierarchy_json(const struct probe_mounts *ms, const struct probe_cgroup_line *l)
{
  json_t *o = json_pack("{s:i, s:s, s:o}", "hierarchy", l->hierarchy, "controllers", l->controllers,
                        "path", probe_json_str(l->path));
  if (!o)
    return NULL;
  const struct sh_mountinfo *m = find_mount(ms, l);
  if (!m) {
    probe_set(o, "dir", json_null()); /* not mounted where the probe can see it */
    return o;
  }
  char dir[4200];
  const char *rel = strcmp(m->root, "/") ? l->path + strlen(m->root) : l->path;
  snprintf(dir, sizeof dir, "%s%s", strcmp(m->mount_point, "/") ? m->mount_point : "",
           *rel ? rel : "/");
  size_t dl = strlen(dir);
  if (dl > 1 && dir[dl - 1] == '/')
    dir[dl - 1] = '\0';
  probe_set(o, "dir", probe_json_str(dir));
  probe_set(o, "writable", json_string(access(dir, W_OK) == 0 ? "ok" : probe_errno_name(errno)));
  json_t *files = json_object();
  if (l->hierarchy == 0) {
    for (size_t i = 0; i < sizeof v2_files / sizeof v2_files[0]; i++)
      probe_set(files, v2_files[i], read_value(dir, v2_files[i]));
  } else {
    for (size_t i = 0; i < sizeof v1_files / sizeof v1_files[0]; i++)
      if (sh_has_option(l->controllers, v1_files[i].controller))
        probe_set(files, v1_files[i].file, read_value(dir, v1_files[i].file));
  }
  probe_set(o, "files", files);
  return o;
}

json_t *probe_section_cgroup(void)
{
  char *text = NULL;
  int r = probe_read_file("/proc/self/cgroup", 64 * 1024, &text, NULL);
  if (r < 0)
    return json_pack("{s:s}", "error", probe_errno_name(-r));
  struct probe_mounts ms;
  if (probe_mounts_load(&ms) < 0)
    memset(&ms, 0, sizeof ms);
  json_t *arr = json_array();
  bool v1 = false, v2 = false;
  for (char *line = text; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    struct probe_cgroup_line l;
    if (probe_parse_cgroup_line(line, &l)) {
      probe_append(arr, hierarchy_json(&ms, &l));
      if (l.hierarchy == 0)
        v2 = true;
      else if (strncmp(l.controllers, "name=", 5) != 0)
        v1 = true;
    }
    line = nl ? nl + 1 : NULL;
  }
  probe_mounts_free(&ms);
  free(text);
  const char *mode = v1 && v2 ? "hybrid" : v1 ? "v1" : v2 ? "v2" : "none";
  return json_pack("{s:s, s:o}", "mode", mode, "hierarchies", arr);
}
