#!/bin/bash
# userfaultfd and io_uring as exploitation primitives: userfaultfd stalls a
# kernel copy from user memory at will, which turns use-after-free races
# into reliable exploits; io_uring has been the source of a long line of
# kernel privilege escalations (Google disabled it on its production and
# ChromeOS kernels for that reason).
# userfaultfd: https://duasynt.com/blog/linux-kernel-heap-spray
# io_uring: https://security.googleblog.com/2023/06/learnings-from-kctf-vrps-42-linux.html
# In Sandhost the seccomp profile answers EPERM for all of them (io_uring's
# three calls, userfaultfd), and /dev/userfaultfd is not in the container.
. "$(dirname "$0")/escape-env.sh"

run_hardened esc
ok $? "a hardened container runs"
out=$(sbx exec esc sbx-escape uring)
for s in io_uring_setup io_uring_enter io_uring_register userfaultfd; do
  # io_uring_enter and _register get fd -1: past the filter they would say EBADF.
  is "$(echo "$out" | grep "^$s ")" "$s EPERM" "$s: EPERM from the filter"
done
like "$(echo "$out" | grep '^dev-userfaultfd')" "ENOENT|EPERM|EACCES" "/dev/userfaultfd cannot be opened"
# The host kernel does have them: the denial is the container's.
like "$("$SBX_ESCAPE" uring | grep '^io_uring_enter')" "EBADF" "on the host io_uring_enter reaches the kernel (EBADF)"
sbx delete --force esc
done_testing
