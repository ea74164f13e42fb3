/* TLS for the portal: OpenSSL contexts (TLS 1.2 and 1.3, ECDHE with AEAD
 * ciphers only) and a self-signed certificate for a first start. */
#pragma once

#include <openssl/ssl.h>
#include <sys/types.h>
#include "error.h"

/* When both files are missing, make an ECDSA P-256 key and a self-signed
 * certificate for localhost, 127.0.0.1 and host (valid one year); the key
 * is 0640 root:gid so the portal's user can reload it.  One of the two
 * missing is an error naming it.  *made tells whether it did. */
int pt_tls_ensure(const char *cert, const char *key, const char *host, gid_t gid, int *made, sh_error *e);
/* A server context with cert and key loaded and checked against each other. */
int pt_tls_context(const char *cert, const char *key, SSL_CTX **out, sh_error *e);
