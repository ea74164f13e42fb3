/* Addresses for tenant networks: prefixes, a deterministic allocator over a
 * provider pool and a tenant subnet, derived MACs and link names.  Stateless:
 * the caller (sandhostd) keeps the allocations and passes them in. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "prefix.h"

/* The first subnet of length sub_len inside pool that overlaps none of used. */
int nf_subnet_alloc(const struct sh_prefix *pool, unsigned sub_len, const struct sh_prefix *used,
                    size_t n_used, struct sh_prefix *out, sh_error *e);
/* A requested subnet: inside pool and free, or an error that says which. */
int nf_subnet_check(const struct sh_prefix *pool, const struct sh_prefix *req,
                    const struct sh_prefix *used, size_t n_used, sh_error *e);

/* The gateway: the subnet's first host address. */
int nf_gateway(const struct sh_prefix *subnet, struct sh_prefix *out, sh_error *e);
/* The first free host address after the gateway (IPv4 never the network or
 * broadcast address; IPv6 never the subnet-router anycast). */
int nf_addr_alloc(const struct sh_prefix *subnet, const struct sh_prefix *used, size_t n_used,
                  struct sh_prefix *out, sh_error *e);

/* A locally administered unicast MAC derived from a container id. */
void nf_mac_for(uint64_t container_id, uint8_t mac[6]);
/* fe80::/64 with the modified EUI-64 of mac: the link-local Linux gives a veth. */
void nf_link_local(const uint8_t mac[6], uint8_t out[16]);
/* Link names derived from ids (IFNAMSIZ-safe): host side "sh<hex>", peer
 * "sp<hex>" before it moves into the container, bridge "sb<hex>". */
void nf_veth_names(uint64_t container_id, char host[16], char peer[16]);
void nf_bridge_name(uint64_t network_id, char name[16]);
