/* Deterministic, stateless address management for tenant networks. */
#include "ipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef unsigned __int128 u128;

static unsigned width(int family)
{
  return family == AF_INET ? 32 : 128;
}

static u128 to_u128(const struct nf_prefix *p)
{
  u128 v = 0;
  for (unsigned i = 0; i < width(p->family) / 8; i++)
    v = (v << 8) | p->addr[i];
  return v;
}

static void from_u128(int family, u128 v, unsigned len, struct nf_prefix *out)
{
  memset(out, 0, sizeof *out);
  out->family = family;
  out->len = len;
  for (int i = (int) width(family) / 8 - 1; i >= 0; i--) {
    out->addr[i] = (uint8_t) (v & 0xff);
    v >>= 8;
  }
}

/* The number of addresses a prefix spans, minus one (fits even for /0). */
static u128 span(int family, unsigned len)
{
  unsigned host = width(family) - len;
  return host == 128 ? ~(u128) 0 : ((u128) 1 << host) - 1;
}

static u128 netmask(int family, unsigned len)
{
  u128 all = family == AF_INET ? (u128) 0xffffffffu : ~(u128) 0;
  return all & ~span(family, len);
}

int nf_prefix_parse(const char *s, bool host_bits_ok, struct nf_prefix *out, sh_error *e)
{
  char buf[64];
  if (!s || strlen(s) >= sizeof buf)
    return sh_err(e, EINVAL, "parse prefix", s ? s : "", "not an address or prefix");
  strcpy(buf, s);
  char *slash = strchr(buf, '/');
  if (slash)
    *slash = '\0';
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, buf, out->addr) == 1)
    out->family = AF_INET;
  else if (inet_pton(AF_INET6, buf, out->addr) == 1)
    out->family = AF_INET6;
  else
    return sh_err(e, EINVAL, "parse prefix", s, "not an IPv4 or IPv6 address");
  out->len = width(out->family);
  if (slash) {
    char *end;
    long len = strtol(slash + 1, &end, 10);
    if (!slash[1] || *end || len < 0 || len > (long) width(out->family))
      return sh_err(e, EINVAL, "parse prefix", s, "prefix length must be 0..%u", width(out->family));
    out->len = (unsigned) len;
  }
  if (!host_bits_ok && (to_u128(out) & span(out->family, out->len)))
    return sh_err(e, EINVAL, "parse prefix", s, "has bits set below the /%u prefix length", out->len);
  return 0;
}

const char *nf_prefix_format(const struct nf_prefix *p, bool bare_host, char *buf, size_t len)
{
  char a[INET6_ADDRSTRLEN];
  inet_ntop(p->family, p->addr, a, sizeof a);
  if (bare_host && p->len == width(p->family))
    snprintf(buf, len, "%s", a);
  else
    snprintf(buf, len, "%s/%u", a, p->len);
  return buf;
}

bool nf_prefix_contains(const struct nf_prefix *outer, const struct nf_prefix *inner)
{
  if (outer->family != inner->family || outer->len > inner->len)
    return false;
  u128 m = netmask(outer->family, outer->len);
  return (to_u128(inner) & m) == (to_u128(outer) & m);
}

bool nf_prefix_overlaps(const struct nf_prefix *a, const struct nf_prefix *b)
{
  return nf_prefix_contains(a, b) || nf_prefix_contains(b, a);
}

int nf_subnet_check(const struct nf_prefix *pool, const struct nf_prefix *req,
                    const struct nf_prefix *used, size_t n_used, sh_error *e)
{
  char a[64], b[64];
  if (!nf_prefix_contains(pool, req))
    return sh_err(e, EINVAL, "subnet", nf_prefix_format(req, false, a, sizeof a),
                  "is outside the provider pool %s", nf_prefix_format(pool, false, b, sizeof b));
  for (size_t i = 0; i < n_used; i++)
    if (nf_prefix_overlaps(req, &used[i]))
      return sh_err(e, EEXIST, "subnet", nf_prefix_format(req, false, a, sizeof a),
                    "overlaps %s, which is in use", nf_prefix_format(&used[i], false, b, sizeof b));
  return 0;
}

int nf_subnet_alloc(const struct nf_prefix *pool, unsigned sub_len, const struct nf_prefix *used,
                    size_t n_used, struct nf_prefix *out, sh_error *e)
{
  char a[64];
  if (sub_len < pool->len || sub_len > width(pool->family))
    return sh_err(e, EINVAL, "allocate subnet", nf_prefix_format(pool, false, a, sizeof a),
                  "a /%u cannot be cut from this pool", sub_len);
  u128 base = to_u128(pool), last = base + span(pool->family, pool->len);
  u128 step = span(pool->family, sub_len) + 1; /* 0 only for a /0 subnet of a /0 pool */
  u128 cand = base;
  for (;;) {
    struct nf_prefix c;
    from_u128(pool->family, cand, sub_len, &c);
    const struct nf_prefix *hit = NULL;
    for (size_t i = 0; i < n_used && !hit; i++)
      if (nf_prefix_overlaps(&c, &used[i]))
        hit = &used[i];
    if (!hit) {
      *out = c;
      return 0;
    }
    /* Skip past whichever is larger: the candidate or the block in the way. */
    u128 end = hit->len < sub_len ? (to_u128(hit) & netmask(hit->family, hit->len)) + span(hit->family, hit->len)
                                  : cand + step - 1;
    if (step == 0 || end >= last)
      break;
    cand = end + 1;
    cand = (cand + step - 1) / step * step; /* keep subnets aligned */
    if (cand > last || cand < base)
      break;
  }
  return sh_err(e, ENOSPC, "allocate subnet", nf_prefix_format(pool, false, a, sizeof a),
                "no free /%u left in the pool", sub_len);
}

int nf_gateway(const struct nf_prefix *subnet, struct nf_prefix *out, sh_error *e)
{
  char a[64];
  unsigned w = width(subnet->family);
  if (subnet->len > w - 2)
    return sh_err(e, EINVAL, "gateway", nf_prefix_format(subnet, false, a, sizeof a),
                  "a subnet needs at least 4 addresses");
  from_u128(subnet->family, (to_u128(subnet) & netmask(subnet->family, subnet->len)) + 1, w, out);
  return 0;
}

static int cmp_u128(const void *a, const void *b)
{
  u128 x = *(const u128 *) a, y = *(const u128 *) b;
  return x < y ? -1 : x > y;
}

int nf_addr_alloc(const struct nf_prefix *subnet, const struct nf_prefix *used, size_t n_used,
                  struct nf_prefix *out, sh_error *e)
{
  char a[64];
  struct nf_prefix gw;
  int r = nf_gateway(subnet, &gw, e);
  if (r < 0)
    return r;
  u128 net = to_u128(subnet) & netmask(subnet->family, subnet->len);
  u128 last = net + span(subnet->family, subnet->len);
  if (subnet->family == AF_INET)
    last--; /* the broadcast address */
  u128 *taken = calloc(n_used + 1, sizeof *taken);
  if (!taken)
    return sh_err(e, ENOMEM, "allocate address", NULL, NULL);
  size_t n = 0;
  for (size_t i = 0; i < n_used; i++)
    if (used[i].family == subnet->family && nf_prefix_contains(subnet, &used[i]))
      taken[n++] = to_u128(&used[i]);
  qsort(taken, n, sizeof *taken, cmp_u128);
  u128 cand = net + 2; /* after the gateway */
  for (size_t i = 0; i < n; i++) {
    if (taken[i] < cand)
      continue;
    if (taken[i] > cand)
      break;
    cand++;
  }
  free(taken);
  if (cand > last)
    return sh_err(e, ENOSPC, "allocate address", nf_prefix_format(subnet, false, a, sizeof a),
                  "no free address left in the subnet");
  from_u128(subnet->family, cand, width(subnet->family), out);
  return 0;
}

void nf_mac_for(uint64_t container_id, uint8_t mac[6])
{
  /* 0x02: locally administered, unicast; 0x53 ('S') marks Sandhost ports. */
  mac[0] = 0x02;
  mac[1] = 0x53;
  for (int i = 0; i < 4; i++)
    mac[2 + i] = (uint8_t) (container_id >> (8 * (3 - i)));
}

/* IFNAMSIZ is 16 with the NUL: two letters and up to 13 hex digits. */
#define ID_HEX_MASK ((1ULL << 52) - 1)

void nf_veth_names(uint64_t container_id, char host[16], char peer[16])
{
  snprintf(host, 16, "sh%llx", (unsigned long long) (container_id & ID_HEX_MASK));
  snprintf(peer, 16, "sp%llx", (unsigned long long) (container_id & ID_HEX_MASK));
}

void nf_bridge_name(uint64_t network_id, char name[16])
{
  snprintf(name, 16, "sb%llx", (unsigned long long) (network_id & ID_HEX_MASK));
}
