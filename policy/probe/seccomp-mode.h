/* no_new_privs and the seccomp mode, as /proc/self/status shows them. */
#pragma once

#include <jansson.h>

/* Adds "no_new_privs" and "seccomp" ({"mode", "mode_name", "filters"}) to root. */
void probe_section_seccomp(json_t *root);
