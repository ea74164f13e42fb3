/* Deterministic, stateless address management for tenant networks. */
#include "ipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int nf_subnet_check(const struct sh_prefix *pool, const struct sh_prefix *req,
                    const struct sh_prefix *used, size_t n_used, sh_error *e)
{
  char a[64], b[64];
  if (!sh_prefix_contains(pool, req))
    return sh_err(e, EINVAL, "subnet", sh_prefix_format(req, false, a, sizeof a),
                  "is outside the provider pool %s", sh_prefix_format(pool, false, b, sizeof b));
  for (size_t i = 0; i < n_used; i++)
    if (sh_prefix_overlaps(req, &used[i]))
      return sh_err(e, EEXIST, "subnet", sh_prefix_format(req, false, a, sizeof a),
                    "overlaps %s, which is in use", sh_prefix_format(&used[i], false, b, sizeof b));
  return 0;
}

int nf_subnet_alloc(const struct sh_prefix *pool, unsigned sub_len, const struct sh_prefix *used,
                    size_t n_used, struct sh_prefix *out, sh_error *e)
{
  char a[64];
  if (sub_len < pool->len || sub_len > sh_prefix_width(pool->family))
    return sh_err(e, EINVAL, "allocate subnet", sh_prefix_format(pool, false, a, sizeof a),
                  "a /%u cannot be cut from this pool", sub_len);
  sh_u128 base = sh_prefix_value(pool), last = base + sh_prefix_span(pool->family, pool->len);
  sh_u128 step = sh_prefix_span(pool->family, sub_len) + 1; /* 0 only for a /0 subnet of a /0 pool */
  sh_u128 cand = base;
  for (;;) {
    struct sh_prefix c;
    sh_prefix_from_value(pool->family, cand, sub_len, &c);
    const struct sh_prefix *hit = NULL;
    for (size_t i = 0; i < n_used && !hit; i++)
      if (sh_prefix_overlaps(&c, &used[i]))
        hit = &used[i];
    if (!hit) {
      *out = c;
      return 0;
    }
    /* Skip past whichever is larger: the candidate or the block in the way. */
    sh_u128 end = hit->len < sub_len ? (sh_prefix_value(hit) & sh_prefix_mask(hit->family, hit->len)) + sh_prefix_span(hit->family, hit->len)
                                  : cand + step - 1;
    if (step == 0 || end >= last)
      break;
    cand = end + 1;
    cand = (cand + step - 1) / step * step; /* keep subnets aligned */
    if (cand > last || cand < base)
      break;
  }
  return sh_err(e, ENOSPC, "allocate subnet", sh_prefix_format(pool, false, a, sizeof a),
                "no free /%u left in the pool", sub_len);
}

int nf_gateway(const struct sh_prefix *subnet, struct sh_prefix *out, sh_error *e)
{
  char a[64];
  unsigned w = sh_prefix_width(subnet->family);
  if (subnet->len > w - 2)
    return sh_err(e, EINVAL, "gateway", sh_prefix_format(subnet, false, a, sizeof a),
                  "a subnet needs at least 4 addresses");
  sh_prefix_from_value(subnet->family, (sh_prefix_value(subnet) & sh_prefix_mask(subnet->family, subnet->len)) + 1, w, out);
  return 0;
}

static int cmp_u128(const void *a, const void *b)
{
  sh_u128 x = *(const sh_u128 *) a, y = *(const sh_u128 *) b;
  return x < y ? -1 : x > y;
}

int nf_addr_alloc(const struct sh_prefix *subnet, const struct sh_prefix *used, size_t n_used,
                  struct sh_prefix *out, sh_error *e)
{
  char a[64];
  struct sh_prefix gw;
  int r = nf_gateway(subnet, &gw, e);
  if (r < 0)
    return r;
  sh_u128 net = sh_prefix_value(subnet) & sh_prefix_mask(subnet->family, subnet->len);
  sh_u128 last = net + sh_prefix_span(subnet->family, subnet->len);
  if (subnet->family == AF_INET)
    last--; /* the broadcast address */
  sh_u128 *taken = calloc(n_used + 1, sizeof *taken);
  if (!taken)
    return sh_err(e, ENOMEM, "allocate address", NULL, NULL);
  size_t n = 0;
  for (size_t i = 0; i < n_used; i++)
    if (used[i].family == subnet->family && sh_prefix_contains(subnet, &used[i]))
      taken[n++] = sh_prefix_value(&used[i]);
  qsort(taken, n, sizeof *taken, cmp_u128);
  sh_u128 cand = net + 2; /* after the gateway */
  for (size_t i = 0; i < n; i++) {
    if (taken[i] < cand)
      continue;
    if (taken[i] > cand)
      break;
    cand++;
  }
  free(taken);
  if (cand > last)
    return sh_err(e, ENOSPC, "allocate address", sh_prefix_format(subnet, false, a, sizeof a),
                  "no free address left in the subnet");
  sh_prefix_from_value(subnet->family, cand, sh_prefix_width(subnet->family), out);
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

void nf_link_local(const uint8_t mac[6], uint8_t out[16])
{
  memset(out, 0, 16);
  out[0] = 0xfe;
  out[1] = 0x80;
  out[8] = mac[0] ^ 0x02; /* the universal/local bit, inverted */
  out[9] = mac[1];
  out[10] = mac[2];
  out[11] = 0xff;
  out[12] = 0xfe;
  out[13] = mac[3];
  out[14] = mac[4];
  out[15] = mac[5];
}
