/* Security headers, added by an h2o filter as each response starts: on
 * static files, proxied API answers and h2o's own error pages alike. */
#include "headers.h"

#include <stdio.h>
#include <string.h>

struct headers_filter {
  h2o_filter_t super;
  char hsts[80];
};

#define CSP_HEAD "default-src 'self'; script-src 'self'; style-src 'self'"
#define CSP_TAIL "; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " \
                 "form-action 'self'; frame-ancestors 'none'"

h2o_iovec_t pt_headers_csp(h2o_mem_pool_t *pool, const char *nonce)
{
  if (!nonce)
    return h2o_iovec_init(H2O_STRLIT(CSP_HEAD CSP_TAIL));
  return h2o_concat(pool, h2o_iovec_init(H2O_STRLIT(CSP_HEAD " 'nonce-")), h2o_iovec_init(nonce, strlen(nonce)),
                    h2o_iovec_init(H2O_STRLIT("'" CSP_TAIL)));
}

/* Set on every response, over whatever the upstream said. */
static const struct { const char *name, *value; } fixed[] = {
  { "x-content-type-options", "nosniff" },
  { "referrer-policy", "no-referrer" },
  { "x-frame-options", "DENY" },
  { "cross-origin-opener-policy", "same-origin" },
};

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
  struct headers_filter *f = (struct headers_filter *) self;
  h2o_headers_t *h = &req->res.headers;
  h2o_set_header(&req->pool, h, H2O_TOKEN_STRICT_TRANSPORT_SECURITY, f->hsts, strlen(f->hsts), 1);
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    h2o_set_header_by_str(&req->pool, h, fixed[i].name, strlen(fixed[i].name), 0, fixed[i].value, strlen(fixed[i].value), 1);
  if (h2o_find_header_by_str(h, H2O_STRLIT("content-security-policy"), -1) < 0) {
    h2o_iovec_t csp = pt_headers_csp(&req->pool, NULL);
    h2o_add_header_by_str(&req->pool, h, H2O_STRLIT("content-security-policy"), 0, NULL, csp.base, csp.len);
  }
  h2o_setup_next_ostream(req, slot);
}

void pt_headers_register(h2o_pathconf_t *pc, uint32_t hsts_max_age)
{
  struct headers_filter *f = (struct headers_filter *) h2o_create_filter(pc, sizeof *f);
  f->super.on_setup_ostream = on_setup_ostream;
  snprintf(f->hsts, sizeof f->hsts, "max-age=%u; includeSubDomains", hsts_max_age);
}
