/* netfw/tc.c: per-container rate limits on the host end of a veth, in
 * network namespaces this test makes.  A transfer each way is timed against
 * the limit with a wide tolerance: the test checks that the mechanism holds
 * the rate (and lets go of it), not how fast this machine is. */
#include "../unit/tap.h"
#include "ipam.h"
#include "link.h"
#include "netns.h"
#include "tc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIMIT_BPS (40ull * 1000 * 1000)  /* 40 Mbit/s = 5 MB/s */
#define BYTES (6u << 20)

static int hostns, ctrns;
static struct sh_prefix haddr, caddr;

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

/* A TCP connection from the container to the host: *c in the container,
 * *h on the host. */
static int pair(int *c, int *h)
{
  setns(hostns, CLONE_NEWNET);
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5001) };
  memcpy(&a.sin_addr, haddr.addr, 4);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, (struct sockaddr *) &a, sizeof a) < 0 || listen(l, 1) < 0)
    return -errno;
  setns(ctrns, CLONE_NEWNET);
  *c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int r = connect(*c, (struct sockaddr *) &a, sizeof a);
  setns(hostns, CLONE_NEWNET);
  *h = accept(l, NULL, NULL);
  close(l);
  return r < 0 || *h < 0 ? -1 : 0;
}

/* Send BYTES from one end to the other (a child writes); bits per second. */
static double transfer(bool to_container)
{
  int c = -1, h = -1;
  if (pair(&c, &h) < 0)
    return -1;
  int from = to_container ? h : c, to = to_container ? c : h;
  double t0 = now_s();
  pid_t pid = fork();
  if (pid == 0) {
    static char buf[65536];
    for (size_t sent = 0; sent < BYTES;) {
      ssize_t n = write(from, buf, sizeof buf < BYTES - sent ? sizeof buf : BYTES - sent);
      if (n <= 0)
        _exit(1);
      sent += (size_t) n;
    }
    _exit(0);
  }
  close(from);
  static char buf[65536];
  size_t got = 0;
  ssize_t n;
  while (got < BYTES && (n = read(to, buf, sizeof buf)) > 0)
    got += (size_t) n;
  double dt = now_s() - t0;
  close(to);
  waitpid(pid, NULL, 0);
  return got == BYTES ? (double) BYTES * 8 / dt : -1;
}

int main(void)
{
  netns_need_root();
  if ((hostns = netns_new()) < 0)
    return 1;
  if ((ctrns = netns_new()) < 0)
    return 1;
  setns(hostns, CLONE_NEWNET);
  struct nf_nl h, c;
  sh_error e = {0};
  sh_prefix_parse("10.99.0.1", false, &haddr, &e);
  sh_prefix_parse("10.99.0.2", false, &caddr, &e);
  haddr.len = caddr.len = 24;
  struct nf_link_change move = { .netns_fd = ctrns, .new_name = "eth0" }, up = { .netns_fd = -1, .up = true };
  ok(nf_nl_open(&h, -1, &e) == 0 && nf_link_add_veth(&h, "sh1", "peer1", 1500, NULL, &e) == 0 &&
     nf_addr_add(&h, "sh1", &haddr, &e) == 0 && nf_link_set(&h, "sh1", &up, &e) == 0 &&
     nf_link_set(&h, "peer1", &move, &e) == 0 && nf_nl_open(&c, ctrns, &e) == 0 &&
     nf_addr_add(&c, "eth0", &caddr, &e) == 0 && nf_link_set(&c, "eth0", &up, &e) == 0 &&
     nf_link_set(&c, "lo", &up, &e) == 0, "a host and a container joined by a veth");
  if (e.err)
    diag("%s: %s: %s", e.step, e.path, e.msg);

  double free_out = transfer(false), free_in = transfer(true);
  diag("no limit: %.0f Mbit/s out, %.0f Mbit/s in", free_out / 1e6, free_in / 1e6);
  ok(free_out > 3.0 * LIMIT_BPS && free_in > 3.0 * LIMIT_BPS, "without a limit both ways run well above 40 Mbit/s (the control)");

  sh_error_clear(&e);
  is_int(nf_tc_set_rate(&h, "sh1", LIMIT_BPS, LIMIT_BPS, &e), 0, "a 40 Mbit/s limit each way on the host end");
  if (e.err)
    diag("%s: %s: %s (%s)", e.step, e.path, e.msg, strerror(e.err));
  is_int(nf_tc_set_rate(&h, "sh1", LIMIT_BPS, LIMIT_BPS, &e), 0, "setting it again is fine");
  double out = transfer(false), in = transfer(true);
  diag("limited: %.1f Mbit/s out, %.1f Mbit/s in", out / 1e6, in / 1e6);
  ok(out > 0.25 * LIMIT_BPS && out < 1.5 * LIMIT_BPS, "what the container sends is held near the limit (through its ifb)");
  ok(in > 0.25 * LIMIT_BPS && in < 1.5 * LIMIT_BPS, "what it receives is held near the limit (shaped)");

  is_int(nf_link_index(&h, "ish1", &e) > 0, 1, "the container's ifb is there");
  is_int(nf_tc_set_rate(&h, "sh1", 0, 0, &e), 0, "the limits are removed");
  is_int(nf_link_index(&h, "ish1", &e), -ENODEV, "and its ifb with them");
  out = transfer(false);
  in = transfer(true);
  ok(out > 3.0 * LIMIT_BPS && in > 3.0 * LIMIT_BPS, "and both ways run free again");
  is_int(nf_tc_set_rate(&h, "sh1", 0, 0, &e), 0, "removing twice is fine");
  is_int(nf_tc_set_rate(&h, "nosuch", LIMIT_BPS, 0, &e), -ENODEV, "an unknown link is an error naming it");
  nf_nl_close(&c);
  nf_nl_close(&h);
  return tap_done();
}
