/* Addresses for tenant networks: prefixes, a deterministic allocator over a
 * provider pool and a tenant subnet, derived MACs and link names.  Stateless:
 * the caller (sandhostd) keeps the allocations and passes them in. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct nf_prefix {
  int family;          /* AF_INET or AF_INET6 */
  uint8_t addr[16];    /* network byte order; IPv4 in the first 4 bytes */
  unsigned len;        /* prefix length */
};

/* "10.0.0.0/8", "fd00:1::/48"; a bare address is a host prefix.  Bits below
 * the prefix length must be zero unless host_bits_ok. */
int nf_prefix_parse(const char *s, bool host_bits_ok, struct nf_prefix *out, sh_error *e);
/* "10.1.2.0/24" (or a bare address for a host prefix when bare_host). */
const char *nf_prefix_format(const struct nf_prefix *p, bool bare_host, char *buf, size_t len);
bool nf_prefix_contains(const struct nf_prefix *outer, const struct nf_prefix *inner);
bool nf_prefix_overlaps(const struct nf_prefix *a, const struct nf_prefix *b);

/* The first subnet of length sub_len inside pool that overlaps none of used. */
int nf_subnet_alloc(const struct nf_prefix *pool, unsigned sub_len, const struct nf_prefix *used,
                    size_t n_used, struct nf_prefix *out, sh_error *e);
/* A requested subnet: inside pool and free, or an error that says which. */
int nf_subnet_check(const struct nf_prefix *pool, const struct nf_prefix *req,
                    const struct nf_prefix *used, size_t n_used, sh_error *e);

/* The gateway: the subnet's first host address. */
int nf_gateway(const struct nf_prefix *subnet, struct nf_prefix *out, sh_error *e);
/* The first free host address after the gateway (IPv4 never the network or
 * broadcast address; IPv6 never the subnet-router anycast). */
int nf_addr_alloc(const struct nf_prefix *subnet, const struct nf_prefix *used, size_t n_used,
                  struct nf_prefix *out, sh_error *e);

/* A locally administered unicast MAC derived from a container id. */
void nf_mac_for(uint64_t container_id, uint8_t mac[6]);
/* Link names derived from ids (IFNAMSIZ-safe): host side "sh<hex>", peer
 * "sp<hex>" before it moves into the container, bridge "sb<hex>". */
void nf_veth_names(uint64_t container_id, char host[16], char peer[16]);
void nf_bridge_name(uint64_t network_id, char name[16]);
