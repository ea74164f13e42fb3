/* Capabilities: bounding set, then the three sets, then ambient. */
#include "internal.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int sbx_caps_drop_bounding(uint64_t keep, sh_error *e)
{
  for (int cap = 0; cap <= 63; cap++) {
    if (keep & (1ULL << cap))
      continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL)
        break; /* past the kernel's last capability */
      return sh_err(e, errno, "drop bounding capability", sh_cap_name(cap), NULL);
    }
  }
  return 0;
}

int sbx_caps_apply(const struct sbx_caps *c, sh_error *e)
{
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2] = {
    { (uint32_t) c->effective, (uint32_t) c->permitted, (uint32_t) c->inheritable },
    { (uint32_t) (c->effective >> 32), (uint32_t) (c->permitted >> 32), (uint32_t) (c->inheritable >> 32) },
  };
  if (syscall(SYS_capset, &hdr, data) < 0)
    return sh_errno(e, "set capabilities", NULL);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    return sh_errno(e, "clear ambient capabilities", NULL);
  for (int cap = 0; cap <= 63; cap++)
    if ((c->ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return sh_err(e, errno, "raise ambient capability", sh_cap_name(cap), NULL);
  return 0;
}
