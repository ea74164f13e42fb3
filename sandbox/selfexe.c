/* CVE-2019-5736: a container process must never reach a writable
 * /proc/PID/exe of the runtime.  Three barriers stand in the way: every setup
 * child is non-dumpable (so /proc/PID/exe cannot be opened), container ids are
 * unprivileged host ids (so a root-owned binary cannot be written), and, when
 * the binary is not root-owned and read-only to others, we re-exec from a
 * sealed memfd copy.  The re-exec costs a second program start, so it is only
 * paid when the second barrier is missing. */
#include "sandbox.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int sbx_ensure_sealed_exe(int argc, char **argv, sh_error *e)
{
  (void) argc;
  _cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return sh_errno(e, "open", "/proc/self/exe");
  int seals = fcntl(self, F_GET_SEALS);
  if (seals >= 0 && (seals & SEALS) == SEALS)
    return 0;
  struct stat st;
  if (fstat(self, &st) < 0)
    return sh_errno(e, "stat", "/proc/self/exe");
  if (st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH)) && !getenv("SBX_FORCE_SEALED_EXE"))
    return 0;
  _cleanup_close_ int mfd = memfd_create("sbx", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0)
    return sh_errno(e, "memfd_create", "sbx");
  for (off_t off = 0; off < st.st_size;) {
    ssize_t n = sendfile(mfd, self, &off, (size_t) (st.st_size - off));
    if (n <= 0)
      return sh_errno(e, "copy", "/proc/self/exe");
  }
  if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
    return sh_errno(e, "seal", "sbx memfd");
  fexecve(mfd, argv, environ);
  return sh_errno(e, "re-exec", "sealed sbx");
}
