/* The parsed OCI runtime-spec config.json.  Parsing is strict: an unknown or
 * unsupported field is an error that names it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "capnames.h"
#include "error.h"

struct sbx_idmap {
  uint32_t container_id, host_id, size;
};

struct sbx_namespace {
  int flag;      /* CLONE_NEW* */
  char *path;    /* join this one instead of creating */
};

enum sbx_mount_kind { SBX_MNT_FS, SBX_MNT_BIND };

struct sbx_mount {
  char *destination;
  char *source;
  char *type;
  enum sbx_mount_kind kind;
  bool recursive;           /* rbind */
  uint64_t attr_set;        /* MOUNT_ATTR_* */
  uint64_t attr_clr;
  bool recursive_attr;      /* rro and friends */
  unsigned long propagation;/* MS_PRIVATE, ... 0 = inherit */
  char **data;              /* key[=value] for fsconfig */
};

struct sbx_rlimit {
  int resource;
  uint64_t soft, hard;
};

struct sbx_opt {
  bool set;
  int64_t v;
};

struct sbx_dev_rule {
  bool allow;
  char type;          /* 'a', 'c', 'b' */
  int64_t major, minor; /* -1: any */
  unsigned access;    /* BPF_DEVCG_ACC_* bits */
};

struct sbx_io_dev {
  int64_t major, minor;
  uint64_t value;
};

struct sbx_kv {
  char *key, *value;
};

struct sbx_resources {
  struct sbx_opt mem_limit, mem_reservation, mem_swap, mem_swappiness;
  bool mem_disable_oom;
  struct sbx_opt cpu_shares, cpu_quota, cpu_period, cpu_idle;
  char *cpus, *mems;
  struct sbx_opt pids_limit;
  struct sbx_opt blkio_weight;
  struct sbx_io_dev *weight_dev; size_t n_weight_dev;
  struct sbx_io_dev *throttle[4]; size_t n_throttle[4]; /* rbps wbps riops wiops */
  struct sbx_dev_rule *devices; size_t n_devices;
  struct sbx_kv *unified; size_t n_unified;
  bool any;           /* some limit is set */
};

struct sbx_time_offset {
  int clock;          /* CLOCK_MONOTONIC / CLOCK_BOOTTIME */
  int64_t secs;
  uint32_t nanosecs;
};

struct sbx_user {
  uid_t uid;
  gid_t gid;
  gid_t *groups; size_t n_groups;
  mode_t umask; bool umask_set;
};

struct sbx_caps {
  uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct sbx_process {
  char **args;
  char **env;
  char *cwd;
  struct sbx_user user;
  struct sbx_caps caps;
  struct sbx_rlimit *rlimits; size_t n_rlimits;
  bool no_new_privs;
  struct sbx_opt oom_score_adj;
  char *selinux_label;
  bool terminal;
};

struct sbx_device {
  char *path;
  char type;
  int64_t major, minor;
  mode_t mode; bool mode_set;
  uid_t uid; gid_t gid;
};

struct sbx_config {
  json_t *json;          /* the whole document, kept for state/exec */
  char *bundle;          /* absolute */
  char *root_path;       /* absolute */
  bool root_readonly;
  char *hostname, *domainname;
  struct sbx_process process;
  struct sbx_mount *mounts; size_t n_mounts;
  struct sbx_namespace *ns; size_t n_ns;
  int ns_new_flags;      /* CLONE_NEW* to create */
  struct sbx_idmap *uid_map; size_t n_uid_map;
  struct sbx_idmap *gid_map; size_t n_gid_map;
  struct sbx_resources res;
  char *cgroups_path;
  json_t *seccomp;       /* borrowed from json */
  char **masked; char **readonly;
  char *mount_label;
  struct sbx_kv *sysctl; size_t n_sysctl;
  struct sbx_time_offset *time_offsets; size_t n_time_offsets;
  struct sbx_device *devices; size_t n_devices;
  unsigned long rootfs_propagation;
  json_t *annotations;   /* borrowed */
};

/* Parse config text; bundle is the directory it came from. */
int sbx_config_parse(const char *text, const char *bundle, struct sbx_config **out, sh_error *e);
int sbx_config_load(const char *bundle, struct sbx_config **out, sh_error *e);
void sbx_config_free(struct sbx_config *c);
static inline void sbx_config_freep(struct sbx_config **c) { if (*c) sbx_config_free(*c); }
#define _cleanup_config_ __attribute__((cleanup(sbx_config_freep)))

/* A process object (config "process" or an exec process.json). */
int sbx_process_parse(json_t *p, const char *ctx, struct sbx_process *out, sh_error *e);
void sbx_process_clear(struct sbx_process *p);

/* Validate id maps: no root→host-root, no overlaps, sizes sane. */
int sbx_idmap_validate(const struct sbx_idmap *m, size_t n, const char *what, sh_error *e);
/* Map a container id to the host one; (uid_t)-1 when unmapped. */
uint32_t sbx_idmap_to_host(const struct sbx_idmap *m, size_t n, uint32_t id);
/* Write /proc/PID/{uid,gid}_map and setgroups. */
int sbx_idmap_write(pid_t pid, const struct sbx_config *c, sh_error *e);
int sbx_idmap_write_maps(pid_t pid, const struct sbx_idmap *uid, size_t n_uid,
                        const struct sbx_idmap *gid, size_t n_gid, sh_error *e);
/* A user namespace with these maps, held by its fd (for idmapped mounts). */
int sbx_userns_fd(const struct sbx_idmap *uid, size_t n_uid, const struct sbx_idmap *gid,
                  size_t n_gid, sh_error *e);
