/* sbx_userns_fd's helper process (it makes the user namespace and waits to
 * be killed) must never outlive its caller.  A caller SIGKILLed in that
 * window once left it paused for ever, holding copies of every fd of the
 * caller: sandhostd's listening sockets and clients stayed open, so its
 * clients never saw the end of their connection and the next sandhostd
 * found a "live daemon" on its socket.
 *
 * Rounds of: a caller that owns a listening socket and makes user
 * namespaces in a loop, SIGKILLed after a random delay.  We are the
 * subreaper, so an orphaned helper comes to us: after each kill no
 * process may be left, and the caller's socket must refuse connections.
 * Root (user namespaces with maps onto arbitrary host ids). */
#include "../unit/tap.h"
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 200

static struct sockaddr_un addr = { .sun_family = AF_UNIX };

static void sleep_us(long us)
{
  struct timespec t = { us / 1000000, (us % 1000000) * 1000 };
  while (nanosleep(&t, &t) < 0 && errno == EINTR)
    ;
}

/* The caller: a listener of its own (close-on-exec, as sandhostd's), then
 * user namespaces one after the other until it is killed.  Tells the test
 * through ready when it listens. */
static _Noreturn void caller(int ready)
{
  int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0 || bind(l, (struct sockaddr *) &addr, sizeof addr) < 0 || listen(l, 16) < 0 || write(ready, "r", 1) != 1)
    _exit(2);
  struct sbx_idmap map = { 0, 3900000, 65536 };
  for (;;) {
    sh_error e = {0};
    int fd = sbx_userns_fd(&map, 1, &map, 1, &e);
    if (fd < 0)
      _exit(3);
    close(fd);
  }
}

/* Our children by /proc (the orphans that came to us), each SIGKILLed: the
 * number found. */
static int end_children(void)
{
  int n = 0;
  DIR *d = opendir("/proc");
  struct dirent *de;
  while (d && (de = readdir(d))) {
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
    FILE *f = de->d_name[0] >= '1' && de->d_name[0] <= '9' ? fopen(path, "re") : NULL;
    if (!f)
      continue;
    char *rp = fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
    fclose(f);
    int ppid = 0;
    if (rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == getpid()) {
      kill(atoi(de->d_name), SIGKILL);
      n++;
    }
  }
  if (d)
    closedir(d);
  return n;
}

/* Whether children of ours are left once the caller was reaped: orphaned
 * helpers.  A helper ended by its parent-death signal comes to us as a
 * zombie a moment later and is reaped here; up to a second is given. */
static bool children_left(void)
{
  for (int i = 0; i < 100; i++) {
    while (waitpid(-1, NULL, WNOHANG) > 0)
      ;
    if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
      return false;
    sleep_us(10000);
  }
  return true;
}

int main(void)
{
  if (geteuid() != 0) {
    printf("1..0 # SKIP needs root\n");
    return 0;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
    printf("Bail out! PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
    return 1;
  }
  /* An abstract address: nothing on disk to remove. */
  snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "sbx-userns-holder-%d", (int) getpid());

  int orphans = 0, held = 0, failed = 0;
  for (int round = 0; round < ROUNDS; round++) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
      return 1;
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      caller(p[1]);
    }
    close(p[1]);
    char c;
    bool listening = read(p[0], &c, 1) == 1;
    close(p[0]);
    unsigned r = 0;
    getrandom(&r, sizeof r, 0);
    sleep_us(200 + r % 3000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!listening || !WIFSIGNALED(status)) {
      failed++;
      continue;
    }
    bool left = children_left();
    /* Anyone still holding the caller's listener would take this. */
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(s, (struct sockaddr *) &addr, sizeof addr) == 0)
      held++;
    close(s);
    if (left) {
      /* End them (ours since their caller died), so the next round starts clean. */
      orphans += end_children();
      while (waitpid(-1, NULL, 0) > 0)
        ;
    }
  }
  is_int(failed, 0, "every caller listened and made user namespaces until it was killed (%d rounds)", ROUNDS);
  is_int(orphans, 0, "no helper outlived its killed caller");
  is_int(held, 0, "no process kept the killed caller's listening socket");
  return tap_done();
}
