/* sbx_spec_generate: both specs parse with our own parser and carry the
 * hardened defaults. */
#include "config.h"
#include "sandbox.h"
#include "sbx-seccomp.h"
#include "tap.h"

#include <errno.h>
#include <limits.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool strv_has(char **v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp(*v, s) == 0)
      return true;
  return false;
}

static bool json_strv_has(json_t *arr, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v)
    if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
      return true;
  return false;
}

static void check_spec(bool hardened, const char *bundle)
{
  const char *name = hardened ? "hardened" : "plain";
  char *text = NULL;
  sh_error e = {0};
  int r = sbx_spec_generate(hardened, &text, &e);
  if (!is_int(r, 0, "%s: spec generated", name)) {
    diag("%s: %s: %s", e.step, e.path, e.msg);
    return;
  }
  struct sbx_config *c = NULL;
  r = sbx_config_parse(text, bundle, &c, &e);
  if (!is_int(r, 0, "%s: spec parses with sbx_config_parse", name)) {
    diag("%s: %s: %s", e.step, e.path, e.msg);
    free(text);
    return;
  }
  json_t *linux_ = json_object_get(c->json, "linux");

  ok(c->ns_new_flags & CLONE_NEWUSER, "%s: new user namespace", name);
  ok(c->n_uid_map >= 1 && c->n_gid_map >= 1, "%s: uid and gid maps", name);
  bool host_root = false;
  for (size_t i = 0; i < c->n_uid_map; i++)
    host_root |= c->uid_map[i].host_id == 0;
  for (size_t i = 0; i < c->n_gid_map; i++)
    host_root |= c->gid_map[i].host_id == 0;
  ok(!host_root, "%s: no uidMappings/gidMappings hostID is 0", name);
  ok(c->process.no_new_privs, "%s: noNewPrivileges is true", name);
  ok(strv_has(c->masked, "/proc/kcore"), "%s: maskedPaths has /proc/kcore", name);
  ok(strv_has(c->readonly, "/proc/sys"), "%s: readonlyPaths has /proc/sys", name);
  ok(c->n_mounts > 0, "%s: has mounts", name);
  is_str(c->root_path ? strrchr(c->root_path, '/') : NULL, "/rootfs", "%s: root is ./rootfs", name);

  json_t *seccomp = json_object_get(linux_, "seccomp");
  if (hardened) {
    ok(json_is_object(seccomp) && json_is_string(json_object_get(seccomp, "defaultAction")),
       "hardened: linux.seccomp has defaultAction");
    ok(c->seccomp == seccomp, "hardened: the parser keeps linux.seccomp");
    json_t *devs = json_object_get(json_object_get(linux_, "resources"), "devices");
    ok(json_is_array(devs) && json_array_size(devs) > 1, "hardened: resources.devices is a list");
    ok(c->res.n_devices > 1 && !c->res.devices[0].allow && c->res.devices[0].type == 'a' &&
       c->res.devices[0].major == -1 && c->res.devices[0].minor == -1 &&
       c->res.devices[0].access == (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD),
       "hardened: resources.devices starts with deny-all rwm");
    bool null_dev = false;
    for (size_t i = 1; i < c->res.n_devices; i++)
      null_dev |= c->res.devices[i].allow && c->res.devices[i].type == 'c' &&
                  c->res.devices[i].major == 1 && c->res.devices[i].minor == 3;
    ok(null_dev, "hardened: /dev/null (c 1:3) is allowed");
    ok(c->res.any && c->res.mem_limit.set && c->res.pids_limit.set, "hardened: memory and pids limits");
    ok(!(c->process.caps.bounding & (1ULL << 16)), "hardened: no CAP_SYS_MODULE in bounding");
  } else {
    ok(seccomp == NULL, "plain: no seccomp");
    ok(!c->res.any, "plain: no resource limits");
  }
  json_t *caps = json_object_get(json_object_get(json_object_get(c->json, "process"), "capabilities"), "bounding");
  ok(!json_strv_has(caps, "CAP_SYS_MODULE") && !json_strv_has(caps, "CAP_SYS_RAWIO") &&
     !json_strv_has(caps, "CAP_SYS_PTRACE") && !json_strv_has(caps, "CAP_BPF"),
     "%s: bounding set lacks SYS_MODULE, SYS_RAWIO, SYS_PTRACE, BPF", name);
  sbx_config_free(c);
  free(text);
}

/* --seccomp picks a built-in profile; an unknown name is an error naming it. */
static void check_profiles(void)
{
  json_t *strict = NULL, *def = NULL;
  sh_error e = {0};
  is_int(sbx_seccomp_profile("strict", &strict, &e), 0, "profile: strict is built in");
  is_int(sbx_seccomp_profile("default", &def, &e), 0, "profile: default is built in");
  ok(strict && def && !json_equal(strict, def), "profile: strict and default differ");

  char *text = NULL;
  struct sbx_spec_opts o = { .hardened = true, .seccomp = "strict" };
  is_int(sbx_spec_generate_opts(&o, &text, &e), 0, "profile: a hardened spec with --seccomp strict");
  json_t *spec = text ? json_loads(text, 0, NULL) : NULL;
  ok(spec && json_equal(json_object_get(json_object_get(spec, "linux"), "seccomp"), strict),
     "profile: its linux.seccomp is the strict profile");
  ok(json_is_object(json_object_get(json_object_get(json_object_get(spec, "linux"), "resources"), "memory")),
     "profile: and the hardened limits are still there");
  json_decref(spec);
  free(text);
  text = NULL;

  o = (struct sbx_spec_opts) { .hardened = false, .seccomp = NULL };
  is_int(sbx_spec_generate_opts(&o, &text, &e), 0, "profile: a plain spec");
  spec = text ? json_loads(text, 0, NULL) : NULL;
  ok(spec && !json_object_get(json_object_get(spec, "linux"), "seccomp"), "profile: a plain spec has no seccomp");
  json_decref(spec);
  free(text);
  text = NULL;

  sh_error bad = {0};
  o = (struct sbx_spec_opts) { .hardened = true, .seccomp = "lax" };
  is_int(sbx_spec_generate_opts(&o, &text, &bad), -EINVAL, "profile: an unknown profile is EINVAL");
  is_str(bad.path, "lax", "profile: the error names it");
  ok(text == NULL, "profile: and no spec is written");
  json_decref(strict);
  json_decref(def);
}

int main(void)
{
  char bundle[] = "/tmp/sbx-unit-spec-XXXXXX";
  if (!mkdtemp(bundle)) {
    perror("mkdtemp");
    return 99;
  }
  check_spec(false, bundle);
  check_spec(true, bundle);
  check_profiles();
  rmdir(bundle);
  return tap_done();
}
