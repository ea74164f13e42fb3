/* The label from /proc/self/attr/current (the major LSM's), each LSM's own
 * attr directory where the kernel has them (5.1+), and the active LSMs. */
#include "lsm.h"
#include "jsonout.h"
#include "procfile.h"
#include "result.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int probe_read_label(const char *path, char *buf, size_t size)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = read(fd, buf, size - 1);
  int err = errno;
  close(fd);
  if (n < 0)
    return -err;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
    n--;
  buf[n] = '\0';
  return 0;
}

json_t *probe_section_lsm(void)
{
  static const char *const lsms[] = { "selinux", "apparmor", "smack" };
  char label[4096];
  json_t *o = json_object();
  int r = probe_read_label("/proc/self/attr/current", label, sizeof label);
  probe_set(o, "source", json_string("/proc/self/attr/current"));
  probe_set(o, "label", r == 0 ? probe_json_str(label) : json_null());
  if (r < 0)
    probe_set(o, "error", json_string(probe_errno_name(-r)));
  json_t *each = json_object();
  for (size_t i = 0; i < sizeof lsms / sizeof lsms[0]; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/attr/%s/current", lsms[i]);
    if (probe_read_label(path, label, sizeof label) == 0)
      probe_set(each, lsms[i], probe_json_str(label));
  }
  probe_set(o, "per_lsm", each);
  char *list = NULL;
  r = probe_read_file("/sys/kernel/security/lsm", 4096, &list, NULL);
  if (r == 0) {
    list[strcspn(list, "\n")] = '\0';
    probe_set(o, "active", probe_json_str(list));
    free(list);
  } else {
    probe_set(o, "active", json_null());
  }
  return o;
}
