#pragma once
#include <stddef.h>
/* sha256 of data as 64 hex chars + NUL in out.  Returns 0 or -EIO. */
int sh_sha256_hex(const void *data, size_t len, char out[65]);

#include <stdint.h>
#include "error.h"
/* sha256 of everything read from in (to EOF), copied to out unless out < 0;
 * *bytes (may be NULL) gets the length.  Returns 0 or -errno. */
int sh_sha256_copy(int in, int out, char hex[65], uint64_t *bytes, sh_error *e);

#include <sys/types.h>
/* len bytes as 2 * len lower-case hex digits + NUL in out. */
void sh_hex(const uint8_t *in, size_t len, char *out);
/* Hex digits (an even number, either case) into at most max bytes: how
 * many, or -1 when it is not hex or too long. */
ssize_t sh_unhex(const char *in, uint8_t *out, size_t max);

/* Standard base64 (padded, no whitespace) decoded: its bytes in *out
 * (malloc'd), the length; -1 (nothing to free) when it is not base64. */
ssize_t sh_unbase64(const char *in, size_t len, uint8_t **out);
