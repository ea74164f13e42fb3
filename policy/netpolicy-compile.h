/* Compile a network policy into LPM-trie entries for the BPF programs of
 * netfw: one key per prefix, whose value lists every rule that can decide for
 * an address under it, most specific first.  The program does one lookup and
 * scans at most SH_NP_MAX_MATCH entries; no match means the default. */
#pragma once

#include <stdint.h>
#include "netpolicy.h"

#define SH_NP_MAX_MATCH 16

/* Layouts shared with the BPF programs: keep them fixed-size and packed. */
struct sh_np_match {
  uint8_t action;      /* enum sh_np_action */
  uint8_t proto;       /* IP protocol number, 0: any */
  uint16_t port_lo;    /* 0: any port */
  uint16_t port_hi;
  uint16_t line;       /* the policy line, for counters and audit */
};

struct sh_np_lpm_key {
  uint32_t prefixlen;
  uint8_t addr[16];    /* IPv4 in the first 4 bytes */
};

struct sh_np_lpm_value {
  uint32_t n;
  struct sh_np_match m[SH_NP_MAX_MATCH];
};

struct sh_np_compiled {
  int family;
  enum sh_np_dir dir;
  uint8_t default_action;
  size_t n;
  struct sh_np_lpm_key *keys;
  struct sh_np_lpm_value *values;
};

int sh_netpolicy_compile(const struct sh_netpolicy *p, enum sh_np_dir dir, int family,
                         struct sh_np_compiled *out, sh_error *e);
void sh_np_compiled_clear(struct sh_np_compiled *c);

/* What the BPF program decides, in C: for tests and for `sandhost policy explain`. */
uint8_t sh_np_decide(const struct sh_np_compiled *c, const uint8_t addr[16], uint8_t proto, uint16_t port);
