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
/* What the kernel holds of a pinned container policy, for the audit: which
 * hooks of its cgroup run the program its pinned link names (and how many
 * other programs are attached there), its defaults and the rules in force
 * per direction and family (out4, out6, in4, in6), and its counters. */
#define NF_BPF_HOOKS 6
struct nf_bpf_audit {
  const char *hook[NF_BPF_HOOKS];     /* connect4 ... count_out */
  bool attached[NF_BPF_HOOKS];        /* the pinned link's program runs on the cgroup */
  unsigned others[NF_BPF_HOOKS];      /* other programs attached at that hook */
  bool entry;                         /* the maps have the cgroup's policy */
  bool deny_out, deny_in, track;      /* its defaults, and whether flows are tracked */
  size_t rules[4];                    /* trie entries in force: out4, out6, in4, in6 */
  struct nf_counters counters;
};
int nf_bpf_policy_audit(const char *cgroup_dir, const char *pin_dir, struct nf_bpf_audit *out, sh_error *e);
/* Free the handle; the programs stay attached only if pinned. */
void nf_bpf_policy_free(struct nf_bpf_policy *h);
