#include "digest.h"
#include "cleanup.h"
#include "fdutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

int sh_sha256_hex(const void *data, size_t len, char out[65])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
    return -EIO;
  sh_hex(md, mdlen, out);
  return 0;
}

void sh_hex(const uint8_t *in, size_t len, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * len] = 0;
}

static int nibble(char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

ssize_t sh_unhex(const char *in, uint8_t *out, size_t max)
{
  size_t n = strlen(in);
  if (n % 2 || n / 2 > max)
    return -1;
  for (size_t i = 0; i < n / 2; i++) {
    int hi = nibble(in[2 * i]), lo = nibble(in[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    out[i] = (uint8_t) (hi << 4 | lo);
  }
  return (ssize_t) (n / 2);
}


static void md_ctx_freep(EVP_MD_CTX **c) { EVP_MD_CTX_free(*c); }

int sh_sha256_copy(int in, int out, char hex[65], uint64_t *bytes, sh_error *e)
{
  _cleanup_(md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
    return sh_err(e, ENOMEM, "sha256", NULL, NULL);
  _cleanup_free_ char *buf = malloc(1 << 20);
  if (!buf)
    return sh_err(e, ENOMEM, "sha256", NULL, NULL);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = read(in, buf, 1 << 20);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return sh_errno(e, "read", "sha256 input");
    if (n == 0)
      break;
    if (!EVP_DigestUpdate(ctx, buf, (size_t) n))
      return sh_err(e, EIO, "sha256", NULL, NULL);
    if (out >= 0 && sh_write_all(out, buf, (size_t) n) != n)
      return sh_errno(e, "write", "sha256 copy");
    total += (uint64_t) n;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32)
    return sh_err(e, EIO, "sha256", NULL, NULL);
  sh_hex(md, mdlen, hex);
  if (bytes)
    *bytes = total;
  return 0;
}

ssize_t sh_unbase64(const char *in, size_t len, uint8_t **out)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t pad = len && in[len - 1] == '=' ? 1 + (len > 1 && in[len - 2] == '=') : 0;
  if (!len || len % 4 || len > INT32_MAX)
    return -1;
  /* OpenSSL's decoder skips whitespace and takes "=" anywhere: not here. */
  for (size_t i = 0; i < len - pad; i++)
    if (!in[i] || !strchr(alphabet, in[i]))
      return -1;
  uint8_t *b = malloc(len / 4 * 3);
  int n = b ? EVP_DecodeBlock(b, (const unsigned char *) in, (int) len) : -1;
  if (n < 0) {
    free(b);
    return -1;
  }
  *out = b;
  return n - (ssize_t) pad;
}
