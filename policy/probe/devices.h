/* Device nodes visible under /dev, and whether they open. */
#pragma once

#include <jansson.h>

/* The "devices" section. */
json_t *probe_section_devices(void);
