/* Run one attempt in a forked child, so that a seccomp kill, a hang or a
 * changed process state (a new namespace, a persona) ends with the child. */
#pragma once

#include <jansson.h>
#include <limits.h>
#include <stddef.h>

/* What an attempt returns when a set-up step failed and the call it was
 * about was never made; it has written the step into why. */
#define PROBE_SKIPPED LONG_MIN

enum probe_child_kind {
  PROBE_RETURNED,  /* value is >= 0 or -errno */
  PROBE_KILLED,    /* signal: the child died of it (SIGSYS: a seccomp kill) */
  PROBE_TIMED_OUT, /* the attempt did not return within its time */
  PROBE_NOT_RUN,   /* why: a set-up step, or fork/pipe failed */
};

struct probe_child {
  enum probe_child_kind kind;
  long value;
  int signal;
  char why[96];
};

/* An attempt: >= 0 or -errno like the kernel, or PROBE_SKIPPED. */
typedef long probe_attempt_fn(const void *arg, char *why, size_t why_size);

/* Runs fn(arg) in a child that cannot dump core and is killed after
 * timeout_s seconds. */
void probe_in_child(probe_attempt_fn *fn, const void *arg, unsigned timeout_s,
                    struct probe_child *out);

/* The outcome as JSON members of obj: "result" ("ok", "EPERM", "SIGSYS",
 * "timeout" or "skipped"), and "errno", "signal" or "why" as they apply. */
void probe_child_to_json(const struct probe_child *c, json_t *obj);
/* "ok", the errno or signal name, "timeout" or "skipped" (static for errno
 * and signal names, see result.h). */
const char *probe_child_result(const struct probe_child *c);

/* -errno of the last failed call, for attempts: r == -1 ? -errno : r. */
long probe_sys_ret(long r);
/* Fills why with "STEP:ERRNO" and returns PROBE_SKIPPED. */
long probe_skip(char *why, size_t size, const char *step, int err);
