/* The socket-layer policy programs on a cgroup this test makes below its own
 * (cgroup2).  The probing child also sits in a network namespace of its own
 * with no routes, so an allowed connect fails with ENETUNREACH, a denied one
 * with EPERM, and no packet ever leaves. */
#include "../unit/tap.h"
#include "bpf-policy.h"
#include "cleanup.h"
#include "fdutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct probe {
  int proto;          /* IPPROTO_TCP: connect; IPPROTO_UDP: sendto */
  const char *addr;
  int port;
};

static int try_one(const struct probe *p)
{
  struct sockaddr_storage ss = {0};
  socklen_t len;
  int family = strchr(p->addr, ':') ? AF_INET6 : AF_INET;
  if (family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *) &ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t) p->port);
    inet_pton(AF_INET, p->addr, &in->sin_addr);
    len = sizeof *in;
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t) p->port);
    inet_pton(AF_INET6, p->addr, &in6->sin6_addr);
    len = sizeof *in6;
  }
  int s = socket(family, (p->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  int r = p->proto == IPPROTO_TCP ? connect(s, (struct sockaddr *) &ss, len)
                                  : (int) sendto(s, "x", 1, 0, (struct sockaddr *) &ss, len);
  int err = r < 0 ? errno : 0;
  close(s);
  return err;
}

/* Run the probes from a child inside the cgroup; their errnos come back. */
static int probe_at(const char *cg, bool join, const struct probe *p, size_t n, int *errs)
{
  int pipefd[2];
  if (pipe(pipefd) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    char f[512];
    snprintf(f, sizeof f, "%s/cgroup.procs", cg);
    if ((join && sh_write_file_at(AT_FDCWD, f, "0", NULL) < 0) || unshare(CLONE_NEWNET) < 0)
      _exit(2);
    for (size_t i = 0; i < n; i++) {
      int err = try_one(&p[i]);
      if (write(pipefd[1], &err, sizeof err) != sizeof err)
        _exit(3);
    }
    _exit(0);
  }
  close(pipefd[1]);
  for (size_t i = 0; i < n; i++)
    if (read(pipefd[0], &errs[i], sizeof errs[i]) != sizeof errs[i])
      errs[i] = -1;
  close(pipefd[0]);
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int probe_in(const char *cg, const struct probe *p, size_t n, int *errs)
{
  return probe_at(cg, true, p, n, errs);
}

/* A child in the cgroup sends n datagrams of size bytes to itself over the
 * loopback of a namespace of its own. */
static int meter_in(const char *cg, int n, int size)
{
  pid_t pid = fork();
  if (pid == 0) {
    char f[512], buf[2048] = {0};
    snprintf(f, sizeof f, "%s/cgroup.procs", cg);
    if (sh_write_file_at(AT_FDCWD, f, "0", NULL) < 0 || unshare(CLONE_NEWNET) < 0)
      _exit(2);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "lo");
    ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
      _exit(3);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9999) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *) &a, sizeof a) < 0)
      _exit(4);
    for (int i = 0; i < n; i++)
      if (sendto(s, buf, (size_t) size, 0, (struct sockaddr *) &a, sizeof a) != size ||
          recv(s, buf, sizeof buf, 0) != size)
        _exit(5);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Incoming policy: a child in the cgroup runs UDP sockets over its own
 * loopback.  Bits of the exit code say which deliveries happened:
 * 1 to port 9999 (denied in), 2 to port 9998 (allowed in), 4 a reply to the
 * client on the flow it opened, 8 an unsolicited datagram to a fresh socket. */
static int ingress_probe(const char *cg)
{
  pid_t pid = fork();
  if (pid == 0) {
    char f[512], buf[16];
    snprintf(f, sizeof f, "%s/cgroup.procs", cg);
    if (sh_write_file_at(AT_FDCWD, f, "0", NULL) < 0 || unshare(CLONE_NEWNET) < 0)
      _exit(64);
    int s[4];
    for (int i = 0; i < 4; i++) {
      s[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      struct timeval tv = { 0, 200000 };
      setsockopt(s[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "lo");
    ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
    if (ioctl(s[0], SIOCSIFFLAGS, &ifr) < 0)
      _exit(65);
    struct sockaddr_in a[4];
    for (int i = 0; i < 4; i++) {
      a[i] = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(i == 0 ? 9999 : i == 1 ? 9998 : 0) };
      a[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t l = sizeof a[i];
      if (bind(s[i], (struct sockaddr *) &a[i], sizeof a[i]) < 0 || getsockname(s[i], (struct sockaddr *) &a[i], &l) < 0)
        _exit(66);
    }
    int got = 0;
    /* s[2] is the client: it opens flows to 9999 and 9998. */
    sendto(s[2], "a", 1, 0, (struct sockaddr *) &a[0], sizeof a[0]);
    if (recv(s[0], buf, sizeof buf, 0) == 1)
      got |= 1;
    sendto(s[2], "b", 1, 0, (struct sockaddr *) &a[1], sizeof a[1]);
    if (recv(s[1], buf, sizeof buf, 0) == 1)
      got |= 2;
    sendto(s[1], "r", 1, 0, (struct sockaddr *) &a[2], sizeof a[2]);
    if (recv(s[2], buf, sizeof buf, 0) == 1)
      got |= 4;
    /* s[3] never sent anything. */
    sendto(s[1], "u", 1, 0, (struct sockaddr *) &a[3], sizeof a[3]);
    if (recv(s[3], buf, sizeof buf, 0) == 1)
      got |= 8;
    _exit(got);
  }
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *ename(int err)
{
  return err == EPERM ? "EPERM" : err == ENETUNREACH ? "ENETUNREACH" : err == 0 ? "ok" : strerror(err);
}

int main(void)
{
  if (geteuid() != 0) {
    printf("1..0 # SKIP needs root\n");
    return 0;
  }
  /* Our own cgroup2 directory (on hybrid hosts the unified mount). */
  struct stat st;
  const char *mnt = stat("/sys/fs/cgroup/unified", &st) == 0 ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
  _cleanup_free_ char *self = NULL;
  if (sh_read_file_at(AT_FDCWD, "/proc/self/cgroup", &self, NULL, NULL) < 0)
    return 1;
  char *line = strstr(self, "0::");
  if (!line)
    return 1;
  line += 3;
  line[strcspn(line, "\n")] = '\0';
  char cg[512];
  snprintf(cg, sizeof cg, "%s%s/sandhost-test-bpf-%d", mnt, strcmp(line, "/") ? line : "", getpid());
  ok(mkdir(cg, 0755) == 0, "a test cgroup below our own: %s", cg);

  struct sh_netpolicy p;
  sh_error e = {0};
  is_int(sh_netpolicy_parse("default out allow\n"
                            "deny out 10.0.0.0/8\n"
                            "allow out tcp 10.9.9.9 port 443\n"
                            "deny out udp 192.0.2.0/24 port 53\n"
                            "deny out fd00::/8\n", &p, &e), 0, "policy: deny 10/8 except 10.9.9.9:443");
  struct nf_bpf_policy *h = NULL;
  if (nf_bpf_policy_attach(cg, &p, NULL, &h, &e) < 0)
    diag("%s: %s: %s (%s)", e.step, e.path, e.msg, strerror(e.err));
  ok(h != NULL, "the policy programs attach to the cgroup");

  const struct probe probes[] = {
    {IPPROTO_TCP, "10.1.1.1", 80},      /* denied */
    {IPPROTO_TCP, "10.9.9.9", 443},     /* the exception */
    {IPPROTO_TCP, "10.9.9.9", 80},      /* same host, other port: denied */
    {IPPROTO_UDP, "10.2.2.2", 53},      /* UDP to the denied /8 */
    {IPPROTO_UDP, "192.0.2.1", 53},     /* denied udp port */
    {IPPROTO_UDP, "192.0.2.1", 123},    /* other port: default allow */
    {IPPROTO_TCP, "fd00::1", 80},       /* denied IPv6 */
    {IPPROTO_TCP, "2001:db8::1", 80},   /* default allow */
  };
  const int want[] = { EPERM, 0, EPERM, EPERM, EPERM, 0, EPERM, 0 };
  int errs[8];
  is_int(probe_in(cg, probes, 8, errs), 0, "the probe ran inside the cgroup");
  /* Allowed calls fail later, on routing (there is none in the probe's namespace). */
  for (int i = 0; i < 8; i++)
    if (want[i] == EPERM)
      is_str(ename(errs[i]), "EPERM", "%s %s port %d: refused at once with EPERM",
             probes[i].proto == IPPROTO_TCP ? "connect" : "sendto", probes[i].addr, probes[i].port);
    else
      ok(errs[i] != EPERM && errs[i] >= 0, "%s %s port %d: allowed (then %s: no route here)",
         probes[i].proto == IPPROTO_TCP ? "connect" : "sendto", probes[i].addr, probes[i].port, ename(errs[i]));
  struct nf_counters before = {0}, after = {0};
  is_int(h ? nf_bpf_policy_counters(h, &before, &e) : -1, 0, "counters read");
  is_int((long long) before.denied, 5, "the 5 refusals were counted");

  /* Metering: 50 datagrams of 1000 bytes over the probe's own loopback. */
  is_int(meter_in(cg, 50, 1000), 0, "a known transfer inside the cgroup");
  nf_bpf_policy_counters(h, &after, &e);
  is_int((long long) (after.packets_out - before.packets_out), 50, "50 packets out");
  is_int((long long) (after.bytes_out - before.bytes_out), 50 * (1000 + 28), "50 x (1000 + UDP and IPv4 headers) bytes out");
  is_int((long long) (after.packets_in - before.packets_in), 50, "50 packets in");
  is_int((long long) (after.bytes_in - before.bytes_in), 50 * (1000 + 28), "and as many bytes in");

  /* Outside the cgroup nothing changes (still from a namespace of its own:
   * no packet may leave for the real network). */
  int outside = -1;
  probe_at(cg, false, probes, 1, &outside);
  ok(outside != EPERM && outside >= 0, "the same connect from outside the cgroup is not refused (%s)", ename(outside));

  /* Swap the policy: 10.1.1.1 becomes allowed. */
  struct sh_netpolicy q;
  sh_netpolicy_parse("default out allow\ndeny out 10.0.0.0/8\nallow out 10.1.1.1\n", &q, &e);
  is_int(h ? nf_bpf_policy_update(h, &q, &e) : -1, 0, "the policy is replaced through the links");
  struct nf_counters kept = {0};
  nf_bpf_policy_counters(h, &kept, &e);
  ok(kept.packets_out == after.packets_out && kept.denied == after.denied, "the counters survive the replacement");
  is_int(probe_in(cg, probes, 3, errs), 0, "probe again");
  ok(errs[0] != EPERM, "10.1.1.1 is now allowed (%s)", ename(errs[0]));
  is_str(ename(errs[1]), "EPERM", "10.9.9.9:443 is now refused");

  nf_bpf_policy_free(h);
  is_int(probe_in(cg, probes, 1, errs), 0, "probe after detach");
  ok(errs[0] != EPERM, "freeing the policy detaches it (%s)", ename(errs[0]));
  /* Atomic updates: while the policy flips between two versions that differ
   * elsewhere, a stable deny and a stable allow never change their answer. */
  {
    struct sh_netpolicy va, vb;
    struct nf_bpf_policy *hu = NULL;
    sh_netpolicy_parse("deny out 10.1.1.1\ndeny out 10.5.0.0/16\n", &va, &e);
    sh_netpolicy_parse("deny out 10.1.1.1\ndeny out 10.6.0.0/16\nallow out 10.7.0.0/16\n", &vb, &e);
    is_int(nf_bpf_policy_attach(cg, &va, NULL, &hu, &e), 0, "two alternating policies: the first attaches");
    int res_pipe[2], stop_pipe[2];
    if (pipe(res_pipe) < 0 || pipe2(stop_pipe, O_NONBLOCK) < 0)
      return 1;
    pid_t pid = fork();
    if (pid == 0) {
      close(res_pipe[0]);
      close(stop_pipe[1]);
      char f[512], c;
      snprintf(f, sizeof f, "%s/cgroup.procs", cg);
      if (sh_write_file_at(AT_FDCWD, f, "0", NULL) < 0 || unshare(CLONE_NEWNET) < 0)
        _exit(2);
      const struct probe deny = {IPPROTO_TCP, "10.1.1.1", 80}, allow = {IPPROTO_TCP, "192.0.2.9", 80};
      int res[2] = { 0, 0 };
      /* Until the parent closes the stop pipe (read then returns 0). */
      while (read(stop_pipe[0], &c, 1) < 0 && errno == EAGAIN) {
        if (try_one(&deny) != EPERM || try_one(&allow) == EPERM)
          res[0]++;
        res[1]++;
      }
      if (write(res_pipe[1], res, sizeof res) != sizeof res)
        _exit(3);
      _exit(0);
    }
    close(res_pipe[1]);
    close(stop_pipe[0]);
    int updates = 0;
    for (int i = 0; i < 100; i++)
      if (nf_bpf_policy_update(hu, i % 2 ? &va : &vb, &e) == 0)
        updates++;
    close(stop_pipe[1]);
    int res[2] = { -1, 0 };
    if (read(res_pipe[0], res, sizeof res) != sizeof res)
      res[0] = -1;
    waitpid(pid, NULL, 0);
    close(res_pipe[0]);
    is_int(updates, 100, "100 updates went through");
    is_int(res[0], 0, "no flicker for stable rules across %d connect pairs during the updates", res[1]);
    nf_bpf_policy_free(hu);
    sh_netpolicy_clear(&va);
    sh_netpolicy_clear(&vb);
  }

  /* Incoming: new traffic follows the rules, replies to the container's own flows pass. */
  struct sh_netpolicy in;
  struct nf_bpf_policy *hi = NULL;
  is_int(sh_netpolicy_parse("default in deny\nallow in udp any port 9998\n", &in, &e), 0,
         "policy: incoming denied except udp port 9998");
  is_int(nf_bpf_policy_attach(cg, &in, NULL, &hi, &e), 0, "attached");
  int got = ingress_probe(cg);
  ok(got >= 0 && !(got & 1), "a datagram to port 9999 is dropped on the way in");
  ok(got >= 0 && (got & 2), "one to port 9998 arrives");
  ok(got >= 0 && (got & 4), "the answer to the client arrives: it is a reply on a flow the container opened");
  ok(got >= 0 && !(got & 8), "the same datagram to a socket that opened no flow is dropped");
  struct nf_counters ic = {0};
  nf_bpf_policy_counters(hi, &ic, &e);
  is_int((long long) ic.dropped_in, 2, "two incoming drops were counted");
  nf_bpf_policy_free(hi);
  sh_netpolicy_clear(&in);

  /* Pinned on bpffs, the policy outlives its handle (a daemon restart).  The
   * bpffs is a private instance in a mount namespace of the test's own. */
  char fs[] = "/tmp/sandhost-test-bpffs.XXXXXX", pin[128];
  if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 && mkdtemp(fs) &&
      mount("bpf", fs, "bpf", 0, NULL) == 0) {
    snprintf(pin, sizeof pin, "%s/c1", fs);
    struct nf_bpf_policy *h2 = NULL, *h3 = NULL;
    sh_error_clear(&e);
    is_int(nf_bpf_policy_attach(cg, &p, pin, &h2, &e), 0, "a pinned policy attaches");
    nf_bpf_policy_free(h2);
    probe_in(cg, probes, 1, errs);
    is_str(ename(errs[0]), "EPERM", "it is still enforced after its handle is gone");
    is_int(nf_bpf_policy_open_pinned(pin, &h3, &e), 0, "a new process takes it over from the pins");
    struct nf_counters pc = {0};
    ok(h3 && nf_bpf_policy_counters(h3, &pc, &e) == 0 && pc.denied == 1, "with its counters (%llu denied)",
       (unsigned long long) pc.denied);
    is_int(h3 ? nf_bpf_policy_update(h3, &q, &e) : -1, 0, "and can replace it");
    probe_in(cg, probes, 1, errs);
    ok(errs[0] != EPERM, "the replacement applies (%s)", ename(errs[0]));
    nf_bpf_policy_free(h3);
    is_int(nf_bpf_policy_remove(pin, &e), 0, "remove detaches and unpins");
    is_int(nf_bpf_policy_remove(pin, &e), 0, "removing again is fine");
    struct stat pst;
    ok(stat(pin, &pst) < 0 && errno == ENOENT, "nothing is left on bpffs");
    probe_in(cg, probes + 2, 1, errs);
    ok(errs[0] != EPERM, "and nothing is enforced any more (%s)", ename(errs[0]));
    umount(fs);
    rmdir(fs);
  } else {
    ok(0, "a private bpffs for the pinning checks: %s", strerror(errno));
  }
  ok(rmdir(cg) == 0, "the test cgroup is removed");
  sh_netpolicy_clear(&p);
  sh_netpolicy_clear(&q);
  return tap_done();
}
