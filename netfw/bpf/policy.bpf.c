/* Network policy at the socket layer: a denied connect() or UDP send fails
 * with EPERM inside the container at once.  One LPM lookup per call; the
 * value lists every rule that can decide, most specific first (see
 * policy/netpolicy-compile.c, whose layouts these mirror). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_MATCH 16
#define ALLOW 0
#define DENY 1
#define IPPROTO_UDP 17

struct match {
  __u8 action;
  __u8 proto;
  __u16 port_lo;
  __u16 port_hi;
  __u16 line;
};

struct lpm_value {
  __u32 n;
  struct match m[MAX_MATCH];
};

/* One program set serves every container of a host: each map below is
 * keyed by the container's cgroup id, found as the caller's ancestor at the
 * containers' cgroup level (the same for all containers of one daemon; set
 * before loading).  So a container's policy is map entries, not programs:
 * attaching one costs no verification, and a new policy is new entries. */
const volatile __u32 level = 0;

#define MAX_CONTAINERS 65536

/* The rules of every container, by direction and family, in one trie each:
 * the key is the container's cgroup id, its policy's generation, then the
 * address, so the prefix length is 72 + the address prefix.  A new policy
 * is written under the other generation and takes effect at once when the
 * container's conf says so (one update). */
struct pkey {
  __u32 prefixlen;
  __u8 cg[8];
  __u8 gen;
  __u8 addr[16];
  __u8 pad[3];
};

#define POLICY_MAP(name)                          \
  struct {                                        \
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);          \
    __uint(map_flags, BPF_F_NO_PREALLOC);         \
    __uint(max_entries, 1 << 20);                 \
    __type(key, struct pkey);                     \
    __type(value, struct lpm_value);              \
  } name SEC(".maps")

POLICY_MAP(out4);
POLICY_MAP(out6);
POLICY_MAP(in4);
POLICY_MAP(in6);

/* A container's defaults, and whether its incoming rules need the flows it
 * opened (otherwise they are not tracked at all). */
struct conf {
  __u8 def_out;
  __u8 def_in;
  __u8 track;
  __u8 gen;       /* the generation of its rules in force */
  __u8 pad[4];
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, MAX_CONTAINERS);
  __type(key, __u64);
  __type(value, struct conf);
} config SEC(".maps");

/* Flows a container opened: a packet coming back on one is a reply and
 * passes whatever the incoming rules say (the policy filters new inbound
 * traffic, as a stateful firewall would).  One LRU for the host. */
struct flow {
  __u64 cgroup;
  __u8 remote[16];
  __u16 remote_port;
  __u16 local_port;
  __u8 proto;
  __u8 pad[3];
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct flow);
  __type(value, __u64);
} flows SEC(".maps");

/* Metering, per CPU so the data path never contends: [0] traffic in,
 * [1] traffic out, [2] calls the policy refused (packets = calls), [3]
 * incoming packets dropped.  Keyed by cgroup, so a policy change never
 * resets them. */
#define COUNT_IN 0
#define COUNT_OUT 1
#define COUNT_DENIED 2
#define COUNT_DROPPED_IN 3
struct counter {
  __u64 bytes;
  __u64 packets;
};
struct counters {
  struct counter c[4];
};
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, MAX_CONTAINERS);
  __type(key, __u64);
  __type(value, struct counters);
} counters SEC(".maps");

static __always_inline void count(__u64 cg, __u32 which, __u64 bytes)
{
  struct counters *c = bpf_map_lookup_elem(&counters, &cg);
  if (c && which < 4) {
    c->c[which].bytes += bytes;
    c->c[which].packets++;
  }
}

/* ALLOW or DENY for a destination (outgoing) or source (incoming) address
 * of a container (bits: 32 or 128). */
static __always_inline int lookup(void *trie, __u64 cg, const struct conf *c, int def, const __u8 addr[16], __u32 bits,
                                  __u8 proto, __u16 port)
{
  int action = def;
  struct pkey k = { .prefixlen = 72 + bits, .gen = c->gen };
  __builtin_memcpy(k.cg, &cg, 8);
  __builtin_memcpy(k.addr, addr, 16);
  struct lpm_value *v = bpf_map_lookup_elem(trie, &k);
  if (v) {
    for (int i = 0; i < MAX_MATCH; i++) {
      if ((__u32) i >= v->n)
        break;
      struct match *m = &v->m[i];
      if (m->proto && m->proto != proto)
        continue;
      if (m->port_lo && (port < m->port_lo || port > m->port_hi))
        continue;
      action = m->action;
      break;
    }
  }
  return action;
}

static __always_inline int decide(void *trie, const __u8 addr[16], __u32 bits, __u8 proto, __u16 port)
{
  __u64 cg = bpf_get_current_ancestor_cgroup_id(level);
  struct conf *c = bpf_map_lookup_elem(&config, &cg);
  if (!c)
    return 1;   /* not one of ours (never, while the programs are attached) */
  if (lookup(trie, cg, c, c->def_out == DENY ? DENY : ALLOW, addr, bits, proto, port) == DENY) {
    count(cg, COUNT_DENIED, 0);
    return 0; /* the kernel turns 0 into EPERM */
  }
  return 1;
}

static __always_inline int check4(struct bpf_sock_addr *ctx)
{
  __u8 addr[16] = {0};
  __u32 ip = ctx->user_ip4;
  __builtin_memcpy(addr, &ip, 4);
  return decide(&out4, addr, 32, (__u8) ctx->protocol, bpf_ntohs((__u16) ctx->user_port));
}

static __always_inline int check6(struct bpf_sock_addr *ctx)
{
  __u8 addr[16];
  __u32 w0 = ctx->user_ip6[0], w1 = ctx->user_ip6[1], w2 = ctx->user_ip6[2], w3 = ctx->user_ip6[3];
  __builtin_memcpy(addr, &w0, 4);
  __builtin_memcpy(addr + 4, &w1, 4);
  __builtin_memcpy(addr + 8, &w2, 4);
  __builtin_memcpy(addr + 12, &w3, 4);
  return decide(&out6, addr, 128, (__u8) ctx->protocol, bpf_ntohs((__u16) ctx->user_port));
}

SEC("cgroup/connect4")
int sandhost_connect4(struct bpf_sock_addr *ctx)
{
  return check4(ctx);
}

SEC("cgroup/connect6")
int sandhost_connect6(struct bpf_sock_addr *ctx)
{
  return check6(ctx);
}

SEC("cgroup/sendmsg4")
int sandhost_sendmsg4(struct bpf_sock_addr *ctx)
{
  return check4(ctx);
}

SEC("cgroup/sendmsg6")
int sandhost_sendmsg6(struct bpf_sock_addr *ctx)
{
  return check6(ctx);
}

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6

/* The addresses, protocol and ports of a packet; 0 when it is neither IPv4
 * nor IPv6.  Ports stay 0 for other protocols and IPv6 extension headers. */
static __always_inline int parse(struct __sk_buff *skb, __u8 src[16], __u8 dst[16], __u8 *proto,
                                 __u16 *sport, __u16 *dport)
{
  __u32 l4;
  if (skb->protocol == bpf_htons(ETH_P_IP)) {
    __u8 h[20];
    if (bpf_skb_load_bytes(skb, 0, h, sizeof h) < 0)
      return 0;
    __builtin_memcpy(src, h + 12, 4);
    __builtin_memcpy(dst, h + 16, 4);
    *proto = h[9];
    l4 = (h[0] & 0xf) * 4;
  } else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
    __u8 h[40];
    if (bpf_skb_load_bytes(skb, 0, h, sizeof h) < 0)
      return 0;
    __builtin_memcpy(src, h + 8, 16);
    __builtin_memcpy(dst, h + 24, 16);
    *proto = h[6];
    l4 = 40;
  } else {
    return 0;
  }
  *sport = *dport = 0;
  if (*proto == IPPROTO_TCP || *proto == IPPROTO_UDP) {
    __u16 ports[2];
    if (bpf_skb_load_bytes(skb, l4, ports, sizeof ports) == 0) {
      *sport = bpf_ntohs(ports[0]);
      *dport = bpf_ntohs(ports[1]);
    }
  }
  return skb->protocol == bpf_htons(ETH_P_IP) ? 4 : 6;
}

SEC("cgroup_skb/ingress")
int sandhost_count_in(struct __sk_buff *skb)
{
  __u8 src[16] = {0}, dst[16] = {0}, proto = 0;
  __u16 sport = 0, dport = 0;
  __u64 cg = bpf_skb_ancestor_cgroup_id(skb, level);
  struct conf *c = bpf_map_lookup_elem(&config, &cg);
  if (!c)
    return 1;
  int v = parse(skb, src, dst, &proto, &sport, &dport);
  if (v) {
    struct flow f = { .cgroup = cg, .remote_port = sport, .local_port = dport, .proto = proto };
    __builtin_memcpy(f.remote, src, 16);
    if (!c->track || !bpf_map_lookup_elem(&flows, &f)) {
      if (lookup(v == 4 ? (void *) &in4 : (void *) &in6, cg, c, c->def_in == DENY ? DENY : ALLOW, src, v == 4 ? 32 : 128, proto,
                 dport) == DENY) {
        count(cg, COUNT_DROPPED_IN, skb->len);
        return 0;
      }
    }
  }
  count(cg, COUNT_IN, skb->len);
  return 1;
}

SEC("cgroup_skb/egress")
int sandhost_count_out(struct __sk_buff *skb)
{
  __u8 src[16] = {0}, dst[16] = {0}, proto = 0;
  __u16 sport = 0, dport = 0;
  __u64 cg = bpf_skb_ancestor_cgroup_id(skb, level);
  struct conf *c = bpf_map_lookup_elem(&config, &cg);
  if (!c)
    return 1;
  if (c->track && parse(skb, src, dst, &proto, &sport, &dport) && (proto == IPPROTO_TCP || proto == IPPROTO_UDP)) {
    struct flow f = { .cgroup = cg, .remote_port = dport, .local_port = sport, .proto = proto };
    __builtin_memcpy(f.remote, dst, 16);
    /* A known flow needs no write: the lookup alone keeps it recent in the
     * LRU, and an update on every packet costs throughput. */
    if (!bpf_map_lookup_elem(&flows, &f)) {
      __u64 now = bpf_ktime_get_ns();   /* when the flow was first seen */
      bpf_map_update_elem(&flows, &f, &now, BPF_NOEXIST);
    }
  }
  count(cg, COUNT_OUT, skb->len);
  return 1;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
