/* Logins, passwords and TOTP over the API. */
#include "login.h"

#include "cleanup.h"
#include "db.h"
#include "jsonutil.h"
#include "log.h"
#include "password.h"
#include "resources.h"
#include "seal.h"
#include "session.h"
#include "totp.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The user as the session answers show it. */
static json_t *user_json(sqlite3 *db, int64_t id)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL,
    "SELECT name, role, tenant_id, totp_enabled FROM users WHERE id = ?", "i", id);
  if (!s || sqlite3_step(s) != SQLITE_ROW)
    return json_null();
  json_t *o = json_pack("{s:I, s:s, s:s, s:b}", "id", (json_int_t) id, "name", sqlite3_column_text(s, 0), "role",
                        sqlite3_column_text(s, 1), "totp_enabled", sqlite3_column_int(s, 3));
  json_object_set_new(o, "tenant_id", sqlite3_column_type(s, 2) == SQLITE_NULL ? json_null()
                                                                              : json_integer(sqlite3_column_int64(s, 2)));
  return o;
}

/* The body's keys are among keys, and each of the required ones (before
 * the first NULL of `required`) a string: fails the call naming the field. */
static int strings(struct hd_call *c, const char *const *keys, size_t n_required, const char **out)
{
  sh_error e = {0};
  if (!json_is_object(c->body) || sh_json_check_keys(c->body, keys, NULL, &e) < 0) {
    hd_api_fail(c, 400, e.path, "%s: %s", e.path[0] ? e.path : "body", e.msg[0] ? e.msg : "a JSON object is expected");
    return -1;
  }
  for (size_t i = 0; keys[i]; i++) {
    out[i] = NULL;
    if (sh_json_get_str(c->body, keys[i], NULL, &out[i], &e) < 0 || (i < n_required && !out[i])) {
      hd_api_fail(c, 400, keys[i], "%s: %s", keys[i], e.msg[0] ? e.msg : "required");
      return -1;
    }
  }
  return 0;
}

static int password_ok(struct hd_call *c, const char *pw)
{
  size_t n = strlen(pw);
  if (n < hd_auth_cfg.min_password || n > 1024) {
    hd_api_fail(c, 400, "password", "password: %u to 1024 characters", hd_auth_cfg.min_password);
    return -1;
  }
  return 0;
}

/* ---- login, logout, session ---- */

/* How long failures in a row lock an account: login_lockout (30 s) once
 * there are login_max_failures, doubling with every further one, at most an
 * hour; 0 below the threshold. */
static int64_t lock_for(int64_t failed)
{
  int64_t over = failed - hd_auth_cfg.max_failures;
  if (over < 0)
    return 0;
  int64_t lock = over >= 20 ? 3600 : (int64_t) hd_auth_cfg.lockout << over;
  return lock > 3600 ? 3600 : lock;
}

/* Names nobody has lock exactly as real ones do, or the lockout would tell
 * which names exist: their failures are kept here (a name's slot by a hash
 * of it; a collision only forgets a count). */
static struct {
  pthread_mutex_t lock;
  struct { uint8_t hash[16]; int64_t failed, locked_until; } slot[1024];
} ghosts = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t ghost_slot(const char *name, uint8_t hash[16])
{
  uint8_t h[32];
  unsigned len = 0;
  EVP_Digest(name, strlen(name), h, &len, EVP_sha256(), NULL);
  memcpy(hash, h, 16);
  return ((size_t) h[16] << 8 | h[17]) % SH_ARRAY_SIZE(ghosts.slot);
}

/* An unknown name's lock (0: none); with fail, count a failure first. */
static int64_t ghost_locked_until(const char *name, bool fail, int64_t now)
{
  uint8_t hash[16];
  size_t i = ghost_slot(name, hash);
  pthread_mutex_lock(&ghosts.lock);
  if (memcmp(ghosts.slot[i].hash, hash, sizeof hash) != 0) {
    memcpy(ghosts.slot[i].hash, hash, sizeof hash);
    ghosts.slot[i].failed = ghosts.slot[i].locked_until = 0;
  }
  if (fail) {
    int64_t lock = lock_for(++ghosts.slot[i].failed);
    if (lock)
      ghosts.slot[i].locked_until = now + lock;
  }
  int64_t until = ghosts.slot[i].locked_until;
  pthread_mutex_unlock(&ghosts.lock);
  return until;
}

/* A failed proof of a password (a login, or a wrong current_password)
 * counts towards the user's lockout; an unknown name's among the ghosts. */
static void count_failure(struct hd_call *c)
{
  int64_t id = c->failed_user, now = hd_now();
  if (id < 0) {
    ghost_locked_until(c->who.name, true, now);
    return;
  }
  hd_db_exec(c->db, NULL, "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?", "i", id);
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL, "SELECT failed_logins FROM users WHERE id = ?", "i", id);
  int64_t lock = lock_for(s && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0);
  if (lock)
    hd_db_exec(c->db, NULL, "UPDATE users SET locked_until = ? WHERE id = ?", "ii", now + lock, id);
}

/* After the call's transaction (a failure's count must outlive its
 * rollback): the session the request carried goes (a new id at every
 * login), and a failure counts, whatever the answer. */
static void login_finally(struct hd_call *c)
{
  if (c->who.has_sid)
    hd_session_drop(c->db, c->who.sid);
  if (c->failed_user && c->status >= 400)
    count_failure(c);
}

static void password_finally(struct hd_call *c)
{
  if (c->failed_user && c->status >= 400)
    count_failure(c);
}

/* Whether user id is locked out; if so the call fails with 429 locked. */
static bool locked_out(struct hd_call *c, int64_t locked_until, int64_t now)
{
  if (locked_until <= now)
    return false;
  c->retry_after = (int) (locked_until - now);
  hd_api_fail_code(c, 429, "locked", NULL, "too many failed logins: the account is locked for %d more seconds", c->retry_after);
  json_object_set_new(json_object_get(c->result, "error"), "retry_after", json_integer(c->retry_after));
  return true;
}

void hd_login_prepare(struct hd_call *c)
{
  c->login.checked = false;
  const char *name = json_string_value(json_object_get(c->body, "name"));
  const char *pw = json_string_value(json_object_get(c->body, "password"));
  if (!name || !pw)
    return;   /* hd_login names what is missing */
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL, "SELECT password_hash FROM users WHERE name = ?", "t", name);
  const char *stored = s && sqlite3_step(s) == SQLITE_ROW ? (const char *) sqlite3_column_text(s, 0) : NULL;
  snprintf(c->login.hash, sizeof c->login.hash, "%s", stored ? stored : "");
  c->login.ok = hd_password_verify(pw, stored);   /* an unknown name costs a scrypt too */
  c->login.checked = true;
}

/* The password against the stored hash (NULL: an unknown name): the
 * answer from before the transaction when the hash is still the one seen. */
static bool password_matches(struct hd_call *c, const char *pw, const char *stored)
{
  if (c->login.checked && strcmp(c->login.hash, stored ? stored : "") == 0)
    return c->login.ok;
  return hd_password_verify(pw, stored);
}

void hd_login(struct hd_call *c)
{
  static const char *const keys[] = { "name", "password", "totp", NULL };
  const char *v[3];
  if (strings(c, keys, 2, v) < 0)
    return;
  const char *name = v[0], *pw = v[1], *code = v[2];
  c->finally = login_finally;
  /* The audit log names who tried, as whom: no role until it worked. */
  struct hd_principal *w = &c->who;
  w->role = HD_ROLE_NONE;
  w->user_id = w->tenant_id = 0;
  w->session = false;
  snprintf(w->name, sizeof w->name, "%s", hd_name_valid(name) ? name : "?");
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL,
    "SELECT id, role, coalesce(tenant_id, 0), password_hash, coalesce(locked_until, 0), totp_enabled, totp_secret,"
    " totp_last_step FROM users WHERE name = ?", "t", name);
  bool known = s && sqlite3_step(s) == SQLITE_ROW;
  int64_t id = known ? sqlite3_column_int64(s, 0) : 0, now = hd_now();
  int64_t locked = known ? sqlite3_column_int64(s, 4) : ghost_locked_until(w->name, false, now);
  w->tenant_id = known ? sqlite3_column_int64(s, 2) : 0;   /* the tenant's owners see their users' logins */
  if (locked_out(c, locked, now))
    return;
  /* An unknown user costs the same scrypt as a wrong password. */
  if (!password_matches(c, pw, known ? (const char *) sqlite3_column_text(s, 3) : NULL)) {
    c->failed_user = known ? id : -1;   /* -1: an unknown name, counted among the ghosts */
    hd_api_fail_code(c, 401, "bad_credentials", NULL, "wrong name or password");
    return;
  }
  int64_t step = 0;
  if (sqlite3_column_int(s, 5)) {
    if (!code) {
      hd_api_fail_code(c, 401, "totp_required", "totp", "totp: this account needs its 6-digit code");
      return;
    }
    /* A code logs in once: one seen on the wire (or over a shoulder) is
     * spent, also within its 30 s. */
    char secret[64];
    if (hd_unseal((const char *) sqlite3_column_text(s, 6), id, secret, sizeof secret) < 0) {
      hd_api_fail(c, 500, NULL, "the TOTP secret of %s does not open with this host's key (%s): an admin can reset the user's 2FA",
                  w->name, HD_SEAL_KEY_FILE);
      return;
    }
    bool good = hd_totp_check(secret, code, now, sqlite3_column_int64(s, 7), &step);
    OPENSSL_cleanse(secret, sizeof secret);
    if (!good) {
      c->failed_user = id;
      hd_api_fail_code(c, 401, "bad_totp", "totp", "totp: wrong code, or one already used: wait for the next");
      return;
    }
  }
  enum hd_role role = hd_role_parse((const char *) sqlite3_column_text(s, 1));
  sqlite3_reset(s);
  char secret[64], csrf[64];
  int64_t expires;
  sh_error e = {0};
  if (hd_db_exec(c->db, &e, "UPDATE users SET failed_logins = 0, locked_until = NULL, totp_last_step = max(totp_last_step, ?)"
                 " WHERE id = ?", "ii", step, id) < 0 ||
      hd_session_create(c->db, id, c->source, secret, csrf, &expires, &e) < 0) {
    hd_api_fail(c, 500, NULL, "creating the session: %s", e.msg);
    return;
  }
  w->role = role;
  w->user_id = id;
  c->set_session = true;
  snprintf(c->session_out, sizeof c->session_out, "%s", secret);
  c->status = 200;
  json_t *user = user_json(c->db, id);
  bool totp_on = json_is_true(json_object_get(user, "totp_enabled"));
  c->result = json_pack("{s:o, s:s, s:I, s:I, s:b}", "user", user, "csrf", csrf, "idle_timeout",
                        (json_int_t) hd_auth_cfg.session_idle, "expires_at", (json_int_t) expires, "must_enroll_totp",
                        hd_must_enroll(role, totp_on));
  snprintf(c->detail, sizeof c->detail, "logged in%s", totp_on ? " with TOTP" : "");
}

void hd_logout(struct hd_call *c)
{
  if (c->who.has_sid)
    hd_session_drop(c->db, c->who.sid);
  c->set_session = true;
  c->session_out[0] = 0;
  c->status = 200;
  c->result = json_object();
  snprintf(c->detail, sizeof c->detail, "%s", c->who.session ? "logged out" : "no live session");
}

void hd_session_get(struct hd_call *c)
{
  c->status = 200;
  if (!c->who.user_id) {
    c->result = json_pack("{s:n, s:s}", "user", "principal", c->who.name);
    return;
  }
  c->result = json_pack("{s:o}", "user", user_json(c->db, c->who.user_id));
  if (!c->who.session)
    return;
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL, "SELECT expires_at FROM sessions WHERE hash = ?", "b", c->who.sid, 32);
  int64_t expires = s && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  json_object_set_new(c->result, "csrf", json_string(c->who.csrf));
  json_object_set_new(c->result, "expires_at", json_integer(expires));
  json_object_set_new(c->result, "idle_timeout", json_integer(hd_auth_cfg.session_idle));
  json_object_set_new(c->result, "must_enroll_totp", json_boolean(c->who.must_enroll));
}

/* ---- a user's password and TOTP ---- */

/* The user of the path, readable by the caller (else the call fails
 * with 404); *self: the caller is that user; *manage: the caller manages
 * them (a provider admin, or an owner of their tenant). */
static int target(struct hd_call *c, bool *self, bool *manage)
{
  int64_t t;
  json_t *o = hd_res_load(c, &hd_res_users, HD_READ, &t);
  if (!o)
    return -1;
  json_decref(o);
  bool hide;
  *self = c->ids[0] == c->who.user_id;
  *manage = hd_authorize(&c->who, t ? HD_MANAGE : HD_ADMIN, t, &hide);
  if (hide) {
    hd_api_fail(c, 404, NULL, "no user %" PRId64, c->ids[0]);
    return -1;
  }
  return 0;
}

static void refuse(struct hd_call *c, const char *what)
{
  hd_api_fail(c, 403, NULL, "role %s may not %s of user %" PRId64, hd_role_name(c->who.role), what, c->ids[0]);
}

/* Answer with the user as GET shows it. */
static void answer_user(struct hd_call *c, const char *detail)
{
  snprintf(c->detail, sizeof c->detail, "%s", detail);
  char keep[sizeof c->detail];
  memcpy(keep, c->detail, sizeof keep);
  hd_res_get(c, &hd_res_users);
  memcpy(c->detail, keep, sizeof keep);
}

/* The first admin password's file is there to be read once: it goes when
 * that account gets a password someone chose, so no copy of a password in
 * use lies around. */
static void forget_initial(sqlite3 *db, int64_t user)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, NULL, "SELECT 1 FROM users WHERE id = ? AND name = 'admin' AND role = 'admin'", "i", user);
  if (!s || sqlite3_step(s) != SQLITE_ROW)
    return;
  if (unlink(hd_auth_cfg.initial_password) == 0)
    sh_info("the admin password changed: removed %s", hd_auth_cfg.initial_password);
  else if (errno != ENOENT)
    sh_warn("the admin password changed, but %s stays: %s", hd_auth_cfg.initial_password, strerror(errno));
}

void hd_password_put(struct hd_call *c)
{
  static const char *const keys[] = { "password", "current_password", NULL };
  const char *v[2];
  bool self, manage;
  if (strings(c, keys, 1, v) < 0 || password_ok(c, v[0]) < 0 || target(c, &self, &manage) < 0)
    return;
  if (!self && !manage) {
    refuse(c, "set the password");
    return;
  }
  if (self) {
    /* Your own: prove it is you.  A wrong current password counts as a
     * failed login, and a locked account proves nothing: a stolen session
     * is no way to guess the password past the lockout. */
    _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL,
      "SELECT password_hash, coalesce(locked_until, 0) FROM users WHERE id = ?", "i", c->ids[0]);
    bool row = s && sqlite3_step(s) == SQLITE_ROW;
    const char *old = row ? (const char *) sqlite3_column_text(s, 0) : NULL;
    if (old && !v[1]) {
      hd_api_fail(c, 400, "current_password", "current_password: required to change your own password");
      return;
    }
    if (old && locked_out(c, sqlite3_column_int64(s, 1), hd_now()))
      return;
    if (old && !hd_password_verify(v[1], old)) {
      c->failed_user = c->ids[0];
      c->finally = password_finally;
      hd_api_fail(c, 400, "current_password", "current_password: does not match");
      return;
    }
  }
  char hash[HD_PASSWORD_HASH_MAX];
  sh_error e = {0};
  if (hd_password_hash(v[0], hash) < 0) {
    hd_api_fail(c, 500, NULL, "hashing the password failed");
    return;
  }
  if (hd_db_exec(c->db, &e, "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL, etag = etag + 1"
                 " WHERE id = ?", "ti", hash, c->ids[0]) < 0 ||
      hd_sessions_kill(c->db, c->ids[0], self && c->who.session ? c->who.sid : NULL, &e) < 0) {
    hd_api_fail(c, 500, NULL, "setting the password: %s", e.msg);
    return;
  }
  forget_initial(c->db, c->ids[0]);
  answer_user(c, self ? "password changed; other sessions ended" : "password reset; sessions ended, lockout cleared");
}

void hd_totp_post(struct hd_call *c)
{
  bool self, manage;
  if (target(c, &self, &manage) < 0)
    return;
  if (!self) {
    refuse(c, "enroll the TOTP");
    return;
  }
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL, "SELECT name, totp_enabled FROM users WHERE id = ?", "i", c->ids[0]);
  if (!s || sqlite3_step(s) != SQLITE_ROW) {
    hd_api_fail(c, 500, NULL, "reading user %" PRId64 ": %s", c->ids[0], sqlite3_errmsg(c->db));
    return;
  }
  if (sqlite3_column_int(s, 1)) {
    hd_api_fail(c, 409, NULL, "two-factor authentication is on already: DELETE it first to enroll a new secret");
    return;
  }
  char secret[33], uri[160];
  snprintf(uri, sizeof uri, "otpauth://totp/Sandhost:%s?secret=", (const char *) sqlite3_column_text(s, 0));
  sqlite3_reset(s);
  char sealed[HD_SEALED_MAX];
  if (hd_totp_secret(secret) < 0 || hd_seal(secret, c->ids[0], sealed) < 0 ||
      hd_db_exec(c->db, NULL, "UPDATE users SET totp_secret = ?, etag = etag + 1 WHERE id = ?", "ti", sealed, c->ids[0]) < 0) {
    hd_api_fail(c, 500, NULL, "storing the new TOTP secret failed");
    return;
  }
  strcat(uri, secret);
  strcat(uri, "&issuer=Sandhost");
  c->status = 200;
  c->result = json_pack("{s:s, s:s}", "secret", secret, "uri", uri);
  snprintf(c->detail, sizeof c->detail, "TOTP enrollment started");
}

void hd_totp_confirm(struct hd_call *c)
{
  static const char *const keys[] = { "code", NULL };
  const char *code;
  bool self, manage;
  if (strings(c, keys, 1, &code) < 0 || target(c, &self, &manage) < 0)
    return;
  if (!self) {
    refuse(c, "confirm the TOTP");
    return;
  }
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(c->db, NULL, "SELECT totp_secret, totp_enabled FROM users WHERE id = ?", "i",
                                               c->ids[0]);
  bool row = s && sqlite3_step(s) == SQLITE_ROW;
  if (row && sqlite3_column_int(s, 1)) {
    hd_api_fail(c, 409, NULL, "two-factor authentication is on already");
    return;
  }
  if (!row || sqlite3_column_type(s, 0) == SQLITE_NULL) {
    hd_api_fail(c, 400, "code", "code: no enrollment in progress (POST /1.0/users/%" PRId64 "/totp first)", c->ids[0]);
    return;
  }
  char secret[64];
  if (hd_unseal((const char *) sqlite3_column_text(s, 0), c->ids[0], secret, sizeof secret) < 0) {
    hd_api_fail(c, 500, NULL, "the new TOTP secret does not open with this host's key (%s): enroll again", HD_SEAL_KEY_FILE);
    return;
  }
  bool good = hd_totp_check(secret, code, hd_now(), 0, NULL);
  OPENSSL_cleanse(secret, sizeof secret);
  if (!good) {
    hd_api_fail(c, 400, "code", "code: not the current code of the new secret (check the device's clock)");
    return;
  }
  sqlite3_reset(s);
  if (hd_db_exec(c->db, NULL, "UPDATE users SET totp_enabled = 1, totp_last_step = 0, etag = etag + 1 WHERE id = ?", "i", c->ids[0]) < 0) {
    hd_api_fail(c, 500, NULL, "turning TOTP on failed");
    return;
  }
  answer_user(c, "TOTP on");
}

void hd_totp_delete(struct hd_call *c)
{
  bool self, manage;
  if (target(c, &self, &manage) < 0)
    return;
  if (!self && !manage) {
    refuse(c, "turn off the TOTP");
    return;
  }
  if (hd_db_exec(c->db, NULL, "UPDATE users SET totp_enabled = 0, totp_secret = NULL, etag = etag + 1 WHERE id = ?", "i",
                 c->ids[0]) < 0) {
    hd_api_fail(c, 500, NULL, "turning TOTP off failed");
    return;
  }
  c->status = 204;
  snprintf(c->detail, sizeof c->detail, "TOTP off%s", self ? "" : " (reset)");
}

void hd_user_create(struct hd_call *c)
{
  json_t *pw = json_incref(json_object_get(c->body, "password"));
  if (pw && (!json_is_string(pw) || password_ok(c, json_string_value(pw)) < 0)) {
    if (!json_is_string(pw))
      hd_api_fail(c, 400, "password", "password: a string is expected");
    json_decref(pw);
    return;
  }
  json_object_del(c->body, "password");
  hd_res_create(c, &hd_res_users);
  /* Hashed only once the user may be created: no scrypt for refusals. */
  char hash[HD_PASSWORD_HASH_MAX];
  if (pw && c->status == 201) {
    if (hd_password_hash(json_string_value(pw), hash) < 0 ||
        hd_db_exec(c->db, NULL, "UPDATE users SET password_hash = ? WHERE id = ?", "ti", hash, c->ids[0]) < 0)
      hd_api_fail(c, 500, NULL, "setting the password failed");
    else
      json_object_set_new(c->result, "has_password", json_true());
  }
  json_decref(pw);
}

/* ---- the first admin password ---- */

int hd_admin_password_init(sqlite3 *db, const char *state_dir, sh_error *e)
{
  _cleanup_stmt_ sqlite3_stmt *s = hd_db_query(db, e,
    "SELECT count(*) FROM users WHERE role = 'admin' AND password_hash IS NOT NULL", NULL);
  if (!s || sqlite3_step(s) != SQLITE_ROW)
    return hd_db_err(db, SQLITE_ERROR, e, "read users");
  if (sqlite3_column_int(s, 0) > 0)
    return 0;
  char pw[21], hash[HD_PASSWORD_HASH_MAX], path[512];
  if (hd_password_random(pw, 20) < 0 || hd_password_hash(pw, hash) < 0)
    return sh_err(e, EIO, "make the admin password", NULL, "OpenSSL failed");
  snprintf(path, sizeof path, "%s/initial-admin-password", state_dir);
  int r = hd_db_begin(db, e);
  if (r < 0)
    return r;
  r = hd_db_exec(db, e, "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL, etag = etag + 1"
                 " WHERE name = 'admin' AND role = 'admin'", "t", hash);
  if (r == 0) {
    hd_db_rollback(db);
    sh_warn("no admin has a password and there is no admin user named \"admin\": set one with PUT /1.0/users/{id}/password");
    return 0;
  }
  /* The file first: a password nobody can read is never committed. */
  _cleanup_close_ int fd = r < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (r >= 0 && (fd < 0 || fchown(fd, 0, 0) < 0 || fchmod(fd, 0600) < 0 || dprintf(fd, "%s\n", pw) < 0 || fsync(fd) < 0))
    r = sh_errno(e, "write the admin password", path);
  if (r >= 0)
    r = hd_db_commit(db, e);
  if (r < 0) {
    hd_db_rollback(db);
    return r;
  }
  printf("sandhostd: admin password (shown once): %s\n", pw);
  fflush(stdout);
  return 0;
}
