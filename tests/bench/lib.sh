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
#   bench_rmcg DIR    remove the cgroup DIR and everything below it (empty ones; retried while
#                     the kernel still holds a cgroup whose last task just left).
#   bench_hostd_start [--set K=V]...  sandhostd of the benchmark's own (below).
#   bench_hostd_stop  takes it all down; also run at exit.
#   bench_api METHOD PATH [BODY]  one request to it; prints the body.
#   bench_podman_start DIR ROOTFS  podman with all its state in DIR and its containers' network in
#                     a network namespace of its own; ROOTFS imported as the image
#                     localhost/sandhost-bench-busybox. bench_podman ARGS... runs podman there;
#                     bench_podman_stop removes its containers and all of it (also at exit).
#
# sandhostd under benchmark runs in a network namespace of the benchmark's own
# ($BENCH_WORK/hostns: its bridges, veths, nft tables), with its state, runtime directory and
# bpffs pins in $BENCH_WORK and its cgroups in $BENCH_TAG.hd beside $BENCH_TAG (cgroup_name).
# It gets a plan "bench" (1,000 containers of 64 MiB, 100 millicpu; id in $BENCH_HD_PLAN);
# $BENCH_HD is its pid, $BENCH_HD_SOCK its socket, $BENCH_BUILD the build tree (env BUILD).
#
# Cgroups: "below our own cgroup" is read per hierarchy. On a hybrid host each v1 hierarchy
# and the unified one have their own entry in /proc/self/cgroup (here memory is
# /process_api/<hash>, the rest /), so the benchmarks give the runtimes a *relative*
# cgroupsPath, $BENCH_TAG/<runtime>-<id>: runc, crun, sbx (and lxc with lxc.cgroup.relative)
# resolve a relative path against the caller's own cgroup in each hierarchy. Nothing is
# created anywhere but below those, and bench_cleanup rmdirs $BENCH_TAG in every hierarchy.

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_BUILD=${BUILD:-$BENCH_SRC/build}
BENCH_WORK="" BENCH_TAG="" BENCH_DEFER=() BENCH_PIDS=() BENCH_HD="" BENCH_HD_SOCK="" BENCH_HD_PLAN=""

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
    for d in $(bench_cgroup_dirs); do bench_rmcg "$d"; done
  fi
  [ -n "$BENCH_WORK" ] && rm -rf "$BENCH_WORK"
  exit "$rc"
}

bench_rmcg() {
  local tries
  [ -d "$1" ] || return 0
  for tries in 1 2 3 4 5 6 7 8 9 10; do   # a cgroup stays busy for a moment after its last task exits
    find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
    [ -d "$1" ] || return 0
    sleep 0.2
  done
  echo "bench: could not remove cgroup $1" >&2
}

bench_api() {
  curl -s --unix-socket "$BENCH_HD_SOCK" -X "$1" ${3:+-H 'Content-Type: application/json' --data-binary "$3"} "http://x$2"
}

bench_hostd_start() {
  local w=$BENCH_WORK x
  for x in "$BENCH_BUILD/hostd/sandhostd" "$BENCH_BUILD/sandbox/sbx" "$BENCH_BUILD/sandbox/sbx-storage"; do
    [ -x "$x" ] || { echo "bench: build first ($x missing)" >&2; return 1; }
  done
  for x in curl jq nsenter unshare; do command -v $x >/dev/null || { echo "bench: needs $x" >&2; return 1; }; done
  BENCH_HD_SOCK=$w/run/sandhostd.sock
  touch "$w/hostns"
  unshare --net="$w/hostns" true || return 1
  bench_defer bench_hostd_stop
  nsenter --net="$w/hostns" "$BENCH_BUILD/hostd/sandhostd" --foreground --set "state_dir=$w/state" --set "runtime_dir=$w/run" \
    --set "bpf_dir=$w/bpf" --set "cgroup_name=$BENCH_TAG.hd" --set pool_size=4G --set idmap_start=4000000 \
    --set idmap_count=13107200 --set stop_timeout=1 --set usage_interval=3600 ${WORKERS:+--set "workers=$WORKERS"} "$@" > "$w/daemon.log" 2>&1 &
  BENCH_HD=$!
  bench_track "$BENCH_HD"
  for x in $(seq 300); do curl -sf --unix-socket "$BENCH_HD_SOCK" -o /dev/null http://x/1.0 && break; sleep 0.1; done
  BENCH_HD_PLAN=$(bench_api POST /1.0/plans '{"name": "bench", "cpu_millis": 100, "memory_mib": 64, "pids": 64, "disk_mib": 64,
    "bandwidth_mbit": 100, "max_containers": 1000, "total_cpu_millis": 100000, "total_memory_mib": 64000,
    "total_disk_mib": 64000, "net_default": "allow", "seccomp": "default"}' | jq -r '.id // empty')
  [ -n "$BENCH_HD_PLAN" ] || { echo "bench: sandhostd did not start:" >&2; tail -n 5 "$w/daemon.log" >&2; return 1; }
}

# The daemon first (its containers keep running), then the containers, the pool's mounts
# and every other mount in $BENCH_WORK (the netns, bpffs), then its cgroups.
bench_hostd_stop() {
  local w=$BENCH_WORK c m d tries
  [ -n "$BENCH_HD_SOCK" ] || return 0
  BENCH_HD_SOCK=""
  if bench_child "$BENCH_HD"; then
    kill -TERM "$BENCH_HD"
    for tries in $(seq 50); do bench_child "$BENCH_HD" || break; sleep 0.2; done
    bench_child "$BENCH_HD" && kill -KILL "$BENCH_HD"
    wait "$BENCH_HD" 2>/dev/null
  fi
  for c in $(ls "$w/run/sbx" 2>/dev/null); do "$BENCH_BUILD/sandbox/sbx" --root "$w/run/sbx" delete --force "$c"; done
  "$BENCH_BUILD/sandbox/sbx-storage" --pool "$w/state/pools/default" pool unmount >/dev/null 2>&1
  for m in $(awk -v w="$w/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m"; done
  for d in $(bench_cgroup_dirs); do bench_rmcg "$d.hd"; done
}

# podman's state in DIR: locks in files (not a root-wide /dev/shm segment), events in a file,
# cgroupfs (containers get a relative cgroup-parent, below ours), runc through a wrapper that
# drops the spec's rlimits: podman asks for more than our hard limits, and runc's prlimit()
# of its init is refused here (no CAP_SYS_RESOURCE). netavark's configuration is in DIR, its
# bridge and NAT rules in DIR/netns; its IPAM database (/run/containers/networks) and the image
# blob cache (/var/lib/containers/cache) are at fixed paths for root: removed at exit if they
# were not there before.
BENCH_PODMAN=""
bench_podman_start() {
  local d=$1
  command -v podman >/dev/null || { echo "podman: not installed" >&2; return 1; }
  BENCH_PODMAN=$d
  # Deferred steps run last first: these after bench_podman_stop (its rm writes the IPAM database).
  [ -e /run/containers ] || bench_defer 'rm -f /run/containers/networks/ipam.db; rmdir /run/containers/networks /run/containers 2>/dev/null'
  [ -e /var/lib/containers ] ||
    bench_defer 'rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb; rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null'
  bench_defer bench_podman_stop
  mkdir -p "$d/bin" && touch "$d/netns" && unshare --net="$d/netns" true || return 1
  cat > "$d/bin/runc" <<'EOF'
#!/bin/sh
b="" prev=""
for a in "$@"; do [ "$prev" = --bundle ] && b=$a; prev=$a; done
if [ -n "$b" ] && [ -f "$b/config.json" ]; then
  jq 'del(.process.rlimits)' "$b/config.json" > "$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
fi
exec runc "$@"
EOF
  chmod +x "$d/bin/runc"
  cat > "$d/containers.conf" <<EOF
[engine]
lock_type = "file"
events_logger = "file"
cgroup_manager = "cgroupfs"
runtime = "runc"
tmp_dir = "$d/tmp"
[network]
network_config_dir = "$d/net"
[engine.runtimes]
runc = ["$d/bin/runc"]
EOF
  export CONTAINERS_CONF=$d/containers.conf
  tar -C "$2" -c . | bench_podman import - localhost/sandhost-bench-busybox > /dev/null
}

bench_podman() {
  nsenter --net="$BENCH_PODMAN/netns" podman --root "$BENCH_PODMAN/root" --runroot "$BENCH_PODMAN/run" --storage-driver overlay "$@"
}

bench_podman_stop() {
  local m
  [ -d "$BENCH_PODMAN" ] || return 0
  bench_podman rm -af -t 0 > /dev/null 2>&1
  bench_podman system reset -f > /dev/null 2>&1
  for m in $(awk -v w="$BENCH_PODMAN/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m"; done
  rm -rf "$BENCH_PODMAN"
}

bench_machine() {
  echo "$(uname -r), $(nproc) cpus, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
       "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
}

bench_ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }
