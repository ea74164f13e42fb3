/* netfw/nft.c in a world of namespaces this test makes: a "host" with two
 * tenant bridges and three containers (two of tenant 1, one of tenant 2).
 * The root namespace and its ruleset are never touched. */
#include "../unit/tap.h"
#include "ipam.h"
#include "link.h"
#include "netns.h"
#include "nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
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

/* connect() from a container to addr:port (IPv4, or IPv6 with af
 * AF_INET6); 0, or errno (ETIMEDOUT: dropped). */
static int reach_af(const struct ctr *from, int af, const uint8_t *addr, int port)
{
  in_ns(from->ns);
  int s = socket(af, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
  struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t) port) };
  memcpy(&a.sin_addr, addr, 4);
  memcpy(&a6.sin6_addr, addr, af == AF_INET6 ? 16 : 0);
  int r = (af == AF_INET6 ? connect(s, (struct sockaddr *) &a6, sizeof a6) : connect(s, (struct sockaddr *) &a, sizeof a)) == 0
              ? 0 : errno;
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

static int reach_port(const struct ctr *from, const uint8_t addr[4], int port)
{
  return reach_af(from, AF_INET, addr, port);
}

/* A TCP listener in namespace ns on [addr]:port (IPv6). */
static int listen6(int ns, const uint8_t addr[16], int port)
{
  in_ns(ns);
  int l = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t) port) };
  memcpy(&a.sin6_addr, addr, 16);
  if (bind(l, (struct sockaddr *) &a, sizeof a) < 0 || listen(l, 16) < 0) {
    close(l);
    l = -1;
  }
  in_ns(hostns);
  return l;
}

/* From container from, connect to to:80. */
static int reach(const struct ctr *from, const struct ctr *to)
{
  return reach_port(from, to->addr.addr, 80);
}

/* Accept everything queued on a listener; the address of the last peer. */
static const char *accepted_from(int listener)
{
  static char last[INET6_ADDRSTRLEN];
  strcpy(last, "none");
  struct pollfd pf = { listener, POLLIN, 0 };
  while (poll(&pf, 1, 200) == 1) {
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    int c = accept(listener, (struct sockaddr *) &peer, &pl);
    if (c < 0)
      break;
    if (peer.ss_family == AF_INET6)
      inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &peer)->sin6_addr, last, sizeof last);
    else
      inet_ntop(AF_INET, &((struct sockaddr_in *) &peer)->sin_addr, last, sizeof last);
    close(c);
  }
  return last;
}

/* net.bridge.bridge-nf-call-iptables in the current (test) namespace;
 * whether it was on. */
static bool set_brnf(int on)
{
  const char *path = "/proc/sys/net/bridge/bridge-nf-call-iptables";
  char was = '0';
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return false;
  if (read(fd, &was, 1) != 1 || pwrite(fd, on ? "1" : "0", 1, 0) != 1)
    diag("cannot set %s", path);
  close(fd);
  return was == '1';
}

/* Both tables as nft prints them without counters, one item a line and
 * sorted: the order of chains and of set elements is the kernel's, not
 * part of the state (malloc'd). */
static char *nft_state(void)
{
  FILE *p = popen("(nft -s list table inet sandhost && nft -s list table bridge sandhost) | "
                  "sed 's/elements = //; s/[{},]/\\n/g' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$' | LC_ALL=C sort", "r");
  if (!p)
    return NULL;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
    fwrite(chunk, 1, n, m);
  fclose(m);
  if (pclose(p) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static void drain(int listener)
{
  (void) accepted_from(listener);
}

/* ---- raw frames, as a container with CAP_NET_RAW can send them ---- */

static uint16_t csum(const void *p, size_t n)
{
  const uint8_t *b = p;
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2)
    sum += (uint32_t) (b[i] << 8 | b[i + 1]);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return htons((uint16_t) ~sum);
}

/* Ethernet + IPv4 + UDP (no UDP checksum) carrying tag, to port 9999. */
static size_t udp_frame(uint8_t *f, const uint8_t src_mac[6], const uint8_t dst_mac[6], const uint8_t src[4],
                        const uint8_t dst[4], const char *tag)
{
  size_t tl = strlen(tag), n = 14 + 20 + 8 + tl;
  memset(f, 0, n);
  memcpy(f, dst_mac, 6);
  memcpy(f + 6, src_mac, 6);
  f[12] = 0x08;
  uint8_t *ip = f + 14;
  ip[0] = 0x45;
  ip[2] = (uint8_t) ((20 + 8 + tl) >> 8);
  ip[3] = (uint8_t) (20 + 8 + tl);
  ip[8] = 64;
  ip[9] = IPPROTO_UDP;
  memcpy(ip + 12, src, 4);
  memcpy(ip + 16, dst, 4);
  uint16_t c = csum(ip, 20);
  memcpy(ip + 10, &c, 2);
  uint8_t *u = ip + 20;
  u[0] = 0x30;
  u[1] = 0x39; /* from 12345 */
  u[2] = 0x27;
  u[3] = 0x0f; /* to 9999 */
  u[5] = (uint8_t) (8 + tl);
  memcpy(u + 8, tag, tl);
  return n;
}

/* A broadcast ARP reply: "spa is at sha". */
static size_t arp_frame(uint8_t *f, const uint8_t sha[6], const uint8_t spa[4], const uint8_t tpa[4])
{
  memset(f, 0, 42);
  memset(f, 0xff, 6);
  memcpy(f + 6, sha, 6);
  f[12] = 0x08;
  f[13] = 0x06;
  uint8_t *a = f + 14;
  a[1] = 1;     /* ethernet */
  a[2] = 0x08;  /* ipv4 */
  a[4] = 6;
  a[5] = 4;
  a[7] = 2;     /* reply */
  memcpy(a + 8, sha, 6);
  memcpy(a + 14, spa, 4);
  memcpy(a + 24, tpa, 4);
  return 42;
}

/* Ethernet + IPv6 + an upper-layer payload (checksums not filled: the
 * bridge does not check them, and the sniffer sees the frame anyway). */
static size_t ip6_frame(uint8_t *f, const uint8_t src_mac[6], const uint8_t dst_mac[6], const uint8_t src[16],
                        const uint8_t dst[16], uint8_t next, const void *payload, size_t len)
{
  memset(f, 0, 14 + 40);
  memcpy(f, dst_mac, 6);
  memcpy(f + 6, src_mac, 6);
  f[12] = 0x86;
  f[13] = 0xdd;
  uint8_t *ip = f + 14;
  ip[0] = 0x60;
  ip[4] = (uint8_t) (len >> 8);
  ip[5] = (uint8_t) len;
  ip[6] = next;
  ip[7] = 255;
  memcpy(ip + 8, src, 16);
  memcpy(ip + 24, dst, 16);
  memcpy(ip + 40, payload, len);
  return 14 + 40 + len;
}


static void send_frame(const struct ctr *from, const uint8_t *f, size_t n)
{
  in_ns(from->ns);
  int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = (int) if_nametoindex("eth0"), .sll_halen = 6 };
  memcpy(ll.sll_addr, f, 6);
  if (s < 0 || sendto(s, f, n, 0, (struct sockaddr *) &ll, sizeof ll) != (ssize_t) n)
    diag("send_frame: %s", strerror(errno));
  close(s);
  in_ns(hostns);
}

/* A packet socket on a container's eth0 that sees every frame arriving. */
static int sniff_open(const struct ctr *c)
{
  in_ns(c->ns);
  int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                            .sll_ifindex = (int) if_nametoindex("eth0") };
  bind(s, (struct sockaddr *) &ll, sizeof ll);
  in_ns(hostns);
  return s;
}

/* Did a frame holding needle (at any offset) arrive within 400 ms? */
static bool sniffed(int s, const void *needle, size_t nl)
{
  uint8_t buf[2048];
  struct pollfd pf = { s, POLLIN, 0 };
  while (poll(&pf, 1, 400) == 1) {
    ssize_t n = recv(s, buf, sizeof buf, 0);
    for (ssize_t i = 0; n > 0 && i + (ssize_t) nl <= n; i++)
      if (memcmp(buf + i, needle, nl) == 0)
        return true;
  }
  return false;
}

/* Send frame f from A and report whether B saw needle. */
static bool crosses(const struct ctr *a, const struct ctr *b, const uint8_t *f, size_t n, const void *needle, size_t nl)
{
  int s = sniff_open(b);
  send_frame(a, f, n);
  bool seen = sniffed(s, needle, nl);
  close(s);
  return seen;
}

int main(void)
{
  netns_need_root();
  if ((hostns = netns_new()) < 0)
    return 1;
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
  bool present = true;
  ok(nf_nft_present(&present, &e) == 0 && !present, "no table yet: nf_nft_present says so");
  is_int(nf_nft_apply(&d, &e), 0, "apply table inet sandhost");
  ok(nf_nft_present(&present, &e) == 0 && present, "and now it is there");
  if (e.err)
    diag("%s: %s: %s (%s)", e.step, e.path, e.msg, strerror(e.err));
  is_int(reach(&a1, &a2), 0, "A1 reaches A2 (same tenant)");
  is_int(reach(&a1, &b1), ETIMEDOUT, "A1 cannot reach B1 (another tenant): dropped");
  is_int(reach(&b1, &a1), ETIMEDOUT, "B1 cannot reach A1 either");
  is_int(nf_nft_apply(&d, &e), 0, "applying the same state again is fine");
  is_int(reach(&a1, &b1), ETIMEDOUT, "and still isolates");

  /* ---- the host answers containers only for its services ---- */
  int svc[2];
  for (int i = 0; i < 2; i++) {
    svc[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(i ? 22 : 53) };
    memcpy(&a.sin_addr, gw[0].addr, 4);
    int one = 1;
    setsockopt(svc[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bind(svc[i], (struct sockaddr *) &a, sizeof a);
    listen(svc[i], 16);
  }
  is_int(reach_port(&a1, gw[0].addr, 53), 0, "a container reaches DNS on its gateway");
  is_int(reach_port(&a1, gw[0].addr, 22), ETIMEDOUT, "but not another host service (ssh on the gateway)");
  is_int(reach_port(&b1, gw[0].addr, 22), ETIMEDOUT, "nor through another tenant's gateway address");
  struct nf_service only_ssh[] = { { IPPROTO_TCP, 22 } };
  d.services = only_ssh;
  d.n_services = 1;
  is_int(nf_nft_apply(&d, &e), 0, "the host's service list is configurable");
  is_int(reach_port(&a1, gw[0].addr, 22), 0, "a listed service is reached");
  is_int(reach_port(&a1, gw[0].addr, 53), ETIMEDOUT, "and an unlisted one is not");
  d.services = NULL;
  d.n_services = 0;

  /* ---- anti-spoofing on container ports ---- */
  struct nf_port ports[3] = {0};
  const struct ctr *cs[3] = { &a1, &a2, &b1 };
  uint64_t ids[3] = { 0x11, 0x12, 0x21 };
  for (int i = 0; i < 3; i++) {
    char peer[16];
    nf_veth_names(ids[i], ports[i].ifname, peer);
    nf_mac_for(ids[i], ports[i].mac);
    memcpy(ports[i].ip4, cs[i]->addr.addr, 4);
  }
  d.ports = ports;
  d.n_ports = 3;
  is_int(nf_nft_apply(&d, &e), 0, "apply with the containers' ports (table bridge sandhost)");
  if (e.err)
    diag("%s: %s: %s (%s)", e.step, e.path, e.msg, strerror(e.err));
  uint8_t f[128];
  size_t n = udp_frame(f, ports[0].mac, ports[1].mac, a1.addr.addr, a2.addr.addr, "genuine-1");
  ok(crosses(&a1, &a2, f, n, "genuine-1", 9), "a frame with A1's own MAC and IP reaches A2 (control)");
  const uint8_t fake_ip[4] = { a1.addr.addr[0], a1.addr.addr[1], a1.addr.addr[2], 99 };
  n = udp_frame(f, ports[0].mac, ports[1].mac, fake_ip, a2.addr.addr, "spoof-ip");
  ok(!crosses(&a1, &a2, f, n, "spoof-ip", 8), "A1 sending from another IP is dropped");
  n = udp_frame(f, ports[0].mac, ports[1].mac, a2.addr.addr, a2.addr.addr, "spoof-nb");
  ok(!crosses(&a1, &a2, f, n, "spoof-nb", 8), "A1 sending as its neighbour A2 is dropped");
  const uint8_t fake_mac[6] = { 0x02, 0x00, 0x00, 0xde, 0xad, 0x01 };
  n = udp_frame(f, fake_mac, ports[1].mac, a1.addr.addr, a2.addr.addr, "spoof-mac");
  ok(!crosses(&a1, &a2, f, n, "spoof-mac", 9), "A1 sending from another MAC is dropped");
  n = arp_frame(f, ports[0].mac, a1.addr.addr, a2.addr.addr);
  ok(crosses(&a1, &a2, f, n, f + 22, 10), "an ARP reply for A1's own address reaches A2 (control)");
  n = arp_frame(f, ports[0].mac, gw[0].addr, a2.addr.addr);
  ok(!crosses(&a1, &a2, f, n, f + 22, 10), "A1 claiming the gateway's address in ARP is dropped");
  n = arp_frame(f, ports[1].mac, a1.addr.addr, a2.addr.addr);
  memcpy(f + 6, ports[0].mac, 6);
  ok(!crosses(&a1, &a2, f, n, f + 22, 10), "an ARP sender address other than the frame's is dropped");
  /* IPv6: its own link-local passes; another source, router advertisements
   * and redirects do not; the unspecified source is kept for duplicate
   * address detection of its own addresses; neighbour advertisements only
   * for its own addresses. */
  uint8_t ll1[16], ll2[16], fake6[16], unspec6[16] = {0};
  nf_link_local(ports[0].mac, ll1);
  nf_link_local(ports[1].mac, ll2);
  memcpy(fake6, ll1, 16);
  fake6[15] ^= 0x5a;
  const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 }, mc_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
  uint8_t udp6[16] = { 0x30, 0x39, 0x27, 0x0f, 0, 16 };
  memcpy(udp6 + 8, "v6-good!", 8);
  n = ip6_frame(f, ports[0].mac, ports[1].mac, ll1, ll2, IPPROTO_UDP, udp6, sizeof udp6);
  ok(crosses(&a1, &a2, f, n, "v6-good!", 8), "IPv6 from A1's own link-local reaches A2 (control)");
  memcpy(udp6 + 8, "v6-spoof", 8);
  n = ip6_frame(f, ports[0].mac, ports[1].mac, fake6, ll2, IPPROTO_UDP, udp6, sizeof udp6);
  ok(!crosses(&a1, &a2, f, n, "v6-spoof", 8), "IPv6 from another source address is dropped");
  uint8_t icmp6[24] = { 128, 0, 0, 0, 0, 1, 0, 1 };
  memcpy(icmp6 + 8, "echo-to-all-v6!!", 16);
  n = ip6_frame(f, ports[0].mac, mc_mac, ll1, all_nodes, IPPROTO_ICMPV6, icmp6, sizeof icmp6);
  ok(crosses(&a1, &a2, f, n, "echo-to-all-v6!!", 16), "an ICMPv6 echo to all nodes reaches A2 (control)");
  icmp6[0] = 134; /* router advertisement */
  memcpy(icmp6 + 8, "router-advert-v6", 16);
  n = ip6_frame(f, ports[0].mac, mc_mac, ll1, all_nodes, IPPROTO_ICMPV6, icmp6, sizeof icmp6);
  ok(!crosses(&a1, &a2, f, n, "router-advert-v6", 16), "a router advertisement from a container is dropped");
  icmp6[0] = 137; /* redirect */
  memcpy(icmp6 + 8, "redirect-from-v6", 16);
  n = ip6_frame(f, ports[0].mac, mc_mac, ll1, all_nodes, IPPROTO_ICMPV6, icmp6, sizeof icmp6);
  ok(!crosses(&a1, &a2, f, n, "redirect-from-v6", 16), "a redirect from a container is dropped");
  /* Neighbour discovery: type, code, checksum, flags (override for
   * advertisements), the target address, then a marker where options would
   * be (the bridge does not parse them). */
  const uint8_t gw_ll[16] = { 0xfe, 0x80, [15] = 1 };
  const struct {
    uint8_t type;
    const uint8_t *src, *target;
    const char *marker;
    bool passes;
    const char *what;
  } nds[] = {
    { 135, unspec6, ll1, "dad-ownN", true, "a neighbour solicitation from :: (DAD) for its own address passes" },
    { 135, unspec6, ll2, "dad-nbrN", false, "DAD for a neighbour's address (to knock it off) is dropped" },
    { 135, ll1, ll2, "sol-nbrN", true, "a solicitation for a neighbour from its own address passes (resolution)" },
    { 136, ll1, ll1, "adv-ownA", true, "an advertisement for its own address passes (control)" },
    { 136, ll1, ll2, "adv-nbrA", false, "NDP spoofing: an advertisement for a neighbour's address is dropped" },
    { 136, ll1, gw_ll, "adv-gwAA", false, "and one for a gateway's address too" },
  };
  for (size_t i = 0; i < sizeof nds / sizeof nds[0]; i++) {
    uint8_t nd[32] = { nds[i].type, 0, 0, 0, nds[i].type == 136 ? 0x20 : 0 };
    memcpy(nd + 8, nds[i].target, 16);
    memcpy(nd + 24, nds[i].marker, 8);
    n = ip6_frame(f, ports[0].mac, mc_mac, nds[i].src, all_nodes, IPPROTO_ICMPV6, nd, sizeof nd);
    ok(crosses(&a1, &a2, f, n, nds[i].marker, 8) == nds[i].passes, "%s", nds[i].what);
  }
  memcpy(udp6 + 8, "v6-unspc", 8);
  n = ip6_frame(f, ports[0].mac, ports[1].mac, unspec6, ll2, IPPROTO_UDP, udp6, sizeof udp6);
  ok(!crosses(&a1, &a2, f, n, "v6-unspc", 8), "but UDP from :: is dropped");
  n = udp_frame(f, ports[0].mac, ports[1].mac, a1.addr.addr, a2.addr.addr, "vlan-tag");
  memmove(f + 16, f + 12, n - 12);
  f[12] = 0x81; f[13] = 0x00; f[14] = 0x00; f[15] = 0x05;
  ok(!crosses(&a1, &a2, f, n + 4, "vlan-tag", 8), "a VLAN-tagged frame from a container is dropped");
  is_int(reach(&a1, &a2), 0, "A1 still reaches A2 over TCP");
  is_int(reach_port(&a1, gw[0].addr, 53), 0, "and its gateway's DNS");
  /* A tenant network whose containers may not talk to each other: its
   * ports are isolated on the bridge (rtnetlink, not nft). */
  struct nf_link_change iso = { .netns_fd = -1, .isolated = 1 }, open_ = { .netns_fd = -1, .isolated = -1 };
  ok(nf_link_set(&h, ports[0].ifname, &iso, &e) == 0 && nf_link_set(&h, ports[1].ifname, &iso, &e) == 0,
     "tenant 1's container ports are isolated");
  is_int(reach(&a1, &a2), ETIMEDOUT, "A1 no longer reaches A2");
  is_int(reach(&a2, &a1), ETIMEDOUT, "nor A2 A1");
  is_int(reach_port(&a1, gw[0].addr, 53), 0, "but A1 still reaches its gateway's DNS");
  ok(nf_link_set(&h, ports[0].ifname, &open_, &e) == 0 && nf_link_set(&h, ports[1].ifname, &open_, &e) == 0,
     "and back to the default");
  is_int(reach(&a1, &a2), 0, "A1 reaches A2 again");
  for (int i = 0; i < 2; i++)
    close(svc[i]);
  FILE *bp = popen("nft list table bridge sandhost 2>&1", "r");
  char bl[256];
  bool concat = false;
  while (bp && fgets(bl, sizeof bl, bp)) {
    printf("# %s", bl);
    concat |= strstr(bl, "type ifname . ether_addr . ipv4_addr") != NULL;
  }
  ok(bp && pclose(bp) == 0 && concat, "nft lists the bridge table with its concatenated port sets");
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
  /* ---- port forwards and hairpin ---- */
  struct nf_forward fw[] = { { IPPROTO_TCP, 8080, {0}, 80 } };
  memcpy(fw[0].ip4, a1.addr.addr, 4);
  d.forwards = fw;
  d.n_forwards = 1;
  is_int(nf_nft_apply(&d, &e), 0, "apply with tcp 8080 forwarded to A1:80");
  if (e.err)
    diag("%s: %s: %s (%s)", e.step, e.path, e.msg, strerror(e.err));
  drain(a1.listener);
  is_int(reach_port(&out, upaddr.addr, 8080), 0, "the outside reaches A1 through the host's public port");
  is_str(accepted_from(a1.listener), "192.0.2.2", "and A1 sees the outside's own address");
  is_int(reach_port(&out, upaddr.addr, 8081), ECONNREFUSED, "a port that is not forwarded is the host's own, closed");
  is_int(reach_port(&a2, upaddr.addr, 8080), 0, "hairpin: A2 reaches A1 through the host's public address");
  char gw1[32];
  inet_ntop(AF_INET, gw[0].addr, gw1, sizeof gw1);
  is_str(accepted_from(a1.listener), gw1, "masqueraded as the gateway, so the reply goes back through the host");
  /* Without br_netfilter (or with its iptables calls off, as here, in the
   * test's own host namespace) the hairpinned packet is routed, and even the
   * container behind the port reaches itself.  With them on, the DNAT back
   * into the bridge is bridged, and a bridge never sends a frame back out of
   * the port it came in by. */
  bool brnf = set_brnf(0);
  is_int(reach_port(&a2, upaddr.addr, 8080), 0, "routed hairpin (no br_netfilter): A2 reaches A1");
  is_str(accepted_from(a1.listener), gw1, "masqueraded as the gateway there too");
  is_int(reach_port(&a1, upaddr.addr, 8080), 0, "and the container behind the port reaches itself");
  if (brnf)
    set_brnf(1);
  is_int(reach_port(&b1, upaddr.addr, 8080), 0, "a public port is public to other tenants too");
  is_int(reach(&b1, &a1), ETIMEDOUT, "but B1 still cannot reach A1 directly");

  /* ---- the same over IPv6: ULA inside, the host's global address out ---- */
  struct sh_prefix gw6, a1_6, a2_6, up6, out6, gw6b, b1_6;
  sh_prefix_parse("fd00:64::1/64", false, &gw6, &e);
  sh_prefix_parse("fd00:65::1/64", false, &gw6b, &e);
  sh_prefix_parse("fd00:65::2/64", false, &b1_6, &e);
  sh_prefix_parse("fd00:64::2/64", false, &a1_6, &e);
  sh_prefix_parse("fd00:64::3/64", false, &a2_6, &e);
  sh_prefix_parse("2001:db8::1/64", false, &up6, &e);
  sh_prefix_parse("2001:db8::2/64", false, &out6, &e);
  struct sh_prefix gw6_host = gw6, gw6b_host = gw6b;
  gw6_host.len = gw6b_host.len = 128;
  int f6 = open("/proc/sys/net/ipv6/conf/all/forwarding", O_WRONLY | O_CLOEXEC);
  bool v6ok = f6 >= 0 && write(f6, "1", 1) == 1;
  if (f6 >= 0)
    close(f6);
  struct nf_nl n1, n2, n3;
  v6ok = v6ok && nf_addr_add(&h, nets[0].bridge, &gw6, &e) == 0 && nf_addr_add(&h, nets[1].bridge, &gw6b, &e) == 0 &&
         nf_addr_add(&h, "up0", &up6, &e) == 0 && nf_addr_add(&on, "eth0", &out6, &e) == 0 &&
         nf_nl_open(&n1, a1.ns, &e) == 0 && nf_nl_open(&n2, a2.ns, &e) == 0 && nf_nl_open(&n3, b1.ns, &e) == 0;
  v6ok = v6ok && nf_addr_add(&n1, "eth0", &a1_6, &e) == 0 && nf_route_add_default(&n1, "eth0", &gw6_host, &e) == 0 &&
         nf_addr_add(&n2, "eth0", &a2_6, &e) == 0 && nf_route_add_default(&n2, "eth0", &gw6_host, &e) == 0 &&
         nf_addr_add(&n3, "eth0", &b1_6, &e) == 0 && nf_route_add_default(&n3, "eth0", &gw6b_host, &e) == 0;
  ok(v6ok, "IPv6: both bridges, A1, A2, B1, the uplink and the outside get addresses");
  if (!v6ok)
    diag("%s: %s: %s", e.step, e.path, e.msg);
  memcpy(ports[0].ip6, a1_6.addr, 16);
  memcpy(ports[1].ip6, a2_6.addr, 16);
  memcpy(ports[2].ip6, b1_6.addr, 16);
  int a1_l6 = listen6(a1.ns, a1_6.addr, 80), out_l6 = listen6(outns, out6.addr, 80);
  ok(a1_l6 >= 0 && out_l6 >= 0, "IPv6 listeners in A1 and the outside");
  struct nf_forward fw6[] = { { IPPROTO_TCP, 8080, {0}, 80, {0} } };
  memcpy(fw6[0].ip4, a1.addr.addr, 4);
  memcpy(fw6[0].ip6, a1_6.addr, 16);
  d.forwards = fw6;
  is_int(nf_nft_apply(&d, &e), 0, "apply with tcp 8080 forwarded to A1:80 over both families");
  if (e.err)
    diag("%s: %s: %s (%s)", e.step, e.path, e.msg, strerror(e.err));
  is_int(reach_af(&a1, AF_INET6, out6.addr, 80), 0, "IPv6: A1 reaches the outside");
  is_str(accepted_from(out_l6), "2001:db8::1", "masqueraded as the host's address");
  is_int(reach_af(&out, AF_INET6, up6.addr, 8080), 0, "IPv6: the outside reaches A1 through the host's public port");
  is_str(accepted_from(a1_l6), "2001:db8::2", "and A1 sees the outside's own address");
  is_int(reach_af(&out, AF_INET6, up6.addr, 8081), ECONNREFUSED, "IPv6: a port that is not forwarded is the host's own, closed");
  is_int(reach_af(&a2, AF_INET6, up6.addr, 8080), 0, "IPv6 hairpin: A2 reaches A1 through the host's public address");
  is_str(accepted_from(a1_l6), "fd00:64::1", "masqueraded as the gateway");
  is_int(reach_af(&a2, AF_INET6, a1_6.addr, 80), 0, "IPv6: A2 reaches A1 directly (same tenant)");
  accepted_from(a1_l6);
  is_int(reach_af(&b1, AF_INET6, a1_6.addr, 80), ETIMEDOUT, "IPv6: B1 cannot reach A1 (another tenant)");
  is_int(reach_af(&b1, AF_INET6, up6.addr, 8080), 0, "but reaches A1's public port like anyone");
  accepted_from(a1_l6);
  is_int(reach_port(&out, upaddr.addr, 8080), 0, "the IPv4 half of the same forward still works");
  is_str(accepted_from(a1.listener), "192.0.2.2", "and reaches A1 over IPv4");
  struct nf_forward no_addr[] = { { IPPROTO_TCP, 8090, {0}, 80, {0} } };
  d.forwards = no_addr;
  sh_error_clear(&e);
  ok(nf_nft_apply(&d, &e) == -EINVAL && strstr(e.msg, "no container address"), "a forward with no container address is refused");
  d.forwards = fw6;
  ok(system("nft list map inet sandhost forwards_v6 | grep -q 'tcp . 8080 : fd00:64::2 . 80'") == 0,
     "nft lists the IPv6 forward readably");
  close(a1_l6);
  close(out_l6);
  nf_nl_close(&n1);
  nf_nl_close(&n2);
  nf_nl_close(&n3);

  struct nf_forward dup[] = { fw[0], fw[0] };
  d.forwards = dup;
  d.n_forwards = 2;
  sh_error_clear(&e);
  ok(nf_nft_apply(&d, &e) == -EEXIST && strstr(e.msg, "already forwarded"), "a public port forwarded twice is refused, naming it");
  struct nf_forward dns_fw[] = { { IPPROTO_UDP, 53, {0}, 53 } };
  memcpy(dns_fw[0].ip4, a1.addr.addr, 4);
  d.forwards = dns_fw;
  sh_error_clear(&e);
  d.n_forwards = 1;
  ok(nf_nft_apply(&d, &e) == -EINVAL && strstr(e.msg, "host service"), "forwarding the containers' DNS port is refused");
  d.forwards = fw6;
  d.n_forwards = 1;

  /* ---- reconcile after a crash: damage the tables, apply, exact again ---- */
  is_int(nf_nft_apply(&d, &e), 0, "the full state applied");
  char *want = nft_state(), *got = NULL;
  int dmg = system("nft delete element inet sandhost tenant_bridges '{ \"sb1\" }' && "
                   "nft flush set bridge sandhost port_mac && nft flush map inet sandhost forwards_v4 && nft flush map inet sandhost forwards_v6 && "
                   "nft delete element bridge sandhost port_ipv4 '{ \"sh11\" . 02:53:00:00:00:11 . 10.64.0.2 }' && "
                   "nft flush chain inet sandhost t1 && nft delete chain inet sandhost input");
  got = nft_state();
  ok(dmg == 0 && want && got && strcmp(want, got) != 0, "half the elements, a chain's rules and a chain deleted by hand");
  free(got);
  is_int(nf_nft_apply(&d, &e), 0, "apply the desired state again");
  got = nft_state();
  ok(want && got && strcmp(want, got) == 0, "the tables are exactly as before");
  free(got);

  /* ---- adding a tenant and a port without rebuilding ---- */
  struct nf_desired less = d;
  less.n_nets = 1;   /* tenant 2 and its container B1 not there yet */
  less.n_ports = 2;
  is_int(nf_nft_apply(&less, &e), 0, "the state without tenant 2");
  is_int(reach(&b1, &out), ETIMEDOUT, "B1 cannot leave: its network is not in the table");
  is_int(nf_nft_add(d.uplink, &nets[1], 1, &ports[2], 1, &e), 0, "tenant 2 and B1's port added on their own");
  got = nft_state();
  ok(want && got && strcmp(want, got) == 0, "the tables are exactly what the full apply makes");
  free(got);
  is_int(reach(&b1, &out), 0, "B1 now leaves through the uplink");
  is_int(reach(&b1, &a1), ETIMEDOUT, "and stays apart from tenant 1");
  sh_error_clear(&e);
  is_int(nf_nft_add(d.uplink, &nets[1], 1, &ports[2], 1, &e), -EEXIST, "adding them twice is refused");
  got = nft_state();
  ok(want && got && strcmp(want, got) == 0, "and changes nothing");
  free(got);
  free(want);

  /* An admin's `nft list ruleset > saved; nft -f saved` must work with our
   * tables in it: a listing nft cannot load back fails the whole file. */
  char saved[] = "/tmp/sandhost-test-nft.XXXXXX";
  int sfd = mkstemp(saved);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "nft list ruleset > %s && nft -c -f %s", saved, saved);
  ok(sfd >= 0 && system(cmd) == 0, "nft's listing of both tables loads back (nft -c -f)");
  if (sfd >= 0) {
    close(sfd);
    unlink(saved);
  }

  /* Now give the outside a way to the tenants: the table alone must stop it. */
  struct sh_prefix upgw = upaddr;
  upgw.len = 32;
  ok(nf_route_add_default(&on, "eth0", &upgw, &e) == 0, "the outside gets a route to the tenants");
  is_int(reach(&out, &a1), ETIMEDOUT, "and still cannot open a connection into a tenant");
  nf_nl_close(&on);
  is_int(nf_nft_remove(&e), 0, "remove the tables");
  ok(system("nft list table inet sandhost >/dev/null 2>&1") != 0 && system("nft list table bridge sandhost >/dev/null 2>&1") != 0,
     "neither table is left");
  is_int(reach(&a1, &b1), 0, "A1 reaches B1 again");
  is_int(reach(&out, &a1), 0, "and the outside gets in: the table was what stopped it");
  is_int(nf_nft_remove(&e), 0, "removing a missing table is fine");
  ok(nf_nft_present(&present, &e) == 0 && !present, "and it is not present");
  nf_nl_close(&h);
  return tap_done();
}
