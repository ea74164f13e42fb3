/* libsandbox: one container on one host.  This is the real interface;
 * sbx is a thin CLI over it and sandhostd links it directly.
 * Every fallible call returns 0 or a negative errno and fills *e. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"

/* Re-exec from a sealed memfd copy unless already running from one
 * (CVE-2019-5736).  Call first thing in main() of any binary that creates
 * or enters containers.  Returns only when nothing had to be done. */
int sbx_ensure_sealed_exe(int argc, char **argv, sh_error *e);

/* Generate a config.json for ./rootfs (runc spec); hardened adds the
 * default seccomp profile, cgroup limits and a device allowlist. */
int sbx_spec_generate(bool hardened, char **json_out, sh_error *e);

struct sbx_spec_opts {
  bool hardened;
  /* A built-in seccomp profile ("default", "strict"); NULL: "default" when
   * hardened, none otherwise. */
  const char *seccomp;
};
int sbx_spec_generate_opts(const struct sbx_spec_opts *o, char **json_out, sh_error *e);

struct sbx_create_opts {
  const char *root;           /* state root, e.g. /run/sbx */
  const char *id;
  const char *bundle;         /* directory holding config.json */
  const char *pid_file;       /* may be NULL */
  const char *console_socket; /* unix socket to receive the pty master */
  int preserve_fds;           /* fds 3..3+n-1 pass to the container */
  int console_fd;             /* already connected console socket, or -1 */
  bool foreground;            /* used by run: stay the container's parent */
};

int sbx_create(const struct sbx_create_opts *o, pid_t *pid, sh_error *e);
int sbx_start(const char *root, const char *id, sh_error *e);
/* Runtime-spec state as JSON text (malloc'd). */
int sbx_state(const char *root, const char *id, char **json_out, sh_error *e);
int sbx_kill(const char *root, const char *id, int sig, bool all, sh_error *e);
int sbx_delete(const char *root, const char *id, bool force, sh_error *e);
int sbx_pause(const char *root, const char *id, sh_error *e);
int sbx_resume(const char *root, const char *id, sh_error *e);
/* JSON array of {id, pid, status, bundle, created}. */
int sbx_list(const char *root, char **json_out, sh_error *e);
/* What this runtime supports (runtime-spec "features" document). */
int sbx_features(char **json_out, sh_error *e);

struct sbx_exec_opts {
  char **args;          /* NULL: use process.json */
  const char *process;  /* path of a runtime-spec process JSON, or NULL */
  char **env;           /* extra KEY=VALUE */
  const char *cwd;
  const char *user;     /* "uid[:gid]" */
  bool tty;
  const char *console_socket;
  const char *pid_file;
  int preserve_fds;
};

/* Start a process inside a running container.  The new process is a child
 * of the caller (waitpid works).  With tty and no console_socket, *pty_master
 * receives the pty master. */
int sbx_exec(const char *root, const char *id, const struct sbx_exec_opts *o,
             pid_t *pid, int *pty_master, sh_error *e);

/* Copy between the caller's stdio and a pty master until the child exits;
 * returns its wait status. */
int sbx_console_proxy(int master, pid_t child, int *status, sh_error *e);

/* Wait for a child and turn its status into a shell exit code, forwarding
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2 and SIGWINCH to it. */
int sbx_wait_forward(pid_t child, int *exit_code, sh_error *e);

/* Receive a pty master sent over a unix socket (SCM_RIGHTS). */
int sbx_console_recv(int sock, int *master, sh_error *e);

/* Parse "KILL", "SIGKILL" or "9". */
int sbx_parse_signal(const char *s);
