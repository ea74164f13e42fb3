/* sandhost-portal's configuration: "key = value" lines ('#' starts a
 * comment), as sandhostd's (hostd/config.c), every key optional.
 * portal/sandhost-portal.conf documents them. */
#pragma once

#include <stdint.h>
#include <sys/socket.h>
#include "error.h"

struct pt_config {
  char listen[64];           /* "127.0.0.1:8443" or "[::1]:8443" */
  char api_socket[108];      /* sandhostd's portal socket */
  char user[64];             /* the unprivileged user it runs as */
  char cert[256], key[256];  /* PEM; both missing: a self-signed pair is made */
  char assets[256];          /* the UI's static files */
  uint32_t max_body;         /* largest request body in bytes */
  uint32_t hsts_max_age;     /* Strict-Transport-Security max-age, seconds */
  uint32_t login_burst;      /* logins an address may make at once */
  uint32_t login_refill;     /* seconds until it may make one more */
  /* (derived by pt_config_finish) */
  struct sockaddr_storage addr;
  socklen_t addr_len;
  char host[48];             /* the listen address without port or brackets */
};

void pt_config_defaults(struct pt_config *c);
/* Read path over the defaults; a missing file is fine when !required.
 * Errors name the file, the line and the key. */
int pt_config_load(struct pt_config *c, const char *path, int required, sh_error *e);
/* Apply one "key=value" (the command line's --set). */
int pt_config_set(struct pt_config *c, const char *assignment, const char *where, sh_error *e);
/* After loading and setting: parse the listen address. */
int pt_config_finish(struct pt_config *c, const char *path, sh_error *e);
