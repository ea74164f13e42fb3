/* The configuration file: a table of keys, each with where it goes, read
 * by common/conf.c as sandhostd's is. */
#include "config.h"

#include "cleanup.h"
#include "conf.h"
#include "sandhost-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct sh_conf_key keys[] = {
#define STR(k, kind) { #k, kind, offsetof(struct pt_config, k), sizeof ((struct pt_config *) 0)->k, 0, 0, NULL, NULL }
#define U32(k, lo, hi) { #k, SH_CONF_U32, offsetof(struct pt_config, k), sizeof(uint32_t), lo, hi, NULL, NULL }
  STR(listen, SH_CONF_NAME),
  STR(api_socket, SH_CONF_PATH),
  STR(user, SH_CONF_NAME),
  STR(cert, SH_CONF_PATH),
  STR(key, SH_CONF_PATH),
  STR(assets, SH_CONF_PATH),
  U32(max_body, 1024, 64u << 20),
  U32(hsts_max_age, 0, 100000000),
  U32(login_burst, 1, 100000),
  U32(login_refill, 1, 86400),
#undef STR
#undef U32
};

void pt_config_defaults(struct pt_config *c)
{
  *c = (struct pt_config){
    .listen = "127.0.0.1:8443",
    .api_socket = "/run/sandhost/portal.sock",
    .user = "sandhost-portal",
    .cert = "/etc/sandhost/portal/cert.pem",
    .key = "/etc/sandhost/portal/key.pem",
    .assets = "",   /* the build tree's portal/web, else <datadir>/sandhost/portal/web */
    .max_body = 1u << 20,
    .hsts_max_age = 31536000,
    .login_burst = 10,
    .login_refill = 6,
  };
}

int pt_config_set(struct pt_config *c, const char *assignment, const char *where, sh_error *e)
{
  return sh_conf_set(keys, SH_ARRAY_SIZE(keys), c, assignment, where, e);
}

int pt_config_load(struct pt_config *c, const char *path, int required, sh_error *e)
{
  return sh_conf_load(keys, SH_ARRAY_SIZE(keys), c, path, required, e);
}

/* No assets key: beside the binary in a build tree (portal/web), else
 * the installed ones. */
static int resolve_assets(struct pt_config *c, const char *path, sh_error *e)
{
  if (c->assets[0])
    return 0;
  char self[200];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash) {
      *slash = 0;
      snprintf(c->assets, sizeof c->assets, "%s/web", self);
      struct stat st;
      if (stat(c->assets, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    }
  }
  snprintf(c->assets, sizeof c->assets, "%s", SANDHOST_DATADIR "/portal/web");
  return 0;
}

/* "1.2.3.4:443" or "[::1]:443"; then the assets' default. */
int pt_config_finish(struct pt_config *c, const char *path, sh_error *e)
{
  const char *l = c->listen, *colon, *host = l;
  size_t host_len;
  if (l[0] == '[') {
    const char *close = strchr(l, ']');
    if (!close || close[1] != ':')
      goto bad;
    host = l + 1;
    host_len = (size_t) (close - host);
    colon = close + 1;
  } else {
    colon = strrchr(l, ':');
    if (!colon)
      goto bad;
    host_len = (size_t) (colon - l);
  }
  if (host_len >= sizeof c->host)
    goto bad;
  memcpy(c->host, host, host_len);
  c->host[host_len] = 0;
  char *end;
  errno = 0;
  unsigned long port = strtoul(colon + 1, &end, 10);
  if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
    goto bad;
  memset(&c->addr, 0, sizeof c->addr);
  struct sockaddr_in *a4 = (struct sockaddr_in *) &c->addr;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *) &c->addr;
  if (l[0] != '[' && inet_pton(AF_INET, c->host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t) port);
    c->addr_len = sizeof *a4;
  } else if (l[0] == '[' && inet_pton(AF_INET6, c->host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t) port);
    c->addr_len = sizeof *a6;
  } else {
    goto bad;
  }
  return resolve_assets(c, path, e);
bad:
  return sh_err(e, EINVAL, "read configuration", path, "listen: \"%s\" is not ADDRESS:PORT (\"127.0.0.1:8443\", \"[::1]:8443\")",
                c->listen);
}
