/* The network-policy language: a container's or tenant's default actions,
 * ordered allow/deny rules by CIDR, protocol and port range, and port
 * forwards.  Pure parsing and formatting; netfw compiles the result into BPF
 * map entries and nft elements.  Reference: docs/network-policy.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "error.h"
#include "prefix.h"

enum sh_np_action { SH_NP_ALLOW, SH_NP_DENY };
enum sh_np_dir { SH_NP_IN, SH_NP_OUT };
enum sh_np_proto { SH_NP_ANY, SH_NP_TCP, SH_NP_UDP, SH_NP_ICMP, SH_NP_ICMPV6 };

struct sh_np_rule {
  enum sh_np_action action;
  enum sh_np_dir dir;
  enum sh_np_proto proto;
  struct sh_prefix prefix;
  uint16_t port_lo, port_hi;   /* 0-0: every port */
  unsigned line, col;          /* where it was written */
};

struct sh_np_forward {
  enum sh_np_proto proto;      /* tcp or udp */
  uint16_t public_port, port;
  unsigned line, col;
};

struct sh_netpolicy {
  enum sh_np_action default_action[2];  /* by direction; allow when not given */
  struct sh_np_rule *rules;
  size_t n_rules;
  struct sh_np_forward *forwards;
  size_t n_forwards;
};

#define SH_NP_MAX_RULES 65536

/* Errors name the position: path "line L, column C", msg what is wrong. */
int sh_netpolicy_parse(const char *text, struct sh_netpolicy *out, sh_error *e);
/* Canonical text; parsing it gives the same policy.  malloc'd. */
char *sh_netpolicy_format(const struct sh_netpolicy *p);
void sh_netpolicy_clear(struct sh_netpolicy *p);
