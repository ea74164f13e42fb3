/* Login sessions: a random secret ("shs_..."), only its SHA-256 stored,
 * with a CSRF token, an idle and an absolute expiry (hd_auth_cfg). */
#pragma once

#include <sqlite3.h>
#include <stdint.h>
#include "auth.h"
#include "error.h"

/* A new session for user_id: its secret in secret[64], its CSRF token in
 * csrf[64], when it ends at the latest in *expires_at. */
int hd_session_create(sqlite3 *db, int64_t user_id, const char *source, char secret[64], char csrf[64], int64_t *expires_at,
                      sh_error *e);
/* The principal of a session secret: one indexed SELECT; last_seen is
 * written at most once a minute (more often only for idle limits under
 * four minutes).  -EACCES for an unknown secret, -ETIMEDOUT for an expired
 * one (then deleted); out->fail says which, out->sid/has_sid are set either way. */
int hd_auth_session(sqlite3 *db, const char *secret, struct hd_principal *out, sh_error *e);
/* Forget one session (its hash). */
void hd_session_drop(sqlite3 *db, const uint8_t sid[32]);
/* Forget all sessions of a user but keep (NULL: none). */
int hd_sessions_kill(sqlite3 *db, int64_t user_id, const uint8_t *keep, sh_error *e);
/* Whether a role must use TOTP and this user has not set it up. */
bool hd_must_enroll(enum hd_role role, bool totp_enabled);
