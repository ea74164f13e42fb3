/* The storage library's pure parts: size strings and the names that become
 * directories in a pool. */
#include "tap.h"
#include "storage-internal.h"
#include "cleanup.h"

#include <errno.h>
#include <stdint.h>

static void test_sizes(void)
{
  static const struct { const char *in; uint64_t want; } good[] = {
    {"0", 0}, {"none", 0}, {"4096", 4096}, {"512K", 512ULL << 10}, {"10M", 10ULL << 20},
    {"10MiB", 10ULL << 20}, {"10mb", 10ULL << 20}, {"1G", 1ULL << 30}, {"2T", 2ULL << 40},
    {"16777215T", 16777215ULL << 40},
  };
  for (size_t i = 0; i < SH_ARRAY_SIZE(good); i++) {
    uint64_t v = 1;
    is_int(sbx_parse_size(good[i].in, &v), 0, "'%s' parses", good[i].in);
    ok(v == good[i].want, "  to %llu", (unsigned long long) good[i].want);
  }
  static const char *const bad[] = { "", "-1", "1X", "M", "1.5G", "16777216T", "99999999999999999999", "1 G" };
  for (size_t i = 0; i < SH_ARRAY_SIZE(bad); i++) {
    uint64_t v = 7;
    is_int(sbx_parse_size(bad[i], &v), -EINVAL, "'%s' is not a size", bad[i]);
    ok(v == 7, "  and the output is untouched");
  }
}

static void test_names(void)
{
  static const char *const good[] = { "c1", "web-01", "a.b_c", "X", "0123456789012345678901234567890123456789012345678901234567890123" };
  for (size_t i = 0; i < SH_ARRAY_SIZE(good); i++) {
    sh_error e = {0};
    is_int(pool_check_name("volume id", good[i], &e), 0, "'%s' is a valid name", good[i]);
  }
  static const char *const bad[] = { "", ".", "..", ".hidden", "-x", "a/b", "../etc", "a b", "é",
                                     "01234567890123456789012345678901234567890123456789012345678901234" };
  for (size_t i = 0; i < SH_ARRAY_SIZE(bad); i++) {
    sh_error e = {0};
    is_int(pool_check_name("volume id", bad[i], &e), -EINVAL, "'%s' is refused", bad[i]);
    is_str(e.path, "volume id", "  naming the field");
  }
}

int main(void)
{
  test_sizes();
  test_names();
  return tap_done();
}
