/* The socket-layer half of a container's network policy: cgroup/connect4,
 * connect6, sendmsg4 and sendmsg6 programs (netfw/bpf/policy.bpf.c) on the
 * container's cgroup2 directory, plus cgroup_skb programs that meter its
 * traffic.  A denied connect() or UDP send fails with EPERM at once inside
 * the container. */
#pragma once

#include <stdint.h>
#include "error.h"
#include "netpolicy.h"

struct nf_bpf_policy;

/* Load the programs, fill their maps from p's outgoing rules and attach them
 * (bpf_link) to the cgroup2 directory. */
int nf_bpf_policy_attach(const char *cgroup_dir, const struct sh_netpolicy *p,
                         struct nf_bpf_policy **out, sh_error *e);
/* Replace the policy: new programs and maps, swapped into the links one hook
 * at a time with bpf_link_update, so no call ever runs without a policy. */
int nf_bpf_policy_update(struct nf_bpf_policy *h, const struct sh_netpolicy *p, sh_error *e);
/* Metering: traffic of the container's sockets (IP packet lengths) and the
 * calls its policy refused, summed over CPUs; never reset by an update. */
struct nf_counters {
  uint64_t bytes_in, packets_in, bytes_out, packets_out, denied;
};
int nf_bpf_policy_counters(const struct nf_bpf_policy *h, struct nf_counters *out, sh_error *e);
/* Detach and free. */
void nf_bpf_policy_free(struct nf_bpf_policy *h);
