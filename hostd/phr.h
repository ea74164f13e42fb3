/* picohttpparser's response parser.  The symbol comes from libh2o-evloop
 * (h2o bundles picohttpparser and exports phr_*), but Debian ships no
 * picohttpparser.h, so its prototype is declared here as in h2o 2.2's
 * lib/common/picohttpparser.h. */
#pragma once

#include <stddef.h>

struct phr_header {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
};

/* The length of the status line and headers when complete, -2 when more is
 * needed, -1 when malformed.  *num_headers is the room in headers on entry,
 * the count on return; last_len is how much of buf an earlier call saw. */
int phr_parse_response(const char *buf, size_t len, int *minor_version, int *status, const char **msg, size_t *msg_len,
                       struct phr_header *headers, size_t *num_headers, size_t last_len);
