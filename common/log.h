/* Logging to stderr or a file, as text or JSON lines (runc's --log-format). */
#pragma once

enum sh_log_level { SH_LOG_ERROR, SH_LOG_WARN, SH_LOG_INFO, SH_LOG_DEBUG };

int sh_log_open(const char *path, const char *format);
void sh_log_set_level(enum sh_log_level level);
/* The program name that starts each line (default "sbx"). */
void sh_log_set_name(const char *name);
void sh_log(enum sh_log_level level, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

#define sh_error_log(...) sh_log(SH_LOG_ERROR, __VA_ARGS__)
#define sh_warn(...) sh_log(SH_LOG_WARN, __VA_ARGS__)
#define sh_info(...) sh_log(SH_LOG_INFO, __VA_ARGS__)
#define sh_debug(...) sh_log(SH_LOG_DEBUG, __VA_ARGS__)
