/* Per-client-address token buckets (the login rate limit). */
#pragma once

#include <stdint.h>
#include <sys/socket.h>

struct pt_ratelimit;

/* burst tokens at most, one more every refill_ms. */
struct pt_ratelimit *pt_ratelimit_new(unsigned burst, uint64_t refill_ms);
void pt_ratelimit_free(struct pt_ratelimit *rl);
/* Take a token for addr at now_ms: 0 when there was one, else the seconds
 * until the next one (for Retry-After). */
unsigned pt_ratelimit_take(struct pt_ratelimit *rl, const struct sockaddr *addr, uint64_t now_ms);
