/* Building and sending nftables batches with libnftnl. */
#include "nft.h"
#include "ipam.h"
#include "cleanup.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>

#define TABLE "sandhost"
#define FAMILY NFPROTO_INET
#define SET_BRIDGES "tenant_bridges"
#define MAP_FROM "from_tenant"
#define NF_BR_PRE_ROUTING 0  /* linux/netfilter_bridge.h clashes with net/if.h */

#define BATCH_SIZE (4 << 20)
#define RECV_SIZE 65536

struct batch {
  struct mnl_nlmsg_batch *b;
  char *buf;
  uint32_t seq;
  uint16_t family;  /* of the table being built: inet, or bridge for L2 checks */
};

static struct nlmsghdr *msg(struct batch *bt, int type, uint16_t flags)
{
  return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), (uint16_t) type, bt->family, flags, bt->seq++);
}

static void next(struct batch *bt)
{
  mnl_nlmsg_batch_next(bt->b);
}

static void add_table(struct batch *bt, int type, uint16_t flags)
{
  struct nftnl_table *t = nftnl_table_alloc();
  nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
  nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, bt->family);
  nftnl_table_nlmsg_build_payload(msg(bt, type, flags), t);
  nftnl_table_free(t);
  next(bt);
}

static void add_chain_flags(struct batch *bt, const char *name, const char *type, int hook, int prio, uint16_t flags);

/* hook < 0: a regular chain, reached by jumps. */
static void add_chain(struct batch *bt, const char *name, const char *type, int hook, int prio)
{
  add_chain_flags(bt, name, type, hook, prio, NLM_F_CREATE);
}

static void add_chain_flags(struct batch *bt, const char *name, const char *type, int hook, int prio, uint16_t flags)
{
  struct nftnl_chain *c = nftnl_chain_alloc();
  nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE);
  nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, bt->family);
  nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
  if (hook >= 0) {
    nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t) hook);
    nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT); /* other traffic is not ours */
  }
  nftnl_chain_nlmsg_build_payload(msg(bt, NFT_MSG_NEWCHAIN, flags), c);
  nftnl_chain_free(c);
  next(bt);
}

static void ifname_key(char key[IFNAMSIZ], const char *name)
{
  memset(key, 0, IFNAMSIZ);
  snprintf(key, IFNAMSIZ, "%s", name);
}

/* nftables' datatype ids, for sets nft can print; a concatenation is the
 * ids shifted left by 6 bits each (nftables' TYPE_BITS). */
enum { T_IPADDR = 7, T_IP6ADDR = 8, T_ETHERADDR = 9, T_INET_PROTOCOL = 12, T_INET_SERVICE = 13,
       T_IFNAME = 41 };
#define CONCAT2(a, b) (((a) << 6) | (b))
#define CONCAT3(a, b, c) (((((a) << 6) | (b)) << 6) | (c))

static struct nftnl_set *set_new(struct batch *bt, const char *name, uint32_t id, uint32_t key_type,
                                 uint32_t key_len, bool vmap)
{
  struct nftnl_set *s = nftnl_set_alloc();
  nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
  nftnl_set_set_str(s, NFTNL_SET_NAME, name);
  nftnl_set_set_u32(s, NFTNL_SET_ID, id);
  nftnl_set_set_u32(s, NFTNL_SET_FAMILY, bt->family);
  nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
  nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
  if (key_type == T_IFNAME) {
    /* Interface names are strings in host byte order; without saying so,
     * nft would print the elements reversed (as empty strings). */
    struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
    nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 1 /* BYTEORDER_HOST_ENDIAN */);
    nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
    nftnl_udata_buf_free(ud);
  }
  if (vmap) {
    nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
    nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
    nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
  }
  return s;
}

/* An element; chain: a jump verdict for maps. */
static void set_elem(struct nftnl_set *s, const void *key, size_t len, const char *chain)
{
  struct nftnl_set_elem *el = nftnl_set_elem_alloc();
  nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, (uint32_t) len);
  if (chain) {
    nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, (uint32_t) NFT_JUMP);
    nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, chain);
  }
  nftnl_set_elem_add(s, el);
}

/* Send the set and its elements; frees s. */
static void set_commit(struct batch *bt, struct nftnl_set *s, bool has_elems)
{
  nftnl_set_nlmsg_build_payload(msg(bt, NFT_MSG_NEWSET, NLM_F_CREATE), s);
  next(bt);
  if (has_elems) {
    nftnl_set_elems_nlmsg_build_payload(msg(bt, NFT_MSG_NEWSETELEM, NLM_F_CREATE), s);
    next(bt);
  }
  nftnl_set_free(s);
}

/* An existing set, to add elements to. */
static struct nftnl_set *set_ref(struct batch *bt, const char *name)
{
  struct nftnl_set *s = nftnl_set_alloc();
  nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
  nftnl_set_set_str(s, NFTNL_SET_NAME, name);
  nftnl_set_set_u32(s, NFTNL_SET_FAMILY, bt->family);
  return s;
}

/* Send only the elements (EEXIST if one is there already); frees s. */
static void elems_commit(struct batch *bt, struct nftnl_set *s, bool has_elems)
{
  if (has_elems) {
    nftnl_set_elems_nlmsg_build_payload(msg(bt, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL), s);
    next(bt);
  }
  nftnl_set_free(s);
}

static void add_set(struct batch *bt, const char *name, uint32_t id, bool vmap,
                    const struct nf_tenant_net *nets, size_t n)
{
  struct nftnl_set *s = set_new(bt, name, id, T_IFNAME, IFNAMSIZ, vmap);
  for (size_t i = 0; i < n; i++) {
    char key[IFNAMSIZ], chain[32];
    ifname_key(key, nets[i].bridge);
    snprintf(chain, sizeof chain, "t%llu", (unsigned long long) nets[i].id);
    set_elem(s, key, IFNAMSIZ, vmap ? chain : NULL);
  }
  set_commit(bt, s, n > 0);
}

/* Small expression builders. */
/* Load into a 32-bit register (NFT_REG32_00 + n) for concatenations. */
static void e_meta_to(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
  struct nftnl_expr *x = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(x, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(x, NFTNL_EXPR_META_DREG, dreg);
  nftnl_rule_add_expr(r, x);
}

static void e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
  struct nftnl_expr *x = nftnl_expr_alloc("payload");
  nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_BASE, base);
  nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_OFFSET, off);
  nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_LEN, len);
  nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_DREG, dreg);
  nftnl_rule_add_expr(r, x);
}

static void e_cmp(struct nftnl_rule *r, uint32_t sreg, uint32_t op, const void *data, uint32_t len)
{
  struct nftnl_expr *x = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_SREG, sreg);
  nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(x, NFTNL_EXPR_CMP_DATA, data, len);
  nftnl_rule_add_expr(r, x);
}

/* Is the key starting at sreg (not, with inv) in the set?  A verdict map
 * (vmap) jumps to what it finds. */
static void e_lookup_full(struct nftnl_rule *r, const char *set, uint32_t id, uint32_t sreg, bool inv, bool vmap)
{
  struct nftnl_expr *x = nftnl_expr_alloc("lookup");
  nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SREG, sreg);
  nftnl_expr_set_str(x, NFTNL_EXPR_LOOKUP_SET, set);
  nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SET_ID, id);
  if (inv)
    nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
  if (vmap)
    nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
  nftnl_rule_add_expr(r, x);
}

static void e_lookup_at(struct nftnl_rule *r, const char *set, uint32_t id, uint32_t sreg, bool inv)
{
  e_lookup_full(r, set, id, sreg, inv, false);
}

static void e_meta(struct nftnl_rule *r, uint32_t key)
{
  e_meta_to(r, key, NFT_REG_1);
}

static void e_cmp_ifname(struct nftnl_rule *r, const char *name)
{
  char key[IFNAMSIZ];
  ifname_key(key, name);
  e_cmp(r, NFT_REG_1, NFT_CMP_EQ, key, IFNAMSIZ);
}

static void e_lookup(struct nftnl_rule *r, const char *set, uint32_t id, bool vmap)
{
  e_lookup_full(r, set, id, NFT_REG_1, false, vmap);
}

static void e_counter(struct nftnl_rule *r)
{
  nftnl_rule_add_expr(r, nftnl_expr_alloc("counter"));
}

static void e_verdict(struct nftnl_rule *r, int verdict)
{
  struct nftnl_expr *x = nftnl_expr_alloc("immediate");
  nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_VERDICT, (uint32_t) verdict);
  nftnl_rule_add_expr(r, x);
}

/* ct <key> & mask != 0 */
static void e_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t mask)
{
  struct nftnl_expr *x = nftnl_expr_alloc("ct");
  nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, key);
  nftnl_expr_set_u32(x, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  nftnl_rule_add_expr(r, x);
  uint32_t zero = 0;
  x = nftnl_expr_alloc("bitwise");
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_LEN, sizeof mask);
  nftnl_expr_set(x, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
  nftnl_expr_set(x, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
  nftnl_rule_add_expr(r, x);
  e_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &zero, sizeof zero);
}

static void e_ct_established(struct nftnl_rule *r)
{
  e_ct_bits(r, NFT_CT_STATE, NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
}

/* ct status dnat: the connection was destination-NATed. */
static void e_ct_dnat(struct nftnl_rule *r)
{
  e_ct_bits(r, NFT_CT_STATUS, IPS_DST_NAT);
}

static void e_masq(struct nftnl_rule *r)
{
  nftnl_rule_add_expr(r, nftnl_expr_alloc("masq"));
}

static struct nftnl_rule *rule(struct batch *bt, const char *chain)
{
  struct nftnl_rule *r = nftnl_rule_alloc();
  nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
  nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
  nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, bt->family);
  return r;
}

static void add_rule(struct batch *bt, struct nftnl_rule *r)
{
  nftnl_rule_nlmsg_build_payload(msg(bt, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE), r);
  nftnl_rule_free(r);
  next(bt);
}

static int send_batch(struct batch *bt, const char *what, sh_error *e)
{
  struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (!nl)
    return sh_errno(e, what, "netlink");
  int r = 0;
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    r = sh_errno(e, what, "netlink");
    goto out;
  }
  uint32_t portid = mnl_socket_get_portid(nl);
  /* A thousand tenants make a batch of megabytes; errors come back as messages. */
  int sz = (int) mnl_nlmsg_batch_size(bt->b) + 65536, rsz = 1 << 20;
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz);
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rsz, sizeof rsz);
  if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(bt->b), mnl_nlmsg_batch_size(bt->b)) < 0) {
    r = sh_errno(e, what, "table inet " TABLE);
    goto out;
  }
  /* The kernel has run the whole batch when sendto returns; only errors
   * come back (no message asks for an ack), and the first is the answer. */
  static char buf[RECV_SIZE];
  for (;;) {
    struct timeval tv = { 0, 0 };
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(mnl_socket_get_fd(nl), &fds);
    if (select(mnl_socket_get_fd(nl) + 1, &fds, NULL, NULL, &tv) <= 0)
      break;
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
    if (n <= 0)
      break;
    if (mnl_cb_run(buf, (size_t) n, 0, portid, NULL, NULL) < 0 && r == 0)
      r = sh_err(e, errno, what, "table inet " TABLE, NULL);
  }
out:
  mnl_socket_close(nl);
  return r;
}

static bool zero(const uint8_t *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (p[i])
      return false;
  return true;
}

/* ---- one tenant network, one container port: shared by the full apply
 * and by nf_nft_add ---- */

static void name_elem(struct nftnl_set *s, const char *ifname, const char *chain)
{
  char key[IFNAMSIZ];
  ifname_key(key, ifname);
  set_elem(s, key, IFNAMSIZ, chain);
}

static void chain_name(const struct nf_tenant_net *n, char out[32])
{
  snprintf(out, 32, "t%llu", (unsigned long long) n->id);
}

static void tenant_chain(struct batch *bt, const struct nf_tenant_net *n, uint16_t flags)
{
  char chain[32];
  chain_name(n, chain);
  add_chain_flags(bt, chain, NULL, -1, 0, flags);
}

/* Out to its own bridge or the uplink only. */
static void tenant_rules(struct batch *bt, const struct nf_tenant_net *n, const char *uplink)
{
  char chain[32];
  chain_name(n, chain);
  struct nftnl_rule *r = rule(bt, chain);
  e_meta(r, NFT_META_OIFNAME);
  e_cmp_ifname(r, n->bridge);
  e_verdict(r, NF_ACCEPT);
  add_rule(bt, r);
  if (uplink) {
    r = rule(bt, chain);
    e_meta(r, NFT_META_OIFNAME);
    e_cmp_ifname(r, uplink);
    e_verdict(r, NF_ACCEPT);
    add_rule(bt, r);
  }
  r = rule(bt, chain);
  e_verdict(r, NF_DROP);
  add_rule(bt, r);
}

/* The inet table's hairpin sets: where a hairpinned packet may show up
 * (bridges and container ports) and the containers' own addresses. */
struct hairpin_sets {
  struct nftnl_set *links, *ip4, *ip6;
  size_t n4, n6;
};

static void port_inet_elems(struct hairpin_sets *h, const struct nf_port *p)
{
  name_elem(h->links, p->ifname, NULL);
  if (!zero(p->ip4, 4)) {
    set_elem(h->ip4, p->ip4, 4, NULL);
    h->n4++;
  }
  if (!zero(p->ip6, 16)) {
    set_elem(h->ip6, p->ip6, 16, NULL);
    h->n6++;
  }
}

/* ---- what a table holds now: to reset it without touching its hooks ---- */

struct held {
  char **chains;   /* regular chains, and base chains the desired state lacks */
  char **sets;
  size_t n_chains, n_sets;
};

static void held_free(struct held *h)
{
  for (size_t i = 0; i < h->n_chains; i++)
    free(h->chains[i]);
  for (size_t i = 0; i < h->n_sets; i++)
    free(h->sets[i]);
  free(h->chains);
  free(h->sets);
  *h = (struct held){0};
}

static int push(char ***v, size_t *n, const char *name)
{
  char **nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (!nv)
    return -1;
  *v = nv;
  return (nv[(*n)++] = strdup(name)) ? 0 : -1;
}

struct dump_ctx {
  struct held *h;
  const char *const *bases;  /* base chains the desired state has */
  int failed;
};

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
  struct dump_ctx *c = data;
  struct nftnl_chain *ch = nftnl_chain_alloc();
  if (ch && nftnl_chain_nlmsg_parse(nlh, ch) == 0 &&
      strcmp(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE), TABLE) == 0) {
    const char *name = nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME);
    bool keep = false;
    if (nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM))
      for (const char *const *b = c->bases; *b && !keep; b++)
        keep = strcmp(*b, name) == 0;
    if (!keep && push(&c->h->chains, &c->h->n_chains, name) < 0)
      c->failed = 1;
  }
  nftnl_chain_free(ch);
  return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
  struct dump_ctx *c = data;
  struct nftnl_set *st = nftnl_set_alloc();
  if (st && nftnl_set_nlmsg_parse(nlh, st) == 0 && strcmp(nftnl_set_get_str(st, NFTNL_SET_TABLE), TABLE) == 0 &&
      push(&c->h->sets, &c->h->n_sets, nftnl_set_get_str(st, NFTNL_SET_NAME)) < 0)
    c->failed = 1;
  nftnl_set_free(st);
  return MNL_CB_OK;
}

/* A bound netfilter netlink socket for reading our tables; NULL (e set) on failure. */
static struct mnl_socket *nft_socket(sh_error *e)
{
  struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0)
    return nl;
  sh_errno(e, "read nftables", "netlink");
  if (nl)
    mnl_socket_close(nl);
  return NULL;
}

/* Chains and sets of our table in family, by a netlink dump. */
static int held_read(uint16_t family, const char *const *bases, struct held *h, sh_error *e)
{
  *h = (struct held){0};
  struct mnl_socket *nl = nft_socket(e);
  if (!nl)
    return -e->err;
  struct dump_ctx c = { h, bases, 0 };
  static char buf[RECV_SIZE];
  int r = 0;
  for (int k = 0; k < 2 && r == 0; k++) {
    uint32_t seq = (uint32_t) time(NULL) + (uint32_t) k;
    struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, k ? NFT_MSG_GETSET : NFT_MSG_GETCHAIN, family, NLM_F_DUMP, seq);
    if (k) {
      /* A set dump names its table. */
      struct nftnl_set *st = nftnl_set_alloc();
      nftnl_set_set_str(st, NFTNL_SET_TABLE, TABLE);
      nftnl_set_nlmsg_build_payload(nlh, st);
      nftnl_set_free(st);
    }
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
      r = sh_errno(e, "read nftables", "table " TABLE);
      break;
    }
    ssize_t n;
    while ((n = mnl_socket_recvfrom(nl, buf, sizeof buf)) > 0) {
      int cr = mnl_cb_run(buf, (size_t) n, seq, mnl_socket_get_portid(nl), k ? set_cb : chain_cb, &c);
      if (cr == MNL_CB_STOP)
        break;
      if (cr < 0) {
        /* No such table yet: nothing is held. */
        if (errno != ENOENT)
          r = sh_errno(e, "read nftables", "table " TABLE);
        break;
      }
    }
  }
  mnl_socket_close(nl);
  if (r == 0 && c.failed)
    r = sh_err(e, ENOMEM, "read nftables", NULL, NULL);
  if (r < 0)
    held_free(h);
  return r;
}

/* Keep the table and the base chains the desired state has (a base chain
 * deleted and made again costs a hook unregistration and an RCU grace
 * period each), and drop everything else in it: rules, sets, chains.  The
 * caller then builds the whole desired state in the same batch. */
static void reset_table(struct batch *bt, const struct held *h)
{
  add_table(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
  struct nftnl_rule *r = nftnl_rule_alloc();
  nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
  nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, bt->family);
  nftnl_rule_nlmsg_build_payload(msg(bt, NFT_MSG_DELRULE, 0), r);
  nftnl_rule_free(r);
  next(bt);
  for (size_t i = 0; i < h->n_sets; i++) {
    struct nftnl_set *st = nftnl_set_alloc();
    nftnl_set_set_str(st, NFTNL_SET_TABLE, TABLE);
    nftnl_set_set_str(st, NFTNL_SET_NAME, h->sets[i]);
    nftnl_set_nlmsg_build_payload(msg(bt, NFT_MSG_DELSET, 0), st);
    nftnl_set_free(st);
    next(bt);
  }
  for (size_t i = 0; i < h->n_chains; i++) {
    struct nftnl_chain *c = nftnl_chain_alloc();
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE);
    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, h->chains[i]);
    nftnl_chain_nlmsg_build_payload(msg(bt, NFT_MSG_DELCHAIN, 0), c);
    nftnl_chain_free(c);
    next(bt);
  }
}

static const char *const inet_bases[] = { "forward", "prerouting", "postrouting", "input", NULL };
static const char *const bridge_bases[] = { "prerouting", NULL };

static struct batch *batch_new(void)
{
  struct batch *bt = calloc(1, sizeof *bt);
  if (!bt)
    return NULL;
  if (!(bt->buf = malloc(BATCH_SIZE))) {
    free(bt);
    return NULL;
  }
  bt->b = mnl_nlmsg_batch_start(bt->buf, BATCH_SIZE);
  bt->seq = (uint32_t) time(NULL);
  bt->family = FAMILY;
  nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), bt->seq++);
  next(bt);
  return bt;
}

static void batch_free(struct batch *bt)
{
  mnl_nlmsg_batch_stop(bt->b);
  free(bt->buf);
  free(bt);
}

/* ---- what containers may ask of the host (inet input) ---- */

#define SET_SERVICES "host_services"

/* A rule of the input chain for what comes in from a tenant bridge. */
static struct nftnl_rule *from_tenants(struct batch *bt)
{
  struct nftnl_rule *r = rule(bt, "input");
  e_meta(r, NFT_META_IIFNAME);
  e_lookup(r, SET_BRIDGES, 1, false);
  return r;
}

static const struct nf_service default_services[] = { { IPPROTO_UDP, 53 }, { IPPROTO_TCP, 53 } };

static void add_input(struct batch *bt, const struct nf_desired *d)
{
  const struct nf_service *sv = d->services ? d->services : default_services;
  size_t n = d->services ? d->n_services : SH_ARRAY_SIZE(default_services);
  add_chain(bt, "input", "filter", NF_INET_LOCAL_IN, 0);
  /* Keys: l4proto in the first 32-bit register, the port in the next. */
  struct nftnl_set *s = set_new(bt, SET_SERVICES, 3, CONCAT2(T_INET_PROTOCOL, T_INET_SERVICE), 8, false);
  for (size_t i = 0; i < n; i++) {
    uint8_t key[8] = { sv[i].proto };
    uint16_t port = htons(sv[i].port);
    memcpy(key + 4, &port, 2);
    set_elem(s, key, sizeof key, NULL);
  }
  set_commit(bt, s, n > 0);

  struct nftnl_rule *r = from_tenants(bt);
  e_ct_established(r);
  e_verdict(r, NF_ACCEPT);
  add_rule(bt, r);
  r = from_tenants(bt);
  e_meta_to(r, NFT_META_L4PROTO, NFT_REG32_00);
  e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01);
  e_lookup_at(r, SET_SERVICES, 3, NFT_REG32_00, false);
  e_verdict(r, NF_ACCEPT);
  add_rule(bt, r);
  /* Ping the gateway; IPv6 needs ICMPv6 for neighbour discovery. */
  static const uint8_t icmp = IPPROTO_ICMP, icmp6 = IPPROTO_ICMPV6, echo = 8;
  r = from_tenants(bt);
  e_meta_to(r, NFT_META_L4PROTO, NFT_REG_1);
  e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &icmp, 1);
  e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
  e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &echo, 1);
  e_verdict(r, NF_ACCEPT);
  add_rule(bt, r);
  r = from_tenants(bt);
  e_meta_to(r, NFT_META_L4PROTO, NFT_REG_1);
  e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &icmp6, 1);
  e_verdict(r, NF_ACCEPT);
  add_rule(bt, r);
  r = from_tenants(bt);
  e_counter(r);
  e_verdict(r, NF_DROP);
  add_rule(bt, r);
}

/* ---- port forwards (DNAT) and hairpin ---- */

#define SET_LINKS "tenant_links"

/* One map of forwards and one set of container addresses per IP family. */
static const struct fw_family {
  uint8_t nfproto;
  const char *map, *addrs;
  uint32_t map_id, addrs_id, addr_type, addr_len, saddr_off;
  size_t fw_off;                /* the container address in struct nf_forward */
} fw_families[] = {
  { NFPROTO_IPV4, "forwards_v4", "container_ipv4", 4, 6, T_IPADDR, 4, 12, offsetof(struct nf_forward, ip4) },
  { NFPROTO_IPV6, "forwards_v6", "container_ipv6", 7, 8, T_IP6ADDR, 16, 8, offsetof(struct nf_forward, ip6) },
};

static const uint8_t *fw_addr(const struct nf_forward *f, const struct fw_family *ff)
{
  return (const uint8_t *) f + ff->fw_off;
}

static void add_forwards(struct batch *bt, const struct nf_desired *d)
{
  for (size_t k = 0; k < SH_ARRAY_SIZE(fw_families); k++) {
    const struct fw_family *ff = &fw_families[k];
    /* meta l4proto . th dport : <ip daddr> . th dport; the port is on the
     * register after the address, as nft concatenates. */
    struct nftnl_set *m = set_new(bt, ff->map, ff->map_id, CONCAT2(T_INET_PROTOCOL, T_INET_SERVICE), 8, false);
    nftnl_set_set_u32(m, NFTNL_SET_FLAGS, NFT_SET_MAP);
    nftnl_set_set_u32(m, NFTNL_SET_DATA_TYPE, CONCAT2(ff->addr_type, T_INET_SERVICE));
    nftnl_set_set_u32(m, NFTNL_SET_DATA_LEN, ff->addr_len + 4);
    size_t n = 0;
    for (size_t i = 0; i < d->n_forwards; i++) {
      const struct nf_forward *f = &d->forwards[i];
      if (zero(fw_addr(f, ff), ff->addr_len))
        continue;
      uint8_t key[8] = { f->proto }, data[20] = {0};
      uint16_t pub = htons(f->public_port), port = htons(f->port);
      memcpy(key + 4, &pub, 2);
      memcpy(data, fw_addr(f, ff), ff->addr_len);
      memcpy(data + ff->addr_len, &port, 2);
      struct nftnl_set_elem *el = nftnl_set_elem_alloc();
      nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, sizeof key);
      nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, data, ff->addr_len + 4);
      nftnl_set_elem_add(m, el);
      n++;
    }
    set_commit(bt, m, n > 0);

    /* To any local address of the host, on a forwarded port: DNAT. */
    const uint32_t local = RTN_LOCAL;
    struct nftnl_rule *r = rule(bt, "prerouting");
    e_meta(r, NFT_META_NFPROTO);
    e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &ff->nfproto, 1);
    struct nftnl_expr *x = nftnl_expr_alloc("fib");
    nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
    nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
    nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
    nftnl_rule_add_expr(r, x);
    e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &local, sizeof local);
    e_meta_to(r, NFT_META_L4PROTO, NFT_REG32_00);
    e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01);
    struct nftnl_expr *lk = nftnl_expr_alloc("lookup");
    nftnl_expr_set_u32(lk, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
    nftnl_expr_set_str(lk, NFTNL_EXPR_LOOKUP_SET, ff->map);
    nftnl_expr_set_u32(lk, NFTNL_EXPR_LOOKUP_SET_ID, ff->map_id);
    nftnl_expr_set_u32(lk, NFTNL_EXPR_LOOKUP_DREG, NFT_REG32_00);
    nftnl_rule_add_expr(r, lk);
    x = nftnl_expr_alloc("nat");
    nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
    nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_FAMILY, ff->nfproto);
    nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG32_00);
    nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_00 + ff->addr_len / 4);
    nftnl_rule_add_expr(r, x);
    add_rule(bt, r);

    /* Hairpin: a container reaching a forwarded port of the host comes back
     * out into a tenant network; masquerade it so the reply returns through
     * the host rather than straight to the client.  The client is told by
     * its source address (the bridge table guarantees it is the port's
     * own): with br_netfilter on, a DNAT back into the same bridge is
     * bridged and has no input interface by the time it reaches
     * postrouting. */
    r = rule(bt, "postrouting");
    e_meta(r, NFT_META_NFPROTO);
    e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &ff->nfproto, 1);
    e_ct_dnat(r);
    e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, ff->saddr_off, ff->addr_len, NFT_REG_1);
    e_lookup(r, ff->addrs, ff->addrs_id, false);
    e_meta(r, NFT_META_OIFNAME);
    e_lookup(r, SET_LINKS, 5, false);
    e_masq(r);
    add_rule(bt, r);
  }
}

/* ---- anti-spoofing on container ports (table bridge sandhost) ---- */

#define SET_PORTS "ports"
#define SET_PORT_MAC "port_mac"
#define SET_PORT_IP4 "port_ipv4"
#define SET_PORT_IP6 "port_ipv6"
#define SET_ND_TARGETS "port_nd_targets"

/* The neighbour discovery target is raw transport-header bytes to nft 1.0.6
 * (it has no `icmpv6 taddr`), typed integer.  Looked up in port_ipv6, the
 * listing would not load back with nft -f (an admin's saved ruleset would
 * fail whole), so the targets get a set of their own whose key nft knows by
 * this description: `typeof iifname . ether saddr . @th,64,128`, in nft's
 * user-data format, as nft itself writes it. */
static const uint8_t nd_targets_typeof[] = {
  0x00, 0x04, 0, 0, 0, 0,                                   /* key byte order: network */
  0x03, 0x56,                                               /* key typeof: */
  0x00, 0x04, 0x0d, 0, 0, 0,                                /*  a concatenation of */
  0x01, 0x4e,
  0x00, 0x0e, 0x00, 0x04, 0x09, 0, 0, 0,                    /*  meta */
  0x01, 0x06, 0x00, 0x04, 0x06, 0, 0, 0,                    /*   iifname */
  0x01, 0x14, 0x00, 0x04, 0x07, 0, 0, 0,                    /*  payload */
  0x01, 0x0c, 0x00, 0x04, 0x11, 0, 0, 0, 0x01, 0x04, 0x02, 0, 0, 0, /* ether saddr */
  0x02, 0x26, 0x00, 0x04, 0x07, 0, 0, 0,                    /*  payload, raw: */
  0x01, 0x1e, 0x00, 0x04, 0, 0, 0, 0, 0x01, 0x04, 0, 0, 0, 0,
  0x02, 0x04, 0x03, 0, 0, 0,                                /*   transport header */
  0x03, 0x04, 0x40, 0, 0, 0,                                /*   at bit 64 */
  0x04, 0x04, 0x80, 0, 0, 0,                                /*   128 bits */
};
enum { T_INTEGER = 4 };

/* Key layouts: each field starts on a 32-bit register, as nft concatenates. */
#define K_IF 0          /* ifname: 16 bytes, registers 00-03 */
#define K_MAC 16        /* ether_addr: 6 bytes, registers 04-05 */
#define K_ADDR 24       /* ipv4 (4) or ipv6 (16) from register 06 */



static void port_key(uint8_t *key, const struct nf_port *p, const uint8_t *addr, size_t alen)
{
  char ifn[IFNAMSIZ];
  ifname_key(ifn, p->ifname);
  memcpy(key + K_IF, ifn, IFNAMSIZ);
  memcpy(key + K_MAC, p->mac, 6);
  if (addr)
    memcpy(key + K_ADDR, addr, alen);
}

/* Finish r: iifname . ether saddr [. addr_len bytes at addr_base+addr_off]
 * not in set: count and drop. */
static void lookup_drop(struct batch *bt, struct nftnl_rule *r, const char *set, uint32_t id, uint32_t mac_base,
                        uint32_t mac_off, uint32_t addr_base, int addr_off, uint32_t addr_len)
{
  e_meta_to(r, NFT_META_IIFNAME, NFT_REG32_00);
  e_payload(r, mac_base, mac_off, 6, NFT_REG32_04);
  if (addr_off >= 0)
    e_payload(r, addr_base, (uint32_t) addr_off, addr_len, NFT_REG32_06);
  e_lookup_at(r, set, id, NFT_REG32_00, true);
  e_counter(r);
  e_verdict(r, NF_DROP);
  add_rule(bt, r);
}

/* The same on network header bytes, for frames of one ethertype (or any). */
static void drop_unless(struct batch *bt, const char *set, uint32_t id, uint32_t mac_base, uint32_t mac_off,
                        int addr_off, uint32_t addr_len, const uint16_t *ethertype)
{
  struct nftnl_rule *r = rule(bt, "from_ports");
  if (ethertype) {
    e_payload(r, NFT_PAYLOAD_LL_HEADER, 12, 2, NFT_REG_1);
    e_cmp(r, NFT_REG_1, NFT_CMP_EQ, ethertype, 2);
  }
  lookup_drop(bt, r, set, id, mac_base, mac_off, NFT_PAYLOAD_NETWORK_HEADER, addr_off, addr_len);
}

/* A rule matching ICMPv6 of one type, from the unspecified address only if
 * asked; the caller finishes it. */
static struct nftnl_rule *icmp6_rule(struct batch *bt, uint8_t type, bool from_unspec)
{
  const uint16_t ip6 = htons(ETH_P_IPV6);
  static const uint8_t icmp6 = IPPROTO_ICMPV6, unspec[16] = {0};
  struct nftnl_rule *r = rule(bt, "from_ports");
  e_payload(r, NFT_PAYLOAD_LL_HEADER, 12, 2, NFT_REG_1);
  e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &ip6, 2);
  if (from_unspec) {
    e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_1);
    e_cmp(r, NFT_REG_1, NFT_CMP_EQ, unspec, 16);
  }
  e_meta_to(r, NFT_META_L4PROTO, NFT_REG_1);
  e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &icmp6, 1);
  if (type) {
    e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
    e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &type, 1);
  }
  return r;
}

static void accept_type(struct batch *bt, const uint16_t *ethertype)
{
  struct nftnl_rule *r = rule(bt, "from_ports");
  e_payload(r, NFT_PAYLOAD_LL_HEADER, 12, 2, NFT_REG_1);
  e_cmp(r, NFT_REG_1, NFT_CMP_EQ, ethertype, 2);
  e_verdict(r, NF_ACCEPT);
  add_rule(bt, r);
}

/* The bridge table's sets, and how many IPv4 elements went in. */
struct bridge_sets {
  struct nftnl_set *ports, *macs, *ip4, *ip6, *nd;
  size_t n4;
};

static void port_bridge_elems(struct bridge_sets *b, const struct nf_port *p)
{
  uint8_t key[K_ADDR + 16] = {0}, ll[16];
  port_key(key, p, NULL, 0);
  set_elem(b->ports, key, IFNAMSIZ, NULL);
  set_elem(b->macs, key, K_ADDR, NULL);
  nf_link_local(p->mac, ll);
  const uint8_t *v6[] = { ll, zero(p->ip6, 16) ? NULL : p->ip6 };
  for (size_t i = 0; i < SH_ARRAY_SIZE(v6) && v6[i]; i++) {
    port_key(key, p, v6[i], 16);
    set_elem(b->ip6, key, K_ADDR + 16, NULL);
    set_elem(b->nd, key, K_ADDR + 16, NULL);
  }
  if (zero(p->ip4, 4))
    return;
  port_key(key, p, p->ip4, 4);
  set_elem(b->ip4, key, K_ADDR + 4, NULL);
  b->n4++;
}

static void bridge_sets_commit(struct batch *bt, struct bridge_sets *b, size_t n_ports,
                               void (*commit)(struct batch *, struct nftnl_set *, bool))
{
  commit(bt, b->ports, n_ports > 0);
  commit(bt, b->macs, n_ports > 0);
  commit(bt, b->ip4, b->n4 > 0);
  commit(bt, b->ip6, n_ports > 0);
  commit(bt, b->nd, n_ports > 0);
}

static void add_bridge_table(struct batch *bt, const struct nf_desired *d, const struct held *held)
{
  bt->family = NFPROTO_BRIDGE;
  reset_table(bt, held);
  /* Before anything else looks at the frame. */
  add_chain(bt, "prerouting", "filter", NF_BR_PRE_ROUTING, -300);
  add_chain(bt, "from_ports", NULL, -1, 0);

  struct bridge_sets b = {
    .ports = set_new(bt, SET_PORTS, 11, T_IFNAME, IFNAMSIZ, false),
    .macs = set_new(bt, SET_PORT_MAC, 12, CONCAT2(T_IFNAME, T_ETHERADDR), K_ADDR, false),
    .ip4 = set_new(bt, SET_PORT_IP4, 13, CONCAT3(T_IFNAME, T_ETHERADDR, T_IPADDR), K_ADDR + 4, false),
    .ip6 = set_new(bt, SET_PORT_IP6, 14, CONCAT3(T_IFNAME, T_ETHERADDR, T_IP6ADDR), K_ADDR + 16, false),
    .nd = set_new(bt, SET_ND_TARGETS, 15, CONCAT3(T_IFNAME, T_ETHERADDR, T_INTEGER), K_ADDR + 16, false),
  };
  nftnl_set_set_data(b.nd, NFTNL_SET_USERDATA, nd_targets_typeof, sizeof nd_targets_typeof);
  for (size_t i = 0; i < d->n_ports; i++)
    port_bridge_elems(&b, &d->ports[i]);
  bridge_sets_commit(bt, &b, d->n_ports, set_commit);

  struct nftnl_rule *r = rule(bt, "prerouting");
  e_meta(r, NFT_META_IIFNAME);
  e_lookup(r, SET_PORTS, 11, false);
  struct nftnl_expr *x = nftnl_expr_alloc("immediate");
  nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_VERDICT, (uint32_t) NFT_JUMP);
  nftnl_expr_set_str(x, NFTNL_EXPR_IMM_CHAIN, "from_ports");
  nftnl_rule_add_expr(r, x);
  add_rule(bt, r);

  const uint16_t arp = htons(ETH_P_ARP), ip = htons(ETH_P_IP), ip6 = htons(ETH_P_IPV6);
  /* Any frame: its own MAC. */
  drop_unless(bt, SET_PORT_MAC, 12, NFT_PAYLOAD_LL_HEADER, 6, -1, 0, NULL);
  /* ARP: sender hardware and protocol address are its own (no gateway spoofing). */
  drop_unless(bt, SET_PORT_IP4, 13, NFT_PAYLOAD_NETWORK_HEADER, 8, 14, 4, &arp);
  accept_type(bt, &arp);
  drop_unless(bt, SET_PORT_IP4, 13, NFT_PAYLOAD_LL_HEADER, 6, 12, 4, &ip);
  accept_type(bt, &ip);
  /* IPv6: no router advertisements (nor redirects); neighbour
   * advertisements only for its own addresses (no NDP spoofing of the
   * gateway or a neighbour); the unspecified source only for duplicate
   * address detection of its own addresses and other ICMPv6 (MLD); else
   * its own addresses. */
  enum { ND_RS_RA = 134, ND_NS = 135, ND_NA = 136, ND_REDIRECT = 137 };
  static const uint8_t drop_types[] = { ND_RS_RA, ND_REDIRECT };
  for (size_t i = 0; i < SH_ARRAY_SIZE(drop_types); i++) {
    r = icmp6_rule(bt, drop_types[i], false);
    e_counter(r);
    e_verdict(r, NF_DROP);
    add_rule(bt, r);
  }
  /* The target address sits 8 bytes into both NS and NA. */
  lookup_drop(bt, icmp6_rule(bt, ND_NA, false), SET_ND_TARGETS, 15, NFT_PAYLOAD_LL_HEADER, 6,
              NFT_PAYLOAD_TRANSPORT_HEADER, 8, 16);
  lookup_drop(bt, icmp6_rule(bt, ND_NS, true), SET_ND_TARGETS, 15, NFT_PAYLOAD_LL_HEADER, 6,
              NFT_PAYLOAD_TRANSPORT_HEADER, 8, 16);
  r = icmp6_rule(bt, 0, true);
  e_verdict(r, NF_ACCEPT);
  add_rule(bt, r);
  drop_unless(bt, SET_PORT_IP6, 14, NFT_PAYLOAD_LL_HEADER, 6, 8, 16, &ip6);
  accept_type(bt, &ip6);
  /* Anything else (VLAN tags, other protocols) does not leave a container. */
  r = rule(bt, "from_ports");
  e_counter(r);
  e_verdict(r, NF_DROP);
  add_rule(bt, r);
  bt->family = FAMILY;
}

static int check_names(const struct nf_tenant_net *nets, size_t n_nets, const char *uplink,
                       const struct nf_port *ports, size_t n_ports, sh_error *e)
{
  for (size_t i = 0; i < n_nets; i++)
    if (!nets[i].bridge[0] || strnlen(nets[i].bridge, IFNAMSIZ) >= IFNAMSIZ)
      return sh_err(e, EINVAL, "nftables", nets[i].bridge, "a bridge name is 1..15 characters");
  if (uplink && (!uplink[0] || strlen(uplink) >= IFNAMSIZ))
    return sh_err(e, EINVAL, "nftables", uplink, "an uplink name is 1..15 characters");
  for (size_t i = 0; i < n_ports; i++)
    if (!ports[i].ifname[0] || strnlen(ports[i].ifname, IFNAMSIZ) >= IFNAMSIZ)
      return sh_err(e, EINVAL, "nftables", "ports", "port %zu: an interface name is 1..15 characters", i);
  return 0;
}

int nf_nft_apply(const struct nf_desired *d, sh_error *e)
{
  int cr = check_names(d->nets, d->n_nets, d->uplink, d->ports, d->n_ports, e);
  if (cr < 0)
    return cr;
  for (size_t i = 0; i < d->n_forwards; i++) {
    const struct nf_forward *f = &d->forwards[i];
    if ((f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP) || !f->public_port || !f->port)
      return sh_err(e, EINVAL, "nftables", "forwards", "forward %zu: tcp or udp and ports 1..65535", i);
    if (zero(f->ip4, 4) && zero(f->ip6, 16))
      return sh_err(e, EINVAL, "nftables", "forwards", "forward %zu: no container address (ip4 or ip6)", i);
    for (size_t j = 0; j < i; j++)
      if (d->forwards[j].proto == f->proto && d->forwards[j].public_port == f->public_port)
        return sh_err(e, EEXIST, "nftables", "forwards", "forward %zu: %s port %u is already forwarded (forward %zu)",
                      i, f->proto == IPPROTO_TCP ? "tcp" : "udp", f->public_port, j);
  }
  /* A forward on a service port would take the containers' own DNS (or
   * whatever the host serves them) away: refuse it. */
  const struct nf_service *sv = d->services ? d->services : default_services;
  size_t nsv = d->services ? d->n_services : SH_ARRAY_SIZE(default_services);
  for (size_t i = 0; i < d->n_forwards; i++)
    for (size_t j = 0; j < nsv; j++)
      if (d->forwards[i].proto == sv[j].proto && d->forwards[i].public_port == sv[j].port)
        return sh_err(e, EINVAL, "nftables", "forwards", "forward %zu: %s port %u is a host service for containers",
                      i, sv[j].proto == IPPROTO_TCP ? "tcp" : "udp", sv[j].port);
  for (size_t i = 0; i < d->n_services; i++)
    if ((d->services[i].proto != IPPROTO_TCP && d->services[i].proto != IPPROTO_UDP) || !d->services[i].port)
      return sh_err(e, EINVAL, "nftables", "services", "service %zu: tcp or udp and a port 1..65535", i);
  struct held held_inet, held_bridge;
  int hr = held_read(FAMILY, inet_bases, &held_inet, e);
  if (hr < 0)
    return hr;
  if ((hr = held_read(NFPROTO_BRIDGE, bridge_bases, &held_bridge, e)) < 0) {
    held_free(&held_inet);
    return hr;
  }
  struct batch *bt = batch_new();
  if (!bt) {
    held_free(&held_inet);
    held_free(&held_bridge);
    return sh_err(e, ENOMEM, "nftables", NULL, NULL);
  }
  /* One batch: the kernel applies all of it or none. */
  reset_table(bt, &held_inet);
  add_chain(bt, "forward", "filter", NF_INET_FORWARD, 0);
  add_chain(bt, "prerouting", "nat", NF_INET_PRE_ROUTING, -100 /* dstnat */);
  add_chain(bt, "postrouting", "nat", NF_INET_POST_ROUTING, 100 /* srcnat */);
  for (size_t i = 0; i < d->n_nets; i++)
    tenant_chain(bt, &d->nets[i], NLM_F_CREATE);
  add_set(bt, SET_BRIDGES, 1, false, d->nets, d->n_nets);
  {
    const struct fw_family *f4 = &fw_families[0], *f6 = &fw_families[1];
    struct hairpin_sets hs = {
      .links = set_new(bt, SET_LINKS, 5, T_IFNAME, IFNAMSIZ, false),
      .ip4 = set_new(bt, f4->addrs, f4->addrs_id, f4->addr_type, f4->addr_len, false),
      .ip6 = set_new(bt, f6->addrs, f6->addrs_id, f6->addr_type, f6->addr_len, false),
    };
    for (size_t i = 0; i < d->n_nets; i++)
      name_elem(hs.links, d->nets[i].bridge, NULL);
    for (size_t i = 0; i < d->n_ports; i++)
      port_inet_elems(&hs, &d->ports[i]);
    set_commit(bt, hs.links, d->n_nets + d->n_ports > 0);
    set_commit(bt, hs.ip4, hs.n4 > 0);
    set_commit(bt, hs.ip6, hs.n6 > 0);
  }
  add_set(bt, MAP_FROM, 2, true, d->nets, d->n_nets);

  struct nftnl_rule *r = rule(bt, "forward");
  e_ct_established(r);
  e_verdict(r, NF_ACCEPT);
  add_rule(bt, r);
  /* A forwarded port is public: its connections may enter the tenant. */
  r = rule(bt, "forward");
  e_ct_dnat(r);
  e_verdict(r, NF_ACCEPT);
  add_rule(bt, r);
  r = rule(bt, "forward");
  e_meta(r, NFT_META_IIFNAME);
  e_lookup(r, MAP_FROM, 2, true);
  add_rule(bt, r);
  r = rule(bt, "forward");
  e_meta(r, NFT_META_OIFNAME);
  e_lookup(r, SET_BRIDGES, 1, false);
  e_verdict(r, NF_DROP);
  add_rule(bt, r);
  for (size_t i = 0; i < d->n_nets; i++)
    tenant_rules(bt, &d->nets[i], d->uplink);
  add_input(bt, d);
  if (d->uplink) {
    /* Tenants leave through the uplink with the host's address. */
    r = rule(bt, "postrouting");
    e_meta(r, NFT_META_OIFNAME);
    e_cmp_ifname(r, d->uplink);
    e_meta(r, NFT_META_IIFNAME);
    e_lookup(r, SET_BRIDGES, 1, false);
    e_masq(r);
    add_rule(bt, r);
  }
  add_forwards(bt, d);
  add_bridge_table(bt, d, &held_bridge);
  nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->seq++);
  next(bt);
  int ret = send_batch(bt, "apply nftables", e);
  batch_free(bt);
  held_free(&held_inet);
  held_free(&held_bridge);
  return ret;
}

int nf_nft_add(const char *uplink, const struct nf_tenant_net *nets, size_t n_nets, const struct nf_port *ports,
               size_t n_ports, sh_error *e)
{
  int r = check_names(nets, n_nets, uplink, ports, n_ports, e);
  if (r < 0)
    return r;
  struct batch *bt = batch_new();
  if (!bt)
    return sh_err(e, ENOMEM, "nftables", NULL, NULL);
  for (size_t i = 0; i < n_nets; i++)
    tenant_chain(bt, &nets[i], NLM_F_CREATE | NLM_F_EXCL);
  struct nftnl_set *bridges = set_ref(bt, SET_BRIDGES), *from = set_ref(bt, MAP_FROM);
  struct hairpin_sets hs = { set_ref(bt, SET_LINKS), set_ref(bt, fw_families[0].addrs), set_ref(bt, fw_families[1].addrs), 0, 0 };
  for (size_t i = 0; i < n_nets; i++) {
    char chain[32];
    chain_name(&nets[i], chain);
    name_elem(bridges, nets[i].bridge, NULL);
    name_elem(from, nets[i].bridge, chain);
    name_elem(hs.links, nets[i].bridge, NULL);
  }
  for (size_t i = 0; i < n_ports; i++)
    port_inet_elems(&hs, &ports[i]);
  elems_commit(bt, bridges, n_nets > 0);
  elems_commit(bt, from, n_nets > 0);
  elems_commit(bt, hs.links, n_nets + n_ports > 0);
  elems_commit(bt, hs.ip4, hs.n4 > 0);
  elems_commit(bt, hs.ip6, hs.n6 > 0);
  for (size_t i = 0; i < n_nets; i++)
    tenant_rules(bt, &nets[i], uplink);
  bt->family = NFPROTO_BRIDGE;
  struct bridge_sets b = { set_ref(bt, SET_PORTS), set_ref(bt, SET_PORT_MAC), set_ref(bt, SET_PORT_IP4),
                           set_ref(bt, SET_PORT_IP6), set_ref(bt, SET_ND_TARGETS), 0 };
  for (size_t i = 0; i < n_ports; i++)
    port_bridge_elems(&b, &ports[i]);
  bridge_sets_commit(bt, &b, n_ports, elems_commit);
  nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->seq++);
  next(bt);
  r = send_batch(bt, "add to nftables", e);
  batch_free(bt);
  if (r == -EEXIST)
    sh_err(e, EEXIST, "add to nftables", "table " TABLE, "a network or port is already there");
  return r;
}

int nf_nft_present(bool *present, sh_error *e)
{
  struct held h;
  int r = held_read(FAMILY, inet_bases, &h, e);
  *present = r == 0 && h.n_sets > 0;   /* the table always has its sets */
  held_free(&h);
  return r;
}

struct ports_ctx {
  char (*names)[IFNAMSIZ];
  size_t n;
  int failed;
};

static int port_elems_cb(const struct nlmsghdr *nlh, void *data)
{
  struct ports_ctx *c = data;
  struct nftnl_set *s = nftnl_set_alloc();
  if (!s || nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
    nftnl_set_free(s);
    c->failed = 1;
    return MNL_CB_OK;
  }
  struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
  for (struct nftnl_set_elem *el = it ? nftnl_set_elems_iter_next(it) : NULL; el; el = nftnl_set_elems_iter_next(it)) {
    uint32_t len = 0;
    const char *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);
    char (*nv)[IFNAMSIZ] = key ? realloc(c->names, (c->n + 1) * sizeof *nv) : NULL;
    if (!nv) {
      c->failed = 1;
      continue;
    }
    c->names = nv;
    snprintf(c->names[c->n++], IFNAMSIZ, "%.*s", (int) (len < IFNAMSIZ ? len : IFNAMSIZ), key);
  }
  nftnl_set_elems_iter_destroy(it);
  nftnl_set_free(s);
  return MNL_CB_OK;
}

int nf_nft_ports(char (**names)[IFNAMSIZ], size_t *n, sh_error *e)
{
  *names = NULL;
  *n = 0;
  struct mnl_socket *nl = nft_socket(e);
  if (!nl)
    return -e->err;
  _cleanup_free_ char *buf = malloc(RECV_SIZE);   /* not static: the audit reads beside the workers */
  struct ports_ctx c = {0};
  uint32_t seq = (uint32_t) time(NULL);
  int r = 0;
  struct nftnl_set *st = nftnl_set_alloc();
  if (!buf || !st) {
    nftnl_set_free(st);
    mnl_socket_close(nl);
    return sh_err(e, ENOMEM, "read nftables", NULL, NULL);
  }
  struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_BRIDGE, NLM_F_DUMP, seq);
  nftnl_set_set_str(st, NFTNL_SET_TABLE, TABLE);
  nftnl_set_set_str(st, NFTNL_SET_NAME, SET_PORTS);
  nftnl_set_elems_nlmsg_build_payload(nlh, st);
  nftnl_set_free(st);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
    r = sh_errno(e, "read nftables", "set " SET_PORTS);
  ssize_t got;
  while (r == 0 && (got = mnl_socket_recvfrom(nl, buf, RECV_SIZE)) > 0) {
    int cr = mnl_cb_run(buf, (size_t) got, seq, mnl_socket_get_portid(nl), port_elems_cb, &c);
    if (cr == MNL_CB_STOP)
      break;
    if (cr < 0) {
      if (errno != ENOENT)   /* no table: no ports */
        r = sh_errno(e, "read nftables", "set " SET_PORTS);
      break;
    }
  }
  mnl_socket_close(nl);
  if (r == 0 && c.failed)
    r = sh_err(e, ENOMEM, "read nftables", "set " SET_PORTS, NULL);
  if (r < 0) {
    free(c.names);
    return r;
  }
  *names = c.names;
  *n = c.n;
  return 0;
}

int nf_nft_remove(sh_error *e)
{
  struct batch *bt = batch_new();
  if (!bt)
    return sh_err(e, ENOMEM, "nftables", NULL, NULL);
  for (int f = 0; f < 2; f++) {
    bt->family = f ? NFPROTO_BRIDGE : FAMILY;
    add_table(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
    add_table(bt, NFT_MSG_DELTABLE, 0);
  }
  nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->seq++);
  next(bt);
  int ret = send_batch(bt, "remove nftables", e);
  batch_free(bt);
  return ret;
}
