#!/bin/bash
# Install what Sandhost needs from Debian's archive (idempotent), then build.
# usage: scripts/setup.sh [BUILD_DIR [MESON_ARGS...]]
set -euo pipefail
cd "$(dirname "$0")/.."

# Build, runtime, test and benchmark dependencies, by Debian package name.
packages=(
  meson ninja-build pkg-config gcc libc6-dev python3 jq clang libclang-rt-14-dev bpftool
  libseccomp-dev libselinux1-dev libbpf-dev libnftnl-dev libmnl-dev libssl-dev
  libsqlite3-dev libjansson-dev libh2o-evloop-dev libwslay-dev libcurl4-openssl-dev curl sqlite3 python3-yaml python3-websocket libarchive-dev libbtrfsutil-dev
  btrfs-progs e2fsprogs zstd mmdebstrap attr
  busybox-static procps
  qemu-system-x86 qemu-system-data cpio kmod xz-utils
  selinux-policy-default selinux-policy-dev selinux-policy-src selinux-utils policycoreutils semodule-utils checkpolicy
  chromium fonts-liberation fonts-dejavu-core
  hyperfine wrk runc crun lxc bubblewrap uidmap nftables iproute2 iperf3 podman netavark iptables util-linux-extra
  systemd gdb
)
# Node.js and npm build the portal's UI (xterm.js from npm); the machine's own
# Node.js is used when there is one, Debian's otherwise.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: run as root to install: ${missing[*]}" >&2; exit 1; }
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" ||
    { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

# The portal's unprivileged user (packaging/systemd/sandhost-portal.sysusers on a packaged install).
if ! id -u sandhost-portal >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "setup: run as root to create the user sandhost-portal" >&2; exit 1; }
  useradd --system --no-create-home --shell /usr/sbin/nologin sandhost-portal
fi

# The UI's npm packages, exactly as the lock file says (again only when it changed).
if [ ! portal/node_modules/.package-lock.json -nt portal/package-lock.json ]; then
  npm ci --prefix portal --no-audit --no-fund --loglevel=error
fi

build=${1:-build}
shift || true
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$@"
fi
ninja -C "$build"
