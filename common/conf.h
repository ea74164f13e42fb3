/* "key = value" configuration files ('#' starts a comment), read into a
 * struct through a table of keys: each key says where its value goes and
 * what it must be.  sandhostd's and the portal's configurations share it;
 * errors name the file and line (or "--set") and the key. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sh_conf_kind {
  SH_CONF_PATH,    /* an absolute path, shorter than size */
  SH_CONF_NAME,    /* any text shorter than size ("" too) */
  SH_CONF_U32,     /* a number from min to max */
  SH_CONF_OTHER,   /* parse() decides */
};

struct sh_conf_key {
  const char *name;
  enum sh_conf_kind kind;
  size_t off, size;          /* where in the struct, and its size */
  uint32_t min, max;         /* SH_CONF_U32 */
  /* SH_CONF_OTHER: the value into dst, or false; expect says what is wanted. */
  bool (*parse)(const char *value, void *dst);
  const char *expect;
};

/* One "key = value" (a line, or --set's argument) into obj; where names it
 * in errors ("file:line"). */
int sh_conf_set(const struct sh_conf_key *keys, size_t n_keys, void *obj, const char *assignment, const char *where,
                sh_error *e);
/* Every line of the file at path into obj.  A missing file is an error only
 * when required; path NULL reads nothing. */
int sh_conf_load(const struct sh_conf_key *keys, size_t n_keys, void *obj, const char *path, bool required, sh_error *e);
