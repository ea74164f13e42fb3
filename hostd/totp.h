/* TOTP (RFC 6238: HMAC-SHA-1, 30 s steps) and the base32 its secrets are
 * shown in (RFC 4648, no padding). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* HOTP (RFC 4226) of key at counter, as a number of `digits` digits. */
uint32_t hd_hotp(const uint8_t *key, size_t key_len, uint64_t counter, int digits);
/* The 6-digit code of key at unix time t. */
uint32_t hd_totp(const uint8_t *key, size_t key_len, int64_t t);
/* Whether code (6 digits as text) is the code of the base32 secret at now,
 * or one step before or after (clock drift), in a step after `after` (a
 * step already used is never accepted again); *step says which (may be NULL). */
bool hd_totp_check(const char *secret_b32, const char *code, int64_t now, int64_t after, int64_t *step);
/* A new 160-bit secret in base32 (32 characters + NUL). */
int hd_totp_secret(char out[33]);
/* base32 without padding: encode len bytes (out: 8 * ceil(len / 5) / 5 + 1);
 * decode returns the bytes written, or -1. */
void hd_base32_encode(const uint8_t *in, size_t len, char *out);
int hd_base32_decode(const char *in, uint8_t *out, size_t max);
