# Shared by the benchmarks in tests/bench; source it, don't run it.
# Provides:
#   bench_init NAME   needs root; makes $BENCH_WORK (a mktemp -d dir) and $BENCH_TAG (a name
#                     unique to this run for cgroups), and removes all of it on exit, also on
#                     failure, Ctrl-C, TERM or HUP.
#   bench_defer CMD   run CMD (eval'd) at exit, before the cgroups and $BENCH_WORK go; the
#                     last deferred runs first.
#   bench_track PID   a process this script started; at exit it gets TERM (then KILL) if it
#                     still runs. Nothing else is ever signalled.
#   bench_cgroup_dirs prints, for each cgroup hierarchy, the directory $BENCH_TAG has below
#                     this process's own cgroup in that hierarchy (it need not exist).
#   bench_machine     one line: kernel, cpus, CPU model, load, date.
#   bench_ms SECONDS  seconds as milliseconds with two decimals.
#
# Cgroups: "below our own cgroup" is read per hierarchy. On a hybrid host each v1 hierarchy
# and the unified one have their own entry in /proc/self/cgroup (here memory is
# /process_api/<hash>, the rest /), so the benchmarks give the runtimes a *relative*
# cgroupsPath, $BENCH_TAG/<runtime>-<id>: runc, crun, sbx (and lxc with lxc.cgroup.relative)
# resolve a relative path against the caller's own cgroup in each hierarchy. Nothing is
# created anywhere but below those, and bench_cleanup rmdirs $BENCH_TAG in every hierarchy.

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_WORK="" BENCH_TAG="" BENCH_DEFER=() BENCH_PIDS=()

bench_init() {
  [ "$(id -u)" = 0 ] || { echo "$1: needs root" >&2; exit 1; }
  BENCH_WORK=$(mktemp -d "/tmp/sandhost-bench.XXXXXX") || exit 1
  BENCH_TAG=$(basename "$BENCH_WORK")
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

bench_defer() { BENCH_DEFER+=("$1"); }
bench_track() { BENCH_PIDS+=("$1"); }

bench_cgroup_dirs() {
  local line ctrls own first mnt
  while IFS= read -r line; do
    ctrls=${line#*:}; own=${ctrls#*:}; ctrls=${ctrls%%:*}
    [ "$own" = / ] && own=""
    if [ -z "$ctrls" ]; then
      mnt=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
    else
      first=${ctrls%%,*}
      mnt=$(awk -v c="$first" '$3 == "cgroup" {
              n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) {print $2; exit} }' /proc/self/mounts)
    fi
    [ -n "$mnt" ] && echo "$mnt$own/$BENCH_TAG"
  done < /proc/self/cgroup
}

bench_child() { # PID: is it a live child of this shell (not a zombie)?
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  set -- $st
  [ "$1" != Z ] && [ "$2" = "$$" ]
}

bench_cleanup() {
  local rc=$? i p d left tries
  trap - EXIT INT TERM HUP
  set +e
  # Our own processes first, so that nothing starts a container behind our back. A PID
  # counts only while it is still our child: one reaped and reused is never signalled.
  # Their own children (hyperfine's runtime) are not signalled, only waited for below.
  local kids=""
  for p in "${BENCH_PIDS[@]}"; do
    bench_child "$p" || continue
    kids="$kids $(cat /proc/"$p"/task/*/children 2>/dev/null)"
    kill -TERM "$p" 2>/dev/null
  done
  for tries in 1 2 3 4 5 6 7 8 9 10; do
    left=""
    for p in "${BENCH_PIDS[@]}"; do bench_child "$p" && left="$left $p"; done
    [ -z "$left" ] && break
    sleep 0.2
  done
  for p in $left; do bench_child "$p" && kill -KILL "$p" 2>/dev/null; done
  # Only ours: a bare `wait` would also wait for a `>(tee ...)` that ends
  # only when this shell does.
  [ ${#BENCH_PIDS[@]} -gt 0 ] && wait "${BENCH_PIDS[@]}" 2>/dev/null
  for tries in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
    left=""
    for p in $kids; do [ -d "/proc/$p" ] && [ "$(sed 's/.*) //' /proc/$p/stat 2>/dev/null | cut -c1)" != Z ] && left="$left $p"; done
    [ -z "$left" ] && break
    sleep 0.2
  done
  for ((i = ${#BENCH_DEFER[@]} - 1; i >= 0; i--)); do eval "${BENCH_DEFER[$i]}"; done
  if [ -n "$BENCH_TAG" ]; then
    for d in $(bench_cgroup_dirs); do
      [ -d "$d" ] || continue
      for tries in 1 2 3 4 5 6 7 8 9 10; do   # a cgroup stays busy for a moment after its last task exits
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        [ -d "$d" ] || break
        sleep 0.2
      done
      [ -d "$d" ] && echo "bench: could not remove cgroup $d" >&2
    done
  fi
  [ -n "$BENCH_WORK" ] && rm -rf "$BENCH_WORK"
  exit "$rc"
}

bench_machine() {
  echo "$(uname -r), $(nproc) cpus, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
       "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
}

bench_ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }
