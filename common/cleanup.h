/* Scope-bound cleanup helpers, as crun, bubblewrap and systemd use them. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

static inline void sh_freep(void *p) { free(*(void **) p); }
static inline void sh_closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}
static inline void sh_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void sh_closedirp(DIR **d) { if (*d) closedir(*d); }
static inline void sh_strvfreep(char ***v)
{
  if (*v) {
    for (char **p = *v; *p; p++)
      free(*p);
    free(*v);
  }
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(sh_freep)
#define _cleanup_close_ _cleanup_(sh_closep)
#define _cleanup_fclose_ _cleanup_(sh_fclosep)
#define _cleanup_closedir_ _cleanup_(sh_closedirp)
#define _cleanup_strv_ _cleanup_(sh_strvfreep)

/* Hand ownership on: returns the value and leaves the variable empty. */
#define steal_ptr(p) __extension__({ __typeof__(p) _sp = (p); (p) = NULL; _sp; })
#define steal_fd(fd) __extension__({ int _sf = (fd); (fd) = -1; _sf; })

#define SH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
