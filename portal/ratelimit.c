/* A fixed table of buckets, keyed by the client's address (an IPv6
 * client by its /64, which one host typically owns whole).  When the
 * table's probe window is full the least recently used bucket is reused:
 * memory stays bounded whatever the number of clients, and a bucket only
 * forgets an address that has been quiet longer than the others. */
#include "ratelimit.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_SIZE 4096   /* a power of two */
#define PROBE 8

struct bucket {
  uint8_t key[16];
  uint64_t last_ms;   /* 0: unused */
  double tokens;
};

struct pt_ratelimit {
  unsigned burst;
  uint64_t refill_ms;
  struct bucket table[TABLE_SIZE];
};

struct pt_ratelimit *pt_ratelimit_new(unsigned burst, uint64_t refill_ms)
{
  struct pt_ratelimit *rl = calloc(1, sizeof *rl);
  if (rl) {
    rl->burst = burst;
    rl->refill_ms = refill_ms;
  }
  return rl;
}

void pt_ratelimit_free(struct pt_ratelimit *rl) { free(rl); }

static void key_of(const struct sockaddr *addr, uint8_t key[16])
{
  memset(key, 0, 16);
  if (addr->sa_family == AF_INET) {
    key[0] = 4;
    memcpy(key + 1, &((const struct sockaddr_in *) addr)->sin_addr, 4);
  } else if (addr->sa_family == AF_INET6) {
    memcpy(key, &((const struct sockaddr_in6 *) addr)->sin6_addr, 8);
    key[8] = 6;
  }
}

/* FNV-1a */
static uint32_t hash(const uint8_t key[16])
{
  uint32_t h = 2166136261u;
  for (int i = 0; i < 16; i++)
    h = (h ^ key[i]) * 16777619u;
  return h;
}

unsigned pt_ratelimit_take(struct pt_ratelimit *rl, const struct sockaddr *addr, uint64_t now_ms)
{
  uint8_t key[16];
  key_of(addr, key);
  uint32_t h = hash(key);
  struct bucket *b = NULL, *oldest = NULL;
  for (unsigned i = 0; i < PROBE && !b; i++) {
    struct bucket *c = &rl->table[(h + i) & (TABLE_SIZE - 1)];
    if (c->last_ms && memcmp(c->key, key, 16) == 0)
      b = c;
    else if (!oldest || c->last_ms < oldest->last_ms)
      oldest = c;
  }
  if (!b) {
    b = oldest;
    memcpy(b->key, key, 16);
    b->tokens = rl->burst;
    b->last_ms = now_ms ? now_ms : 1;
  }
  if (now_ms > b->last_ms) {
    b->tokens += (double) (now_ms - b->last_ms) / (double) rl->refill_ms;
    if (b->tokens > rl->burst)
      b->tokens = rl->burst;
    b->last_ms = now_ms;
  }
  if (b->tokens >= 1) {
    b->tokens -= 1;
    return 0;
  }
  double wait_ms = (1 - b->tokens) * (double) rl->refill_ms;
  return (unsigned) (wait_ms / 1000) + 1;
}
