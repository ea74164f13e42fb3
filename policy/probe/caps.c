/* Capability sets, their names, and what the bounding set has dropped. */
#include "caps.h"
#include "capnames.h"
#include "jsonout.h"
#include "procfile.h"
#include "result.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool probe_parse_capset(const char *hex, uint64_t *out)
{
  size_t n = strlen(hex);
  if (n == 0 || n > 16 || strspn(hex, "0123456789abcdefABCDEF") != n)
    return false;
  *out = strtoull(hex, NULL, 16);
  return true;
}

json_t *probe_cap_names(uint64_t set)
{
  json_t *arr = json_array();
  for (int cap = 0; cap < 64; cap++) {
    if (!(set & (1ULL << cap)))
      continue;
    const char *name = sh_cap_name(cap);
    char buf[16];
    if (!name) {
      snprintf(buf, sizeof buf, "CAP_%d", cap);
      name = buf;
    }
    probe_append(arr, json_string(name));
  }
  return arr;
}

/* cap_last_cap of the running kernel, else the last these headers know. */
static int last_cap(void)
{
  char *text = NULL;
  int last = sh_cap_last();
  if (probe_read_file("/proc/sys/kernel/cap_last_cap", 32, &text, NULL) == 0) {
    int k = atoi(text);
    if (k > 0 && k < 64)
      last = k;
    free(text);
  }
  return last;
}

json_t *probe_section_capabilities(void)
{
  static const struct { const char *key, *field; } sets[] = {
    {"inheritable", "CapInh"}, {"permitted", "CapPrm"}, {"effective", "CapEff"},
    {"bounding", "CapBnd"}, {"ambient", "CapAmb"},
  };
  char *status = NULL;
  int r = probe_read_file("/proc/self/status", 64 * 1024, &status, NULL);
  if (r < 0)
    return json_pack("{s:s}", "error", probe_errno_name(-r));
  json_t *o = json_object();
  int last = last_cap();
  probe_set(o, "last_cap", json_integer(last));
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
    char hex[64];
    uint64_t v;
    if (!probe_status_field(status, sets[i].field, hex, sizeof hex) || !probe_parse_capset(hex, &v)) {
      probe_set(o, sets[i].key, json_null());
      continue;
    }
    probe_set(o, sets[i].key, json_pack("{s:s, s:o}", "hex", hex, "names", probe_cap_names(v)));
    if (!strcmp(sets[i].key, "bounding")) {
      uint64_t all = last >= 63 ? UINT64_MAX : (1ULL << (last + 1)) - 1;
      probe_set(o, "dropped", probe_cap_names(all & ~v));
    }
  }
  free(status);
  return o;
}
