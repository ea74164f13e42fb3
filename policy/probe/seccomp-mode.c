/* NoNewPrivs, Seccomp and Seccomp_filters from /proc/self/status; prctl
 * confirms no_new_privs where the status file is unreadable. */
#include "seccomp-mode.h"
#include "jsonout.h"
#include "procfile.h"
#include "result.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

static json_t *int_field(const char *status, const char *key)
{
  char v[32];
  if (!status || !probe_status_field(status, key, v, sizeof v))
    return json_null();
  char *end;
  long n = strtol(v, &end, 10);
  return end != v && *end == '\0' ? json_integer(n) : probe_json_str(v);
}

void probe_section_seccomp(json_t *root)
{
  static const char *const modes[] = { "disabled", "strict", "filter" };
  char *status = NULL;
  int r = probe_read_file("/proc/self/status", 64 * 1024, &status, NULL);

  json_t *nnp = int_field(status, "NoNewPrivs");
  if (json_is_integer(nnp)) {
    probe_set(root, "no_new_privs", json_boolean(json_integer_value(nnp) != 0));
    json_decref(nnp);
  } else {
    json_decref(nnp);
    int v = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    probe_set(root, "no_new_privs", v < 0 ? json_null() : json_boolean(v));
  }

  json_t *s = json_object();
  json_t *mode = int_field(status, "Seccomp");
  json_int_t m = json_is_integer(mode) ? json_integer_value(mode) : -1;
  probe_set(s, "mode", mode);
  probe_set(s, "mode_name", m >= 0 && m <= 2 ? json_string(modes[m]) : json_null());
  probe_set(s, "filters", int_field(status, "Seccomp_filters"));
  if (r < 0)
    probe_set(s, "error", json_string(probe_errno_name(-r)));
  probe_set(root, "seccomp", s);
  free(status);
}
