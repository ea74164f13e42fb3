/* What the probe can create: namespaces, raw and packet sockets, mounts. */
#pragma once

#include <jansson.h>

/* The "abilities" section. */
json_t *probe_section_abilities(void);
