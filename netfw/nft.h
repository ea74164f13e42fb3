/* Sandhost's nftables tables, through libnftnl: `table inet sandhost`
 * (isolation between tenant networks, what containers may ask of the host,
 * egress masquerade) and `table bridge sandhost` (anti-spoofing on every
 * container port).  The whole desired state is applied as one transaction;
 * Sandhost never touches other tables. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct nf_tenant_net {
  uint64_t id;            /* tenant network id: chain t<id> */
  char bridge[16];        /* its bridge, sb<id> */
};

/* A container's port on its tenant bridge: the only addresses it may send from. */
struct nf_port {
  char ifname[16];        /* the host end of its veth */
  uint8_t mac[6];
  uint8_t ip4[4];         /* all zero: no IPv4 */
  uint8_t ip6[16];        /* all zero: no IPv6 (its link-local, from the MAC, is always allowed) */
};

/* A service on the host that containers may use (on their gateway). */
struct nf_service {
  uint8_t proto;          /* IPPROTO_TCP or IPPROTO_UDP */
  uint16_t port;
};

/* A public port of the host forwarded to a container: on the host's IPv4
 * addresses to ip4, on its IPv6 addresses to ip6 (at least one of them). */
struct nf_forward {
  uint8_t proto;          /* IPPROTO_TCP or IPPROTO_UDP */
  uint16_t public_port;   /* on every address of the host */
  uint8_t ip4[4];         /* the container; all zero: not over IPv4 */
  uint16_t port;          /* and its port */
  uint8_t ip6[16];        /* all zero: not over IPv6 */
};

struct nf_desired {
  const char *uplink;               /* the host's way out, or NULL */
  const struct nf_tenant_net *nets;
  size_t n_nets;
  const struct nf_port *ports;
  size_t n_ports;
  const struct nf_service *services; /* NULL: DNS (udp and tcp 53) */
  size_t n_services;
  const struct nf_forward *forwards;
  size_t n_forwards;
};

/* Replace table inet sandhost with the desired state, atomically:
 * - replies to established flows pass;
 * - traffic from a tenant bridge jumps (through a verdict map keyed by
 *   interface, so the per-packet cost does not grow with tenants) to the
 *   tenant's chain, which lets it out to its own bridge or the uplink only;
 * - nothing else may open a connection into a tenant network;
 * - with an uplink, tenants leave through it masqueraded as the host;
 * - tenants reach the host itself only for the services listed, ICMP echo
 *   and IPv6 neighbour discovery; nothing else on the host answers them;
 * - connections to a forwarded port on any of the host's addresses go to
 *   the container (DNAT through one map lookup); from a container of the
 *   host itself (hairpin) they are also masqueraded, so replies come back
 *   through the host;
 * - a frame from a container port must carry the port's MAC and, for IPv4,
 *   ARP and IPv6, its addresses; router advertisements and other ethertypes
 *   (VLAN tags included) from containers are dropped. */
int nf_nft_apply(const struct nf_desired *d, sh_error *e);
/* Add tenant networks and container ports to the state last applied (uplink
 * as it had), in one transaction of additions only: no hook or RCU wait, so
 * its cost does not grow with the tenants already there.  EEXIST, and
 * nothing changed, if one is there already.  Removing goes through
 * nf_nft_apply, which also repairs whatever else drifted. */
int nf_nft_add(const char *uplink, const struct nf_tenant_net *nets, size_t n_nets, const struct nf_port *ports,
               size_t n_ports, sh_error *e);
/* The container ports (host-end interface names) that the bridge table's
 * anti-spoofing set holds, as the kernel has them (for the audit); none
 * when there is no table. */
int nf_nft_ports(char (**names)[IFNAMSIZ], size_t *n, sh_error *e);
/* Whether table inet sandhost exists (a caller with nothing to add can
 * then leave a host that never had it alone). */
int nf_nft_present(bool *present, sh_error *e);
/* Remove both tables; missing ones are fine. */
int nf_nft_remove(sh_error *e);
