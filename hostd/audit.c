/* The security audit (hostd/audit.h): gathered from the database and the
 * kernel, never from what sandhostd believes it did. */
#include "audit.h"

#include "bpf-policy.h"
#include "cgroup.h"
#include "cleanup.h"
#include "ctpolicy.h"
#include "db.h"
#include "fdutil.h"
#include "ipam.h"
#include "log.h"
#include "netpolicy.h"
#include "netpolicy-compile.h"
#include "nft.h"
#include "rtspawn.h"
#include "tenant-cg.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <selinux/selinux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

static struct hd_host *host;

void hd_audit_init(struct hd_host *h)
{
  host = h;
}

/* ---- findings ---- */

enum sev { HIGH, MEDIUM, LOW, INFO };
static const char *const sev_names[] = { "high", "medium", "low", "info" };

struct audit {
  json_t *findings;
  int counts[4];
  bool probe;          /* run the probe inside running containers */
};

static void finding(struct audit *a, enum sev s, const char *scope, const char *check, const char *fix, const char *fmt, ...)
  __attribute__((format(printf, 6, 7)));

static void finding(struct audit *a, enum sev s, const char *scope, const char *check, const char *fix, const char *fmt, ...)
{
  char detail[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  a->counts[s]++;
  json_array_append_new(a->findings, json_pack("{s:s, s:s, s:s, s:s, s:s}", "severity", sev_names[s], "scope", scope, "check",
                                               check, "detail", detail, "fix", fix));
}

/* ---- host facts ---- */

static const char *selinux_mode(void)
{
  if (is_selinux_enabled() <= 0)
    return "disabled";
  return security_getenforce() == 1 ? "enforcing" : "permissive";
}

void hd_audit_log_host(void)
{
  const char *m = selinux_mode();
  if (strcmp(m, "enforcing") != 0)
    sh_warn("SELinux is %s on this host: containers get no MCS separation from each other; the other layers (user "
            "namespaces with disjoint id ranges, seccomp, capabilities, mount and network isolation) still apply, and "
            "the audit reports it as a finding", m);
}

static bool file_has(const char *path, const char *want)
{
  _cleanup_free_ char *t = NULL;
  return sh_read_file_at(AT_FDCWD, path, &t, NULL, NULL) == 0 && strstr(t, want);
}

static json_t *host_checks(struct audit *a)
{
  struct utsname u;
  uname(&u);
  const char *se = selinux_mode();
  if (strcmp(se, "enforcing") != 0)
    finding(a, MEDIUM, "host", "selinux", "boot with security=selinux, load Debian's policy and policy/selinux (docs/selinux.md), setenforce 1",
            "SELinux is %s: containers have no MCS separation (their unique category pairs are recorded but not enforced)", se);
  struct statfs fs;
  const char *cg = statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC ? "v2"
                   : statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC ? "hybrid" : "v1";
  _cleanup_free_ char *userns = NULL;
  sh_read_file_at(AT_FDCWD, "/proc/sys/user/max_user_namespaces", &userns, NULL, NULL);
  bool has_userns = userns && atol(userns) > 0;
  bool has_seccomp = file_has("/proc/self/status", "Seccomp:");
  if (!has_userns)
    finding(a, HIGH, "host", "kernel", "set user.max_user_namespaces above 0", "user namespaces are disabled: no container can start isolated");
  if (!has_seccomp)
    finding(a, HIGH, "host", "kernel", "use a kernel built with CONFIG_SECCOMP_FILTER", "the kernel has no seccomp");
  if (strcmp(cg, "v1") == 0)
    finding(a, HIGH, "host", "kernel", "mount cgroup2 (pure v2, or hybrid at /sys/fs/cgroup/unified)",
            "no cgroup2 hierarchy: no BPF policy, device rules or tenant totals");
  else if (strcmp(cg, "hybrid") == 0)
    finding(a, INFO, "host", "cgroups", "boot with systemd.unified_cgroup_hierarchy=1 for pure cgroup v2",
            "cgroups are hybrid: limits are v1 cgroups, BPF programs on the v2 hierarchy");
  return json_pack("{s:s, s:s, s:s, s:{s:b, s:b, s:b}}", "kernel", u.release, "selinux", se, "cgroups", cg, "features",
                   "user_namespaces", has_userns, "seccomp", has_seccomp, "cgroup2", strcmp(cg, "v1") != 0);
}

/* Id ranges: disjoint, never host root, inside the configured range. */
static void idmap_checks(struct audit *a, sqlite3 *db)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL, "SELECT container_id, host_start FROM idmap_ranges ORDER BY host_start", NULL);
  int64_t prev_id = 0, prev_end = 0;
  size_t n = 0;
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(s, 0), start = sqlite3_column_int64(s, 1);
    char scope[32];
    snprintf(scope, sizeof scope, "c%" PRId64, id);
    if (start <= 0)
      finding(a, HIGH, scope, "idmap", "delete the container and create it again", "its id range starts at host id %" PRId64 ": it would map host root", start);
    if (host && (start < host->cfg.idmap_start || start + 65536 > (int64_t) host->cfg.idmap_start + host->cfg.idmap_count))
      finding(a, HIGH, scope, "idmap", "keep idmap_start/idmap_count covering every recorded range",
              "its range %" PRId64 "-%" PRId64 " lies outside the configured host range", start, start + 65535);
    if (n && start < prev_end)
      finding(a, HIGH, scope, "idmap", "delete one of the two containers", "its id range overlaps that of c%" PRId64, prev_id);
    prev_id = id;
    prev_end = start + 65536;
    n++;
  }
  _cleanup_stmt_ sqlite3_stmt *m = hd_db_query(db, NULL,
    "SELECT c1, c2, group_concat(container_id) FROM mcs_pairs GROUP BY c1, c2 HAVING count(*) > 1", NULL);
  while (m && sqlite3_step(m) == SQLITE_ROW)
    finding(a, HIGH, "host", "mcs", "give each container its own pair (delete and re-create all but one)",
            "containers %s share the MCS pair c%d,c%d", sqlite3_column_text(m, 2), sqlite3_column_int(m, 0), sqlite3_column_int(m, 1));
}

/* ---- one container ---- */

static char *proc_read(int64_t pid, const char *leaf)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%" PRId64 "/%s", pid, leaf);
  char *t = NULL;
  if (sh_read_file_at(AT_FDCWD, path, &t, NULL, NULL) < 0)
    return NULL;
  size_t n = strlen(t);
  while (n && (t[n - 1] == '\n' || t[n - 1] == '\0'))
    t[--n] = 0;
  return t;
}

static char *status_field(const char *status, const char *name)
{
  const char *p = status ? strstr(status, name) : NULL;
  if (!p)
    return strdup("");
  p += strlen(name);
  while (*p == ':' || *p == '\t' || *p == ' ')
    p++;
  return strndup(p, strcspn(p, "\n"));
}

/* A cgroup file's value in the first directory that has it. */
static char *cg_value(const struct sbx_cgroup *cg, const char *v2file, const char *ctrl, const char *v1file)
{
  char path[4200];
  char *t = NULL;
  if (cg->mode == SBX_CG_V2) {
    snprintf(path, sizeof path, "%s/%s", cg->unified, v2file);
  } else {
    path[0] = 0;
    for (size_t i = 0; i < cg->n_v1; i++)
      if (strcmp(cg->v1_name[i], ctrl) == 0)
        snprintf(path, sizeof path, "%s/%s", cg->v1[i], v1file);
  }
  if (!path[0] || sh_read_file_at(AT_FDCWD, path, &t, NULL, NULL) < 0)
    return strdup("(missing)");
  t[strcspn(t, "\n")] = 0;
  return t;
}

struct ct {
  int64_t id, tenant, pid, host_start, cpu, mem, pids;
  int c1, c2;
  char name[64], state[16], seccomp[16];
};

/* What a container declares and where its kernel objects are. */
struct ctx {
  struct audit *a;
  const struct ct *c;
  char scope[32], ifname[16], cgpath[96], pin[300], label[96], idmap[64];
  bool in_nft, have_cg, policy_ok;
  struct sbx_cgroup cg;
  struct sh_netpolicy np;
  json_t *actual;
};

/* A stopped container holds nothing in the kernel. */
static void stopped_checks(struct ctx *x)
{
  struct audit *a = x->a;
  if (x->have_cg && access(x->cg.unified, F_OK) == 0)
    finding(a, LOW, x->scope, "leftover", "restart sandhostd (reconciliation removes it)", "it is %s but its cgroup %s exists",
            x->c->state, x->cg.unified);
  if (access(x->pin, F_OK) == 0)
    finding(a, LOW, x->scope, "leftover", "restart sandhostd (reconciliation removes it)", "it is %s but its policy is pinned at %s",
            x->c->state, x->pin);
  if (x->in_nft)
    finding(a, LOW, x->scope, "leftover", "restart sandhostd (it applies nft from the database)", "it is %s but nft still has its port %s",
            x->c->state, x->ifname);
}

/* A map line as the kernel prints it, columns padded: "0 3000000 65536". */
static void map_norm(const char *m, char out[64])
{
  long long x, y, z;
  if (m && !strchr(m, '\n') && sscanf(m, "%lld %lld %lld", &x, &y, &z) == 3)
    snprintf(out, 64, "%lld %lld %lld", x, y, z);
  else
    snprintf(out, 64, "%s", m ? m : "");
}

static void process_checks(struct ctx *x, const char *status)
{
  struct audit *a = x->a;
  const struct ct *c = x->c;
  _cleanup_free_ char *uid_map = proc_read(c->pid, "uid_map"), *gid_map = proc_read(c->pid, "gid_map"),
                      *attr = proc_read(c->pid, "attr/current");
  _cleanup_free_ char *sec = status_field(status, "Seccomp"), *filters = status_field(status, "Seccomp_filters"),
                      *nnp = status_field(status, "NoNewPrivs"), *capeff = status_field(status, "CapEff"),
                      *capbnd = status_field(status, "CapBnd");
  char um[64], gm[64];
  map_norm(uid_map, um);
  map_norm(gid_map, gm);
  json_object_set_new(x->actual, "pid", json_integer(c->pid));
  json_object_set_new(x->actual, "uid_map", json_string(um));
  json_object_set_new(x->actual, "gid_map", json_string(gm));
  json_object_set_new(x->actual, "seccomp", json_string(sec));
  json_object_set_new(x->actual, "seccomp_filters", json_string(filters));
  json_object_set_new(x->actual, "no_new_privs", json_string(nnp));
  json_object_set_new(x->actual, "cap_effective", json_string(capeff));
  json_object_set_new(x->actual, "cap_bounding", json_string(capbnd));
  json_object_set_new(x->actual, "label", json_string(attr ? attr : ""));
  if (strcmp(um, x->idmap) != 0 || strcmp(gm, x->idmap) != 0)
    finding(a, HIGH, x->scope, "idmap", "stop and start the container", "its init runs with uid map '%s' and gid map '%s', not '%s'",
            um, gm, x->idmap);
  if (strcmp(sec, "2") != 0)
    finding(a, HIGH, x->scope, "seccomp", "start it without debug flags (its config must carry the plan's profile)",
            "its init runs with seccomp mode %s, not 2 (filter): every syscall is open", sec[0] ? sec : "?");
  if (strcmp(nnp, "1") != 0)
    finding(a, MEDIUM, x->scope, "no_new_privs", "start it from the hardened spec", "its init runs without no_new_privs");
  if (is_selinux_enabled() > 0 && x->label[0] && (!attr || strcmp(attr, x->label) != 0))
    finding(a, HIGH, x->scope, "label", "install policy/selinux and restart the container", "its init's label is '%s', not '%s'",
            attr ? attr : "?", x->label);
}

static void limit_check(struct audit *a, const char *scope, const char *what, const char *got, const char *want)
{
  if (strcmp(got, want) != 0)
    finding(a, HIGH, scope, "cgroup", "restart the container (its start writes the limits), or set them with PATCH",
            "%s is %s in its cgroup, but %s is declared", what, got, want);
}

static void cgroup_checks(struct ctx *x)
{
  struct audit *a = x->a;
  const struct ct *c = x->c;
  _cleanup_free_ char *pcg = proc_read(c->pid, "cgroup");
  char want[128];
  snprintf(want, sizeof want, "/%s", x->cgpath);
  if (!pcg || !strstr(pcg, want))
    finding(a, HIGH, x->scope, "cgroup", "stop and start the container", "its init is not in its cgroup %s", x->cgpath);
  _cleanup_free_ char *mem = cg_value(&x->cg, "memory.max", "memory", "memory.limit_in_bytes"),
                      *pids = cg_value(&x->cg, "pids.max", "pids", "pids.max"),
                      *cpu = cg_value(&x->cg, "cpu.max", "cpu", "cpu.cfs_quota_us");
  char wmem[32], wpids[32], wcpu[64];
  snprintf(wmem, sizeof wmem, "%" PRId64, c->mem << 20);
  snprintf(wpids, sizeof wpids, "%" PRId64, c->pids);
  if (x->cg.mode == SBX_CG_V2)
    snprintf(wcpu, sizeof wcpu, "%" PRId64 " 100000", c->cpu * 100);
  else
    snprintf(wcpu, sizeof wcpu, "%" PRId64, c->cpu * 100);
  json_object_set_new(x->actual, "cgroup", json_pack("{s:s, s:s, s:s, s:s}", "path", x->cgpath, "memory", mem, "pids", pids, "cpu", cpu));
  limit_check(a, x->scope, "memory", mem, wmem);
  limit_check(a, x->scope, "pids", pids, wpids);
  limit_check(a, x->scope, "cpu", cpu, wcpu);
}

/* The policy programs on its cgroup and its entries in their maps. */
static void bpf_checks(struct ctx *x)
{
  struct audit *a = x->a;
  struct nf_bpf_audit ba;
  sh_error be = {0};
  int br = nf_bpf_policy_audit(x->cg.unified, x->pin, &ba, &be);
  json_t *hooks = json_object();
  for (int i = 0; i < NF_BPF_HOOKS; i++) {
    json_object_set_new(hooks, ba.hook[i], json_pack("{s:b, s:i}", "ours", ba.attached[i], "others", (int) ba.others[i]));
    if (!ba.attached[i])
      finding(a, HIGH, x->scope, "bpf", "restart the container (its start attaches the programs again)",
              "no policy program of sandhost runs at its cgroup's %s hook: its network policy is not enforced there", ba.hook[i]);
    if (ba.others[i])
      finding(a, MEDIUM, x->scope, "bpf", "find who attached it (bpftool cgroup show) and detach it",
              "%u other program(s) attached at its cgroup's %s hook", ba.others[i], ba.hook[i]);
  }
  json_object_set_new(x->actual, "bpf", json_pack("{s:o, s:b, s:s, s:s, s:b, s:[I, I, I, I], s:{s:I, s:I, s:I, s:I}}", "hooks", hooks,
                                                  "policy_entry", ba.entry, "default_out", ba.deny_out ? "deny" : "allow",
                                                  "default_in", ba.deny_in ? "deny" : "allow", "flows_tracked", ba.track,
                                                  "rules", (json_int_t) ba.rules[0], (json_int_t) ba.rules[1],
                                                  (json_int_t) ba.rules[2], (json_int_t) ba.rules[3], "counters", "bytes_in",
                                                  (json_int_t) ba.counters.bytes_in, "bytes_out", (json_int_t) ba.counters.bytes_out,
                                                  "denied", (json_int_t) ba.counters.denied, "dropped_in",
                                                  (json_int_t) ba.counters.dropped_in));
  if (br < 0 || !ba.entry) {
    finding(a, HIGH, x->scope, "bpf", "PUT its policy again, or stop and start it", "its policy is not in the programs' maps%s%s",
            br < 0 ? ": " : "", br < 0 ? be.msg : "");
    return;
  }
  if (!x->policy_ok)
    return;
  bool dout = x->np.default_action[SH_NP_OUT] == SH_NP_DENY, din = x->np.default_action[SH_NP_IN] == SH_NP_DENY;
  if (dout != ba.deny_out || din != ba.deny_in)
    finding(a, HIGH, x->scope, "bpf", "PUT its policy again", "the defaults in force (out %s, in %s) are not the declared ones (out %s, in %s)",
            ba.deny_out ? "deny" : "allow", ba.deny_in ? "deny" : "allow", dout ? "deny" : "allow", din ? "deny" : "allow");
  /* Outgoing rules only: a forward adds inbound ones (hostd/ctpolicy.c). */
  for (int t = 0; t < 2; t++) {
    struct sh_np_compiled comp;
    if (sh_netpolicy_compile(&x->np, SH_NP_OUT, t ? AF_INET6 : AF_INET, &comp, NULL) < 0)
      continue;
    if (comp.n != ba.rules[t])
      finding(a, MEDIUM, x->scope, "bpf", "PUT its policy again", "%zu outgoing IPv%d rule entries are in force, the declared policy compiles to %zu",
              ba.rules[t], t ? 6 : 4, comp.n);
    sh_np_compiled_clear(&comp);
  }
}

/* The probe's report from inside a running container: `sbx exec` of the
 * read-only probe every container has (HD_PROBE_PATH).  NULL on failure,
 * with the reason in why. */
static json_t *probe_run(const struct ct *c, char *why, size_t why_len)
{
  if (!host || !host->probe[0]) {
    snprintf(why, why_len, "this host has no sandhost-probe");
    return NULL;
  }
  char ref[24];
  hd_container_ref(c->id, ref);
  const char *argv[] = { host->sbx, "--root", host->sbx_root, "exec", ref, HD_PROBE_PATH, "--only",
                         "ids,capabilities,seccomp,syscalls,lsm,kernel_files,abilities", NULL };
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    snprintf(why, why_len, "pipe: %s", strerror(errno));
    return NULL;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int r = hd_spawn(&pid, argv, &fa);
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  if (r != 0) {
    close(p[0]);
    snprintf(why, why_len, "cannot run the runtime: %s", strerror(r));
    return NULL;
  }
  /* At most 4 MiB and 60 s: a container cannot hold the audit up for long. */
  _cleanup_free_ char *out = NULL;
  size_t len = 0, cap = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  bool timed_out = false;
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long left = 60000 - ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    if (left <= 0 || poll(&(struct pollfd){ p[0], POLLIN, 0 }, 1, (int) left) <= 0) {
      timed_out = true;
      break;
    }
    if (len + 65536 + 1 > cap) {
      if (cap >= (4u << 20))
        break;
      char *n = realloc(out, cap = cap ? cap * 2 : 131072);
      if (!n)
        break;
      out = n;
    }
    ssize_t k = read(p[0], out + len, cap - len - 1);
    if (k <= 0)
      break;
    len += (size_t) k;
  }
  close(p[0]);
  if (timed_out)
    kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  json_error_t je;
  json_t *rep = out ? (out[len] = 0, json_loads(out, 0, &je)) : NULL;
  if (!rep)
    snprintf(why, why_len, "%s", timed_out ? "it gave no report within 60 s" : "its report did not parse");
  return rep;
}

/* What the probe saw that the container must not have. */
static void probe_findings(struct ctx *x, json_t *rep)
{
  struct audit *a = x->a;
  json_t *ids = json_object_get(rep, "ids");
  if (json_is_true(json_object_get(ids, "initial_user_ns")))
    finding(a, HIGH, x->scope, "probe", "stop and start the container", "inside, the probe runs in the host's user namespace");
  size_t i;
  json_t *m;
  json_array_foreach(json_object_get(ids, "uid_map"), i, m)
    if (json_integer_value(json_object_get(m, "outside")) == 0)
      finding(a, HIGH, x->scope, "probe", "stop and start the container", "inside, the uid map reaches host root");
  /* Interfaces the host acts on as root: never writable from a container. */
  static const char *const host_files[] = { "/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/sys/kernel/uevent_helper",
                                            "/proc/sys/fs/binfmt_misc/register", "/proc/sysrq-trigger", "/sys" };
  json_t *kf;
  json_array_foreach(json_object_get(rep, "kernel_files"), i, kf) {
    const char *path = json_string_value(json_object_get(kf, "path")) ?: "";
    const char *w = json_string_value(json_object_get(kf, "write")) ?: "";
    for (size_t k = 0; k < SH_ARRAY_SIZE(host_files); k++)
      if (strcmp(path, host_files[k]) == 0 && strcmp(w, "ok") == 0)
        finding(a, HIGH, x->scope, "probe", "start it from the hardened spec (masked and read-only paths)",
                "inside, %s is writable: the host acts on it as root", path);
    if (strcmp(path, "/dev/kmsg") == 0 && strcmp(json_string_value(json_object_get(kf, "read")) ?: "", "ok") == 0)
      finding(a, MEDIUM, x->scope, "probe", "start it from the hardened spec (no /dev/kmsg)", "inside, the host's kernel log is readable");
    if (strcmp(path, "/proc/kallsyms") == 0 && strcmp(json_string_value(json_object_get(kf, "read")) ?: "", "ok") == 0 &&
        json_is_false(json_object_get(kf, "addresses_zeroed")))
      finding(a, MEDIUM, x->scope, "probe", "set kernel.kptr_restrict=1 on the host", "inside, kernel symbol addresses are readable");
  }
}

static void running_checks(struct ctx *x)
{
  _cleanup_free_ char *status = proc_read(x->c->pid, "status");
  if (!status) {
    finding(x->a, HIGH, x->scope, "process", "restart sandhostd (supervision notices a dead init) or stop and start it",
            "it is recorded as running as pid %" PRId64 ", which does not exist", x->c->pid);
    return;
  }
  process_checks(x, status);
  if (x->have_cg) {
    cgroup_checks(x);
    bpf_checks(x);
  }
  json_object_set_new(x->actual, "nft_port", json_pack("{s:s, s:b}", "ifname", x->ifname, "anti_spoofing", x->in_nft));
  if (x->a->probe) {
    char why[200];
    json_t *rep = probe_run(x->c, why, sizeof why);
    if (rep) {
      probe_findings(x, rep);
      json_object_set_new(x->actual, "probe", rep);
    } else {
      finding(x->a, MEDIUM, x->scope, "probe", "see sandhostd's log; run sbx exec with the probe by hand", "the probe could not run inside: %s", why);
    }
  }
  if (!x->in_nft)
    finding(x->a, HIGH, x->scope, "nft", "restart sandhostd (it applies nft from the database)",
            "its port %s is not in the anti-spoofing set: it could send from addresses not its own", x->ifname);
}

static json_t *container_checks(struct audit *a, sqlite3 *db, const struct ct *c, char (*ports)[IFNAMSIZ], size_t n_ports)
{
  struct ctx x = { .a = a, .c = c, .actual = json_object() };
  snprintf(x.scope, sizeof x.scope, "c%" PRId64, c->id);
  snprintf(x.idmap, sizeof x.idmap, "0 %" PRId64 " 65536", c->host_start);
  if (c->c1 >= 0)
    snprintf(x.label, sizeof x.label, "system_u:system_r:container_t:s0:c%d,c%d", c->c1, c->c2);
  _cleanup_free_ char *text = NULL;
  hd_policy_text(db, c->id, &text, NULL);
  x.policy_ok = text && sh_netpolicy_parse(text, &x.np, &(sh_error){0}) == 0;
  char peer[16];
  nf_veth_names((uint64_t) c->id, x.ifname, peer);
  for (size_t i = 0; i < n_ports && !x.in_nft; i++)
    x.in_nft = strcmp(ports[i], x.ifname) == 0;
  hd_cgroup_path(c->tenant, c->id, x.cgpath, sizeof x.cgpath);
  struct sbx_config cfg = { .cgroups_path = x.cgpath };
  x.have_cg = sbx_cgroup_resolve(&cfg, x.cgpath, &x.cg, NULL) == 0;
  /* (No host: a unit test's API without a daemon; nothing is pinned.) */
  snprintf(x.pin, sizeof x.pin, "%s/c%" PRId64, host ? host->cfg.bpf_dir : "/nonexistent", c->id);
  json_t *declared = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s?, s:s}", "state", c->state, "idmap", x.idmap, "cpu_millis",
                               (json_int_t) c->cpu, "memory_mib", (json_int_t) c->mem, "pids", (json_int_t) c->pids, "seccomp",
                               c->seccomp, "label", x.label[0] ? x.label : NULL, "policy", text ? text : "");
  if (strcmp(c->seccomp, "unconfined") == 0)
    finding(a, HIGH, x.scope, "seccomp", "create it again without \"seccomp\": \"unconfined\" (a debugging setting)",
            "it is declared without seccomp: a provider admin turned its filter off");
  if (strcmp(c->state, "running") == 0)
    running_checks(&x);
  else
    stopped_checks(&x);
  if (x.have_cg)
    sbx_cgroup_clear(&x.cg);
  sh_netpolicy_clear(&x.np);
  return json_pack("{s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t) c->id, "name", c->name, "state", c->state, "declared", declared,
                   "actual", x.actual);
}

json_t *hd_audit_report(struct hd_host *h, sqlite3 *db, int64_t tenant, int64_t container, bool probe, sh_error *e)
{
  (void) h;
  struct audit a = { .findings = json_array(), .probe = probe };
  json_t *hostj = host_checks(&a);
  idmap_checks(&a, db);
  char (*ports)[IFNAMSIZ] = NULL;
  size_t n_ports = 0;
  sh_error ne = {0};
  if (nf_nft_ports(&ports, &n_ports, &ne) < 0)
    finding(&a, HIGH, "host", "nft", "check that nf_tables is available", "the anti-spoofing set cannot be read: %s", ne.msg);
  /* Collected first: no statement stays open while the checks read on. */
  _cleanup_free_ struct ct *cts = NULL;
  size_t n = 0;
  {
    _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, e,
      "SELECT c.id, c.tenant_id, coalesce(c.pid, 0), coalesce(r.host_start, 0), c.cpu_millis, c.memory_mib, c.pids,"
      " coalesce(m.c1, -1), coalesce(m.c2, -1), c.name, c.state, coalesce(c.seccomp, p.seccomp)"
      " FROM containers c JOIN tenants t ON t.id = c.tenant_id JOIN plans p ON p.id = t.plan_id"
      " LEFT JOIN idmap_ranges r ON r.container_id = c.id LEFT JOIN mcs_pairs m ON m.container_id = c.id"
      " WHERE (? = 0 OR c.tenant_id = ?) AND (? = 0 OR c.id = ?) ORDER BY c.tenant_id, c.id", "iiii", tenant, tenant, container, container);
    while (s && sqlite3_step(s) == SQLITE_ROW) {
      struct ct *nc = realloc(cts, (n + 1) * sizeof *nc);
      if (!nc)
        break;
      cts = nc;
      struct ct *c = &cts[n++];
      *c = (struct ct){ .id = sqlite3_column_int64(s, 0), .tenant = sqlite3_column_int64(s, 1), .pid = sqlite3_column_int64(s, 2),
                        .host_start = sqlite3_column_int64(s, 3), .cpu = sqlite3_column_int64(s, 4), .mem = sqlite3_column_int64(s, 5),
                        .pids = sqlite3_column_int64(s, 6), .c1 = sqlite3_column_int(s, 7), .c2 = sqlite3_column_int(s, 8) };
      snprintf(c->name, sizeof c->name, "%s", sqlite3_column_text(s, 9));
      snprintf(c->state, sizeof c->state, "%s", sqlite3_column_text(s, 10));
      snprintf(c->seccomp, sizeof c->seccomp, "%s", sqlite3_column_text(s, 11));
    }
  }
  /* nft ports of no running container. */
  for (size_t i = 0; i < n_ports && !container; i++) {
    bool owned = false;
    for (size_t k = 0; k < n && !owned; k++) {
      char ifn[16], peer[16];
      nf_veth_names((uint64_t) cts[k].id, ifn, peer);
      owned = strcmp(ifn, ports[i]) == 0 && strcmp(cts[k].state, "running") == 0;
    }
    if (!owned && !tenant)
      finding(&a, MEDIUM, "host", "nft", "restart sandhostd (it applies nft from the database)",
              "the anti-spoofing set holds port %s of no running container", ports[i]);
  }
  json_t *tenants = json_array(), *cur = NULL;
  int64_t cur_id = -1;
  for (size_t i = 0; i < n; i++) {
    if (cts[i].tenant != cur_id) {
      cur_id = cts[i].tenant;
      _cleanup_stmt_ sqlite3_stmt *t = hd_db_query(db, NULL,
        "SELECT t.name, p.name FROM tenants t JOIN plans p ON p.id = t.plan_id WHERE t.id = ?", "i", cur_id);
      bool row = t && sqlite3_step(t) == SQLITE_ROW;
      cur = json_pack("{s:I, s:s, s:s, s:[]}", "id", (json_int_t) cur_id, "name", row ? (const char *) sqlite3_column_text(t, 0) : "?",
                      "plan", row ? (const char *) sqlite3_column_text(t, 1) : "?", "containers");
      json_array_append_new(tenants, cur);
    }
    json_array_append_new(json_object_get(cur, "containers"), container_checks(&a, db, &cts[i], ports, n_ports));
  }
  free(ports);
  return json_pack("{s:I, s:{s:I, s:I}, s:o, s:{s:i, s:i, s:i, s:i, s:I, s:I}, s:o, s:o}", "generated_at", (json_int_t) time(NULL),
                   "scope", "tenant", (json_int_t) tenant, "container", (json_int_t) container, "host", hostj, "summary",
                   "high", a.counts[HIGH], "medium", a.counts[MEDIUM], "low", a.counts[LOW], "info", a.counts[INFO], "tenants",
                   (json_int_t) json_array_size(tenants), "containers", (json_int_t) n, "findings", a.findings, "tenants", tenants);
}
