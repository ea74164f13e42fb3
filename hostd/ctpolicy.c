/* Container network policies through netfw's BPF programs. */
#include "ctpolicy.h"

#include "cgroup.h"
#include "cleanup.h"
#include "db.h"
#include "tenant-cg.h"
#include "netpolicy.h"

#include <errno.h>
#include <sys/socket.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void pin_dir(const struct hd_host *h, int64_t container, char *out, size_t len)
{
  snprintf(out, len, "%s/c%" PRId64, h->cfg.bpf_dir, container);
}

int hd_policy_text(sqlite3 *db, int64_t container, char **text, sh_error *e)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, e,
    "SELECT c.policy, p.net_default FROM containers c JOIN tenants t ON t.id = c.tenant_id JOIN plans p ON p.id = t.plan_id"
    " WHERE c.id = ?", "i", container);
  if (!s)
    return -e->err;
  if (sqlite3_step(s) != SQLITE_ROW)
    return sh_err(e, ENOENT, "network policy", "container", "no container %" PRId64, container);
  if (sqlite3_column_type(s, 0) != SQLITE_NULL)
    *text = strdup((const char *) sqlite3_column_text(s, 0));
  else if (asprintf(text, "# the plan's default\ndefault out %s\ndefault in allow\n", sqlite3_column_text(s, 1)) < 0)
    *text = NULL;
  return *text ? 0 : sh_err(e, ENOMEM, "network policy", NULL, NULL);
}

/* A forward opens its port inbound, from anywhere: otherwise "default in
 * deny" would forward to a port the container's own program refuses.  A
 * rule of the tenant's for that port from anywhere decides instead. */
static int open_forwards(struct sh_netpolicy *p, sh_error *e)
{
  for (size_t i = 0; i < p->n_forwards; i++) {
    const struct sh_np_forward *f = &p->forwards[i];
    for (int fam = 0; fam < 2; fam++) {
      bool ruled = false;
      for (size_t k = 0; k < p->n_rules && !ruled; k++) {
        const struct sh_np_rule *r = &p->rules[k];
        ruled = r->dir == SH_NP_IN && r->prefix.len == 0 && r->prefix.family == (fam ? AF_INET6 : AF_INET) &&
                (r->proto == SH_NP_ANY || r->proto == f->proto) &&
                ((r->port_lo == 0 && r->port_hi == 0) || (r->port_lo <= f->port && f->port <= r->port_hi));
      }
      if (ruled)
        continue;
      struct sh_np_rule *n = realloc(p->rules, (p->n_rules + 1) * sizeof *n);
      if (!n)
        return sh_err(e, ENOMEM, "network policy", "forward", NULL);
      p->rules = n;
      n[p->n_rules++] = (struct sh_np_rule){ .action = SH_NP_ALLOW, .dir = SH_NP_IN, .proto = f->proto,
                                             .prefix = { .family = fam ? AF_INET6 : AF_INET }, .port_lo = f->port,
                                             .port_hi = f->port, .line = f->line, .col = f->col };
    }
  }
  return 0;
}

int hd_policy_apply(struct hd_host *h, sqlite3 *db, int64_t container, int64_t tenant, sh_error *e)
{
  _cleanup_free_ char *text = NULL;
  int r = hd_policy_text(db, container, &text, e);
  if (r < 0)
    return r;
  struct sh_netpolicy p = {0};
  if ((r = sh_netpolicy_parse(text, &p, e)) < 0 || (r = open_forwards(&p, e)) < 0) {
    sh_netpolicy_clear(&p);
    return r;
  }
  char pin[300], path[64];
  pin_dir(h, container, pin, sizeof pin);
  struct nf_bpf_policy *bp = NULL;
  char probe[320];
  snprintf(probe, sizeof probe, "%s/connect4", pin);
  /* Attached already (a live change): swap.  (Probing first keeps libbpf
   * from complaining about a missing pin.) */
  if (access(probe, F_OK) == 0 && nf_bpf_policy_open_pinned(pin, &bp, NULL) == 0) {
    r = nf_bpf_policy_update(bp, &p, e);
  } else {
    hd_cgroup_path(tenant, container, path, sizeof path);
    struct sbx_config cfg = { .cgroups_path = path };
    struct sbx_cgroup cg;
    nf_bpf_policy_remove(pin, NULL);   /* half-made pins of an interrupted attach */
    if ((r = sbx_cgroup_resolve(&cfg, path, &cg, e)) == 0) {
      r = nf_bpf_policy_attach(cg.unified, &p, pin, &bp, e);
      sbx_cgroup_clear(&cg);
    }
  }
  nf_bpf_policy_free(bp);
  sh_netpolicy_clear(&p);
  return r;
}

int hd_policy_remove(struct hd_host *h, int64_t container, sh_error *e)
{
  char pin[300];
  pin_dir(h, container, pin, sizeof pin);
  int r = nf_bpf_policy_remove(pin, e);
  if (r == 0)
    nf_bpf_policy_prune(h->cfg.bpf_dir, &(sh_error){0});
  return r;
}

int hd_policy_counters(struct hd_host *h, int64_t container, struct nf_counters *out, sh_error *e)
{
  char pin[300], probe[320];
  pin_dir(h, container, pin, sizeof pin);
  snprintf(probe, sizeof probe, "%s/counters", pin);
  if (access(probe, F_OK) < 0)
    return sh_errno(e, "policy counters", probe);
  struct nf_bpf_policy *bp = NULL;
  int r = nf_bpf_policy_open_pinned(pin, &bp, e);
  if (r == 0)
    r = nf_bpf_policy_counters(bp, out, e);
  nf_bpf_policy_free(bp);
  return r;
}
