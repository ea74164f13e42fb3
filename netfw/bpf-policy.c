/* Loading, filling and swapping the socket-layer policy programs. */
#include "bpf-policy.h"
#include "cleanup.h"
#include "netpolicy-compile.h"
#include "policy.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct nf_bpf_policy {
  struct policy_bpf *skel;      /* the programs the links run now */
  struct bpf_link *links[4];
};

_Static_assert(sizeof(struct sh_np_lpm_key) == 20, "the BPF key layout");
_Static_assert(sizeof(struct sh_np_lpm_value) == 4 + 8 * SH_NP_MAX_MATCH, "the BPF value layout");

static int fill(struct policy_bpf *s, const struct sh_netpolicy *p, sh_error *e)
{
  static const int families[] = { AF_INET, AF_INET6 };
  for (size_t f = 0; f < 2; f++) {
    struct sh_np_compiled c;
    int r = sh_netpolicy_compile(p, SH_NP_OUT, families[f], &c, e);
    if (r < 0)
      return r;
    int fd = bpf_map__fd(f == 0 ? s->maps.out4 : s->maps.out6);
    for (size_t i = 0; i < c.n; i++)
      if (bpf_map_update_elem(fd, &c.keys[i], &c.values[i], BPF_ANY) < 0) {
        r = sh_errno(e, "fill policy map", f == 0 ? "out4" : "out6");
        sh_np_compiled_clear(&c);
        return r;
      }
    sh_np_compiled_clear(&c);
  }
  uint32_t k = 0;
  uint64_t def = p->default_action[SH_NP_OUT];
  if (bpf_map_update_elem(bpf_map__fd(s->maps.config), &k, &def, BPF_ANY) < 0)
    return sh_errno(e, "fill policy map", "config");
  return 0;
}

static struct bpf_program *prog(struct policy_bpf *s, int i)
{
  struct bpf_program *p[] = { s->progs.sandhost_connect4, s->progs.sandhost_connect6,
                              s->progs.sandhost_sendmsg4, s->progs.sandhost_sendmsg6 };
  return p[i];
}

static int load(const struct sh_netpolicy *p, struct policy_bpf **out, sh_error *e)
{
  struct policy_bpf *s = policy_bpf__open_and_load();
  if (!s)
    return sh_errno(e, "load policy programs", "netfw/bpf/policy.bpf.c");
  int r = fill(s, p, e);
  if (r < 0) {
    policy_bpf__destroy(s);
    return r;
  }
  *out = s;
  return 0;
}

int nf_bpf_policy_attach(const char *cgroup_dir, const struct sh_netpolicy *p,
                         struct nf_bpf_policy **out, sh_error *e)
{
  struct nf_bpf_policy *h = calloc(1, sizeof *h);
  if (!h)
    return sh_err(e, ENOMEM, "attach policy", cgroup_dir, NULL);
  int r = load(p, &h->skel, e);
  if (r < 0) {
    free(h);
    return r;
  }
  _cleanup_close_ int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) {
    r = sh_errno(e, "open cgroup", cgroup_dir);
    nf_bpf_policy_free(h);
    return r;
  }
  for (int i = 0; i < 4; i++) {
    h->links[i] = bpf_program__attach_cgroup(prog(h->skel, i), cg);
    if (!h->links[i]) {
      r = sh_err(e, errno, "attach policy program", cgroup_dir, "%s", bpf_program__name(prog(h->skel, i)));
      nf_bpf_policy_free(h);
      return r;
    }
  }
  *out = h;
  return 0;
}

int nf_bpf_policy_update(struct nf_bpf_policy *h, const struct sh_netpolicy *p, sh_error *e)
{
  struct policy_bpf *next = NULL;
  int r = load(p, &next, e);
  if (r < 0)
    return r;
  for (int i = 0; i < 4; i++)
    if (bpf_link__update_program(h->links[i], prog(next, i)) < 0) {
      /* Links already moved keep working: put them back on the old programs. */
      r = sh_err(e, errno, "swap policy program", bpf_program__name(prog(next, i)), NULL);
      while (i-- > 0)
        bpf_link__update_program(h->links[i], prog(h->skel, i));
      policy_bpf__destroy(next);
      return r;
    }
  policy_bpf__destroy(h->skel);
  h->skel = next;
  return 0;
}

uint64_t nf_bpf_policy_denied(const struct nf_bpf_policy *h)
{
  uint32_t k = 1;
  uint64_t v = 0;
  bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.config), &k, &v);
  return v;
}

void nf_bpf_policy_free(struct nf_bpf_policy *h)
{
  if (!h)
    return;
  for (int i = 0; i < 4; i++)
    if (h->links[i])
      bpf_link__destroy(h->links[i]);
  policy_bpf__destroy(h->skel);
  free(h);
}
