/* One-time passwords through OpenSSL's HMAC. */
#include "totp.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void hd_base32_encode(const uint8_t *in, size_t len, char *out)
{
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    acc = (acc << 8) | in[i];
    bits += 8;
    while (bits >= 5) {
      *out++ = b32[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0)
    *out++ = b32[(acc << (5 - bits)) & 31];
  *out = 0;
}

int hd_base32_decode(const char *in, uint8_t *out, size_t max)
{
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (; *in && *in != '='; in++) {
    const char *p = strchr(b32, toupper((unsigned char) *in));
    if (!p || !*p)
      return -1;
    acc = (acc << 5) | (uint32_t) (p - b32);
    bits += 5;
    if (bits >= 8) {
      if (n == max)
        return -1;
      out[n++] = (uint8_t) (acc >> (bits - 8));
      bits -= 8;
    }
  }
  return (int) n;
}

uint32_t hd_hotp(const uint8_t *key, size_t key_len, uint64_t counter, int digits)
{
  uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  for (int i = 7; i >= 0; i--, counter >>= 8)
    msg[i] = (uint8_t) counter;
  if (!HMAC(EVP_sha1(), key, (int) key_len, msg, sizeof msg, mac, &mac_len) || mac_len < 20)
    return UINT32_MAX;   /* never a valid code */
  /* Dynamic truncation (RFC 4226 5.3). */
  int o = mac[mac_len - 1] & 0xf;
  uint32_t v = ((uint32_t) (mac[o] & 0x7f) << 24) | ((uint32_t) mac[o + 1] << 16) | ((uint32_t) mac[o + 2] << 8) | mac[o + 3];
  uint32_t mod = 1;
  for (int i = 0; i < digits; i++)
    mod *= 10;
  return v % mod;
}

uint32_t hd_totp(const uint8_t *key, size_t key_len, int64_t t)
{
  return hd_hotp(key, key_len, (uint64_t) (t / 30), 6);
}

bool hd_totp_check(const char *secret_b32, const char *code, int64_t now, int64_t after, int64_t *step)
{
  uint8_t key[64];
  int n = secret_b32 ? hd_base32_decode(secret_b32, key, sizeof key) : -1;
  if (n < 10 || !code || strlen(code) != 6 || strspn(code, "0123456789") != 6)
    return false;
  uint32_t want = (uint32_t) strtoul(code, NULL, 10);
  bool hit = false;
  for (int d = -1; d <= 1; d++) {
    int64_t at = now / 30 + d;
    if (at > after && hd_totp(key, (size_t) n, at * 30) == want && !hit) {
      hit = true;
      if (step)
        *step = at;
    }
  }
  OPENSSL_cleanse(key, sizeof key);
  return hit;
}

int hd_totp_secret(char out[33])
{
  uint8_t key[20];
  if (RAND_bytes(key, sizeof key) != 1)
    return -EIO;
  hd_base32_encode(key, sizeof key, out);
  OPENSSL_cleanse(key, sizeof key);
  return 0;
}
