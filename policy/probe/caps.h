/* Capabilities: the five sets of /proc/self/status, decoded to names. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* A Cap* value of /proc/self/status ("000001ffffffffff"); false unless it
 * is 1 to 16 hex digits and nothing else. */
bool probe_parse_capset(const char *hex, uint64_t *out);
/* The names of the bits of a set, lowest first ("CAP_CHOWN"); a bit these
 * headers have no name for is "CAP_<number>". */
json_t *probe_cap_names(uint64_t set);
/* The "capabilities" section. */
json_t *probe_section_capabilities(void);
