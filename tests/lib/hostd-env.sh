# sandhostd under test: a daemon of the test's own, in a network namespace
# of its own, with its state, runtime directory, bpffs pins and cgroups
# (a cgroup name unique to this test, below the test's own cgroup) all
# removed at exit, also when the test fails.  Source after tap.sh:
#   . "$(dirname "$0")/../lib/hostd-env.sh"
#   hd_start 1 [--set K=V...]; api METHOD PATH [BODY]; j JQ; wait_op OP;
#   new_id PATH BODY; new_token NAME ROLE [TENANT]; two_tenants PLAN-JSON ALICE-ROLE
# Needs SANDHOSTD and SBX_STORAGE; sets W (the work dir), S (the socket),
# CG (the cgroup name), pid (the daemon's).
[ "$(id -u)" = 0 ] || skip_all "needs root"
: "${SANDHOSTD:?set SANDHOSTD}" "${SBX_STORAGE:?set SBX_STORAGE}"
command -v curl >/dev/null || skip_all "needs curl"
command -v jq >/dev/null || skip_all "needs jq"

W=$(mktemp -d /tmp/sandhost-hd.XXXXXX)
S=$W/run/sandhostd.sock
CG=sandhost-test-$$
SBX_BIN=$(dirname "$SANDHOSTD")/../sandbox/sbx
pid=""
# Cleanup, last registered runs first: the daemon, the containers it left,
# the pool's mounts, the cgroups below ours, the files.
defer "rm -rf '$W'"
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
# The $CG directory below our own cgroup in every hierarchy: the only
# cgroups this test may remove.
own_dirs() {
  local n c p base
  while IFS=: read -r n c p; do
    if [ -z "$c" ]; then base=/sys/fs/cgroup; [ -d /sys/fs/cgroup/unified ] && base=/sys/fs/cgroup/unified
    else base=/sys/fs/cgroup/${c#name=}; fi
    echo "$base${p%/}/$CG"
  done < /proc/self/cgroup
}
defer 'for d in $(own_dirs); do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} +; done'
defer "'$SBX_STORAGE' --pool '$W/state/pools/default' pool unmount >/dev/null 2>&1"
defer "for m in \$(awk '\$2 ~ \"^$W/\" {print \$2}' /proc/mounts | sort -r); do umount -l \"\$m\"; done"
defer "for c in \$(ls '$W/run/sbx' 2>/dev/null); do '$SBX_BIN' --root '$W/run/sbx' delete --force \"\$c\"; done"
defer 'hd_alive && hd_stop; [ "$hd_forced" = 0 ] || cleanup_failed "sandhostd ($pid) did not stop on SIGTERM"'

# sandhostd's "host" network namespace: its bridges, veths and nft tables
# live there, never in the machine's (it outlives daemon restarts).
touch "$W/hostns"
unshare --net="$W/hostns" true || skip_all "cannot make a network namespace"

hd_start() { # hd_start N [--set K=V...]: the daemon's output in $W/out.N
  local n=$1
  shift
  nsenter --net="$W/hostns" "$SANDHOSTD" "$@" --foreground --set "state_dir=$W/state" --set "runtime_dir=$W/run" --set pool_size=2G \
    --set idmap_start=3000000 --set stop_timeout=5 --set usage_interval=1 --set "bpf_dir=$W/bpf" --set "cgroup_name=$CG" \
    > "$W/out.$n" 2>&1 &
  pid=$!
  # Serving, not just a socket file (a SIGKILLed daemon leaves its own).  A
  # daemon that died, or never answers, is said at once with its output.
  local i
  for i in $(seq 300); do
    curl -sf --max-time 10 --unix-socket "$S" -o /dev/null http://sandhost/1.0 && return 0
    hd_alive || break
    sleep 0.1
  done
  diag "sandhostd ($n) is not serving after $i tries$(hd_alive || echo ': it exited')"
  tail -n 40 "$W/out.$n" | sed 's/^/#   /'
  hd_alive && hd_threads
  return 1
}
# Whether the daemon runs (an exited child stays a zombie until waited for).
hd_alive() { [ -n "$pid" ] && [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" != Z ] && [ -e "/proc/$pid" ]; }
# What each of the daemon's threads is doing, as diagnostics.
# (On the TAP stream: also from cleanup, whose output is otherwise hidden.)
hd_threads() {
  if command -v gdb >/dev/null; then
    timeout 60 gdb -p "$pid" -batch -iex 'set debuginfod enabled off' -ex 'thread apply all bt 20' 2>/dev/null | grep -E '^(Thread|#)'
  else
    for t in /proc/"$pid"/task/*; do echo "thread ${t##*/} $(cat "$t/wchan")"; cat "$t/stack"; done 2>/dev/null
  fi | sed 's/^/#   /' >&"$_tap_out"
}
# hd_stop: SIGTERM, and up to 60 s for the daemon to go; one that will not
# is shown and SIGKILLed (hd_forced=1).  wait's status.
hd_forced=0
hd_stop() {
  local i
  kill "$pid" 2>/dev/null
  for i in $(seq 600); do hd_alive || break; sleep 0.1; done
  if hd_alive; then
    hd_forced=1
    echo "# sandhostd ($pid) still runs 60 s after SIGTERM; its threads:" >&"$_tap_out"
    hd_threads
    kill -9 "$pid"
  fi
  wait "$pid"
}
api() { # api [-t TOKEN] METHOD PATH [BODY]: prints "STATUS BODY"; the body also in $W/body
  local auth=()
  if [ "$1" = -t ]; then auth=(-H "Authorization: Bearer $2"); shift 2; fi
  curl -s --unix-socket "$S" -X "$1" -o "$W/body" -w '%{http_code}' "${auth[@]}" \
    ${3:+-H 'Content-Type: application/json' --data-binary "$3"} "http://sandhost$2"
  echo " $(cat "$W/body")"
}
j() { jq -r "$1" "$W/body"; }
wait_op() { # wait_op [-t TOKEN] OP: the operation's final status
  local t=()
  if [ "$1" = -t ]; then t=(-t "$2"); shift 2; fi
  api "${t[@]}" GET "/1.0/operations/$1/wait?timeout=60" >/dev/null
  [ "$(j .status)" = success ] || { diag "operation $1: $(j .error)"; tail -n 8 "$W"/out.* | sed 's/^/# /'; } >&2
  j .status
}
# The unified cgroup directory sandhostd puts tenants' cgroups in.
unified=$(own_dirs | head -1)
[ -d /sys/fs/cgroup/unified ] && unified=$(own_dirs | grep '^/sys/fs/cgroup/unified/')
in_c() { # in_c ID CMD: CMD in the container's namespaces and cgroup, as its root (what exec will do)
  local p t
  api GET "/1.0/containers/$1" >/dev/null
  p=$(j .pid) t=$(j .tenant_id)
  sh -c 'echo $$ > "$1/t$2/c$3/cgroup.procs" && exec nsenter -t "$4" -n -m -U sh -c "$5"' - "$unified" "$t" "$1" "$p" "$2"
}
new_id() { # new_id PATH BODY: POST as root; the new object's id
  api POST "$1" "$2" >/dev/null
  j .id
}
new_token() { # new_token NAME ROLE [TENANT]: a new user's API token
  new_id /1.0/users "{\"name\": \"$1\", \"role\": \"$2\"${3:+, \"tenant_id\": $3}}" >/dev/null
  api POST "/1.0/users/$(j .id)/tokens" '{"name": "t"}' >/dev/null
  j .token
}
two_tenants() { # two_tenants PLAN-JSON ALICE-ROLE: sets plan, tenants acme and globex on it,
  # ta (alice's token: ALICE-ROLE of acme) and tg (gus's: owner of globex)
  plan=$(new_id /1.0/plans "$1")
  acme=$(new_id /1.0/tenants "{\"name\": \"acme\", \"plan_id\": $plan}")
  globex=$(new_id /1.0/tenants "{\"name\": \"globex\", \"plan_id\": $plan}")
  ta=$(new_token alice "$2" "$acme")
  tg=$(new_token gus owner "$globex")
}
