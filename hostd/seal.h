/* Secrets sealed at rest: the TOTP secrets in the database are stored
 * encrypted (AES-256-GCM) under a key of the state dir's own, bound to the
 * user they belong to.  A copy of the database alone (a backup, a dump)
 * then gives no second factor away. */
#pragma once

#include "error.h"

#include <sqlite3.h>
#include <stdint.h>

#define HD_SEAL_KEY_FILE "totp.key"
/* "v1:" + hex of nonce (12), ciphertext (as long as the text) and tag (16). */
#define HD_SEALED_MAX 256

/* <state_dir>/totp.key: made (32 random bytes, 0600, ours) when missing;
 * one that is not exactly that (size, type, owner, mode) is an error naming
 * it.  Then every secret still stored in clear is sealed (earlier
 * versions stored them so), in one transaction. */
int hd_seal_init(sqlite3 *db, const char *state_dir, sh_error *e);
/* The key for tests (no file). */
void hd_seal_set_key(const uint8_t key[32]);

/* text sealed for user into out (HD_SEALED_MAX); -EIO when there is no
 * key or OpenSSL fails, -E2BIG for a text too long. */
int hd_seal(const char *text, int64_t user, char out[HD_SEALED_MAX]);
/* The text back (out of len bytes); -EBADMSG when it was not sealed by
 * this key for this user (another key, another user's row, changed). */
int hd_unseal(const char *sealed, int64_t user, char *out, size_t len);
