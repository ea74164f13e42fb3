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
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#define N_PROGS 6

struct nf_bpf_policy {
  struct policy_bpf *skel;      /* programs we loaded; NULL when adopted from pins */
  struct bpf_link *links[N_PROGS];
  int counters_fd;              /* metering survives updates and restarts */
  int flows_fd;                 /* and so do the flows replies may come back on */
};

/* Pin names below the container's bpffs directory, in program order. */
static const char *const pin_names[N_PROGS] = {
  "connect4", "connect6", "sendmsg4", "sendmsg6", "count_in", "count_out",
};

_Static_assert(sizeof(struct sh_np_lpm_key) == 20, "the BPF key layout");
_Static_assert(sizeof(struct sh_np_lpm_value) == 4 + 8 * SH_NP_MAX_MATCH, "the BPF value layout");

static int fill(struct policy_bpf *s, const struct sh_netpolicy *p, sh_error *e)
{
  const struct { enum sh_np_dir dir; int family; struct bpf_map *map; } maps[] = {
    {SH_NP_OUT, AF_INET, s->maps.out4}, {SH_NP_OUT, AF_INET6, s->maps.out6},
    {SH_NP_IN, AF_INET, s->maps.in4}, {SH_NP_IN, AF_INET6, s->maps.in6},
  };
  for (size_t m = 0; m < SH_ARRAY_SIZE(maps); m++) {
    struct sh_np_compiled c;
    int r = sh_netpolicy_compile(p, maps[m].dir, maps[m].family, &c, e);
    if (r < 0)
      return r;
    int fd = bpf_map__fd(maps[m].map);
    for (size_t i = 0; i < c.n; i++)
      if (bpf_map_update_elem(fd, &c.keys[i], &c.values[i], BPF_ANY) < 0) {
        r = sh_errno(e, "fill policy map", bpf_map__name(maps[m].map));
        sh_np_compiled_clear(&c);
        return r;
      }
    sh_np_compiled_clear(&c);
  }
  /* config[0] is the outgoing default, config[1] the incoming one. */
  for (uint32_t k = 0; k < 2; k++) {
    uint64_t def = p->default_action[k == 0 ? SH_NP_OUT : SH_NP_IN];
    if (bpf_map_update_elem(bpf_map__fd(s->maps.config), &k, &def, BPF_ANY) < 0)
      return sh_errno(e, "fill policy map", "config");
  }
  return 0;
}

static struct bpf_program *prog(struct policy_bpf *s, int i)
{
  struct bpf_program *p[] = { s->progs.sandhost_connect4, s->progs.sandhost_connect6,
                              s->progs.sandhost_sendmsg4, s->progs.sandhost_sendmsg6,
                              s->progs.sandhost_count_in, s->progs.sandhost_count_out };
  return p[i];
}

/* prev: the handle whose programs are replaced (NULL for new ones): its
 * counters and flows carry over. */
static int load(const struct sh_netpolicy *p, const struct nf_bpf_policy *prev, struct policy_bpf **out,
                sh_error *e)
{
  struct policy_bpf *s = policy_bpf__open();
  if (!s)
    return sh_errno(e, "open policy programs", "netfw/bpf/policy.bpf.c");
  if (prev && (bpf_map__reuse_fd(s->maps.counters, prev->counters_fd) < 0 ||
               bpf_map__reuse_fd(s->maps.flows, prev->flows_fd) < 0)) {
    int r = sh_errno(e, "keep policy counters", "counters");
    policy_bpf__destroy(s);
    return r;
  }
  if (policy_bpf__load(s) < 0) {
    int r = sh_errno(e, "load policy programs", "netfw/bpf/policy.bpf.c");
    policy_bpf__destroy(s);
    return r;
  }
  int r = fill(s, p, e);
  if (r < 0) {
    policy_bpf__destroy(s);
    return r;
  }
  *out = s;
  return 0;
}

static struct nf_bpf_policy *new_handle(void)
{
  struct nf_bpf_policy *h = calloc(1, sizeof *h);
  if (h)
    h->counters_fd = h->flows_fd = -1;
  return h;
}

static int pin_all(struct nf_bpf_policy *h, const char *pin_dir, sh_error *e)
{
  char path[512];
  if (mkdir(pin_dir, 0700) < 0 && errno != EEXIST)
    return sh_errno(e, "create pin directory", pin_dir);
  for (int i = 0; i < N_PROGS; i++) {
    snprintf(path, sizeof path, "%s/%s", pin_dir, pin_names[i]);
    if (bpf_link__pin(h->links[i], path) < 0)
      return sh_errno(e, "pin policy link", path);
  }
  snprintf(path, sizeof path, "%s/counters", pin_dir);
  if (bpf_obj_pin(h->counters_fd, path) < 0)
    return sh_errno(e, "pin counters", path);
  snprintf(path, sizeof path, "%s/flows", pin_dir);
  if (bpf_obj_pin(h->flows_fd, path) < 0)
    return sh_errno(e, "pin flows", path);
  return 0;
}

int nf_bpf_policy_attach(const char *cgroup_dir, const struct sh_netpolicy *p, const char *pin_dir,
                         struct nf_bpf_policy **out, sh_error *e)
{
  struct nf_bpf_policy *h = new_handle();
  if (!h)
    return sh_err(e, ENOMEM, "attach policy", cgroup_dir, NULL);
  int r = load(p, NULL, &h->skel, e);
  if (r < 0) {
    free(h);
    return r;
  }
  h->counters_fd = fcntl(bpf_map__fd(h->skel->maps.counters), F_DUPFD_CLOEXEC, 3);
  h->flows_fd = fcntl(bpf_map__fd(h->skel->maps.flows), F_DUPFD_CLOEXEC, 3);
  _cleanup_close_ int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) {
    r = sh_errno(e, "open cgroup", cgroup_dir);
    nf_bpf_policy_free(h);
    return r;
  }
  for (int i = 0; i < N_PROGS; i++) {
    h->links[i] = bpf_program__attach_cgroup(prog(h->skel, i), cg);
    if (!h->links[i]) {
      r = sh_err(e, errno, "attach policy program", cgroup_dir, "%s", bpf_program__name(prog(h->skel, i)));
      nf_bpf_policy_free(h);
      return r;
    }
  }
  if (pin_dir && (r = pin_all(h, pin_dir, e)) < 0) {
    nf_bpf_policy_free(h);
    nf_bpf_policy_remove(pin_dir, NULL);
    return r;
  }
  *out = h;
  return 0;
}

int nf_bpf_policy_open_pinned(const char *pin_dir, struct nf_bpf_policy **out, sh_error *e)
{
  char path[512];
  struct nf_bpf_policy *h = new_handle();
  if (!h)
    return sh_err(e, ENOMEM, "open pinned policy", pin_dir, NULL);
  for (int i = 0; i < N_PROGS; i++) {
    snprintf(path, sizeof path, "%s/%s", pin_dir, pin_names[i]);
    if (!(h->links[i] = bpf_link__open(path))) {
      int r = sh_errno(e, "open pinned policy", path);
      nf_bpf_policy_free(h);
      return r;
    }
  }
  snprintf(path, sizeof path, "%s/counters", pin_dir);
  if ((h->counters_fd = bpf_obj_get(path)) < 0) {
    int r = sh_errno(e, "open pinned counters", path);
    nf_bpf_policy_free(h);
    return r;
  }
  snprintf(path, sizeof path, "%s/flows", pin_dir);
  if ((h->flows_fd = bpf_obj_get(path)) < 0) {
    int r = sh_errno(e, "open pinned flows", path);
    nf_bpf_policy_free(h);
    return r;
  }
  *out = h;
  return 0;
}

int nf_bpf_policy_remove(const char *pin_dir, sh_error *e)
{
  char path[512];
  int ret = 0;
  for (int i = 0; i < N_PROGS; i++) {
    snprintf(path, sizeof path, "%s/%s", pin_dir, pin_names[i]);
    struct bpf_link *l = access(path, F_OK) == 0 ? bpf_link__open(path) : NULL;
    if (l) {
      bpf_link__detach(l);  /* off the cgroup now, whoever else holds it */
      bpf_link__destroy(l);
    }
    if (unlink(path) < 0 && errno != ENOENT && ret == 0)
      ret = sh_errno(e, "unpin policy link", path);
  }
  static const char *const maps[] = { "counters", "flows" };
  for (size_t i = 0; i < SH_ARRAY_SIZE(maps); i++) {
    snprintf(path, sizeof path, "%s/%s", pin_dir, maps[i]);
    if (unlink(path) < 0 && errno != ENOENT && ret == 0)
      ret = sh_errno(e, "unpin map", path);
  }
  if (rmdir(pin_dir) < 0 && errno != ENOENT && ret == 0)
    ret = sh_errno(e, "remove pin directory", pin_dir);
  return ret;
}

int nf_bpf_policy_update(struct nf_bpf_policy *h, const struct sh_netpolicy *p, sh_error *e)
{
  struct policy_bpf *next = NULL;
  int r = load(p, h, &next, e);
  if (r < 0)
    return r;
  for (int i = 0; i < N_PROGS; i++)
    if (bpf_link__update_program(h->links[i], prog(next, i)) < 0) {
      /* Links already moved keep working: put them back on the old programs. */
      r = sh_err(e, errno, "swap policy program", bpf_program__name(prog(next, i)), NULL);
      while (h->skel && i-- > 0)
        bpf_link__update_program(h->links[i], prog(h->skel, i));
      policy_bpf__destroy(next);
      return r;
    }
  policy_bpf__destroy(h->skel);
  h->skel = next;
  return 0;
}

int nf_bpf_policy_counters(const struct nf_bpf_policy *h, struct nf_counters *out, sh_error *e)
{
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0)
    return sh_err(e, EINVAL, "read counters", "possible cpus", NULL);
  struct { uint64_t bytes, packets; } *v = calloc((size_t) ncpu, sizeof *v);
  if (!v)
    return sh_err(e, ENOMEM, "read counters", NULL, NULL);
  uint64_t sums[4][2] = {{0}};
  for (uint32_t k = 0; k < 4; k++) {
    if (bpf_map_lookup_elem(h->counters_fd, &k, v) < 0) {
      free(v);
      return sh_errno(e, "read counters", "counters");
    }
    for (int c = 0; c < ncpu; c++) {
      sums[k][0] += v[c].bytes;
      sums[k][1] += v[c].packets;
    }
  }
  free(v);
  *out = (struct nf_counters) { sums[0][0], sums[0][1], sums[1][0], sums[1][1], sums[2][1], sums[3][1] };
  return 0;
}

void nf_bpf_policy_free(struct nf_bpf_policy *h)
{
  if (!h)
    return;
  /* Closing a link detaches it unless a pin still holds it. */
  for (int i = 0; i < N_PROGS; i++)
    if (h->links[i])
      bpf_link__destroy(h->links[i]);
  if (h->counters_fd >= 0)
    close(h->counters_fd);
  if (h->flows_fd >= 0)
    close(h->flows_fd);
  policy_bpf__destroy(h->skel);
  free(h);
}
