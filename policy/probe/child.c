/* Forked attempts: the child reports through a pipe; a child that dies
 * before it reports was killed, and the signal says by what. */
#include "child.h"
#include "jsonout.h"
#include "result.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

struct report {
  long value;
  char why[96];
};

long probe_sys_ret(long r)
{
  return r == -1 ? -errno : r;
}

long probe_skip(char *why, size_t size, const char *step, int err)
{
  snprintf(why, size, "%s:%s", step, probe_errno_name(err));
  return PROBE_SKIPPED;
}

static bool read_full(int fd, void *buf, size_t size)
{
  size_t done = 0;
  while (done < size) {
    ssize_t n = read(fd, (char *) buf + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += (size_t) n;
  }
  return true;
}

void probe_in_child(probe_attempt_fn *fn, const void *arg, unsigned timeout_s,
                    struct probe_child *out)
{
  memset(out, 0, sizeof *out);
  out->kind = PROBE_NOT_RUN;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    snprintf(out->why, sizeof out->why, "pipe:%s", probe_errno_name(errno));
    return;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(out->why, sizeof out->why, "fork:%s", probe_errno_name(errno));
    close(p[0]);
    close(p[1]);
    return;
  }
  if (pid == 0) {
    struct report rep;
    close(p[0]);
    /* A seccomp kill is SIGSYS, whose default action dumps core, and a core
     * pattern that pipes runs a host program even at RLIMIT_CORE 0. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    setrlimit(RLIMIT_CORE, &(struct rlimit) { 0, 0 });
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    alarm(timeout_s);
    memset(&rep, 0, sizeof rep);
    rep.value = fn(arg, rep.why, sizeof rep.why);
    _exit(write(p[1], &rep, sizeof rep) == (ssize_t) sizeof rep ? 0 : 3);
  }
  close(p[1]);
  struct report rep;
  bool got = read_full(p[0], &rep, sizeof rep);
  close(p[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!got) {
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
      out->kind = PROBE_TIMED_OUT;
    } else if (WIFSIGNALED(status)) {
      out->kind = PROBE_KILLED;
      out->signal = WTERMSIG(status);
    } else {
      snprintf(out->why, sizeof out->why, "no-report:exit-%d",
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    return;
  }
  if (rep.value == PROBE_SKIPPED) {
    snprintf(out->why, sizeof out->why, "%.*s", (int) sizeof rep.why - 1, rep.why);
    return;
  }
  out->kind = PROBE_RETURNED;
  out->value = rep.value;
}

const char *probe_child_result(const struct probe_child *c)
{
  switch (c->kind) {
  case PROBE_RETURNED: return probe_result_name(c->value);
  case PROBE_KILLED: return probe_signal_name(c->signal);
  case PROBE_TIMED_OUT: return "timeout";
  case PROBE_NOT_RUN: break;
  }
  return "skipped";
}

void probe_child_to_json(const struct probe_child *c, json_t *obj)
{
  probe_set(obj, "result", json_string(probe_child_result(c)));
  if (c->kind == PROBE_RETURNED && c->value < 0)
    probe_set(obj, "errno", json_integer(-c->value));
  else if (c->kind == PROBE_KILLED)
    probe_set(obj, "signal", json_integer(c->signal));
  else if (c->kind == PROBE_NOT_RUN)
    probe_set(obj, "why", probe_json_str(c->why));
}
