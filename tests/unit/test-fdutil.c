/* common/fdutil.c and common/jsonutil.c: the symlink-safe path helpers every
 * mount goes through, and the reader for Go runtimes' uint64 values. */
#include "tap.h"
#include "cleanup.h"
#include "fdutil.h"
#include "jsonutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/sbx-unit-fdutil.XXXXXX";

/* The inode a path opens to, or 0. */
static ino_t ino_of(int fd)
{
  struct stat st;
  return fd >= 0 && fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static ino_t host_ino(const char *rel)
{
  char p[512];
  struct stat st;
  snprintf(p, sizeof p, "%s/%s", root, rel);
  return lstat(p, &st) == 0 ? st.st_ino : 0;
}

static void test_resolve(int rfd)
{
  sh_error e = {0};
  /* A symlink to / stays inside the root when followed IN_ROOT. */
  int fd = sh_open_in_root(rfd, "proc", O_PATH | O_DIRECTORY, 0, SH_RESOLVE_IN_ROOT, &e);
  ok(fd >= 0 && ino_of(fd) == host_ino("."), "IN_ROOT: proc -> / resolves to the rootfs itself, not the host /");
  close(fd);
  /* ...and is refused outright where symlinks are not allowed. */
  sh_error_clear(&e);
  fd = sh_open_in_root(rfd, "proc", O_PATH, 0, SH_RESOLVE_NO_SYMLINKS, &e);
  is_int(fd, -ELOOP, "NO_SYMLINKS: a symlinked /proc is ELOOP");
  like(e.msg, "symlink is not allowed", "and the error says so");
  /* .. cannot climb out. */
  sh_error_clear(&e);
  fd = sh_open_in_root(rfd, "../../../etc", O_PATH | O_DIRECTORY, 0, SH_RESOLVE_IN_ROOT, &e);
  ok(fd >= 0 && ino_of(fd) == host_ino("etc"), "IN_ROOT: ../../../etc is the rootfs's etc");
  close(fd);
  /* An absolute symlink to a host path lands inside the root. */
  sh_error_clear(&e);
  fd = sh_open_in_root(rfd, "evil/passwd", O_RDONLY, 0, SH_RESOLVE_IN_ROOT, &e);
  ok(fd >= 0 && ino_of(fd) == host_ino("etc/passwd"), "IN_ROOT: evil -> /etc reads the rootfs's passwd");
  close(fd);
  /* Magic links are never followed. */
  sh_error_clear(&e);
  fd = sh_open_in_root(rfd, "magic", O_RDONLY, 0, SH_RESOLVE_IN_ROOT, &e);
  ok(fd < 0, "a /proc/self/root magic link inside the rootfs is not followed");
  close(fd);
}

static void test_mkpath(int rfd)
{
  sh_error e = {0};
  int fd = sh_mkpath_in_root(rfd, "/dev/pts", 1, SH_RESOLVE_NO_SYMLINKS, &e);
  ok(fd >= 0 && host_ino("dev/pts") != 0, "mkpath makes missing directories");
  close(fd);
  fd = sh_mkpath_in_root(rfd, "/dev/null", 0, SH_RESOLVE_NO_SYMLINKS, &e);
  struct stat st;
  char p[512];
  snprintf(p, sizeof p, "%s/dev/null", root);
  ok(fd >= 0 && lstat(p, &st) == 0 && S_ISREG(st.st_mode), "mkpath makes a file as a mount target");
  close(fd);
  /* Through the symlink proc -> /, in IN_ROOT mode, the dir is made inside. */
  sh_error_clear(&e);
  fd = sh_mkpath_in_root(rfd, "/proc/made-inside", 1, SH_RESOLVE_IN_ROOT, &e);
  ok(fd >= 0 && host_ino("made-inside") != 0, "mkpath through a symlink to / stays in the rootfs");
  close(fd);
  sh_error_clear(&e);
  fd = sh_mkpath_in_root(rfd, "/proc/sys", 1, SH_RESOLVE_NO_SYMLINKS, &e);
  is_int(fd, -ELOOP, "mkpath under a symlink is ELOOP with NO_SYMLINKS");
  sh_error_clear(&e);
  fd = sh_mkpath_in_root(rfd, "/a/../b", 1, SH_RESOLVE_IN_ROOT, &e);
  is_int(fd, -EINVAL, "mkpath refuses '..'");
}

static void test_mkdir_p(void)
{
  char p[512];
  snprintf(p, sizeof p, "%s/x/y/z", root);
  is_int(sh_mkdir_p(p, 0755), 0, "mkdir_p makes every missing level");
  is_int(sh_mkdir_p(p, 0755), 0, "and is idempotent");
  snprintf(p, sizeof p, "%s/etc/passwd/sub", root);
  is_int(sh_mkdir_p(p, 0755), -ENOTDIR, "a file on the way is ENOTDIR");
}

static void test_loads_oci(void)
{
  json_error_t je;
  json_t *j = sh_json_loads_oci("{\"a\": 18446744073709551615, \"b\": -1, \"s\": \"18446744073709551615\", "
                                "\"c\": 9223372036854775807, \"d\": 9223372036854775808, \"e\": 1.5e300, "
                                "\"esc\": \"q\\\"18446744073709551615\"}", 0, &je);
  ok(j != NULL, "uint64 max parses");
  if (!j)
    return;
  ok(json_is_real(json_object_get(j, "a")), "uint64 max becomes a real");
  is_int(json_integer_value(json_object_get(j, "b")), -1, "small integers stay integers");
  is_str(json_string_value(json_object_get(j, "s")), "18446744073709551615", "digits in strings are untouched");
  ok(json_is_integer(json_object_get(j, "c")), "INT64_MAX stays an integer");
  ok(json_is_real(json_object_get(j, "d")), "INT64_MAX + 1 becomes a real");
  ok(json_is_real(json_object_get(j, "e")), "reals are untouched");
  is_str(json_string_value(json_object_get(j, "esc")), "q\"18446744073709551615", "escaped quotes keep strings whole");
  uint64_t u = 0;
  sh_error e = {0};
  is_int(sh_json_get_u64(j, "a", "x", &u, &e), 0, "the u64 getter takes it");
  ok(u == UINT64_MAX, "as UINT64_MAX");
  json_decref(j);
}

int main(void)
{
  if (!mkdtemp(root)) {
    perror("mkdtemp");
    return 1;
  }
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "cd %s && mkdir -p etc dev && echo root:x:0:0 > etc/passwd && ln -s / proc && "
           "ln -s /etc evil && ln -s /proc/self/root magic", root);
  if (system(cmd) != 0)
    return 1;
  int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  test_resolve(rfd);
  test_mkpath(rfd);
  test_mkdir_p();
  test_loads_oci();
  close(rfd);
  snprintf(cmd, sizeof cmd, "rm -rf %s", root);
  if (system(cmd) != 0)
    diag("could not remove %s", root);
  return tap_done();
}
