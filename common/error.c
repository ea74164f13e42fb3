#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void copy(char *dst, size_t len, const char *src)
{
  if (!src)
    src = "";
  snprintf(dst, len, "%s", src);
}

int sh_err(sh_error *e, int errnum, const char *step, const char *path,
           const char *fmt, ...)
{
  if (errnum <= 0)
    errnum = EIO;
  /* The first error is the cause; later ones are consequences. */
  if (e && e->err == 0) {
    e->err = errnum;
    copy(e->step, sizeof e->step, step);
    copy(e->path, sizeof e->path, path);
    e->msg[0] = '\0';
    if (fmt) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(e->msg, sizeof e->msg, fmt, ap);
      va_end(ap);
    }
  }
  return -errnum;
}

const char *sh_error_str(const sh_error *e, char *buf, size_t len)
{
  int n = snprintf(buf, len, "%s", e->step[0] ? e->step : "error");
  if (e->path[0] && n >= 0 && (size_t) n < len)
    n += snprintf(buf + n, len - n, ": %s", e->path);
  if (e->msg[0] && n >= 0 && (size_t) n < len)
    n += snprintf(buf + n, len - n, ": %s", e->msg);
  if (n >= 0 && (size_t) n < len)
    snprintf(buf + n, len - n, ": %s", strerror(e->err ? e->err : EIO));
  return buf;
}

void sh_error_clear(sh_error *e)
{
  memset(e, 0, sizeof *e);
}
