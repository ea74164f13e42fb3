/* The UI's static files, and index.html with a fresh CSP nonce in each copy. */
#pragma once

#include <h2o.h>

/* Serve assets on pc: "/" and "/index.html" with __CSP_NONCE__ replaced
 * by the nonce also named in the response's CSP; other files as they are;
 * no directory listings. */
void pt_static_register(h2o_pathconf_t *pc, const char *assets);
