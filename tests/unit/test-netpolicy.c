/* policy/netpolicy.c: the network-policy language. */
#include "tap.h"
#include "netpolicy.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

static const char *const example =
  "# a web server that may only talk to its database and to DNS\n"
  "default in deny\n"
  "default out deny   # nothing leaves unless allowed below\n"
  "allow in tcp any port 80\n"
  "allow in tcp any port 443\n"
  "allow out tcp 10.1.2.3/32 port 5432\n"
  "allow out udp 192.0.2.53 port 53\n"
  "deny out 10.0.0.0/8\n"
  "allow out tcp 10.9.9.9 port 443\n"
  "allow out icmp 0.0.0.0/0\n"
  "allow out tcp fd00:1::/64 port 8000-8080\n"
  "\n"
  "forward tcp 8080 to 80\n"
  "forward udp 5353 to 53\n";

static void test_example(void)
{
  struct sh_netpolicy p;
  sh_error e = {0};
  is_int(sh_netpolicy_parse(example, &p, &e), 0, "the example parses");
  if (e.err)
    diag("%s: %s", e.path, e.msg);
  ok(p.default_action[SH_NP_IN] == SH_NP_DENY && p.default_action[SH_NP_OUT] == SH_NP_DENY, "both defaults deny");
  is_int((long long) p.n_rules, 10, "10 rules (any = an IPv4 and an IPv6 entry)");
  is_int((long long) p.n_forwards, 2, "2 forwards");
  const struct sh_np_rule *r = &p.rules[4];
  ok(r->dir == SH_NP_OUT && r->proto == SH_NP_TCP && r->port_lo == 5432 && r->prefix.len == 32,
     "allow out tcp 10.1.2.3/32 port 5432");
  ok(p.rules[5].prefix.len == 32 && p.rules[5].line == 7, "a bare address is a /32 and keeps its line");
  const struct sh_np_rule *range = &p.rules[p.n_rules - 1];
  ok(range->port_lo == 8000 && range->port_hi == 8080 && range->prefix.family == AF_INET6, "an IPv6 port range");
  ok(p.forwards[0].public_port == 8080 && p.forwards[0].port == 80, "forward tcp 8080 to 80");
  /* Canonical text round-trips. */
  char *text = sh_netpolicy_format(&p);
  struct sh_netpolicy q;
  is_int(sh_netpolicy_parse(text, &q, &e), 0, "the canonical text parses");
  char *text2 = sh_netpolicy_format(&q);
  is_str(text2, text, "and formats to itself");
  like(text, "deny out 10.0.0.0/8\n", "a rule for any protocol is written without one");
  free(text);
  free(text2);
  sh_netpolicy_clear(&q);
  sh_netpolicy_clear(&p);
  is_int(sh_netpolicy_parse("", &p, &e), 0, "an empty policy is fine");
  ok(p.default_action[0] == SH_NP_ALLOW && p.default_action[1] == SH_NP_ALLOW && !p.n_rules,
     "and allows everything");
  sh_netpolicy_clear(&p);
}

static void test_errors(void)
{
  static const struct { const char *text, *where, *msg; } bad[] = {
    {"allow out tcp 10.0.0.0/8 port 70000\n", "line 1, column 31", "out of range"},
    {"allow out tcp 10.0.0.0/8 port 0\n", "line 1, column 31", "out of range"},
    {"allow out tcp 10.0.0.0/8 port 90-80\n", "line 1, column 31", "backwards"},
    {"allow out sctp 10.0.0.0/8\n", "line 1, column 11", "'sctp'"},
    {"allow out tcp 10.0.0.1/8\n", "line 1, column 15", "bits set"},
    {"allow out tcp 10.0.0.0/33\n", "line 1, column 15", "0..32"},
    {"allow sideways any\n", "line 1, column 7", "direction"},
    {"\n\n  permit out any\n", "line 3, column 3", "default, allow, deny or forward"},
    {"allow out icmp 10.0.0.0/8 port 5\n", "line 1, column 27", "ports need tcp or udp"},
    {"allow out icmp fd00::/8\n", "line 1, column 16", "IPv6"},
    {"deny out 10.0.0.0/8\nallow out 10.0.0.0/8\n", "line 2, column 1", "overlaps the rule at line 1"},
    {"allow out tcp 10.0.0.0/8 port 80-90\ndeny out tcp 10.0.0.0/8 port 85\n", "line 2, column 1", "line 1"},
    {"default in deny\ndefault in allow\n", "line 2, column 1", "already set at line 1"},
    {"default in\n", "line 1, column 11", "allow or deny"},
    {"forward tcp 80 to 8080\nforward tcp 80 to 81\n", "line 2, column 1", "already forwarded at line 1"},
    {"forward icmp 80 to 80\n", "line 1, column 9", "tcp or udp"},
    {"forward tcp 80 8080\n", "line 1, column 16", "'to'"},
    {"allow out tcp any port 22 extra\n", "line 1, column 27", "unexpected 'extra'"},
    {"allow out\n", "line 1, column 10", "destination"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct sh_netpolicy p;
    sh_error e = {0};
    int r = sh_netpolicy_parse(bad[i].text, &p, &e);
    is_int(r, -EINVAL, "refused: %.*s", (int) strcspn(bad[i].text + strspn(bad[i].text, "\n "), "\n"),
           bad[i].text + strspn(bad[i].text, "\n "));
    is_str(e.path, bad[i].where, "  at %s", bad[i].where);
    like(e.msg, bad[i].msg, "  saying '%s'", bad[i].msg);
  }
  /* Non-overlapping neighbours are fine: a /32 inside a denied /8, other ports. */
  struct sh_netpolicy p;
  sh_error e = {0};
  is_int(sh_netpolicy_parse("deny out 10.0.0.0/8\nallow out tcp 10.1.1.1 port 443\n"
                            "allow out tcp 10.0.0.0/8 port 22\n", &p, &e), -EINVAL,
         "same prefix with any protocol and a tcp port overlaps");
  is_int(sh_netpolicy_parse("deny out udp 10.0.0.0/8\nallow out tcp 10.1.1.1 port 443\n"
                            "allow out tcp 10.0.0.0/8 port 22\n", &p, &e), 0,
         "different protocols on one prefix do not");
  sh_netpolicy_clear(&p);
}

int main(void)
{
  test_example();
  test_errors();
  return tap_done();
}
