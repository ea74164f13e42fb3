/* sbx_config_parse: a minimal valid config, then one change at a time.  Each
 * rejected change must fail with the right errno and name the bad field. */
#include "config.h"
#include "tap.h"

#include <errno.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char base_config[] =
  "{"
  "  \"ociVersion\": \"1.2.0\","
  "  \"process\": {"
  "    \"args\": [\"/bin/true\"], \"cwd\": \"/\", \"env\": [],"
  "    \"user\": {\"uid\": 0, \"gid\": 0}"
  "  },"
  "  \"root\": {\"path\": \"rootfs\"},"
  "  \"linux\": {"
  "    \"namespaces\": [{\"type\": \"user\"}, {\"type\": \"mount\"}, {\"type\": \"pid\"}],"
  "    \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
  "    \"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]"
  "  }"
  "}";

static char bundle[PATH_MAX];      /* as passed */
static char bundle_abs[PATH_MAX];  /* as the parser resolves it */

/* RFC 7386 merge patch: objects merge, null deletes, anything else replaces. */
static json_t *merge_patch(json_t *target, json_t *patch)
{
  if (!json_is_object(patch))
    return json_incref(patch);
  json_t *res = json_is_object(target) ? json_deep_copy(target) : json_object();
  const char *k;
  json_t *v;
  json_object_foreach(patch, k, v) {
    if (json_is_null(v)) {
      json_object_del(res, k);
      continue;
    }
    json_object_set_new(res, k, merge_patch(json_object_get(res, k), v));
  }
  return res;
}

/* The base config with patch applied, as text (malloc'd). */
static char *patched(const char *patch_text)
{
  json_error_t je;
  json_t *base = json_loads(base_config, 0, &je);
  if (!base) {
    diag("base config does not parse: %s", je.text);
    abort();
  }
  json_t *patch = json_loads(patch_text, 0, &je);
  if (!patch) {
    diag("patch %s does not parse: %s", patch_text, je.text);
    abort();
  }
  json_t *doc = merge_patch(base, patch);
  char *text = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  json_decref(patch);
  json_decref(base);
  return text;
}

/* Parse base+patch; on success the caller frees *out. */
static int parse_patch(const char *patch, struct sbx_config **out, sh_error *e)
{
  char *text = patched(patch);
  sh_error_clear(e);
  *out = NULL;
  int r = sbx_config_parse(text, bundle, out, e);
  free(text);
  return r;
}

/* ---- rejected configs ---- */

struct bad_case {
  const char *name;
  const char *patch;      /* merge patch over the base, or raw text when raw */
  bool raw;
  int err;
  const char *path;       /* must occur in e.path */
  const char *msg;        /* must occur in e.msg, if set */
};

static const struct bad_case bad_cases[] = {
  {"malformed JSON", "{\"ociVersion\": \"1.2.0\",", true, EINVAL, NULL, "line"},
  {"duplicate key", "{\"ociVersion\": \"1.2.0\", \"ociVersion\": \"1.2.0\"}", true, EINVAL, NULL, "line"},
  {"document is not an object", "[]", true, EINVAL, NULL, "object"},
  {"unknown top-level field", "{\"foo\": 1}", false, EINVAL, "foo", "unknown"},
  {"unknown process field", "{\"process\": {\"bogus\": true}}", false, EINVAL, "process.bogus", NULL},
  {"unknown nested resources field", "{\"linux\": {\"resources\": {\"memory\": {\"kernel\": 1}}}}", false,
   EINVAL, "linux.resources.memory.kernel", NULL},
  {"hooks", "{\"hooks\": {\"prestart\": [{\"path\": \"/bin/true\"}]}}", false, EINVAL, "hooks", NULL},
  {"no user namespace", "{\"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"pid\"}]}}", false,
   EINVAL, "linux.namespaces", "user namespace"},
  {"no mount namespace", "{\"linux\": {\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"pid\"}]}}", false,
   EINVAL, "linux.namespaces", "mount namespace"},
  {"unknown namespace type", "{\"linux\": {\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"mount\"}, {\"type\": \"foo\"}]}}",
   false, EINVAL, "linux.namespaces[2].type", NULL},
  {"namespace given twice", "{\"linux\": {\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}]}}",
   false, EINVAL, "linux.namespaces[2].type", "twice"},
  {"uid map to host root", "{\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 0, \"size\": 65536}]}}",
   false, EPERM, "linux.uidMappings[0]", "host root"},
  {"gid map to host root", "{\"linux\": {\"gidMappings\": [{\"containerID\": 0, \"hostID\": 0, \"size\": 1}]}}",
   false, EPERM, "linux.gidMappings[0]", "host root"},
  {"overlapping container ranges",
   "{\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536},"
   "                               {\"containerID\": 1000, \"hostID\": 300000, \"size\": 10}]}}",
   false, EINVAL, "linux.uidMappings[1]", "container range overlaps"},
  {"overlapping host ranges",
   "{\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536},"
   "                               {\"containerID\": 70000, \"hostID\": 100500, \"size\": 10}]}}",
   false, EINVAL, "linux.uidMappings[1]", "host range overlaps"},
  {"map size 0", "{\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 0}]}}",
   false, EINVAL, "linux.uidMappings[0]", NULL},
  {"new user namespace without maps", "{\"linux\": {\"uidMappings\": null}}", false, EINVAL,
   "linux.uidMappings", NULL},
  {"process.args empty", "{\"process\": {\"args\": []}}", false, EINVAL, "process.args", NULL},
  {"process.args not strings", "{\"process\": {\"args\": [1]}}", false, EINVAL, "process.args[0]", NULL},
  {"relative cwd", "{\"process\": {\"cwd\": \"tmp\"}}", false, EINVAL, "process.cwd", "absolute"},
  {"env without =", "{\"process\": {\"env\": [\"PATH\"]}}", false, EINVAL, "process.env", NULL},
  {"unknown capability", "{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_FOO\"]}}}", false, EINVAL,
   "process.capabilities.bounding[0]", "CAP_FOO"},
  {"effective not in permitted",
   "{\"process\": {\"capabilities\": {\"effective\": [\"CAP_KILL\"], \"permitted\": [\"CAP_CHOWN\"]}}}",
   false, EINVAL, "process.capabilities.effective", "permitted"},
  {"ambient not in inheritable",
   "{\"process\": {\"capabilities\": {\"ambient\": [\"CAP_KILL\"], \"permitted\": [\"CAP_KILL\"]}}}",
   false, EINVAL, "process.capabilities.ambient", NULL},
  {"rlimit unknown type", "{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_FOO\", \"soft\": 1, \"hard\": 1}]}}",
   false, EINVAL, "process.rlimits[0].type", NULL},
  {"rlimit soft > hard", "{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 2048, \"hard\": 1024}]}}",
   false, EINVAL, "process.rlimits[0].soft", "hard"},
  {"rlimit twice",
   "{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1},"
   "                             {\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1}]}}",
   false, EINVAL, "process.rlimits[1].type", "twice"},
  {"oomScoreAdj out of range", "{\"process\": {\"oomScoreAdj\": 1001}}", false, EINVAL,
   "process.oomScoreAdj", NULL},
  {"mount option idmap",
   "{\"mounts\": [{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"/tmp\", \"options\": [\"rbind\", \"idmap\"]}]}",
   false, EINVAL, "mounts[0].options", "idmap"},
  {"mount relative destination",
   "{\"mounts\": [{\"destination\": \"mnt\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]}",
   false, EINVAL, "mounts[0].destination", "absolute"},
  {"mount destination with ..",
   "{\"mounts\": [{\"destination\": \"/mnt/../etc\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]}",
   false, EINVAL, "mounts[0].destination", ".."},
  {"mount type nfs",
   "{\"mounts\": [{\"destination\": \"/mnt\", \"type\": \"nfs\", \"source\": \"server:/export\"}]}",
   false, EINVAL, "mounts[0]", "nfs"},
  {"bind mount with relative source",
   "{\"mounts\": [{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"tmp\", \"options\": [\"bind\"]}]}",
   false, EINVAL, "mounts[0].source", NULL},
  {"sysctl not namespaced", "{\"linux\": {\"sysctl\": {\"kernel.panic\": \"1\"}}}", false, EINVAL,
   "linux.sysctl.kernel.panic", "namespaced"},
  {"net sysctl without network namespace", "{\"linux\": {\"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}}}",
   false, EINVAL, "linux.sysctl.net.ipv4.ip_forward", "network namespace"},
  {"ipc sysctl without ipc namespace", "{\"linux\": {\"sysctl\": {\"kernel.shmmax\": \"1\"}}}",
   false, EINVAL, "linux.sysctl.kernel.shmmax", "ipc namespace"},
  {"apparmorProfile", "{\"process\": {\"apparmorProfile\": \"docker-default\"}}", false, EINVAL,
   "process.apparmorProfile", NULL},
  {"timeOffsets without time namespace",
   "{\"linux\": {\"timeOffsets\": {\"monotonic\": {\"secs\": 1, \"nanosecs\": 0}}}}",
   false, EINVAL, "linux.timeOffsets", "time namespace"},
  {"cgroupsPath with ..", "{\"linux\": {\"cgroupsPath\": \"/sbx/../../escape\"}}", false, EINVAL,
   "linux.cgroupsPath", NULL},
  {"cgroupsPath systemd syntax", "{\"linux\": {\"cgroupsPath\": \"system.slice:sbx:abc\"}}", false, EINVAL,
   "linux.cgroupsPath", NULL},
  {"unified key with /", "{\"linux\": {\"resources\": {\"unified\": {\"../memory.max\": \"1\"}}}}", false,
   EINVAL, "linux.resources.unified", "interface file"},
  {"memory limit 0", "{\"linux\": {\"resources\": {\"memory\": {\"limit\": 0}}}}", false, EINVAL,
   "linux.resources.memory.limit", NULL},
  {"cpu shares out of range", "{\"linux\": {\"resources\": {\"cpu\": {\"shares\": 1}}}}", false, EINVAL,
   "linux.resources.cpu.shares", NULL},
  {"device rule bad access",
   "{\"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"c\", \"access\": \"rx\"}]}}}",
   false, EINVAL, "linux.resources.devices[0].access", NULL},
  {"hostname without uts namespace", "{\"hostname\": \"box\"}", false, EINVAL, "hostname", "uts"},
  {"ociVersion 2.0", "{\"ociVersion\": \"2.0\"}", false, EINVAL, "ociVersion", NULL},
  {"ociVersion missing", "{\"ociVersion\": null}", false, EINVAL, "ociVersion", NULL},
  {"root missing", "{\"root\": null}", false, EINVAL, "root", NULL},
  {"wrong type", "{\"process\": {\"terminal\": \"yes\"}}", false, EINVAL, "process.terminal", "boolean"},
  /* cgroup-v2.c computes 1 + (weight - 10) * 9999 / 990 in uint64_t: a weight
   * below 10 wraps to a huge number that only the kernel refuses, at create. */
  {"blockIO weightDevice weight below 10",
   "{\"linux\": {\"resources\": {\"blockIO\": {\"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 5}]}}}}",
   false, EINVAL, "linux.resources.blockIO.weightDevice[0]", NULL},
  {"blockIO weightDevice weight above 1000",
   "{\"linux\": {\"resources\": {\"blockIO\": {\"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 5000}]}}}}",
   false, EINVAL, "linux.resources.blockIO.weightDevice[0]", NULL},
};

static void test_bad_cases(void)
{
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const struct bad_case *t = &bad_cases[i];
    struct sbx_config *c = NULL;
    sh_error e;
    int r;
    if (t->raw) {
      sh_error_clear(&e);
      r = sbx_config_parse(t->patch, bundle, &c, &e);
    } else {
      r = parse_patch(t->patch, &c, &e);
    }
    if (!is_int(r, -t->err, "%s: rejected with %s", t->name, strerror(t->err)))
      diag("path '%s' msg '%s'", e.path, e.msg);
    ok(c == NULL && e.err == t->err, "%s: no config, e.err set", t->name);
    if (t->path)
      like(e.path, t->path, "%s: error path names %s", t->name, t->path);
    if (t->msg)
      like(e.msg, t->msg, "%s: error message says '%s'", t->name, t->msg);
    sbx_config_free(c);
  }
}

/* ---- accepted configs ---- */

static void test_minimal(void)
{
  struct sbx_config *c = NULL;
  sh_error e = {0};
  char want[PATH_MAX + 16];
  int r = sbx_config_parse(base_config, bundle, &c, &e);
  if (!is_int(r, 0, "minimal config parses")) {
    diag("%s: %s: %s", e.step, e.path, e.msg);
    return;
  }
  snprintf(want, sizeof want, "%s/rootfs", bundle_abs);
  is_str(c->bundle, bundle_abs, "bundle is absolute");
  is_str(c->root_path, want, "root_path is bundle/rootfs");
  is_int(c->ns_new_flags & (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID),
         CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID, "ns_new_flags has user, mount and pid");
  is_int(c->ns_new_flags & (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP), 0,
         "no other new namespaces");
  is_int(c->n_ns, 3, "three namespaces");
  ok(c->process.args && c->process.args[0] && strcmp(c->process.args[0], "/bin/true") == 0 &&
     !c->process.args[1], "args is [/bin/true]");
  ok(c->process.env && !c->process.env[0], "env is empty");
  is_str(c->process.cwd, "/", "cwd");
  is_int(c->process.user.uid, 0, "uid");
  is_int(c->n_uid_map, 1, "one uid range");
  ok(c->n_uid_map == 1 && c->uid_map[0].container_id == 0 && c->uid_map[0].host_id == 100000 &&
     c->uid_map[0].size == 65536, "uid range 0 100000 65536");
  is_int(c->n_gid_map, 1, "one gid range");
  ok(!c->res.any, "no resource limits");
  ok(c->annotations == NULL, "no annotations");
  ok(c->seccomp == NULL, "no seccomp");
  is_int(c->rootfs_propagation, MS_SLAVE | MS_REC, "rootfs propagation defaults to rslave");
  sbx_config_free(c);

  /* An absolute root.path is kept as it is. */
  r = parse_patch("{\"root\": {\"path\": \"/srv/rootfs\", \"readonly\": true}}", &c, &e);
  is_int(r, 0, "absolute root.path parses");
  if (r == 0) {
    is_str(c->root_path, "/srv/rootfs", "absolute root.path kept");
    ok(c->root_readonly, "root.readonly");
  }
  sbx_config_free(c);

  /* The bundle must exist. */
  sh_error_clear(&e);
  c = NULL;
  r = sbx_config_parse(base_config, "/nonexistent/sbx-unit-bundle", &c, &e);
  is_int(r, -ENOENT, "missing bundle directory is ENOENT");
  ok(c == NULL, "no config for a missing bundle");
}

static void test_mounts(void)
{
  struct sbx_config *c = NULL;
  sh_error e;
  int r = parse_patch(
    "{\"mounts\": ["
    " {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
    "  \"options\": [\"ro\", \"nosuid\", \"nodev\", \"size=64k\", \"mode=755\"]},"
    " {\"destination\": \"/data\", \"type\": \"none\", \"source\": \"/tmp\", \"options\": [\"rbind\", \"rprivate\"]},"
    " {\"destination\": \"/data2\", \"type\": \"bind\", \"source\": \"/tmp\", \"options\": [\"bind\", \"ro\", \"rw\", \"noexec\"]},"
    " {\"destination\": \"/data3\", \"type\": \"bind\", \"source\": \"/tmp\", \"options\": [\"rbind\", \"rro\", \"noatime\"]}"
    "]}", &c, &e);
  if (!is_int(r, 0, "mounts parse")) {
    diag("%s: %s", e.path, e.msg);
    return;
  }
  is_int(c->n_mounts, 4, "four mounts");
  struct sbx_mount *m = &c->mounts[0];
  is_str(m->destination, "/dev", "tmpfs destination");
  is_int(m->kind, SBX_MNT_FS, "tmpfs is a filesystem mount");
  is_int(m->attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
         "ro,nosuid,nodev -> RDONLY|NOSUID|NODEV in attr_set");
  ok(m->data && m->data[0] && m->data[1] && !m->data[2], "two data options");
  if (m->data && m->data[0] && m->data[1]) {
    is_str(m->data[0], "size=64k", "data[0] size=64k");
    is_str(m->data[1], "mode=755", "data[1] mode=755");
  }
  m = &c->mounts[1];
  is_int(m->kind, SBX_MNT_BIND, "rbind -> bind mount");
  ok(m->recursive, "rbind is recursive");
  is_int(m->propagation, MS_PRIVATE | MS_REC, "rprivate propagation");
  ok(m->data && !m->data[0], "no data for the bind mount");
  m = &c->mounts[2];
  is_int(m->kind, SBX_MNT_BIND, "type bind -> bind mount");
  ok(!m->recursive, "bind is not recursive");
  is_int(m->attr_set, MOUNT_ATTR_NOEXEC, "ro then rw: only noexec set");
  ok(m->attr_clr & MOUNT_ATTR_RDONLY, "ro then rw: rdonly cleared");
  m = &c->mounts[3];
  ok(m->recursive_attr, "rro makes the attributes recursive");
  ok(m->attr_set & MOUNT_ATTR_RDONLY, "rro sets rdonly");
  is_int(m->attr_set & MOUNT_ATTR__ATIME, MOUNT_ATTR_NOATIME, "noatime is the atime mode");
  sbx_config_free(c);
}

static void test_resources(void)
{
  struct sbx_config *c = NULL;
  sh_error e;
  int r = parse_patch(
    "{\"linux\": {\"resources\": {"
    " \"memory\": {\"limit\": 1048576, \"swap\": 2097152},"
    " \"pids\": {\"limit\": 100},"
    " \"cpu\": {\"shares\": 1024, \"quota\": 20000, \"period\": 100000, \"cpus\": \"0-1\"},"
    " \"blockIO\": {\"weight\": 500},"
    " \"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
    "               {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rwm\"},"
    "               {\"allow\": true, \"type\": \"c\", \"major\": 136, \"access\": \"rw\"}],"
    " \"unified\": {\"memory.high\": \"1G\"}"
    "}, \"cgroupsPath\": \"/sbx/test\"}}", &c, &e);
  if (!is_int(r, 0, "resources parse")) {
    diag("%s: %s", e.path, e.msg);
    return;
  }
  const struct sbx_resources *res = &c->res;
  ok(res->any, "res.any");
  ok(res->mem_limit.set && res->mem_limit.v == 1048576, "memory limit 1048576");
  ok(res->mem_swap.set && res->mem_swap.v == 2097152, "memory swap 2097152");
  ok(!res->mem_reservation.set && !res->mem_swappiness.set, "unset memory fields stay unset");
  ok(res->pids_limit.set && res->pids_limit.v == 100, "pids limit 100");
  ok(res->cpu_shares.set && res->cpu_shares.v == 1024, "cpu shares 1024");
  ok(res->cpu_quota.set && res->cpu_quota.v == 20000, "cpu quota 20000");
  ok(res->cpu_period.set && res->cpu_period.v == 100000, "cpu period 100000");
  is_str(res->cpus, "0-1", "cpus");
  ok(res->blkio_weight.set && res->blkio_weight.v == 500, "blkio weight 500");
  is_int(res->n_devices, 3, "three device rules");
  if (res->n_devices == 3) {
    const struct sbx_dev_rule *d = res->devices;
    ok(!d[0].allow && d[0].type == 'a' && d[0].major == -1 && d[0].minor == -1 &&
       d[0].access == (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD),
       "rule 0: deny a *:* rwm");
    ok(d[1].allow && d[1].type == 'c' && d[1].major == 1 && d[1].minor == 3 &&
       d[1].access == (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD),
       "rule 1: allow c 1:3 rwm");
    ok(d[2].allow && d[2].type == 'c' && d[2].major == 136 && d[2].minor == -1 &&
       d[2].access == (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE), "rule 2: allow c 136:* rw");
  }
  is_int(res->n_unified, 1, "one unified entry");
  if (res->n_unified == 1) {
    is_str(res->unified[0].key, "memory.high", "unified key");
    is_str(res->unified[0].value, "1G", "unified value");
  }
  is_str(c->cgroups_path, "/sbx/test", "cgroupsPath");
  sbx_config_free(c);

  /* Only device rules: no limit, so no cgroup writes are needed. */
  r = parse_patch("{\"linux\": {\"resources\": {\"devices\": [{\"allow\": false}]}}}", &c, &e);
  is_int(r, 0, "device rules alone parse");
  if (r == 0) {
    ok(!c->res.any, "device rules alone do not set res.any");
    ok(c->res.n_devices == 1 && c->res.devices[0].access ==
       (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD), "absent access means rwm");
  }
  sbx_config_free(c);

  /* memory.limit -1 is unlimited. */
  r = parse_patch("{\"linux\": {\"resources\": {\"memory\": {\"limit\": -1}}}}", &c, &e);
  is_int(r, 0, "memory limit -1 parses");
  if (r == 0)
    ok(c->res.mem_limit.set && c->res.mem_limit.v == -1, "memory limit -1 kept");
  sbx_config_free(c);
}

static void test_namespaced_extras(void)
{
  struct sbx_config *c = NULL;
  sh_error e;
  int r = parse_patch(
    "{\"hostname\": \"box\","
    " \"linux\": {\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"mount\"}, {\"type\": \"pid\"},"
    "                             {\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"},"
    "                             {\"type\": \"time\"}, {\"type\": \"cgroup\"}],"
    "           \"sysctl\": {\"net.ipv4.ip_forward\": \"1\", \"kernel.shmmax\": \"65536\"},"
    "           \"timeOffsets\": {\"monotonic\": {\"secs\": 86400, \"nanosecs\": 5}},"
    "           \"maskedPaths\": [\"/proc/kcore\"], \"readonlyPaths\": [\"/proc/sys\"],"
    "           \"rootfsPropagation\": \"private\"},"
    " \"annotations\": {\"org.example.key\": \"value\", \"io.sandhost.tenant\": \"t1\"}}", &c, &e);
  if (!is_int(r, 0, "sysctls, time offsets and annotations parse with their namespaces")) {
    diag("%s: %s", e.path, e.msg);
    return;
  }
  ok((c->ns_new_flags & (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWTIME | CLONE_NEWCGROUP)) ==
     (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWTIME | CLONE_NEWCGROUP), "all new namespaces");
  is_str(c->hostname, "box", "hostname");
  is_int(c->n_sysctl, 2, "two sysctls");
  bool fwd = false, shm = false;
  for (size_t i = 0; i < c->n_sysctl; i++) {
    fwd |= strcmp(c->sysctl[i].key, "net.ipv4.ip_forward") == 0 && strcmp(c->sysctl[i].value, "1") == 0;
    shm |= strcmp(c->sysctl[i].key, "kernel.shmmax") == 0 && strcmp(c->sysctl[i].value, "65536") == 0;
  }
  ok(fwd, "net.ipv4.ip_forward accepted with a new network namespace");
  ok(shm, "kernel.shmmax accepted with a new ipc namespace");
  is_int(c->n_time_offsets, 1, "one time offset");
  if (c->n_time_offsets == 1)
    ok(c->time_offsets[0].clock == CLOCK_MONOTONIC && c->time_offsets[0].secs == 86400 &&
       c->time_offsets[0].nanosecs == 5, "monotonic offset 86400.000000005");
  ok(c->masked && c->masked[0] && strcmp(c->masked[0], "/proc/kcore") == 0, "maskedPaths");
  ok(c->readonly && c->readonly[0] && strcmp(c->readonly[0], "/proc/sys") == 0, "readonlyPaths");
  is_int(c->rootfs_propagation, MS_PRIVATE | MS_REC, "rootfsPropagation private");
  ok(json_is_object(c->annotations), "annotations kept");
  is_str(json_string_value(json_object_get(c->annotations, "org.example.key")), "value",
         "annotation value");
  is_int(json_object_size(c->annotations), 2, "both annotations kept");
  sbx_config_free(c);

  /* Joining an existing namespace by path does not create it. */
  r = parse_patch("{\"linux\": {\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"mount\"},"
                  " {\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}]}}", &c, &e);
  is_int(r, 0, "joining a network namespace by path parses");
  if (r == 0) {
    ok(!(c->ns_new_flags & CLONE_NEWNET), "a joined namespace is not new");
    ok(c->n_ns == 3 && c->ns[2].path && strcmp(c->ns[2].path, "/proc/1/ns/net") == 0, "namespace path kept");
  }
  sbx_config_free(c);
  r = parse_patch("{\"linux\": {\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"mount\"},"
                  " {\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}],"
                  " \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}}}", &c, &e);
  is_int(r, -EINVAL, "net sysctl refused when the network namespace is joined, not new");
  sbx_config_free(c);
}

static void test_process(void)
{
  struct sbx_config *c = NULL;
  sh_error e;
  int r = parse_patch(
    "{\"process\": {\"terminal\": true, \"noNewPrivileges\": true, \"oomScoreAdj\": -500,"
    " \"env\": [\"PATH=/bin\", \"A=\"],"
    " \"user\": {\"uid\": 1000, \"gid\": 1000, \"additionalGids\": [5, 100], \"umask\": 18},"
    " \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_CHOWN\"], \"effective\": [\"CAP_KILL\"],"
    "                    \"permitted\": [\"CAP_KILL\"], \"inheritable\": [\"CAP_KILL\"], \"ambient\": [\"CAP_KILL\"]},"
    " \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 4096}]}}", &c, &e);
  if (!is_int(r, 0, "full process parses")) {
    diag("%s: %s", e.path, e.msg);
    return;
  }
  ok(c->process.terminal && c->process.no_new_privs, "terminal and noNewPrivileges");
  ok(c->process.oom_score_adj.set && c->process.oom_score_adj.v == -500, "oomScoreAdj");
  ok(c->process.user.uid == 1000 && c->process.user.gid == 1000, "uid/gid 1000");
  ok(c->process.user.n_groups == 2 && c->process.user.groups[1] == 100, "additionalGids");
  ok(c->process.user.umask_set && c->process.user.umask == 022, "umask");
  is_int(c->process.caps.bounding, (1ULL << 5) | (1ULL << 0), "bounding CAP_KILL|CAP_CHOWN");
  is_int(c->process.caps.ambient, 1ULL << 5, "ambient CAP_KILL");
  ok(c->process.n_rlimits == 1 && c->process.rlimits[0].resource == RLIMIT_NOFILE &&
     c->process.rlimits[0].soft == 1024 && c->process.rlimits[0].hard == 4096, "rlimit NOFILE 1024/4096");
  sbx_config_free(c);

  /* Go runtimes write RLIM_INFINITY as uint64 max (18446744073709551615); jsonutil.c
   * says it reads as a real, but jansson rejects the whole document ("too big integer"). */
  char *text = patched("{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 7}]}}");
  char big[4096];
  const char *hard = strstr(text, "\"hard\":7");
  if (ok(hard && strlen(text) + 32 < sizeof big, "rlimit test document built")) {
    size_t pre = (size_t) (hard - text) + strlen("\"hard\":");
    snprintf(big, sizeof big, "%.*s18446744073709551615%s", (int) pre, text, hard + strlen("\"hard\":7"));
    sh_error_clear(&e);
    c = NULL;
    r = sbx_config_parse(big, bundle, &c, &e);
    if (!is_int(r, 0, "rlimit hard 18446744073709551615 (Go's RLIM_INFINITY) parses"))
      diag("%s: %s: %s", e.step, e.path, e.msg);
    ok(c && c->process.n_rlimits == 1 && c->process.rlimits[0].hard == UINT64_MAX,
       "rlimit hard uint64 max reads as UINT64_MAX");
    sbx_config_free(c);
  }
  free(text);
}

int main(void)
{
  snprintf(bundle, sizeof bundle, "%s", "/tmp/sbx-unit-config-XXXXXX");
  if (!mkdtemp(bundle)) {
    perror("mkdtemp");
    return 99;
  }
  if (!realpath(bundle, bundle_abs)) {
    perror("realpath");
    return 99;
  }
  test_minimal();
  test_mounts();
  test_resources();
  test_namespaced_extras();
  test_process();
  test_bad_cases();
  rmdir(bundle);
  return tap_done();
}
