/* The syscall table: each entry makes one call with harmless arguments (an
 * invalid fd, a NULL pointer, flags that fail early, or a call whose success
 * only touches the forked child that makes it), so the outcome says whether
 * a filter or the kernel refused it, as amicontained does. */
#pragma once

#include "child.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The entry point a call goes through: the process's own, or on x86_64 the
 * 32-bit one (int 0x80) and the x32 one, which a filter must cover too. */
enum probe_arch { PROBE_ARCH_NATIVE, PROBE_ARCH_X86, PROBE_ARCH_X32 };

enum {
  PROBE_TAKES_ARG = 1 << 0,  /* NAME=ARG picks what it works on (a block device) */
  PROBE_HOST_UNSAFE = 1 << 1, /* skipped in the initial user namespace */
};

struct probe_syscall_check;
typedef long probe_check_fn(const struct probe_syscall_check *c, const char *arg, char *why,
                            size_t why_size);

struct probe_syscall_check {
  const char *name;    /* unique: "keyctl", "unshare-user", "int80-keyctl" */
  const char *syscall; /* the kernel's name of the call made: "keyctl" */
  enum probe_arch arch;
  long nr;             /* its number on that entry point */
  unsigned nargs;      /* how many arguments the call takes */
  unsigned known;      /* bit i: args[i] is the value the filter sees (not a pointer) */
  int64_t args[6];
  probe_check_fn *run; /* NULL: the call with args as they are */
  unsigned flags;
};

extern const struct probe_syscall_check probe_syscall_checks[];
extern const size_t probe_syscall_count;

/* "x86_64" for the native entry point of this build, "x86", "x32". */
const char *probe_arch_name(enum probe_arch a);
/* The check named by spec ("NAME" or "NAME=ARG"); *arg gets ARG or NULL.
 * NULL when there is none, or when ARG is given to a check that takes none. */
const struct probe_syscall_check *probe_syscall_find(const char *spec, const char **arg);
/* Runs one check in a child (probe_in_child). */
void probe_syscall_run(const struct probe_syscall_check *c, const char *arg, struct probe_child *out);
/* One check and its outcome as the report shows it. */
json_t *probe_syscall_json(const struct probe_syscall_check *c, const struct probe_child *out);
/* The "syscalls" section: every check in the table. */
json_t *probe_section_syscalls(void);

/* Mounts source/fstype on a fresh directory and detaches it at once; the
 * result of the mount call (>= 0 or -errno), or PROBE_SKIPPED. */
long probe_mount_and_undo(const char *source, const char *fstype, unsigned long flags,
                          const char *data, char *why, size_t why_size);
