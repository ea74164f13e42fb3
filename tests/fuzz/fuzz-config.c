/* libFuzzer: the OCI config parser (sandbox/config.c), config.json text in.
 * A parsed config must be consistent: its id maps valid (the parser
 * validates them) and every mount named. */
#include "fuzz.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_text(data, size);
  struct sbx_config *c = NULL;
  sh_error e = {0};
  /* The bundle only has to exist: "/" keeps the parse away from the disk. */
  int r = sbx_config_parse(text, "/", &c, &e);
  if (r == 0) {
    FUZZ_CHECK(c->root_path && c->root_path[0] == '/', "root.path must be absolute after parsing");
    for (size_t i = 0; i < c->n_mounts; i++)
      FUZZ_CHECK(c->mounts[i].destination != NULL, "mount %zu has no destination", i);
    FUZZ_CHECK(sbx_idmap_validate(c->uid_map, c->n_uid_map, "uid", &e) == 0, "accepted uid map invalid: %s", e.msg);
    sbx_config_free(c);
  } else {
    FUZZ_CHECK(c == NULL, "a failed parse handed out a config");
    FUZZ_CHECK(e.err != 0 && e.step[0], "a failed parse must say why");
  }
  free(text);
  return 0;
}
