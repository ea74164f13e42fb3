/* Reading the small text files of /proc and /sys that the probe reports. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads at most max bytes of path into a malloc'd, NUL-terminated buffer
 * (*len without the NUL).  Returns 0 or -errno. */
int probe_read_file(const char *path, size_t max, char **out, size_t *len);

/* The value of "Key:" in /proc/PID/status text, without the tabs before it
 * and the newline after it, copied into buf; false when the key is absent. */
bool probe_status_field(const char *status, const char *key, char *buf, size_t size);
