/* Network namespaces for the netfw tests: each test builds its world in
 * namespaces it makes, and the root namespace is never changed. */
#pragma once
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Skip the whole test (TAP) unless root. */
static inline void netns_need_root(void)
{
  if (geteuid() != 0) {
    printf("1..0 # SKIP needs root\n");
    exit(0);
  }
}

/* Move this thread into a fresh network namespace; an fd to it, -1 on error. */
static inline int netns_new(void)
{
  if (unshare(CLONE_NEWNET) < 0)
    return -1;
  return open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
}
