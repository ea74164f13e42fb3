/* tc through rtnetlink: a tbf root qdisc each way, the way in through an ifb. */
#include "tc.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#define NL_BUF 8192
#define INGRESS_HANDLE 0xffff0000u
#define FILTER_PRIO 1

static struct nlmsghdr *tc_msg(char *buf, int type, unsigned flags, int ifindex, uint32_t handle, uint32_t parent)
{
  memset(buf, 0, NL_BUF);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (uint16_t) type;
  nlh->nlmsg_flags = (uint16_t) (NLM_F_REQUEST | flags);
  struct tcmsg *t = mnl_nlmsg_put_extra_header(nlh, sizeof *t);
  t->tcm_family = AF_UNSPEC;
  t->tcm_ifindex = ifindex;
  t->tcm_handle = handle;
  t->tcm_parent = parent;
  return nlh;
}

/* Burst: what the bucket holds, at least an MTU-sized frame and 5 ms of the rate. */
static uint32_t burst_bytes(uint64_t bytes_per_s)
{
  uint64_t b = bytes_per_s / 200;
  return (uint32_t) (b < 16384 ? 16384 : b > (1u << 30) ? (1u << 30) : b);
}

static void ratespec(struct tc_ratespec *r, uint64_t bytes_per_s)
{
  r->rate = bytes_per_s >= UINT32_MAX ? UINT32_MAX : (uint32_t) bytes_per_s;
  r->cell_log = 3; /* the kernel wants one; the rate table is not used */
  r->linklayer = TC_LINKLAYER_ETHERNET;
}

static int del_ok(int r)
{
  /* Nothing to remove is fine. */
  return r == -ENOENT || r == -EINVAL ? 0 : r;
}

static int shape_egress(struct nf_nl *n, int ifindex, const char *ifname, uint64_t bps, sh_error *e)
{
  char buf[NL_BUF];
  if (!bps) {
    struct nlmsghdr *nlh = tc_msg(buf, RTM_DELQDISC, 0, ifindex, 0, TC_H_ROOT);
    int r = del_ok(nf_nl_talk(n, nlh, NULL, NULL));
    return r < 0 ? sh_err(e, -r, "remove rate limit", ifname, "to the container") : 0;
  }
  uint64_t Bps = bps / 8;
  struct nlmsghdr *nlh = tc_msg(buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex, 0x10000, TC_H_ROOT);
  mnl_attr_put_strz(nlh, TCA_KIND, "tbf");
  struct nlattr *o = mnl_attr_nest_start(nlh, TCA_OPTIONS);
  struct tc_tbf_qopt q = {0};
  ratespec(&q.rate, Bps);
  uint32_t burst = burst_bytes(Bps);
  /* Queue up to 50 ms of the rate beyond the burst before dropping. */
  q.limit = burst + (uint32_t) (Bps / 20 < (1u << 30) ? Bps / 20 : (1u << 30));
  mnl_attr_put(nlh, TCA_TBF_PARMS, sizeof q, &q);
  if (Bps >= UINT32_MAX)
    mnl_attr_put_u64(nlh, TCA_TBF_RATE64, Bps);
  mnl_attr_put_u32(nlh, TCA_TBF_BURST, burst);
  mnl_attr_nest_end(nlh, o);
  int r = nf_nl_talk(n, nlh, NULL, NULL);
  return r < 0 ? sh_err(e, -r, "set rate limit", ifname, "to the container: tbf") : 0;
}

/* The ifb that carries what a container sends: "i" + the host end's name. */
static void ifb_name(const char *host_ifname, char out[16])
{
  snprintf(out, 16, "i%.14s", host_ifname);
}

/* Frames the container sends arrive on the host end's ingress, where no
 * queue can hold them: a u32 match-all filter redirects them (mirred) to
 * the container's own ifb, whose tbf shapes them like the other direction. */
static int shape_ingress(struct nf_nl *n, int ifindex, const char *ifname, uint64_t bps, sh_error *e)
{
  char buf[NL_BUF], ifb[16];
  ifb_name(ifname, ifb);
  /* Start clean: the ingress qdisc goes with its filter, the ifb with its tbf. */
  struct nlmsghdr *nlh = tc_msg(buf, RTM_DELQDISC, 0, ifindex, INGRESS_HANDLE, TC_H_INGRESS);
  int r = del_ok(nf_nl_talk(n, nlh, NULL, NULL));
  if (r < 0)
    return sh_err(e, -r, "remove rate limit", ifname, "from the container");
  if (!bps) {
    sh_error ignored = {0};
    if ((r = nf_link_del(n, ifb, &ignored)) < 0 && r != -ENODEV)
      return sh_err(e, -r, "remove rate limit", ifb, "its ifb");
    return 0;
  }
  struct nf_link_change up = { .netns_fd = -1, .up = true };
  int ifbidx;
  if ((r = nf_link_add_kind(n, ifb, "ifb", 0, e)) < 0 || (r = nf_link_set(n, ifb, &up, e)) < 0 ||
      (ifbidx = r = nf_link_index(n, ifb, e)) < 0 || (r = shape_egress(n, ifbidx, ifb, bps, e)) < 0)
    return r;
  nlh = tc_msg(buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, INGRESS_HANDLE, TC_H_INGRESS);
  mnl_attr_put_strz(nlh, TCA_KIND, "ingress");
  if ((r = nf_nl_talk(n, nlh, NULL, NULL)) < 0)
    return sh_err(e, -r, "set rate limit", ifname, "from the container: ingress qdisc");

  nlh = tc_msg(buf, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, ifindex, 0, INGRESS_HANDLE);
  struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
  t->tcm_info = TC_H_MAKE((uint32_t) FILTER_PRIO << 16, htons(ETH_P_ALL));
  mnl_attr_put_strz(nlh, TCA_KIND, "u32");
  struct nlattr *o = mnl_attr_nest_start(nlh, TCA_OPTIONS);
  /* One key that every frame matches (mask 0). */
  struct { struct tc_u32_sel sel; struct tc_u32_key key; } sel = { .sel = { .flags = TC_U32_TERMINAL, .nkeys = 1 } };
  mnl_attr_put(nlh, TCA_U32_SEL, sizeof sel, &sel);
  struct nlattr *acts = mnl_attr_nest_start(nlh, TCA_U32_ACT);
  struct nlattr *a1 = mnl_attr_nest_start(nlh, 1);
  mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
  struct nlattr *ao = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
  struct tc_mirred m = { .action = TC_ACT_STOLEN, .eaction = TCA_EGRESS_REDIR, .ifindex = (uint32_t) ifbidx };
  mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof m, &m);
  mnl_attr_nest_end(nlh, ao);
  mnl_attr_nest_end(nlh, a1);
  mnl_attr_nest_end(nlh, acts);
  mnl_attr_nest_end(nlh, o);
  if ((r = nf_nl_talk(n, nlh, NULL, NULL)) < 0)
    return sh_err(e, -r, "set rate limit", ifname, "from the container: u32 redirect to %s", ifb);
  return 0;
}

int nf_tc_set_rate(struct nf_nl *n, const char *host_ifname, uint64_t to_container_bps,
                   uint64_t from_container_bps, sh_error *e)
{
  int idx = nf_link_index(n, host_ifname, e);
  if (idx < 0)
    return idx;
  int r = shape_egress(n, idx, host_ifname, to_container_bps, e);
  return r < 0 ? r : shape_ingress(n, idx, host_ifname, from_container_bps, e);
}

void nf_tc_clear(struct nf_nl *n, const char *host_ifname)
{
  char ifb[16];
  ifb_name(host_ifname, ifb);
  nf_tc_set_rate(n, host_ifname, 0, 0, NULL);
  nf_link_del(n, ifb, NULL);
}
