/* sbx exec: a new process inside a running container, with the container's
 * namespaces, cgroup, label, seccomp filter and capabilities. */
#include "internal.h"
#include "sandbox.h"
#include "cleanup.h"
#include "fdutil.h"
#include "jsonutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int set_env(char ***envp, const char *kv, sh_error *e)
{
  const char *eq = strchr(kv, '=');
  if (!eq)
    return sh_err(e, EINVAL, "exec", "--env", "'%s' is not KEY=VALUE", kv);
  size_t klen = (size_t) (eq - kv) + 1, n = 0;
  char **env = *envp;
  for (; env && env[n]; n++)
    if (strncmp(env[n], kv, klen) == 0) {
      char *dup = strdup(kv);
      if (!dup)
        return sh_err(e, ENOMEM, "exec", "--env", NULL);
      free(env[n]);
      env[n] = dup;
      return 0;
    }
  char **nv = realloc(env, (n + 2) * sizeof *nv);
  if (!nv || !(nv[n] = strdup(kv)))
    return sh_err(e, ENOMEM, "exec", "--env", NULL);
  nv[n + 1] = NULL;
  *envp = nv;
  return 0;
}

/* The exec'd process: the container's process with the caller's overrides. */
static int build_process(const char *dir, const struct sbx_exec_opts *o, struct sbx_process *p,
                         sh_error *e)
{
  int r;
  _cleanup_free_ char *text = NULL;
  _cleanup_json_ json_t *j = NULL;
  json_error_t je;
  if (o->process) {
    if ((r = sh_read_file_at(AT_FDCWD, o->process, &text, NULL, e)) < 0)
      return r;
    if (!(j = sh_json_loads_oci(text, JSON_REJECT_DUPLICATES, &je)) || !json_is_object(j))
      return sh_err(e, EINVAL, "parse process", o->process, "line %d: %s", je.line, je.text);
    return sbx_process_parse(j, "process", p, e);
  }
  char f[PATH_MAX + 16];
  snprintf(f, sizeof f, "%s/process.json", dir);
  if ((r = sh_read_file_at(AT_FDCWD, f, &text, NULL, e)) < 0)
    return r;
  json_t *pj = json_loads(text, 0, &je);
  if (!json_is_object(pj)) {
    if (pj)
      json_decref(pj);
    return sh_err(e, EINVAL, "parse process copy", f, "%s", je.text);
  }
  json_t *args = json_array();
  for (char **a = o->args; a && *a; a++)
    json_array_append_new(args, json_string(*a));
  json_object_set_new(pj, "args", args);
  json_object_set_new(pj, "terminal", json_boolean(o->tty));
  if (o->cwd)
    json_object_set_new(pj, "cwd", json_string(o->cwd));
  r = sbx_process_parse(pj, "process", p, e);
  json_decref(pj);
  if (r < 0)
    return r;
  for (char **v = o->env; v && *v; v++)
    if ((r = set_env(&p->env, *v, e)) < 0)
      return r;
  if (o->user) {
    char *end;
    unsigned long uid = strtoul(o->user, &end, 10), gid = p->user.gid;
    if (end == o->user || (*end && *end != ':'))
      return sh_err(e, EINVAL, "exec", "--user", "'%s' must be UID[:GID]", o->user);
    if (*end == ':') {
      const char *g = end + 1;
      gid = strtoul(g, &end, 10);
      if (end == g || *end)
        return sh_err(e, EINVAL, "exec", "--user", "'%s' must be UID[:GID]", o->user);
    }
    p->user.uid = (uid_t) uid;
    p->user.gid = (gid_t) gid;
  }
  return 0;
}

struct exec_child {
  const struct sbx_state *s;
  const struct sbx_process *p;
  const struct sbx_seccomp *sc;
  int pidfd, cgroup_fd, sync_fd, console_fd, preserve_fds;
};

__attribute__((noreturn)) static void grandchild(const struct exec_child *x)
{
  sh_error err = {0};
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
    sh_errno(&err, "become root in the user namespace", NULL);
    sbx_sync_fail(x->sync_fd, &err);
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
    sh_errno(&err, "prctl", "PR_SET_DUMPABLE");
    sbx_sync_fail(x->sync_fd, &err);
  }
  if (x->p->terminal) {
    int master = -1;
    if (sbx_console_setup(&master, false, &err) < 0 || sbx_console_send(x->console_fd, master, &err) < 0)
      sbx_sync_fail(x->sync_fd, &err);
    close(master);
    close(x->console_fd);
  }
  struct sbx_exec_ctx c = {
    .p = x->p, .seccomp = x->sc, .selinux_label = x->s->selinux_label,
    .preserve_fds = x->preserve_fds, .fifo_fd = -1, .sync_fd = x->sync_fd,
  };
  sbx_process_exec(&c, &err);
  sbx_sync_fail(x->sync_fd, &err);
}

__attribute__((noreturn)) static void intermediary(const struct exec_child *x)
{
  sh_error err = {0};
  /* Non-dumpable before the grandchild exists: it inherits the flag, so no
   * container process ever sees it dumpable. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
    sh_errno(&err, "prctl", "PR_SET_DUMPABLE");
    sbx_sync_fail(x->sync_fd, &err);
  }
  /* Join the v1 cgroups while we still see the host's cgroup tree (the
   * unified one we were cloned into). */
  if (x->s->cg.mode == SBX_CG_HYBRID && sbx_cgroup_enter_self_v1(&x->s->cg, &err) < 0)
    sbx_sync_fail(x->sync_fd, &err);
  if (setns(x->pidfd, x->s->ns_flags) < 0) {
    sh_errno(&err, "join the container's namespaces", x->s->id);
    sbx_sync_fail(x->sync_fd, &err);
  }
  /* The grandchild holds no host directory while it resolves the
   * container's paths (CVE-2024-21626): only the sync and console fds. */
  close(x->pidfd);
  close(x->cgroup_fd);
  /* A pid namespace applies to children; the grandchild becomes the caller's child. */
  struct clone_args ca = { .flags = CLONE_PARENT, .exit_signal = 0 };
  pid_t pid = (pid_t) syscall(SYS_clone3, &ca, sizeof ca);
  if (pid == 0)
    grandchild(x);
  if (pid < 0) {
    sh_errno(&err, "clone", "exec process");
    sbx_sync_fail(x->sync_fd, &err);
  }
  sbx_sync_send(x->sync_fd, SBX_SYNC_PID, pid, NULL);
  _exit(0);
}

int sbx_exec(const char *root, const char *id, const struct sbx_exec_opts *o, pid_t *pid_out,
             int *pty_master, sh_error *e)
{
  struct sbx_state s;
  struct sbx_process p = {0};
  struct sbx_seccomp sc = {0};
  char dir[PATH_MAX];
  int r, sp[2] = { -1, -1 }, cs[2] = { -1, -1 }, minfd = 3 + (o->preserve_fds > 0 ? o->preserve_fds : 0);
  _cleanup_close_ int pidfd = -1, console = -1, cgfd = -1;
  pid_t pid = 0;

  if ((r = sbx_state_path(root, id, dir, sizeof dir, e)) < 0 || (r = sbx_state_read(root, id, &s, e)) < 0)
    return r;
  enum sbx_status st = sbx_state_status(dir, &s);
  if (st != SBX_RUNNING && st != SBX_CREATED) {
    r = sh_err(e, EINVAL, "exec", id, "container is %s", sbx_status_name(st));
    goto out;
  }
  if (!o->args && !o->process) {
    r = sh_err(e, EINVAL, "exec", id, "give a command or --process");
    goto out;
  }
  if ((r = build_process(dir, o, &p, e)) < 0)
    goto out;
  {
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (faccessat(dfd, "seccomp.bpf", F_OK, 0) == 0 && (r = sbx_seccomp_read(dfd, "seccomp.bpf", &sc, e)) < 0)
      goto out;
  }
  if ((pidfd = sbx_fd_above(sbx_state_pidfd(&s, e), minfd)) < 0) {
    r = pidfd;
    goto out;
  }
  if (p.terminal) {
    if (o->console_socket) {
      console = sbx_fd_above(sbx_console_connect(o->console_socket, e), minfd);
    } else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) == 0) {
      console = sbx_fd_above(cs[1], minfd);
      cs[1] = -1;
    }
    if (console < 0) {
      r = e->err ? -e->err : sh_errno(e, "console", NULL);
      goto out;
    }
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
    r = sh_errno(e, "socketpair", "sync");
    goto out;
  }
  sp[1] = sbx_fd_above(sp[1], minfd);
  if ((cgfd = sbx_fd_above(sbx_cgroup_open_leaf(&s.cg, e), minfd)) < 0) {
    r = cgfd;
    goto out;
  }
  struct exec_child x = { &s, &p, sc.prog ? &sc : NULL, pidfd, cgfd, sp[1], console, o->preserve_fds };
  struct clone_args ca = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t) cgfd };
  pid_t mid = (pid_t) syscall(SYS_clone3, &ca, sizeof ca);
  if (mid < 0) {
    r = sh_errno(e, "clone", "exec helper");
    goto out;
  }
  if (mid == 0)
    intermediary(&x);
  close(sp[1]);
  sp[1] = -1;
  if (console >= 0) {
    close(console);
    console = -1;
  }
  /* The intermediary sends the pid, the process itself READY (or an
   * error): a process quick to start sends first, so either order. */
  struct sbx_sync_msg m = {0};
  bool ready = false;
  while (!(ready && pid > 0) && (r = sbx_sync_recv(sp[0], &m)) == 0 &&
         (m.type == SBX_SYNC_PID || m.type == SBX_SYNC_READY)) {
    if (m.type == SBX_SYNC_PID)
      pid = m.pid;
    else
      ready = true;
  }
  waitpid(mid, NULL, 0);
  if (r < 0 || !ready || pid <= 0) {
    if (r == 0 && m.type == SBX_SYNC_ERROR) {
      *e = m.err;
      r = -m.err.err;
    } else {
      r = sh_err(e, EIO, "exec", id, "the exec process died during setup");
    }
    goto fail;
  }
  if (p.terminal && !o->console_socket) {
    if ((r = sbx_console_recv(cs[0], pty_master, e)) < 0)
      goto fail;
  }
  if (o->pid_file) {
    char v[16];
    snprintf(v, sizeof v, "%d", pid);
    if ((r = sh_write_file_atomic(o->pid_file, v, 0644, e)) < 0)
      goto fail;
  }
  *pid_out = pid;
  r = 0;
  goto out;
fail:
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
out:
  for (int i = 0; i < 2; i++) {
    if (sp[i] >= 0)
      close(sp[i]);
    if (cs[i] >= 0)
      close(cs[i]);
  }
  sbx_process_clear(&p);
  sbx_seccomp_clear(&sc);
  sbx_state_clear(&s);
  return r;
}
