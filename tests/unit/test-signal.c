/* sbx_parse_signal: names with and without SIG, numbers, and garbage. */
#include "sandbox.h"
#include "tap.h"

#include <signal.h>

int main(void)
{
  static const struct { const char *s; int want; } cases[] = {
    {"KILL", SIGKILL}, {"SIGKILL", SIGKILL}, {"SIGTERM", SIGTERM}, {"TERM", SIGTERM},
    {"9", 9}, {"15", 15}, {"HUP", SIGHUP}, {"SIGUSR1", SIGUSR1}, {"WINCH", SIGWINCH},
    {"int", SIGINT}, {"Term", SIGTERM},
    {"bogus", -1}, {"0", -1}, {"-9", -1}, {"", -1}, {"SIG", -1}, {"9x", -1},
    {"65", -1}, {"99999999999999999999", -1}, {"KILLX", -1}, {"SIGSIGKILL", -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    is_int(sbx_parse_signal(cases[i].s), cases[i].want, "sbx_parse_signal(\"%s\") == %d", cases[i].s,
           cases[i].want);
  /* Names match case-insensitively, but the SIG prefix only in upper case
   * (runc upper-cases the whole string first). */
  is_int(sbx_parse_signal("sigint"), SIGINT, "sbx_parse_signal(\"sigint\") == %d", SIGINT);
  is_int(sbx_parse_signal("SigTerm"), SIGTERM, "sbx_parse_signal(\"SigTerm\") == %d", SIGTERM);
  return tap_done();
}
