/* The portal's side of the API: logging in and out, passwords and TOTP
 * (issue 7; docs/hostd.md "Logins").  Sessions are in hostd/session.c,
 * hashing in hostd/password.c, codes in hostd/totp.c. */
#pragma once

#include "api.h"

void hd_login(struct hd_call *c);          /* POST /1.0/auth/login */
/* Before a login's write transaction: its password against the stored hash,
 * so the scrypt holds no lock (hd_login uses the answer if the hash is the
 * same inside the transaction, and checks again if not). */
void hd_login_prepare(struct hd_call *c);
void hd_logout(struct hd_call *c);         /* POST /1.0/auth/logout */
void hd_session_get(struct hd_call *c);    /* GET /1.0/auth/session */
void hd_password_put(struct hd_call *c);   /* PUT /1.0/users/{id}/password */
void hd_totp_post(struct hd_call *c);      /* POST /1.0/users/{id}/totp */
void hd_totp_confirm(struct hd_call *c);   /* POST /1.0/users/{id}/totp/confirm */
void hd_totp_delete(struct hd_call *c);    /* DELETE /1.0/users/{id}/totp */
void hd_user_create(struct hd_call *c);    /* POST /1.0/users, with an optional password */
/* At start: if no admin has a password, the user "admin" gets a random one,
 * printed once and written to <state_dir>/initial-admin-password (0600). */
int hd_admin_password_init(sqlite3 *db, const char *state_dir, sh_error *e);
