/* sbx_idmap_validate and sbx_idmap_to_host. */
#include "config.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int validate(const struct sbx_idmap *m, size_t n, sh_error *e)
{
  sh_error_clear(e);
  return sbx_idmap_validate(m, n, "uidmap", e);
}

static void test_validate(void)
{
  sh_error e;

  const struct sbx_idmap one[] = { {0, 100000, 65536} };
  is_int(validate(one, N(one), &e), 0, "one range is valid");
  is_int(e.err, 0, "no error set for a valid map");

  const struct sbx_idmap several[] = { {0, 100000, 1000}, {1000, 300000, 1000}, {65534, 200000, 1} };
  is_int(validate(several, N(several), &e), 0, "disjoint ranges are valid");

  const struct sbx_idmap touching[] = { {0, 100000, 1000}, {1000, 101000, 1000} };
  is_int(validate(touching, N(touching), &e), 0, "adjacent ranges do not overlap");

  is_int(validate(NULL, 0, &e), 0, "an empty map is valid");

  const struct sbx_idmap root[] = { {0, 0, 1} };
  is_int(validate(root, N(root), &e), -EPERM, "container root to host root is EPERM");
  is_str(e.path, "uidmap[0]", "error names uidmap[0]");
  like(e.msg, "host root", "message says host root");

  const struct sbx_idmap nonroot_to_root[] = { {1000, 0, 1} };
  is_int(validate(nonroot_to_root, N(nonroot_to_root), &e), -EPERM, "any container id to host root is EPERM");

  const struct sbx_idmap later_root[] = { {0, 100000, 1000}, {1000, 0, 10} };
  is_int(validate(later_root, N(later_root), &e), -EPERM, "host id 0 in a later range is EPERM");
  is_str(e.path, "uidmap[1]", "error names uidmap[1]");

  const struct sbx_idmap c_overlap[] = { {0, 100000, 65536}, {1000, 300000, 10} };
  is_int(validate(c_overlap, N(c_overlap), &e), -EINVAL, "overlapping container ranges are EINVAL");
  is_str(e.path, "uidmap[1]", "error names the second range");
  like(e.msg, "container range overlaps uidmap[0]", "message names the range it overlaps");

  const struct sbx_idmap c_overlap2[] = { {1000, 300000, 10}, {0, 100000, 65536} };
  is_int(validate(c_overlap2, N(c_overlap2), &e), -EINVAL, "containing range after a contained one is EINVAL");

  const struct sbx_idmap h_overlap[] = { {0, 100000, 65536}, {70000, 100500, 10} };
  is_int(validate(h_overlap, N(h_overlap), &e), -EINVAL, "overlapping host ranges are EINVAL");
  like(e.msg, "host range overlaps", "message says host range");

  const struct sbx_idmap wrap_c[] = { {0xFFFFFFF0u, 100000, 32} };
  is_int(validate(wrap_c, N(wrap_c), &e), -EINVAL, "container range wrapping past 2^32 is EINVAL");
  like(e.msg, "wraps", "message says wraps");

  const struct sbx_idmap wrap_h[] = { {0, 0xFFFFFFF0u, 32} };
  is_int(validate(wrap_h, N(wrap_h), &e), -EINVAL, "host range wrapping past 2^32 is EINVAL");

  const struct sbx_idmap max_size[] = { {0, 1, UINT32_MAX} };
  is_int(validate(max_size, N(max_size), &e), 0, "a range ending exactly at 2^32 is valid");

  const struct sbx_idmap top[] = { {0xFFFF0000u, 100000, 0x10000} };
  is_int(validate(top, N(top), &e), 0, "a container range ending exactly at 2^32 is valid");

  struct sbx_idmap many[341];
  for (size_t i = 0; i < N(many); i++)
    many[i] = (struct sbx_idmap) { (uint32_t) i, (uint32_t) (100000 + i), 1 };
  is_int(validate(many, 340, &e), 0, "340 ranges are valid");
  is_int(validate(many, 341, &e), -EINVAL, "341 ranges are EINVAL (kernel limit)");

  /* A range that ends exactly at 2^32 wraps container_id + size to 0 in
   * 32-bit arithmetic, so the overlap tests never fire against it. */
  const struct sbx_idmap top_c_overlap[] = { {0xFFFF0000u, 100000, 0x10000}, {0xFFFF8000u, 300000, 16} };
  is_int(validate(top_c_overlap, N(top_c_overlap), &e), -EINVAL,
         "container overlap with a range ending at 2^32 is EINVAL");
  const struct sbx_idmap top_h_overlap[] = { {0, 0xFFFF0000u, 0x10000}, {100000, 0xFFFF8000u, 16} };
  is_int(validate(top_h_overlap, N(top_h_overlap), &e), -EINVAL,
         "host overlap with a range ending at 2^32 is EINVAL");

  /* The kernel refuses a zero-sized extent; the header promises "sizes sane". */
  const struct sbx_idmap zero[] = { {0, 100000, 0} };
  is_int(validate(zero, N(zero), &e), -EINVAL, "a zero-sized range is EINVAL");
}

static void test_to_host(void)
{
  const struct sbx_idmap m[] = { {0, 100000, 65536}, {100000, 500000, 10} };
  is_int(sbx_idmap_to_host(m, N(m), 0), 100000, "0 -> 100000");
  is_int(sbx_idmap_to_host(m, N(m), 1000), 101000, "1000 -> 101000");
  is_int(sbx_idmap_to_host(m, N(m), 65535), 165535, "65535 -> 165535 (last of the range)");
  is_int(sbx_idmap_to_host(m, N(m), 65536), (uint32_t) -1, "65536 is unmapped");
  is_int(sbx_idmap_to_host(m, N(m), 100005), 500005, "100005 -> 500005 (second range)");
  is_int(sbx_idmap_to_host(m, N(m), 100010), (uint32_t) -1, "100010 is unmapped");
  is_int(sbx_idmap_to_host(m, N(m), UINT32_MAX), (uint32_t) -1, "2^32-1 is unmapped");
  is_int(sbx_idmap_to_host(NULL, 0, 0), (uint32_t) -1, "nothing maps in an empty map");

  const struct sbx_idmap top[] = { {0xFFFF0000u, 100000, 0x10000} };
  is_int(sbx_idmap_to_host(top, N(top), 0xFFFFFFFFu), 165535, "top of the id space maps");
  is_int(sbx_idmap_to_host(top, N(top), 0), (uint32_t) -1, "0 is unmapped when only the top is");
}

int main(void)
{
  test_validate();
  test_to_host();
  return tap_done();
}
