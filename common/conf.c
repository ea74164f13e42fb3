/* "key = value" configuration files through a table of keys (conf.h). */
#include "conf.h"

#include "cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
  while (isspace((unsigned char) *s))
    s++;
  char *end = s + strlen(s);
  while (end > s && isspace((unsigned char) end[-1]))
    *--end = 0;
  return s;
}

static int set_kv(const struct sh_conf_key *keys, size_t n_keys, void *obj, const char *k, const char *v, const char *where,
                  sh_error *e)
{
  for (size_t i = 0; i < n_keys; i++) {
    const struct sh_conf_key *key = &keys[i];
    if (strcmp(key->name, k) != 0)
      continue;
    char *dst = (char *) obj + key->off;
    switch (key->kind) {
    case SH_CONF_PATH:
      if (v[0] != '/' || strlen(v) >= key->size)
        return sh_err(e, EINVAL, "read configuration", where, "%s: an absolute path shorter than %zu characters", k, key->size);
      break;
    case SH_CONF_NAME:
      if (strlen(v) >= key->size)
        return sh_err(e, EINVAL, "read configuration", where, "%s: at most %zu characters", k, key->size - 1);
      break;
    case SH_CONF_U32: {
      char *end;
      errno = 0;
      unsigned long long x = strtoull(v, &end, 10);
      if (errno || end == v || *end || x < key->min || x > key->max)
        return sh_err(e, EINVAL, "read configuration", where, "%s: a number from %u to %u", k, key->min, key->max);
      uint32_t u = (uint32_t) x;
      memcpy(dst, &u, sizeof u);
      return 0;
    }
    case SH_CONF_OTHER:
      if (!key->parse(v, dst))
        return sh_err(e, EINVAL, "read configuration", where, "%s: %s", k, key->expect);
      return 0;
    }
    snprintf(dst, key->size, "%s", v);
    return 0;
  }
  return sh_err(e, EINVAL, "read configuration", where, "%s: unknown key", k);
}

int sh_conf_set(const struct sh_conf_key *keys, size_t n_keys, void *obj, const char *assignment, const char *where,
                sh_error *e)
{
  _cleanup_free_ char *copy = strdup(assignment);
  if (!copy)
    return sh_err(e, ENOMEM, "read configuration", where, NULL);
  char *eq = strchr(copy, '=');
  if (!eq)
    return sh_err(e, EINVAL, "read configuration", where, "\"%s\": key = value expected", assignment);
  *eq = 0;
  return set_kv(keys, n_keys, obj, trim(copy), trim(eq + 1), where, e);
}

int sh_conf_load(const struct sh_conf_key *keys, size_t n_keys, void *obj, const char *path, bool required, sh_error *e)
{
  _cleanup_fclose_ FILE *f = path ? fopen(path, "re") : NULL;
  if (!f) {
    if (path && (required || errno != ENOENT))
      return sh_errno(e, "read configuration", path);
    return 0;
  }
  char line[1024];
  for (int n = 1; fgets(line, sizeof line, f); n++) {
    char where[300];
    snprintf(where, sizeof where, "%s:%d", path, n);
    char *hash = strchr(line, '#');
    if (hash)
      *hash = 0;
    char *s = trim(line);
    if (!*s)
      continue;
    int r = sh_conf_set(keys, n_keys, obj, s, where, e);
    if (r < 0)
      return r;
  }
  return 0;
}
