/* Run from a sealed memfd copy of our own binary, so a container process can
 * never reach a writable /proc/PID/exe of the runtime (CVE-2019-5736). */
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
