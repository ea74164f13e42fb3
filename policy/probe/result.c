/* Outcome names from glibc's own tables (strerrorname_np, sigabbrev_np). */
#include "result.h"

#include <stdio.h>
#include <string.h>

const char *probe_errno_name(int err)
{
  static char fallback[24];
  const char *name = strerrorname_np(err);
  if (name)
    return name;
  snprintf(fallback, sizeof fallback, "E%d", err);
  return fallback;
}

const char *probe_signal_name(int sig)
{
  static char buf[24];
  const char *abbrev = sigabbrev_np(sig);
  if (abbrev)
    snprintf(buf, sizeof buf, "SIG%s", abbrev);
  else
    snprintf(buf, sizeof buf, "SIG%d", sig);
  return buf;
}

const char *probe_result_name(long r)
{
  return r >= 0 ? "ok" : probe_errno_name((int) -r);
}
