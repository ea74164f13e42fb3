/* The probe's LSM label. */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* The context in path (an attr file), without the "\n" (AppArmor) or NUL
 * (SELinux) the kernel ends it with.  0 or -errno. */
int probe_read_label(const char *path, char *buf, size_t size);
/* The "lsm" section. */
json_t *probe_section_lsm(void);
