/* Kernel interfaces a container must not reach: /proc/sys, /sys, kmsg,
 * kallsyms, core_pattern and the like, each tried for reading and writing. */
#pragma once

#include <jansson.h>

/* Over kallsyms text: 1 when every address is zero (kptr_restrict hides
 * them), 0 when one is not, -1 when no line has an address. */
int probe_kallsyms_zeroed(const char *text);
/* The "kernel_files" section. */
json_t *probe_section_kernel_files(void);
