/* libFuzzer: the network-policy language (policy/netpolicy.c).  Beyond not
 * crashing, the canonical text must round-trip: parse(format(p)) formats
 * to the same text, and errors name a position. */
#include "fuzz.h"
#include "netpolicy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_text(data, size);
  struct sh_netpolicy p = {0};
  sh_error e = {0};
  if (sh_netpolicy_parse(text, &p, &e) == 0) {
    char *canon = sh_netpolicy_format(&p);
    FUZZ_CHECK(canon != NULL, "format failed");
    struct sh_netpolicy q = {0};
    sh_error e2 = {0};
    FUZZ_CHECK(sh_netpolicy_parse(canon, &q, &e2) == 0, "canonical text does not parse: %s: %s\n%s", e2.path, e2.msg, canon);
    char *again = sh_netpolicy_format(&q);
    FUZZ_CHECK(again && strcmp(canon, again) == 0, "format is not stable:\n%s---\n%s", canon, again ? again : "(null)");
    FUZZ_CHECK(p.n_rules == q.n_rules && p.n_forwards == q.n_forwards, "rules %zu/%zu forwards %zu/%zu",
               p.n_rules, q.n_rules, p.n_forwards, q.n_forwards);
    free(again);
    free(canon);
    sh_netpolicy_clear(&q);
  } else {
    FUZZ_CHECK(e.err != 0, "a failed parse must say why");
  }
  sh_netpolicy_clear(&p);
  free(text);
  return 0;
}
