#!/bin/bash
# A hardened busybox container on the default storage pool: the pool (a
# sparse loop-backed btrfs file) and the busybox image are made on first use,
# the container gets its own O(1) volume with a 1 GiB quota, mounted with its
# id map, and runs with a user namespace, every namespace, seccomp and cgroup
# limits.  Interactive when stdin is a terminal.  The volume goes at exit.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
sbx=${SBX:-$src/build/sandbox/sbx}
store=${SBX_STORAGE:-$src/build/sandbox/sbx-storage}
pool=${SANDHOST_POOL:-/var/lib/sandhost/pools/default}
demo=${SANDHOST_DEMO_DIR:-/var/tmp/sandhost-demo}
[ "$(id -u)" = 0 ] || { echo "demo: run as root" >&2; exit 1; }
st() { "$store" --pool "$pool" "$@"; }

if [ ! -f "$pool/pool.json" ]; then
  echo "sandhost demo: creating the default pool at $pool (sparse, 20 GiB)"
  mkdir -p "$(dirname "$pool")"
  st pool create
fi
st image build busybox > /dev/null
id=demo-$$
rootfs=/run/sandhost/rootfs/$id
st volume create "$id" busybox --quota 1G
cleanup() {
  st volume unmount "$id" "$rootfs" 2>/dev/null || true
  st volume delete "$id" || true
}
trap cleanup EXIT
st volume mount "$id" "$rootfs" --uid-map 0:100000:65536

mkdir -p "$demo"
cd "$demo"
rm -f config.json
"$sbx" spec --hardened
if [ -t 0 ]; then
  jq --arg r "$rootfs" '.root.path = $r' config.json > config.json.new
else
  script='echo "hello from $(hostname): uid map [$(tr -s " " < /proc/self/uid_map)], $(grep Seccomp: /proc/self/status | tr -d "\t"), $(ls /proc | grep -c "^[0-9]") processes visible, / owned by uid $(stat -c %u /)"'
  jq --arg r "$rootfs" --arg s "$script" \
    '.root.path = $r | .process.terminal = false | .process.args = ["/bin/sh", "-c", $s]' config.json > config.json.new
fi
mv config.json.new config.json
[ -t 0 ] && echo "sandhost demo: a shell in container $id (exit to leave)"
"$sbx" run "$id"
