/* Container state: one directory per container under the runtime root. */
#include "internal.h"
#include "cleanup.h"
#include "fdutil.h"
#include "jsonutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int sbx_pidfd_open(pid_t pid)
{
  return (int) syscall(SYS_pidfd_open, pid, 0);
}

int sbx_pidfd_send_signal(int pidfd, int sig)
{
  return (int) syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int sbx_fd_above(int fd, int min)
{
  if (fd < 0 || fd >= min)
    return fd;
  int n = fcntl(fd, F_DUPFD_CLOEXEC, min);
  int saved = errno;
  close(fd);
  errno = saved;
  return n;
}

int sbx_check_id(const char *id, sh_error *e)
{
  size_t n = strlen(id);
  if (n == 0 || n > 128 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return sh_err(e, EINVAL, "container id", id, "must be 1..128 characters and not . or ..");
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '-' || *p == '_' || *p == '.' || *p == '+'))
      return sh_err(e, EINVAL, "container id", id, "may only hold letters, digits, '-', '_', '.' and '+'");
  return 0;
}

int sbx_state_path(const char *root, const char *id, char *buf, size_t len, sh_error *e)
{
  int r = sbx_check_id(id, e);
  if (r < 0)
    return r;
  if ((size_t) snprintf(buf, len, "%s/%s", root, id) >= len)
    return sh_err(e, ENAMETOOLONG, "state dir", root, NULL);
  return 0;
}

unsigned long long sbx_proc_starttime(pid_t pid)
{
  char path[64];
  _cleanup_free_ char *text = NULL;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if (sh_read_file_at(AT_FDCWD, path, &text, NULL, NULL) < 0)
    return 0;
  /* Field 22; comm (field 2) may hold spaces, so start after its ')'. */
  char *p = strrchr(text, ')');
  if (!p || p[1] != ' ')
    return 0;
  char state = p[2];
  if (state == 'Z' || state == 'X')
    return 0;
  p += 2;
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    if (p)
      p++;
  }
  return p ? strtoull(p, NULL, 10) : 0;
}

int sbx_state_write(const char *dir, const struct sbx_state *s, sh_error *e)
{
  _cleanup_json_ json_t *j = json_pack(
    "{s:s,s:i,s:I,s:s,s:s,s:s,s:O,s:o,s:i,s:b,s:b}",
    "id", s->id, "pid", (int) s->pid, "starttime", (json_int_t) s->starttime,
    "bundle", s->bundle, "rootfs", s->rootfs, "created", s->created,
    "annotations", s->annotations ? s->annotations : json_object(),
    "cgroup", sbx_cgroup_to_json(&s->cg), "nsFlags", s->ns_flags, "timens", s->timens,
    "noNewPrivileges", s->no_new_privs);
  if (!j)
    return sh_err(e, ENOMEM, "write state", dir, NULL);
  if (s->selinux_label)
    json_object_set_new(j, "selinuxLabel", json_string(s->selinux_label));
  _cleanup_free_ char *text = json_dumps(j, JSON_INDENT(2));
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/state.json", dir);
  return text ? sh_write_file_atomic(path, text, 0600, e) : sh_err(e, ENOMEM, "write state", path, NULL);
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

int sbx_state_read(const char *root, const char *id, struct sbx_state *s, sh_error *e)
{
  char dir[PATH_MAX], path[PATH_MAX + 16];
  int r = sbx_state_path(root, id, dir, sizeof dir, e);
  if (r < 0)
    return r;
  memset(s, 0, sizeof *s);
  snprintf(path, sizeof path, "%s/state.json", dir);
  _cleanup_free_ char *text = NULL;
  if (sh_read_file_at(AT_FDCWD, path, &text, NULL, NULL) < 0) {
    if (errno == ENOENT)
      return sh_err(e, ENOENT, "container", id, "does not exist");
    return sh_errno(e, "read state", path);
  }
  json_error_t je;
  _cleanup_json_ json_t *j = json_loads(text, 0, &je);
  const char *sid = NULL, *bundle = NULL, *rootfs = NULL, *created = NULL;
  json_int_t starttime = 0;
  int pid = 0, nsflags = 0, timens = 0, nnp = 0;
  json_t *ann = NULL, *cg = NULL;
  if (!j || json_unpack(j, "{s:s,s:i,s:I,s:s,s:s,s:s,s:o,s:o,s:i,s:b,s:b}", "id", &sid, "pid", &pid,
                        "starttime", &starttime, "bundle", &bundle, "rootfs", &rootfs,
                        "created", &created, "annotations", &ann, "cgroup", &cg,
                        "nsFlags", &nsflags, "timens", &timens, "noNewPrivileges", &nnp) < 0)
    return sh_err(e, EINVAL, "read state", path, "malformed state file");
  s->id = strdup(sid);
  s->pid = pid;
  s->starttime = (unsigned long long) starttime;
  s->bundle = strdup(bundle);
  s->rootfs = strdup(rootfs);
  s->created = strdup(created);
  s->annotations = json_incref(ann);
  s->ns_flags = nsflags;
  s->timens = timens;
  s->no_new_privs = nnp;
  json_t *lab = json_object_get(j, "selinuxLabel");
  s->selinux_label = dup_or_null(json_is_string(lab) ? json_string_value(lab) : NULL);
  return sbx_cgroup_from_json(cg, &s->cg, e);
}

void sbx_state_clear(struct sbx_state *s)
{
  free(s->id);
  free(s->bundle);
  free(s->rootfs);
  free(s->created);
  free(s->selinux_label);
  if (s->annotations)
    json_decref(s->annotations);
  sbx_cgroup_clear(&s->cg);
  memset(s, 0, sizeof *s);
}

int sbx_state_pidfd(const struct sbx_state *s, sh_error *e)
{
  int fd = sbx_pidfd_open(s->pid);
  if (fd < 0)
    return sh_err(e, ESRCH, "container", s->id, "is not running (pid %d: %s)", s->pid, strerror(errno));
  /* The pid may have been reused: the start time tells. */
  unsigned long long st = sbx_proc_starttime(s->pid);
  if (st != s->starttime) {
    close(fd);
    return sh_err(e, ESRCH, "container", s->id, "is not running (pid %d started at %llu, not %llu)",
                  s->pid, st, s->starttime);
  }
  return fd;
}

enum sbx_status sbx_state_status(const char *dir, const struct sbx_state *s)
{
  if (s->pid <= 0 || sbx_proc_starttime(s->pid) != s->starttime)
    return SBX_STOPPED;
  char fifo[PATH_MAX];
  snprintf(fifo, sizeof fifo, "%s/exec.fifo", dir);
  if (access(fifo, F_OK) == 0)
    return SBX_CREATED;
  if (sbx_cgroup_is_frozen(&s->cg))
    return SBX_PAUSED;
  return SBX_RUNNING;
}

const char *sbx_status_name(enum sbx_status st)
{
  static const char *const names[] = {
    [SBX_CREATED] = "created", [SBX_RUNNING] = "running",
    [SBX_PAUSED] = "paused", [SBX_STOPPED] = "stopped",
  };
  return names[st];
}

int sbx_state_remove(const char *dir, sh_error *e)
{
  _cleanup_closedir_ DIR *d = opendir(dir);
  if (!d)
    return errno == ENOENT ? 0 : sh_errno(e, "remove state", dir);
  struct dirent *de;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      unlinkat(dirfd(d), de->d_name, 0);
  if (rmdir(dir) < 0 && errno != ENOENT)
    return sh_errno(e, "remove state", dir);
  return 0;
}
