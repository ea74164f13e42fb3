/* A tenant's cgroup, sandhost/t<id> below sandhostd's own: its containers'
 * cgroups live inside it, and it carries the plan's totals as kernel
 * limits, so the kernel enforces the tenant's aggregate (design principle
 * 1), not just each container's share. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include "error.h"

/* The name of the cgroup that holds the tenants (cgroup_name). */
void hd_cgroup_init(const char *name);
/* A tenant's cgroup path, below sandhostd's own: <name>/t<tenant>, or a
 * container's, <name>/t<tenant>/c<container> (container > 0). */
void hd_cgroup_path(int64_t tenant, int64_t container, char *out, size_t len);
/* Remove a cgroup below the tenants' (killing what runs in it); missing is fine. */
int hd_cgroup_remove(const char *path, sh_error *e);
/* The tenants' cgroup in the unified hierarchy (malloc'd), for listing. */
char *hd_cgroup_root_dir(sh_error *e);

/* The three limits a cgroup carries (a tenant's totals, or one
 * container's sizes); 0 leaves one as it is. */
struct hd_tenant_limits {
  int64_t cpu_millis, memory_mib, pids;
};

/* Create the tenant's cgroup if needed and set its limits (idempotent). */
int hd_tenant_cgroup_apply(int64_t tenant, const struct hd_tenant_limits *l, sh_error *e);
/* Change the limits of a container's cgroup, live; -ENOENT when it has
 * none (it is not running). */
int hd_container_cgroup_apply(int64_t tenant, int64_t container, const struct hd_tenant_limits *l, sh_error *e);
/* Remove it (no container may be left in it); missing is fine. */
int hd_tenant_cgroup_remove(int64_t tenant, sh_error *e);
