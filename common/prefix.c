/* IP prefixes: parsing, formatting and containment, for IPv4 and IPv6. */
#include "prefix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>


unsigned sh_prefix_width(int family)
{
  return family == AF_INET ? 32 : 128;
}

sh_u128 sh_prefix_value(const struct sh_prefix *p)
{
  sh_u128 v = 0;
  for (unsigned i = 0; i < sh_prefix_width(p->family) / 8; i++)
    v = (v << 8) | p->addr[i];
  return v;
}

void sh_prefix_from_value(int family, sh_u128 v, unsigned len, struct sh_prefix *out)
{
  memset(out, 0, sizeof *out);
  out->family = family;
  out->len = len;
  for (int i = (int) sh_prefix_width(family) / 8 - 1; i >= 0; i--) {
    out->addr[i] = (uint8_t) (v & 0xff);
    v >>= 8;
  }
}

/* The number of addresses a prefix spans, minus one (fits even for /0). */
sh_u128 sh_prefix_span(int family, unsigned len)
{
  unsigned host = sh_prefix_width(family) - len;
  return host == 128 ? ~(sh_u128) 0 : ((sh_u128) 1 << host) - 1;
}

sh_u128 sh_prefix_mask(int family, unsigned len)
{
  sh_u128 all = family == AF_INET ? (sh_u128) 0xffffffffu : ~(sh_u128) 0;
  return all & ~sh_prefix_span(family, len);
}

int sh_prefix_parse(const char *s, bool host_bits_ok, struct sh_prefix *out, sh_error *e)
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
  out->len = sh_prefix_width(out->family);
  if (slash) {
    char *end;
    long len = strtol(slash + 1, &end, 10);
    if (!slash[1] || *end || len < 0 || len > (long) sh_prefix_width(out->family))
      return sh_err(e, EINVAL, "parse prefix", s, "prefix length must be 0..%u", sh_prefix_width(out->family));
    out->len = (unsigned) len;
  }
  if (!host_bits_ok && (sh_prefix_value(out) & sh_prefix_span(out->family, out->len)))
    return sh_err(e, EINVAL, "parse prefix", s, "has bits set below the /%u prefix length", out->len);
  return 0;
}

const char *sh_prefix_format(const struct sh_prefix *p, bool bare_host, char *buf, size_t len)
{
  char a[INET6_ADDRSTRLEN];
  inet_ntop(p->family, p->addr, a, sizeof a);
  if (bare_host && p->len == sh_prefix_width(p->family))
    snprintf(buf, len, "%s", a);
  else
    snprintf(buf, len, "%s/%u", a, p->len);
  return buf;
}

bool sh_prefix_contains(const struct sh_prefix *outer, const struct sh_prefix *inner)
{
  if (outer->family != inner->family || outer->len > inner->len)
    return false;
  sh_u128 m = sh_prefix_mask(outer->family, outer->len);
  return (sh_prefix_value(inner) & m) == (sh_prefix_value(outer) & m);
}

bool sh_prefix_overlaps(const struct sh_prefix *a, const struct sh_prefix *b)
{
  return sh_prefix_contains(a, b) || sh_prefix_contains(b, a);
}

