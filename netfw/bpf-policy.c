/* The socket-layer policy programs: one set per host, loaded (and verified)
 * once and pinned, attached to each container's cgroup through links; a
 * container's policy is its entries in the set's maps, keyed by its cgroup
 * id, so attaching or changing one loads no program. */
#include "bpf-policy.h"
#include "cleanup.h"
#include "netpolicy-compile.h"
#include "policy.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#define N_PROGS NF_BPF_HOOKS
/* The maps a container has entries in, pinned again in its own directory. */
enum { M_OUT4, M_OUT6, M_IN4, M_IN6, M_CONFIG, M_COUNTERS, N_MAPS };
static const char *const map_names[N_MAPS] = { "out4", "out6", "in4", "in6", "config", "counters" };

/* Link pin names below the container's bpffs directory, in program order,
 * with the hook each program takes. */
static const struct { const char *name; enum bpf_attach_type type; } hooks[N_PROGS] = {
  { "connect4", BPF_CGROUP_INET4_CONNECT }, { "connect6", BPF_CGROUP_INET6_CONNECT },
  { "sendmsg4", BPF_CGROUP_UDP4_SENDMSG }, { "sendmsg6", BPF_CGROUP_UDP6_SENDMSG },
  { "count_in", BPF_CGROUP_INET_INGRESS }, { "count_out", BPF_CGROUP_INET_EGRESS },
};

/* Layouts of netfw/bpf/policy.bpf.c. */
struct conf {
  uint8_t def_out, def_in, track, gen, pad[4];
};
struct counter {
  uint64_t bytes, packets;
};

_Static_assert(sizeof(struct sh_np_lpm_key) == 20, "the BPF key layout");
_Static_assert(sizeof(struct sh_np_lpm_value) == 4 + 8 * SH_NP_MAX_MATCH, "the BPF value layout");

struct nf_bpf_policy {
  uint64_t cgroup;              /* the container's cgroup id: its key in every map */
  int maps[N_MAPS];
  int links[N_PROGS];
  bool pinned;                  /* the links outlive the handle */
};

/* ---- the program set ---- */

struct set {
  unsigned level;
  char dir[300];                /* where it is pinned; "" when it is not */
  int progs[N_PROGS];
  int maps[N_MAPS];
};

static pthread_mutex_t sets_lock = PTHREAD_MUTEX_INITIALIZER;
static struct set *sets[16];
static size_t n_sets;

static void close_fds(int *fds, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0) {
      close(fds[i]);
      fds[i] = -1;
    }
}

static struct bpf_program *skel_prog(struct policy_bpf *s, int i)
{
  struct bpf_program *p[] = { s->progs.sandhost_connect4, s->progs.sandhost_connect6,
                              s->progs.sandhost_sendmsg4, s->progs.sandhost_sendmsg6,
                              s->progs.sandhost_count_in, s->progs.sandhost_count_out };
  return p[i];
}

static struct bpf_map *skel_map(struct policy_bpf *s, int i)
{
  struct bpf_map *m[] = { s->maps.out4, s->maps.out6, s->maps.in4, s->maps.in6, s->maps.config, s->maps.counters };
  return m[i];
}

/* Load and verify the programs for containers at cgroup level `level`; the
 * fds are the caller's (the skeleton is gone). */
static int set_load(struct set *st, sh_error *e)
{
  struct policy_bpf *s = policy_bpf__open();
  if (!s)
    return sh_errno(e, "open policy programs", "netfw/bpf/policy.bpf.c");
  s->rodata->level = st->level;
  if (policy_bpf__load(s) < 0) {
    int r = sh_errno(e, "load policy programs", "netfw/bpf/policy.bpf.c");
    policy_bpf__destroy(s);
    return r;
  }
  int r = 0;
  for (int i = 0; i < N_PROGS && r == 0; i++)
    if ((st->progs[i] = fcntl(bpf_program__fd(skel_prog(s, i)), F_DUPFD_CLOEXEC, 3)) < 0)
      r = sh_errno(e, "keep policy program", bpf_program__name(skel_prog(s, i)));
  for (int i = 0; i < N_MAPS && r == 0; i++)
    if ((st->maps[i] = fcntl(bpf_map__fd(skel_map(s, i)), F_DUPFD_CLOEXEC, 3)) < 0)
      r = sh_errno(e, "keep policy map", map_names[i]);
  /* The flows LRU is referenced by the programs alone. */
  policy_bpf__destroy(s);
  return r;
}

static int pin_fds(const char *dir, const int *progs, const int *maps, sh_error *e)
{
  char path[400];
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return sh_errno(e, "create pin directory", dir);
  for (int i = 0; progs && i < N_PROGS; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, hooks[i].name);
    if (bpf_obj_pin(progs[i], path) < 0)
      return sh_errno(e, "pin", path);
  }
  for (int i = 0; i < N_MAPS; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, map_names[i]);
    if (bpf_obj_pin(maps[i], path) < 0)
      return sh_errno(e, "pin", path);
  }
  return 0;
}

static int open_pins(const char *dir, int *progs, int *maps, sh_error *e)
{
  char path[400];
  for (int i = 0; progs && i < N_PROGS; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, hooks[i].name);
    if ((progs[i] = bpf_obj_get(path)) < 0)
      return sh_errno(e, "open pinned", path);
  }
  for (int i = 0; i < N_MAPS; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, map_names[i]);
    if ((maps[i] = bpf_obj_get(path)) < 0)
      return sh_errno(e, "open pinned", path);
  }
  /* A directory of an older layout (per-container programs) has maps of
   * other kinds under these names. */
  struct bpf_map_info info = {0};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(maps[M_COUNTERS], &info, &len) < 0 || info.type != BPF_MAP_TYPE_PERCPU_HASH)
    return sh_err(e, EPROTO, "open pinned", dir, "pinned by another version of the policy programs");
  return 0;
}

/* Everything below a pin directory goes (pins only: no subdirectories). */
static int unpin_dir(const char *dir, sh_error *e)
{
  _cleanup_closedir_ DIR *d = opendir(dir);
  if (!d)
    return errno == ENOENT ? 0 : sh_errno(e, "open pin directory", dir);
  struct dirent *de;
  int r = 0;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
      r = sh_errno(e, "unpin", de->d_name);
  if (rmdir(dir) < 0 && errno != ENOENT && r == 0)
    r = sh_errno(e, "remove pin directory", dir);
  return r;
}

/* The set's pins are named for its level and its object's bytes, so an
 * upgraded daemon with other programs pins a set of its own beside. */
static void set_dir(const char *root, unsigned level, char *out, size_t len)
{
  size_t sz;
  const unsigned char *b = policy_bpf__elf_bytes(&sz);
  uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
  for (size_t i = 0; i < sz; i++)
    h = (h ^ b[i]) * 1099511628211ULL;
  snprintf(out, len, "%s/set-L%u-%016" PRIx64, root, level, h);
}

/* The set for a level: this process's, or the pinned one under root, or a
 * new one (pinned under root when there is one).  Processes racing to pin
 * one: each pins a private directory and renames it; the loser uses the
 * winner's. */
static struct set *set_get(unsigned level, const char *root, sh_error *e)
{
  pthread_mutex_lock(&sets_lock);
  char dir[300] = "";
  if (root)
    set_dir(root, level, dir, sizeof dir);
  for (size_t i = 0; i < n_sets; i++)
    if (sets[i]->level == level && strcmp(sets[i]->dir, dir) == 0) {
      pthread_mutex_unlock(&sets_lock);
      return sets[i];
    }
  struct set *st = calloc(1, sizeof *st);
  int r = st && n_sets < SH_ARRAY_SIZE(sets) ? 0 : sh_err(e, ENOMEM, "policy programs", root, "too many program sets");
  if (r == 0) {
    st->level = level;
    snprintf(st->dir, sizeof st->dir, "%s", dir);
    memset(st->progs, -1, sizeof st->progs);
    memset(st->maps, -1, sizeof st->maps);
    sh_error ig = {0};
    if (!dir[0] || open_pins(dir, st->progs, st->maps, &ig) < 0) {
      close_fds(st->progs, N_PROGS);
      close_fds(st->maps, N_MAPS);
      r = set_load(st, e);
      if (r == 0 && dir[0]) {
        char tmp[340];
        snprintf(tmp, sizeof tmp, "%s/new-%d", root, (int) getpid());   /* bpffs refuses names with a dot */
        unpin_dir(tmp, &ig);
        r = pin_fds(tmp, st->progs, st->maps, e);
        if (r == 0 && rename(tmp, dir) < 0) {
          /* Another process pinned it first (or a broken one is there). */
          unpin_dir(tmp, &ig);
          close_fds(st->progs, N_PROGS);
          close_fds(st->maps, N_MAPS);
          if (open_pins(dir, st->progs, st->maps, e) < 0) {
            unpin_dir(dir, &ig);
            r = set_load(st, e);
            if (r == 0)
              r = pin_fds(dir, st->progs, st->maps, e);
          }
        } else if (r < 0) {
          unpin_dir(tmp, &ig);
        }
      }
    }
  }
  if (r < 0) {
    if (st) {
      close_fds(st->progs, N_PROGS);
      close_fds(st->maps, N_MAPS);
    }
    free(st);
    st = NULL;
  } else {
    sets[n_sets++] = st;
  }
  pthread_mutex_unlock(&sets_lock);
  return st;
}

/* ---- a container's entries ---- */

/* The cgroup's id (its inode on cgroup2) and its level below the root of
 * the cgroup2 mount. */
static int cgroup_ident(int fd, const char *dir, uint64_t *id, unsigned *level, sh_error *e)
{
  struct stat st;
  if (fstat(fd, &st) < 0)
    return sh_errno(e, "stat cgroup", dir);
  *id = st.st_ino;
  *level = 0;
  _cleanup_close_ int cur = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  for (;;) {
    int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat us, cs;
    if (up < 0)
      return sh_errno(e, "walk up the cgroup tree", dir);
    if (fstat(up, &us) < 0 || fstat(cur, &cs) < 0 || us.st_dev != cs.st_dev || us.st_ino == cs.st_ino) {
      close(up);
      return 0;
    }
    close(cur);
    cur = up;
    (*level)++;
  }
}

/* A key of the shared rule tries (netfw/bpf/policy.bpf.c). */
struct pkey {
  uint32_t prefixlen;
  uint8_t cg[8];
  uint8_t gen;
  uint8_t addr[16];
  uint8_t pad[3];
};
_Static_assert(sizeof(struct pkey) == 32, "the BPF trie key layout");

/* Delete a container's rules of one generation (gen < 0: all of them).
 * The tries are walked whole: policies change and containers stop far
 * less often than they connect. */
static int purge(const int *maps, uint64_t cg, int gen, sh_error *e)
{
  for (int m = M_OUT4; m <= M_IN6; m++) {
    struct pkey cur, next, *doomed = NULL;
    size_t n = 0;
    void *prev = NULL;
    while (bpf_map_get_next_key(maps[m], prev, &next) == 0) {
      if (memcmp(next.cg, &cg, 8) == 0 && (gen < 0 || next.gen == gen)) {
        struct pkey *d = realloc(doomed, (n + 1) * sizeof *d);
        if (!d) {
          free(doomed);
          return sh_err(e, ENOMEM, "remove policy rules", map_names[m], NULL);
        }
        doomed = d;
        doomed[n++] = next;
      }
      cur = next;
      prev = &cur;
    }
    for (size_t i = 0; i < n; i++)
      bpf_map_delete_elem(maps[m], &doomed[i]);
    free(doomed);
  }
  return 0;
}

/* Whether the incoming rules can refuse anything (then replies must be
 * told from new traffic, and the container's flows are tracked). */
static bool filters_in(const struct sh_netpolicy *p)
{
  if (p->default_action[SH_NP_IN] == SH_NP_DENY)
    return true;
  for (size_t i = 0; i < p->n_rules; i++)
    if (p->rules[i].dir == SH_NP_IN && p->rules[i].action == SH_NP_DENY)
      return true;
  return false;
}

/* The container's rules under the generation not in force, then its conf
 * naming that generation (one update: the whole policy changes at once).
 * Rules of the generation before are purged first; those of the one just
 * replaced stay, unreachable, until the next change or removal. */
static int put_policy(const int *maps, uint64_t cg, const struct sh_netpolicy *p, sh_error *e)
{
  static const struct { int map; enum sh_np_dir dir; int family; } rm[] = {
    { M_OUT4, SH_NP_OUT, AF_INET }, { M_OUT6, SH_NP_OUT, AF_INET6 }, { M_IN4, SH_NP_IN, AF_INET }, { M_IN6, SH_NP_IN, AF_INET6 },
  };
  struct conf old;
  bool had = bpf_map_lookup_elem(maps[M_CONFIG], &cg, &old) == 0;
  uint8_t gen = had ? !old.gen : 0;
  int r = had ? purge(maps, cg, gen, e) : 0;
  for (size_t m = 0; m < SH_ARRAY_SIZE(rm) && r == 0; m++) {
    struct sh_np_compiled c;
    if ((r = sh_netpolicy_compile(p, rm[m].dir, rm[m].family, &c, e)) < 0)
      break;
    for (size_t i = 0; i < c.n && r == 0; i++) {
      struct pkey k = { .prefixlen = 72 + c.keys[i].prefixlen, .gen = gen };
      memcpy(k.cg, &cg, 8);
      memcpy(k.addr, c.keys[i].addr, 16);
      if (bpf_map_update_elem(maps[rm[m].map], &k, &c.values[i], BPF_ANY) < 0)
        r = sh_errno(e, "fill policy map", map_names[rm[m].map]);
    }
    sh_np_compiled_clear(&c);
  }
  struct conf c = { .def_out = p->default_action[SH_NP_OUT] == SH_NP_DENY, .def_in = p->default_action[SH_NP_IN] == SH_NP_DENY,
                    .track = filters_in(p), .gen = gen };
  if (r == 0 && bpf_map_update_elem(maps[M_CONFIG], &cg, &c, BPF_ANY) < 0)
    r = sh_errno(e, "install policy", "config");
  return r;
}

static void drop_entries(const int *maps, uint64_t cg)
{
  purge(maps, cg, -1, &(sh_error){0});
  bpf_map_delete_elem(maps[M_CONFIG], &cg);
  bpf_map_delete_elem(maps[M_COUNTERS], &cg);
}

static struct nf_bpf_policy *new_handle(void)
{
  struct nf_bpf_policy *h = calloc(1, sizeof *h);
  if (h) {
    memset(h->maps, -1, sizeof h->maps);
    memset(h->links, -1, sizeof h->links);
  }
  return h;
}

int nf_bpf_policy_attach(const char *cgroup_dir, const struct sh_netpolicy *p, const char *pin_dir,
                         struct nf_bpf_policy **out, sh_error *e)
{
  _cleanup_close_ int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0)
    return sh_errno(e, "open cgroup", cgroup_dir);
  uint64_t id = 0;
  unsigned level = 0;
  int r = cgroup_ident(cg, cgroup_dir, &id, &level, e);
  if (r < 0)
    return r;
  char root[300] = "";
  if (pin_dir) {
    snprintf(root, sizeof root, "%s", pin_dir);
    char *slash = strrchr(root, '/');
    if (!slash || slash == root)
      return sh_err(e, EINVAL, "attach policy", pin_dir, "a pin directory below a bpffs directory");
    *slash = 0;
  }
  struct set *st = set_get(level, pin_dir ? root : NULL, e);
  if (!st)
    return -e->err;
  struct nf_bpf_policy *h = new_handle();
  if (!h)
    return sh_err(e, ENOMEM, "attach policy", cgroup_dir, NULL);
  h->cgroup = id;
  for (int i = 0; i < N_MAPS && r == 0; i++)
    if ((h->maps[i] = fcntl(st->maps[i], F_DUPFD_CLOEXEC, 3)) < 0)
      r = sh_errno(e, "attach policy", map_names[i]);
  /* Entries first, then the links: an attached program always finds them.
   * Counters a crashed attach left are kept (they never go backwards). */
  struct counter zero[4] = {{0}};
  int ncpu = libbpf_num_possible_cpus();
  _cleanup_free_ struct counter *init = ncpu > 0 ? calloc((size_t) ncpu, sizeof zero) : NULL;
  if (r == 0 && !init)
    r = sh_err(e, ENOMEM, "attach policy", "counters", NULL);
  if (r == 0 && bpf_map_update_elem(h->maps[M_COUNTERS], &id, init, BPF_NOEXIST) < 0 && errno != EEXIST)
    r = sh_errno(e, "attach policy", "counters");
  if (r == 0)
    r = put_policy(h->maps, id, p, e);
  for (int i = 0; i < N_PROGS && r == 0; i++)
    if ((h->links[i] = bpf_link_create(st->progs[i], cg, hooks[i].type, NULL)) < 0)
      r = sh_errno(e, "attach policy program", hooks[i].name);
  if (r == 0 && pin_dir) {
    if ((r = pin_fds(pin_dir, h->links, h->maps, e)) < 0)
      unpin_dir(pin_dir, &(sh_error){0});
    else
      h->pinned = true;
  }
  if (r < 0) {
    close_fds(h->links, N_PROGS);   /* unpinned: closing detaches */
    drop_entries(h->maps, id);
    nf_bpf_policy_free(h);
    return r;
  }
  *out = h;
  return 0;
}

int nf_bpf_policy_open_pinned(const char *pin_dir, struct nf_bpf_policy **out, sh_error *e)
{
  struct nf_bpf_policy *h = new_handle();
  if (!h)
    return sh_err(e, ENOMEM, "open pinned policy", pin_dir, NULL);
  h->pinned = true;
  int r = open_pins(pin_dir, h->links, h->maps, e);
  /* The cgroup from the first link still attached (one may have been
   * detached behind our back: the audit wants to say so, not fail). */
  for (int i = 0; r == 0 && i < N_PROGS && !h->cgroup; i++) {
    struct bpf_link_info info = {0};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(h->links[i], &info, &len) == 0)
      h->cgroup = info.cgroup.cgroup_id;
  }
  if (r == 0 && !h->cgroup)
    r = sh_err(e, ENOLINK, "open pinned policy", pin_dir, "no link is attached to a cgroup any more");
  if (r < 0) {
    nf_bpf_policy_free(h);
    return r;
  }
  *out = h;
  return 0;
}

int nf_bpf_policy_remove(const char *pin_dir, sh_error *e)
{
  char path[400];
  uint64_t id = 0;
  for (int i = 0; i < N_PROGS; i++) {
    snprintf(path, sizeof path, "%s/%s", pin_dir, hooks[i].name);
    int fd = access(path, F_OK) == 0 ? bpf_obj_get(path) : -1;
    if (fd < 0)
      continue;
    struct bpf_link_info info = {0};
    uint32_t len = sizeof info;
    if (!id && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == BPF_LINK_TYPE_CGROUP)
      id = info.cgroup.cgroup_id;
    bpf_link_detach(fd);   /* off the cgroup now, whoever else holds it */
    close(fd);
  }
  int maps[N_MAPS];
  memset(maps, -1, sizeof maps);
  for (int i = 0; id && i < N_MAPS; i++) {
    snprintf(path, sizeof path, "%s/%s", pin_dir, map_names[i]);
    maps[i] = access(path, F_OK) == 0 ? bpf_obj_get(path) : -1;
  }
  struct bpf_map_info info = {0};
  uint32_t len = sizeof info;
  if (maps[M_COUNTERS] >= 0 && bpf_obj_get_info_by_fd(maps[M_COUNTERS], &info, &len) == 0 && info.type == BPF_MAP_TYPE_PERCPU_HASH)
    drop_entries(maps, id);
  close_fds(maps, N_MAPS);
  return unpin_dir(pin_dir, e);
}

int nf_bpf_policy_prune(const char *root, sh_error *e)
{
  _cleanup_closedir_ DIR *d = opendir(root);
  if (!d)
    return errno == ENOENT ? 0 : sh_errno(e, "open pin directory", root);
  struct dirent *de;
  size_t n = 0;
  char sets_found[8][300];
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.' || de->d_type != DT_DIR)   /* bpffs's own maps.debug, progs.debug */
      continue;
    if (strncmp(de->d_name, "set-", 4) != 0)
      return 0;   /* a container's: its set stays */
    if (n < SH_ARRAY_SIZE(sets_found))
      snprintf(sets_found[n++], sizeof sets_found[0], "%s/%s", root, de->d_name);
  }
  int r = 0;
  for (size_t i = 0; i < n; i++)
    if (unpin_dir(sets_found[i], e) < 0)
      r = -e->err;
  return r;
}

int nf_bpf_policy_update(struct nf_bpf_policy *h, const struct sh_netpolicy *p, sh_error *e)
{
  return put_policy(h->maps, h->cgroup, p, e);
}

int nf_bpf_policy_counters(const struct nf_bpf_policy *h, struct nf_counters *out, sh_error *e)
{
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0)
    return sh_err(e, EINVAL, "read counters", "possible cpus", NULL);
  _cleanup_free_ struct counter *v = calloc((size_t) ncpu * 4, sizeof *v);
  if (!v)
    return sh_err(e, ENOMEM, "read counters", NULL, NULL);
  if (bpf_map_lookup_elem(h->maps[M_COUNTERS], &h->cgroup, v) < 0)
    return sh_errno(e, "read counters", "counters");
  uint64_t sums[4][2] = {{0}};
  for (int c = 0; c < ncpu; c++)
    for (int k = 0; k < 4; k++) {
      sums[k][0] += v[c * 4 + k].bytes;
      sums[k][1] += v[c * 4 + k].packets;
    }
  *out = (struct nf_counters) { sums[0][0], sums[0][1], sums[1][0], sums[1][1], sums[2][1], sums[3][1] };
  return 0;
}

int nf_bpf_policy_audit(const char *cgroup_dir, const char *pin_dir, struct nf_bpf_audit *out, sh_error *e)
{
  *out = (struct nf_bpf_audit){0};
  for (int i = 0; i < N_PROGS; i++)
    out->hook[i] = hooks[i].name;
  _cleanup_close_ int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0)
    return sh_errno(e, "open cgroup", cgroup_dir);
  struct stat st;
  if (fstat(cg, &st) < 0)
    return sh_errno(e, "stat cgroup", cgroup_dir);
  uint64_t id = st.st_ino;
  struct nf_bpf_policy *h = NULL;
  int r = nf_bpf_policy_open_pinned(pin_dir, &h, e);
  for (int i = 0; i < N_PROGS; i++) {
    uint32_t ids[64], cnt = SH_ARRAY_SIZE(ids), flags = 0;
    if (bpf_prog_query(cg, hooks[i].type, 0, &flags, ids, &cnt) < 0)
      cnt = 0;
    struct bpf_link_info li = {0};
    uint32_t len = sizeof li;
    bool have = h && bpf_obj_get_info_by_fd(h->links[i], &li, &len) == 0;
    for (uint32_t k = 0; k < cnt; k++) {
      if (have && ids[k] == li.prog_id)
        out->attached[i] = true;
      else
        out->others[i]++;
    }
  }
  if (r < 0)
    return r;   /* the hooks say what runs; the maps need the pins */
  struct conf c;
  if (h->cgroup == id && bpf_map_lookup_elem(h->maps[M_CONFIG], &id, &c) == 0) {
    out->entry = true;
    out->deny_out = c.def_out;
    out->deny_in = c.def_in;
    out->track = c.track;
    for (int m = M_OUT4; m <= M_IN6; m++) {
      struct pkey cur, next;
      void *prev = NULL;
      while (bpf_map_get_next_key(h->maps[m], prev, &next) == 0) {
        if (memcmp(next.cg, &id, 8) == 0 && next.gen == c.gen)
          out->rules[m - M_OUT4]++;
        cur = next;
        prev = &cur;
      }
    }
    nf_bpf_policy_counters(h, &out->counters, NULL);
  }
  nf_bpf_policy_free(h);
  return 0;
}

void nf_bpf_policy_free(struct nf_bpf_policy *h)
{
  if (!h)
    return;
  /* Closing an unpinned link detaches it; its entries go with it. */
  bool attached = h->links[0] >= 0;
  close_fds(h->links, N_PROGS);
  if (!h->pinned && attached)
    drop_entries(h->maps, h->cgroup);
  close_fds(h->maps, N_MAPS);
  free(h);
}
