#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

static const char *log_name = "sbx";

void sh_log_set_name(const char *name) { log_name = name; }

static int log_fd = 2;
static int log_json;
static enum sh_log_level log_level = SH_LOG_WARN;

static const char *const level_names[] = {
  [SH_LOG_ERROR] = "error",
  [SH_LOG_WARN] = "warning",
  [SH_LOG_INFO] = "info",
  [SH_LOG_DEBUG] = "debug",
};

int sh_log_open(const char *path, const char *format)
{
  if (format && strcmp(format, "json") == 0)
    log_json = 1;
  else if (format && strcmp(format, "text") != 0)
    return -EINVAL;
  if (path && *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
      return -errno;
    log_fd = fd;
  }
  return 0;
}

void sh_log_set_level(enum sh_log_level level)
{
  log_level = level;
}

void sh_log(enum sh_log_level level, const char *fmt, ...)
{
  char msg[2048];
  va_list ap;
  int saved = errno;

  if (level > log_level)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);

  if (log_json) {
    struct timespec ts;
    char when[64];
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *o = json_pack("{s:s,s:s,s:s}", "level", level_names[level],
                          "msg", msg, "time", when);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (line)
      dprintf(log_fd, "%s\n", line);
    free(line);
    json_decref(o);
  } else if (level == SH_LOG_DEBUG) {
    /* Debug lines carry the time since start: `sbx --debug run` is a profile. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    static double start;
    if (!start)
      start = now;
    dprintf(log_fd, "%s[%d] +%.3fms: %s\n", log_name, getpid(), now - start, msg);
  } else {
    dprintf(log_fd, "%s: %s: %s\n", log_name, level_names[level], msg);
  }
  errno = saved;
}
