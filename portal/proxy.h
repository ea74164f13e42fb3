/* /1.0 to sandhostd's portal socket through h2o's reverse proxy, with the
 * portal's rewriting: session cookie to Authorization, Sandhost-Session to
 * Set-Cookie, the websocket Origin check and the login rate limit. */
#pragma once

#include <h2o.h>
#include "error.h"
#include "ratelimit.h"

#define PT_SESSION_COOKIE "__Host-sandhost-session"

/* Register on pc (the /1.0 path).  rl limits POST /1.0/auth/login. */
int pt_proxy_register(h2o_globalconf_t *g, h2o_pathconf_t *pc, const char *api_socket, struct pt_ratelimit *rl, sh_error *e);
