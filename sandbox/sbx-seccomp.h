/* seccomp from the OCI LinuxSeccomp object, compiled by libseccomp. */
#pragma once
#include <jansson.h>
#include <stddef.h>
#include "error.h"

struct sbx_seccomp {
  unsigned flags;            /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
  void *prog;                /* struct sock_filter[] */
  size_t len;                /* bytes */
  char *cache_path;          /* the cache file it came from or went to, or NULL */
};

/* Compile (or fetch from cache_dir, keyed by a hash of the canonical JSON).
 * cache_dir may be NULL. */
int sbx_seccomp_compile(json_t *spec, const char *cache_dir, struct sbx_seccomp *out, sh_error *e);
/* Load into the calling thread.  Needs no_new_privs or CAP_SYS_ADMIN. */
int sbx_seccomp_load(const struct sbx_seccomp *s, sh_error *e);
int sbx_seccomp_save(const struct sbx_seccomp *s, int dirfd, const char *name, sh_error *e);
int sbx_seccomp_read(int dirfd, const char *name, struct sbx_seccomp *out, sh_error *e);
void sbx_seccomp_clear(struct sbx_seccomp *s);

/* The built-in profiles by name: "default" (system containers) and
 * "strict" (app containers).  *out gets a new reference to the profile's
 * linux.seccomp object; an unknown name is EINVAL, naming it. */
int sbx_seccomp_profile(const char *name, json_t **out, sh_error *e);
