# Shared set-up for tests that run containers with sbx.  Needs root.
# Provides: $SBX, $SBX_ROOT, $WORK, $ROOTFS (busybox, owned by 100000),
# make_bundle NAME [jq-filter [sbx-spec-args...]] -> prints the bundle dir, sbx (wrapper with --root).
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root"
: "${SBX:?set SBX to the sbx binary}"
: "${SANDHOST_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
WORK=$(mktemp -d /tmp/sbx-test.XXXXXX)
SBX_ROOT=$WORK/state
defer "rm -rf '$WORK'"
# Any container left by a failed test is removed with its cgroups.
defer 'for d in "$SBX_ROOT"/*/; do [ -d "$d" ] && "$SBX" --root "$SBX_ROOT" delete --force "$(basename "$d")"; done'

ROOTFS=$WORK/rootfs
"$SANDHOST_SRC/tests/lib/mkrootfs.sh" "$ROOTFS" 100000
if [ -n "${SBX_CHECK:-}" ] && [ -x "$SBX_CHECK" ]; then
  cp "$SBX_CHECK" "$ROOTFS/bin/sbx-check"
  chown 100000:100000 "$ROOTFS/bin/sbx-check"
fi

sbx() { "$SBX" --root "$SBX_ROOT" "$@"; }

# make_bundle NAME [JQ-FILTER [SPEC-ARGS...]]: a hardened bundle sharing the
# test rootfs; SPEC-ARGS go to `sbx spec --hardened` (--seccomp strict).
make_bundle() {
  local b=$WORK/$1 filter=${2:-.}
  mkdir -p "$b"
  ln -sfn "$ROOTFS" "$b/rootfs"
  (cd "$b" && "$SBX" spec --hardened "${@:3}")
  # SBX_TEST_FILTER: an extra jq filter for debugging (e.g. 'del(.linux.seccomp)').
  jq '.process.terminal = false | .root.path = "rootfs"' "$b/config.json" | jq "$filter" |
    jq "${SBX_TEST_FILTER:-.}" > "$b/config.new"
  mv "$b/config.new" "$b/config.json"
  echo "$b"
}

# Nothing of container ID may remain: state dir, cgroups, processes.
assert_gone() { # assert_gone ID DESCRIPTION
  local left=""
  [ -e "$SBX_ROOT/$1" ] && left="$left state"
  for c in /sys/fs/cgroup/unified /sys/fs/cgroup /sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup/cpu; do
    [ -d "$c" ] || continue
    find "$c" -maxdepth 6 -type d -path "*/sbx/$1" 2>/dev/null | grep -q . && left="$left cgroup:$c"
  done
  is "${left:-none}" none "$2"
}
