/* sbx_cgroup_plan: resources -> interface-file writes, for v2 and hybrid. */
#include "cgroup.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define OPT(x) ((struct sbx_opt) { true, (x) })

struct plan {
  struct sbx_cg_write *w;
  size_t n;
  int r;
  sh_error e;
};

static struct plan plan(const struct sbx_resources *r, enum sbx_cg_mode mode)
{
  struct plan p = {0};
  p.r = sbx_cgroup_plan(r, mode, &p.w, &p.n, &p.e);
  return p;
}

static const struct sbx_cg_write *find(const struct plan *p, const char *file)
{
  for (size_t i = 0; p->r == 0 && i < p->n; i++)
    if (strcmp(p->w[i].file, file) == 0)
      return &p->w[i];
  return NULL;
}

static void check_write(const struct plan *p, const char *ctrl, const char *file, const char *value,
                        const char *what)
{
  const struct sbx_cg_write *w = find(p, file);
  if (!ok(w != NULL, "%s: writes %s", what, file))
    return;
  is_str(w->value, value, "%s: %s = \"%s\"", what, file, value);
  is_str(w->ctrl, ctrl, "%s: %s belongs to controller '%s'", what, file, ctrl);
}

static void test_v2(void)
{
  struct sbx_resources r;
  struct plan p;

  memset(&r, 0, sizeof r);
  p = plan(&r, SBX_CG_V2);
  is_int(p.r, 0, "v2: no resources plans fine");
  is_int(p.n, 0, "v2: no resources, no writes");
  free(p.w);

  memset(&r, 0, sizeof r);
  r.mem_limit = OPT(1048576);
  p = plan(&r, SBX_CG_V2);
  is_int(p.r, 0, "v2: memory limit plans");
  is_int(p.n, 1, "v2: memory limit is one write");
  check_write(&p, "memory", "memory.max", "1048576", "v2 memory limit");
  if (find(&p, "memory.max"))
    is_str(find(&p, "memory.max")->field, "linux.resources.memory", "v2: memory.max comes from linux.resources.memory");
  free(p.w);

  r.mem_limit = OPT(-1);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "memory", "memory.max", "max", "v2 memory limit -1");
  free(p.w);

  r.mem_limit = OPT(1048576);
  r.mem_swap = OPT(2 * 1048576);
  p = plan(&r, SBX_CG_V2);
  is_int(p.r, 0, "v2: swap = 2x limit plans");
  check_write(&p, "memory", "memory.swap.max", "1048576", "v2 swap (memory+swap minus memory)");
  free(p.w);

  r.mem_swap = OPT(1048576);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "memory", "memory.swap.max", "0", "v2 swap = limit");
  free(p.w);

  r.mem_swap = OPT(-1);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "memory", "memory.swap.max", "max", "v2 swap -1");
  free(p.w);

  r.mem_swap = OPT(1024);
  p = plan(&r, SBX_CG_V2);
  is_int(p.r, -EINVAL, "v2: swap below the memory limit is EINVAL");
  is_str(p.e.path, "linux.resources.memory.swap", "v2: the error names linux.resources.memory.swap");
  ok(p.w == NULL || p.n == 0, "v2: no plan on error");

  memset(&r, 0, sizeof r);
  r.mem_swap = OPT(1048576);
  p = plan(&r, SBX_CG_V2);
  is_int(p.r, -EINVAL, "v2: swap without memory limit is EINVAL");

  memset(&r, 0, sizeof r);
  r.mem_reservation = OPT(4096);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "memory", "memory.low", "4096", "v2 reservation");
  free(p.w);

  memset(&r, 0, sizeof r);
  r.cpu_shares = OPT(1024);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "cpu", "cpu.weight", "39", "v2 shares 1024 (1 + 1022*9999/262142)");
  free(p.w);
  r.cpu_shares = OPT(2);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "cpu", "cpu.weight", "1", "v2 shares 2");
  free(p.w);
  r.cpu_shares = OPT(262144);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "cpu", "cpu.weight", "10000", "v2 shares 262144");
  free(p.w);

  memset(&r, 0, sizeof r);
  r.cpu_quota = OPT(20000);
  r.cpu_period = OPT(100000);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "cpu", "cpu.max", "20000 100000", "v2 quota/period");
  is_int(p.n, 1, "v2: quota and period are one write");
  free(p.w);
  r.cpu_quota = OPT(-1);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "cpu", "cpu.max", "max 100000", "v2 quota -1");
  free(p.w);
  memset(&r, 0, sizeof r);
  r.cpu_quota = OPT(50000);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "cpu", "cpu.max", "50000 100000", "v2 quota without period");
  free(p.w);

  memset(&r, 0, sizeof r);
  r.pids_limit = OPT(0);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "pids", "pids.max", "max", "v2 pids 0");
  free(p.w);
  r.pids_limit = OPT(-1);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "pids", "pids.max", "max", "v2 pids -1");
  free(p.w);
  r.pids_limit = OPT(4096);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "pids", "pids.max", "4096", "v2 pids 4096");
  free(p.w);

  memset(&r, 0, sizeof r);
  r.cpus = (char *) "0-3";
  r.mems = (char *) "0";
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "cpuset", "cpuset.cpus", "0-3", "v2 cpus");
  check_write(&p, "cpuset", "cpuset.mems", "0", "v2 mems");
  free(p.w);

  memset(&r, 0, sizeof r);
  r.blkio_weight = OPT(500);
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "io", "io.weight", "default 4950", "v2 blkio weight 500 (1 + 490*9999/990)");
  if (find(&p, "io.weight"))
    is_str(find(&p, "io.weight")->alt_file, "io.bfq.weight", "v2: io.weight falls back to io.bfq.weight");
  free(p.w);

  memset(&r, 0, sizeof r);
  struct sbx_io_dev wdev = { 8, 16, 500 };
  r.weight_dev = &wdev;
  r.n_weight_dev = 1;
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "io", "io.weight", "8:16 4950", "v2 weightDevice 500");
  free(p.w);
  p = plan(&r, SBX_CG_HYBRID);
  check_write(&p, "blkio", "blkio.weight_device", "8:16 500", "hybrid weightDevice 500");
  if (find(&p, "blkio.weight_device"))
    is_str(find(&p, "blkio.weight_device")->alt_file, "blkio.bfq.weight_device",
           "hybrid: blkio.weight_device falls back to blkio.bfq.weight_device");
  free(p.w);

  memset(&r, 0, sizeof r);
  struct sbx_io_dev rbps = { 8, 0, 1048576 };
  r.throttle[0] = &rbps;
  r.n_throttle[0] = 1;
  p = plan(&r, SBX_CG_V2);
  check_write(&p, "io", "io.max", "8:0 rbps=1048576", "v2 read bps throttle");
  free(p.w);

  memset(&r, 0, sizeof r);
  struct sbx_kv unified[] = { {(char *) "memory.high", (char *) "1G"}, {(char *) "cgroup.max.depth", (char *) "3"} };
  r.unified = unified;
  r.n_unified = 2;
  p = plan(&r, SBX_CG_V2);
  is_int(p.r, 0, "v2: unified plans");
  check_write(&p, "memory", "memory.high", "1G", "v2 unified memory.high");
  check_write(&p, "", "cgroup.max.depth", "3", "v2 unified cgroup.* needs no controller");
  if (find(&p, "memory.high"))
    is_str(find(&p, "memory.high")->field, "linux.resources.unified", "v2: unified write names its field");
  free(p.w);

  memset(&r, 0, sizeof r);
  r.mem_swappiness = OPT(60);
  p = plan(&r, SBX_CG_V2);
  is_int(p.r, -EOPNOTSUPP, "v2: swappiness is EOPNOTSUPP");
  is_str(p.e.path, "linux.resources.memory.swappiness", "v2: the error names linux.resources.memory.swappiness");

  memset(&r, 0, sizeof r);
  r.mem_disable_oom = true;
  p = plan(&r, SBX_CG_V2);
  is_int(p.r, -EOPNOTSUPP, "v2: disableOOMKiller is EOPNOTSUPP");
  is_str(p.e.path, "linux.resources.memory.disableOOMKiller", "v2: the error names disableOOMKiller");
}

static void test_hybrid(void)
{
  struct sbx_resources r;
  struct plan p;

  memset(&r, 0, sizeof r);
  r.mem_limit = OPT(1048576);
  r.mem_swap = OPT(2097152);
  r.cpu_shares = OPT(1024);
  r.cpu_quota = OPT(20000);
  r.cpu_period = OPT(100000);
  r.pids_limit = OPT(100);
  r.blkio_weight = OPT(500);
  r.mem_swappiness = OPT(10);
  p = plan(&r, SBX_CG_HYBRID);
  is_int(p.r, 0, "hybrid: plans");
  check_write(&p, "memory", "memory.limit_in_bytes", "1048576", "hybrid memory limit");
  check_write(&p, "memory", "memory.memsw.limit_in_bytes", "2097152", "hybrid swap is memory+swap");
  check_write(&p, "memory", "memory.swappiness", "10", "hybrid swappiness");
  check_write(&p, "cpu", "cpu.shares", "1024", "hybrid shares");
  check_write(&p, "cpu", "cpu.cfs_quota_us", "20000", "hybrid quota");
  check_write(&p, "cpu", "cpu.cfs_period_us", "100000", "hybrid period");
  check_write(&p, "pids", "pids.max", "100", "hybrid pids");
  check_write(&p, "blkio", "blkio.weight", "500", "hybrid blkio weight");
  if (find(&p, "blkio.weight"))
    is_str(find(&p, "blkio.weight")->alt_file, "blkio.bfq.weight", "hybrid: blkio.weight falls back to blkio.bfq.weight");
  ok(!find(&p, "memory.max") && !find(&p, "cpu.max") && !find(&p, "cpu.weight"), "hybrid: no v2 files");
  /* The period must be written before the quota: the kernel checks quota against it. */
  const struct sbx_cg_write *q = find(&p, "cpu.cfs_quota_us"), *per = find(&p, "cpu.cfs_period_us");
  ok(q && per && per < q, "hybrid: cfs_period_us is written before cfs_quota_us");
  free(p.w);

  memset(&r, 0, sizeof r);
  r.pids_limit = OPT(0);
  p = plan(&r, SBX_CG_HYBRID);
  check_write(&p, "pids", "pids.max", "max", "hybrid pids 0");
  free(p.w);

  memset(&r, 0, sizeof r);
  struct sbx_kv unified[] = { {(char *) "memory.high", (char *) "1G"} };
  r.unified = unified;
  r.n_unified = 1;
  p = plan(&r, SBX_CG_HYBRID);
  is_int(p.r, -EOPNOTSUPP, "hybrid: unified is EOPNOTSUPP");
  is_str(p.e.path, "linux.resources.unified", "hybrid: the error names linux.resources.unified");
}

int main(void)
{
  test_v2();
  test_hybrid();
  return tap_done();
}
