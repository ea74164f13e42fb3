/* Container lifecycle: create, start, state, kill, delete, pause, resume. */
#include "internal.h"
#include "sandbox.h"
#include "cleanup.h"
#include "fdutil.h"
#include "jsonutil.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define OCI_VERSION "1.2.0"

struct child_args {
  struct sbx_config *c;
  int sync_fd;
  int cgroup_fd;          /* closed before the container's paths are resolved */
  int fifo_fd;
  int console_fd;
  int preserve_fds;
  const struct sbx_seccomp *seccomp;
  const struct sbx_cgroup *cg;
  bool unshare_cgroupns;  /* v1: after we moved into our cgroups */
  bool selinux;
};

static int write_time_offsets(const struct sbx_config *c, sh_error *e)
{
  char buf[256];
  size_t len = 0;
  if (unshare(CLONE_NEWTIME) < 0)
    return sh_errno(e, "unshare time namespace", NULL);
  for (size_t i = 0; i < c->n_time_offsets; i++)
    len += (size_t) snprintf(buf + len, sizeof buf - len, "%d %lld %u\n", c->time_offsets[i].clock,
                             (long long) c->time_offsets[i].secs, c->time_offsets[i].nanosecs);
  if (len) {
    _cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, buf, len) != (ssize_t) len)
      return sh_errno(e, "write time offsets", "/proc/self/timens_offsets");
  }
  /* unshare only prepares the namespace for children; enter it ourselves. */
  _cleanup_close_ int ns = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWTIME) < 0)
    return sh_errno(e, "enter time namespace", NULL);
  return 0;
}

static bool has_mqueue(const struct sbx_config *c)
{
  for (size_t i = 0; i < c->n_mounts; i++)
    if (c->mounts[i].type && strcmp(c->mounts[i].type, "mqueue") == 0)
      return true;
  return false;
}

/* The container's init before execve.  Errors go to the runtime over sync_fd. */
__attribute__((noreturn)) static void child_main(struct child_args *a)
{
  sh_error err = {0};
  sh_error *e = &err;
  struct sbx_config *c = a->c;
  struct sbx_sync_msg m;
  int r;

  if (sbx_sync_recv(a->sync_fd, &m) < 0 || m.type != SBX_SYNC_GO)
    _exit(1);
  int root_fd = -1, *bind_fds = NULL;
  /* Host credentials are still ours: join the v1 cgroups, open the rootfs. */
  if (a->cg->mode == SBX_CG_HYBRID && sbx_cgroup_enter_self_v1(a->cg, e) < 0)
    goto fail;
  if (sbx_rootfs_open(c, &root_fd, &bind_fds, e) < 0)
    goto fail;
  if (a->selinux && c->mount_label && (c->ns_new_flags & CLONE_NEWIPC) && has_mqueue(c) &&
      sbx_rootfs_label_mqueue(c->mount_label, e) < 0)
    goto fail;
  /* Become root of the new user namespace before touching any file, so we
   * never act with the host-root uid we were cloned with. */
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
    sh_errno(e, "become root in the user namespace", "linux.uidMappings");
    goto fail;
  }
  /* The uid change left us non-dumpable, which makes /proc/self files
   * root-owned; timens_offsets needs them ours for a moment.  No container
   * process exists yet to take advantage. */
  if (c->ns_new_flags & CLONE_NEWTIME) {
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
      sh_errno(e, "prctl", "PR_SET_DUMPABLE");
      goto fail;
    }
    if (write_time_offsets(c, e) < 0)
      goto fail;
  }
  /* Not dumpable: processes of the container cannot open our /proc/PID/exe or mem. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
    sh_errno(e, "prctl", "PR_SET_DUMPABLE");
    goto fail;
  }
  if (a->unshare_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
    sh_errno(e, "unshare cgroup namespace", NULL);
    goto fail;
  }
  if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0) {
    sh_errno(e, "sethostname", c->hostname);
    goto fail;
  }
  if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0) {
    sh_errno(e, "setdomainname", c->domainname);
    goto fail;
  }
  struct sbx_rootfs_opts ro = {
    .c = c,
    .sysfs_from_host = !(c->ns_new_flags & CLONE_NEWNET),
    .selinux = a->selinux,
    .root_fd = root_fd,
    .bind_fds = bind_fds,
  };
  sh_debug("init: namespaces set up");
  if ((r = sbx_rootfs_setup(&ro, e)) < 0)
    goto fail;
  sh_debug("init: rootfs ready");
  /* The old rootfs directory, the bind sources and the cgroup are host
   * directories: none may stay open while the process's cwd and
   * executable are resolved (CVE-2024-21626). */
  close(root_fd);
  for (size_t i = 0; i < c->n_mounts; i++)
    if (bind_fds[i] >= 0)
      close(bind_fds[i]);
  free(bind_fds);
  if (a->cgroup_fd >= 0)
    close(a->cgroup_fd);
  if (c->process.terminal) {
    _cleanup_close_ int master = -1;
    if ((r = sbx_console_setup(&master, true, e)) < 0)
      goto fail;
    if ((r = sbx_console_send(a->console_fd, master, e)) < 0)
      goto fail;
    close(a->console_fd);
  }
  struct sbx_exec_ctx x = {
    .p = &c->process,
    .seccomp = a->seccomp,
    .selinux_label = a->selinux ? c->process.selinux_label : NULL,
    .preserve_fds = a->preserve_fds,
    .fifo_fd = a->fifo_fd,
    .sync_fd = a->sync_fd,
  };
  sbx_process_exec(&x, e);
fail:
  {
    char buf[1200];
    /* After READY nobody may be listening; stderr is the container's own. */
    if (sbx_sync_send(a->sync_fd, SBX_SYNC_ERROR, 0, e) < 0)
      dprintf(2, "sbx: %s\n", sh_error_str(e, buf, sizeof buf));
    _exit(127);
  }
}

static pid_t clone3_raw(uint64_t flags, int cgroup_fd, int *pidfd)
{
  struct clone_args ca = {
    .flags = flags | CLONE_PIDFD,
    .pidfd = (uint64_t) (uintptr_t) pidfd,
    /* With CLONE_PARENT the kernel wants 0 and uses the caller's exit signal. */
    .exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD,
    .cgroup = cgroup_fd >= 0 ? (uint64_t) cgroup_fd : 0,
  };
  if (cgroup_fd >= 0)
    ca.flags |= CLONE_INTO_CGROUP;
  return (pid_t) syscall(SYS_clone3, &ca, sizeof ca);
}

static char *now_rfc3339(void)
{
  struct timespec ts;
  struct tm tm;
  char buf[64], *out = NULL;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (asprintf(&out, "%s.%09ldZ", buf, ts.tv_nsec) < 0)
    return NULL;
  return out;
}

/* Join path-given namespaces from a helper, which then clones the container
 * as a sibling (CLONE_PARENT) so the runtime stays its parent. */
static pid_t clone_with_paths(const struct sbx_config *c, uint64_t flags, int cgfd, int *pidfd,
                              struct child_args *a, sh_error *e)
{
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    return sh_errno(e, "socketpair", NULL);
  pid_t helper = fork();
  if (helper < 0) {
    close(sp[0]);
    close(sp[1]);
    return sh_errno(e, "fork", NULL);
  }
  if (helper == 0) {
    sh_error he = {0};
    close(sp[0]);
    /* The user namespace last: after joining it we lose host privileges. */
    for (int pass = 0; pass < 2; pass++)
      for (size_t i = 0; i < c->n_ns; i++) {
        if (!c->ns[i].path || (pass == 0) == (c->ns[i].flag == CLONE_NEWUSER))
          continue;
        int fd = open(c->ns[i].path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, c->ns[i].flag) < 0) {
          sh_errno(&he, "join namespace", c->ns[i].path);
          sbx_sync_fail(sp[1], &he);
        }
        close(fd);
      }
    int pfd = -1;
    pid_t pid = clone3_raw(flags | CLONE_PARENT, cgfd, &pfd);
    if (pid == 0)
      child_main(a);
    if (pid < 0) {
      sh_errno(&he, "clone", "container init");
      sbx_sync_fail(sp[1], &he);
    }
    sbx_sync_send(sp[1], SBX_SYNC_PID, pid, NULL);
    _exit(0);
  }
  close(sp[1]);
  struct sbx_sync_msg m;
  int r = sbx_sync_recv(sp[0], &m);
  close(sp[0]);
  waitpid(helper, NULL, 0);
  if (r < 0)
    return sh_err(e, -r, "join namespaces", NULL, "the helper died");
  if (m.type == SBX_SYNC_ERROR) {
    *e = m.err;
    return -m.err.err;
  }
  *pidfd = sbx_pidfd_open(m.pid);
  return m.pid;
}

struct create_ctx {
  char dir[PATH_MAX];
  bool dir_made;
  struct sbx_cgroup cg;
  bool cg_made;
  pid_t pid;
  int pidfd;
};

static void create_rollback(struct create_ctx *x)
{
  sh_error ignore = {0};
  if (x->pid > 0) {
    if (x->pidfd >= 0)
      sbx_pidfd_send_signal(x->pidfd, SIGKILL);
    else
      kill(x->pid, SIGKILL);
    waitpid(x->pid, NULL, 0);
  }
  if (x->cg_made)
    sbx_cgroup_destroy(&x->cg, &ignore);
  if (x->dir_made)
    sbx_state_remove(x->dir, &ignore);
}

static bool ns_has_path(const struct sbx_config *c)
{
  for (size_t i = 0; i < c->n_ns; i++)
    if (c->ns[i].path)
      return true;
  return false;
}

int sbx_create(const struct sbx_create_opts *o, pid_t *pid_out, sh_error *e)
{
  _cleanup_config_ struct sbx_config *c = NULL;
  struct create_ctx x = { .pidfd = -1 };
  struct sbx_seccomp sc = {0};
  int r, minfd = 3 + (o->preserve_fds > 0 ? o->preserve_fds : 0);
  _cleanup_close_ int fifo = -1, console = -1, cgfd = -1;
  int sp[2] = { -1, -1 };
  json_t *ann_out = NULL;

  if ((r = sbx_state_path(o->root, o->id, x.dir, sizeof x.dir, e)) < 0)
    return r;
  if ((r = sbx_config_load(o->bundle, &c, e)) < 0)
    return r;
  sh_debug("create %s: config parsed", o->id);
  struct stat st;
  if (stat(c->root_path, &st) < 0)
    return sh_err(e, errno, "config", "root.path", "%s: %s", c->root_path, strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return sh_err(e, ENOTDIR, "config", "root.path", "%s is not a directory", c->root_path);
  if (c->process.terminal && !o->console_socket && o->console_fd < 0)
    return sh_err(e, EINVAL, "config", "process.terminal", "needs --console-socket");
  if (c->ns_new_flags & CLONE_NEWUSER) {
    uint32_t hu = sbx_idmap_to_host(c->uid_map, c->n_uid_map, c->process.user.uid);
    uint32_t hg = sbx_idmap_to_host(c->gid_map, c->n_gid_map, c->process.user.gid);
    if (hu == (uint32_t) -1 || hg == (uint32_t) -1)
      return sh_err(e, EINVAL, "config", "process.user", "uid %u / gid %u is not mapped",
                    c->process.user.uid, c->process.user.gid);
  }
  char cache[PATH_MAX];
  snprintf(cache, sizeof cache, "%s/.cache/seccomp", o->root);
  if (c->seccomp && (r = sbx_seccomp_compile(c->seccomp, cache, &sc, e)) < 0)
    return r;
  sh_debug("seccomp filter ready (%zu instructions)", sc.len / 8);

  bool selinux = sbx_selinux_enabled();
  ann_out = json_deep_copy(c->annotations ? c->annotations : json_object());
  if (!selinux && (c->process.selinux_label || c->mount_label))
    json_object_set_new(ann_out, "org.sandhost.warning.selinux",
                        json_string("SELinux is disabled on this host; selinuxLabel and mountLabel were not applied"));
  if (selinux) {
    /* The rootfs carries the container's file label before any of its
     * processes exists; tmpfs, devpts and mqueue mounts get it through
     * context=, files the setup child creates through fscreate. */
    char *ml = NULL;
    if ((r = sbx_selinux_mount_label(c->process.selinux_label, c->mount_label, &ml, e)) < 0)
      goto fail;
    free(c->mount_label);
    c->mount_label = ml;
    if (ml && (r = sbx_selinux_label_tree(c->root_path, ml, e)) < 0)
      goto fail;
    sh_debug("rootfs labelled %s", ml ? ml : "(no label)");
  }

  /* Everything from here on is undone on failure. */
  if ((r = sh_mkdir_p(o->root, 0700)) < 0) {
    r = sh_err(e, -r, "create state root", o->root, NULL);
    goto fail;
  }
  if (mkdir(x.dir, 0700) < 0) {
    r = errno == EEXIST ? sh_err(e, EEXIST, "create container", o->id, "a container with this ID already exists")
                        : sh_errno(e, "create state dir", x.dir);
    goto fail;
  }
  x.dir_made = true;
  {
    char f[PATH_MAX + 16];
    snprintf(f, sizeof f, "%s/exec.fifo", x.dir);
    if (mkfifo(f, 0600) < 0) {
      r = sh_errno(e, "create exec fifo", f);
      goto fail;
    }
    uint32_t hu = sbx_idmap_to_host(c->uid_map, c->n_uid_map, c->process.user.uid);
    uint32_t hg = sbx_idmap_to_host(c->gid_map, c->n_gid_map, c->process.user.gid);
    if (c->n_uid_map && chown(f, hu, hg) < 0) {
      r = sh_errno(e, "chown exec fifo", f);
      goto fail;
    }
    fifo = sbx_fd_above(open(f, O_PATH | O_CLOEXEC), minfd);
    if (fifo < 0) {
      r = sh_errno(e, "open exec fifo", f);
      goto fail;
    }
    if (sc.prog) {
      /* exec needs the same filter: a hard link to the cache file is free. */
      _cleanup_close_ int dfd = open(x.dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if ((!sc.cache_path || linkat(AT_FDCWD, sc.cache_path, dfd, "seccomp.bpf", 0) < 0) &&
          (r = sbx_seccomp_save(&sc, dfd, "seccomp.bpf", e)) < 0)
        goto fail;
    }
    /* exec starts from the container's process settings. */
    snprintf(f, sizeof f, "%s/process.json", x.dir);
    _cleanup_free_ char *ptext = json_dumps(json_object_get(c->json, "process"), JSON_COMPACT);
    if (!ptext) {
      r = sh_err(e, ENOMEM, "write process copy", f, NULL);
      goto fail;
    }
    if ((r = sh_write_file_atomic(f, ptext, 0600, e)) < 0)
      goto fail;
  }
  sh_debug("state dir written");
  if ((r = sbx_cgroup_resolve(c, o->id, &x.cg, e)) < 0)
    goto fail;
  if ((r = sbx_cgroup_create(c, &x.cg, e)) < 0) {
    x.cg_made = true; /* partly made: remove what is there */
    goto fail;
  }
  x.cg_made = true;
  sh_debug("cgroups made and limited");
  if ((cgfd = sbx_fd_above(sbx_cgroup_open_leaf(&x.cg, e), minfd)) < 0) {
    r = cgfd;
    goto fail;
  }
  if (c->process.terminal) {
    console = o->console_fd >= 0 ? fcntl(o->console_fd, F_DUPFD_CLOEXEC, minfd)
                                 : sbx_fd_above(sbx_console_connect(o->console_socket, e), minfd);
    if (console < 0) {
      r = console == -1 ? sh_errno(e, "console socket", o->console_socket) : console;
      goto fail;
    }
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
    r = sh_errno(e, "socketpair", "sync");
    goto fail;
  }
  sp[0] = sbx_fd_above(sp[0], minfd);
  sp[1] = sbx_fd_above(sp[1], minfd);

  struct child_args a = {
    .c = c, .sync_fd = sp[1], .cgroup_fd = cgfd, .fifo_fd = fifo, .console_fd = console,
    .preserve_fds = o->preserve_fds, .seccomp = sc.prog ? &sc : NULL,
    .cg = &x.cg,
    .unshare_cgroupns = x.cg.mode == SBX_CG_HYBRID && (c->ns_new_flags & CLONE_NEWCGROUP),
    .selinux = selinux,
  };
  uint64_t flags = (uint64_t) (c->ns_new_flags & ~CLONE_NEWTIME);
  if (x.cg.mode == SBX_CG_HYBRID)
    flags &= ~(uint64_t) CLONE_NEWCGROUP;
  if (ns_has_path(c))
    x.pid = clone_with_paths(c, flags, cgfd, &x.pidfd, &a, e);
  else
    x.pid = clone3_raw(flags, cgfd, &x.pidfd);
  if (x.pid == 0)
    child_main(&a);
  if (x.pid < 0) {
    r = x.pid == -1 ? sh_errno(e, "clone", "container init") : x.pid;
    x.pid = 0;
    goto fail;
  }
  close(sp[1]);
  sp[1] = -1;
  sh_debug("cloned init %d", x.pid);

  if ((c->ns_new_flags & CLONE_NEWUSER) && (r = sbx_idmap_write(x.pid, c, e)) < 0)
    goto fail;
  if (c->process.oom_score_adj.set) {
    char f[64], v[16];
    snprintf(f, sizeof f, "/proc/%d/oom_score_adj", x.pid);
    snprintf(v, sizeof v, "%lld", (long long) c->process.oom_score_adj.v);
    if ((r = sh_write_file_at(AT_FDCWD, f, v, e)) < 0)
      goto fail;
  }
  if ((r = sbx_sync_send(sp[0], SBX_SYNC_GO, 0, NULL)) < 0) {
    r = sh_err(e, -r, "start container init", NULL, NULL);
    goto fail;
  }
  struct sbx_sync_msg m;
  r = sbx_sync_recv(sp[0], &m);
  if (r < 0 || m.type != SBX_SYNC_READY) {
    if (r == 0 && m.type == SBX_SYNC_ERROR) {
      *e = m.err;
      r = -m.err.err;
    } else {
      int status = 0;
      waitpid(x.pid, &status, 0);
      x.pid = 0;
      r = sh_err(e, EIO, "container setup", NULL, "the setup process died (%s %d)",
                 WIFSIGNALED(status) ? "signal" : "exit", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    }
    goto fail;
  }

  sh_debug("init is ready");
  struct sbx_state s = {
    .id = (char *) o->id, .pid = x.pid, .starttime = sbx_proc_starttime(x.pid),
    .bundle = c->bundle, .rootfs = c->root_path, .created = now_rfc3339(),
    .annotations = ann_out, .cg = x.cg, .ns_flags = c->ns_new_flags,
    .timens = (c->ns_new_flags & CLONE_NEWTIME) != 0,
    .selinux_label = selinux ? c->process.selinux_label : NULL,
    .no_new_privs = c->process.no_new_privs,
  };
  for (size_t i = 0; i < c->n_ns; i++)
    s.ns_flags |= c->ns[i].flag;
  r = sbx_state_write(x.dir, &s, e);
  free(s.created);
  if (r < 0)
    goto fail;
  if (o->pid_file) {
    char v[16];
    snprintf(v, sizeof v, "%d", x.pid);
    if ((r = sh_write_file_atomic(o->pid_file, v, 0644, e)) < 0)
      goto fail;
  }
  if (pid_out)
    *pid_out = x.pid;
  r = 0;
  goto out;
fail:
  create_rollback(&x);
out:
  if (sp[0] >= 0)
    close(sp[0]);
  if (sp[1] >= 0)
    close(sp[1]);
  if (x.pidfd >= 0)
    close(x.pidfd);
  sbx_cgroup_clear(&x.cg);
  sbx_seccomp_clear(&sc);
  if (ann_out)
    json_decref(ann_out);
  return r;
}

/* A container's state as the commands below need it. */
struct loaded {
  struct sbx_state s;
  char dir[PATH_MAX];
  enum sbx_status st;
};

static void loaded_clear(struct loaded *l)
{
  sbx_state_clear(&l->s);
}
#define _cleanup_loaded_ __attribute__((cleanup(loaded_clear)))

static int load(const char *root, const char *id, struct loaded *l, sh_error *e)
{
  memset(l, 0, sizeof *l);
  int r = sbx_state_path(root, id, l->dir, sizeof l->dir, e);
  if (r < 0 || (r = sbx_state_read(root, id, &l->s, e)) < 0)
    return r;
  l->st = sbx_state_status(l->dir, &l->s);
  return 0;
}

int sbx_start(const char *root, const char *id, sh_error *e)
{
  _cleanup_loaded_ struct loaded l;
  char f[PATH_MAX + 16];
  _cleanup_close_ int fd = -1, pidfd = -1;
  int r = load(root, id, &l, e);
  if (r < 0)
    return r;
  sh_debug("start %s", id);
  if (l.st != SBX_CREATED) {
    r = sh_err(e, EINVAL, "start", id, "container is %s, not created", sbx_status_name(l.st));
    return r;
  }
  /* The pidfd first: once the fifo is open the init may exec and exit at once. */
  pidfd = sbx_state_pidfd(&l.s, e);
  if (pidfd < 0) {
    r = pidfd;
    return r;
  }
  snprintf(f, sizeof f, "%s/exec.fifo", l.dir);
  fd = open(f, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    r = sh_errno(e, "open exec fifo", f);
    return r;
  }
  struct pollfd pf[2] = { { fd, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
  for (;;) {
    int n = poll(pf, 2, 30000);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      r = sh_err(e, ETIMEDOUT, "start", id, "the container did not pick up the start signal");
      return r;
    }
    char b;
    if ((pf[0].revents & POLLIN) && read(fd, &b, 1) == 1)
      break;
    if (pf[1].revents && !(pf[0].revents & POLLIN)) {
      r = sh_err(e, ESRCH, "start", id, "the container exited before it started");
      return r;
    }
  }
  unlink(f);
  r = 0;
  return r;
}

int sbx_state(const char *root, const char *id, char **json_out, sh_error *e)
{
  _cleanup_loaded_ struct loaded l;
  int r = load(root, id, &l, e);
  if (r < 0)
    return r;
  json_t *j = json_pack("{s:s,s:s,s:s,s:i,s:s,s:O,s:s}", "ociVersion", OCI_VERSION, "id", l.s.id,
                        "status", sbx_status_name(l.st), "pid", l.st == SBX_STOPPED ? 0 : (int) l.s.pid,
                        "bundle", l.s.bundle, "annotations", l.s.annotations, "created", l.s.created);
  *json_out = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
  json_decref(j);
  return *json_out ? 0 : sh_err(e, ENOMEM, "state", id, NULL);
}

int sbx_kill(const char *root, const char *id, int sig, bool all, sh_error *e)
{
  _cleanup_loaded_ struct loaded l;
  int r = load(root, id, &l, e);
  if (r < 0)
    return r;
  if (l.st == SBX_STOPPED) {
    r = sh_err(e, ESRCH, "kill", id, "container is not running");
  } else if (all) {
    r = sbx_cgroup_signal(&l.s.cg, sig) < 0 ? sh_errno(e, "kill --all", l.s.cg.unified) : 0;
  } else {
    _cleanup_close_ int pidfd = sbx_state_pidfd(&l.s, e);
    r = pidfd < 0 ? pidfd : sbx_pidfd_send_signal(pidfd, sig) < 0 ? sh_errno(e, "kill", id) : 0;
  }
  return r;
}

int sbx_delete(const char *root, const char *id, bool force, sh_error *e)
{
  _cleanup_loaded_ struct loaded l;
  int r = load(root, id, &l, e);
  if (r < 0) {
    /* A state dir without a readable state.json is debris of a crash. */
    if (force && e->err == EINVAL) {
      sh_error_clear(e);
      return sbx_state_remove(l.dir, e);
    }
    return r;
  }
  if ((l.st == SBX_RUNNING || l.st == SBX_PAUSED) && !force) {
    r = sh_err(e, EBUSY, "delete", id, "container is %s; stop it or use --force", sbx_status_name(l.st));
    return r;
  }
  if (l.st != SBX_STOPPED) {
    _cleanup_close_ int pidfd = sbx_state_pidfd(&l.s, NULL);
    if (pidfd >= 0) {
      if (l.st == SBX_PAUSED)
        sbx_cgroup_freeze(&l.s.cg, false, NULL);
      sbx_pidfd_send_signal(pidfd, SIGKILL);
      struct pollfd pf = { pidfd, POLLIN, 0 };
      poll(&pf, 1, 10000);
    }
  }
  sh_debug("delete %s: init gone", id);
  if ((r = sbx_cgroup_destroy(&l.s.cg, e)) < 0)
    return r;
  r = sbx_state_remove(l.dir, e);
  return r;
}

static int freeze(const char *root, const char *id, bool on, sh_error *e)
{
  _cleanup_loaded_ struct loaded l;
  int r = load(root, id, &l, e);
  if (r < 0)
    return r;
  if (on && l.st != SBX_RUNNING)
    r = sh_err(e, EINVAL, "pause", id, "container is %s, not running", sbx_status_name(l.st));
  else if (!on && l.st != SBX_PAUSED)
    r = sh_err(e, EINVAL, "resume", id, "container is %s, not paused", sbx_status_name(l.st));
  else
    r = sbx_cgroup_freeze(&l.s.cg, on, e);
  return r;
}

int sbx_pause(const char *root, const char *id, sh_error *e)
{
  return freeze(root, id, true, e);
}

int sbx_resume(const char *root, const char *id, sh_error *e)
{
  return freeze(root, id, false, e);
}

int sbx_list(const char *root, char **json_out, sh_error *e)
{
  json_t *arr = json_array();
  _cleanup_closedir_ DIR *d = opendir(root);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d))) {
      if (de->d_name[0] == '.')
        continue;
      _cleanup_loaded_ struct loaded l;
      sh_error ignore = {0};
      if (load(root, de->d_name, &l, &ignore) < 0)
        continue;
      json_array_append_new(arr, json_pack("{s:s,s:i,s:s,s:s,s:s}", "id", l.s.id,
                                           "pid", l.st == SBX_STOPPED ? 0 : (int) l.s.pid,
                                           "status", sbx_status_name(l.st), "bundle", l.s.bundle,
                                           "created", l.s.created));
    }
  } else if (errno != ENOENT) {
    json_decref(arr);
    return sh_errno(e, "list", root);
  }
  *json_out = json_dumps(arr, JSON_INDENT(2));
  json_decref(arr);
  return *json_out ? 0 : sh_err(e, ENOMEM, "list", root, NULL);
}

int sbx_wait_forward(pid_t child, int *exit_code, sh_error *e)
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
  sigset_t set, old;
  sigemptyset(&set);
  for (size_t i = 0; i < SH_ARRAY_SIZE(sigs); i++)
    sigaddset(&set, sigs[i]);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);
  int status = 0;
  for (;;) {
    pid_t w = waitpid(child, &status, WNOHANG);
    if (w == child)
      break;
    if (w < 0 && errno != EINTR) {
      sigprocmask(SIG_SETMASK, &old, NULL);
      return sh_errno(e, "wait", "container");
    }
    siginfo_t si;
    struct timespec ts = { 1, 0 };
    int sig = sigtimedwait(&set, &si, &ts);
    if (sig > 0 && sig != SIGCHLD)
      kill(child, sig);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return 0;
}

int sbx_parse_signal(const char *s)
{
  static const struct { const char *name; int sig; } sigs[] = {
    {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL}, {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"BUS", SIGBUS}, {"FPE", SIGFPE}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
  };
  char *end;
  long n = strtol(s, &end, 10);
  if (*s && !*end)
    return n > 0 && n < NSIG ? (int) n : -1;
  if (strncasecmp(s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < SH_ARRAY_SIZE(sigs); i++)
    if (strcasecmp(sigs[i].name, s) == 0)
      return sigs[i].sig;
  return -1;
}
