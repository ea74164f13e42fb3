/* `sbx features`: the runtime-spec features document. */
#include "sandbox.h"
#include "config.h"
#include "cleanup.h"
#include "jsonutil.h"

#include <errno.h>

int sbx_features(char **json_out, sh_error *e)
{
  static const char *const mount_opts[] = {
    "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noatime", "relatime",
    "strictatime", "nodiratime", "diratime", "atime", "norelatime", "rro", "rrw", "rnosuid",
    "rnodev", "rnoexec", "bind", "rbind", "private", "rprivate", "slave", "rslave",
    "unbindable", "runbindable" };
  static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time" };
  static const char *const actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP" };
  static const char *const operators[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
    "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE" };
  static const char *const archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM" };
  json_t *mo = json_array(), *ns = json_array(), *ca = json_array(), *ac = json_array(),
         *op = json_array(), *ar = json_array();
  for (size_t i = 0; i < SH_ARRAY_SIZE(mount_opts); i++)
    json_array_append_new(mo, json_string(mount_opts[i]));
  for (size_t i = 0; i < SH_ARRAY_SIZE(namespaces); i++)
    json_array_append_new(ns, json_string(namespaces[i]));
  for (int c = 0; c <= sh_cap_last(); c++)
    if (sh_cap_name(c))
      json_array_append_new(ca, json_string(sh_cap_name(c)));
  for (size_t i = 0; i < SH_ARRAY_SIZE(actions); i++)
    json_array_append_new(ac, json_string(actions[i]));
  for (size_t i = 0; i < SH_ARRAY_SIZE(operators); i++)
    json_array_append_new(op, json_string(operators[i]));
  for (size_t i = 0; i < SH_ARRAY_SIZE(archs); i++)
    json_array_append_new(ar, json_string(archs[i]));
  _cleanup_json_ json_t *j = json_pack(
    "{s:s,s:s,s:[],s:o,s:{s:o,s:o,s:{s:b,s:b,s:b,s:b},s:{s:b,s:o,s:o,s:o},s:{s:b},s:{s:b}},"
    "s:{s:s}}",
    "ociVersionMin", "1.0.0", "ociVersionMax", "1.2.0", "hooks", "mountOptions", mo,
    "linux", "namespaces", ns, "capabilities", ca,
    "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0,
    "seccomp", "enabled", 1, "actions", ac, "operators", op, "archs", ar,
    "apparmor", "enabled", 0, "selinux", "enabled", 1,
    "annotations", "org.sandhost.runtime", "sbx");
  if (!j)
    return sh_err(e, ENOMEM, "features", NULL, NULL);
  *json_out = json_dumps(j, JSON_INDENT(2));
  return *json_out ? 0 : sh_err(e, ENOMEM, "features", NULL, NULL);
}
