/* The configuration file: a table of keys, each with where it goes. */
#include "config.h"

#include "auth.h"
#include "cleanup.h"
#include "conf.h"
#include "prefix.h"
#include "storage.h"

#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A pool's size: at least 1G ("20G", "512G"). */
static bool parse_pool_size(const char *v, void *dst)
{
  uint64_t x;
  if (sbx_parse_size(v, &x) < 0 || x < (1ull << 30))
    return false;
  memcpy(dst, &x, sizeof x);
  return true;
}

static const struct sh_conf_key keys[] = {
#define STR(k, f, kind) { k, kind, offsetof(struct hd_config, f), sizeof ((struct hd_config *) 0)->f, 0, 0, NULL, NULL }
#define U32(k, f, lo, hi) { k, SH_CONF_U32, offsetof(struct hd_config, f), sizeof(uint32_t), lo, hi, NULL, NULL }
  STR("state_dir", state_dir, SH_CONF_PATH),
  STR("runtime_dir", runtime_dir, SH_CONF_PATH),
  STR("socket", socket, SH_CONF_PATH),
  STR("admin_group", admin_group, SH_CONF_NAME),
  U32("idmap_start", idmap_start, 1, UINT32_MAX - 65536),
  U32("idmap_count", idmap_count, 65536, UINT32_MAX),
  U32("max_body", max_body, 1024, 64u << 20),
  { "pool_size", SH_CONF_OTHER, offsetof(struct hd_config, pool_size), sizeof(uint64_t), 0, 0, parse_pool_size,
    "a size of at least 1G (\"20G\", \"512G\")" },
  STR("pool_driver", pool_driver, SH_CONF_NAME),
  STR("sbx", sbx, SH_CONF_PATH),
  STR("probe", probe, SH_CONF_PATH),
  U32("stop_timeout", stop_timeout, 0, 3600),
  U32("usage_interval", usage_interval, 1, 3600),
  U32("workers", workers, 1, 64),
  STR("network_pool4", network_pool4, SH_CONF_NAME),
  STR("network_pool6", network_pool6, SH_CONF_NAME),
  STR("uplink", uplink, SH_CONF_NAME),
  STR("bpf_dir", bpf_dir, SH_CONF_PATH),   /* "" (the default): chosen at start */
  STR("cgroup_name", cgroup_name, SH_CONF_NAME),
  STR("forward_ports", forward_ports, SH_CONF_NAME),
  STR("portal_socket", portal_socket, SH_CONF_PATH),
  STR("portal_group", portal_group, SH_CONF_NAME),
  U32("session_idle", session_idle, 1, 30 * 86400),
  U32("session_max", session_max, 1, 365 * 86400),
  U32("login_max_failures", login_max_failures, 1, 1000),
  U32("login_lockout", login_lockout, 1, 3600),
  U32("password_min_length", password_min_length, 1, 1024),
  U32("login_queue", login_queue, 1, 4096),
  STR("totp_required_roles", totp_required_roles, SH_CONF_NAME),
#undef STR
#undef U32
};

void hd_config_defaults(struct hd_config *c)
{
  *c = (struct hd_config){
    .state_dir = "/var/lib/sandhost",
    .runtime_dir = "/run/sandhost",
    .socket = "",
    .admin_group = "sandhost-admin",
    /* 1,000 containers' worth above the ids Debian gives users. */
    .idmap_start = 1u << 20,
    .idmap_count = 1000u * 65536,
    .max_body = 1u << 20,
    .pool_size = 20ull << 30,
    .pool_driver = "btrfs",
    .stop_timeout = 10,
    .usage_interval = 60,
    .workers = 4,
    .network_pool4 = "10.64.0.0/16",
    .network_pool6 = "fd53:6e64:7374::/48",
    .bpf_dir = "",   /* /sys/fs/bpf/sandhost, or <runtime_dir>/bpf (hostd/host.c) */
    .cgroup_name = "sandhost",
    .forward_ports = "10000-29999",
    .portal_socket = "",
    .portal_group = "sandhost-portal",
    .session_idle = 1800,
    .session_max = 43200,
    .login_max_failures = 5,
    .login_lockout = 30,
    .password_min_length = 10,
    .login_queue = 64,
    .totp_required_roles = "",
  };
}

int hd_config_set(struct hd_config *c, const char *assignment, const char *where, sh_error *e)
{
  return sh_conf_set(keys, SH_ARRAY_SIZE(keys), c, assignment, where, e);
}

/* Derived values and the checks that span keys. */
int hd_config_finish(struct hd_config *c, const char *path, sh_error *e)
{
  if (!c->socket[0])
    snprintf(c->socket, sizeof c->socket, "%s/sandhostd.sock", c->runtime_dir);
  if (!c->portal_socket[0])
    snprintf(c->portal_socket, sizeof c->portal_socket, "%s/portal.sock", c->runtime_dir);
  if (strcmp(c->portal_socket, c->socket) == 0)
    return sh_err(e, EINVAL, "read configuration", path, "portal_socket: must not be the admin socket %s", c->socket);
  if (hd_role_mask(c->totp_required_roles, NULL) < 0)
    return sh_err(e, EINVAL, "read configuration", path, "totp_required_roles: a comma list of admin, auditor, owner, member");
  static const struct { const char *key; int family; unsigned max_len; } pools[] = {
    { "network_pool4", AF_INET, 24 }, { "network_pool6", AF_INET6, 64 },
  };
  for (size_t i = 0; i < SH_ARRAY_SIZE(pools); i++) {
    struct sh_prefix p;
    const char *v = i ? c->network_pool6 : c->network_pool4;
    if (sh_prefix_parse(v, false, &p, NULL) < 0 || p.family != pools[i].family || p.len > pools[i].max_len)
      return sh_err(e, EINVAL, "read configuration", path, "%s: \"%s\" is not an IPv%d prefix of length %u or less",
                    pools[i].key, v, pools[i].family == AF_INET ? 4 : 6, pools[i].max_len);
  }
  if (strcmp(c->pool_driver, "btrfs") != 0 && strcmp(c->pool_driver, "overlay") != 0)
    return sh_err(e, EINVAL, "read configuration", path, "pool_driver: \"btrfs\" or \"overlay\"");
  unsigned lo, hi;
  char tail;
  if (sscanf(c->forward_ports, "%u-%u%c", &lo, &hi, &tail) != 2 || lo < 1 || lo > hi || hi > 65535)
    return sh_err(e, EINVAL, "read configuration", path, "forward_ports: a range of ports, LOW-HIGH within 1-65535 (\"10000-29999\")");
  c->forward_lo = (uint16_t) lo;
  c->forward_hi = (uint16_t) hi;
  /* One path component below sandhostd's own cgroup. */
  if (!c->cgroup_name[0] || strspn(c->cgroup_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
      strlen(c->cgroup_name) || c->cgroup_name[0] == '.')
    return sh_err(e, EINVAL, "read configuration", path, "cgroup_name: letters, digits, '_', '-' and '.', not first");
  if (c->idmap_count % 65536)
    return sh_err(e, EINVAL, "read configuration", path, "idmap_count: a multiple of 65536 (one range per container)");
  if ((uint64_t) c->idmap_start + c->idmap_count > UINT32_MAX)
    return sh_err(e, EINVAL, "read configuration", path, "idmap_start + idmap_count: beyond the 32-bit id space");
  return 0;
}

int hd_config_load(struct hd_config *c, const char *path, int required, sh_error *e)
{
  return sh_conf_load(keys, SH_ARRAY_SIZE(keys), c, path, required, e);
}
