/* A summary of the syscall checks that answer "can it make one?", and the
 * one attempt that is more than a single call: a tmpfs mounted in a mount
 * namespace of the child's own (made private first, so nothing propagates). */
#include "abilities.h"
#include "jsonout.h"
#include "syscalls.h"

#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct { const char *key, *check; } namespaces[] = {
  {"user", "unshare-user"}, {"mount", "unshare-ns"}, {"uts", "unshare-uts"}, {"ipc", "unshare-ipc"},
  {"net", "unshare-net"}, {"pid", "unshare-pid"}, {"cgroup", "unshare-cgroup"}, {"time", "unshare-time"},
};

static const struct { const char *key, *check; } sockets[] = {
  {"raw_ipv4", "socket-inet-raw"}, {"raw_ipv6", "socket-inet6-raw"}, {"packet", "socket-packet-raw"},
};

static long mount_in_new_ns(const void *arg, char *why, size_t n)
{
  if (unshare(CLONE_NEWNS) < 0)
    return probe_skip(why, n, "unshare", errno);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return probe_skip(why, n, "make-private", errno);
  return probe_mount_and_undo("tmpfs", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k", why, n);
}

static json_t *check_result(const char *name)
{
  const char *arg;
  const struct probe_syscall_check *c = probe_syscall_find(name, &arg);
  struct probe_child out;
  if (!c)
    return json_null();
  probe_syscall_run(c, NULL, &out);
  return json_string(probe_child_result(&out));
}

json_t *probe_section_abilities(void)
{
  json_t *ns = json_object(), *so = json_object();
  for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++)
    probe_set(ns, namespaces[i].key, check_result(namespaces[i].check));
  for (size_t i = 0; i < sizeof sockets / sizeof sockets[0]; i++)
    probe_set(so, sockets[i].key, check_result(sockets[i].check));

  json_t *mo = json_object();
  probe_set(mo, "tmpfs", check_result("mount-tmpfs"));
  struct probe_child out;
  probe_in_child(mount_in_new_ns, NULL, 10, &out);
  json_t *in_ns = json_object();
  probe_child_to_json(&out, in_ns);
  probe_set(mo, "tmpfs_in_new_mount_ns", in_ns);
  return json_pack("{s:o, s:o, s:o}", "namespaces", ns, "sockets", so, "mount", mo);
}
