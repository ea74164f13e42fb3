/* Reads are real; writes write back exactly what was just read, so a file
 * that takes the write keeps its value (a change made between the read and
 * the write would be undone: the probe is for containers under test, not
 * for a host's live tuning, so in the initial user namespace it skips the
 * write-backs).  Files whose writes act rather than set
 * (sysrq-trigger, binfmt_misc's register) and character devices (kmsg) are
 * only opened for writing, never written. */
#include "kfiles.h"
#include "ids.h"
#include "jsonout.h"
#include "mounts.h"
#include "procfile.h"
#include "result.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
  SHOW = 1 << 0,       /* report the content */
  COUNT = 1 << 1,      /* report how many bytes were read */
  WRITE_BACK = 1 << 2, /* write the content back */
  OPEN_WRITE = 1 << 3, /* only open for writing */
  KALLSYMS = 1 << 4,   /* report whether the addresses are zeroed */
  NO_READ = 1 << 5,    /* write-only: reading means nothing */
};

static const struct { const char *path; unsigned how; } kernel_files[] = {
  {"/proc/sys/kernel/core_pattern", SHOW | WRITE_BACK},
  {"/proc/sys/kernel/modprobe", SHOW | WRITE_BACK},
  {"/proc/sys/kernel/hostname", SHOW | WRITE_BACK}, /* the UTS namespace's own: a control */
  {"/proc/sys/net/ipv4/ip_forward", SHOW | WRITE_BACK}, /* the network namespace's own */
  {"/sys/kernel/uevent_helper", SHOW | WRITE_BACK},
  {"/proc/sys/fs/binfmt_misc/register", NO_READ | OPEN_WRITE},
  {"/proc/sysrq-trigger", NO_READ | OPEN_WRITE},
  {"/dev/kmsg", COUNT | OPEN_WRITE},
  {"/proc/kallsyms", KALLSYMS | OPEN_WRITE},
  {"/proc/kcore", COUNT | OPEN_WRITE},
};

static const char *const kernel_dirs[] = { "/proc/sys", "/sys" };

#define READ_MAX (256 * 1024)
#define KCORE_MAX 4096
#define SHOW_MAX 512

int probe_kallsyms_zeroed(const char *text)
{
  int seen = 0;
  for (const char *p = text; p && *p;) {
    size_t hex = strspn(p, "0123456789abcdefABCDEF");
    if (hex > 0 && (p[hex] == ' ' || p[hex] == '\t')) {
      if (strspn(p, "0") < hex)
        return 0;
      seen = 1;
    }
    p = strchr(p, '\n');
    if (p)
      p++;
  }
  return seen ? 1 : -1;
}

static const char *open_write(const char *path)
{
  int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return probe_errno_name(errno);
  close(fd);
  return "ok";
}

static const char *write_back(const char *path, const char *content, size_t len)
{
  int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return probe_errno_name(errno);
  /* An empty value reads as nothing or "\n"; "\n" sets it to empty again. */
  if (len == 0) {
    content = "\n";
    len = 1;
  }
  ssize_t n = write(fd, content, len);
  int err = errno;
  close(fd);
  return n >= 0 ? "ok" : probe_errno_name(err);
}

static json_t *file_json(const char *path, unsigned how, bool host)
{
  json_t *o = json_pack("{s:s}", "path", path);
  if (!o)
    return NULL;
  if (access(path, F_OK) < 0 && errno == ENOENT) {
    probe_set(o, "exists", json_false());
    return o;
  }
  probe_set(o, "exists", json_true());
  char *text = NULL;
  size_t len = 0;
  int r = -EBADF;
  if (!(how & NO_READ)) {
    r = probe_read_file(path, !strcmp(path, "/proc/kcore") ? KCORE_MAX : READ_MAX, &text, &len);
    probe_set(o, "read", json_string(probe_result_name(r)));
  }
  if (r == 0 && (how & SHOW)) {
    size_t shown = len;
    while (shown && text[shown - 1] == '\n')
      shown--;
    probe_set(o, "content", probe_json_bytes(text, shown > SHOW_MAX ? SHOW_MAX : shown));
  }
  if (r == 0 && (how & COUNT))
    probe_set(o, "bytes", json_integer((json_int_t) len));
  if (how & KALLSYMS) {
    int z = r == 0 ? probe_kallsyms_zeroed(text) : -1;
    probe_set(o, "addresses_zeroed", z < 0 ? json_null() : json_boolean(z));
  }
  if (how & WRITE_BACK)
    probe_set(o, "write", json_string(r == 0 && !host ? write_back(path, text, len) : "skipped"));
  if (how & OPEN_WRITE)
    probe_set(o, "write", json_string(open_write(path)));
  free(text);
  return o;
}

static json_t *dir_json(const struct probe_mounts *ms, const char *path)
{
  json_t *o = json_pack("{s:s}", "path", path);
  if (!o)
    return NULL;
  DIR *d = opendir(path);
  probe_set(o, "read", json_string(d ? "ok" : probe_errno_name(errno)));
  if (d)
    closedir(d);
  probe_set(o, "write", json_string(access(path, W_OK) == 0 ? "ok" : probe_errno_name(errno)));
  const struct sh_mountinfo *m = ms ? probe_mount_covering(ms, path) : NULL;
  if (m) {
    probe_set(o, "mount_point", probe_json_str(m->mount_point));
    probe_set(o, "fstype", probe_json_str(m->fstype));
    probe_set(o, "read_only_mount", json_boolean(sh_has_option(m->options, "ro")));
  }
  return o;
}

json_t *probe_section_kernel_files(void)
{
  json_t *arr = json_array();
  struct probe_mounts ms;
  bool have = probe_mounts_load(&ms) == 0, host = probe_in_initial_userns();
  for (size_t i = 0; i < sizeof kernel_dirs / sizeof kernel_dirs[0]; i++)
    probe_append(arr, dir_json(have ? &ms : NULL, kernel_dirs[i]));
  for (size_t i = 0; i < sizeof kernel_files / sizeof kernel_files[0]; i++)
    probe_append(arr, file_json(kernel_files[i].path, kernel_files[i].how, host));
  if (have)
    probe_mounts_free(&ms);
  return arr;
}
