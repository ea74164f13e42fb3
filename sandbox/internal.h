/* Declarations shared inside libsandbox, one section per file. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include "cgroup.h"
#include "config.h"
#include "error.h"
#include "sbx-seccomp.h"

/* ---- sync.c: messages between the runtime and a setup child ---- */
enum sbx_sync_type { SBX_SYNC_GO = 1, SBX_SYNC_READY, SBX_SYNC_ERROR, SBX_SYNC_PID };
struct sbx_sync_msg {
  int type;
  pid_t pid;
  sh_error err;
};
int sbx_sync_send(int fd, int type, pid_t pid, const sh_error *err);
/* Receive one message; EOF becomes -EPIPE. */
int sbx_sync_recv(int fd, struct sbx_sync_msg *m);
/* In a setup child: report e to the runtime and _exit(1). */
__attribute__((noreturn)) void sbx_sync_fail(int fd, const sh_error *e);

/* ---- rootfs.c: the container's mount namespace ---- */
struct sbx_rootfs_opts {
  const struct sbx_config *c;
  bool sysfs_from_host;   /* network namespace was joined: sysfs cannot be mounted */
  bool selinux;           /* apply mountLabel */
  int root_fd;            /* O_PATH of root.path, opened with host credentials */
  const int *bind_fds;    /* O_PATH of each bind source (-1 for other mounts) */
};
/* Open root.path and the bind sources while we still carry the host uid, so
 * 0700 bundle directories need not be traversable by the container's ids. */
int sbx_rootfs_open(const struct sbx_config *c, int *root_fd, int **bind_fds, sh_error *e);
/* In the setup child, after it became root of its user namespace:
 * build the rootfs and pivot into it. */
int sbx_rootfs_setup(const struct sbx_rootfs_opts *o, sh_error *e);
/* In the setup child, in its new ipc namespace, before it leaves the host
 * uid that owns the namespace's mqueue root: label that root, so queues the
 * container creates inherit the label. */
int sbx_rootfs_label_mqueue(const char *label, sh_error *e);
/* After pivot_root: make the pty for terminal:true, mount it on /dev/console
 * and return the master. */
int sbx_console_setup(int *master, bool mount_console, sh_error *e);

/* ---- process.c: the last steps before execve ---- */
struct sbx_exec_ctx {
  const struct sbx_process *p;
  const struct sbx_seccomp *seccomp;   /* may be NULL */
  const char *selinux_label;           /* NULL when not applied */
  int preserve_fds;
  int fifo_fd;                         /* -1: no start barrier */
  int sync_fd;                         /* READY goes here before the barrier */
};
/* Never returns on success. */
int sbx_process_exec(const struct sbx_exec_ctx *x, sh_error *e);
/* Find argv0 in PATH of env (the container's view). malloc'd result. */
int sbx_find_exe(const char *argv0, char **env, char **out, sh_error *e);

/* ---- caps.c ---- */
int sbx_caps_drop_bounding(uint64_t keep, sh_error *e);
int sbx_caps_apply(const struct sbx_caps *c, sh_error *e);

/* ---- console.c ---- */
int sbx_console_send(int sock, int master, sh_error *e);
int sbx_console_connect(const char *path, sh_error *e);

/* ---- selinux.c ---- */
bool sbx_selinux_enabled(void);
int sbx_selinux_set_exec_label(const char *label, sh_error *e);
/* Files this thread creates get label until its next execve. */
int sbx_selinux_set_create_label(const char *label, sh_error *e);
/* The label of the container's files, canonical, malloc'd in *out (NULL when
 * both are NULL): mount_label (linux.mountLabel) if given, else
 * process_label's user and level with object_r:container_file_t. */
int sbx_selinux_mount_label(const char *process_label, const char *mount_label, char **out, sh_error *e);
/* Label the file at path (following symlinks: /proc/self/fd/N works for O_PATH fds). */
int sbx_selinux_set_label(const char *path, const char *label, sh_error *e);
/* Label the tree at root (not crossing mounts) unless root carries it already. */
int sbx_selinux_label_tree(const char *root, const char *label, sh_error *e);

/* ---- state.c: /run/sbx/<id>/state.json ---- */
struct sbx_state {
  char *id;
  pid_t pid;
  unsigned long long starttime;
  char *bundle, *rootfs, *created;
  json_t *annotations;
  struct sbx_cgroup cg;
  int ns_flags;                  /* namespaces the container has (exec joins them) */
  bool timens;
  char *selinux_label;           /* applied process label, or NULL */
  bool no_new_privs;
};
enum sbx_status { SBX_CREATED, SBX_RUNNING, SBX_PAUSED, SBX_STOPPED };
int sbx_state_path(const char *root, const char *id, char *buf, size_t len, sh_error *e);
int sbx_state_write(const char *dir, const struct sbx_state *s, sh_error *e);
int sbx_state_read(const char *root, const char *id, struct sbx_state *s, sh_error *e);
void sbx_state_clear(struct sbx_state *s);
enum sbx_status sbx_state_status(const char *dir, const struct sbx_state *s);
const char *sbx_status_name(enum sbx_status st);
/* pidfd of the container's init, after checking it is still the same process. */
int sbx_state_pidfd(const struct sbx_state *s, sh_error *e);
unsigned long long sbx_proc_starttime(pid_t pid);
int sbx_check_id(const char *id, sh_error *e);
/* Remove the state dir and everything in it. */
int sbx_state_remove(const char *dir, sh_error *e);

/* ---- util ---- */
int sbx_pidfd_open(pid_t pid);
int sbx_pidfd_send_signal(int pidfd, int sig);
/* Move fd to a number >= min (close-on-exec), closing the old one. */
int sbx_fd_above(int fd, int min);
