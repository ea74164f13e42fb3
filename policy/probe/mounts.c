/* mountinfo, and a write test for each mount: access(W_OK) on the mount
 * point, then a real create-and-remove where that is safe: an O_TMPFILE
 * (an unnamed file, gone when closed) or, where the filesystem has none, a
 * uniquely named file removed at once, in directories of filesystems that
 * store files; a file mount point is only opened for writing, never written. */
#include "mounts.h"
#include "jsonout.h"
#include "procfile.h"
#include "result.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int probe_mounts_load(struct probe_mounts *out)
{
  memset(out, 0, sizeof *out);
  int r = probe_read_file("/proc/self/mountinfo", 16 << 20, &out->text, NULL);
  if (r < 0)
    return r;
  size_t lines = 1;
  for (const char *c = out->text; *c; c++)
    lines += *c == '\n';
  out->v = calloc(lines, sizeof *out->v);
  if (!out->v) {
    probe_mounts_free(out);
    return -ENOMEM;
  }
  for (char *line = out->text; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    if (sh_mountinfo_parse(line, &out->v[out->n]))
      out->n++;
    line = nl ? nl + 1 : NULL;
  }
  return 0;
}

void probe_mounts_free(struct probe_mounts *m)
{
  free(m->text);
  free(m->v);
  memset(m, 0, sizeof *m);
}

const struct sh_mountinfo *probe_mount_covering(const struct probe_mounts *m, const char *path)
{
  const struct sh_mountinfo *best = NULL;
  size_t best_len = 0;
  for (size_t i = 0; i < m->n; i++) {
    const char *mp = m->v[i].mount_point;
    size_t len = strlen(mp);
    bool under = len == 1 ? mp[0] == '/'
                          : !strncmp(path, mp, len) && (path[len] == '\0' || path[len] == '/');
    /* Longest wins; of equals, the later one is mounted on top. */
    if (under && (!best || len >= best_len)) {
      best = &m->v[i];
      best_len = len;
    }
  }
  return best;
}

/* Filesystems whose directories do not hold plain files, or where creating
 * one does something else (a cgroup, a message queue, an automount): the
 * probe only asks access(W_OK) there. */
static bool pseudo_fs(const char *fstype)
{
  static const char *const types[] = {
    "proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "bpf", "securityfs", "debugfs",
    "tracefs", "configfs", "fusectl", "pstore", "efivarfs", "binfmt_misc", "selinuxfs", "autofs",
    "nsfs", "hugetlbfs", "rpc_pipefs", "nfsd",
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (!strcmp(fstype, types[i]))
      return true;
  return false;
}

static const char *create_and_remove(const char *dir)
{
  int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0) {
    close(fd);
    return "ok";
  }
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    return probe_errno_name(errno);
  char path[4200];
  snprintf(path, sizeof path, "%s/.sandhost-probe-%d", strcmp(dir, "/") ? dir : "", (int) getpid());
  fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return probe_errno_name(errno);
  close(fd);
  unlink(path);
  return "ok";
}

static json_t *write_test(const struct sh_mountinfo *m)
{
  json_t *o = json_object();
  const char *mp = m->mount_point;
  probe_set(o, "access", json_string(access(mp, W_OK) == 0 ? "ok" : probe_errno_name(errno)));
  struct stat st;
  if (lstat(mp, &st) < 0) {
    probe_set(o, "create", json_string(probe_errno_name(errno)));
  } else if (S_ISDIR(st.st_mode)) {
    probe_set(o, "create", json_string(pseudo_fs(m->fstype) ? "skipped" : create_and_remove(mp)));
  } else if (S_ISREG(st.st_mode)) {
    int fd = open(mp, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    probe_set(o, "open_write", json_string(fd >= 0 ? "ok" : probe_errno_name(errno)));
    if (fd >= 0)
      close(fd);
  }
  return o;
}

json_t *probe_section_mounts(void)
{
  struct probe_mounts ms;
  int r = probe_mounts_load(&ms);
  if (r < 0)
    return json_pack("{s:s}", "error", probe_errno_name(-r));
  json_t *arr = json_array();
  for (size_t i = 0; i < ms.n; i++) {
    const struct sh_mountinfo *m = &ms.v[i];
    char dev[32];
    snprintf(dev, sizeof dev, "%u:%u", m->major, m->minor);
    json_t *o = json_pack("{s:i, s:i, s:s, s:o, s:o, s:s, s:s, s:s, s:o, s:s, s:b}", "id", m->id,
                          "parent", m->parent, "dev", dev, "root", probe_json_str(m->root),
                          "mount_point", probe_json_str(m->mount_point), "options", m->options,
                          "optional", m->optional, "fstype", m->fstype, "source",
                          probe_json_str(m->source), "super_options", m->super_options,
                          "read_only", sh_has_option(m->options, "ro"));
    if (o)
      probe_set(o, "write", write_test(m));
    probe_append(arr, o);
  }
  probe_mounts_free(&ms);
  return arr;
}
