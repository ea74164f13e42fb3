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

struct lpm_key {
  __u32 prefixlen;
  __u8 addr[16];
};

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

#define POLICY_MAP(name)                          \
  struct {                                        \
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);          \
    __uint(map_flags, BPF_F_NO_PREALLOC);         \
    __uint(max_entries, 65536);                   \
    __type(key, struct lpm_key);                  \
    __type(value, struct lpm_value);              \
  } name SEC(".maps")

POLICY_MAP(out4);
POLICY_MAP(out6);
POLICY_MAP(in4);
POLICY_MAP(in6);

/* [0]: the default action for outgoing traffic, [1]: for incoming. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} config SEC(".maps");

/* Flows the container opened: a packet coming back on one is a reply and
 * passes whatever the incoming rules say (the policy filters new inbound
 * traffic, as a stateful firewall would). */
struct flow {
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
 * [1] traffic out, [2] calls the policy refused (packets = calls).  The map
 * is carried over when the policy is replaced, so counts never reset. */
#define COUNT_IN 0
#define COUNT_OUT 1
#define COUNT_DENIED 2
#define COUNT_DROPPED_IN 3
struct counter {
  __u64 bytes;
  __u64 packets;
};
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct counter);
} counters SEC(".maps");

static __always_inline void count(__u32 which, __u64 bytes)
{
  struct counter *c = bpf_map_lookup_elem(&counters, &which);
  if (c) {
    c->bytes += bytes;
    c->packets++;
  }
}

/* ALLOW or DENY for a destination (outgoing) or source (incoming) address. */
static __always_inline int lookup(void *map, __u32 dir, struct lpm_key *k, __u8 proto, __u16 port)
{
  __u64 *def = bpf_map_lookup_elem(&config, &dir);
  int action = def && *def == DENY ? DENY : ALLOW;
  struct lpm_value *v = bpf_map_lookup_elem(map, k);
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

static __always_inline int decide(void *map, struct lpm_key *k, __u8 proto, __u16 port)
{
  if (lookup(map, 0, k, proto, port) == DENY) {
    count(COUNT_DENIED, 0);
    return 0; /* the kernel turns 0 into EPERM */
  }
  return 1;
}

static __always_inline int check4(struct bpf_sock_addr *ctx)
{
  struct lpm_key k = { .prefixlen = 32 };
  __u32 ip = ctx->user_ip4;
  __builtin_memcpy(k.addr, &ip, 4);
  return decide(&out4, &k, (__u8) ctx->protocol, bpf_ntohs((__u16) ctx->user_port));
}

static __always_inline int check6(struct bpf_sock_addr *ctx)
{
  struct lpm_key k = { .prefixlen = 128 };
  __u32 w0 = ctx->user_ip6[0], w1 = ctx->user_ip6[1], w2 = ctx->user_ip6[2], w3 = ctx->user_ip6[3];
  __builtin_memcpy(k.addr, &w0, 4);
  __builtin_memcpy(k.addr + 4, &w1, 4);
  __builtin_memcpy(k.addr + 8, &w2, 4);
  __builtin_memcpy(k.addr + 12, &w3, 4);
  return decide(&out6, &k, (__u8) ctx->protocol, bpf_ntohs((__u16) ctx->user_port));
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
  int v = parse(skb, src, dst, &proto, &sport, &dport);
  if (v) {
    struct flow f = { .remote_port = sport, .local_port = dport, .proto = proto };
    __builtin_memcpy(f.remote, src, 16);
    if (!bpf_map_lookup_elem(&flows, &f)) {
      struct lpm_key k = { .prefixlen = v == 4 ? 32 : 128 };
      __builtin_memcpy(k.addr, src, 16);
      if (lookup(v == 4 ? (void *) &in4 : (void *) &in6, 1, &k, proto, dport) == DENY) {
        count(COUNT_DROPPED_IN, skb->len);
        return 0;
      }
    }
  }
  count(COUNT_IN, skb->len);
  return 1;
}

SEC("cgroup_skb/egress")
int sandhost_count_out(struct __sk_buff *skb)
{
  __u8 src[16] = {0}, dst[16] = {0}, proto = 0;
  __u16 sport = 0, dport = 0;
  if (parse(skb, src, dst, &proto, &sport, &dport) && (proto == IPPROTO_TCP || proto == IPPROTO_UDP)) {
    struct flow f = { .remote_port = dport, .local_port = sport, .proto = proto };
    __builtin_memcpy(f.remote, dst, 16);
    /* A known flow needs no write: the lookup alone keeps it recent in the
     * LRU, and an update on every packet costs throughput. */
    if (!bpf_map_lookup_elem(&flows, &f)) {
      __u64 now = bpf_ktime_get_ns();   /* when the flow was first seen */
      bpf_map_update_elem(&flows, &f, &now, BPF_NOEXIST);
    }
  }
  count(COUNT_OUT, skb->len);
  return 1;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
