/* Sandhost's nftables table, `table inet sandhost`, through libnftnl.  The
 * whole desired state is applied as one transaction; Sandhost never touches
 * other tables.  So far: isolation between tenant networks. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct nf_tenant_net {
  uint64_t id;            /* tenant network id: chain t<id> */
  char bridge[16];        /* its bridge, sb<id> */
};

struct nf_desired {
  const char *uplink;               /* the host's way out, or NULL */
  const struct nf_tenant_net *nets;
  size_t n_nets;
};

/* Replace table inet sandhost with the desired state, atomically:
 * - replies to established flows pass;
 * - traffic from a tenant bridge jumps (through a verdict map keyed by
 *   interface, so the per-packet cost does not grow with tenants) to the
 *   tenant's chain, which lets it out to its own bridge or the uplink only;
 * - nothing else may open a connection into a tenant network;
 * - with an uplink, tenants leave through it masqueraded as the host. */
int nf_nft_apply(const struct nf_desired *d, sh_error *e);
/* Remove the table; a missing one is fine. */
int nf_nft_remove(sh_error *e);
