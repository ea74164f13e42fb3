/* cgroup v1 interface files (the hybrid hosts of this project). */
#include "cgroup-internal.h"

#include <errno.h>
#include <string.h>

static const char *const throttle_files[4] = {
  "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
  "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
};

int cg_plan_v1(const struct sbx_resources *r, struct cg_plan *p, sh_error *e)
{
  const char *mr = "linux.resources.memory", *cr = "linux.resources.cpu";
  if (r->n_unified)
    return sh_err(e, EOPNOTSUPP, "cgroup", "linux.resources.unified",
                  "needs cgroup v2; this host runs v1 controllers");
  if (r->mem_limit.set)
    cg_plan_add(p, "memory", "memory.limit_in_bytes", NULL, mr, "%lld", (long long) r->mem_limit.v);
  if (r->mem_swap.set)
    cg_plan_add(p, "memory", "memory.memsw.limit_in_bytes", NULL, mr, "%lld", (long long) r->mem_swap.v);
  if (r->mem_reservation.set)
    cg_plan_add(p, "memory", "memory.soft_limit_in_bytes", NULL, mr, "%lld", (long long) r->mem_reservation.v);
  if (r->mem_swappiness.set)
    cg_plan_add(p, "memory", "memory.swappiness", NULL, mr, "%lld", (long long) r->mem_swappiness.v);
  if (r->mem_disable_oom)
    cg_plan_add(p, "memory", "memory.oom_control", NULL, mr, "1");
  if (r->cpu_shares.set)
    cg_plan_add(p, "cpu", "cpu.shares", NULL, cr, "%lld", (long long) r->cpu_shares.v);
  if (r->cpu_period.set)
    cg_plan_add(p, "cpu", "cpu.cfs_period_us", NULL, cr, "%lld", (long long) r->cpu_period.v);
  if (r->cpu_quota.set)
    cg_plan_add(p, "cpu", "cpu.cfs_quota_us", NULL, cr, "%lld", (long long) r->cpu_quota.v);
  if (r->cpu_idle.set)
    cg_plan_add(p, "cpu", "cpu.idle", NULL, cr, "%lld", (long long) r->cpu_idle.v);
  cg_plan_cpuset_pids(r, p);
  if (r->blkio_weight.set)
    cg_plan_add(p, "blkio", "blkio.weight", "blkio.bfq.weight", "linux.resources.blockIO.weight",
                "%lld", (long long) r->blkio_weight.v);
  for (size_t i = 0; i < r->n_weight_dev; i++)
    cg_plan_add(p, "blkio", "blkio.weight_device", "blkio.bfq.weight_device",
                "linux.resources.blockIO.weightDevice", "%lld:%lld %llu",
                (long long) r->weight_dev[i].major, (long long) r->weight_dev[i].minor,
                (unsigned long long) r->weight_dev[i].value);
  for (int t = 0; t < 4; t++)
    for (size_t i = 0; i < r->n_throttle[t]; i++)
      cg_plan_add(p, "blkio", throttle_files[t], NULL, "linux.resources.blockIO",
                  "%lld:%lld %llu", (long long) r->throttle[t][i].major,
                  (long long) r->throttle[t][i].minor, (unsigned long long) r->throttle[t][i].value);
  return 0;
}
