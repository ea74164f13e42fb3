/* SELinux labels through libselinux.  On hosts where SELinux is off the
 * container still runs; the caller records a warning in the state. */
#include "internal.h"

#include <errno.h>
#include <selinux/selinux.h>

bool sbx_selinux_enabled(void)
{
  return is_selinux_enabled() > 0;
}

int sbx_selinux_set_exec_label(const char *label, sh_error *e)
{
  if (setexeccon(label) < 0)
    return sh_err(e, errno, "set SELinux exec label", label, NULL);
  return 0;
}
