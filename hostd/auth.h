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

struct hd_principal {
  enum hd_role role;
  int64_t user_id;      /* 0 for unix peers */
  int64_t tenant_id;    /* 0 for admins and auditors */
  char name[80];        /* "unix:uid=0" or the user's name */
};

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
