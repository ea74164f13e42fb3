/* cgroups: v2 first, v1-hybrid as the fallback of this machine.  A container's
 * cgroup always lies below the caller's own cgroup (per controller). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "config.h"
#include "error.h"

enum sbx_cg_mode { SBX_CG_V2, SBX_CG_HYBRID };

#define SBX_CG_V1_MAX 7

struct sbx_cgroup {
  enum sbx_cg_mode mode;
  char *unified;                    /* leaf in the cgroup2 mount (both modes) */
  char *v1_name[SBX_CG_V1_MAX];     /* controller names (hybrid) */
  char *v1[SBX_CG_V1_MAX];          /* leaf per v1 controller (hybrid) */
  size_t n_v1;
  bool own_parent;                  /* default path sbx/<id>: the shared "sbx" parent
                                       is removed with the last container */
};

/* One write to a cgroup interface file. */
struct sbx_cg_write {
  char ctrl[32];         /* v1 controller, or the v2 controller the file belongs to */
  char file[64];
  const char *alt_file;  /* tried when file does not exist (e.g. blkio.bfq.weight) */
  char value[256];
  const char *field;     /* the config field it comes from, for errors */
};

/* Turn resources into interface-file writes for a mode.  Pure; unit-tested. */
int sbx_cgroup_plan(const struct sbx_resources *r, enum sbx_cg_mode mode,
                    struct sbx_cg_write **out, size_t *n, sh_error *e);

enum sbx_cg_mode sbx_cgroup_host_mode(void);
/* Where the cgroup2 hierarchy is mounted on this host. */
const char *sbx_cgroup_unified_mount(void);

/* Resolve the leaf paths for cgroupsPath (or sbx/<id>), below our own cgroup. */
int sbx_cgroup_resolve(const struct sbx_config *c, const char *id, struct sbx_cgroup *cg, sh_error *e);
/* mkdir the leaves, enable controllers, write limits, attach the device program. */
int sbx_cgroup_create(const struct sbx_config *c, struct sbx_cgroup *cg, sh_error *e);
/* Put pid into every leaf (hybrid; on v2 CLONE_INTO_CGROUP does it). */
int sbx_cgroup_enter(const struct sbx_cgroup *cg, pid_t pid, sh_error *e);
/* Hybrid hosts: move the calling (single-threaded) process into every v1 leaf;
 * the unified leaf is entered with CLONE_INTO_CGROUP. */
int sbx_cgroup_enter_self_v1(const struct sbx_cgroup *cg, sh_error *e);
/* O_PATH-free directory fd of the unified leaf, for CLONE_INTO_CGROUP. */
int sbx_cgroup_open_leaf(const struct sbx_cgroup *cg, sh_error *e);
/* Kill what is left and remove the leaves.  Missing leaves are fine. */
int sbx_cgroup_destroy(const struct sbx_cgroup *cg, sh_error *e);
/* Send sig to every process of the container's cgroup. */
int sbx_cgroup_signal(const struct sbx_cgroup *cg, int sig);
int sbx_cgroup_freeze(const struct sbx_cgroup *cg, bool freeze, sh_error *e);
bool sbx_cgroup_is_frozen(const struct sbx_cgroup *cg);
/* Live update of limits (used by hostd). */
int sbx_cgroup_apply(const struct sbx_cgroup *cg, const struct sbx_resources *r, sh_error *e);

/* What a cgroup (and everything below it) has used, for metering. */
struct sbx_cg_stats {
  uint64_t cpu_usec;        /* cpu time */
  uint64_t memory_bytes;    /* memory in use now */
  uint64_t pids;            /* tasks now */
  uint64_t io_read_bytes, io_write_bytes;
};
/* Fields a host does not have stay 0. */
int sbx_cgroup_stats(const struct sbx_cgroup *cg, struct sbx_cg_stats *out, sh_error *e);

json_t *sbx_cgroup_to_json(const struct sbx_cgroup *cg);
int sbx_cgroup_from_json(json_t *j, struct sbx_cgroup *cg, sh_error *e);
void sbx_cgroup_clear(struct sbx_cgroup *cg);

/* Device rules as an eBPF cgroup-device program attached to the unified leaf. */
int sbx_cgroup_dev_attach(const char *unified_leaf, const struct sbx_dev_rule *rules, size_t n,
                          sh_error *e);
/* Build the program; pure, for unit tests.  *insns is malloc'd. */
struct bpf_insn;
int sbx_cgroup_dev_build(const struct sbx_dev_rule *rules, size_t n, struct bpf_insn **insns,
                         size_t *n_insns);
