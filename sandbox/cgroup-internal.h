/* Shared between cgroup.c, cgroup-v1.c and cgroup-v2.c. */
#pragma once
#include "cgroup.h"

struct cg_plan {
  struct sbx_cg_write *w;
  size_t n, cap;
};

struct sbx_cg_write *cg_plan_add(struct cg_plan *p, const char *ctrl, const char *file,
                                 const char *alt, const char *field, const char *fmt, ...)
  __attribute__((format(printf, 6, 7)));

/* cpuset and pids files have the same names in both modes. */
void cg_plan_cpuset_pids(const struct sbx_resources *r, struct cg_plan *p);
int cg_plan_v1(const struct sbx_resources *r, struct cg_plan *p, sh_error *e);
int cg_plan_v2(const struct sbx_resources *r, struct cg_plan *p, sh_error *e);

/* Enable the controllers the plan needs from our own cgroup down to the leaf's parent. */
int cg_v2_enable(const char *own, const char *leaf, const struct cg_plan *p, sh_error *e);
