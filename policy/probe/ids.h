/* Who the probe is: its ids, its user namespace's uid and gid maps. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* /proc/PID/uid_map or gid_map text as [{"inside", "outside", "count"}];
 * NULL when a line is not three unsigned numbers. */
json_t *probe_parse_id_map(const char *text);
/* Whether the caller is in the initial user namespace (true when unsure):
 * the few attempts that could touch a host skip themselves there. */
bool probe_in_initial_userns(void);
/* The "ids" section. */
json_t *probe_section_ids(void);
