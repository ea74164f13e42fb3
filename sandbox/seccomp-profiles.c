/* The seccomp profiles of policy/seccomp, compiled into the runtime so a
 * spec needs no data files: "default" for system containers, "strict" for
 * app containers (docs/seccomp.md). */
#include "sbx-seccomp.h"
#include "cleanup.h"
#include "seccomp-default.h"
#include "seccomp-strict.h"

#include <errno.h>
#include <string.h>

static const struct { const char *name, *json, *source; } profiles[] = {
  {"default", sbx_seccomp_default_json, "policy/seccomp/default.json"},
  {"strict", sbx_seccomp_strict_json, "policy/seccomp/strict.json"},
};

int sbx_seccomp_profile(const char *name, json_t **out, sh_error *e)
{
  for (size_t i = 0; i < SH_ARRAY_SIZE(profiles); i++) {
    if (strcmp(profiles[i].name, name) != 0)
      continue;
    json_error_t je;
    *out = json_loads(profiles[i].json, 0, &je);
    return *out ? 0 : sh_err(e, EINVAL, "seccomp profile", profiles[i].source, "embedded profile: %s", je.text);
  }
  return sh_err(e, EINVAL, "seccomp profile", name, "no such profile (default, strict)");
}
