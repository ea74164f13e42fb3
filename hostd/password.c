/* scrypt through EVP_KDF: N = 2^15, r = 8, p = 1 (32 MiB, some 50 ms). */
#include "password.h"

#include "cleanup.h"
#include "digest.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SALT_LEN = 16, KEY_LEN = 32, LOG_N = 15, R = 8, P = 1 };

static void kdf_freep(EVP_KDF **k) { EVP_KDF_free(*k); }
static void kdf_ctx_freep(EVP_KDF_CTX **k) { EVP_KDF_CTX_free(*k); }

static int scrypt(const char *password, const uint8_t *salt, size_t salt_len, uint64_t n, uint32_t r, uint32_t p, uint8_t *out,
                  size_t out_len)
{
  __attribute__((cleanup(kdf_freep))) EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
  __attribute__((cleanup(kdf_ctx_freep))) EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
  if (!ctx)
    return -EIO;
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *) password, strlen(password)),
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *) salt, salt_len),
    OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
    OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
    OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
    OSSL_PARAM_construct_end(),
  };
  return EVP_KDF_derive(ctx, out, out_len, params) == 1 ? 0 : -EIO;
}

int hd_password_hash(const char *password, char out[HD_PASSWORD_HASH_MAX])
{
  uint8_t salt[SALT_LEN], key[KEY_LEN];
  if (RAND_bytes(salt, sizeof salt) != 1 || scrypt(password, salt, sizeof salt, 1u << LOG_N, R, P, key, sizeof key) < 0)
    return -EIO;
  char s64[32], k64[48];
  EVP_EncodeBlock((unsigned char *) s64, salt, sizeof salt);
  EVP_EncodeBlock((unsigned char *) k64, key, sizeof key);
  snprintf(out, HD_PASSWORD_HASH_MAX, "scrypt$%u$%d$%d$%s$%s", 1u << LOG_N, R, P, s64, k64);
  return 0;
}

/* Standard base64 (with padding) of at most max bytes; -1 if it is not. */
static int unbase64(const char *in, size_t in_len, uint8_t *out, size_t max)
{
  _cleanup_free_ uint8_t *b = NULL;
  ssize_t n = sh_unbase64(in, in_len, &b);
  if (n <= 0 || (size_t) n > max)
    return -1;
  memcpy(out, b, (size_t) n);
  return (int) n;
}

bool hd_password_verify(const char *password, const char *stored)
{
  unsigned long long n = 0;
  unsigned r = 0, p = 0;
  int off = 0;
  uint8_t salt[64], want[64], got[64];
  int salt_len = -1, key_len = -1;
  if (stored && sscanf(stored, "scrypt$%llu$%u$%u$%n", &n, &r, &p, &off) == 3 && off > 0) {
    const char *s = stored + off, *dollar = strchr(s, '$');
    if (dollar) {
      salt_len = unbase64(s, (size_t) (dollar - s), salt, sizeof salt);
      key_len = unbase64(dollar + 1, strlen(dollar + 1), want, sizeof want);
    }
  }
  /* Bounds keep a tampered row from costing more than the normal hash. */
  bool sane = salt_len >= 8 && key_len >= 16 && n >= 2 && n <= (1u << LOG_N) && (n & (n - 1)) == 0 && r >= 1 && r <= R &&
              p >= 1 && p <= 4;
  if (!sane) {
    /* Same work as a real check: no timing difference for unknown users. */
    static const uint8_t dummy[SALT_LEN];
    scrypt(password, dummy, sizeof dummy, 1u << LOG_N, R, P, got, KEY_LEN);
    return false;
  }
  if (scrypt(password, salt, (size_t) salt_len, n, r, p, got, (size_t) key_len) < 0)
    return false;
  return CRYPTO_memcmp(got, want, (size_t) key_len) == 0;
}

int hd_password_random(char *out, size_t len)
{
  static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const size_t n = sizeof alphabet - 1;
  for (size_t i = 0; i < len;) {
    uint8_t b;
    if (RAND_bytes(&b, 1) != 1)
      return -EIO;
    if (b < 256 / n * n)   /* no modulo bias */
      out[i++] = alphabet[b % n];
  }
  out[len] = 0;
  return 0;
}
