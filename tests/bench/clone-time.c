/* clone-time POOL IMAGE COUNT PREFIX [MOUNTDIR]: create COUNT volumes of
 * IMAGE through the library, as sandhostd does (pool open once), and print
 * "create <µs> <exclusive bytes>" for each; with MOUNTDIR, also mount each
 * with an id map ("mount <µs>") and unmount it; then delete them all
 * ("delete <µs>").  The storage benchmark (tests/bench/storage) reads this. */
#include "storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: clone-time POOL IMAGE COUNT PREFIX [MOUNTDIR]\n");
    return 2;
  }
  int n = atoi(argv[3]);
  sh_error e = {0};
  char buf[1400];
  _cleanup_pool_ sbx_pool *p = NULL;
  if (sbx_pool_open(argv[1], &p, &e) < 0) {
    fprintf(stderr, "clone-time: %s\n", sh_error_str(&e, buf, sizeof buf));
    return 1;
  }
  for (int i = 0; i < n; i++) {
    char id[64];
    snprintf(id, sizeof id, "%s%d", argv[4], i);
    double t0 = now_us();
    if (sbx_volume_create(p, id, argv[2], 1, 0, &e) < 0) {
      fprintf(stderr, "clone-time: %s\n", sh_error_str(&e, buf, sizeof buf));
      return 1;
    }
    double t1 = now_us();
    struct sbx_usage u;
    if (sbx_volume_usage(p, id, &u, &e) < 0) {
      fprintf(stderr, "clone-time: %s\n", sh_error_str(&e, buf, sizeof buf));
      return 1;
    }
    printf("create %.1f %llu\n", t1 - t0, (unsigned long long) u.exclusive);
    if (argc == 6) {
      static const struct sbx_idmap map = { .container_id = 0, .host_id = 100000, .size = 65536 };
      char target[512];
      snprintf(target, sizeof target, "%s/%s", argv[5], id);
      t0 = now_us();
      if (sbx_volume_mount(p, id, &map, 1, &map, 1, target, &e) < 0) {
        fprintf(stderr, "clone-time: %s\n", sh_error_str(&e, buf, sizeof buf));
        return 1;
      }
      printf("mount %.1f\n", now_us() - t0);
      if (sbx_volume_unmount(p, id, target, &e) < 0) {
        fprintf(stderr, "clone-time: %s\n", sh_error_str(&e, buf, sizeof buf));
        return 1;
      }
    }
  }
  for (int i = 0; i < n; i++) {
    char id[64];
    snprintf(id, sizeof id, "%s%d", argv[4], i);
    double t0 = now_us();
    if (sbx_volume_delete(p, id, &e) < 0) {
      fprintf(stderr, "clone-time: %s\n", sh_error_str(&e, buf, sizeof buf));
      return 1;
    }
    printf("delete %.1f\n", now_us() - t0);
  }
  return 0;
}
