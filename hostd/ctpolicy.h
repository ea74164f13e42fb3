/* A container's network policy (the policy language, policy/netpolicy.h)
 * as netfw's socket-layer programs on its cgroup, pinned under
 * <bpf_dir>/c<id> so they outlive a daemon restart. */
#pragma once

#include <sqlite3.h>
#include "bpf-policy.h"
#include "error.h"
#include "host.h"

/* The text in force: the container's own, or its plan's default. */
int hd_policy_text(sqlite3 *db, int64_t container, char **text, sh_error *e);
/* Attach (replacing pins a crash left), or swap in the current text live
 * when attached already (bpf_link_update: no window without a policy). */
int hd_policy_apply(struct hd_host *h, sqlite3 *db, int64_t container, int64_t tenant, sh_error *e);
/* Detach and unpin; absent is fine. */
int hd_policy_remove(struct hd_host *h, int64_t container, sh_error *e);
/* The container's traffic and refusals so far (for metering). */
int hd_policy_counters(struct hd_host *h, int64_t container, struct nf_counters *out, sh_error *e);
