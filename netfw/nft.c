/* Building and sending nftables batches with libnftnl. */
#include "nft.h"
#include "cleanup.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
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
#define TYPE_IFNAME 41  /* nftables' datatype id for interface names */

#define BATCH_SIZE (4 << 20)
#define RECV_SIZE 65536

struct batch {
  struct mnl_nlmsg_batch *b;
  char *buf;
  uint32_t seq;
};

static struct nlmsghdr *msg(struct batch *bt, int type, uint16_t flags)
{
  return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), (uint16_t) type, FAMILY, flags, bt->seq++);
}

static void next(struct batch *bt)
{
  mnl_nlmsg_batch_next(bt->b);
}

static void add_table(struct batch *bt, int type, uint16_t flags)
{
  struct nftnl_table *t = nftnl_table_alloc();
  nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
  nftnl_table_nlmsg_build_payload(msg(bt, type, flags), t);
  nftnl_table_free(t);
  next(bt);
}

/* hook < 0: a regular chain, reached by jumps. */
static void add_chain(struct batch *bt, const char *name, const char *type, int hook, int prio)
{
  struct nftnl_chain *c = nftnl_chain_alloc();
  nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE);
  nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
  if (hook >= 0) {
    nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t) hook);
    nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT); /* other traffic is not ours */
  }
  nftnl_chain_nlmsg_build_payload(msg(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK), c);
  nftnl_chain_free(c);
  next(bt);
}

static void ifname_key(char key[IFNAMSIZ], const char *name)
{
  memset(key, 0, IFNAMSIZ);
  snprintf(key, IFNAMSIZ, "%s", name);
}

static void add_set(struct batch *bt, const char *name, uint32_t id, bool vmap,
                    const struct nf_tenant_net *nets, size_t n)
{
  struct nftnl_set *s = nftnl_set_alloc();
  nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
  nftnl_set_set_str(s, NFTNL_SET_NAME, name);
  nftnl_set_set_u32(s, NFTNL_SET_ID, id);
  nftnl_set_set_u32(s, NFTNL_SET_FAMILY, FAMILY);
  nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, TYPE_IFNAME);
  nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, IFNAMSIZ);
  /* Interface names are strings in host byte order; without saying so, nft
   * would print the elements reversed (as empty strings). */
  struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
  nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 1 /* BYTEORDER_HOST_ENDIAN */);
  nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
  nftnl_udata_buf_free(ud);
  if (vmap) {
    nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
    nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
    nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
  }
  nftnl_set_nlmsg_build_payload(msg(bt, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_ACK), s);
  next(bt);
  if (n) {
    for (size_t i = 0; i < n; i++) {
      struct nftnl_set_elem *el = nftnl_set_elem_alloc();
      char key[IFNAMSIZ];
      ifname_key(key, nets[i].bridge);
      nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, IFNAMSIZ);
      if (vmap) {
        char chain[32];
        snprintf(chain, sizeof chain, "t%llu", (unsigned long long) nets[i].id);
        nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, (uint32_t) NFT_JUMP);
        nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, chain);
      }
      nftnl_set_elem_add(s, el);
    }
    nftnl_set_elems_nlmsg_build_payload(msg(bt, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK), s);
    next(bt);
  }
  nftnl_set_free(s);
}

/* Small expression builders. */
static void e_meta(struct nftnl_rule *r, uint32_t key)
{
  struct nftnl_expr *x = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(x, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(x, NFTNL_EXPR_META_DREG, NFT_REG_1);
  nftnl_rule_add_expr(r, x);
}

static void e_cmp_ifname(struct nftnl_rule *r, const char *name)
{
  char key[IFNAMSIZ];
  ifname_key(key, name);
  struct nftnl_expr *x = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
  nftnl_expr_set(x, NFTNL_EXPR_CMP_DATA, key, IFNAMSIZ);
  nftnl_rule_add_expr(r, x);
}

static void e_lookup(struct nftnl_rule *r, const char *set, uint32_t id, bool vmap)
{
  struct nftnl_expr *x = nftnl_expr_alloc("lookup");
  nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
  nftnl_expr_set_str(x, NFTNL_EXPR_LOOKUP_SET, set);
  nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SET_ID, id);
  if (vmap)
    nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
  nftnl_rule_add_expr(r, x);
}

static void e_verdict(struct nftnl_rule *r, int verdict)
{
  struct nftnl_expr *x = nftnl_expr_alloc("immediate");
  nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_VERDICT, (uint32_t) verdict);
  nftnl_rule_add_expr(r, x);
}

static void e_ct_established(struct nftnl_rule *r)
{
  struct nftnl_expr *x = nftnl_expr_alloc("ct");
  nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
  nftnl_expr_set_u32(x, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  nftnl_rule_add_expr(r, x);
  uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED), zero = 0;
  x = nftnl_expr_alloc("bitwise");
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_LEN, sizeof mask);
  nftnl_expr_set(x, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
  nftnl_expr_set(x, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
  nftnl_rule_add_expr(r, x);
  x = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
  nftnl_expr_set(x, NFTNL_EXPR_CMP_DATA, &zero, sizeof zero);
  nftnl_rule_add_expr(r, x);
}

static void e_masq(struct nftnl_rule *r)
{
  nftnl_rule_add_expr(r, nftnl_expr_alloc("masq"));
}

static struct nftnl_rule *rule(const char *chain)
{
  struct nftnl_rule *r = nftnl_rule_alloc();
  nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
  nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
  nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, FAMILY);
  return r;
}

static void add_rule(struct batch *bt, struct nftnl_rule *r)
{
  nftnl_rule_nlmsg_build_payload(msg(bt, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK), r);
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
  if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(bt->b), mnl_nlmsg_batch_size(bt->b)) < 0) {
    r = sh_errno(e, what, "table inet " TABLE);
    goto out;
  }
  /* One ack per message that asked for one; the first error is the answer. */
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

int nf_nft_apply(const struct nf_desired *d, sh_error *e)
{
  for (size_t i = 0; i < d->n_nets; i++)
    if (!d->nets[i].bridge[0] || strlen(d->nets[i].bridge) >= IFNAMSIZ)
      return sh_err(e, EINVAL, "nftables", d->nets[i].bridge, "a bridge name is 1..15 characters");
  if (d->uplink && (!d->uplink[0] || strlen(d->uplink) >= IFNAMSIZ))
    return sh_err(e, EINVAL, "nftables", d->uplink, "an uplink name is 1..15 characters");
  struct batch *bt = batch_new();
  if (!bt)
    return sh_err(e, ENOMEM, "nftables", NULL, NULL);
  /* Create-then-delete-then-create: the same batch works whether the table
   * exists or not, and the kernel applies all of it or none. */
  add_table(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK);
  add_table(bt, NFT_MSG_DELTABLE, NLM_F_ACK);
  add_table(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK);
  add_chain(bt, "forward", "filter", NF_INET_FORWARD, 0);
  if (d->uplink)
    add_chain(bt, "postrouting", "nat", NF_INET_POST_ROUTING, 100 /* srcnat */);
  for (size_t i = 0; i < d->n_nets; i++) {
    char chain[32];
    snprintf(chain, sizeof chain, "t%llu", (unsigned long long) d->nets[i].id);
    add_chain(bt, chain, NULL, -1, 0);
  }
  add_set(bt, SET_BRIDGES, 1, false, d->nets, d->n_nets);
  add_set(bt, MAP_FROM, 2, true, d->nets, d->n_nets);

  struct nftnl_rule *r = rule("forward");
  e_ct_established(r);
  e_verdict(r, NF_ACCEPT);
  add_rule(bt, r);
  r = rule("forward");
  e_meta(r, NFT_META_IIFNAME);
  e_lookup(r, MAP_FROM, 2, true);
  add_rule(bt, r);
  r = rule("forward");
  e_meta(r, NFT_META_OIFNAME);
  e_lookup(r, SET_BRIDGES, 1, false);
  e_verdict(r, NF_DROP);
  add_rule(bt, r);
  for (size_t i = 0; i < d->n_nets; i++) {
    char chain[32];
    snprintf(chain, sizeof chain, "t%llu", (unsigned long long) d->nets[i].id);
    r = rule(chain);
    e_meta(r, NFT_META_OIFNAME);
    e_cmp_ifname(r, d->nets[i].bridge);
    e_verdict(r, NF_ACCEPT);
    add_rule(bt, r);
    if (d->uplink) {
      r = rule(chain);
      e_meta(r, NFT_META_OIFNAME);
      e_cmp_ifname(r, d->uplink);
      e_verdict(r, NF_ACCEPT);
      add_rule(bt, r);
    }
    r = rule(chain);
    e_verdict(r, NF_DROP);
    add_rule(bt, r);
  }
  if (d->uplink) {
    /* Tenants leave through the uplink with the host's address. */
    r = rule("postrouting");
    e_meta(r, NFT_META_OIFNAME);
    e_cmp_ifname(r, d->uplink);
    e_meta(r, NFT_META_IIFNAME);
    e_lookup(r, SET_BRIDGES, 1, false);
    e_masq(r);
    add_rule(bt, r);
  }
  nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->seq++);
  next(bt);
  int ret = send_batch(bt, "apply nftables", e);
  batch_free(bt);
  return ret;
}

int nf_nft_remove(sh_error *e)
{
  struct batch *bt = batch_new();
  if (!bt)
    return sh_err(e, ENOMEM, "nftables", NULL, NULL);
  add_table(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK);
  add_table(bt, NFT_MSG_DELTABLE, NLM_F_ACK);
  nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->seq++);
  next(bt);
  int ret = send_batch(bt, "remove nftables", e);
  batch_free(bt);
  return ret;
}
