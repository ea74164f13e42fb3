/* Sessions in the database, looked up by the hash of their secret. */
#include "session.h"

#include "cleanup.h"
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool hd_must_enroll(enum hd_role role, bool totp_enabled)
{
  return !totp_enabled && (hd_auth_cfg.totp_roles & (1u << role));
}

int hd_session_create(sqlite3 *db, int64_t user_id, const char *source, char secret[64], char csrf[64], int64_t *expires_at,
                      sh_error *e)
{
  uint8_t h[32];
  if (hd_random_secret("shs_", secret) < 0 || hd_random_secret("", csrf) < 0 || hd_secret_hash(secret, h) < 0)
    return sh_err(e, EIO, "create session", "random", "no random bytes");
  int64_t now = hd_now();
  *expires_at = now + hd_auth_cfg.session_max;
  /* Expired sessions of anyone go now (lookups only drop the ones they meet). */
  hd_db_exec(db, NULL, "DELETE FROM sessions WHERE expires_at <= ? OR last_seen <= ?", "ii", now,
             now - (int64_t) hd_auth_cfg.session_idle);
  int r = hd_db_exec(db, e,
                     "INSERT INTO sessions (hash, user_id, csrf, created_at, last_seen, expires_at, source)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", "bitiiit", h, 32, user_id, csrf, now, now, *expires_at,
                     source ? source : "");
  return r < 0 ? r : 0;
}

int hd_auth_session(sqlite3 *db, const char *secret, struct hd_principal *out, sh_error *e)
{
  *out = (struct hd_principal){ .role = HD_ROLE_NONE, .fail = HD_AUTH_BAD };
  if (strncmp(secret, "shs_", 4) != 0 || strlen(secret) > 100 || hd_secret_hash(secret, out->sid) < 0)
    return sh_err(e, EACCES, "authenticate", "session", "not a session");
  out->has_sid = true;
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, e,
    "SELECT u.id, u.name, u.role, coalesce(u.tenant_id, 0), u.totp_enabled, s.csrf, s.last_seen, s.expires_at"
    " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?", "b", out->sid, 32);
  if (!s)
    return -e->err;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    out->fail = HD_AUTH_EXPIRED;   /* logged out or expired earlier: the same to the client */
    return sh_err(e, ETIMEDOUT, "authenticate", "session", "unknown or expired session");
  }
  if (rc != SQLITE_ROW)
    return hd_db_err(db, rc, e, "authenticate");
  int64_t now = hd_now(), last = sqlite3_column_int64(s, 6), idle = hd_auth_cfg.session_idle;
  if (now >= sqlite3_column_int64(s, 7) || now - last >= idle) {
    sqlite3_reset(s);
    hd_session_drop(db, out->sid);
    out->fail = HD_AUTH_EXPIRED;
    return sh_err(e, ETIMEDOUT, "authenticate", "session", "the session expired");
  }
  enum hd_role role = hd_role_parse((const char *) sqlite3_column_text(s, 2));
  out->role = role;
  out->user_id = sqlite3_column_int64(s, 0);
  out->tenant_id = sqlite3_column_int64(s, 3);
  out->session = true;
  out->must_enroll = hd_must_enroll(role, sqlite3_column_int(s, 4));
  out->fail = HD_AUTH_OK;
  snprintf(out->name, sizeof out->name, "%s", (const char *) sqlite3_column_text(s, 1));
  snprintf(out->csrf, sizeof out->csrf, "%s", (const char *) sqlite3_column_text(s, 5));
  sqlite3_reset(s);   /* no read snapshot held across the write */
  /* Idle time is measured from last_seen, so it moves often enough to
   * keep an active session alive: every minute, or every quarter of a
   * shorter idle limit. */
  int64_t every = idle / 4 < 60 ? idle / 4 : 60;
  if (now - last >= every)
    hd_db_exec(db, NULL, "UPDATE sessions SET last_seen = ? WHERE hash = ?", "ib", now, out->sid, 32);
  return 0;
}

void hd_session_drop(sqlite3 *db, const uint8_t sid[32])
{
  hd_db_exec(db, NULL, "DELETE FROM sessions WHERE hash = ?", "b", sid, 32);
}

int hd_sessions_kill(sqlite3 *db, int64_t user_id, const uint8_t *keep, sh_error *e)
{
  static const uint8_t none[32];
  int r = hd_db_exec(db, e, "DELETE FROM sessions WHERE user_id = ? AND hash != ?", "ib", user_id, keep ? keep : none, 32);
  return r < 0 ? r : 0;
}
