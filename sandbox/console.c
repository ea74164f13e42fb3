/* Pty masters travel over unix sockets with SCM_RIGHTS, as runc does. */
#include "internal.h"
#include "sandbox.h"
#include "cleanup.h"
#include "fdutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int sbx_console_connect(const char *path, sh_error *e)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof sa.sun_path)
    return sh_err(e, ENAMETOOLONG, "connect console socket", path, NULL);
  strcpy(sa.sun_path, path);
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return sh_errno(e, "socket", path);
  if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    return sh_errno(e, "connect console socket", path);
  return steal_fd(fd);
}

int sbx_console_send(int sock, int master, sh_error *e)
{
  static const char name[] = "/dev/ptmx";
  return sh_send_fd(sock, master, name, sizeof name, "pty master", e);
}

int sbx_console_recv(int sock, int *master, sh_error *e)
{
  char name[64];
  int r = sh_recv_fd(sock, master, name, sizeof name, 1, "pty master", e);
  return r < 0 ? r : 0;
}

static struct termios saved_tio;
static bool restore_tio;

static void tty_restore(void)
{
  if (restore_tio)
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

static void copy_winsize(int master)
{
  struct winsize ws;
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
}

int sbx_console_proxy(int master, pid_t child, int *status, sh_error *e)
{
  if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
    struct termios raw = saved_tio;
    cfmakeraw(&raw);
    restore_tio = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    atexit(tty_restore);
    copy_winsize(master);
  }
  struct pollfd pf[2] = { { STDIN_FILENO, POLLIN, 0 }, { master, POLLIN, 0 } };
  char buf[8192];
  bool in_open = true;
  for (;;) {
    int n = poll(pf, 2, -1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    if (in_open && (pf[0].revents & (POLLIN | POLLHUP))) {
      ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
      if (r <= 0) {
        in_open = false;
        pf[0].fd = -1;
        /* End of input: send EOF to the pty like a typed ^D. */
        write(master, "\x04", 1);
      } else if (sh_write_all(master, buf, (size_t) r) < 0) {
        break;
      }
    }
    if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(master, buf, sizeof buf);
      if (r <= 0)
        break; /* EIO once every slave fd is closed */
      sh_write_all(STDOUT_FILENO, buf, (size_t) r);
    }
  }
  tty_restore();
  restore_tio = false;
  pid_t w;
  do
    w = waitpid(child, status, 0);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return sh_errno(e, "wait", "container process");
  return 0;
}
