/* AES-256-GCM over the secrets of hostd/seal.h.  The additional data is
 * the user's id: a sealed secret copied into another user's row does not
 * open there. */
#include "seal.h"

#include "cleanup.h"
#include "db.h"
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { KEY = 32, NONCE = 12, TAG = 16 };
static uint8_t key[KEY];
static bool have_key;

void hd_seal_set_key(const uint8_t k[32])
{
  memcpy(key, k, KEY);
  have_key = true;
}

static void aad_of(int64_t user, char out[40])
{
  snprintf(out, 40, "sandhost-totp:%" PRId64, user);
}

/* One GCM pass: encrypt (tag out) or decrypt (tag in, checked). */
static int gcm(bool enc, const uint8_t nonce[NONCE], const char *aad, const uint8_t *in, int len, uint8_t *out, uint8_t tag[TAG])
{
  EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
  int n = 0, fin = 0;
  bool ok = x && (enc ? EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, nonce)
                      : EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, nonce)) == 1 &&
            EVP_CipherUpdate(x, NULL, &n, (const uint8_t *) aad, (int) strlen(aad)) == 1 &&
            EVP_CipherUpdate(x, out, &n, in, len) == 1 &&
            (enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, TAG, tag) == 1) &&
            EVP_CipherFinal_ex(x, out + n, &fin) == 1 &&
            (!enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, TAG, tag) == 1);
  EVP_CIPHER_CTX_free(x);
  return ok ? n + fin : -1;
}

int hd_seal(const char *text, int64_t user, char out[HD_SEALED_MAX])
{
  size_t len = strlen(text);
  if (3 + 2 * (NONCE + len + TAG) + 1 > HD_SEALED_MAX)
    return -E2BIG;
  if (!have_key)
    return -EIO;
  uint8_t nonce[NONCE], ct[HD_SEALED_MAX], tag[TAG];
  char aad[40];
  aad_of(user, aad);
  if (RAND_bytes(nonce, NONCE) != 1 || gcm(true, nonce, aad, (const uint8_t *) text, (int) len, ct, tag) != (int) len)
    return -EIO;
  memcpy(out, "v1:", 3);
  sh_hex(nonce, NONCE, out + 3);
  sh_hex(ct, len, out + 3 + 2 * NONCE);
  sh_hex(tag, TAG, out + 3 + 2 * (NONCE + len));
  return 0;
}

int hd_unseal(const char *sealed, int64_t user, char *out, size_t len)
{
  uint8_t raw[HD_SEALED_MAX], pt[HD_SEALED_MAX];
  int n = sealed && strncmp(sealed, "v1:", 3) == 0 ? (int) sh_unhex(sealed + 3, raw, sizeof raw) : -1;
  if (!have_key || n < NONCE + TAG)
    return -EBADMSG;
  char aad[40];
  aad_of(user, aad);
  int m = n - NONCE - TAG;
  if (gcm(false, raw, aad, raw + NONCE, m, pt, raw + n - TAG) != m || (size_t) m >= len) {
    OPENSSL_cleanse(pt, sizeof pt);
    return -EBADMSG;
  }
  memcpy(out, pt, (size_t) m);
  out[m] = 0;
  OPENSSL_cleanse(pt, sizeof pt);
  return 0;
}

/* The key file: made when missing, else checked and read. */
static int load_key(const char *path, sh_error *e)
{
  uint8_t k[KEY];
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    if (RAND_bytes(k, KEY) != 1 || write(fd, k, KEY) != KEY || fsync(fd) < 0) {
      unlink(path);
      return sh_errno(e, "make the TOTP key", path);
    }
  } else {
    struct stat st;
    if (errno != EEXIST || (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
      return sh_errno(e, "open the TOTP key", path);
    if (!S_ISREG(st.st_mode) || st.st_size != KEY || st.st_uid != geteuid() || (st.st_mode & 077))
      return sh_err(e, EPERM, "open the TOTP key", path, "must be a regular file of %d bytes, ours (uid %u), mode 0600", KEY,
                    (unsigned) geteuid());
    if (read(fd, k, KEY) != KEY)
      return sh_errno(e, "read the TOTP key", path);
  }
  hd_seal_set_key(k);
  OPENSSL_cleanse(k, KEY);
  return 0;
}

int hd_seal_init(sqlite3 *db, const char *state_dir, sh_error *e)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s", state_dir, HD_SEAL_KEY_FILE);
  int r = load_key(path, e);
  if (r < 0)
    return r;
  /* Secrets stored in clear by earlier versions, sealed now (read first:
   * no statement stays open across the writes). */
  if ((r = hd_db_begin(db, e)) < 0)
    return r;
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, e, "SELECT id, totp_secret FROM users WHERE totp_secret NOT LIKE 'v1:%'", NULL);
  struct clear { int64_t id; char sealed[HD_SEALED_MAX]; } *rows = NULL;
  size_t n = 0;
  while (r == 0 && s && sqlite3_step(s) == SQLITE_ROW) {
    struct clear *more = realloc(rows, (n + 1) * sizeof *rows);
    if (!more) {
      r = sh_err(e, ENOMEM, "seal the TOTP secrets", path, NULL);
      break;
    }
    rows = more;
    rows[n].id = sqlite3_column_int64(s, 0);
    if (hd_seal((const char *) sqlite3_column_text(s, 1), rows[n].id, rows[n].sealed) < 0)
      r = sh_err(e, EIO, "seal a TOTP secret", path, "user %" PRId64, rows[n].id);
    n++;
  }
  if (!s)
    r = -e->err;
  sqlite3_reset(s);
  for (size_t i = 0; r == 0 && i < n; i++) {
    int w = hd_db_exec(db, e, "UPDATE users SET totp_secret = ? WHERE id = ?", "ti", rows[i].sealed, rows[i].id);
    r = w < 0 ? w : 0;
  }
  if (rows)
    OPENSSL_cleanse(rows, n * sizeof *rows);
  free(rows);
  if (r == 0)
    return hd_db_commit(db, e);
  hd_db_rollback(db);
  return r;
}
