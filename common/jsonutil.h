/* Strict JSON reading over jansson: every field is known or an error that
 * names it with its full path ("process.capabilities.bounding[3]"). */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include <stdbool.h>
#include "error.h"

static inline void sh_json_decrefp(json_t **j) { if (*j) json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(sh_json_decrefp)))

/* json_loads() for documents written by Go runtimes: integers beyond the
 * int64 range (uint64 max means "unlimited") are read as reals instead of
 * failing the whole parse; the getters turn them into "unlimited". */
json_t *sh_json_loads_oci(const char *text, size_t flags, json_error_t *je);

/* Fail with EINVAL naming ctx.key for any key of obj not in allowed (NULL-terminated). */
int sh_json_check_keys(json_t *obj, const char *const *allowed, const char *ctx, sh_error *e);

/* Typed getters: absent is fine (returns 0 and leaves *out); a wrong type is an error. */
int sh_json_get_str(json_t *obj, const char *key, const char *ctx, const char **out, sh_error *e);
int sh_json_get_bool(json_t *obj, const char *key, const char *ctx, bool *out, sh_error *e);
int sh_json_get_i64(json_t *obj, const char *key, const char *ctx, int64_t *out, sh_error *e);
int sh_json_get_u64(json_t *obj, const char *key, const char *ctx, uint64_t *out, sh_error *e);
int sh_json_get_obj(json_t *obj, const char *key, const char *ctx, json_t **out, sh_error *e);
int sh_json_get_arr(json_t *obj, const char *key, const char *ctx, json_t **out, sh_error *e);
/* Array of strings into a malloc'd NULL-terminated vector. */
int sh_json_get_strv(json_t *obj, const char *key, const char *ctx, char ***out, sh_error *e);

/* Write "ctx.key" into buf. */
const char *sh_json_path(char *buf, size_t len, const char *ctx, const char *key);
