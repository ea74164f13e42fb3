/* What the static test helpers share (tests/helpers/sbx-check and
 * tests/escape/sbx-escape): cleanup attributes and errno and signal names,
 * so every helper prints results the same way ("EPERM", "SIGSYS"). */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED __attribute__((unused))

static inline void closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}
static inline void fclosep(FILE **f)
{
  if (*f)
    fclose(*f);
}
static inline void closedirp(DIR **d)
{
  if (*d)
    closedir(*d);
}
static inline void freep(void *p) { free(*(void **) p); }
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(closedirp)))
#define _cleanup_free_ __attribute__((cleanup(freep)))

/* ---- errno and signal names ---------------------------------------------- */

#define NAMED(x) { x, #x }
static const struct { int num; const char *name; } errno_names[] = {
  NAMED(EPERM), NAMED(ENOENT), NAMED(ESRCH), NAMED(EINTR), NAMED(EIO), NAMED(ENXIO),
  NAMED(E2BIG), NAMED(ENOEXEC), NAMED(EBADF), NAMED(ECHILD), NAMED(EAGAIN), NAMED(ENOMEM),
  NAMED(EACCES), NAMED(EFAULT), NAMED(ENOTBLK), NAMED(EBUSY), NAMED(EEXIST), NAMED(EXDEV),
  NAMED(ENODEV), NAMED(ENOTDIR), NAMED(EISDIR), NAMED(EINVAL), NAMED(ENFILE), NAMED(EMFILE),
  NAMED(ENOTTY), NAMED(ETXTBSY), NAMED(EFBIG), NAMED(ENOSPC), NAMED(ESPIPE), NAMED(EROFS),
  NAMED(EMLINK), NAMED(EPIPE), NAMED(EDOM), NAMED(ERANGE), NAMED(EDEADLK),
  NAMED(ENAMETOOLONG), NAMED(ENOLCK), NAMED(ENOSYS), NAMED(ENOTEMPTY), NAMED(ELOOP),
  NAMED(ENOMSG), NAMED(EIDRM), NAMED(ENODATA), NAMED(ETIME), NAMED(ENOLINK), NAMED(EPROTO),
  NAMED(EBADMSG), NAMED(EOVERFLOW), NAMED(EBADFD), NAMED(EILSEQ), NAMED(EUSERS),
  NAMED(ENOTSOCK), NAMED(EDESTADDRREQ), NAMED(EMSGSIZE), NAMED(EPROTOTYPE),
  NAMED(ENOPROTOOPT), NAMED(EPROTONOSUPPORT), NAMED(EOPNOTSUPP), NAMED(EAFNOSUPPORT),
  NAMED(EADDRINUSE), NAMED(EADDRNOTAVAIL), NAMED(ENETDOWN), NAMED(ENETUNREACH),
  NAMED(ECONNABORTED), NAMED(ECONNRESET), NAMED(ENOBUFS), NAMED(EISCONN), NAMED(ENOTCONN),
  NAMED(ETIMEDOUT), NAMED(ECONNREFUSED), NAMED(EHOSTUNREACH), NAMED(EALREADY),
  NAMED(EINPROGRESS), NAMED(ESTALE), NAMED(EDQUOT), NAMED(ENOMEDIUM), NAMED(EMEDIUMTYPE),
  NAMED(ECANCELED), NAMED(ENOKEY), NAMED(EKEYEXPIRED), NAMED(EKEYREVOKED),
  NAMED(EKEYREJECTED), NAMED(EOWNERDEAD), NAMED(ENOTRECOVERABLE), NAMED(ERFKILL),
  NAMED(EHWPOISON),
};

static const struct { int num; const char *name; } signal_names[] = {
  NAMED(SIGHUP), NAMED(SIGINT), NAMED(SIGQUIT), NAMED(SIGILL), NAMED(SIGTRAP), NAMED(SIGABRT),
  NAMED(SIGBUS), NAMED(SIGFPE), NAMED(SIGKILL), NAMED(SIGSEGV), NAMED(SIGPIPE),
  NAMED(SIGALRM), NAMED(SIGTERM), NAMED(SIGXCPU), NAMED(SIGXFSZ), NAMED(SIGSYS),
};

static inline const char *errno_name(int err)
{
  static char fallback[24];
  for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++)
    if (errno_names[i].num == err)
      return errno_names[i].name;
  snprintf(fallback, sizeof fallback, "E%d", err);
  return fallback;
}

static inline const char *signal_name(int sig)
{
  static char fallback[24];
  for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
    if (signal_names[i].num == sig)
      return signal_names[i].name;
  snprintf(fallback, sizeof fallback, "SIG%d", sig);
  return fallback;
}

