/* netfw/ipam.c: prefixes, deterministic subnet and address allocation, names. */
#include "tap.h"
#include "ipam.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

static struct sh_prefix P(const char *s)
{
  struct sh_prefix p;
  sh_error e = {0};
  if (sh_prefix_parse(s, true, &p, &e) < 0)
    printf("# bad prefix in test: %s\n", s);
  return p;
}

static const char *F(const struct sh_prefix *p)
{
  static char buf[4][64];
  static int i;
  i = (i + 1) % 4;
  return sh_prefix_format(p, true, buf[i], sizeof buf[i]);
}

static void test_parse(void)
{
  static const struct { const char *in; int err; const char *msg; } bad[] = {
    {"10.0.0.0/33", EINVAL, "0..32"}, {"fd00::/129", EINVAL, "0..128"}, {"10.0.0.1/24", EINVAL, "bits set"},
    {"hello", EINVAL, "not an IPv4"}, {"10.0.0.0/", EINVAL, "prefix length"}, {"10.0.0.0/8x", EINVAL, "prefix length"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct sh_prefix p;
    sh_error e = {0};
    is_int(sh_prefix_parse(bad[i].in, false, &p, &e), -bad[i].err, "'%s' is refused", bad[i].in);
    like(e.msg, bad[i].msg, "  saying '%s'", bad[i].msg);
    is_str(e.path, bad[i].in, "  and naming the input");
  }
  struct sh_prefix p;
  sh_error e = {0};
  is_int(sh_prefix_parse("fd12:3456:789a::/48", false, &p, &e), 0, "a ULA /48 parses");
  ok(p.family == AF_INET6 && p.len == 48, "as IPv6 /48");
  is_str(F(&p), "fd12:3456:789a::/48", "and formats back");
  is_int(sh_prefix_parse("192.0.2.7", false, &p, &e), 0, "a bare address is a host prefix");
  is_str(F(&p), "192.0.2.7", "formatted bare");
}

static void test_relations(void)
{
  struct sh_prefix a = P("10.0.0.0/8"), b = P("10.1.0.0/16"), c = P("11.0.0.0/8"), d = P("fd00::/8");
  ok(sh_prefix_contains(&a, &b), "10/8 contains 10.1/16");
  ok(!sh_prefix_contains(&b, &a), "not the other way");
  ok(sh_prefix_overlaps(&a, &b) && sh_prefix_overlaps(&b, &a), "they overlap either way");
  ok(!sh_prefix_overlaps(&a, &c), "10/8 and 11/8 do not");
  ok(!sh_prefix_overlaps(&a, &d), "families never overlap");
  struct sh_prefix all = P("0.0.0.0/0");
  ok(sh_prefix_contains(&all, &c), "0/0 contains everything of its family");
}

static void test_subnets(void)
{
  struct sh_prefix pool = P("10.64.0.0/16"), out;
  sh_error e = {0};
  is_int(nf_subnet_alloc(&pool, 24, NULL, 0, &out, &e), 0, "a /24 from an empty pool");
  is_str(F(&out), "10.64.0.0/24", "is the first one");
  struct sh_prefix used[] = { P("10.64.0.0/24"), P("10.64.1.0/24"), P("10.64.3.0/24") };
  nf_subnet_alloc(&pool, 24, used, 3, &out, &e);
  is_str(F(&out), "10.64.2.0/24", "first fit fills the gap");
  struct sh_prefix big[] = { P("10.64.0.0/17") };
  nf_subnet_alloc(&pool, 24, big, 1, &out, &e);
  is_str(F(&out), "10.64.128.0/24", "a larger block in the way is skipped whole");
  struct sh_prefix small[] = { P("10.64.0.5/32") };
  nf_subnet_alloc(&pool, 24, small, 1, &out, &e);
  is_str(F(&out), "10.64.1.0/24", "a subnet holding any used address is not reused");
  struct sh_prefix full[] = { P("10.64.0.0/16") };
  sh_error_clear(&e);
  is_int(nf_subnet_alloc(&pool, 24, full, 1, &out, &e), -ENOSPC, "a full pool is ENOSPC");
  like(e.msg, "no free /24", "  saying so");
  sh_error_clear(&e);
  is_int(nf_subnet_alloc(&pool, 8, NULL, 0, &out, &e), -EINVAL, "a subnet larger than the pool is refused");

  /* Deterministic: 300 allocations in a row give 300 distinct /28s in order
   * (each scans those before it: the test is cubic, keep it short). */
  static struct sh_prefix many[300];
  bool distinct = true, ordered = true;
  for (int i = 0; i < 300; i++) {
    if (nf_subnet_alloc(&pool, 28, many, (size_t) i, &many[i], &e) < 0) {
      distinct = false;
      break;
    }
    for (int j = 0; j < i; j++)
      if (sh_prefix_overlaps(&many[i], &many[j]))
        distinct = false;
    char want[32];
    snprintf(want, sizeof want, "10.64.%d.%d/28", (i * 16) / 256, (i * 16) % 256);
    if (strcmp(F(&many[i]), want) != 0)
      ordered = false;
  }
  ok(distinct, "300 allocations never overlap");
  ok(ordered, "and come in address order");

  struct sh_prefix v6pool = P("fd00:5a::/48");
  struct sh_prefix v6used[] = { P("fd00:5a::/64") };
  is_int(nf_subnet_alloc(&v6pool, 64, v6used, 1, &out, &e), 0, "IPv6: a /64 from a /48");
  is_str(F(&out), "fd00:5a:0:1::/64", "the next /64");

  struct sh_prefix req = P("10.65.0.0/24");
  sh_error_clear(&e);
  is_int(nf_subnet_check(&pool, &req, NULL, 0, &e), -EINVAL, "a requested subnet outside the pool is refused");
  like(e.msg, "outside the provider pool 10.64.0.0/16", "  naming the pool");
  req = P("10.64.1.128/25");
  sh_error_clear(&e);
  is_int(nf_subnet_check(&pool, &req, used, 3, &e), -EEXIST, "an overlapping request is refused");
  like(e.msg, "overlaps 10.64.1.0/24", "  naming what it overlaps");
}

static void test_addresses(void)
{
  struct sh_prefix net = P("10.64.2.0/29"), gw, out;
  sh_error e = {0};
  is_int(nf_gateway(&net, &gw, &e), 0, "gateway");
  is_str(F(&gw), "10.64.2.1", "is the first host");
  nf_addr_alloc(&net, NULL, 0, &out, &e);
  is_str(F(&out), "10.64.2.2", "the first container gets .2");
  struct sh_prefix used[] = { P("10.64.2.2"), P("10.64.2.4"), P("10.64.2.3") };
  nf_addr_alloc(&net, used, 3, &out, &e);
  is_str(F(&out), "10.64.2.5", "first fit, whatever the order of the used list");
  struct sh_prefix fullu[] = { P("10.64.2.2"), P("10.64.2.3"), P("10.64.2.4"), P("10.64.2.5"), P("10.64.2.6") };
  sh_error_clear(&e);
  is_int(nf_addr_alloc(&net, fullu, 5, &out, &e), -ENOSPC, "the broadcast address is never handed out");
  struct sh_prefix tiny = P("10.64.2.0/31");
  sh_error_clear(&e);
  is_int(nf_gateway(&tiny, &gw, &e), -EINVAL, "a /31 has no room for a gateway and a container");
  struct sh_prefix v6 = P("fd00:5a:0:1::/64");
  nf_gateway(&v6, &gw, &e);
  is_str(F(&gw), "fd00:5a:0:1::1", "IPv6 gateway ::1");
  nf_addr_alloc(&v6, NULL, 0, &out, &e);
  is_str(F(&out), "fd00:5a:0:1::2", "IPv6 first container ::2");
}

static void test_names(void)
{
  uint8_t mac[6];
  nf_mac_for(0x12345678, mac);
  ok(mac[0] == 0x02, "MACs are locally administered unicast");
  ok(mac[2] == 0x12 && mac[5] == 0x78, "and carry the container id");
  uint8_t other[6];
  nf_mac_for(0x12345679, other);
  ok(memcmp(mac, other, 6) != 0, "distinct ids, distinct MACs");
  char host[16], peer[16], br[16];
  nf_veth_names(0xabc, host, peer);
  is_str(host, "shabc", "host veth name");
  is_str(peer, "spabc", "peer veth name");
  nf_veth_names(UINT64_MAX, host, peer);
  ok(strlen(host) <= 15 && strlen(peer) <= 15, "names fit IFNAMSIZ for any id");
  nf_bridge_name(7, br);
  is_str(br, "sb7", "bridge name");
}

int main(void)
{
  test_parse();
  test_relations();
  test_subnets();
  test_addresses();
  test_names();
  return tap_done();
}
