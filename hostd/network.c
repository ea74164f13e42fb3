/* Tenant networks for containers, from the database to netfw. */
#include "network.h"

#include "cleanup.h"
#include "db.h"
#include "ipam.h"
#include "link.h"
#include "log.h"
#include "nft.h"
#include "prefix.h"
#include "tc.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SUBNET4_LEN = 24, SUBNET6_LEN = 64 };

/* The prefixes in a column of a query (with one id bound, or none), for
 * the allocators. */
static int prefixes(sqlite3 *db, const char *sql, const int64_t *arg, struct sh_prefix **out, size_t *n, sh_error *e)
{
  _cleanup_stmt_ sqlite3_stmt *s = arg ? hd_db_query(db, e, sql, "i", *arg) : hd_db_query(db, e, sql, NULL);
  if (!s)
    return -e->err;
  *out = NULL;
  *n = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    if (sqlite3_column_type(s, 0) == SQLITE_NULL)
      continue;
    struct sh_prefix p;
    if (sh_prefix_parse((const char *) sqlite3_column_text(s, 0), true, &p, NULL) < 0)
      continue;
    struct sh_prefix *np = realloc(*out, (*n + 1) * sizeof *np);
    if (!np)
      return sh_err(e, ENOMEM, "allocate", "network", NULL);
    *out = np;
    np[(*n)++] = p;
  }
  return 0;
}

/* The tenant's network, made with a free subnet of each pool on first use. */
static int tenant_network(sqlite3 *db, const struct hd_config *cfg, int64_t tenant, int64_t *id, struct sh_prefix sub[2],
                          sh_error *e)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, e,
    "SELECT id, subnet4, subnet6 FROM networks WHERE tenant_id = ? AND name = 'default'", "i", tenant);
  if (!s)
    return -e->err;
  if (sqlite3_step(s) == SQLITE_ROW) {
    *id = sqlite3_column_int64(s, 0);
    for (int f = 0; f < 2; f++)
      if (sh_prefix_parse((const char *) sqlite3_column_text(s, 1 + f), false, &sub[f], e) < 0)
        return -e->err;
    return 0;
  }
  const char *pools[2] = { cfg->network_pool4, cfg->network_pool6 };
  static const unsigned len[2] = { SUBNET4_LEN, SUBNET6_LEN };
  char text[2][64];
  for (int f = 0; f < 2; f++) {
    struct sh_prefix pool;
    _cleanup_free_ struct sh_prefix *used = NULL;
    size_t n;
    int r;
    if ((r = sh_prefix_parse(pools[f], false, &pool, e)) < 0)
      return r;
    /* Every tenant's subnet is taken. */
    if ((r = prefixes(db, f ? "SELECT subnet6 FROM networks" : "SELECT subnet4 FROM networks", NULL, &used, &n, e)) < 0)
      return r;
    if ((r = nf_subnet_alloc(&pool, len[f], used, n, &sub[f], e)) < 0)
      return r;
    sh_prefix_format(&sub[f], false, text[f], sizeof text[f]);
  }
  int r = hd_db_exec(db, e, "INSERT INTO networks (tenant_id, name, subnet4, subnet6) VALUES (?, 'default', ?, ?)", "itt", tenant,
                     text[0], text[1]);
  if (r < 0)
    return r;
  *id = sqlite3_last_insert_rowid(db);
  return 0;
}

int hd_net_assign(sqlite3 *db, const struct hd_config *cfg, int64_t tenant, int64_t container, sh_error *e)
{
  int64_t net = 0;
  struct sh_prefix sub[2];
  int r = tenant_network(db, cfg, tenant, &net, sub, e);
  if (r < 0)
    return r;
  for (int f = 0; f < 2; f++) {
    _cleanup_free_ struct sh_prefix *used = NULL;
    size_t n;
    /* The gateway is taken; so is every address the network gave out. */
    if ((r = prefixes(db, f ? "SELECT address FROM addresses WHERE network_id = ? AND family = 6"
                            : "SELECT address FROM addresses WHERE network_id = ? AND family = 4", &net, &used, &n, e)) < 0)
      return r;
    struct sh_prefix *nu = realloc(used, (n + 1) * sizeof *nu), addr;
    if (!nu)
      return sh_err(e, ENOMEM, "allocate address", "network", NULL);
    used = nu;
    if ((r = nf_gateway(&sub[f], &used[n], e)) < 0)
      return r;
    if ((r = nf_addr_alloc(&sub[f], used, n + 1, &addr, e)) < 0)
      return r;
    char text[64];
    sh_prefix_format(&addr, true, text, sizeof text);
    if ((r = hd_db_exec(db, e, "INSERT INTO addresses (network_id, container_id, family, address) VALUES (?, ?, ?, ?)", "iiit",
                        net, container, (int64_t) (f ? 6 : 4), text)) < 0)
      return r;
  }
  return 0;
}

/* What netfw needs of a container's network. */
struct port_info {
  int64_t net;
  struct sh_prefix sub[2], addr[2];
};

static int port_info(sqlite3 *db, int64_t container, struct port_info *p, sh_error *e)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, e,
    "SELECT n.id, n.subnet4, n.subnet6, a.family, a.address FROM addresses a JOIN networks n ON n.id = a.network_id"
    " WHERE a.container_id = ? ORDER BY a.family", "i", container);
  if (!s)
    return -e->err;
  int found = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    int f = sqlite3_column_int(s, 3) == 6;
    p->net = sqlite3_column_int64(s, 0);
    if (sh_prefix_parse((const char *) sqlite3_column_text(s, 1 + f), false, &p->sub[f], e) < 0 ||
        sh_prefix_parse((const char *) sqlite3_column_text(s, 4), true, &p->addr[f], e) < 0)
      return -e->err;
    p->addr[f].len = p->sub[f].len;
    found |= 1 << f;
  }
  return found == 3 ? 0 : sh_err(e, ENOENT, "network", "addresses", "container %" PRId64 " has no addresses", container);
}

static int ok_exists(int r, sh_error *e)
{
  if (r == -EEXIST) {
    sh_error_clear(e);
    return 0;
  }
  return r;
}

static int net_add(struct hd_host *h, sqlite3 *db, int64_t container, const struct port_info *p, sh_error *e);

int hd_net_up(struct hd_host *h, sqlite3 *db, int64_t container, pid_t pid, sh_error *e)
{
  struct port_info p;
  int r = port_info(db, container, &p, e);
  if (r < 0)
    return r;
  char br[16], host[16], peer[16], path[300];
  uint8_t mac[6];
  nf_bridge_name((uint64_t) p.net, br);
  nf_veth_names((uint64_t) container, host, peer);
  nf_mac_for((uint64_t) container, mac);
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
  struct nf_nl n, cn;
  if ((r = nf_nl_open(&n, -1, e)) < 0)
    return r;
  /* The tenant's bridge with its gateways. */
  struct nf_link_change up = { .netns_fd = -1, .up = true };
  struct sh_prefix gw[2];
  r = ok_exists(nf_link_add_bridge(&n, br, 1500, e), e);
  for (int f = 0; r == 0 && f < 2; f++) {
    if ((r = nf_gateway(&p.sub[f], &gw[f], e)) == 0) {
      struct sh_prefix g = gw[f];
      g.len = p.sub[f].len;
      r = ok_exists(nf_addr_add(&n, br, &g, e), e);
    }
  }
  if (r == 0)
    r = nf_link_set(&n, br, &up, e);
  _cleanup_close_ int nsfd = r == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  if (r == 0 && nsfd < 0)
    r = sh_errno(e, "open network namespace", path);
  if (r == 0) {
    /* A veth left by an interrupted start is replaced (its ifb first). */
    nf_tc_clear(&n, host);
    nf_link_del(&n, host, NULL);
    struct nf_link_change port = { .master = br, .netns_fd = -1, .up = true };
    struct nf_link_change move = { .netns_fd = nsfd, .new_name = "eth0" };
    if ((r = nf_link_add_veth(&n, host, peer, 1500, mac, e)) == 0 && (r = nf_link_set(&n, host, &port, e)) == 0)
      r = nf_link_set(&n, peer, &move, e);
  }
  /* The plan's bandwidth, each way, shaped on the host end. */
  if (r == 0) {
    _cleanup_stmt_ sqlite3_stmt *bw = hd_db_query(db, e, "SELECT bandwidth_mbit FROM containers WHERE id = ?", "i", container);
    uint64_t bps = bw && sqlite3_step(bw) == SQLITE_ROW ? (uint64_t) sqlite3_column_int64(bw, 0) * 1000000 : 0;
    if (bps)
      r = nf_tc_set_rate(&n, host, bps, bps, e);
  }
  nf_nl_close(&n);
  if (r < 0)
    return r;
  if ((r = nf_nl_open(&cn, nsfd, e)) < 0)
    return r;
  r = nf_link_set(&cn, "lo", &up, e);
  for (int f = 0; r == 0 && f < 2; f++)
    r = ok_exists(nf_addr_add(&cn, "eth0", &p.addr[f], e), e);
  if (r == 0)
    r = nf_link_set(&cn, "eth0", &up, e);
  for (int f = 0; r == 0 && f < 2; f++) {
    struct sh_prefix g = gw[f];
    g.len = f ? 128 : 32;
    r = ok_exists(nf_route_add_default(&cn, "eth0", &g, e), e);
  }
  nf_nl_close(&cn);
  return r < 0 ? r : net_add(h, db, container, &p, e);
}

int hd_net_unplug(int64_t container, sh_error *e)
{
  char host[16], peer[16];
  nf_veth_names((uint64_t) container, host, peer);
  struct nf_nl n;
  int r = nf_nl_open(&n, -1, e);
  if (r < 0)
    return r;
  nf_tc_clear(&n, host);
  r = nf_link_del(&n, host, e);  /* its peer goes with it */
  nf_nl_close(&n);
  if (r < 0 && r != -ENODEV)
    return r;
  sh_error_clear(e);
  return 0;
}

int hd_net_down(struct hd_host *h, sqlite3 *db, int64_t container, sh_error *e)
{
  int r = hd_net_unplug(container, e);
  return r < 0 ? r : hd_net_apply(h, db, e);
}

/* Workers apply side by side: one apply at a time, each reading the state
 * when it begins, so the last one always sees every veth made before it was
 * asked for; callers that asked while an apply was waiting share the next
 * one (its result too) instead of each rebuilding the tables. */
static struct {
  pthread_mutex_t lock;
  pthread_cond_t done;
  bool busy;
  uint64_t asked, served;   /* generations */
  int result;
  sh_error err;
  /* The tenant networks the table has (as of the last apply, plus adds):
   * adding one that is there fails its whole transaction, whose abort
   * waits for an RCU grace period. */
  int64_t *known;
  size_t n_known;
} na = { .lock = PTHREAD_MUTEX_INITIALIZER, .done = PTHREAD_COND_INITIALIZER };

static bool net_known(int64_t id)
{
  for (size_t i = 0; i < na.n_known; i++)
    if (na.known[i] == id)
      return true;
  return false;
}

static void net_learn(int64_t id)
{
  int64_t *k = net_known(id) ? NULL : realloc(na.known, (na.n_known + 1) * sizeof *k);
  if (k) {
    na.known = k;
    na.known[na.n_known++] = id;
  }
}

static int net_apply_now(struct hd_host *h, sqlite3 *db, sh_error *e)
{
  _cleanup_stmt_ sqlite3_stmt *ns = hd_db_query(db, e, "SELECT id FROM networks ORDER BY id", NULL);
  if (!ns)
    return -e->err;
  _cleanup_free_ struct nf_tenant_net *nets = NULL;
  _cleanup_free_ struct nf_port *ports = NULL;
  _cleanup_free_ struct nf_forward *fwds = NULL;
  _cleanup_free_ int64_t *port_ids = NULL;
  size_t n_nets = 0, n_ports = 0, n_fwds = 0;
  while (sqlite3_step(ns) == SQLITE_ROW) {
    struct nf_tenant_net *nn = realloc(nets, (n_nets + 1) * sizeof *nn);
    if (!nn)
      return sh_err(e, ENOMEM, "nftables", NULL, NULL);
    nets = nn;
    nets[n_nets].id = (uint64_t) sqlite3_column_int64(ns, 0);
    nf_bridge_name(nets[n_nets].id, nets[n_nets].bridge);
    n_nets++;
  }
  if (!n_nets)
    return 0;  /* no network yet: leave nft alone */
  /* Ports: the containers whose veth exists (the kernel says which). */
  struct nf_nl nl;
  if (nf_nl_open(&nl, -1, e) < 0)
    return -e->err;
  _cleanup_stmt_ sqlite3_stmt *cs = hd_db_query(db, e, "SELECT DISTINCT container_id FROM addresses ORDER BY container_id", NULL);
  while (cs && sqlite3_step(cs) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(cs, 0);
    char host[16], peer_[16];
    nf_veth_names((uint64_t) id, host, peer_);
    if (nf_link_index(&nl, host, NULL) <= 0)
      continue;
    struct port_info p;
    if (port_info(db, id, &p, NULL) < 0)
      continue;
    struct nf_port *np = realloc(ports, (n_ports + 1) * sizeof *np);
    int64_t *ni = realloc(port_ids, (n_ports + 1) * sizeof *ni);
    if (ni)
      port_ids = ni;
    if (np)
      ports = np;
    if (!np || !ni)
      return sh_err(e, ENOMEM, "nftables", NULL, NULL);
    port_ids[n_ports] = id;
    struct nf_port *port = &ports[n_ports++];
    memset(port, 0, sizeof *port);
    char peer[16];
    nf_veth_names((uint64_t) id, port->ifname, peer);
    nf_mac_for((uint64_t) id, port->mac);
    memcpy(port->ip4, p.addr[0].addr, 4);
    memcpy(port->ip6, p.addr[1].addr, 16);
  }
  nf_nl_close(&nl);
  /* Forwards to the containers whose port exists (they run). */
  _cleanup_stmt_ sqlite3_stmt *fs = hd_db_query(db, e, "SELECT container_id, proto, public_port, port FROM forwards ORDER BY proto, public_port", NULL);
  while (fs && sqlite3_step(fs) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(fs, 0);
    size_t k = 0;
    while (k < n_ports && port_ids[k] != id)
      k++;
    if (k == n_ports)
      continue;
    struct nf_forward *nf = realloc(fwds, (n_fwds + 1) * sizeof *nf);
    if (!nf)
      return sh_err(e, ENOMEM, "nftables", NULL, NULL);
    fwds = nf;
    struct nf_forward *f = &fwds[n_fwds++];
    memset(f, 0, sizeof *f);
    f->proto = strcmp((const char *) sqlite3_column_text(fs, 1), "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
    f->public_port = (uint16_t) sqlite3_column_int(fs, 2);
    f->port = (uint16_t) sqlite3_column_int(fs, 3);
    memcpy(f->ip4, ports[k].ip4, 4);
    memcpy(f->ip6, ports[k].ip6, 16);
  }
  /* No container was ever wired (only created, or created and deleted):
   * a host without the tables keeps it that way. */
  bool present = true;
  if (!n_ports && nf_nft_present(&present, e) == 0 && !present)
    return 0;
  struct nf_desired d = { .uplink = h->cfg.uplink[0] ? h->cfg.uplink : NULL, .nets = nets, .n_nets = n_nets,
                          .ports = ports, .n_ports = n_ports, .forwards = fwds, .n_forwards = n_fwds };
  int r = nf_nft_apply(&d, e);
  if (r == 0) {   /* under na's lock (hd_net_apply) */
    na.n_known = 0;
    for (size_t i = 0; i < n_nets; i++)
      net_learn((int64_t) nets[i].id);
  }
  return r;
}

int hd_net_apply(struct hd_host *h, sqlite3 *db, sh_error *e)
{
  pthread_mutex_lock(&na.lock);
  uint64_t mine = ++na.asked;
  while (na.busy)
    pthread_cond_wait(&na.done, &na.lock);
  if (na.served >= mine) {   /* an apply that began after we asked covered us */
    int r = na.result;
    if (r < 0)
      *e = na.err;
    pthread_mutex_unlock(&na.lock);
    return r;
  }
  na.busy = true;
  uint64_t covers = na.asked;
  pthread_mutex_unlock(&na.lock);
  sh_error le = {0};
  int r = net_apply_now(h, db, &le);
  pthread_mutex_lock(&na.lock);
  na.busy = false;
  na.served = covers;
  na.result = r;
  na.err = le;
  pthread_cond_broadcast(&na.done);
  pthread_mutex_unlock(&na.lock);
  if (r < 0)
    *e = le;
  return r;
}

/* A started container's port (and its tenant's network, the first time)
 * added to nft without rebuilding it: additions only, so the cost does not
 * grow with the containers there.  Serialized with the applies; anything
 * else (no table yet, forwards to add, a port already there) falls back to
 * a whole apply. */
static int net_add(struct hd_host *h, sqlite3 *db, int64_t container, const struct port_info *p, sh_error *e)
{
  _cleanup_stmt_ sqlite3_stmt *fw = hd_db_query(db, e, "SELECT 1 FROM forwards WHERE container_id = ?", "i", container);
  bool forwards = fw && sqlite3_step(fw) == SQLITE_ROW;
  sqlite3_reset(fw);
  if (forwards)
    return hd_net_apply(h, db, e);
  struct nf_tenant_net net = { .id = (uint64_t) p->net };
  nf_bridge_name(net.id, net.bridge);
  struct nf_port port = {0};
  char peer[16];
  nf_veth_names((uint64_t) container, port.ifname, peer);
  nf_mac_for((uint64_t) container, port.mac);
  memcpy(port.ip4, p->addr[0].addr, 4);
  memcpy(port.ip6, p->addr[1].addr, 16);
  const char *uplink = h->cfg.uplink[0] ? h->cfg.uplink : NULL;
  pthread_mutex_lock(&na.lock);
  while (na.busy)
    pthread_cond_wait(&na.done, &na.lock);
  na.busy = true;
  pthread_mutex_unlock(&na.lock);
  sh_error le = {0};
  bool add_net = !net_known(p->net);
  int r = nf_nft_add(uplink, add_net ? &net : NULL, add_net, &port, 1, &le);
  if (r == 0 && add_net)
    net_learn(p->net);
  pthread_mutex_lock(&na.lock);
  na.busy = false;
  pthread_cond_broadcast(&na.done);
  pthread_mutex_unlock(&na.lock);
  return r == 0 ? 0 : hd_net_apply(h, db, e);
}
