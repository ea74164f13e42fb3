/* The security headers every response carries (HSTS, CSP, nosniff, ...). */
#pragma once

#include <h2o.h>
#include <stdint.h>

/* The Content-Security-Policy with style-src's nonce (NULL: none), in pool. */
h2o_iovec_t pt_headers_csp(h2o_mem_pool_t *pool, const char *nonce);
/* Add the filter to a path: a response without a CSP of its own gets the
 * nonce-less one. */
void pt_headers_register(h2o_pathconf_t *pc, uint32_t hsts_max_age);
