/* The sync socket: a SOCK_SEQPACKET pair, one fixed-size message per step. */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int sbx_sync_send(int fd, int type, pid_t pid, const sh_error *err)
{
  struct sbx_sync_msg m = { .type = type, .pid = pid };
  if (err)
    m.err = *err;
  for (;;) {
    ssize_t n = send(fd, &m, sizeof m, MSG_NOSIGNAL);
    if (n == (ssize_t) sizeof m)
      return 0;
    if (n < 0 && errno == EINTR)
      continue;
    return n < 0 ? -errno : -EIO;
  }
}

int sbx_sync_recv(int fd, struct sbx_sync_msg *m)
{
  for (;;) {
    ssize_t n = recv(fd, m, sizeof *m, 0);
    if (n == (ssize_t) sizeof *m)
      return 0;
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0)
      return -EPIPE;
    return n < 0 ? -errno : -EIO;
  }
}

void sbx_sync_fail(int fd, const sh_error *e)
{
  sh_error copy = *e;
  if (!copy.err)
    copy.err = EIO;
  sbx_sync_send(fd, SBX_SYNC_ERROR, 0, &copy);
  _exit(1);
}
