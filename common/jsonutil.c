#include "jsonutil.h"
#include "cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sh_json_path(char *buf, size_t len, const char *ctx, const char *key)
{
  if (ctx && *ctx)
    snprintf(buf, len, "%s.%s", ctx, key);
  else
    snprintf(buf, len, "%s", key);
  return buf;
}

int sh_json_check_keys(json_t *obj, const char *const *allowed, const char *ctx, sh_error *e)
{
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    bool ok = false;
    for (const char *const *a = allowed; *a; a++)
      if (strcmp(*a, key) == 0) {
        ok = true;
        break;
      }
    if (!ok) {
      char p[256];
      return sh_err(e, EINVAL, "config", sh_json_path(p, sizeof p, ctx, key),
                    "unknown or unsupported field");
    }
  }
  return 0;
}

static int type_err(sh_error *e, const char *ctx, const char *key, const char *want)
{
  char p[256];
  return sh_err(e, EINVAL, "config", sh_json_path(p, sizeof p, ctx, key), "must be %s", want);
}

int sh_json_get_str(json_t *obj, const char *key, const char *ctx, const char **out, sh_error *e)
{
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_string(v))
    return type_err(e, ctx, key, "a string");
  *out = json_string_value(v);
  return 0;
}

int sh_json_get_bool(json_t *obj, const char *key, const char *ctx, bool *out, sh_error *e)
{
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_boolean(v))
    return type_err(e, ctx, key, "a boolean");
  *out = json_is_true(v);
  return 0;
}

int sh_json_get_i64(json_t *obj, const char *key, const char *ctx, int64_t *out, sh_error *e)
{
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_integer(v))
    return type_err(e, ctx, key, "an integer");
  *out = json_integer_value(v);
  return 0;
}

int sh_json_get_u64(json_t *obj, const char *key, const char *ctx, uint64_t *out, sh_error *e)
{
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v))
    return 0;
  if (json_is_real(v) && json_real_value(v) >= 1.8e19) {
    /* Go runtimes write uint64 max for "unlimited"; sh_json_loads_oci reads it as real. */
    *out = UINT64_MAX;
    return 0;
  }
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return type_err(e, ctx, key, "a non-negative integer");
  *out = (uint64_t) json_integer_value(v);
  return 0;
}

int sh_json_get_obj(json_t *obj, const char *key, const char *ctx, json_t **out, sh_error *e)
{
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_object(v))
    return type_err(e, ctx, key, "an object");
  *out = v;
  return 0;
}

int sh_json_get_arr(json_t *obj, const char *key, const char *ctx, json_t **out, sh_error *e)
{
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_array(v))
    return type_err(e, ctx, key, "an array");
  *out = v;
  return 0;
}

int sh_json_get_strv(json_t *obj, const char *key, const char *ctx, char ***out, sh_error *e)
{
  json_t *arr = NULL;
  int r = sh_json_get_arr(obj, key, ctx, &arr, e);
  if (r < 0 || !arr)
    return r;
  size_t n = json_array_size(arr), i;
  _cleanup_strv_ char **v = calloc(n + 1, sizeof *v);
  if (!v)
    return sh_err(e, ENOMEM, "config", key, NULL);
  json_t *it;
  json_array_foreach(arr, i, it) {
    if (!json_is_string(it)) {
      char p[256], q[300];
      snprintf(q, sizeof q, "%s[%zu]", sh_json_path(p, sizeof p, ctx, key), i);
      return sh_err(e, EINVAL, "config", q, "must be a string");
    }
    v[i] = strdup(json_string_value(it));
    if (!v[i])
      return sh_err(e, ENOMEM, "config", key, NULL);
  }
  *out = steal_ptr(v);
  return 0;
}

/* True when the digits [p, end) (after an optional '-') exceed the int64 range. */
static bool beyond_int64(const char *p, const char *end)
{
  bool neg = *p == '-';
  if (neg)
    p++;
  while (p < end - 1 && *p == '0')
    p++;
  size_t n = (size_t) (end - p);
  const char *lim = neg ? "9223372036854775808" : "9223372036854775807";
  if (n != 19)
    return n > 19;
  return strncmp(p, lim, 19) > 0;
}

json_t *sh_json_loads_oci(const char *text, size_t flags, json_error_t *je)
{
  size_t len = strlen(text), extra = 0;
  /* First pass: count the integers that need a ".0". */
  for (int pass = 0; pass < 2; pass++) {
    char *out = NULL, *o = NULL;
    if (pass == 1) {
      if (!extra)
        return json_loads(text, flags, je);
      out = o = malloc(len + 2 * extra + 1);
      if (!out)
        return json_loads(text, flags, je);
    }
    for (const char *p = text; *p;) {
      if (*p == '"') {
        const char *q = p + 1;
        while (*q && *q != '"')
          q += (*q == '\\' && q[1]) ? 2 : 1;
        if (*q)
          q++;
        if (o) {
          memcpy(o, p, (size_t) (q - p));
          o += q - p;
        }
        p = q;
        continue;
      }
      if (*p == '-' || (*p >= '0' && *p <= '9')) {
        const char *q = p + (*p == '-');
        while (*q >= '0' && *q <= '9')
          q++;
        bool integer = *q != '.' && *q != 'e' && *q != 'E';
        bool big = integer && q > p + (*p == '-') && beyond_int64(p, q);
        if (o) {
          memcpy(o, p, (size_t) (q - p));
          o += q - p;
          if (big) {
            memcpy(o, ".0", 2);
            o += 2;
          }
        } else if (big) {
          extra++;
        }
        p = q;
        continue;
      }
      if (o)
        *o++ = *p;
      p++;
    }
    if (o) {
      *o = '\0';
      json_t *j = json_loads(out, flags, je);
      free(out);
      return j;
    }
  }
  return NULL;
}
