/* policy-time CONNECTS MIB: what a container's network policy costs.  For
 * no programs, the socket-address programs alone (a one-rule policy with its
 * cgroup_skb metering programs taken off), a one-rule policy and a policy of
 * 10,000 LPM entries, a child in a cgroup made below ours (and a network
 * namespace of its own) times CONNECTS TCP connect() calls to a listener on
 * its loopback, then sends MIB MiB over a loopback TCP connection.  Prints
 * one line per case: "<case> <connect median ns> <p10 ns> <p90 ns> <Mbit/s>".
 * policy-time --run CASE CMD [ARG...]: run CMD in such a cgroup with CASE's
 * policy (iperf3 through the tables in tests/bench/net).  tests/bench/net
 * reads both. */
#include "bpf-policy.h"
#include "cleanup.h"
#include "fdutil.h"
#include "netpolicy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec * 1e9 + (double) t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static int lo_up(void)
{
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "lo");
  int r = ioctl(s, SIOCGIFFLAGS, &ifr);
  ifr.ifr_flags |= IFF_UP;
  r = r < 0 ? r : ioctl(s, SIOCSIFFLAGS, &ifr);
  close(s);
  return r;
}

/* In the child: the measurements, printed on fd out. */
static int measure(const char *cg, int n, unsigned mib, FILE *out)
{
  char f[512];
  snprintf(f, sizeof f, "%s/cgroup.procs", cg);
  sh_error e = {0};
  if (sh_write_file_at(AT_FDCWD, f, "0", &e) < 0 || unshare(CLONE_NEWNET) < 0 || lo_up() < 0)
    return 1;
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7000), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (bind(l, (struct sockaddr *) &a, sizeof a) < 0 || listen(l, 64) < 0)
    return 1;
  double *t = calloc((size_t) n, sizeof *t);
  for (int i = 0; i < n; i++) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    double t0 = now_ns();
    if (connect(s, (struct sockaddr *) &a, sizeof a) < 0)
      return 1;
    t[i] = now_ns() - t0;
    int c = accept(l, NULL, NULL);
    close(c);
    close(s);
  }
  qsort(t, (size_t) n, sizeof *t, cmp);
  /* Throughput: a writer child, the reader here. */
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(s, (struct sockaddr *) &a, sizeof a) < 0)
    return 1;
  int c = accept(l, NULL, NULL);
  size_t total = (size_t) mib << 20, got = 0;
  double t0 = now_ns();
  pid_t w = fork();
  if (w == 0) {
    static char buf[1 << 16];
    for (size_t sent = 0; sent < total;) {
      ssize_t k = write(s, buf, sizeof buf);
      if (k <= 0)
        _exit(1);
      sent += (size_t) k;
    }
    _exit(0);
  }
  close(s);
  static char buf[1 << 16];
  ssize_t k;
  while (got < total && (k = read(c, buf, sizeof buf)) > 0)
    got += (size_t) k;
  double dt = (now_ns() - t0) / 1e9;
  waitpid(w, NULL, 0);
  fprintf(out, "%.0f %.0f %.0f %.0f\n", t[n / 2], t[n / 10], t[n * 9 / 10], (double) got * 8 / dt / 1e6);
  return 0;
}

static char *policy_text(int entries)
{
  size_t cap = 64 + (size_t) entries * 32;
  char *s = malloc(cap);
  int len = snprintf(s, cap, "default out allow\ndefault in allow\n");
  for (int i = 0; i < entries; i++)
    len += snprintf(s + len, cap - (size_t) len, "deny out 172.%d.%d.%d\n", 16 + i / 65536, (i / 256) % 256, i % 256);
  return s;
}

static const struct { const char *name; int entries; bool sock_addr_only; } cases[] = {
  { "none", -1, false }, { "sock_addr-only", 1, true }, { "1-rule", 1, false }, { "10000-entries", 10000, false },
};

/* The socket-address programs alone: pin the policy on a private bpffs
 * (in a mount namespace of our own), drop the handle, and unpin the two
 * metering links, which takes them off the cgroup. */
static char bpffs[] = "/tmp/sandhost-bench-bpffs.XXXXXX";
static bool bpffs_mounted;

static int attach_case(size_t k, const char *cg, struct nf_bpf_policy **h, char *pin, size_t pin_len, sh_error *e)
{
  pin[0] = 0;
  if (cases[k].entries < 0)
    return 0;
  char *text = policy_text(cases[k].entries);
  struct sh_netpolicy p = {0};
  int r = sh_netpolicy_parse(text, &p, e);
  free(text);
  if (r < 0)
    return r;
  if (cases[k].sock_addr_only) {
    if (!bpffs_mounted) {
      if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || !mkdtemp(bpffs))
        return sh_errno(e, "private bpffs", bpffs);
      if (mount("bpf", bpffs, "bpf", 0, NULL) < 0) {
        r = sh_errno(e, "mount bpffs", bpffs);
        rmdir(bpffs);
        return r;
      }
      bpffs_mounted = true;
    }
    snprintf(pin, pin_len, "%s/p", bpffs);
    r = nf_bpf_policy_attach(cg, &p, pin, h, e);
    nf_bpf_policy_free(*h);
    *h = NULL;
    char path[600];
    static const char *const skb[] = { "count_in", "count_out" };
    for (size_t i = 0; r == 0 && i < 2; i++) {
      snprintf(path, sizeof path, "%s/%s", pin, skb[i]);
      if (unlink(path) < 0)
        r = sh_errno(e, "unpin metering link", path);
    }
  } else {
    r = nf_bpf_policy_attach(cg, &p, NULL, h, e);
  }
  sh_netpolicy_clear(&p);
  return r;
}

static void detach_case(struct nf_bpf_policy *h, const char *pin)
{
  nf_bpf_policy_free(h);
  if (pin[0])
    nf_bpf_policy_remove(pin, NULL);
}

/* CMD in the cgroup under CASE's policy; its exit status is ours. */
static int run_cmd(const char *cg, const char *name, char **argv)
{
  size_t k = 0;
  while (k < SH_ARRAY_SIZE(cases) && strcmp(cases[k].name, name) != 0)
    k++;
  if (k == SH_ARRAY_SIZE(cases)) {
    fprintf(stderr, "policy-time: no case %s\n", name);
    return 2;
  }
  struct nf_bpf_policy *h = NULL;
  char pin[128];
  sh_error e = {0};
  if (attach_case(k, cg, &h, pin, sizeof pin, &e) < 0) {
    fprintf(stderr, "policy-time: %s: %s: %s\n", e.step, e.path, e.msg);
    detach_case(h, pin);
    return 1;
  }
  char f[512];
  snprintf(f, sizeof f, "%s/cgroup.procs", cg);
  pid_t pid = fork();
  if (pid == 0) {
    if (sh_write_file_at(AT_FDCWD, f, "0", &e) < 0)
      _exit(127);
    execvp(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  detach_case(h, pin);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
  bool run = argc >= 4 && strcmp(argv[1], "--run") == 0;
  if (argc != 3 && !run) {
    fprintf(stderr, "usage: policy-time CONNECTS MIB | policy-time --run CASE CMD [ARG...]\n");
    return 2;
  }
  /* Our own cgroup2 directory (on hybrid hosts the unified mount). */
  struct stat st;
  const char *mnt = stat("/sys/fs/cgroup/unified", &st) == 0 ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
  char *self = NULL, *line, cg[512] = "";
  sh_error e = {0};
  if (sh_read_file_at(AT_FDCWD, "/proc/self/cgroup", &self, NULL, &e) < 0)
    return 1;
  for (line = strtok(self, "\n"); line; line = strtok(NULL, "\n"))
    if (strncmp(line, "0::", 3) == 0)
      snprintf(cg, sizeof cg, "%s%s/sandhost-bench-%d", mnt, strcmp(line + 3, "/") == 0 ? "" : line + 3, getpid());
  free(self);
  if (!cg[0] || mkdir(cg, 0755) < 0) {
    fprintf(stderr, "policy-time: cannot make a cgroup below ours (%s): %s\n", cg, strerror(errno));
    return 1;
  }
  int rc = 0;
  if (run) {
    rc = run_cmd(cg, argv[2], argv + 3);
    goto out;
  }
  int n = atoi(argv[1]);
  unsigned mib = (unsigned) atoi(argv[2]);
  for (size_t k = 0; k < SH_ARRAY_SIZE(cases) && rc == 0; k++) {
    struct nf_bpf_policy *h = NULL;
    char pin[128];
    if (attach_case(k, cg, &h, pin, sizeof pin, &e) < 0) {
      fprintf(stderr, "policy-time: %s: %s: %s\n", e.step, e.path, e.msg);
      rc = 1;
    }
    int pfd[2];
    if (rc == 0 && pipe(pfd) == 0) {
      pid_t pid = fork();
      if (pid == 0) {
        close(pfd[0]);
        FILE *out = fdopen(pfd[1], "w");
        int r = measure(cg, n, mib, out);
        fclose(out);
        _exit(r);
      }
      close(pfd[1]);
      char buf[256] = "";
      ssize_t got = read(pfd[0], buf, sizeof buf - 1);
      close(pfd[0]);
      int status;
      waitpid(pid, &status, 0);
      if (got <= 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "policy-time: the %s case failed\n", cases[k].name);
        rc = 1;
      } else {
        printf("%s %s", cases[k].name, buf);
      }
    }
    detach_case(h, pin);
  }
out:
  if (bpffs_mounted) {
    umount2(bpffs, MNT_DETACH);
    rmdir(bpffs);
  }
  if (rmdir(cg) < 0)
    fprintf(stderr, "policy-time: cannot remove %s: %s\n", cg, strerror(errno));
  return rc;
}
