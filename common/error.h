/* One error contract: fallible functions return -errno and fill an sh_error
 * that names the step and the path.  The struct is flat so a setup child can
 * send it over the sync socket as it is. */
#pragma once

#include <stddef.h>

#define SH_ERR_STEP_MAX 64
#define SH_ERR_PATH_MAX 512
#define SH_ERR_MSG_MAX 512

typedef struct sh_error {
  int err;                    /* positive errno, 0 when unset */
  char step[SH_ERR_STEP_MAX]; /* what we were doing: "mount proc" */
  char path[SH_ERR_PATH_MAX]; /* what it was done to, may be empty */
  char msg[SH_ERR_MSG_MAX];   /* extra detail, may be empty */
} sh_error;

/* Fill *e (if not already set) and return -errnum.  fmt may be NULL. */
int sh_err(sh_error *e, int errnum, const char *step, const char *path,
           const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Same, with errno as the error number. */
#define sh_errno(e, step, path) sh_err((e), errno, (step), (path), NULL)

/* "step: path: msg: strerror" in buf. */
const char *sh_error_str(const sh_error *e, char *buf, size_t len);

void sh_error_clear(sh_error *e);
