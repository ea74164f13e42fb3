/* libFuzzer: image archive import (sandbox/archive-io.c: sh_archive_extract,
 * what `sbx-storage image import` and OCI layers go through), the archive
 * read from a memfd into a fresh directory that is emptied after each run.
 * The first byte picks the mode (odd: OCI layer semantics, whiteouts), the
 * rest is the archive (tar, pax, gnu tar; any compression libarchive reads).
 * Invariant beyond not crashing: nothing appears, changes or disappears
 * beside the target directory, whatever the archive says. */
#include "fuzz.h"
#include "archive-io.h"
#include "rmtree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char sandbox[] = "/tmp/fuzz-archive-XXXXXX";
static int sandbox_fd = -1, root_fd = -1;

static void cleanup(void)
{
  if (sandbox_fd >= 0)
    sh_rmtree_at(AT_FDCWD, sandbox, NULL);
}

/* The sandbox holds exactly "root" (the target) and "canary" (a file with
 * known content); an escape shows as anything else or a changed canary. */
static void check_sandbox(void)
{
  DIR *d = fdopendir(openat(sandbox_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  FUZZ_CHECK(d != NULL, "open sandbox");
  struct dirent *de;
  int n = 0;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
      continue;
    FUZZ_CHECK(!strcmp(de->d_name, "root") || !strcmp(de->d_name, "canary"),
               "extraction wrote beside its target: %s/%s", sandbox, de->d_name);
    n++;
  }
  closedir(d);
  FUZZ_CHECK(n == 2, "the target or the canary went away");
  char buf[16] = {0};
  int fd = openat(sandbox_fd, "canary", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  FUZZ_CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) == 6 && !strcmp(buf, "canary"), "the canary changed");
  close(fd);
  struct stat st;
  FUZZ_CHECK(fstatat(sandbox_fd, "root", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode),
             "the target is no longer a directory");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  FUZZ_CHECK(mkdtemp(sandbox) != NULL, "mkdtemp");
  sandbox_fd = open(sandbox, O_PATH | O_DIRECTORY | O_CLOEXEC);
  FUZZ_CHECK(sandbox_fd >= 0 && mkdirat(sandbox_fd, "root", 0755) == 0, "make the target");
  root_fd = openat(sandbox_fd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int fd = openat(sandbox_fd, "canary", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  FUZZ_CHECK(root_fd >= 0 && fd >= 0 && write(fd, "canary", 6) == 6, "make the canary");
  close(fd);
  atexit(cleanup);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  int mfd = memfd_create("fuzz-archive", MFD_CLOEXEC);
  FUZZ_CHECK(mfd >= 0, "memfd_create");
  FUZZ_CHECK(write(mfd, data + 1, size - 1) == (ssize_t) (size - 1), "fill the memfd");
  lseek(mfd, 0, SEEK_SET);
  struct sh_extract_opts o = {
    .flags = (data[0] & 1) ? SH_EXTRACT_OCI_LAYER : 0,
    .limits = { .max_bytes = 8u << 20, .max_entries = 4096 },
  };
  struct sh_extract_stats st = {0};
  sh_error e = {0};
  int r = sh_archive_extract(mfd, root_fd, &o, &st, &e);
  close(mfd);
  if (r < 0)
    FUZZ_CHECK(e.err != 0, "a failed extraction must say why");
  check_sandbox();
  sh_error ignore = {0};
  FUZZ_CHECK(sh_rmtree_children(root_fd, &ignore) == 0, "empty the target: %s %s", ignore.step, ignore.path);
  return 0;
}
