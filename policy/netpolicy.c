/* Parser and formatter of the network-policy language. */
#include "netpolicy.h"
#include "cleanup.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *const action_names[] = { [SH_NP_ALLOW] = "allow", [SH_NP_DENY] = "deny" };
static const char *const dir_names[] = { [SH_NP_IN] = "in", [SH_NP_OUT] = "out" };
static const char *const proto_names[] = {
  [SH_NP_ANY] = "any", [SH_NP_TCP] = "tcp", [SH_NP_UDP] = "udp",
  [SH_NP_ICMP] = "icmp", [SH_NP_ICMPV6] = "icmpv6",
};

#define MAX_TOKENS 12

struct token {
  char text[64];
  unsigned col;
};

struct cursor {
  struct token tok[MAX_TOKENS];
  size_t n, i;
  unsigned line, end_col;
  sh_error *e;
};

__attribute__((format(printf, 3, 4)))
static int fail_at(struct cursor *c, unsigned col, const char *fmt, ...)
{
  char where[64], msg[SH_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(where, sizeof where, "line %u, column %u", c->line, col);
  return sh_err(c->e, EINVAL, "parse policy", where, "%s", msg);
}

static const char *peek(struct cursor *c)
{
  return c->i < c->n ? c->tok[c->i].text : NULL;
}

static unsigned col_of(struct cursor *c)
{
  return c->i < c->n ? c->tok[c->i].col : c->end_col;
}

/* Index of the next token in names, or a positioned error. */
static int expect(struct cursor *c, const char *const *names, size_t n, const char *what)
{
  const char *t = peek(c);
  for (size_t k = 0; t && k < n; k++)
    if (names[k] && strcmp(names[k], t) == 0) {
      c->i++;
      return (int) k;
    }
  if (!t)
    return fail_at(c, col_of(c), "expected %s at the end of the line", what);
  return fail_at(c, col_of(c), "expected %s, not '%s'", what, t);
}

static int parse_port(struct cursor *c, unsigned col, const char *s, uint16_t *out)
{
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < 1 || v > 65535)
    return fail_at(c, col, "port '%s' is out of range (1..65535)", s);
  *out = (uint16_t) v;
  return 0;
}

static int tokenize(struct cursor *c, const char *line, size_t len)
{
  c->n = c->i = 0;
  size_t p = 0;
  while (p < len) {
    while (p < len && (line[p] == ' ' || line[p] == '\t' || line[p] == '\r'))
      p++;
    if (p >= len || line[p] == '#')
      break;
    size_t s = p;
    while (p < len && line[p] != ' ' && line[p] != '\t' && line[p] != '\r' && line[p] != '#')
      p++;
    if (c->n == MAX_TOKENS)
      return fail_at(c, (unsigned) s + 1, "too many words on one line");
    if (p - s >= sizeof c->tok[0].text)
      return fail_at(c, (unsigned) s + 1, "word too long");
    memcpy(c->tok[c->n].text, line + s, p - s);
    c->tok[c->n].text[p - s] = '\0';
    c->tok[c->n].col = (unsigned) s + 1;
    c->n++;
  }
  c->end_col = (unsigned) p + 1;
  return 0;
}

static bool protos_overlap(enum sh_np_proto a, enum sh_np_proto b)
{
  return a == b || a == SH_NP_ANY || b == SH_NP_ANY;
}

static bool ports_overlap(const struct sh_np_rule *a, const struct sh_np_rule *b)
{
  if (a->port_lo == 0 || b->port_lo == 0)
    return true;
  return a->port_lo <= b->port_hi && b->port_lo <= a->port_hi;
}

static int add_rule(struct sh_netpolicy *p, struct cursor *c, const struct sh_np_rule *r)
{
  /* The same destination twice is a mistake: one of the two rules is dead. */
  for (size_t i = 0; i < p->n_rules; i++) {
    const struct sh_np_rule *o = &p->rules[i];
    if (o->dir == r->dir && o->prefix.family == r->prefix.family && o->prefix.len == r->prefix.len &&
        memcmp(o->prefix.addr, r->prefix.addr, sizeof o->prefix.addr) == 0 &&
        protos_overlap(o->proto, r->proto) && ports_overlap(o, r))
      return fail_at(c, r->col, "this rule overlaps the rule at line %u (same destination, protocol and ports)",
                     o->line);
  }
  if (p->n_rules == SH_NP_MAX_RULES)
    return fail_at(c, r->col, "more than %d rules", SH_NP_MAX_RULES);
  struct sh_np_rule *n = realloc(p->rules, (p->n_rules + 1) * sizeof *n);
  if (!n)
    return sh_err(c->e, ENOMEM, "parse policy", NULL, NULL);
  p->rules = n;
  p->rules[p->n_rules++] = *r;
  return 0;
}

static int parse_rule(struct sh_netpolicy *p, struct cursor *c, enum sh_np_action action)
{
  struct sh_np_rule r = { .action = action, .line = c->line, .col = c->tok[0].col };
  int k = expect(c, dir_names, 2, "a direction (in or out)");
  if (k < 0)
    return k;
  r.dir = (enum sh_np_dir) k;
  const char *t = peek(c);
  r.proto = SH_NP_ANY;
  for (size_t i = 1; t && i < SH_ARRAY_SIZE(proto_names); i++)
    if (strcmp(t, proto_names[i]) == 0) {
      r.proto = (enum sh_np_proto) i;
      c->i++;
    }
  t = peek(c);
  unsigned tcol = col_of(c);
  if (!t)
    return fail_at(c, tcol, "expected a destination (an address, a CIDR or any)");
  bool any = strcmp(t, "any") == 0;
  if (!any) {
    sh_error pe = {0};
    if (sh_prefix_parse(t, false, &r.prefix, &pe) < 0)
      return fail_at(c, tcol, "'%s': %s", t, pe.msg);
    if ((r.proto == SH_NP_ICMP && r.prefix.family != AF_INET) ||
        (r.proto == SH_NP_ICMPV6 && r.prefix.family != AF_INET6))
      return fail_at(c, tcol, "%s does not go with an %s destination", proto_names[r.proto],
                     r.prefix.family == AF_INET ? "IPv4" : "IPv6");
  }
  c->i++;
  if (peek(c) && strcmp(peek(c), "port") == 0) {
    unsigned pcol = col_of(c);
    c->i++;
    if (r.proto != SH_NP_TCP && r.proto != SH_NP_UDP)
      return fail_at(c, pcol, "ports need tcp or udp");
    const char *range = peek(c);
    if (!range)
      return fail_at(c, col_of(c), "expected a port or a range such as 8000-8080");
    unsigned rcol = col_of(c);
    char lo[16] = "", *dash = strchr(range, '-');
    snprintf(lo, sizeof lo, "%.*s", dash ? (int) (dash - range) : (int) strlen(range), range);
    if (parse_port(c, rcol, lo, &r.port_lo) < 0)
      return -EINVAL;
    r.port_hi = r.port_lo;
    if (dash && parse_port(c, rcol, dash + 1, &r.port_hi) < 0)
      return -EINVAL;
    if (r.port_hi < r.port_lo)
      return fail_at(c, rcol, "port range %s runs backwards", range);
    c->i++;
  }
  if (peek(c))
    return fail_at(c, col_of(c), "unexpected '%s' after the rule", peek(c));
  if (!any)
    return add_rule(p, c, &r);
  /* any: both families, each its own LPM entry. */
  static const char *const everything[] = { "0.0.0.0/0", "::/0" };
  for (int f = 0; f < 2; f++) {
    if ((r.proto == SH_NP_ICMP && f == 1) || (r.proto == SH_NP_ICMPV6 && f == 0))
      continue;
    sh_prefix_parse(everything[f], false, &r.prefix, NULL);
    int ret = add_rule(p, c, &r);
    if (ret < 0)
      return ret;
  }
  return 0;
}

static int parse_forward(struct sh_netpolicy *p, struct cursor *c)
{
  static const char *const fwd_protos[] = { NULL, "tcp", "udp" };
  struct sh_np_forward f = { .line = c->line, .col = c->tok[0].col };
  int k = expect(c, fwd_protos, 3, "tcp or udp");
  if (k < 0)
    return k;
  f.proto = k == 1 ? SH_NP_TCP : SH_NP_UDP;
  const char *t = peek(c);
  if (!t)
    return fail_at(c, col_of(c), "expected the public port");
  if (parse_port(c, col_of(c), t, &f.public_port) < 0)
    return -EINVAL;
  c->i++;
  static const char *const to[] = { "to" };
  if ((k = expect(c, to, 1, "'to'")) < 0)
    return k;
  t = peek(c);
  if (!t)
    return fail_at(c, col_of(c), "expected the container's port");
  if (parse_port(c, col_of(c), t, &f.port) < 0)
    return -EINVAL;
  c->i++;
  if (peek(c))
    return fail_at(c, col_of(c), "unexpected '%s' after the forward", peek(c));
  for (size_t i = 0; i < p->n_forwards; i++)
    if (p->forwards[i].proto == f.proto && p->forwards[i].public_port == f.public_port)
      return fail_at(c, f.col, "public %s port %u is already forwarded at line %u",
                     proto_names[f.proto], f.public_port, p->forwards[i].line);
  struct sh_np_forward *n = realloc(p->forwards, (p->n_forwards + 1) * sizeof *n);
  if (!n)
    return sh_err(c->e, ENOMEM, "parse policy", NULL, NULL);
  p->forwards = n;
  p->forwards[p->n_forwards++] = f;
  return 0;
}

int sh_netpolicy_parse(const char *text, struct sh_netpolicy *out, sh_error *e)
{
  static const char *const statements[] = { "default", "allow", "deny", "forward" };
  struct sh_netpolicy p = { .default_action = { SH_NP_ALLOW, SH_NP_ALLOW } };
  unsigned default_line[2] = { 0, 0 };
  struct cursor c = { .e = e };
  int r = 0;
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t) (nl - line) : strlen(line);
    c.line++;
    if ((r = tokenize(&c, line, len)) < 0)
      goto fail;
    line = nl ? nl + 1 : NULL;
    if (c.n == 0)
      continue;
    int k = expect(&c, statements, SH_ARRAY_SIZE(statements), "default, allow, deny or forward");
    if (k < 0) {
      r = k;
      goto fail;
    }
    if (k == 0) {
      unsigned col = c.tok[0].col;
      int d = expect(&c, dir_names, 2, "a direction (in or out)");
      int a = d < 0 ? d : expect(&c, action_names, 2, "allow or deny");
      if (d < 0 || a < 0) {
        r = -EINVAL;
        goto fail;
      }
      if (peek(&c)) {
        r = fail_at(&c, col_of(&c), "unexpected '%s' after the default", peek(&c));
        goto fail;
      }
      if (default_line[d]) {
        r = fail_at(&c, col, "the %s default is already set at line %u", dir_names[d], default_line[d]);
        goto fail;
      }
      default_line[d] = c.line;
      p.default_action[d] = (enum sh_np_action) a;
    } else if (k == 3) {
      if ((r = parse_forward(&p, &c)) < 0)
        goto fail;
    } else if ((r = parse_rule(&p, &c, k == 1 ? SH_NP_ALLOW : SH_NP_DENY)) < 0) {
      goto fail;
    }
  }
  *out = p;
  return 0;
fail:
  sh_netpolicy_clear(&p);
  return r;
}

char *sh_netpolicy_format(const struct sh_netpolicy *p)
{
  size_t cap = 256 + (p->n_rules + p->n_forwards) * 96, len = 0;
  char *buf = malloc(cap);
  if (!buf)
    return NULL;
  for (int d = 0; d < 2; d++)
    len += (size_t) snprintf(buf + len, cap - len, "default %s %s\n", dir_names[d], action_names[p->default_action[d]]);
  for (size_t i = 0; i < p->n_rules; i++) {
    const struct sh_np_rule *r = &p->rules[i];
    char pre[64];
    /* No protocol word means any: "any" in that place would read as a destination. */
    len += (size_t) snprintf(buf + len, cap - len, "%s %s%s%s %s", action_names[r->action], dir_names[r->dir],
                             r->proto ? " " : "", r->proto ? proto_names[r->proto] : "",
                             sh_prefix_format(&r->prefix, false, pre, sizeof pre));
    if (r->port_lo && r->port_lo == r->port_hi)
      len += (size_t) snprintf(buf + len, cap - len, " port %u", r->port_lo);
    else if (r->port_lo)
      len += (size_t) snprintf(buf + len, cap - len, " port %u-%u", r->port_lo, r->port_hi);
    len += (size_t) snprintf(buf + len, cap - len, "\n");
  }
  for (size_t i = 0; i < p->n_forwards; i++)
    len += (size_t) snprintf(buf + len, cap - len, "forward %s %u to %u\n", proto_names[p->forwards[i].proto],
                             p->forwards[i].public_port, p->forwards[i].port);
  return buf;
}

void sh_netpolicy_clear(struct sh_netpolicy *p)
{
  free(p->rules);
  free(p->forwards);
  memset(p, 0, sizeof *p);
}
