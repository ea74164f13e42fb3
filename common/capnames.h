/* Capability names as the OCI spec and /proc spell them ("CAP_SYS_ADMIN").
 * Shared by the runtime's config parser and the in-container probe, which
 * compiles this file into its own static binary. */
#pragma once

/* The highest capability number these headers know. */
int sh_cap_last(void);
/* The number of "CAP_..." or -1. */
int sh_cap_from_name(const char *name);
/* The name of a capability number, or NULL for one these headers do not know. */
const char *sh_cap_name(int cap);
