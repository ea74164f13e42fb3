/* nft-time TENANTS RUNS: in a network namespace of its own, apply the whole
 * nft state for TENANTS tenant networks with one container port each
 * ("full"), then add one more tenant network and its container's port with
 * nf_nft_add ("add"), and the full state with that one more ("full+1"),
 * RUNS times.  Prints "<what> <µs>" lines; tests/bench/net reads them.
 * nft-time --state TENANTS: apply the state for TENANTS in the current
 * network namespace and exit (the benchmark runs it inside `unshare -n`). */
#include "nft.h"

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec * 1e6 + (double) t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
  bool state_only = argc == 3 && strcmp(argv[1], "--state") == 0;
  if (argc != 3) {
    fprintf(stderr, "usage: nft-time TENANTS RUNS | nft-time --state TENANTS\n");
    return 2;
  }
  int n = atoi(argv[state_only ? 2 : 1]), runs = state_only ? 1 : atoi(argv[2]);
  if (n < 1 || runs < 1 || (!state_only && unshare(CLONE_NEWNET) < 0)) {
    perror("nft-time");
    return 1;
  }
  struct nf_tenant_net *nets = calloc((size_t) n + 1, sizeof *nets);
  struct nf_port *ports = calloc((size_t) n + 1, sizeof *ports);
  for (int i = 0; i <= n; i++) {
    nets[i].id = (uint64_t) i + 1;
    snprintf(nets[i].bridge, sizeof nets[i].bridge, "sb%x", i + 1);
    snprintf(ports[i].ifname, sizeof ports[i].ifname, "sh%x", i + 1);
    ports[i].mac[0] = 0x02;
    ports[i].mac[4] = (uint8_t) (i >> 8);
    ports[i].mac[5] = (uint8_t) i;
    ports[i].ip4[0] = 10;
    ports[i].ip4[1] = 64;
    ports[i].ip4[2] = (uint8_t) (i >> 8);
    ports[i].ip4[3] = (uint8_t) (2 + (i & 0xff) % 250);
  }
  sh_error e = {0};
  if (state_only) {
    struct nf_desired d = { .uplink = "up0", .nets = nets, .n_nets = (size_t) n, .ports = ports, .n_ports = (size_t) n };
    if (nf_nft_apply(&d, &e) < 0) {
      fprintf(stderr, "nft-time: %s: %s: %s\n", e.step, e.path, e.msg);
      return 1;
    }
    return 0;
  }
  for (int r = 0; r < runs; r++) {
    struct nf_desired d = { .uplink = "up0", .nets = nets, .n_nets = (size_t) n, .ports = ports, .n_ports = (size_t) n };
    double t0 = now_us();
    if (nf_nft_apply(&d, &e) < 0) {
      fprintf(stderr, "nft-time: %s: %s: %s\n", e.step, e.path, e.msg);
      return 1;
    }
    double t1 = now_us();
    if (nf_nft_add(d.uplink, &nets[n], 1, &ports[n], 1, &e) < 0) {
      fprintf(stderr, "nft-time: %s: %s: %s\n", e.step, e.path, e.msg);
      return 1;
    }
    double t2 = now_us();
    d.n_nets = d.n_ports = (size_t) n + 1;
    if (nf_nft_apply(&d, &e) < 0) {
      fprintf(stderr, "nft-time: %s: %s: %s\n", e.step, e.path, e.msg);
      return 1;
    }
    printf("full %.1f\nadd %.1f\nfull+1 %.1f\n", t1 - t0, t2 - t1, now_us() - t2);
  }
  return 0;
}
