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

/* Put p's rules in the program set's maps under the cgroup's id and attach
 * the set's programs (bpf_link) to the cgroup2 directory.  The set is loaded
 * and verified once per process and cgroup level; with pin_dir (a directory
 * on bpffs, /sys/fs/bpf/sandhost/c<id> in production) it is pinned beside
 * it (set-L<level>-<hash of the programs>), so a restarted daemon reuses it,
 * and the container's links and maps are pinned in pin_dir, so the policy
 * outlives the caller. */
int nf_bpf_policy_attach(const char *cgroup_dir, const struct sh_netpolicy *p, const char *pin_dir,
                         struct nf_bpf_policy **out, sh_error *e);
/* Take over a pinned policy (after a daemon restart). */
int nf_bpf_policy_open_pinned(const char *pin_dir, struct nf_bpf_policy **out, sh_error *e);
/* Detach a pinned policy and remove its pins; a missing one is fine. */
int nf_bpf_policy_remove(const char *pin_dir, sh_error *e);
/* Once no container's pin directory is left below root, unpin the program
 * sets there (a daemon that had no container leaves nothing on bpffs). */
int nf_bpf_policy_prune(const char *root, sh_error *e);
/* Replace the policy: its rules written under another generation, then the
 * container's entry switched to it in one update, so every call sees either
 * the old policy or the new one whole. */
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
