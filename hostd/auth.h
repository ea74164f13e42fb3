/* Who is asking, and what they may do.  Unix peer credentials of root (or
 * of the configured admin group) are the provider admin; everyone else
 * presents a bearer API token, stored hashed.  hd_authorize is the one
 * function every route goes through. */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"

enum hd_role { HD_ROLE_NONE, HD_ROLE_ADMIN, HD_ROLE_AUDITOR, HD_ROLE_OWNER, HD_ROLE_MEMBER };

/* Why a credential that was presented did not authenticate. */
enum hd_auth_fail { HD_AUTH_OK, HD_AUTH_BAD, HD_AUTH_EXPIRED };

struct hd_principal {
  enum hd_role role;
  int64_t user_id;      /* 0 for unix peers */
  int64_t tenant_id;    /* 0 for admins and auditors */
  char name[80];        /* "unix:uid=0" or the user's name */
  /* Sessions (the portal's logins, hostd/session.c): */
  bool session;         /* authenticated by one: CSRF applies */
  bool must_enroll;     /* its role requires TOTP, not set up yet */
  bool has_sid;         /* a session was presented (valid or not)... */
  uint8_t sid[32];      /* ...with this hash: logout and login drop it */
  char csrf[48];        /* the session's CSRF token */
  enum hd_auth_fail fail;
};

struct hd_config;
/* The rules of logging in, from the configuration (hd_auth_configure);
 * the defaults until then. */
struct hd_auth_settings {
  uint32_t session_idle, session_max, max_failures, lockout, min_password;
  unsigned totp_roles;  /* 1u << enum hd_role for each role that must use TOTP */
  char initial_password[512];  /* <state_dir>/initial-admin-password */
};
extern struct hd_auth_settings hd_auth_cfg;
void hd_auth_configure(const struct hd_config *cfg);
/* "admin,owner" as 1u << role bits in *mask (may be NULL); -EINVAL for
 * anything but role names. */
int hd_role_mask(const char *list, unsigned *mask);
/* prefix and 43 base64url characters of 256 random bits (out: 64 bytes). */
int hd_random_secret(const char *prefix, char out[64]);
/* SHA-256 of a secret, as stored for tokens and sessions. */
int hd_secret_hash(const char *secret, uint8_t out[32]);

/* What a route does to an object. */
enum hd_access {
  HD_READ,              /* see it */
  HD_OPERATE,           /* act on a tenant's containers (members too) */
  HD_MANAGE,            /* change a tenant's users and tokens (owners) */
  HD_ADMIN,             /* provider-wide changes: plans, tenants, images */
};

/* Whether p may do `access` to an object of tenant_id (0: not a tenant's,
 * e.g. a plan).  On no, *hide says the object must look absent (404: it
 * belongs to another tenant) rather than forbidden (403). */
bool hd_authorize(const struct hd_principal *p, enum hd_access access, int64_t tenant_id, bool *hide);

const char *hd_role_name(enum hd_role r);
enum hd_role hd_role_parse(const char *s);

/* The principal of a unix peer: admin for root or a member of admin_gid
 * (-1: none); HD_ROLE_NONE otherwise. */
void hd_auth_peer(uid_t uid, gid_t gid, gid_t admin_gid, struct hd_principal *out);
/* The principal holding a bearer token; -EACCES if it is unknown. */
int hd_auth_token(sqlite3 *db, const char *token, struct hd_principal *out, sh_error *e);
/* A new token for a user: the secret (shown once) in secret[64], its hash
 * stored under name.  The token's id in *id. */
int hd_token_create(sqlite3 *db, int64_t user_id, const char *name, char secret[64], int64_t *id, sh_error *e);
