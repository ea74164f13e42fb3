/* What the libFuzzer targets share: the input as a NUL-terminated string
 * (the parsers take C strings; an embedded NUL ends the text early, as it
 * would for the caller) and a check that aborts, so a broken invariant is a
 * crash libFuzzer saves. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline char *fuzz_text(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);
  if (!s)
    abort();
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

#define FUZZ_CHECK(cond, ...) do { \
  if (!(cond)) { fprintf(stderr, "fuzz check failed: %s: ", #cond); fprintf(stderr, __VA_ARGS__); \
    fputc('\n', stderr); abort(); } } while (0)
