#!/bin/bash
# A hardened busybox container: user namespace, every namespace, seccomp,
# cgroup limits.  Interactive when stdin is a terminal.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
sbx=${SBX:-$src/build/sandbox/sbx}
demo=${SANDHOST_DEMO_DIR:-/var/tmp/sandhost-demo}
[ "$(id -u)" = 0 ] || { echo "demo: run as root" >&2; exit 1; }
if [ ! -d "$demo/rootfs/bin" ]; then
  mkdir -p "$demo"
  "$src/tests/lib/mkrootfs.sh" "$demo/rootfs" 100000
fi
cd "$demo"
rm -f config.json
"$sbx" spec --hardened
id=demo-$$
if [ -t 0 ]; then
  echo "sandhost demo: a shell in container $id (exit to leave)"
  exec "$sbx" run "$id"
fi
jq '.process.terminal = false | .process.args = ["/bin/sh", "-c",
  "echo \"hello from $(hostname): uid map [$(cat /proc/self/uid_map | tr -s \" \")], $(grep Seccomp: /proc/self/status | tr -d \"\\t\"), $(ls /proc | grep -c \"^[0-9]\") processes visible\""]' \
  config.json > config.json.new && mv config.json.new config.json
exec "$sbx" run "$id"
