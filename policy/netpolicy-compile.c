/* Policy rules → LPM entries with the fall-through to shorter prefixes
 * precomputed, so the data path needs a single lookup. */
#include "netpolicy-compile.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t ip_proto[] = {
  [SH_NP_ANY] = 0, [SH_NP_TCP] = IPPROTO_TCP, [SH_NP_UDP] = IPPROTO_UDP,
  [SH_NP_ICMP] = IPPROTO_ICMP, [SH_NP_ICMPV6] = IPPROTO_ICMPV6,
};

static bool same_prefix(const struct sh_prefix *a, const struct sh_prefix *b)
{
  return a->len == b->len && memcmp(a->addr, b->addr, sizeof a->addr) == 0;
}

static struct sh_np_match to_match(const struct sh_np_rule *r)
{
  return (struct sh_np_match) {
    .action = (uint8_t) r->action, .proto = ip_proto[r->proto],
    .port_lo = r->port_lo, .port_hi = r->port_hi, .line = (uint16_t) r->line,
  };
}

int sh_netpolicy_compile(const struct sh_netpolicy *p, enum sh_np_dir dir, int family,
                         struct sh_np_compiled *out, sh_error *e)
{
  memset(out, 0, sizeof *out);
  out->family = family;
  out->dir = dir;
  out->default_action = (uint8_t) p->default_action[dir];
  /* The rules that apply here, and their distinct prefixes. */
  const struct sh_np_rule **rules = calloc(p->n_rules + 1, sizeof *rules);
  size_t nr = 0;
  if (!rules)
    return sh_err(e, ENOMEM, "compile policy", NULL, NULL);
  for (size_t i = 0; i < p->n_rules; i++)
    if (p->rules[i].dir == dir && p->rules[i].prefix.family == family)
      rules[nr++] = &p->rules[i];
  out->keys = calloc(nr + 1, sizeof *out->keys);
  out->values = calloc(nr + 1, sizeof *out->values);
  if (!out->keys || !out->values) {
    free(rules);
    sh_np_compiled_clear(out);
    return sh_err(e, ENOMEM, "compile policy", NULL, NULL);
  }
  for (size_t i = 0; i < nr; i++) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++)
      seen = same_prefix(&rules[j]->prefix, &rules[i]->prefix);
    if (seen)
      continue;
    const struct sh_prefix *pre = &rules[i]->prefix;
    struct sh_np_lpm_key *k = &out->keys[out->n];
    struct sh_np_lpm_value *v = &out->values[out->n];
    k->prefixlen = pre->len;
    memcpy(k->addr, pre->addr, sizeof k->addr);
    /* This prefix's own rules in written order, then every enclosing prefix's,
     * longest first: exactly what a longest-prefix match would fall back to. */
    for (int len = (int) pre->len; len >= 0; len--)
      for (size_t j = 0; j < nr; j++) {
        const struct sh_prefix *q = &rules[j]->prefix;
        if ((int) q->len != len || !sh_prefix_contains(q, pre))
          continue;
        if (v->n == SH_NP_MAX_MATCH) {
          char buf[64];
          int r = sh_err(e, E2BIG, "compile policy", sh_prefix_format(pre, false, buf, sizeof buf),
                         "more than %d rules apply to addresses in it (line %u)", SH_NP_MAX_MATCH,
                         rules[i]->line);
          free(rules);
          sh_np_compiled_clear(out);
          return r;
        }
        v->m[v->n++] = to_match(rules[j]);
      }
    out->n++;
  }
  free(rules);
  return 0;
}

void sh_np_compiled_clear(struct sh_np_compiled *c)
{
  free(c->keys);
  free(c->values);
  memset(c, 0, sizeof *c);
}

uint8_t sh_np_decide(const struct sh_np_compiled *c, const uint8_t addr[16], uint8_t proto, uint16_t port)
{
  struct sh_prefix a = { .family = c->family, .len = c->family == AF_INET ? 32 : 128 };
  memcpy(a.addr, addr, sizeof a.addr);
  const struct sh_np_lpm_value *best = NULL;
  uint32_t best_len = 0;
  for (size_t i = 0; i < c->n; i++) {
    struct sh_prefix k = { .family = c->family, .len = c->keys[i].prefixlen };
    memcpy(k.addr, c->keys[i].addr, sizeof k.addr);
    if (sh_prefix_contains(&k, &a) && (!best || c->keys[i].prefixlen > best_len)) {
      best = &c->values[i];
      best_len = c->keys[i].prefixlen;
    }
  }
  for (uint32_t i = 0; best && i < best->n; i++) {
    const struct sh_np_match *m = &best->m[i];
    if (m->proto && m->proto != proto)
      continue;
    if (m->port_lo && (port < m->port_lo || port > m->port_hi))
      continue;
    return m->action;
  }
  return c->default_action;
}
