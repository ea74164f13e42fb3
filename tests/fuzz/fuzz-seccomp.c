/* libFuzzer: the seccomp profile parser and compiler (sandbox/seccomp.c),
 * the OCI/Docker LinuxSeccomp JSON in, a BPF program out (never loaded).
 * A compiled program is a whole number of instructions. */
#include "fuzz.h"
#include "jsonutil.h"
#include "sbx-seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_text(data, size);
  json_error_t je;
  json_t *spec = sh_json_loads_oci(text, JSON_REJECT_DUPLICATES, &je);
  free(text);
  if (!spec)
    return 0;
  struct sbx_seccomp s;
  sh_error e = {0};
  int r = sbx_seccomp_compile(spec, NULL, &s, &e);
  if (r == 0) {
    FUZZ_CHECK(s.prog && s.len > 0 && s.len % 8 == 0, "a program of %zu bytes", s.len);
    sbx_seccomp_clear(&s);
  } else {
    FUZZ_CHECK(e.err != 0, "a failed compile must say why");
  }
  json_decref(spec);
  return 0;
}
