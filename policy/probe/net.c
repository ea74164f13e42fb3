/* Non-blocking connects with a short timeout.  UDP has no handshake: the
 * probe sends one datagram and waits for an answer or an ICMP error, so a
 * silent service and a silent drop both read "timeout". */
#include "net.h"
#include "jsonout.h"
#include "result.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool parse_port(const char *s, in_port_t *out)
{
  char *end;
  if (*s < '0' || *s > '9')
    return false;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || v == 0 || v > 65535)
    return false;
  *out = htons((in_port_t) v);
  return true;
}

bool probe_parse_target(const char *spec, struct probe_target *out)
{
  memset(out, 0, sizeof *out);
  out->spec = spec;
  if (!strncmp(spec, "tcp:", 4))
    out->type = SOCK_STREAM;
  else if (!strncmp(spec, "udp:", 4))
    out->type = SOCK_DGRAM;
  else
    return false;
  const char *host = spec + 4, *port;
  char buf[INET6_ADDRSTRLEN + 1];
  size_t hlen;
  if (*host == '[') {
    const char *rb = strchr(host, ']');
    if (!rb || rb[1] != ':')
      return false;
    host++;
    hlen = (size_t) (rb - host);
    port = rb + 2;
  } else {
    const char *colon = strrchr(host, ':');
    if (!colon)
      return false;
    hlen = (size_t) (colon - host);
    port = colon + 1;
  }
  if (hlen == 0 || hlen >= sizeof buf)
    return false;
  memcpy(buf, host, hlen);
  buf[hlen] = '\0';
  in_port_t p;
  if (!parse_port(port, &p))
    return false;
  struct sockaddr_in *in4 = (struct sockaddr_in *) &out->addr;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &out->addr;
  if (spec[4] != '[' && inet_pton(AF_INET, buf, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = p;
    out->addr_len = sizeof *in4;
    return true;
  }
  if (spec[4] == '[' && inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = p;
    out->addr_len = sizeof *in6;
    return true;
  }
  return false;
}

static const char *errno_result(int err)
{
  if (err == ECONNREFUSED)
    return "refused";
  if (err == ETIMEDOUT)
    return "timeout";
  return probe_errno_name(err);
}

/* Waits for events on fd; 0 when they came, -ETIMEDOUT, or -errno. */
static int wait_for(int fd, short events, unsigned timeout_ms)
{
  struct pollfd p = { .fd = fd, .events = events };
  for (;;) {
    int n = poll(&p, 1, (int) timeout_ms);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    return n == 0 ? -ETIMEDOUT : 0;
  }
}

static const char *try_tcp(int fd, const struct probe_target *t, unsigned timeout_ms)
{
  if (connect(fd, (const struct sockaddr *) &t->addr, t->addr_len) == 0)
    return "connected";
  if (errno != EINPROGRESS)
    return errno_result(errno);
  int r = wait_for(fd, POLLOUT, timeout_ms);
  if (r < 0)
    return errno_result(-r);
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    return errno_result(errno);
  return err ? errno_result(err) : "connected";
}

static const char *try_udp(int fd, const struct probe_target *t, unsigned timeout_ms)
{
  static const char payload[] = "sandhost-probe\n";
  if (connect(fd, (const struct sockaddr *) &t->addr, t->addr_len) < 0)
    return errno_result(errno);
  if (send(fd, payload, sizeof payload - 1, 0) < 0)
    return errno_result(errno);
  int r = wait_for(fd, POLLIN, timeout_ms);
  if (r < 0)
    return errno_result(-r);
  char buf[512];
  /* A connected UDP socket reports an ICMP error on the next receive. */
  if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) < 0)
    return errno_result(errno);
  return "connected";
}

json_t *probe_section_network(const struct probe_target *t, size_t n, unsigned timeout_ms)
{
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    char host[INET6_ADDRSTRLEN] = "";
    int family = t[i].addr.ss_family;
    const void *a = family == AF_INET ? (const void *) &((const struct sockaddr_in *) &t[i].addr)->sin_addr
                                      : (const void *) &((const struct sockaddr_in6 *) &t[i].addr)->sin6_addr;
    in_port_t port = family == AF_INET ? ((const struct sockaddr_in *) &t[i].addr)->sin_port
                                       : ((const struct sockaddr_in6 *) &t[i].addr)->sin6_port;
    inet_ntop(family, a, host, sizeof host);
    const char *result;
    int fd = socket(family, t[i].type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      result = errno_result(errno);
    } else {
      result = t[i].type == SOCK_STREAM ? try_tcp(fd, &t[i], timeout_ms) : try_udp(fd, &t[i], timeout_ms);
      close(fd);
    }
    probe_append(arr, json_pack("{s:o, s:s, s:s, s:i, s:s}", "target", probe_json_str(t[i].spec), "proto",
                                t[i].type == SOCK_STREAM ? "tcp" : "udp", "address", host, "port",
                                (int) ntohs(port), "result", result));
  }
  return arr;
}
