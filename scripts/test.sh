#!/bin/bash
# Set up, then run every test tier: unit, integration (root), escape (root),
# e2e (the portal in chromium), vm (qemu), unit + integration + escape again under address and
# undefined-behaviour sanitizers, and each libFuzzer target for a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh build
meson test -C build --suite unit --print-errorlogs
meson test -C build --suite integration --print-errorlogs
# Known container-escape classes, each tried from inside a container (docs/threat-model.md).
meson test -C build --suite escape --print-errorlogs
# The portal in Debian's chromium (Playwright), against a real sandhostd and portal; it must run.
SANDHOST_E2E_STRICT=1 meson test -C build --suite e2e --print-errorlogs
# The VM tier must run, not skip, when the suite is asked for.
SANDHOST_VM_STRICT=1 meson test -C build --suite vm --print-errorlogs
./scripts/setup.sh build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C build-sanitize --suite unit --suite integration --suite escape --print-errorlogs
# Each libFuzzer target for a minute from its seeds (clang, sanitizers; its own build dir).
tests/fuzz/run.sh 60
echo "all test tiers passed"
