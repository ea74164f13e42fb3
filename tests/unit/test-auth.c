/* Logins without a daemon: TOTP against RFC 6238's vectors, base32,
 * scrypt hashes (a wrong password, a tampered hash), and the login flow
 * through hd_api_handle: sessions, CSRF, lockout, TOTP, rotation. */
#include "tap.h"
#include "api.h"
#include "cleanup.h"
#include "db.h"
#include "password.h"
#include "session.h"
#include "seal.h"
#include "totp.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3 *db;

/* One call; its status, the result kept in *out (may be NULL). */
static int call(const struct hd_principal *who, const char *method, const char *path, const char *body, const char *csrf,
                struct hd_call *out)
{
  json_error_t je;
  struct hd_call c = { .db = db, .who = *who, .method = method, .path = path, .source = "test", .csrf = csrf,
                       .body = body ? json_loads(body, 0, &je) : NULL };
  hd_api_handle(&c);
  json_decref(c.body);
  c.body = NULL;
  int st = c.status;
  if (out)
    *out = c;
  else
    hd_call_clear(&c);
  return st;
}

static const char *code_of(const struct hd_call *c)
{
  return json_string_value(json_object_get(json_object_get(c->result, "error"), "code"));
}

static struct hd_principal by_session(const char *secret)
{
  struct hd_principal p;
  sh_error e = {0};
  hd_auth_session(db, secret, &p, &e);
  return p;
}

int main(void)
{
  /* ---- TOTP: RFC 6238 appendix B, SHA-1, 8 digits ---- */
  static const uint8_t key[] = "12345678901234567890";
  static const struct { int64_t t; uint32_t code; } vec[] = {
    { 59, 94287082 }, { 1111111109, 7081804 }, { 1111111111, 14050471 }, { 1234567890, 89005924 },
    { 2000000000, 69279037 }, { 20000000000, 65353130 },
  };
  for (size_t i = 0; i < SH_ARRAY_SIZE(vec); i++)
    is_int(hd_hotp(key, 20, (uint64_t) (vec[i].t / 30), 8), vec[i].code, "RFC 6238 SHA-1 at T=%lld", (long long) vec[i].t);
  is_int(hd_totp(key, 20, 59), 287082, "6 digits: the last six (RFC 4226's HOTP at counter 1)");
  char b32[64];
  hd_base32_encode(key, 20, b32);
  is_str(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "base32 of the RFC's key");
  uint8_t back[32];
  ok(hd_base32_decode("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", back, sizeof back) == 20 && memcmp(back, key, 20) == 0,
     "base32 decodes (lower case too)");
  ok(hd_base32_decode("GEZ1", back, sizeof back) < 0, "a non-base32 character is refused");
  int64_t step = -1;
  ok(hd_totp_check(b32, "287082", 59, 0, &step), "the code of the step is accepted");
  is_int(step, 1, "step 1 (30..59)");
  ok(hd_totp_check(b32, "287082", 59 + 30, 0, NULL), "and one step later");
  ok(!hd_totp_check(b32, "287082", 59 + 60, 0, NULL), "not two steps later");
  ok(!hd_totp_check(b32, "287082", 59, 1, NULL), "nor once its step was used");
  ok(!hd_totp_check(b32, "28708", 59, 0, NULL) && !hd_totp_check(b32, "28708a", 59, 0, NULL), "a code that is not 6 digits is refused");
  char secret[33];
  ok(hd_totp_secret(secret) == 0 && strlen(secret) == 32, "a new secret is 32 base32 characters: %s", secret);

  /* ---- passwords ---- */
  char h[HD_PASSWORD_HASH_MAX], h2[HD_PASSWORD_HASH_MAX];
  is_int(hd_password_hash("correct horse", h), 0, "hash a password: %s", h);
  ok(strncmp(h, "scrypt$32768$8$1$", 17) == 0, "stored as scrypt$N$r$p$salt$hash");
  ok(hd_password_verify("correct horse", h), "the right password verifies");
  ok(!hd_password_verify("correct horsE", h), "a wrong password does not");
  hd_password_hash("correct horse", h2);
  ok(strcmp(h, h2) != 0, "two hashes of the same password differ (salt)");
  char t[HD_PASSWORD_HASH_MAX];
  snprintf(t, sizeof t, "%s", h);
  t[strlen(t) - 5] = t[strlen(t) - 5] == 'A' ? 'B' : 'A';
  ok(!hd_password_verify("correct horse", t), "a tampered hash does not verify");
  ok(!hd_password_verify("correct horse", "scrypt$1048576$8$1$AAAA$AAAA"), "nor one with other parameters");
  ok(!hd_password_verify("correct horse", "plain") && !hd_password_verify("", NULL), "nor garbage, nor no hash");
  char rnd[21];
  ok(hd_password_random(rnd, 20) == 0 && strlen(rnd) == 20, "a random password: %s", rnd);

  /* ---- the login flow ---- */
  sh_error e = {0};
  hd_db_open(":memory:", &db, &e);
  char dir[] = "/tmp/sandhost-seal-XXXXXX";
  ok(mkdtemp(dir) && hd_seal_init(db, dir, &e) == 0, "the TOTP key made in a state dir (%s)", e.msg);
  hd_auth_cfg.max_failures = 3;
  hd_auth_cfg.totp_roles = 1u << HD_ROLE_AUDITOR;
  struct hd_principal root = { .role = HD_ROLE_ADMIN, .name = "unix:uid=0" }, anon = { .role = HD_ROLE_NONE, .name = "anonymous" };
  struct hd_call c;
  is_int(call(&root, "POST", "/1.0/users", "{\"name\":\"ann\",\"role\":\"admin\",\"password\":\"short\"}", NULL, &c), 400,
         "a password below password_min_length is refused");
  is_str(json_string_value(json_object_get(json_object_get(c.result, "error"), "field")), "password", "naming the field");
  hd_call_clear(&c);
  is_int(call(&root, "POST", "/1.0/users", "{\"name\":\"ann\",\"role\":\"admin\",\"password\":\"ann-password\"}", NULL, &c), 201,
         "a user created with a password");
  ok(json_is_true(json_object_get(c.result, "has_password")) && json_is_false(json_object_get(c.result, "totp_enabled")),
     "has_password, totp_enabled in the user");
  int64_t ann = json_integer_value(json_object_get(c.result, "id"));
  hd_call_clear(&c);

  is_int(call(&anon, "POST", "/1.0/auth/login", "{\"name\":\"ann\"}", NULL, &c), 400, "login without a password: 400");
  hd_call_clear(&c);
  is_int(call(&anon, "POST", "/1.0/auth/login", "{\"name\":\"ann\",\"password\":\"ann-password\"}", NULL, &c), 200,
         "login with the right password");
  ok(c.set_session && strncmp(c.session_out, "shs_", 4) == 0 && strlen(c.session_out) == 47, "the session is shs_ + 43 chars");
  _cleanup_free_ char *body = json_dumps(c.result, 0);
  ok(!strstr(body, c.session_out), "and not in the body");
  char sess[64], csrf[64];
  snprintf(sess, sizeof sess, "%s", c.session_out);
  snprintf(csrf, sizeof csrf, "%s", json_string_value(json_object_get(c.result, "csrf")));
  hd_call_clear(&c);
  struct hd_principal s1 = by_session(sess);
  ok(s1.session && s1.role == HD_ROLE_ADMIN && s1.user_id == ann, "the session authenticates as ann");
  is_int(call(&s1, "GET", "/1.0/auth/session", NULL, NULL, &c), 200, "GET /1.0/auth/session");
  is_str(json_string_value(json_object_get(c.result, "csrf")), csrf, "shows the session's csrf");
  hd_call_clear(&c);
  is_int(call(&s1, "POST", "/1.0/tenants", "{\"name\":\"x\",\"plan_id\":1}", NULL, &c), 403, "a POST without X-CSRF-Token: 403");
  is_str(code_of(&c), "csrf", "code csrf");
  hd_call_clear(&c);
  is_int(call(&s1, "PATCH", "/1.0/users/1", "{}", "wrong", NULL), 403, "a wrong token: 403");
  ok(call(&s1, "PATCH", "/1.0/users/1", "{}", csrf, NULL) == 200, "the right one: the request runs");

  /* rotation */
  is_int(call(&s1, "POST", "/1.0/auth/login", "{\"name\":\"ann\",\"password\":\"ann-password\"}", NULL, &c), 200,
         "a second login carrying the session");
  char sess2[64];
  snprintf(sess2, sizeof sess2, "%s", c.session_out);
  hd_call_clear(&c);
  struct hd_principal old = by_session(sess);
  ok(old.role == HD_ROLE_NONE && old.fail == HD_AUTH_EXPIRED, "the old session is gone");
  is_int(call(&old, "GET", "/1.0/containers", NULL, NULL, &c), 401, "a gone session: 401");
  is_str(code_of(&c), "session_expired", "code session_expired");
  hd_call_clear(&c);

  /* lockout */
  for (int i = 0; i < 3; i++)
    is_int(call(&anon, "POST", "/1.0/auth/login", "{\"name\":\"ann\",\"password\":\"wrong-password\"}", NULL, &c), 401,
           "wrong password %d: 401", i + 1), hd_call_clear(&c);
  is_int(call(&anon, "POST", "/1.0/auth/login", "{\"name\":\"ann\",\"password\":\"ann-password\"}", NULL, &c), 429,
         "locked after 3: the right password gets 429");
  ok(c.retry_after > 0 && c.retry_after <= 30, "Retry-After %d", c.retry_after);
  is_str(code_of(&c), "locked", "code locked");
  hd_call_clear(&c);
  hd_db_exec(db, &e, "UPDATE users SET locked_until = 1 WHERE id = ?", "i", ann);
  is_int(call(&anon, "POST", "/1.0/auth/login", "{\"name\":\"ann\",\"password\":\"wrong-password\"}", NULL, NULL), 401,
         "after the lock, another failure...");
  _cleanup_stmt_ sqlite3_stmt *q = hd_db_query(db, &e, "SELECT locked_until - ? FROM users WHERE id = ?", "ii", hd_now(), ann);
  sqlite3_step(q);
  ok(sqlite3_column_int64(q, 0) > 30 && sqlite3_column_int64(q, 0) <= 60, "...locks twice as long (%lld s)",
     (long long) sqlite3_column_int64(q, 0));
  sqlite3_reset(q);
  hd_db_exec(db, &e, "UPDATE users SET locked_until = 1 WHERE id = ?", "i", ann);
  /* A name nobody has locks the same way: the lockout tells no names. */
  for (int i = 0; i < 3; i++)
    is_int(call(&anon, "POST", "/1.0/auth/login", "{\"name\":\"nobody\",\"password\":\"wrong-password\"}", NULL, &c), 401,
           "an unknown name %d: 401", i + 1), hd_call_clear(&c);
  is_int(call(&anon, "POST", "/1.0/auth/login", "{\"name\":\"nobody\",\"password\":\"wrong-password\"}", NULL, &c), 429,
         "then 429, as for a real name");
  is_str(code_of(&c), "locked", "code locked");
  ok(c.retry_after > 0 && c.retry_after <= 30, "Retry-After %d", c.retry_after);
  hd_call_clear(&c);

  /* TOTP */
  struct hd_principal s2 = by_session(sess2);
  char path[64];
  snprintf(path, sizeof path, "/1.0/users/%lld/totp", (long long) ann);
  is_int(call(&s2, "POST", path, NULL, csrf, &c), 403, "the old csrf does not fit the new session");
  hd_call_clear(&c);
  snprintf(csrf, sizeof csrf, "%s", s2.csrf);
  is_int(call(&s2, "POST", path, NULL, csrf, &c), 200, "TOTP enrollment");
  char sec[40];
  snprintf(sec, sizeof sec, "%s", json_string_value(json_object_get(c.result, "secret")));
  like(json_string_value(json_object_get(c.result, "uri")), "otpauth://totp/Sandhost:ann?secret=", "with an otpauth URI");
  hd_call_clear(&c);
  uint8_t k[32];
  int kl = hd_base32_decode(sec, k, sizeof k);
  char code[8], body2[200];
  snprintf(code, sizeof code, "%06u", hd_totp(k, (size_t) kl, hd_now()));
  snprintf(path, sizeof path, "/1.0/users/%lld/totp/confirm", (long long) ann);
  snprintf(body2, sizeof body2, "{\"code\":\"%06u\"}", (hd_totp(k, (size_t) kl, hd_now()) + 1) % 1000000);
  is_int(call(&s2, "POST", path, body2, csrf, NULL), 400, "confirm with a wrong code: 400");
  snprintf(body2, sizeof body2, "{\"code\":\"%s\"}", code);
  is_int(call(&s2, "POST", path, body2, csrf, NULL), 200, "confirm with the right code");
  is_int(call(&anon, "POST", "/1.0/auth/login", "{\"name\":\"ann\",\"password\":\"ann-password\"}", NULL, &c), 401,
         "now a login without a code: 401");
  is_str(code_of(&c), "totp_required", "totp_required");
  hd_call_clear(&c);
  snprintf(body2, sizeof body2, "{\"name\":\"ann\",\"password\":\"ann-password\",\"totp\":\"%06u\"}",
           (hd_totp(k, (size_t) kl, hd_now()) + 1) % 1000000);
  is_int(call(&anon, "POST", "/1.0/auth/login", body2, NULL, &c), 401, "with a wrong code: 401");
  is_str(code_of(&c), "bad_totp", "bad_totp");
  hd_call_clear(&c);
  hd_db_exec(db, &e, "UPDATE users SET locked_until = 1 WHERE id = ?", "i", ann);   /* as if the backoff had passed */
  snprintf(body2, sizeof body2, "{\"name\":\"ann\",\"password\":\"ann-password\",\"totp\":\"%s\"}", code);
  is_int(call(&anon, "POST", "/1.0/auth/login", body2, NULL, NULL), 200, "with the right one: 200");
  is_int(call(&anon, "POST", "/1.0/auth/login", body2, NULL, &c), 401, "the same code a second time: 401");
  is_str(code_of(&c), "bad_totp", "bad_totp (a code logs in once)");
  hd_call_clear(&c);

  /* an auditor must enroll first */
  is_int(call(&root, "POST", "/1.0/users", "{\"name\":\"sec\",\"role\":\"auditor\",\"password\":\"sec-password\"}", NULL, &c),
         201, "an auditor (totp_required_roles=auditor)");
  int64_t secid = json_integer_value(json_object_get(c.result, "id"));
  hd_call_clear(&c);
  is_int(call(&anon, "POST", "/1.0/auth/login", "{\"name\":\"sec\",\"password\":\"sec-password\"}", NULL, &c), 200, "logs in");
  ok(json_is_true(json_object_get(c.result, "must_enroll_totp")), "must_enroll_totp");
  char sess3[64];
  snprintf(sess3, sizeof sess3, "%s", c.session_out);
  struct hd_principal s3 = by_session(sess3);
  hd_call_clear(&c);
  is_int(call(&s3, "GET", "/1.0/containers", NULL, NULL, &c), 403, "and may not list containers");
  is_str(code_of(&c), "totp_enrollment_required", "totp_enrollment_required");
  hd_call_clear(&c);
  snprintf(path, sizeof path, "/1.0/users/%lld/totp", (long long) secid);
  is_int(call(&s3, "POST", path, NULL, s3.csrf, NULL), 200, "but may enroll");
  is_int(call(&s3, "GET", "/1.0/auth/session", NULL, NULL, NULL), 200, "and read its session");

  /* passwords */
  snprintf(path, sizeof path, "/1.0/users/%lld/password", (long long) secid);
  is_int(call(&s3, "PUT", path, "{\"password\":\"new-sec-password\"}", s3.csrf, &c), 403,
         "its own password is not among what it may do before enrolling");
  hd_call_clear(&c);
  snprintf(path, sizeof path, "/1.0/users/%lld/password", (long long) ann);
  s2 = by_session(sess2);
  hd_db_exec(db, &e, "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", "i", ann);   /* a clean count */
  is_int(call(&s2, "PUT", path, "{\"password\":\"new-ann-password\"}", s2.csrf, &c), 400, "your own password needs the current one");
  is_str(json_string_value(json_object_get(json_object_get(c.result, "error"), "field")), "current_password", "current_password");
  hd_call_clear(&c);
  is_int(call(&s2, "PUT", path, "{\"password\":\"new-ann-password\",\"current_password\":\"nope-nope-nope\"}", s2.csrf,
              NULL), 400, "and the right one");
  /* Wrong current passwords count as failed logins: a stolen session is no
   * way around the lockout (max_failures is 3 here; one failed above). */
  for (int i = 0; i < 2; i++)
    is_int(call(&s2, "PUT", path, "{\"password\":\"new-ann-password\",\"current_password\":\"nope-nope-nope\"}",
                s2.csrf, NULL), 400, "another wrong current password (%d)", i + 2);
  is_int(call(&s2, "PUT", path, "{\"password\":\"new-ann-password\",\"current_password\":\"ann-password\"}", s2.csrf, &c),
         429, "then the account is locked: even the right one gets 429");
  is_str(code_of(&c), "locked", "code locked");
  hd_call_clear(&c);
  is_int(call(&anon, "POST", "/1.0/auth/login", "{\"name\":\"ann\",\"password\":\"ann-password\"}", NULL, NULL), 429,
         "and so does a login");
  hd_db_exec(db, &e, "UPDATE users SET locked_until = 1 WHERE id = ?", "i", ann);   /* as if the backoff had passed */
  is_int(call(&s2, "PUT", path, "{\"password\":\"new-ann-password\",\"current_password\":\"ann-password\"}", s2.csrf,
              NULL), 200, "with it the password changes");
  ok(by_session(sess2).session, "the session that changed it lives on");
  snprintf(path, sizeof path, "/1.0/users/%lld/password", (long long) secid);
  is_int(call(&root, "PUT", path, "{\"password\":\"new-sec-password\"}", NULL, NULL), 200, "an admin resets without it");
  ok(by_session(sess3).role == HD_ROLE_NONE, "and the user's sessions ended");
  sqlite3_finalize(steal_ptr(q));
  /* ---- TOTP secrets sealed at rest ---- */
  char sealed[HD_SEALED_MAX], opened[64], keyfile[600];
  ok(hd_seal("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 7, sealed) == 0 && strncmp(sealed, "v1:", 3) == 0 && !strstr(sealed, "JBSWY3DP"),
     "a secret sealed: v1:, and not in clear (%s)", sealed);
  ok(hd_unseal(sealed, 7, opened, sizeof opened) == 0 && strcmp(opened, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP") == 0, "opens for its user");
  is_int(hd_unseal(sealed, 8, opened, sizeof opened), -EBADMSG, "not for another user (a row copied over)");
  char tampered[HD_SEALED_MAX];
  snprintf(tampered, sizeof tampered, "%s", sealed);
  tampered[10] = tampered[10] == '0' ? '1' : '0';
  is_int(hd_unseal(tampered, 7, opened, sizeof opened), -EBADMSG, "nor changed");
  is_int(hd_unseal("JBSWY3DPEHPK3PXP", 7, opened, sizeof opened), -EBADMSG, "a secret in clear does not open");
  _cleanup_stmt_ sqlite3_stmt *st = hd_db_query(db, &e, "SELECT count(*), sum(totp_secret LIKE 'v1:%') FROM users WHERE totp_secret IS NOT NULL", NULL);
  ok(st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0 && sqlite3_column_int(st, 0) == sqlite3_column_int(st, 1),
     "every TOTP secret the flows above stored is sealed");
  sqlite3_reset(st);
  /* An earlier version's database: secrets in clear, sealed at start. */
  sqlite3 *older = NULL;
  hd_db_open(":memory:", &older, &e);
  hd_db_exec(older, &e, "INSERT INTO users (id, name, role, totp_secret, created_at) VALUES (5, 'old', 'admin', 'JBSWY3DPEHPK3PXP', 0)", NULL);
  ok(hd_seal_init(older, dir, &e) == 0, "a second start reads the same key (%s)", e.msg);
  _cleanup_stmt_ sqlite3_stmt *o = hd_db_query(older, &e, "SELECT totp_secret FROM users WHERE id = 5", NULL);
  ok(o && sqlite3_step(o) == SQLITE_ROW && hd_unseal((const char *) sqlite3_column_text(o, 0), 5, opened, sizeof opened) == 0 &&
     strcmp(opened, "JBSWY3DPEHPK3PXP") == 0, "and seals the secret stored in clear, which opens as it was");
  sqlite3_reset(o);
  ok(hd_unseal(sealed, 7, opened, sizeof opened) == 0, "what the first start sealed still opens");
  snprintf(keyfile, sizeof keyfile, "%s/" HD_SEAL_KEY_FILE, dir);
  struct stat ks;
  ok(stat(keyfile, &ks) == 0 && (ks.st_mode & 0777) == 0600 && ks.st_size == 32, "the key file: 32 bytes, 0600");
  chmod(keyfile, 0644);
  sh_error_clear(&e);
  ok(hd_seal_init(older, dir, &e) < 0 && strstr(e.msg, "0600") && strstr(e.path, HD_SEAL_KEY_FILE), "a key others can read is refused, naming it (%s: %s)",
     e.path, e.msg);
  sqlite3_close(older);
  unlink(keyfile);
  rmdir(dir);
  sqlite3_close(db);

  return tap_done();
}
