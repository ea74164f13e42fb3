/* Authentication (peer credentials, bearer tokens) and authorization. */
#include "auth.h"

#include "cleanup.h"
#include "config.h"
#include "db.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const role_names[] = {
  [HD_ROLE_NONE] = "none", [HD_ROLE_ADMIN] = "admin", [HD_ROLE_AUDITOR] = "auditor",
  [HD_ROLE_OWNER] = "owner", [HD_ROLE_MEMBER] = "member",
};

const char *hd_role_name(enum hd_role r)
{
  return r < SH_ARRAY_SIZE(role_names) ? role_names[r] : "none";
}

enum hd_role hd_role_parse(const char *s)
{
  for (size_t i = 1; s && i < SH_ARRAY_SIZE(role_names); i++)
    if (strcmp(s, role_names[i]) == 0)
      return (enum hd_role) i;
  return HD_ROLE_NONE;
}

bool hd_authorize(const struct hd_principal *p, enum hd_access access, int64_t tenant_id, bool *hide)
{
  *hide = false;
  switch (p->role) {
  case HD_ROLE_ADMIN:
    return true;
  case HD_ROLE_AUDITOR:
    return access == HD_READ;
  case HD_ROLE_OWNER:
  case HD_ROLE_MEMBER:
    if (tenant_id != 0 && tenant_id != p->tenant_id) {
      *hide = true;   /* another tenant's: it does not exist for them */
      return false;
    }
    if (tenant_id == 0)
      return access == HD_READ;
    if (access == HD_READ || access == HD_OPERATE)
      return true;
    return access == HD_MANAGE && p->role == HD_ROLE_OWNER;
  case HD_ROLE_NONE:
    break;
  }
  return false;
}

/* Whether uid's user lists gid among its groups (supplementary ones too). */
static bool user_in_group(uid_t uid, gid_t gid)
{
  struct passwd pw, *res = NULL;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) != 0 || !res)
    return false;
  gid_t groups[256];
  int n = (int) SH_ARRAY_SIZE(groups);
  if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
    return false;
  for (int i = 0; i < n; i++)
    if (groups[i] == gid)
      return true;
  return false;
}

void hd_auth_peer(uid_t uid, gid_t gid, gid_t admin_gid, struct hd_principal *out)
{
  *out = (struct hd_principal){ .role = HD_ROLE_NONE };
  snprintf(out->name, sizeof out->name, "unix:uid=%u", (unsigned) uid);
  bool group = admin_gid != (gid_t) -1 && (gid == admin_gid || user_in_group(uid, admin_gid));
  if (uid == 0 || group)
    out->role = HD_ROLE_ADMIN;
}

struct hd_auth_settings hd_auth_cfg = {
  .session_idle = 1800, .session_max = 43200, .max_failures = 5, .lockout = 30, .min_password = 10,
};

void hd_auth_configure(const struct hd_config *cfg)
{
  hd_auth_cfg = (struct hd_auth_settings){
    .session_idle = cfg->session_idle, .session_max = cfg->session_max, .max_failures = cfg->login_max_failures,
    .lockout = cfg->login_lockout, .min_password = cfg->password_min_length,
  };
  hd_role_mask(cfg->totp_required_roles, &hd_auth_cfg.totp_roles);
  snprintf(hd_auth_cfg.initial_password, sizeof hd_auth_cfg.initial_password, "%s/initial-admin-password", cfg->state_dir);
}

int hd_role_mask(const char *list, unsigned *mask)
{
  unsigned m = 0;
  for (const char *p = list; p && *p;) {
    size_t n = strcspn(p, ",");
    char role[16];
    snprintf(role, sizeof role, "%.*s", (int) (n < sizeof role ? n : sizeof role - 1), p);
    enum hd_role r = hd_role_parse(role);
    if (r == HD_ROLE_NONE || n >= sizeof role)
      return -EINVAL;
    m |= 1u << r;
    p += n + (p[n] == ',');
  }
  if (mask)
    *mask = m;
  return 0;
}

int hd_secret_hash(const char *secret, uint8_t out[32])
{
  unsigned len = 0;
  return EVP_Digest(secret, strlen(secret), out, &len, EVP_sha256(), NULL) == 1 && len == 32 ? 0 : -EIO;
}

int hd_random_secret(const char *prefix, char out[64])
{
  uint8_t raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return -EIO;
  static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  char *p = stpcpy(out, prefix);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < sizeof raw; i++) {
    acc = (acc << 8) | raw[i];
    bits += 8;
    while (bits >= 6) {
      *p++ = b64url[(acc >> (bits - 6)) & 63];
      bits -= 6;
    }
  }
  if (bits > 0)
    *p++ = b64url[(acc << (6 - bits)) & 63];
  *p = 0;
  return 0;
}

int hd_auth_token(sqlite3 *db, const char *token, struct hd_principal *out, sh_error *e)
{
  uint8_t h[32];
  if (strncmp(token, "sht_", 4) != 0 || strlen(token) > 100 || hd_secret_hash(token, h) < 0)
    return sh_err(e, EACCES, "authenticate", "token", "not a valid API token");
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, e,
    "SELECT u.id, u.name, u.role, coalesce(u.tenant_id, 0), t.id, coalesce(t.last_used_at, 0) FROM api_tokens t"
    " JOIN users u ON u.id = t.user_id"
    " WHERE t.hash = ?", "b", h, 32);
  if (!s)
    return -e->err;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE)
    return sh_err(e, EACCES, "authenticate", "token", "unknown or revoked API token");
  if (rc != SQLITE_ROW)
    return hd_db_err(db, rc, e, "authenticate");
  *out = (struct hd_principal){
    .role = hd_role_parse((const char *) sqlite3_column_text(s, 2)),
    .user_id = sqlite3_column_int64(s, 0),
    .tenant_id = sqlite3_column_int64(s, 3),
  };
  snprintf(out->name, sizeof out->name, "%s", (const char *) sqlite3_column_text(s, 1));
  int64_t tid = sqlite3_column_int64(s, 4), last = sqlite3_column_int64(s, 5), now = hd_now();
  sqlite3_reset(s);   /* no read snapshot held across the write */
  /* last_used_at to the minute: no database write for every request. */
  if (now - last >= 60)
    hd_db_exec(db, NULL, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", "ii", now, tid);
  return 0;
}

int hd_token_create(sqlite3 *db, int64_t user_id, const char *name, char secret[64], int64_t *id, sh_error *e)
{
  uint8_t h[32];
  if (hd_random_secret("sht_", secret) < 0)
    return sh_err(e, EIO, "create token", "random", "no random bytes");
  if (hd_secret_hash(secret, h) < 0)
    return sh_err(e, EIO, "create token", "sha256", NULL);
  int r = hd_db_exec(db, e, "INSERT INTO api_tokens (user_id, name, hash, created_at) VALUES (?, ?, ?, ?)", "itbi",
                     user_id, name, h, 32, hd_now());
  if (r < 0)
    return r;
  *id = sqlite3_last_insert_rowid(db);
  return 0;
}
