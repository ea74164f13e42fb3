/* JSON values from what the kernel hands the probe: paths, labels and file
 * contents are bytes, not necessarily UTF-8, and JSON strings must be. */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when the byte at s
 * does not start one (stray continuation, overlong form, surrogate, beyond
 * U+10FFFF, or cut short by the end at n). */
size_t probe_utf8_seq(const unsigned char *s, size_t n);

/* A JSON string of the n bytes at s.  Valid UTF-8 stays as it is (jansson
 * escapes quotes, backslashes and control characters, NUL included, when it
 * writes the document); every byte that is not part of a valid sequence
 * becomes the four characters \xNN.  NULL only when out of memory. */
json_t *probe_json_bytes(const char *s, size_t n);
/* The same for a C string; NULL s gives JSON null. */
json_t *probe_json_str(const char *s);

/* obj[key] = v, taking v; a NULL v (out of memory) leaves the key out. */
void probe_set(json_t *obj, const char *key, json_t *v);
/* arr += v, taking v; a NULL v is left out. */
void probe_append(json_t *arr, json_t *v);
