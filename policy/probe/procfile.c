/* Small-file reads and /proc/self/status fields. */
#include "procfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room kept free for each read: a record device such as /dev/kmsg fails a
 * read into less room than its next record (EINVAL). */
#define READ_ROOM 8192

int probe_read_file(const char *path, size_t max, char **out, size_t *len)
{
  /* O_NONBLOCK: /dev/kmsg and FIFOs must not hang the probe. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return -errno;
  size_t cap = 0, n = 0;
  char *buf = NULL;
  int r = 0;
  for (;;) {
    if (cap - n < READ_ROOM + 1 && cap < max + 1) {
      size_t grown = cap * 2 + READ_ROOM + 1;
      if (grown > max + 1)
        grown = max + 1;
      char *b = realloc(buf, grown);
      if (!b) {
        r = -ENOMEM;
        break;
      }
      buf = b;
      cap = grown;
    }
    if (n >= max)
      break;
    ssize_t k = read(fd, buf + n, cap - 1 - n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0 && (errno == EAGAIN || (errno == EINVAL && n > 0)))
      break; /* nothing more now (/dev/kmsg at its end), or no room for its next record */
    if (k < 0) {
      r = -errno;
      break;
    }
    if (k == 0)
      break;
    n += (size_t) k;
  }
  close(fd);
  if (r < 0) {
    free(buf);
    return r;
  }
  buf[n] = '\0';
  *out = buf;
  if (len)
    *len = n;
  return 0;
}

bool probe_status_field(const char *status, const char *key, char *buf, size_t size)
{
  size_t klen = strlen(key);
  for (const char *line = status; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t llen = end ? (size_t) (end - line) : strlen(line);
    if (llen > klen && !strncmp(line, key, klen) && line[klen] == ':') {
      const char *v = line + klen + 1;
      while (v < line + llen && (*v == '\t' || *v == ' '))
        v++;
      snprintf(buf, size, "%.*s", (int) (line + llen - v), v);
      return true;
    }
    line = end ? end + 1 : NULL;
  }
  return false;
}
