/* Links, addresses and routes through rtnetlink (libmnl): bridges, veth pairs,
 * moving a peer into a container's network namespace.  Every call is
 * idempotent where that makes sense (an existing bridge or address is fine, a
 * missing link on delete is fine), so reconciliation can simply repeat it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "error.h"
#include "prefix.h"

struct mnl_socket;

struct nf_nl {
  struct mnl_socket *sock;
  unsigned seq, portid;
};

/* A netlink socket in the current network namespace, or in netns_fd's. */
int nf_nl_open(struct nf_nl *n, int netns_fd, sh_error *e);
void nf_nl_close(struct nf_nl *n);
/* Send one request (an ack is asked for) and run cb on each answer; 0 or
 * -errno.  For the other rtnetlink users of netfw (tc.c). */
struct nlmsghdr;
typedef int (*nf_nl_cb)(const struct nlmsghdr *nlh, void *data);
int nf_nl_talk(struct nf_nl *n, struct nlmsghdr *nlh, nf_nl_cb cb, void *data);

int nf_link_index(struct nf_nl *n, const char *name, sh_error *e);
int nf_link_add_bridge(struct nf_nl *n, const char *name, unsigned mtu, sh_error *e);
/* A link of a kind that needs no options ("bridge", "ifb"); existing is fine. */
int nf_link_add_kind(struct nf_nl *n, const char *name, const char *kind, unsigned mtu, sh_error *e);
/* host stays here; peer gets mac (may be NULL) and is moved into netns_fd as
 * peer_newname when netns_fd >= 0. */
int nf_link_add_veth(struct nf_nl *n, const char *host, const char *peer, unsigned mtu,
                     const uint8_t *peer_mac, sh_error *e);
struct nf_link_change {
  const char *master;     /* enslave to this bridge */
  int netns_fd;           /* move into this namespace (-1: stay) */
  const char *new_name;   /* rename (with the move) */
  bool up;
  /* A bridge port: 1 isolated (it cannot talk to other isolated ports, only
   * to the bridge itself and non-isolated ports), -1 not, 0 unchanged.
   * A tenant network whose containers may not talk to each other sets it on
   * every container port. */
  int isolated;
};
int nf_link_set(struct nf_nl *n, const char *name, const struct nf_link_change *c, sh_error *e);
int nf_link_del(struct nf_nl *n, const char *name, sh_error *e);
/* addr carries the prefix length of the subnet (10.64.2.2/24). */
int nf_addr_add(struct nf_nl *n, const char *ifname, const struct sh_prefix *addr, sh_error *e);
int nf_route_add_default(struct nf_nl *n, const char *ifname, const struct sh_prefix *gateway, sh_error *e);
