#!/bin/bash
# sandhost-portal's throughput: GET /1.0/containers for a tenant with 1,000
# containers (rows added straight to the database, as tests/bench/api does:
# the listing reads only the database), with a bearer token,
#  - through the portal: wrk over HTTPS with keep-alive (2 threads, C connections);
#  - the reference, sandhostd's portal socket directly: the same client count
#    over unix sockets (wrk cannot speak to one; a Python client per connection);
#  - both with one keep-alive connection and one client (Python), side by side;
#  - wrk through the portal on a page (?limit=50) and on a revalidation
#    (If-None-Match with the list's entity tag: 304, no body);
#  - the peer: podman's REST API (`podman system service`, its own storage and
#    network namespace) listing N created containers, beside sandhostd's socket
#    listing a second tenant's N containers, with the same Python client;
#  - first page loads in chromium (pageload.mjs): the login page and the
#    container list of 1,000, cold and warm.
# Prints requests/s, p50 and p99.  sandhostd, the portal, podman and chromium
# run in network namespaces of the benchmark's own; nothing outlives it.
# usage: tests/bench/portal/run.sh [--duration S] [--connections C] [--pageload-runs N]
#                                  [--podman-max N] [--podman-secs S] [--out FILE]
# --pageload-runs 0 and --podman-max 0 leave those parts out.
. "$(dirname "$0")/../lib.sh"

dur=10 conns=32 out="" pl_runs=10 pm_max=1000 pm_secs=120
usage="usage: $0 [--duration S] [--connections C] [--pageload-runs N] [--podman-max N] [--podman-secs S] [--out FILE]"
while [ $# -gt 0 ]; do
  case $1 in
    --duration) dur=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --pageload-runs) pl_runs=$2; shift 2 ;;
    --podman-max) pm_max=$2; shift 2 ;;
    --podman-secs) pm_secs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
for v in "$dur" "$conns" "$pl_runs" "$pm_max" "$pm_secs"; do
  [[ $v =~ ^[0-9]+$ ]] || { echo "portal bench: $v is not a number; $usage" >&2; exit 2; }
done
MODULES=$(cd "$(dirname "$0")/../../.." && pwd)/portal/node_modules
if [ "$pl_runs" -gt 0 ]; then
  command -v node >/dev/null || { echo "portal bench: needs node for the page loads (or --pageload-runs 0)" >&2; exit 1; }
  [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "portal bench: needs chromium (or --pageload-runs 0)" >&2; exit 1; }
  [ -d "$MODULES/playwright-core" ] || { echo "portal bench: run npm ci in portal/ (or --pageload-runs 0)" >&2; exit 1; }
fi
if ! command -v wrk >/dev/null; then
  [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk >/dev/null
  command -v wrk >/dev/null || { echo "portal bench: needs wrk (apt-get install wrk)" >&2; exit 1; }
fi
for t in jq curl sqlite3 nsenter; do command -v $t >/dev/null || { echo "portal bench: needs $t" >&2; exit 1; }; done
PORTAL=$BENCH_BUILD/portal/sandhost-portal
[ -x "$PORTAL" ] || { echo "portal bench: build first ($PORTAL missing)" >&2; exit 1; }
id -u sandhost-portal >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin sandhost-portal
PY=/usr/bin/python3

bench_init portal
W=$BENCH_WORK
m_start=$(bench_machine)
exec 3>&1
[ -z "$out" ] || exec 3> >(tee "$out")
bench_hostd_start || exit 1
PS=$W/run/portal.sock
[ -S "$PS" ] || { echo "portal bench: sandhostd has no portal socket ($PS): it predates portal_socket" >&2; exit 1; }
innet() { nsenter --net="$W/hostns" "$@"; }
innet ip link set lo up

# A tenant, its owner (with a password, for the browser) and the owner's token;
# COUNT containers in its rows.  Prints "token".
pw=$(head -c 18 /dev/urandom | base64 | tr '/+' '_-')
add_tenant() { # NAME COUNT
  local tenant user
  tenant=$(bench_api POST /1.0/tenants "{\"name\": \"$1\", \"plan_id\": $BENCH_HD_PLAN}" | jq -r .id)
  user=$(bench_api POST /1.0/users "{\"name\": \"$1-owner\", \"role\": \"owner\", \"tenant_id\": $tenant, \"password\": \"$pw\"}" | jq -r .id)
  [[ $tenant =~ ^[0-9]+$ && $user =~ ^[0-9]+$ ]] || { echo "portal bench: making tenant $1 failed" >&2; return 1; }
  sqlite3 "$W/state/sandhost.db" "PRAGMA busy_timeout = 5000;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
    INSERT INTO containers (tenant_id, name, image_id, state, cpu_millis, memory_mib, pids, disk_mib, bandwidth_mbit, created_at)
    SELECT $tenant, '$1' || i, 1, 'stopped', 100, 64, 64, 64, 100, 0 FROM n;" >/dev/null || return 1
  bench_api POST "/1.0/users/$user/tokens" '{"name": "bench"}' | jq -r .token
}
tok=$(add_tenant bench 1000) && [ -n "$tok" ] || exit 1

# The portal: the benchmark's own certificate, port 8443 in the namespace.
chmod 0711 "$W" "$W/run"
mkdir -m 0755 "$W/portal"
# The UI as the build installs it (the sources and xterm from node_modules),
# apart from the certificate's directory.
if [ -d "$MODULES/@xterm/xterm" ]; then
  node "$BENCH_SRC/portal/web/vendor.mjs" --modules "$MODULES" --out "$W/assets" >/dev/null || exit 1
else
  mkdir "$W/assets"
fi
chmod -R a+rX "$W/assets"
nsenter --net="$W/hostns" "$PORTAL" --foreground --set listen=127.0.0.1:8443 --set "api_socket=$PS" --set "cert=$W/portal/cert.pem" \
  --set "key=$W/portal/key.pem" --set "assets=$W/assets" > "$W/portal.log" 2>&1 &
pt_pid=$!   # nsenter execs the portal: its own pid
bench_track "$pt_pid"
for _ in $(seq 100); do innet curl -sk -o /dev/null https://127.0.0.1:8443/ && break; sleep 0.1; done
URL=https://127.0.0.1:8443/1.0/containers
n_ct=$(innet curl -sk -H "Authorization: Bearer $tok" "$URL" | jq '.containers | length')
bytes=$(innet curl -sk -H "Authorization: Bearer $tok" "$URL" | wc -c)
[ "$n_ct" = 1000 ] || { echo "portal bench: the tenant lists $n_ct containers, not 1000" >&2; tail -5 "$W/portal.log" >&2; exit 1; }


# Clients: N processes, each one keep-alive connection for D seconds doing GET
# PATH (with a bearer token unless TOKEN is "-"; with If-None-Match: ETAG when
# given, and then 304 is the answer expected); every request's latency in
# microseconds, one per line, in OUT.i.
cat > "$W/client.py" <<'PYEOF'
import http.client, socket, ssl, sys, time, os
kind, target, token, dur, n, outf, path = sys.argv[1:8]
etag = sys.argv[8] if len(sys.argv) > 8 else None
dur, n = float(dur), int(n)
class U(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(target)
def conn():
    if kind == "unix":
        return U("x")
    return http.client.HTTPSConnection("127.0.0.1", 8443, context=ssl._create_unverified_context())
hdr = {} if token == "-" else {"Authorization": "Bearer " + token}
if etag:
    hdr["If-None-Match"] = etag
want = 304 if etag else 200
pids = []
for i in range(n):
    pid = os.fork()
    if pid == 0:
        c, lat = conn(), []
        end = time.monotonic() + dur
        while (t0 := time.monotonic()) < end:
            c.request("GET", path, headers=hdr)
            r = c.getresponse(); r.read()
            if r.status != want:
                sys.exit(f"GET {path}: status {r.status}, not {want}")
            lat.append(int((time.monotonic() - t0) * 1e6))
        with open(f"{outf}.{i}", "w") as f:
            f.write("\n".join(map(str, lat)) + "\n")
        os._exit(0)
    pids.append(pid)
ok = all(os.waitpid(p, 0)[1] == 0 for p in pids)
sys.exit(0 if ok else 1)
PYEOF
# summarize FILE-PREFIX SECONDS: "req/s p50 p99" (ms)
summarize() {
  cat "$1".* | sort -n | awk -v d="$2" '{a[NR] = $1} END {
    i50 = int(NR * 0.5 + 0.999); i99 = int(NR * 0.99 + 0.999); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
    printf "%.0f %.2f %.2f", NR / d, a[i50] / 1000, a[i99] / 1000 }'
}
pyrun() { # pyrun KIND TARGET N PATH TOKEN [ETAG]: the summary
  rm -f "$W/lat".*
  innet "$PY" "$W/client.py" "$1" "$2" "$5" "$dur" "$3" "$W/lat" "$4" ${6:+"$6"} || { echo "portal bench: client failed" >&2; exit 1; }
  summarize "$W/lat" "$dur"
}
ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0; else printf "%.2f", v * 1000 }'; }
wrkrun() { # wrkrun URL [wrk args...]: "req/s p50 p99 transfer/s", wrk's errors in $W/wrk.err
  local o url=("$1")  # (with -s, the script's arguments follow the URL: pass "-s FILE URL ARGS")
  [ "$2" = -s ] && url=()
  o=$(innet wrk -t2 -c"$conns" -d"${dur}s" --latency -H "Authorization: Bearer $tok" "${@:2}" "${url[@]}")
  awk '/Non-2xx|Socket errors/' <<< "$o" >> "$W/wrk.err"
  awk '$1 == "revalidated:" {print $2, $4, $6}' <<< "$o" > "$W/wrk.reval"
  echo "$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<< "$o") $(ms "$(awk '$1 == "50%" {print $2}' <<< "$o")")" \
       "$(ms "$(awk '$1 == "99%" {print $2}' <<< "$o")") $(awk '/^Transfer\/sec/ {print $2}' <<< "$o")"
}
: > "$W/wrk.err"

echo "portal bench: wrk, $conns connections, ${dur}s" >&2
read -r wrk_rps wrk_p50 wrk_p99 wrk_tx <<< "$(wrkrun "$URL")"
echo "portal bench: the same on the socket, $conns Python clients" >&2
read -r ref_rps ref_p50 ref_p99 <<< "$(pyrun unix "$PS" "$conns" /1.0/containers "$tok")"
echo "portal bench: one client each" >&2
read -r one_s_rps one_s_p50 one_s_p99 <<< "$(pyrun unix "$PS" 1 /1.0/containers "$tok")"
read -r one_p_rps one_p_p50 one_p_p99 <<< "$(pyrun https x 1 /1.0/containers "$tok")"
# A page of 50, and a revalidation with the list's entity tag (nothing changed: 304).
echo "portal bench: wrk on ?limit=50 and on If-None-Match" >&2
page_bytes=$(innet curl -sk -H "Authorization: Bearer $tok" "$URL?limit=50" | wc -c)
read -r pg_rps pg_p50 pg_p99 pg_tx <<< "$(wrkrun "$URL?limit=50")"
etag=$(innet curl -sk -D - -o /dev/null -H "Authorization: Bearer $tok" "$URL" | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
reval() { innet curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" -H "If-None-Match: $etag" "$URL"; }
st_before=$(reval)
read -r nm_rps nm_p50 nm_p99 nm_tx <<< "$(wrkrun "$URL" -s "$BENCH_SRC/tests/bench/portal/revalidate.lua" "$URL" "$etag")"
read -r nm_304 nm_200 nm_other < "$W/wrk.reval"
st_after=$(reval)
# The front's own ceiling: GET /1.0, a small answer sandhostd makes without the database.
echo "portal bench: wrk on GET /1.0" >&2
read -r small_rps small_p50 small_p99 small_tx <<< "$(wrkrun https://127.0.0.1:8443/1.0)"
portal_cpu=$(awk '{printf "%.1f", ($14 + $15) / 100}' "/proc/$pt_pid/stat")

# The peer: podman's REST API listing the containers made by `podman create` in
# at most --podman-secs seconds (up to --podman-max), and sandhostd's socket
# listing a second tenant with as many, the same Python client for both.
pm_n=0 pm_note=""
if [ "$pm_max" -gt 0 ]; then
  echo "portal bench: podman create, up to $pm_max containers in ${pm_secs}s" >&2
  "$BENCH_SRC/tests/lib/mkrootfs.sh" "$W/rootfs" >/dev/null || exit 1
  if bench_podman_start "$W/pod" "$W/rootfs" 2> "$W/pod.err"; then
    t_end=$((SECONDS + pm_secs)) t0=$SECONDS
    while [ "$pm_n" -lt "$pm_max" ] && [ $SECONDS -lt $t_end ]; do
      bench_podman create --name "p$pm_n" localhost/sandhost-bench-busybox /bin/sh > /dev/null 2> "$W/pod.err" ||
        { pm_note="podman create failed: $(tail -1 "$W/pod.err")"; break; }
      pm_n=$((pm_n + 1))
    done
    pm_create_s=$((SECONDS - t0))
    PMS=$W/pod/api.sock
    nsenter --net="$W/pod/netns" podman --root "$W/pod/root" --runroot "$W/pod/run" --storage-driver overlay \
      system service --time=0 "unix://$PMS" > "$W/pod/service.log" 2>&1 &
    pm_pid=$!   # nsenter execs podman
    bench_track "$pm_pid"
    PMPATH=/v4.0.0/libpod/containers/json?all=true
    for _ in $(seq 100); do curl -sf --unix-socket "$PMS" -o /dev/null "http://d$PMPATH" && break; sleep 0.1; done
    pm_got=$(curl -s --unix-socket "$PMS" "http://d$PMPATH" | jq length)
    pm_bytes=$(curl -s --unix-socket "$PMS" "http://d$PMPATH" | wc -c)
    [ "$pm_got" = "$pm_n" ] || { echo "portal bench: podman lists $pm_got containers, not $pm_n" >&2; exit 1; }
    tok2=$(add_tenant peer "$pm_n") && [ -n "$tok2" ] || exit 1
    hd_got=$(curl -s --unix-socket "$PS" -H "Authorization: Bearer $tok2" http://x/1.0/containers | jq '.containers | length')
    hd_bytes=$(curl -s --unix-socket "$PS" -H "Authorization: Bearer $tok2" http://x/1.0/containers | wc -c)
    [ "$hd_got" = "$pm_n" ] || { echo "portal bench: the peer tenant lists $hd_got containers, not $pm_n" >&2; exit 1; }
    echo "portal bench: podman's API and sandhostd's socket, $pm_n containers" >&2
    read -r pmc_rps pmc_p50 pmc_p99 <<< "$(pyrun unix "$PMS" "$conns" "$PMPATH" -)"
    read -r hdc_rps hdc_p50 hdc_p99 <<< "$(pyrun unix "$PS" "$conns" /1.0/containers "$tok2")"
    read -r pm1_rps pm1_p50 pm1_p99 <<< "$(pyrun unix "$PMS" 1 "$PMPATH" -)"
    read -r hd1_rps hd1_p50 hd1_p99 <<< "$(pyrun unix "$PS" 1 /1.0/containers "$tok2")"
  else
    pm_note=$(tail -1 "$W/pod.err")
  fi
fi

# First page loads in chromium, in the namespace (the portal's loopback).
pl_table=""
if [ "$pl_runs" -gt 0 ]; then
  echo "portal bench: chromium page loads, $pl_runs of each" >&2
  pl_table=$(innet env HOME="$W" PL_URL=https://127.0.0.1:8443 PL_USER="bench-owner:$pw" PL_ROWS=1000 PL_RUNS="$pl_runs" \
    PL_JSON="${out:+$out.pageload.json}" PLAYWRIGHT_CORE="$MODULES/playwright-core" CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" \
    node "$BENCH_SRC/tests/bench/portal/pageload.mjs") || { echo "portal bench: pageload.mjs failed" >&2; exit 1; }
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "–" }'; }
goal() { awk -v r="$1" -v p="$2" 'BEGIN { print (r >= 20000 && p <= 10) ? "met" : "not met" }'; }
{
  echo
  echo "GET /1.0/containers, a tenant with $n_ct containers ($bytes bytes per answer), bearer token, keep-alive, ${dur} s each"
  echo "(goal: 20,000 requests/s and p99 ≤ 10 ms through the portal)"
  echo
  echo "| path | client | requests/s | p50 ms | p99 ms | ÷ the socket's rate | goal |"
  echo "|---|---|---|---|---|---|---|"
  echo "| HTTPS through sandhost-portal | wrk -t2 -c$conns ($wrk_tx/s) | $wrk_rps | $wrk_p50 | $wrk_p99 | $(ratio "$wrk_rps" "$ref_rps") | $(goal "$wrk_rps" "$wrk_p99") |"
  echo "| sandhostd's portal socket directly (reference) | $conns Python clients | $ref_rps | $ref_p50 | $ref_p99 | 1.00 | |"
  echo "| HTTPS through sandhost-portal | 1 Python client | $one_p_rps | $one_p_p50 | $one_p_p99 | $(ratio "$one_p_rps" "$one_s_rps") (of 1 client) | |"
  echo "| sandhostd's portal socket directly | 1 Python client | $one_s_rps | $one_s_p50 | $one_s_p99 | 1.00 | |"
  echo "| ?limit=50 ($page_bytes bytes) through sandhost-portal | wrk -t2 -c$conns ($pg_tx/s) | $pg_rps | $pg_p50 | $pg_p99 | $(ratio "$pg_rps" "$ref_rps") | $(goal "$pg_rps" "$pg_p99") |"
  echo "| If-None-Match (revalidate.lua: $nm_304 × 304, $nm_200 × 200, $nm_other other; curl before/after: $st_before/$st_after) through sandhost-portal | wrk -t2 -c$conns ($nm_tx/s) | $nm_rps | $nm_p50 | $nm_p99 | $(ratio "$nm_rps" "$ref_rps") | $(goal "$nm_rps" "$nm_p99") |"
  echo "| GET /1.0 (small answer) through sandhost-portal | wrk -t2 -c$conns ($small_tx/s) | $small_rps | $small_p50 | $small_p99 | $(ratio "$small_rps" "$ref_rps") | $(goal "$small_rps" "$small_p99") |"
  echo
  [ -s "$W/wrk.err" ] && sed 's/^/wrk: /' "$W/wrk.err"
  echo "portal CPU over the wrk and HTTPS runs: ${portal_cpu} s; sandhostd serves requests on one thread, so it bounds every path"
  if [ "$pm_n" -gt 0 ]; then
    echo
    echo "The peer: $pm_n containers made by \`podman create\` in ${pm_create_s} s (at most $pm_max, ${pm_secs} s); a second tenant with as many in sandhostd"
    echo
    echo "| list of $pm_n | client | bytes | requests/s | p50 ms | p99 ms | ÷ podman |"
    echo "|---|---|---|---|---|---|---|"
    echo "| podman REST API, GET $PMPATH | $conns Python clients | $pm_bytes | $pmc_rps | $pmc_p50 | $pmc_p99 | 1.00 |"
    echo "| sandhostd's portal socket, GET /1.0/containers | $conns Python clients | $hd_bytes | $hdc_rps | $hdc_p50 | $hdc_p99 | $(ratio "$hdc_rps" "$pmc_rps") |"
    echo "| podman REST API | 1 Python client | $pm_bytes | $pm1_rps | $pm1_p50 | $pm1_p99 | 1.00 |"
    echo "| sandhostd's portal socket | 1 Python client | $hd_bytes | $hd1_rps | $hd1_p50 | $hd1_p99 | $(ratio "$hd1_rps" "$pm1_rps") |"
    echo
    echo "podman $(podman --version | awk '{print $3}'); LXD: not installable here (no image server)"
  elif [ "$pm_max" -gt 0 ]; then
    echo "podman: not measured: ${pm_note:-no container made}"
  fi
  if [ -n "$pl_table" ]; then
    echo
    echo "First page loads in chromium (the owner of the tenant with $n_ct containers):"
    echo
    echo "$pl_table"
  fi
  echo
  echo "machine at the start: $m_start; at the end: load $(cut -d' ' -f1-3 /proc/loadavg); $(wrk --version 2>&1 | head -1)"
} >&3
