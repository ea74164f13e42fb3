/* A tiny TAP producer for the unit tests: ok/is_int/is_str/like print one
 * test line each, tap_done() prints the plan and gives the exit status. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static struct {
  int n, failed;
} tap_state;

__attribute__((format(printf, 4, 0)))
static inline bool tap_vresult(bool pass, const char *file, int line, const char *fmt, va_list ap)
{
  tap_state.n++;
  printf("%sok %d - ", pass ? "" : "not ", tap_state.n);
  vprintf(fmt, ap);
  printf("\n");
  if (!pass) {
    tap_state.failed++;
    printf("#   failed at %s:%d\n", file, line);
  }
  fflush(stdout);
  return pass;
}

__attribute__((format(printf, 4, 5)))
static inline bool tap_ok(bool pass, const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  tap_vresult(pass, file, line, fmt, ap);
  va_end(ap);
  return pass;
}

__attribute__((format(printf, 5, 6)))
static inline bool tap_is_int(long long got, long long want, const char *file, int line,
                              const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  bool pass = tap_vresult(got == want, file, line, fmt, ap);
  va_end(ap);
  if (!pass)
    printf("#     got: %lld\n#  wanted: %lld\n", got, want);
  return pass;
}

__attribute__((format(printf, 5, 6)))
static inline bool tap_is_str(const char *got, const char *want, const char *file, int line,
                              const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  bool pass = tap_vresult(got && want ? strcmp(got, want) == 0 : got == want, file, line, fmt, ap);
  va_end(ap);
  if (!pass)
    printf("#     got: '%s'\n#  wanted: '%s'\n", got ? got : "(null)", want ? want : "(null)");
  return pass;
}

/* haystack contains needle */
__attribute__((format(printf, 5, 6)))
static inline bool tap_like(const char *hay, const char *needle, const char *file, int line,
                            const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  bool pass = tap_vresult(hay && needle && strstr(hay, needle), file, line, fmt, ap);
  va_end(ap);
  if (!pass)
    printf("#     got: '%s'\n# missing: '%s'\n", hay ? hay : "(null)", needle ? needle : "(null)");
  return pass;
}

__attribute__((format(printf, 1, 2)))
static inline void diag(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  printf("# ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
}

static inline int tap_done(void)
{
  printf("1..%d\n", tap_state.n);
  if (tap_state.failed)
    printf("# %d of %d failed\n", tap_state.failed, tap_state.n);
  fflush(stdout);
  return tap_state.failed ? 1 : 0;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
  tap_is_int((long long) (got), (long long) (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define like(hay, needle, ...) tap_like((hay), (needle), __FILE__, __LINE__, __VA_ARGS__)
