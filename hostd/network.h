/* Containers on their tenant's network: the database side (a network per
 * tenant with a subnet from the provider pool, an address per container)
 * and the kernel side through netfw (the tenant's bridge, the container's
 * veth in a network namespace of its own, the nft elements). */
#pragma once

#include <sqlite3.h>
#include <sys/types.h>
#include "config.h"
#include "error.h"
#include "host.h"

/* In the API's transaction: the tenant's network (made on first use) and
 * the container's IPv4 and IPv6 addresses on it. */
int hd_net_assign(sqlite3 *db, const struct hd_config *cfg, int64_t tenant, int64_t container, sh_error *e);

/* Wire a created (not yet started) container whose init is pid: the
 * tenant's bridge with its gateways, a veth whose peer becomes eth0 in the
 * container's own network namespace (made by the runtime, so it belongs to
 * the container's user namespace and its root manages it), addresses,
 * routes, and its nft port.  Idempotent. */
int hd_net_up(struct hd_host *h, sqlite3 *db, int64_t container, pid_t pid, sh_error *e);
/* Undo hd_net_up; what is missing is fine. */
int hd_net_down(struct hd_host *h, sqlite3 *db, int64_t container, sh_error *e);
/* Its veth (and shaping) alone, nft left as it is; missing is fine. */
int hd_net_unplug(int64_t container, sh_error *e);
/* The whole nft state from the database (networks) and the kernel (the
 * container veths that exist), applied in one transaction.  Nothing is
 * touched when there are no networks at all. */
int hd_net_apply(struct hd_host *h, sqlite3 *db, sh_error *e);
