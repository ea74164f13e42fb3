#!/bin/bash
# Shocker: open_by_handle_at with a guessed handle (ext4's root is inode 2)
# opens a file of the host's filesystem through any fd on it, bypassing the
# mount namespace; it needs CAP_DAC_READ_SEARCH, which Docker 0.x gave.
# Write-up: https://medium.com/@fun_cuddles/docker-breakout-exploit-analysis-a274fff0e6b3
# Exploit: http://stealth.openwall.net/xSports/shocker.c
# In Sandhost open_by_handle_at fails with EPERM (seccomp); beneath that the
# kernel requires CAP_DAC_READ_SEARCH in the host's user namespace.
. "$(dirname "$0")/escape-env.sh"

run_hardened esc
ok $? "a hardened container runs"
out=$(sbx exec esc sbx-escape shocker)
is "$(echo "$out" | grep '^open_by_handle_at')" "open_by_handle_at EPERM" "open_by_handle_at of the host's root inode: EPERM"
like "$(echo "$out" | grep '^name_to_handle_at')" "ok|EPERM|EOPNOTSUPP" "name_to_handle_at (harmless alone) answers"
like "$(sbx exec esc sbx-check syscall open_by_handle_at)" "^open_by_handle_at EPERM" "and the plain probe agrees"
cap=$(sbx exec esc sbx-check caps | awk '/CapBnd/ {print $2}')
check "(0x$cap >> 2 & 1) == 0" "CAP_DAC_READ_SEARCH (2) is not even in the bounding set ($cap)"
sbx delete --force esc
done_testing
