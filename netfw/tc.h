/* Bandwidth limits per container, on the host end of its veth through
 * rtnetlink: what the container receives leaves the host end and is shaped
 * there by a token bucket (tbf); what it sends arrives at the host end's
 * ingress and is redirected (u32 + mirred) to an ifb of its own, "i<host
 * end>", shaped there by a tbf too.  (matchall and police are not in this
 * host's kernel; u32, mirred, ifb and tbf are in Debian's as well.)  All of
 * it sits outside the container's network namespace, out of its reach. */
#pragma once
#include <stdint.h>
#include "error.h"
#include "link.h"

/* Rates in bits per second; 0 removes that limit (and the ifb).  Idempotent.
 * Clear both before deleting the veth, or the ifb stays behind. */
int nf_tc_set_rate(struct nf_nl *n, const char *host_ifname, uint64_t to_container_bps,
                   uint64_t from_container_bps, sh_error *e);
/* Remove both limits and the ifb, also when the veth is gone already (a
 * container's namespace takes the pair with it when its init exits, and
 * the ifb would stay behind).  Missing pieces are fine. */
void nf_tc_clear(struct nf_nl *n, const char *host_ifname);
