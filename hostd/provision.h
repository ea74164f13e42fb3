/* The steps of each operation on a container: storage, then runtime (the
 * network steps join with issue 4's netfw).  Every step is idempotent. */
#pragma once

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include "error.h"
#include "host.h"

/* One container and what an operation on it needs. */
struct hd_ctx {
  struct hd_host *h;
  sqlite3 *db;
  int64_t op;
  json_t *args;                /* the operation's arguments */
  int64_t id, tenant;
  char ref[24];                /* c<id> */
  char name[64], image[128], state[16];
  int64_t cpu_millis, memory_mib, pids, disk_mib, total_disk_mib;
  int64_t total_cpu_millis, total_memory_mib, total_pids;   /* the tenant's, for its cgroup */
  int64_t host_start;          /* its 65,536 host ids */
  int c1, c2;                  /* its MCS pair */
  int64_t pid;                 /* its init, 0 when none */
  int64_t pid_start;           /* and its start time (hd_proc_start) */
  char seccomp[16];            /* its profile: its own, or its plan's */
  char snapshot[64];           /* snapshot operations: its name (args.snapshot) */
};

struct hd_step {
  const char *name;
  int (*run)(struct hd_ctx *c, sh_error *e);
  int (*undo)(struct hd_ctx *c, sh_error *e);   /* NULL: nothing to undo */
};

struct hd_op_kind {
  const char *kind;
  const struct hd_step *steps;
  size_t n_steps;
  /* After a failure and the compensations: the rows put right (a failed
   * create leaves no container, a failed start a stopped one...). */
  int (*on_fail)(struct hd_ctx *c, sh_error *e);
};

const struct hd_op_kind *hd_op_kind_find(const char *kind);
/* Read the container's row (and allocations) into c. */
int hd_ctx_load(struct hd_ctx *c, sh_error *e);
/* For reconciliation: remove what the runtime, the pool and the bundle
 * directory hold for a container the database does not know. */
int hd_orphan_remove(struct hd_host *h, const char *ref, sh_error *e);
/* The runtime's state and the rootfs mount of a container that should not
 * run (its volume and bundle stay). */
int hd_runtime_sweep(struct hd_host *h, const char *ref, sh_error *e);
/* Held by whoever looks at a container's volume from outside (its files
 * through the API) or changes what tree it is or where it is mounted
 * (mount, unmount, rebuild, restore, delete): a view never outlives the
 * tree it shows, an overlay upper is never under two mounts, and a stop
 * never finds its rootfs busy.  The timed form gives up (false) after
 * timeout_ms, so the API's event loop never waits long. */
void hd_volume_lock(void);
bool hd_volume_lock_timed(int timeout_ms);
void hd_volume_unlock(void);
/* Whether the container's init still runs; reaps it if it is our child
 * (sandhostd is the containers' subreaper) and gives its exit code. */
bool hd_init_alive(int64_t pid, int64_t start, int *exit_code);
/* A process's start time in clock ticks after boot (/proc/<pid>/stat,
 * field 22); 0 when there is no such process. */
int64_t hd_proc_start(int64_t pid);
