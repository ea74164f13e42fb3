/* rtnetlink requests with libmnl: one request, one acknowledgement. */
#include "link.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if_arp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One request or one batch of replies; rtnetlink messages here are small. */
#define NL_BUF 8192

int nf_nl_open(struct nf_nl *n, int netns_fd, sh_error *e)
{
  memset(n, 0, sizeof *n);
  _cleanup_close_ int self = -1;
  if (netns_fd >= 0) {
    /* A socket belongs to the namespace it was made in: step in, make it, step back. */
    self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0 || setns(netns_fd, CLONE_NEWNET) < 0)
      return sh_errno(e, "enter network namespace", "netlink");
  }
  n->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  int err = errno;
  if (self >= 0 && setns(self, CLONE_NEWNET) < 0)
    abort(); /* we cannot stay in the wrong namespace */
  if (!n->sock)
    return sh_err(e, err, "open netlink", NULL, NULL);
  if (mnl_socket_bind(n->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    err = errno;
    mnl_socket_close(n->sock);
    n->sock = NULL;
    return sh_err(e, err, "bind netlink", NULL, NULL);
  }
  n->portid = mnl_socket_get_portid(n->sock);
  n->seq = (unsigned) time(NULL);
  return 0;
}

void nf_nl_close(struct nf_nl *n)
{
  if (n->sock)
    mnl_socket_close(n->sock);
  n->sock = NULL;
}

/* Send one request and wait for its answer; cb may read the reply. */
int nf_nl_talk(struct nf_nl *n, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
  char buf[NL_BUF];
  nlh->nlmsg_seq = ++n->seq;
  nlh->nlmsg_flags |= NLM_F_ACK;
  if (mnl_socket_sendto(n->sock, nlh, nlh->nlmsg_len) < 0)
    return -errno;
  for (;;) {
    ssize_t len = mnl_socket_recvfrom(n->sock, buf, sizeof buf);
    if (len < 0)
      return -errno;
    int r = mnl_cb_run(buf, (size_t) len, nlh->nlmsg_seq, n->portid, cb, data);
    if (r <= MNL_CB_STOP)
      return r < 0 ? -errno : 0;
  }
}

/* The kernel answers ERANGE for a long name; say what is wrong instead. */
static int check_name(const char *name, const char *step, sh_error *e)
{
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n >= IFNAMSIZ || strchr(name, '/') || strchr(name, ' '))
    return sh_err(e, EINVAL, step, name ? name : "", "a link name is 1..%d characters without '/' or spaces",
                  IFNAMSIZ - 1);
  return 0;
}

static struct nlmsghdr *new_msg(char *buf, int type, unsigned flags)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (uint16_t) type;
  nlh->nlmsg_flags = (uint16_t) (NLM_F_REQUEST | flags);
  return nlh;
}

static struct nlmsghdr *new_link_msg(char *buf, int type, unsigned flags)
{
  struct nlmsghdr *nlh = new_msg(buf, type, flags);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  return nlh;
}

static int index_cb(const struct nlmsghdr *nlh, void *data)
{
  const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
  *(int *) data = ifm->ifi_index;
  return MNL_CB_OK;
}

int nf_link_index(struct nf_nl *n, const char *name, sh_error *e)
{
  char buf[NL_BUF];
  struct nlmsghdr *nlh = new_link_msg(buf, RTM_GETLINK, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  int idx = 0, r = nf_nl_talk(n, nlh, index_cb, &idx);
  if (r < 0)
    return sh_err(e, -r, "find link", name, NULL);
  return idx;
}

int nf_link_add_kind(struct nf_nl *n, const char *name, const char *kind, unsigned mtu, sh_error *e)
{
  char buf[NL_BUF], step[48];
  snprintf(step, sizeof step, "create %s", kind);
  if (check_name(name, step, e) < 0)
    return -EINVAL;
  struct nlmsghdr *nlh = new_link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  if (mtu)
    mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
  mnl_attr_nest_end(nlh, info);
  int r = nf_nl_talk(n, nlh, NULL, NULL);
  if (r < 0 && r != -EEXIST)
    return sh_err(e, -r, step, name, NULL);
  return 0;
}

int nf_link_add_bridge(struct nf_nl *n, const char *name, unsigned mtu, sh_error *e)
{
  return nf_link_add_kind(n, name, "bridge", mtu, e);
}

int nf_link_add_veth(struct nf_nl *n, const char *host, const char *peer, unsigned mtu,
                     const uint8_t *peer_mac, sh_error *e)
{
  char buf[NL_BUF];
  if (check_name(host, "create veth pair", e) < 0 || check_name(peer, "create veth pair", e) < 0)
    return -EINVAL;
  struct nlmsghdr *nlh = new_link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
  if (mtu)
    mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  struct nlattr *pinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  struct ifinfomsg *pifm = mnl_nlmsg_put_extra_header(nlh, sizeof *pifm);
  pifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
  if (mtu)
    mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  if (peer_mac)
    mnl_attr_put(nlh, IFLA_ADDRESS, 6, peer_mac);
  mnl_attr_nest_end(nlh, pinfo);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  int r = nf_nl_talk(n, nlh, NULL, NULL);
  if (r < 0)
    return sh_err(e, -r, "create veth pair", host, "peer %s", peer);
  return 0;
}

int nf_link_set(struct nf_nl *n, const char *name, const struct nf_link_change *c, sh_error *e)
{
  char buf[NL_BUF];
  struct nlmsghdr *nlh = new_link_msg(buf, RTM_NEWLINK, 0);
  struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
  if (c->new_name && check_name(c->new_name, "rename link", e) < 0)
    return -EINVAL;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  if (c->master) {
    int m = nf_link_index(n, c->master, e);
    if (m < 0)
      return m;
    mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t) m);
  }
  if (c->netns_fd >= 0)
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t) c->netns_fd);
  if (c->up) {
    ifm->ifi_change = IFF_UP;
    ifm->ifi_flags = IFF_UP;
  }
  if (c->new_name) {
    /* IFLA_IFNAME names the link to change; the index carries the new name. */
    int idx = nf_link_index(n, name, e);
    if (idx < 0)
      return idx;
    ifm->ifi_index = idx;
    nlh->nlmsg_len = (uint32_t) mnl_nlmsg_size(sizeof *ifm);
    if (c->master)
      mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t) nf_link_index(n, c->master, NULL));
    if (c->netns_fd >= 0)
      mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t) c->netns_fd);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, c->new_name);
  }
  if (c->isolated) {
    struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "bridge");
    struct nlattr *sd = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
    mnl_attr_put_u8(nlh, IFLA_BRPORT_ISOLATED, c->isolated > 0);
    mnl_attr_nest_end(nlh, sd);
    mnl_attr_nest_end(nlh, li);
  }
  int r = nf_nl_talk(n, nlh, NULL, NULL);
  if (r < 0)
    return sh_err(e, -r, "change link", name, "%s%s%s%s%s", c->isolated ? "isolation " : "", c->master ? "master " : "",
                  c->master ? c->master : "", c->netns_fd >= 0 ? " netns" : "", c->up ? " up" : "");
  return 0;
}

int nf_link_del(struct nf_nl *n, const char *name, sh_error *e)
{
  char buf[NL_BUF];
  struct nlmsghdr *nlh = new_link_msg(buf, RTM_DELLINK, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  int r = nf_nl_talk(n, nlh, NULL, NULL);
  if (r < 0 && r != -ENODEV)
    return sh_err(e, -r, "delete link", name, NULL);
  return 0;
}

int nf_addr_add(struct nf_nl *n, const char *ifname, const struct sh_prefix *addr, sh_error *e)
{
  char buf[NL_BUF];
  int idx = nf_link_index(n, ifname, e);
  if (idx < 0)
    return idx;
  struct nlmsghdr *nlh = new_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
  ifa->ifa_family = (uint8_t) addr->family;
  ifa->ifa_prefixlen = (uint8_t) addr->len;
  ifa->ifa_index = (uint32_t) idx;
  size_t alen = addr->family == AF_INET ? 4 : 16;
  mnl_attr_put(nlh, IFA_LOCAL, alen, addr->addr);
  mnl_attr_put(nlh, IFA_ADDRESS, alen, addr->addr);
  if (addr->family == AF_INET6)
    ifa->ifa_flags = IFA_F_NODAD; /* addresses we assign are unique by construction */
  int r = nf_nl_talk(n, nlh, NULL, NULL);
  if (r < 0 && r != -EEXIST) {
    char a[64];
    return sh_err(e, -r, "add address", ifname, "%s", sh_prefix_format(addr, false, a, sizeof a));
  }
  return 0;
}

int nf_route_add_default(struct nf_nl *n, const char *ifname, const struct sh_prefix *gw, sh_error *e)
{
  char buf[NL_BUF];
  int idx = nf_link_index(n, ifname, e);
  if (idx < 0)
    return idx;
  struct nlmsghdr *nlh = new_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
  rtm->rtm_family = (uint8_t) gw->family;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put(nlh, RTA_GATEWAY, gw->family == AF_INET ? 4 : 16, gw->addr);
  mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t) idx);
  int r = nf_nl_talk(n, nlh, NULL, NULL);
  if (r < 0 && r != -EEXIST) {
    char a[64];
    return sh_err(e, -r, "add default route", ifname, "via %s", sh_prefix_format(gw, true, a, sizeof a));
  }
  return 0;
}
