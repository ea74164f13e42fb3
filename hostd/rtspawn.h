/* Running the runtime from sandhostd. */
#pragma once

#include <spawn.h>
#include <sys/types.h>

/* posix_spawnp argv with the file actions fa, as a clean child: no signal
 * blocked (sandhostd takes SIGTERM through a signalfd) and SIGTERM, SIGINT
 * and SIGPIPE back to their defaults.  0 or a positive errno. */
int hd_spawn(pid_t *pid, const char *const *argv, const posix_spawn_file_actions_t *fa);
