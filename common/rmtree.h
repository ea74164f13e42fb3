/* Remove a tree fd-relative, never following symlinks, never crossing
 * into another mount (a mount below is an error: EBUSY, naming it). */
#pragma once
#include "error.h"

/* Remove dirfd/name and everything below it.  ENOENT is success. */
int sh_rmtree_at(int dirfd, const char *name, sh_error *e);
/* Remove everything below dirfd, keeping dirfd itself. */
int sh_rmtree_children(int dirfd, sh_error *e);
