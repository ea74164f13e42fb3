/* posix_spawn with the signal state a runtime (and a container) should
 * start with, whatever sandhostd has blocked or ignored. */
#include "rtspawn.h"

#include <signal.h>

extern char **environ;

int hd_spawn(pid_t *pid, const char *const *argv, const posix_spawn_file_actions_t *fa)
{
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  sigset_t none, dfl;
  sigemptyset(&none);
  sigemptyset(&dfl);
  sigaddset(&dfl, SIGTERM);
  sigaddset(&dfl, SIGINT);
  sigaddset(&dfl, SIGPIPE);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &dfl);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int r = posix_spawnp(pid, argv[0], fa, &at, (char *const *) argv, environ);
  posix_spawnattr_destroy(&at);
  return r;
}
