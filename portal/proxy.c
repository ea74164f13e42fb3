/* The API route.  A handler in front of h2o's proxy handler checks and
 * rewrites the request (then declines, so the proxy takes it); a filter
 * rewrites the answer's headers as it starts.  Bodies pass through h2o's
 * buffers untouched; upstream connections are kept alive in h2o's pool. */
#include "proxy.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct front_handler {
  h2o_handler_t super;
  struct pt_ratelimit *rl;
};

/* sandhostd's error shape: {"error": {"status", "code", "message"}}. */
static void send_json_error(h2o_req_t *req, int status, const char *reason, const char *code, const char *msg,
                            unsigned retry_after)
{
  char buf[400];
  int n;
  if (retry_after)
    n = snprintf(buf, sizeof buf, "{\"error\":{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\",\"retry_after\":%u}}\n",
                 status, code, msg, retry_after);
  else
    n = snprintf(buf, sizeof buf, "{\"error\":{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\"}}\n", status, code, msg);
  req->res.status = status;
  req->res.reason = reason;
  req->res.content_length = (size_t) n;
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
  if (retry_after) {
    char *ra = h2o_mem_alloc_pool(&req->pool, 16);
    int l = snprintf(ra, 16, "%u", retry_after);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, ra, (size_t) l);
  }
  h2o_send_inline(req, h2o_strdup(&req->pool, buf, (size_t) n).base, (size_t) n);
}

/* The session cookie's value out of one Cookie header ("a=b; c=d"), or
 * an empty iovec.  Only base64url and '_' pass: anything else is not one
 * of sandhostd's secrets and is dropped rather than forwarded. */
static h2o_iovec_t session_cookie(h2o_iovec_t header)
{
  const char *p = header.base, *end = header.base + header.len;
  const size_t nlen = sizeof PT_SESSION_COOKIE - 1;
  while (p < end) {
    while (p < end && (*p == ' ' || *p == ';'))
      p++;
    const char *semi = memchr(p, ';', (size_t) (end - p));
    const char *item_end = semi ? semi : end;
    if ((size_t) (item_end - p) > nlen && memcmp(p, PT_SESSION_COOKIE, nlen) == 0 && p[nlen] == '=') {
      h2o_iovec_t v = h2o_iovec_init(p + nlen + 1, (size_t) (item_end - p - (ptrdiff_t) nlen - 1));
      while (v.len && v.base[v.len - 1] == ' ')
        v.len--;
      for (size_t i = 0; i < v.len; i++)
        if (!(isalnum((unsigned char) v.base[i]) || v.base[i] == '-' || v.base[i] == '_'))
          return h2o_iovec_init(NULL, 0);
      return v;
    }
    p = item_end;
  }
  return h2o_iovec_init(NULL, 0);
}

/* A websocket only from our own pages: Origin must be https://<Host>. */
static bool origin_ok(h2o_req_t *req)
{
  ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("origin"), -1);
  if (i < 0)
    return false;
  h2o_iovec_t o = req->headers.entries[i].value;
  return o.len == 8 + req->authority.len && memcmp(o.base, "https://", 8) == 0 &&
         h2o_lcstris(o.base + 8, req->authority.len, req->authority.base, req->authority.len);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
  struct front_handler *fh = (struct front_handler *) self;
  if (req->upgrade.base && !origin_ok(req)) {
    send_json_error(req, 403, "Forbidden", "forbidden", "websocket from another origin", 0);
    return 0;
  }
  if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")) &&
      h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/1.0/auth/login"))) {
    struct sockaddr_storage ss;
    socklen_t sl = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *) &ss);
    unsigned wait = sl ? pt_ratelimit_take(fh->rl, (struct sockaddr *) &ss, h2o_now(req->conn->ctx->loop)) : 0;
    if (wait) {
      send_json_error(req, 429, "Too Many Requests", "rate_limited", "too many login attempts from this address", wait);
      return 0;
    }
  }
  /* The cookie becomes the Authorization sandhostd reads, unless the
   * client brought its own (a CLI's bearer token); no Cookie goes on. */
  h2o_iovec_t session = h2o_iovec_init(NULL, 0);
  ssize_t i;
  while ((i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, -1)) >= 0) {
    if (!session.len)
      session = session_cookie(req->headers.entries[i].value);
    h2o_delete_header(&req->headers, i);   /* the value's bytes stay in the pool */
  }
  if (session.len && h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1) < 0) {
    h2o_iovec_t v = h2o_concat(&req->pool, h2o_iovec_init(H2O_STRLIT("Session ")), session);
    h2o_add_header(&req->pool, &req->headers, H2O_TOKEN_AUTHORIZATION, NULL, v.base, v.len);
  }
  return -1;   /* on to the proxy */
}

/* Sandhost-Session: V in the answer -> the cookie; "" clears it. */
static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
  h2o_headers_t *h = &req->res.headers;
  ssize_t i = h2o_find_header_by_str(h, H2O_STRLIT("sandhost-session"), -1);
  if (i >= 0) {
    h2o_iovec_t v = h->entries[i].value;
    h2o_delete_header(h, i);
    h2o_iovec_t c = v.len ? h2o_concat(&req->pool, h2o_iovec_init(H2O_STRLIT(PT_SESSION_COOKIE "=")), v,
                                       h2o_iovec_init(H2O_STRLIT("; Path=/; Secure; HttpOnly; SameSite=Strict")))
                          : h2o_iovec_init(H2O_STRLIT(PT_SESSION_COOKIE "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict"));
    h2o_add_header(&req->pool, h, H2O_TOKEN_SET_COOKIE, NULL, c.base, c.len);
  }
  h2o_set_header(&req->pool, h, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("no-store"), 1);
  h2o_setup_next_ostream(req, slot);
}

int pt_proxy_register(h2o_globalconf_t *g, h2o_pathconf_t *pc, const char *api_socket, struct pt_ratelimit *rl, sh_error *e)
{
  /* h2o names a unix socket upstream as http://[unix:PATH]/. */
  char url[160];
  snprintf(url, sizeof url, "http://[unix:%s]/1.0", api_socket);
  h2o_url_t upstream;
  if (h2o_url_parse(url, SIZE_MAX, &upstream) != 0)
    return sh_err(e, EINVAL, "read configuration", api_socket, "api_socket: not usable as an upstream");
  struct front_handler *fh = (struct front_handler *) h2o_create_handler(pc, sizeof *fh);
  fh->super.on_req = on_req;
  fh->rl = rl;
  /* The client's address appended to X-Forwarded-For (sandhostd reads the
   * last element); no Via, and the upstream's Server header dropped. */
  g->proxy.emit_x_forwarded_headers = 1;
  g->proxy.emit_via_header = 0;
  g->proxy.preserve_server_header = 0;
  g->proxy.preserve_x_forwarded_proto = 0;
  g->proxy.io_timeout = 125000;   /* above the longest /operations/N/wait */
  h2o_proxy_config_vars_t vars = {
    .io_timeout = 125000,
    .keepalive_timeout = 60000,
    .websocket = { .enabled = 1, .timeout = 3600000 },   /* an idle console lasts an hour */
  };
  h2o_proxy_register_reverse_proxy(pc, &upstream, &vars);
  h2o_filter_t *f = h2o_create_filter(pc, sizeof *f);
  f->on_setup_ostream = on_setup_ostream;
  return 0;
}
