/* netfw/nft.c in a world of namespaces this test makes: a "host" with two
 * tenant bridges and three containers (two of tenant 1, one of tenant 2).
 * The root namespace and its ruleset are never touched. */
#include "../unit/tap.h"
#include "ipam.h"
#include "link.h"
#include "nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int hostns;

struct ctr {
  int ns;
  struct sh_prefix addr;
  int listener;
};

static int in_ns(int ns)
{
  return setns(ns, CLONE_NEWNET);
}

/* Build a container namespace on bridge br with address index idx. */
static int make_ctr(struct nf_nl *h, struct ctr *c, uint64_t id, const char *br, const struct sh_prefix *subnet,
                    const struct sh_prefix *gw, int n_used, struct sh_prefix *used, sh_error *e)
{
  if (unshare(CLONE_NEWNET) < 0)
    return -errno;
  c->ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  in_ns(hostns);
  char host[16], peer[16];
  uint8_t mac[6];
  nf_veth_names(id, host, peer);
  nf_mac_for(id, mac);
  nf_addr_alloc(subnet, used, (size_t) n_used, &c->addr, e);
  c->addr.len = subnet->len;
  struct nf_link_change enslave = { .master = br, .netns_fd = -1, .up = true };
  struct nf_link_change move = { .netns_fd = c->ns, .new_name = "eth0" };
  struct nf_link_change up = { .netns_fd = -1, .up = true };
  struct nf_nl cn;
  if (nf_link_add_veth(h, host, peer, 1500, mac, e) < 0 || nf_link_set(h, host, &enslave, e) < 0 ||
      nf_link_set(h, peer, &move, e) < 0 || nf_nl_open(&cn, c->ns, e) < 0)
    return -1;
  int r = nf_link_set(&cn, "lo", &up, e) < 0 || nf_addr_add(&cn, "eth0", &c->addr, e) < 0 ||
          nf_link_set(&cn, "eth0", &up, e) < 0 || nf_route_add_default(&cn, "eth0", gw, e) < 0 ? -1 : 0;
  nf_nl_close(&cn);
  /* A listener inside, on port 80. */
  in_ns(c->ns);
  c->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
  memcpy(&a.sin_addr, c->addr.addr, 4);
  if (bind(c->listener, (struct sockaddr *) &a, sizeof a) < 0 || listen(c->listener, 16) < 0)
    r = -1;
  in_ns(hostns);
  return r;
}

/* From container from, connect to to:80; 0 on success, else errno
 * (ETIMEDOUT when dropped). */
static int reach(const struct ctr *from, const struct ctr *to)
{
  in_ns(from->ns);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
  memcpy(&a.sin_addr, to->addr.addr, 4);
  int r = connect(s, (struct sockaddr *) &a, sizeof a) == 0 ? 0 : errno;
  if (r == EINPROGRESS) {
    struct pollfd pf = { s, POLLOUT, 0 };
    if (poll(&pf, 1, 500) == 1) {
      socklen_t l = sizeof r;
      getsockopt(s, SOL_SOCKET, SO_ERROR, &r, &l);
    } else {
      r = ETIMEDOUT;
    }
  }
  close(s);
  in_ns(hostns);
  return r;
}

int main(void)
{
  if (geteuid() != 0) {
    printf("1..0 # SKIP needs root\n");
    return 0;
  }
  if (unshare(CLONE_NEWNET) < 0)
    return 1;
  hostns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  /* Forwarding in our own "host" namespace only. */
  int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, "1", 1) != 1)
    return 1;
  close(fd);

  struct nf_nl h;
  sh_error e = {0};
  nf_nl_open(&h, -1, &e);
  struct sh_prefix pool, sub[2], gw[2];
  sh_prefix_parse("10.64.0.0/16", false, &pool, &e);
  struct nf_tenant_net nets[2];
  struct nf_link_change up = { .netns_fd = -1, .up = true };
  for (int t = 0; t < 2; t++) {
    nf_subnet_alloc(&pool, 24, sub, (size_t) t, &sub[t], &e);
    nf_gateway(&sub[t], &gw[t], &e);
    struct sh_prefix g = gw[t];
    g.len = 24;
    nets[t].id = (uint64_t) t + 1;
    nf_bridge_name(nets[t].id, nets[t].bridge);
    nf_link_add_bridge(&h, nets[t].bridge, 1500, &e);
    nf_addr_add(&h, nets[t].bridge, &g, &e);
    nf_link_set(&h, nets[t].bridge, &up, &e);
  }
  struct ctr a1, a2, b1;
  struct sh_prefix used1[2] = { gw[0] }, used2[1] = { gw[1] };
  ok(make_ctr(&h, &a1, 0x11, nets[0].bridge, &sub[0], &gw[0], 1, used1, &e) == 0, "container A1 (tenant 1)");
  used1[1] = a1.addr;
  used1[1].len = 32;
  ok(make_ctr(&h, &a2, 0x12, nets[0].bridge, &sub[0], &gw[0], 2, used1, &e) == 0, "container A2 (tenant 1)");
  ok(make_ctr(&h, &b1, 0x21, nets[1].bridge, &sub[1], &gw[1], 1, used2, &e) == 0, "container B1 (tenant 2)");
  if (e.err)
    diag("%s: %s: %s", e.step, e.path, e.msg);
  sleep(1); /* bridge ports leave their learning state */

  is_int(reach(&a1, &b1), 0, "without the table, A1 reaches B1 through the host (the baseline)");
  struct nf_desired d = { .uplink = NULL, .nets = nets, .n_nets = 2 };
  sh_error_clear(&e);
  is_int(nf_nft_apply(&d, &e), 0, "apply table inet sandhost");
  if (e.err)
    diag("%s: %s: %s (%s)", e.step, e.path, e.msg, strerror(e.err));
  is_int(reach(&a1, &a2), 0, "A1 reaches A2 (same tenant)");
  is_int(reach(&a1, &b1), ETIMEDOUT, "A1 cannot reach B1 (another tenant): dropped");
  is_int(reach(&b1, &a1), ETIMEDOUT, "B1 cannot reach A1 either");
  is_int(nf_nft_apply(&d, &e), 0, "applying the same state again is fine");
  is_int(reach(&a1, &b1), ETIMEDOUT, "and still isolates");
  /* What a security team reads: nft's own listing of the table. */
  FILE *p = popen("nft list table inet sandhost 2>&1", "r");
  char line[256];
  bool names = false;
  while (p && fgets(line, sizeof line, p)) {
    printf("# %s", line);
    names |= strstr(line, "\"sb1\" : jump t1") != NULL;
  }
  ok(p && pclose(p) == 0, "nft lists the table");
  ok(names, "and shows the verdict map by bridge name");
  /* An uplink to an "outside" namespace that has no route back to the
   * tenants: only masquerade can make a connection work. */
  int outns = -1;
  struct sh_prefix upaddr = {0}, outaddr = {0};
  sh_prefix_parse("192.0.2.1", false, &upaddr, &e);
  sh_prefix_parse("192.0.2.2", false, &outaddr, &e);
  upaddr.len = outaddr.len = 24;
  struct nf_nl on;
  struct nf_link_change to_out = { .netns_fd = -1, .new_name = "eth0" };
  if (unshare(CLONE_NEWNET) == 0 && (outns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) >= 0 &&
      in_ns(hostns) == 0) {
    to_out.netns_fd = outns;
    ok(nf_link_add_veth(&h, "up0", "out0", 1500, NULL, &e) == 0 && nf_addr_add(&h, "up0", &upaddr, &e) == 0 &&
       nf_link_set(&h, "up0", &up, &e) == 0 && nf_link_set(&h, "out0", &to_out, &e) == 0 &&
       nf_nl_open(&on, outns, &e) == 0 && nf_addr_add(&on, "eth0", &outaddr, &e) == 0 &&
       nf_link_set(&on, "eth0", &up, &e) == 0, "an uplink to an outside namespace");
  }
  struct ctr out = { .ns = outns, .addr = outaddr };
  in_ns(outns);
  out.listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in la = { .sin_family = AF_INET, .sin_port = htons(80) };
  memcpy(&la.sin_addr, outaddr.addr, 4);
  bind(out.listener, (struct sockaddr *) &la, sizeof la);
  listen(out.listener, 16);
  in_ns(hostns);
  is_int(reach(&a1, &out), ETIMEDOUT, "without masquerade the outside cannot answer a tenant");
  d.uplink = "up0";
  is_int(nf_nft_apply(&d, &e), 0, "apply with the uplink");
  is_int(reach(&a1, &out), 0, "with it, A1 reaches the outside");
  struct sockaddr_in peer;
  socklen_t pl = sizeof peer;
  int c = accept(out.listener, (struct sockaddr *) &peer, &pl);
  char pa[32] = "";
  inet_ntop(AF_INET, &peer.sin_addr, pa, sizeof pa);
  is_str(c >= 0 ? pa : "none", "192.0.2.1", "and the outside sees the host's address");
  is_int(reach(&a1, &b1), ETIMEDOUT, "tenants stay isolated from each other");
  /* Now give the outside a way to the tenants: the table alone must stop it. */
  struct sh_prefix upgw = upaddr;
  upgw.len = 32;
  ok(nf_route_add_default(&on, "eth0", &upgw, &e) == 0, "the outside gets a route to the tenants");
  is_int(reach(&out, &a1), ETIMEDOUT, "and still cannot open a connection into a tenant");
  nf_nl_close(&on);
  is_int(nf_nft_remove(&e), 0, "remove the table");
  is_int(reach(&a1, &b1), 0, "A1 reaches B1 again");
  is_int(reach(&out, &a1), 0, "and the outside gets in: the table was what stopped it");
  is_int(nf_nft_remove(&e), 0, "removing a missing table is fine");
  nf_nl_close(&h);
  return tap_done();
}
