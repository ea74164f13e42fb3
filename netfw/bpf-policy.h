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
 * (bpf_link) to the cgroup2 directory.  With pin_dir (a directory on bpffs,
 * /sys/fs/bpf/sandhost/c<id> in production) the links and the counters are
 * pinned there, so the policy outlives the caller. */
int nf_bpf_policy_attach(const char *cgroup_dir, const struct sh_netpolicy *p, const char *pin_dir,
                         struct nf_bpf_policy **out, sh_error *e);
/* Take over a pinned policy (after a daemon restart). */
int nf_bpf_policy_open_pinned(const char *pin_dir, struct nf_bpf_policy **out, sh_error *e);
/* Detach a pinned policy and remove its pins; a missing one is fine. */
int nf_bpf_policy_remove(const char *pin_dir, sh_error *e);
/* Replace the policy: new programs and maps, swapped into the links one hook
 * at a time with bpf_link_update, so no call ever runs without a policy. */
int nf_bpf_policy_update(struct nf_bpf_policy *h, const struct sh_netpolicy *p, sh_error *e);
/* Metering: traffic of the container's sockets (IP packet lengths) and the
 * calls its policy refused, summed over CPUs; never reset by an update. */
struct nf_counters {
  uint64_t bytes_in, packets_in, bytes_out, packets_out;
  uint64_t denied;       /* connects and sends refused */
  uint64_t dropped_in;   /* incoming packets the policy dropped */
};
int nf_bpf_policy_counters(const struct nf_bpf_policy *h, struct nf_counters *out, sh_error *e);
/* Free the handle; the programs stay attached only if pinned. */
void nf_bpf_policy_free(struct nf_bpf_policy *h);
