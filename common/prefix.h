/* IP prefixes (IPv4 and IPv6) as one type, shared by netfw and policy. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct sh_prefix {
  int family;          /* AF_INET or AF_INET6 */
  uint8_t addr[16];    /* network byte order; IPv4 in the first 4 bytes */
  unsigned len;        /* prefix length */
};

/* "10.0.0.0/8", "fd00:1::/48"; a bare address is a host prefix.  Bits below
 * the prefix length must be zero unless host_bits_ok. */
int sh_prefix_parse(const char *s, bool host_bits_ok, struct sh_prefix *out, sh_error *e);
/* "10.1.2.0/24" (or a bare address for a host prefix when bare_host). */
const char *sh_prefix_format(const struct sh_prefix *p, bool bare_host, char *buf, size_t len);
bool sh_prefix_contains(const struct sh_prefix *outer, const struct sh_prefix *inner);
bool sh_prefix_overlaps(const struct sh_prefix *a, const struct sh_prefix *b);

/* Address arithmetic: addresses as 128-bit integers. */
typedef unsigned __int128 sh_u128;
unsigned sh_prefix_width(int family);
sh_u128 sh_prefix_value(const struct sh_prefix *p);
void sh_prefix_from_value(int family, sh_u128 v, unsigned len, struct sh_prefix *out);
/* Addresses a prefix spans, minus one (fits even for /0). */
sh_u128 sh_prefix_span(int family, unsigned len);
sh_u128 sh_prefix_mask(int family, unsigned len);
