/* Privilege separation: after binding and loading the certificate as root,
 * the portal becomes its own user with no capabilities (bounding and
 * ambient sets too), no_new_privs, and a seccomp allowlist. */
#pragma once

#include <sys/types.h>
#include "error.h"

/* The user's uid and primary gid; an error naming the user when missing. */
int pt_privsep_lookup(const char *user, uid_t *uid, gid_t *gid, sh_error *e);
/* Become uid:gid (no supplementary groups) and lock it: irreversible. */
int pt_privsep_drop(uid_t uid, gid_t gid, sh_error *e);
/* Allow only the system calls the portal makes from now on; anything
 * else kills the process. */
int pt_privsep_seccomp(sh_error *e);
