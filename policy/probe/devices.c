/* Walks /dev (not following symlinks, a few levels deep) and opens each
 * character and block device for reading, then for writing, closing it at
 * once: O_NONBLOCK so a tty or FIFO cannot hang the probe, O_NOCTTY so no
 * terminal becomes the probe's.  Nothing is read or written.  A watchdog is
 * never opened: opening one arms it, and closing it without the magic
 * character may reboot the machine. */
#include "devices.h"
#include "jsonout.h"
#include "result.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_DEPTH 3
#define MAX_DEVICES 4096
#define WATCHDOG_MAJOR 10
#define WATCHDOG_MINOR 130

static bool is_watchdog(const char *name, const struct stat *st)
{
  return !strncmp(name, "watchdog", 8) ||
         (S_ISCHR(st->st_mode) && major(st->st_rdev) == WATCHDOG_MAJOR &&
          minor(st->st_rdev) == WATCHDOG_MINOR);
}

static const char *try_open(const char *path, int mode)
{
  int fd = open(path, mode | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return probe_errno_name(errno);
  close(fd);
  return "ok";
}

static void walk(const char *dir, int depth, json_t *arr)
{
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir(d)) && json_array_size(arr) < MAX_DEVICES) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
      continue;
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    if (lstat(path, &st) < 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth < MAX_DEPTH)
        walk(path, depth + 1, arr);
      continue;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
      continue;
    char mode[8];
    snprintf(mode, sizeof mode, "%04o", (unsigned) (st.st_mode & 07777));
    json_t *o = json_pack("{s:o, s:s, s:i, s:i, s:s, s:I, s:I}", "path", probe_json_str(path), "type",
                          S_ISCHR(st.st_mode) ? "char" : "block", "major", (int) major(st.st_rdev),
                          "minor", (int) minor(st.st_rdev), "mode", mode, "uid",
                          (json_int_t) st.st_uid, "gid", (json_int_t) st.st_gid);
    if (!o)
      continue;
    if (is_watchdog(de->d_name, &st)) {
      probe_set(o, "read", json_string("skipped"));
      probe_set(o, "write", json_string("skipped"));
    } else {
      probe_set(o, "read", json_string(try_open(path, O_RDONLY)));
      probe_set(o, "write", json_string(try_open(path, O_WRONLY)));
    }
    probe_append(arr, o);
  }
  closedir(d);
}

json_t *probe_section_devices(void)
{
  json_t *arr = json_array();
  walk("/dev", 1, arr);
  return arr;
}
