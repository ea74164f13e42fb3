/* netfw/link.c against the kernel, inside network namespaces this test makes
 * (a "host" and a "container"); the root namespace is never touched, and the
 * namespaces vanish with the process. */
#include "../unit/tap.h"
#include "ipam.h"
#include "link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static socklen_t to_sockaddr(const struct sh_prefix *a, int port, struct sockaddr_storage *ss)
{
  memset(ss, 0, sizeof *ss);
  if (a->family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *) ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t) port);
    memcpy(&in->sin_addr, a->addr, 4);
    return sizeof *in;
  }
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons((uint16_t) port);
  memcpy(&in6->sin6_addr, a->addr, 16);
  return sizeof *in6;
}

static int listen_on(const struct sh_prefix *a, int port)
{
  struct sockaddr_storage ss;
  socklen_t len = to_sockaddr(a, port, &ss);
  int s = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || bind(s, (struct sockaddr *) &ss, len) < 0 || listen(s, 4) < 0)
    return -errno;
  return s;
}

static int connect_to(const struct sh_prefix *a, int port)
{
  struct sockaddr_storage ss;
  socklen_t len = to_sockaddr(a, port, &ss);
  int s = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int r = connect(s, (struct sockaddr *) &ss, len) < 0 ? -errno : 0;
  close(s);
  return r;
}

static void check(int r, const sh_error *e, const char *what)
{
  if (!ok(r >= 0, "%s", what))
    diag("%s: %s: %s (%s)", e->step, e->path, e->msg, strerror(e->err));
}

int main(void)
{
  if (geteuid() != 0) {
    printf("1..0 # SKIP needs root\n");
    return 0;
  }
  /* The test's own world: a "host" namespace and a "container" namespace. */
  if (unshare(CLONE_NEWNET) < 0) {
    printf("Bail out! unshare(CLONE_NEWNET): %s\n", strerror(errno));
    return 1;
  }
  int hostns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (unshare(CLONE_NEWNET) < 0)
    return 1;
  int contns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (hostns < 0 || contns < 0 || setns(hostns, CLONE_NEWNET) < 0)
    return 1;

  struct nf_nl h, c;
  sh_error e = {0};
  check(nf_nl_open(&h, -1, &e), &e, "netlink in the host namespace");
  check(nf_nl_open(&c, contns, &e), &e, "netlink in the container namespace, opened from outside");

  struct sh_prefix pool, subnet, gw, addr, pool6, subnet6, gw6, addr6;
  sh_prefix_parse("10.64.0.0/16", false, &pool, &e);
  nf_subnet_alloc(&pool, 24, NULL, 0, &subnet, &e);
  nf_gateway(&subnet, &gw, &e);
  nf_addr_alloc(&subnet, &gw, 1, &addr, &e);
  gw.len = addr.len = subnet.len;
  sh_prefix_parse("fd00:5a::/48", false, &pool6, &e);
  nf_subnet_alloc(&pool6, 64, NULL, 0, &subnet6, &e);
  nf_gateway(&subnet6, &gw6, &e);
  nf_addr_alloc(&subnet6, &gw6, 1, &addr6, &e);
  gw6.len = addr6.len = 64;

  char br[16], host[16], peer[16];
  uint8_t mac[6];
  nf_bridge_name(1, br);
  nf_veth_names(0x2a, host, peer);
  nf_mac_for(0x2a, mac);

  check(nf_link_add_bridge(&h, br, 1500, &e), &e, "create the tenant bridge");
  check(nf_link_add_bridge(&h, br, 1500, &e), &e, "creating it again is fine (idempotent)");
  check(nf_addr_add(&h, br, &gw, &e), &e, "gateway address on the bridge");
  check(nf_addr_add(&h, br, &gw, &e), &e, "adding it again is fine");
  check(nf_addr_add(&h, br, &gw6, &e), &e, "IPv6 gateway address on the bridge");
  struct nf_link_change up = { .netns_fd = -1, .up = true };
  check(nf_link_set(&h, br, &up, &e), &e, "bridge up");
  check(nf_link_add_veth(&h, host, peer, 1500, mac, &e), &e, "create the veth pair");
  struct nf_link_change enslave = { .master = br, .netns_fd = -1, .up = true };
  check(nf_link_set(&h, host, &enslave, &e), &e, "host end joins the bridge");
  struct nf_link_change move = { .netns_fd = contns, .new_name = "eth0" };
  check(nf_link_set(&h, peer, &move, &e), &e, "peer moves into the container as eth0");
  sh_error_clear(&e);
  is_int(nf_link_index(&h, peer, &e), -ENODEV, "the peer is gone from the host");

  check(nf_link_set(&c, "lo", &up, &e), &e, "container lo up");
  check(nf_addr_add(&c, "eth0", &addr, &e), &e, "container address");
  check(nf_addr_add(&c, "eth0", &addr6, &e), &e, "container IPv6 address");
  check(nf_link_set(&c, "eth0", &up, &e), &e, "eth0 up");
  check(nf_route_add_default(&c, "eth0", &gw, &e), &e, "default route via the gateway");
  check(nf_route_add_default(&c, "eth0", &gw6, &e), &e, "IPv6 default route");

  int l4 = listen_on(&gw, 7777), l6 = listen_on(&gw6, 7777);
  ok(l4 >= 0 && l6 >= 0, "a service listens on the gateway (host side)");
  sleep(1); /* the bridge port leaves its learning state */
  if (setns(contns, CLONE_NEWNET) < 0)
    return 1;
  is_int(connect_to(&gw, 7777), 0, "the container reaches the gateway over the bridge (IPv4)");
  is_int(connect_to(&gw6, 7777), 0, "and over IPv6");
  struct ifreq ifr = {0};
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  strcpy(ifr.ifr_name, "eth0");
  ok(ioctl(s, SIOCGIFHWADDR, &ifr) == 0 && memcmp(ifr.ifr_hwaddr.sa_data, mac, 6) == 0,
     "eth0 carries the MAC derived from the container id");
  close(s);
  if (setns(hostns, CLONE_NEWNET) < 0)
    return 1;

  check(nf_link_del(&h, host, &e), &e, "delete the host end");
  sh_error_clear(&e);
  is_int(nf_link_index(&c, "eth0", &e), -ENODEV, "its peer went with it");
  check(nf_link_del(&h, host, &e), &e, "deleting again is fine");
  check(nf_link_del(&h, br, &e), &e, "delete the bridge");
  sh_error_clear(&e);
  is_int(nf_link_index(&h, br, &e), -ENODEV, "nothing is left");
  sh_error_clear(&e);
  is_int(nf_link_add_veth(&h, "averyveryverylongname", "x", 0, NULL, &e), -EINVAL, "a bad name is an error");
  like(e.path, "averyveryverylongname", "  naming the link");
  close(l4);
  close(l6);
  nf_nl_close(&h);
  nf_nl_close(&c);
  return tap_done();
}
