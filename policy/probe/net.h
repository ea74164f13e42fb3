/* Network reachability to targets named on the command line. */
#pragma once

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

struct probe_target {
  const char *spec;              /* as given: "tcp:10.0.0.1:80" */
  int type;                      /* SOCK_STREAM or SOCK_DGRAM */
  struct sockaddr_storage addr;  /* AF_INET or AF_INET6, port set */
  socklen_t addr_len;
};

/* Parses "tcp:HOST:PORT" or "udp:HOST:PORT"; HOST is a numeric IPv4 address
 * or an IPv6 address in brackets ("udp:[fd00::1]:53"). */
bool probe_parse_target(const char *spec, struct probe_target *out);

/* The "network" section: one entry per target.  result is "connected"
 * (TCP: the handshake completed; UDP: an answer came back), "refused"
 * (RST, or ICMP port unreachable), "EPERM" (a local policy refused the
 * connect or send), "timeout", or another errno name. */
json_t *probe_section_network(const struct probe_target *t, size_t n, unsigned timeout_ms);
