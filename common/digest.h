#pragma once
#include <stddef.h>
/* sha256 of data as 64 hex chars + NUL in out.  Returns 0 or -EIO. */
int sh_sha256_hex(const void *data, size_t len, char out[65]);
