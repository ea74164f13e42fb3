/* Passwords, stored as scrypt hashes (OpenSSL's EVP_KDF):
 * "scrypt$N$r$p$<salt, base64>$<hash, base64>". */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define HD_PASSWORD_HASH_MAX 160

/* Hash a password with a fresh salt into out; -EIO if OpenSSL fails. */
int hd_password_hash(const char *password, char out[HD_PASSWORD_HASH_MAX]);
/* Whether password matches stored (constant-time compare).  A NULL or
 * malformed stored hash is a mismatch that still costs one scrypt, so
 * an unknown user answers as slowly as a wrong password. */
bool hd_password_verify(const char *password, const char *stored);
/* A random password of len (< size) letters and digits, for the admin's first one. */
int hd_password_random(char *out, size_t len);
