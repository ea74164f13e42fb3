/* cgroup v2 interface files and controller delegation. */
#include "cgroup-internal.h"
#include "cleanup.h"
#include "fdutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static const char *const io_keys[4] = { "rbps", "wbps", "riops", "wiops" };

int cg_plan_v2(const struct sbx_resources *r, struct cg_plan *p, sh_error *e)
{
  const char *mr = "linux.resources.memory", *cr = "linux.resources.cpu";
  if (r->mem_swappiness.set)
    return sh_err(e, EOPNOTSUPP, "cgroup", "linux.resources.memory.swappiness",
                  "cgroup v2 has no per-cgroup swappiness");
  if (r->mem_disable_oom)
    return sh_err(e, EOPNOTSUPP, "cgroup", "linux.resources.memory.disableOOMKiller",
                  "cgroup v2 cannot disable the OOM killer");
  if (r->mem_limit.set) {
    if (r->mem_limit.v < 0)
      cg_plan_add(p, "memory", "memory.max", NULL, mr, "max");
    else
      cg_plan_add(p, "memory", "memory.max", NULL, mr, "%lld", (long long) r->mem_limit.v);
  }
  if (r->mem_swap.set) {
    /* OCI swap is memory+swap; v2 limits swap alone. */
    if (r->mem_swap.v < 0)
      cg_plan_add(p, "memory", "memory.swap.max", NULL, mr, "max");
    else if (!r->mem_limit.set || r->mem_limit.v < 0)
      return sh_err(e, EINVAL, "cgroup", "linux.resources.memory.swap", "needs memory.limit");
    else if (r->mem_swap.v < r->mem_limit.v)
      return sh_err(e, EINVAL, "cgroup", "linux.resources.memory.swap", "must be at least memory.limit");
    else
      cg_plan_add(p, "memory", "memory.swap.max", NULL, mr, "%lld",
                  (long long) (r->mem_swap.v - r->mem_limit.v));
  }
  if (r->mem_reservation.set)
    cg_plan_add(p, "memory", "memory.low", NULL, mr, "%lld", (long long) r->mem_reservation.v);
  if (r->cpu_shares.set)
    cg_plan_add(p, "cpu", "cpu.weight", NULL, cr, "%lld",
                (long long) (1 + ((r->cpu_shares.v - 2) * 9999) / 262142));
  if (r->cpu_quota.set || r->cpu_period.set) {
    long long period = r->cpu_period.set ? r->cpu_period.v : 100000;
    if (r->cpu_quota.set && r->cpu_quota.v > 0)
      cg_plan_add(p, "cpu", "cpu.max", NULL, cr, "%lld %lld", (long long) r->cpu_quota.v, period);
    else
      cg_plan_add(p, "cpu", "cpu.max", NULL, cr, "max %lld", period);
  }
  if (r->cpu_idle.set)
    cg_plan_add(p, "cpu", "cpu.idle", NULL, cr, "%lld", (long long) r->cpu_idle.v);
  cg_plan_cpuset_pids(r, p);
  if (r->blkio_weight.set)
    cg_plan_add(p, "io", "io.weight", "io.bfq.weight", "linux.resources.blockIO.weight", "default %lld",
                (long long) (1 + (r->blkio_weight.v - 10) * 9999 / 990));
  for (size_t i = 0; i < r->n_weight_dev; i++)
    cg_plan_add(p, "io", "io.weight", "io.bfq.weight", "linux.resources.blockIO.weightDevice",
                "%lld:%lld %llu", (long long) r->weight_dev[i].major, (long long) r->weight_dev[i].minor,
                (unsigned long long) (1 + (r->weight_dev[i].value - 10) * 9999 / 990));
  for (int t = 0; t < 4; t++)
    for (size_t i = 0; i < r->n_throttle[t]; i++)
      cg_plan_add(p, "io", "io.max", NULL, "linux.resources.blockIO", "%lld:%lld %s=%llu",
                  (long long) r->throttle[t][i].major, (long long) r->throttle[t][i].minor,
                  io_keys[t], (unsigned long long) r->throttle[t][i].value);
  for (size_t i = 0; i < r->n_unified; i++) {
    const char *dot = strchr(r->unified[i].key, '.');
    char ctrl[32];
    /* The controller is the file's prefix; "cgroup.*" files need none. */
    snprintf(ctrl, sizeof ctrl, "%.*s", (int) (dot - r->unified[i].key), r->unified[i].key);
    struct sbx_cg_write *w = cg_plan_add(p, strcmp(ctrl, "cgroup") ? ctrl : "",
                                         r->unified[i].key, NULL, "linux.resources.unified", "%s", r->unified[i].value);
    if (w && strlen(r->unified[i].value) >= sizeof w->value)
      return sh_err(e, E2BIG, "cgroup", "linux.resources.unified", "value of %s is too long", r->unified[i].key);
  }
  return 0;
}

static bool has_word(const char *list, const char *word)
{
  size_t n = strlen(word);
  for (const char *p = list; (p = strstr(p, word)); p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
      return true;
  return false;
}

int cg_v2_enable(const char *own, const char *leaf, const struct cg_plan *p, sh_error *e)
{
  char want[128] = "";
  for (size_t i = 0; i < p->n; i++) {
    const char *c = p->w[i].ctrl;
    if (c[0] && !has_word(want, c) && strlen(want) + strlen(c) + 3 < sizeof want) {
      strcat(want, want[0] ? " +" : "+");
      strcat(want, c);
    }
  }
  if (!want[0])
    return 0;
  /* Walk from our own cgroup down to the leaf's parent. */
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", own);
  const char *rest = leaf + strlen(own);
  for (;;) {
    char f[PATH_MAX];
    snprintf(f, sizeof f, "%s/cgroup.subtree_control", dir);
    _cleanup_free_ char *cur = NULL;
    if (sh_read_file_at(AT_FDCWD, f, &cur, NULL, e) < 0)
      return -e->err;
    char need[128] = "";
    for (char *tok = want, *end; *tok; tok = end) {
      end = strchr(tok, ' ');
      if (!end)
        end = tok + strlen(tok);
      char name[32];
      snprintf(name, sizeof name, "%.*s", (int) (end - tok - 1), tok + 1);
      if (!has_word(cur, name)) {
        strcat(need, need[0] ? " +" : "+");
        strcat(need, name);
      }
      while (*end == ' ')
        end++;
    }
    if (need[0] && sh_write_file_at(AT_FDCWD, f, need, NULL) < 0) {
      int err = errno;
      if (err == EBUSY)
        return sh_err(e, err, "enable cgroup controllers", f,
                      "'%s': this cgroup holds processes; run from a leaf cgroup so controllers can be delegated", need);
      return sh_err(e, err, "enable cgroup controllers", f,
                    "'%s' cannot be enabled here, so the limit cannot be enforced", need);
    }
    while (*rest == '/')
      rest++;
    const char *slash = strchr(rest, '/');
    if (!slash)
      break;
    size_t len = strlen(dir);
    snprintf(dir + len, sizeof dir - len, "/%.*s", (int) (slash - rest), rest);
    rest = slash;
  }
  return 0;
}
