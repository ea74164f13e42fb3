/* common/conf.c: "key = value" through a table of keys, as sandhostd's and
 * the portal's configurations read it; every refusal names where and what. */
#include "tap.h"
#include "conf.h"
#include "cleanup.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct cfg {
  char dir[32];
  char name[8];
  uint32_t n;
  int even;
};

static bool parse_even(const char *v, void *dst)
{
  int x;
  char end;
  if (sscanf(v, "%d%c", &x, &end) != 1 || x % 2)
    return false;
  memcpy(dst, &x, sizeof x);
  return true;
}

static const struct sh_conf_key keys[] = {
  { "dir", SH_CONF_PATH, offsetof(struct cfg, dir), sizeof ((struct cfg *) 0)->dir, 0, 0, NULL, NULL },
  { "name", SH_CONF_NAME, offsetof(struct cfg, name), sizeof ((struct cfg *) 0)->name, 0, 0, NULL, NULL },
  { "n", SH_CONF_U32, offsetof(struct cfg, n), sizeof(uint32_t), 1, 10, NULL, NULL },
  { "even", SH_CONF_OTHER, offsetof(struct cfg, even), sizeof(int), 0, 0, parse_even, "an even number" },
};
#define N SH_ARRAY_SIZE(keys)

static int set(struct cfg *c, const char *a, sh_error *e)
{
  sh_error_clear(e);
  return sh_conf_set(keys, N, c, a, "--set", e);
}

int main(void)
{
  struct cfg c = {0};
  sh_error e = {0};
  ok(set(&c, "  dir =  /var/lib/x  ", &e) == 0 && strcmp(c.dir, "/var/lib/x") == 0, "a path, spaces trimmed");
  ok(set(&c, "dir = relative", &e) < 0, "a relative path is refused");
  like(e.msg, "dir: an absolute path", "naming the key and what it must be");
  is_str(e.path, "--set", "and where it came from");
  ok(set(&c, "name =", &e) == 0 && c.name[0] == 0, "an empty name is a value");
  ok(set(&c, "name = toolongname", &e) < 0, "a name too long is refused");
  like(e.msg, "name: at most 7 characters", "with its limit");
  ok(set(&c, "n = 10", &e) == 0 && c.n == 10, "a number within its range");
  ok(set(&c, "n = 11", &e) < 0 && set(&c, "n = 3x", &e) < 0 && set(&c, "n =", &e) < 0, "out of range, trailing text, none: refused");
  like(e.msg, "n: a number from 1 to 10", "with the range");
  ok(set(&c, "even = 4", &e) == 0 && c.even == 4, "a key with its own parser");
  ok(set(&c, "even = 3", &e) < 0, "which refuses");
  like(e.msg, "even: an even number", "saying what it expects");
  ok(set(&c, "colour = red", &e) < 0, "an unknown key");
  like(e.msg, "colour: unknown key", "is named");
  ok(set(&c, "just words", &e) < 0, "no '='");
  like(e.msg, "key = value expected", "is refused");

  const char *path = "test-conf.conf";
  FILE *f = fopen(path, "w");
  fputs("# a comment\n\nn = 7   # after a value too\nname = a\nbogus = 1\n", f);
  fclose(f);
  struct cfg d = {0};
  sh_error_clear(&e);
  ok(sh_conf_load(keys, N, &d, path, true, &e) < 0, "a file with an unknown key on line 5");
  is_str(e.path, "test-conf.conf:5", "names the file and the line");
  is_int(d.n, 7, "the lines before it were read (comments and blank lines skipped)");
  unlink(path);
  sh_error_clear(&e);
  ok(sh_conf_load(keys, N, &d, path, false, &e) == 0, "a missing file that is not required: nothing read");
  ok(sh_conf_load(keys, N, &d, path, true, &e) < 0, "a missing file that is: an error");
  is_str(e.path, path, "naming it");
  ok(sh_conf_load(keys, N, &d, NULL, true, &e) == 0, "no path: nothing read");
  sh_error_clear(&e);
  return tap_done();
}
