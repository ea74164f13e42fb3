/* The configuration file: a table of keys, each with where it goes. */
#include "config.h"

#include "auth.h"
#include "cleanup.h"
#include "prefix.h"
#include "storage.h"

#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_PATH, K_NAME, K_U32, K_SIZE };

static const struct key {
  const char *name;
  enum kind kind;
  size_t off, size;
  uint32_t min, max;
} keys[] = {
#define STR(k, f, kind) { k, kind, offsetof(struct hd_config, f), sizeof ((struct hd_config *) 0)->f, 0, 0 }
#define U32(k, f, lo, hi) { k, K_U32, offsetof(struct hd_config, f), sizeof(uint32_t), lo, hi }
  STR("state_dir", state_dir, K_PATH),
  STR("runtime_dir", runtime_dir, K_PATH),
  STR("socket", socket, K_PATH),
  STR("admin_group", admin_group, K_NAME),
  U32("idmap_start", idmap_start, 1, UINT32_MAX - 65536),
  U32("idmap_count", idmap_count, 65536, UINT32_MAX),
  U32("max_body", max_body, 1024, 64u << 20),
  { "pool_size", K_SIZE, offsetof(struct hd_config, pool_size), sizeof(uint64_t), 0, 0 },
  STR("pool_driver", pool_driver, K_NAME),
  STR("sbx", sbx, K_PATH),
  STR("probe", probe, K_PATH),
  U32("stop_timeout", stop_timeout, 0, 3600),
  U32("usage_interval", usage_interval, 1, 3600),
  U32("workers", workers, 1, 64),
  STR("network_pool4", network_pool4, K_NAME),
  STR("network_pool6", network_pool6, K_NAME),
  STR("uplink", uplink, K_NAME),
  STR("bpf_dir", bpf_dir, K_PATH),   /* "" (the default): chosen at start */
  STR("cgroup_name", cgroup_name, K_NAME),
  STR("forward_ports", forward_ports, K_NAME),
  STR("portal_socket", portal_socket, K_PATH),
  STR("portal_group", portal_group, K_NAME),
  U32("session_idle", session_idle, 1, 30 * 86400),
  U32("session_max", session_max, 1, 365 * 86400),
  U32("login_max_failures", login_max_failures, 1, 1000),
  U32("login_lockout", login_lockout, 1, 3600),
  U32("password_min_length", password_min_length, 1, 1024),
  U32("login_queue", login_queue, 1, 4096),
  STR("totp_required_roles", totp_required_roles, K_NAME),
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

static char *trim(char *s)
{
  while (isspace((unsigned char) *s))
    s++;
  char *end = s + strlen(s);
  while (end > s && isspace((unsigned char) end[-1]))
    *--end = 0;
  return s;
}

static int set_kv(struct hd_config *c, const char *k, const char *v, const char *where, sh_error *e)
{
  for (size_t i = 0; i < SH_ARRAY_SIZE(keys); i++) {
    const struct key *key = &keys[i];
    if (strcmp(key->name, k) != 0)
      continue;
    char *dst = (char *) c + key->off;
    switch (key->kind) {
    case K_PATH:
      if (v[0] != '/' || strlen(v) >= key->size)
        return sh_err(e, EINVAL, "read configuration", where, "%s: an absolute path shorter than %zu characters", k, key->size);
      break;
    case K_NAME:
      if (strlen(v) >= key->size)
        return sh_err(e, EINVAL, "read configuration", where, "%s: at most %zu characters", k, key->size - 1);
      break;
    case K_U32: {
      char *end;
      errno = 0;
      unsigned long long x = strtoull(v, &end, 10);
      if (errno || end == v || *end || x < key->min || x > key->max)
        return sh_err(e, EINVAL, "read configuration", where, "%s: a number from %u to %u", k, key->min, key->max);
      uint32_t u = (uint32_t) x;
      memcpy(dst, &u, sizeof u);
      return 0;
    }
    case K_SIZE: {
      uint64_t x;
      if (sbx_parse_size(v, &x) < 0 || x < (1ull << 30))
        return sh_err(e, EINVAL, "read configuration", where, "%s: a size of at least 1G (\"20G\", \"512G\")", k);
      memcpy(dst, &x, sizeof x);
      return 0;
    }
    }
    snprintf(dst, key->size, "%s", v);
    return 0;
  }
  return sh_err(e, EINVAL, "read configuration", where, "%s: unknown key", k);
}

int hd_config_set(struct hd_config *c, const char *assignment, const char *where, sh_error *e)
{
  _cleanup_free_ char *copy = strdup(assignment);
  if (!copy)
    return sh_err(e, ENOMEM, "read configuration", where, NULL);
  char *eq = strchr(copy, '=');
  if (!eq)
    return sh_err(e, EINVAL, "read configuration", where, "\"%s\": key = value expected", assignment);
  *eq = 0;
  return set_kv(c, trim(copy), trim(eq + 1), where, e);
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
  _cleanup_fclose_ FILE *f = path ? fopen(path, "re") : NULL;
  if (!f) {
    if (path && (required || errno != ENOENT))
      return sh_errno(e, "read configuration", path);
    return 0;
  }
  char line[1024];
  for (int n = 1; fgets(line, sizeof line, f); n++) {
    char where[300];
    snprintf(where, sizeof where, "%s:%d", path, n);
    char *hash = strchr(line, '#');
    if (hash)
      *hash = 0;
    char *s = trim(line);
    if (!*s)
      continue;
    int r = hd_config_set(c, s, where, e);
    if (r < 0)
      return r;
  }
  return 0;
}
