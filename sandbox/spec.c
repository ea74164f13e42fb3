/* `sbx spec`: a config.json for ./rootfs, like `runc spec`, but always with a
 * user namespace.  --hardened adds the project's seccomp profile, cgroup
 * limits and a device allowlist; --seccomp picks the profile. */
#include "sandbox.h"
#include "cleanup.h"
#include "jsonutil.h"
#include "sbx-seccomp.h"

#include <errno.h>
#include <string.h>

/* The first host id of the default mapping; hostd allocates real ranges. */
#define SPEC_HOST_ID 100000
#define SPEC_RANGE 65536

static const char *const masked_paths[] = {
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
  "/sys/firmware", "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static const struct { const char *dest, *type, *source, *opts; } default_mounts[] = {
  {"/proc", "proc", "proc", "nosuid,noexec,nodev"},
  {"/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"},
  {"/dev/pts", "devpts", "devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"},
  {"/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k"},
  {"/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"},
  {"/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"},
  {"/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro"},
};

static const char *const basic_caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" };

/* What a system container's root needs inside its user namespace.  SYS_ADMIN
 * and NET_ADMIN count only there: they let systemd mount and sandbox services
 * and let the tenant configure its own network namespace, nothing on the host. */
static const char *const hardened_caps[] = {
  "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID",
  "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT",
  "CAP_KILL", "CAP_AUDIT_WRITE",
};

/* Device allowlist of the hardened spec: the nodes sbx puts in /dev. */
static const struct { const char *type; int major, minor; const char *access; } allowed_devices[] = {
  {"c", 1, 3, "rwm"}, {"c", 1, 5, "rwm"}, {"c", 1, 7, "rwm"}, {"c", 1, 8, "rwm"},
  {"c", 1, 9, "rwm"}, {"c", 5, 0, "rwm"}, {"c", 5, 1, "rwm"}, {"c", 5, 2, "rwm"},
  {"c", 136, -1, "rwm"},
};

static json_t *strv_json(const char *const *v, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

static json_t *split_opts(const char *s)
{
  json_t *a = json_array();
  _cleanup_free_ char *dup = strdup(s);
  char *save = NULL;
  for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
    json_array_append_new(a, json_string(t));
  return a;
}

int sbx_spec_generate(bool hardened, char **json_out, sh_error *e)
{
  struct sbx_spec_opts o = { .hardened = hardened };
  return sbx_spec_generate_opts(&o, json_out, e);
}

int sbx_spec_generate_opts(const struct sbx_spec_opts *o, char **json_out, sh_error *e)
{
  bool hardened = o->hardened;
  const char *seccomp = o->seccomp ? o->seccomp : hardened ? "default" : NULL;
  const char *const *caps = hardened ? hardened_caps : basic_caps;
  size_t ncaps = hardened ? SH_ARRAY_SIZE(hardened_caps) : SH_ARRAY_SIZE(basic_caps);
  json_t *mounts = json_array();
  for (size_t i = 0; i < SH_ARRAY_SIZE(default_mounts); i++)
    json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:o}", "destination", default_mounts[i].dest,
                                            "type", default_mounts[i].type, "source", default_mounts[i].source,
                                            "options", split_opts(default_mounts[i].opts)));
  json_t *ns = json_array();
  static const char *const nss[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", "user" };
  for (size_t i = 0; i < SH_ARRAY_SIZE(nss); i++)
    json_array_append_new(ns, json_pack("{s:s}", "type", nss[i]));
  json_t *map = json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", SPEC_HOST_ID, "size", SPEC_RANGE);

  _cleanup_json_ json_t *spec = json_pack(
    "{s:s,"
    " s:{s:b,s:{s:i,s:i},s:[s],s:[s,s],s:s,"
    "    s:{s:o,s:o,s:o},"
    "    s:[{s:s,s:i,s:i}],s:b},"
    " s:{s:s,s:b},s:s,s:o,"
    " s:{s:o,s:O,s:O,s:o,s:o,s:o}}",
    "ociVersion", "1.2.0",
    "process", "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh",
    "env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
    "cwd", "/",
    "capabilities", "bounding", strv_json(caps, ncaps), "effective", strv_json(caps, ncaps),
    "permitted", strv_json(caps, ncaps),
    "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1,
    "root", "path", "rootfs", "readonly", hardened ? 0 : 1,
    "hostname", "sbx", "mounts", mounts,
    "linux", "namespaces", ns, "uidMappings", map, "gidMappings", map,
    "maskedPaths", strv_json(masked_paths, SH_ARRAY_SIZE(masked_paths)),
    "readonlyPaths", strv_json(readonly_paths, SH_ARRAY_SIZE(readonly_paths)),
    "resources", json_object());
  json_decref(map);
  if (!spec)
    return sh_err(e, ENOMEM, "spec", NULL, NULL);

  json_t *linux_ = json_object_get(spec, "linux");
  if (seccomp) {
    json_t *profile = NULL;
    int r = sbx_seccomp_profile(seccomp, &profile, e);
    if (r < 0)
      return r;
    json_object_set_new(linux_, "seccomp", profile);
  }
  if (hardened) {
    json_t *devs = json_array();
    json_array_append_new(devs, json_pack("{s:b,s:s}", "allow", 0, "access", "rwm"));
    for (size_t i = 0; i < SH_ARRAY_SIZE(allowed_devices); i++) {
      json_t *d = json_pack("{s:b,s:s,s:i,s:s}", "allow", 1, "type", allowed_devices[i].type,
                            "major", allowed_devices[i].major, "access", allowed_devices[i].access);
      if (allowed_devices[i].minor >= 0)
        json_object_set_new(d, "minor", json_integer(allowed_devices[i].minor));
      json_array_append_new(devs, d);
    }
    json_object_set_new(json_object_get(linux_, "resources"), "devices", devs);
    json_object_set_new(json_object_get(linux_, "resources"), "memory",
                        json_pack("{s:I}", "limit", (json_int_t) 1 << 30));
    json_object_set_new(json_object_get(linux_, "resources"), "pids", json_pack("{s:i}", "limit", 4096));
    json_object_set_new(json_object_get(linux_, "resources"), "cpu", json_pack("{s:i}", "shares", 1024));
  }
  *json_out = json_dumps(spec, JSON_INDENT(2));
  return *json_out ? 0 : sh_err(e, ENOMEM, "spec", NULL, NULL);
}
