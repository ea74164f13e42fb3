/* sbx-check: a helper the integration tests copy into a container's rootfs
 * and run there as the container's root, to assert isolation facts from
 * inside.  It is linked statically and uses nothing from the rootfs.  Its
 * syscall checks are sandhost-probe's (policy/probe/syscalls.c): the same
 * table, the same forked child per check; this tool prints one line per
 * check where the probe prints JSON.
 *
 *   sbx-check syscall NAME[=ARG]...   one line per check: "NAME RESULT"
 *   sbx-check --all-denied            the syscall checks a hardened container must fail
 *   sbx-check --list                  the names of all syscall checks
 *   sbx-check open PATH r|w|rw        "PATH RESULT"
 *   sbx-check read PATH               "PATH ok BYTES" (at most 1 MiB is read) or "PATH ERRNO"
 *   sbx-check write PATH STRING       "PATH RESULT" (O_WRONLY|O_TRUNC, never creates)
 *   sbx-check caps                    the Cap*, NoNewPrivs and Seccomp* lines of /proc/self/status
 *   sbx-check fork-bomb N             "forked K RESULT", then kills and reaps the K children
 *   sbx-check hog MB                  "hog K" every 16 MiB touched (and at MB)
 *   sbx-check spin SECONDS            "spin cpu_ms=C wall_ms=W"
 *   sbx-check fds                     "fds 0 1 2"
 *   sbx-check label                   "label CONTEXT" from /proc/self/attr/current, or "label ERRNO"
 *
 * RESULT is "ok" when the call succeeded, else the errno name ("EPERM",
 * "ENOSYS", or "E<number>" for one glibc has no name for).  A syscall check
 * whose child was killed prints the signal instead ("SIGSYS" for a seccomp
 * kill), one that hung prints "timeout".  The shell test compares the printed
 * result; the exit status only says whether sbx-check could do what it was
 * asked:
 *   0  everything ran, whatever the calls returned
 *   1  something could not run: its line reads "NAME SKIP WHY", or hog failed to allocate
 *   2  usage error; nothing was run
 *
 * The checks use arguments that keep a permitted call harmless (see
 * syscalls.c); the one that mounts a real block device skips itself in the
 * initial user namespace. */
#include "child.h"
#include "lsm.h"
#include "procfile.h"
#include "result.h"
#include "syscalls.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper-common.h"

#define MIB (1024 * 1024)
#define READ_CAP MIB

static const char *const all_denied[] = {
  "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "unshare-user",
  "clone-newuser", "kexec_load", "kexec_file_load", "init_module", "finit_module",
  "delete_module", "userfaultfd", "io_uring_setup", "open_by_handle_at", "swapon",
  "reboot-kexec", "mknod-block", "int80-keyctl", "int80-unshare-user", "acct", "settimeofday",
};

/* Runs one check; returns 0 if it ran, 1 if it could not. */
static int run_syscall_check(const struct probe_syscall_check *c, const char *arg)
{
  struct probe_child out;
  probe_syscall_run(c, arg, &out);
  if (out.kind == PROBE_NOT_RUN) {
    printf("%s SKIP %s\n", c->name, out.why);
    return 1;
  }
  printf("%s %s\n", c->name, probe_child_result(&out));
  return 0;
}

/* ---- file checks ------------------------------------------------------------ */

static int cmd_open(const char *path, const char *mode)
{
  int flags;
  if (!strcmp(mode, "r"))
    flags = O_RDONLY;
  else if (!strcmp(mode, "w"))
    flags = O_WRONLY;
  else if (!strcmp(mode, "rw"))
    flags = O_RDWR;
  else
    return -1;
  /* O_NONBLOCK: a FIFO or a tty must not hang the test. */
  _cleanup_close_ int fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  printf("%s %s\n", path, fd < 0 ? probe_errno_name(errno) : "ok");
  return 0;
}

static int cmd_read(const char *path)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  int r = probe_read_file(path, READ_CAP, &text, &len);
  if (r < 0)
    printf("%s %s\n", path, probe_errno_name(-r));
  else
    printf("%s ok %zu\n", path, len);
  return 0;
}

static int cmd_write(const char *path, const char *data)
{
  _cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    printf("%s %s\n", path, probe_errno_name(errno));
    return 0;
  }
  size_t len = strlen(data), done = 0;
  while (done < len) {
    ssize_t n = write(fd, data + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      printf("%s %s\n", path, probe_errno_name(errno));
      return 0;
    }
    if (n == 0)
      break;
    done += (size_t) n;
  }
  printf("%s ok\n", path);
  return 0;
}

/* ---- process facts ---------------------------------------------------------- */

static int cmd_caps(void)
{
  static const char *const keys[] = {
    "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters",
  };
  _cleanup_free_ char *status = NULL;
  int r = probe_read_file("/proc/self/status", 64 * 1024, &status, NULL);
  if (r < 0) {
    printf("caps %s\n", probe_errno_name(-r));
    return 0;
  }
  for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
    char v[64];
    if (probe_status_field(status, keys[i], v, sizeof v))
      printf("%s:\t%s\n", keys[i], v);
  }
  return 0;
}

static int compare_int(const void *a, const void *b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

static int cmd_fds(void)
{
  _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
  _cleanup_free_ int *list = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;

  if (!d) {
    printf("fds %s\n", probe_errno_name(errno));
    return 0;
  }
  int self = dirfd(d);
  while ((de = readdir(d))) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9')
      continue;
    int fd = atoi(de->d_name);
    if (fd == self)
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      int *grown = realloc(list, cap * sizeof *list);
      if (!grown) {
        printf("fds %s\n", probe_errno_name(ENOMEM));
        return 0;
      }
      list = grown;
    }
    list[n++] = fd;
  }
  if (n)
    qsort(list, n, sizeof *list, compare_int);
  fputs("fds", stdout);
  for (size_t i = 0; i < n; i++)
    printf(" %d", list[i]);
  putchar('\n');
  return 0;
}

static int cmd_label(void)
{
  char buf[4096];
  int r = probe_read_label("/proc/self/attr/current", buf, sizeof buf);
  printf("label %s\n", r < 0 ? probe_errno_name(-r) : buf);
  return 0;
}

/* ---- resource limits ---------------------------------------------------------- */

static int cmd_fork_bomb(long n)
{
  _cleanup_free_ pid_t *kids = calloc((size_t) n, sizeof *kids);
  const char *result = "ok";
  pid_t parent = getpid();
  long k = 0;

  if (!kids) {
    printf("forked 0 %s\n", probe_errno_name(ENOMEM));
    return 0;
  }
  fflush(stdout);
  for (; k < n; k++) {
    pid_t pid = fork();
    if (pid == 0) {
      /* Die with the parent even if it is killed before it reaps us. */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent)
        _exit(0);
      for (;;)
        pause();
    }
    if (pid < 0) {
      result = probe_errno_name(errno);
      break;
    }
    kids[k] = pid;
  }
  printf("forked %ld %s\n", k, result);
  fflush(stdout);
  for (long i = 0; i < k; i++)
    kill(kids[i], SIGKILL);
  for (long i = 0; i < k; i++)
    while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
      ;
  return 0;
}

static int cmd_hog(long mb)
{
  for (long k = 1; k <= mb; k++) {
    char *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      printf("hog %ld %s\n", k - 1, probe_errno_name(errno));
      return 1;
    }
    memset(p, 0xa5, MIB); /* touch every page: untouched memory is not charged */
    if (k % 16 == 0 || k == mb) {
      printf("hog %ld\n", k);
      fflush(stdout);
    }
  }
  return 0;
}

static long long now_ms(clockid_t clock)
{
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmd_spin(double seconds)
{
  long long wall0 = now_ms(CLOCK_MONOTONIC), cpu0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
  long long limit = (long long) (seconds * 1000);
  volatile unsigned long sink = 0;

  while (now_ms(CLOCK_MONOTONIC) - wall0 < limit)
    for (int i = 0; i < 10000; i++)
      sink = sink + (unsigned long) i;
  printf("spin cpu_ms=%lld wall_ms=%lld\n", now_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0,
         now_ms(CLOCK_MONOTONIC) - wall0);
  return 0;
}

/* ---- command line ---------------------------------------------------------- */

static bool parse_count(const char *s, long max, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < 0 || v > max)
    return false;
  *out = v;
  return true;
}

static int usage(void)
{
  fputs("usage: sbx-check syscall NAME[=ARG]... | --all-denied | --list\n"
        "       sbx-check open PATH r|w|rw | read PATH | write PATH STRING\n"
        "       sbx-check caps | fds | label\n"
        "       sbx-check fork-bomb N | hog MB | spin SECONDS\n",
        stderr);
  return 2;
}

static int cmd_syscalls(size_t n, const char *const *specs)
{
  _cleanup_free_ const struct probe_syscall_check **checks = calloc(n, sizeof *checks);
  _cleanup_free_ const char **args = calloc(n, sizeof *args);
  int rc = 0;

  if (!checks || !args) {
    fprintf(stderr, "sbx-check: out of memory\n");
    return 1;
  }
  /* Resolve every name first: a typo runs nothing. */
  for (size_t i = 0; i < n; i++) {
    checks[i] = probe_syscall_find(specs[i], &args[i]);
    if (!checks[i]) {
      fprintf(stderr, "sbx-check: unknown syscall check '%s' (see --list)\n", specs[i]);
      return 2;
    }
  }
  for (size_t i = 0; i < n; i++)
    rc |= run_syscall_check(checks[i], args[i]);
  return rc;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2)
    return usage();
  const char *cmd = argv[1];
  long n;

  if (!strcmp(cmd, "syscall") && argc > 2)
    return cmd_syscalls((size_t) argc - 2, (const char *const *) (argv + 2));
  if (!strcmp(cmd, "--all-denied") && argc == 2)
    return cmd_syscalls(ARRAY_SIZE(all_denied), all_denied);
  if (!strcmp(cmd, "--list") && argc == 2) {
    for (size_t i = 0; i < probe_syscall_count; i++)
      puts(probe_syscall_checks[i].name);
    return 0;
  }
  if (!strcmp(cmd, "open") && argc == 4)
    return cmd_open(argv[2], argv[3]) < 0 ? usage() : 0;
  if (!strcmp(cmd, "read") && argc == 3)
    return cmd_read(argv[2]);
  if (!strcmp(cmd, "write") && argc == 4)
    return cmd_write(argv[2], argv[3]);
  if (!strcmp(cmd, "caps") && argc == 2)
    return cmd_caps();
  if (!strcmp(cmd, "fds") && argc == 2)
    return cmd_fds();
  if (!strcmp(cmd, "label") && argc == 2)
    return cmd_label();
  if (!strcmp(cmd, "fork-bomb") && argc == 3 && parse_count(argv[2], 1 << 20, &n) && n > 0)
    return cmd_fork_bomb(n);
  if (!strcmp(cmd, "hog") && argc == 3 && parse_count(argv[2], 1 << 20, &n))
    return cmd_hog(n);
  if (!strcmp(cmd, "spin") && argc == 3) {
    char *end;
    double seconds = strtod(argv[2], &end);
    if (end != argv[2] && !*end && seconds >= 0 && seconds <= 3600)
      return cmd_spin(seconds);
  }
  return usage();
}
