/* policy/netpolicy-compile.c: LPM entries with the fall-through precomputed,
 * checked against a brute-force reading of the policy. */
#include "tap.h"
#include "netpolicy-compile.h"
#include "cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

static const uint8_t ip_proto[] = { 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 };

/* The meaning of a policy, read directly: the longest matching prefix among
 * the rules that fit the packet, the first written among equals. */
static uint8_t reference(const struct sh_netpolicy *p, enum sh_np_dir dir, const struct sh_prefix *a,
                         uint8_t proto, uint16_t port)
{
  const struct sh_np_rule *best = NULL;
  for (size_t i = 0; i < p->n_rules; i++) {
    const struct sh_np_rule *r = &p->rules[i];
    if (r->dir != dir || !sh_prefix_contains(&r->prefix, a))
      continue;
    if (r->proto != SH_NP_ANY && ip_proto[r->proto] != proto)
      continue;
    if (r->port_lo && (port < r->port_lo || port > r->port_hi))
      continue;
    if (!best || r->prefix.len > best->prefix.len)
      best = r;
  }
  return best ? (uint8_t) best->action : (uint8_t) p->default_action[dir];
}

static struct sh_prefix A(const char *s)
{
  struct sh_prefix p;
  sh_prefix_parse(s, false, &p, NULL);
  return p;
}

static void test_except(void)
{
  struct sh_netpolicy p;
  struct sh_np_compiled c;
  sh_error e = {0};
  is_int(sh_netpolicy_parse("default out allow\ndeny out 10.0.0.0/8\nallow out tcp 10.9.9.9 port 443\n", &p, &e), 0,
         "deny 10/8 except one /32 port 443 parses");
  is_int(sh_netpolicy_compile(&p, SH_NP_OUT, AF_INET, &c, &e), 0, "and compiles");
  is_int((long long) c.n, 2, "into two LPM entries");
  struct sh_prefix a = A("10.9.9.9"), b = A("10.1.1.1"), o = A("8.8.8.8");
  is_int(sh_np_decide(&c, a.addr, IPPROTO_TCP, 443), SH_NP_ALLOW, "10.9.9.9 tcp 443 is allowed");
  is_int(sh_np_decide(&c, a.addr, IPPROTO_TCP, 80), SH_NP_DENY, "10.9.9.9 tcp 80 falls back to the /8: denied");
  is_int(sh_np_decide(&c, a.addr, IPPROTO_UDP, 443), SH_NP_DENY, "10.9.9.9 udp 443 is denied");
  is_int(sh_np_decide(&c, b.addr, IPPROTO_TCP, 443), SH_NP_DENY, "10.1.1.1 is denied");
  is_int(sh_np_decide(&c, o.addr, IPPROTO_TCP, 443), SH_NP_ALLOW, "8.8.8.8 takes the default");
  sh_np_compiled_clear(&c);
  is_int(sh_netpolicy_compile(&p, SH_NP_IN, AF_INET, &c, &e), 0, "the other direction compiles");
  is_int((long long) c.n, 0, "to nothing");
  sh_np_compiled_clear(&c);
  sh_netpolicy_clear(&p);
}

static void test_too_many(void)
{
  char text[4096] = "";
  size_t len = 0;
  for (int i = 0; i < 17; i++)
    len += (size_t) snprintf(text + len, sizeof text - len, "allow out tcp 10.0.0.%d/32 port %d\n", 0, 1000 + i);
  struct sh_netpolicy p;
  struct sh_np_compiled c;
  sh_error e = {0};
  is_int(sh_netpolicy_parse(text, &p, &e), 0, "17 rules on one /32 parse");
  is_int(sh_netpolicy_compile(&p, SH_NP_OUT, AF_INET, &c, &e), -E2BIG, "but do not fit one LPM value");
  like(e.msg, "more than 16 rules", "  saying why");
  is_str(e.path, "10.0.0.0/32", "  naming the prefix");
  sh_netpolicy_clear(&p);
}

static unsigned rnd(unsigned n)
{
  return (unsigned) random() % n;
}

static void test_random(void)
{
  /* Nested prefixes so that fall-through matters. */
  static const char *const prefixes[] = {
    "0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "10.2.0.0/16",
    "192.168.0.0/16", "192.168.7.0/24", "10.1.2.128/25",
  };
  static const char *const protos[] = { "", "tcp ", "udp ", "icmp " };
  int mismatches = 0, policies = 0, packets = 0;
  srandom(42);
  for (int round = 0; round < 300; round++) {
    char text[8192];
    size_t len = 0;
    len += (size_t) snprintf(text, sizeof text, "default out %s\n", rnd(2) ? "allow" : "deny");
    int n = 1 + (int) rnd(12);
    for (int i = 0; i < n; i++) {
      unsigned pr = rnd(4);
      len += (size_t) snprintf(text + len, sizeof text - len, "%s out %s%s", rnd(2) ? "allow" : "deny",
                               protos[pr], prefixes[rnd(SH_ARRAY_SIZE(prefixes))]);
      if ((pr == 1 || pr == 2) && rnd(2)) {
        unsigned lo = 1 + rnd(100);
        len += (size_t) snprintf(text + len, sizeof text - len, " port %u-%u", lo, lo + rnd(50));
      }
      len += (size_t) snprintf(text + len, sizeof text - len, "\n");
    }
    struct sh_netpolicy p;
    struct sh_np_compiled c;
    sh_error e = {0};
    if (sh_netpolicy_parse(text, &p, &e) < 0)
      continue; /* an overlapping draw: the parser's business, tested elsewhere */
    if (sh_netpolicy_compile(&p, SH_NP_OUT, AF_INET, &c, &e) < 0) {
      sh_netpolicy_clear(&p);
      continue;
    }
    policies++;
    for (int k = 0; k < 200; k++) {
      char addr[32];
      snprintf(addr, sizeof addr, "%s.%u.%u.%u", rnd(3) ? "10" : "192", rnd(3) ? 1 : rnd(256), rnd(2) ? 2 : rnd(256),
               rnd(2) ? 3 : rnd(256));
      if (addr[0] == '1' && addr[1] == '9')
        snprintf(addr, sizeof addr, "192.168.%u.%u", rnd(2) ? 7 : rnd(256), rnd(256));
      struct sh_prefix a = A(addr);
      uint8_t proto = ip_proto[1 + rnd(3)];
      uint16_t port = (uint16_t) (1 + rnd(160));
      packets++;
      if (sh_np_decide(&c, a.addr, proto, port) != reference(&p, SH_NP_OUT, &a, proto, port)) {
        if (mismatches++ < 3)
          diag("mismatch for %s proto %u port %u in:\n%s", addr, proto, port, text);
      }
    }
    sh_np_compiled_clear(&c);
    sh_netpolicy_clear(&p);
  }
  ok(policies > 100, "random policies compiled (%d)", policies);
  is_int(mismatches, 0, "compiled decisions equal the policy's meaning for %d packets", packets);
}

int main(void)
{
  test_except();
  test_too_many();
  test_random();
  return tap_done();
}
