/* SELinux labels through libselinux.  On hosts where SELinux is off the
 * container still runs; the caller records a warning in the state.  Where it
 * is on, a container's processes carry process.selinuxLabel (container_t and
 * the container's MCS pair, see policy/selinux) and its files the mount label:
 * the same user and level as object_r:container_file_t, unless
 * linux.mountLabel names another. */
#include "internal.h"
#include "cleanup.h"

#include <errno.h>
#include <fts.h>
#include <stdlib.h>
#include <selinux/context.h>
#include <selinux/selinux.h>
#include <string.h>

/* The file type of Debian's refpolicy container module (lxc_contexts' "file"). */
#define CONTAINER_FILE_TYPE "container_file_t"

static inline void freeconp(char **p) { freecon(*p); }
#define _cleanup_con_ __attribute__((cleanup(freeconp)))
static inline void context_freep(context_t *c) { if (*c) context_free(*c); }

bool sbx_selinux_enabled(void)
{
  return is_selinux_enabled() > 0;
}

int sbx_selinux_set_exec_label(const char *label, sh_error *e)
{
  if (setexeccon_raw(label) < 0)
    return sh_err(e, errno, "set SELinux exec label", label,
                  errno == EINVAL ? "the loaded policy does not know it (is policy/selinux installed?)" : NULL);
  return 0;
}

int sbx_selinux_set_create_label(const char *label, sh_error *e)
{
  if (setfscreatecon_raw(label) < 0)
    return sh_err(e, errno, "set SELinux file creation label", label, NULL);
  return 0;
}

int sbx_selinux_mount_label(const char *process_label, const char *mount_label, char **out, sh_error *e)
{
  *out = NULL;
  if (!mount_label && !process_label)
    return 0;
  _cleanup_con_ char *canon = NULL;
  if (mount_label) {
    if (security_canonicalize_context_raw(mount_label, &canon) < 0)
      return sh_err(e, errno, "check SELinux label", "linux.mountLabel", "%s is not valid in the loaded policy", mount_label);
  } else {
    __attribute__((cleanup(context_freep))) context_t ctx = context_new(process_label);
    if (!ctx)
      return sh_err(e, EINVAL, "check SELinux label", "process.selinuxLabel", "%s is not a context", process_label);
    const char *s;
    if (context_role_set(ctx, "object_r") || context_type_set(ctx, CONTAINER_FILE_TYPE) || !(s = context_str(ctx)))
      return sh_err(e, ENOMEM, "derive SELinux mount label", process_label, NULL);
    if (security_canonicalize_context_raw(s, &canon) < 0)
      return sh_err(e, errno, "derive SELinux mount label", "process.selinuxLabel",
                    "%s is not valid in the loaded policy (is policy/selinux installed?)", s);
  }
  *out = strdup(canon);
  return *out ? 0 : sh_err(e, ENOMEM, "derive SELinux mount label", NULL, NULL);
}

int sbx_selinux_set_label(const char *path, const char *label, sh_error *e)
{
  if (setfilecon_raw(path, label) < 0)
    return sh_err(e, errno, "set SELinux label", path, "to %s", label);
  return 0;
}

/* Directories after their contents, the root last: a relabel cut short is
 * redone at the next start because the root does not carry the label yet. */
int sbx_selinux_label_tree(const char *root, const char *label, sh_error *e)
{
  /* root itself may be a symlink (a bundle's rootfs link): the runtime
   * follows it too when it opens the rootfs. */
  _cleanup_free_ char *real = realpath(root, NULL);
  if (!real)
    return sh_errno(e, "label rootfs", root);
  _cleanup_con_ char *cur = NULL;
  if (lgetfilecon_raw(real, &cur) >= 0 && strcmp(cur, label) == 0)
    return 0;
  char *const paths[] = { real, NULL };
  /* Physical: symlinks are labelled, never followed; XDEV: mounts below the
   * rootfs (a volume, say) are someone else's to label.  fts walks with
   * fchdir, so every label is set relative to a directory it checked. */
  FTS *fts = fts_open(paths, FTS_PHYSICAL | FTS_XDEV, NULL);
  if (!fts)
    return sh_errno(e, "label rootfs", root);
  int r = 0;
  FTSENT *f;
  errno = 0;
  while ((f = fts_read(fts))) {
    if (f->fts_info == FTS_D)
      continue;
    if (f->fts_info == FTS_DNR || f->fts_info == FTS_ERR || f->fts_info == FTS_NS) {
      r = sh_err(e, f->fts_errno, "label rootfs", f->fts_path, NULL);
      break;
    }
    if (lsetfilecon_raw(f->fts_accpath, label) < 0) {
      r = sh_err(e, errno, "label rootfs", f->fts_path,
                 errno == EOPNOTSUPP ? "its filesystem keeps no SELinux labels; mount it with context=%s" : "to %s",
                 label);
      break;
    }
  }
  if (!f && errno)
    r = sh_errno(e, "label rootfs", root);
  fts_close(fts);
  return r;
}
