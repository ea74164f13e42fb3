#!/bin/bash
# sandhost-portal's throughput: GET /1.0/containers for a tenant with 1,000
# containers (rows added straight to the database, as tests/bench/api does:
# the listing reads only the database), with a bearer token,
#  - through the portal: wrk over HTTPS with keep-alive (2 threads, C connections);
#  - the reference, sandhostd's portal socket directly: the same client count
#    over unix sockets (wrk cannot speak to one; a Python client per connection);
#  - both with one keep-alive connection and one client (Python), side by side.
# Prints requests/s, p50 and p99.  sandhostd and the portal run in a network
# namespace of the benchmark's own; nothing outlives it.
# usage: tests/bench/portal/run.sh [--duration S] [--connections C] [--out FILE]
. "$(dirname "$0")/../lib.sh"

dur=10 conns=32 out=""
while [ $# -gt 0 ]; do
  case $1 in
    --duration) dur=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--duration S] [--connections C] [--out FILE]" >&2; exit 2 ;;
  esac
done
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
exec 3>&1
[ -z "$out" ] || exec 3> >(tee "$out")
bench_hostd_start || exit 1
PS=$W/run/portal.sock
[ -S "$PS" ] || { echo "portal bench: sandhostd has no portal socket ($PS): it predates portal_socket" >&2; exit 1; }
innet() { nsenter --net="$W/hostns" "$@"; }
innet ip link set lo up

# The tenant, its owner's token, and 1,000 containers.
tenant=$(bench_api POST /1.0/tenants "{\"name\": \"bench\", \"plan_id\": $BENCH_HD_PLAN}" | jq -r .id)
user=$(bench_api POST /1.0/users "{\"name\": \"bencher\", \"role\": \"owner\", \"tenant_id\": $tenant}" | jq -r .id)
tok=$(bench_api POST "/1.0/users/$user/tokens" '{"name": "bench"}' | jq -r .token)
sqlite3 "$W/state/sandhost.db" "PRAGMA busy_timeout = 5000;
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
  INSERT INTO containers (tenant_id, name, image_id, state, cpu_millis, memory_mib, pids, disk_mib, bandwidth_mbit, created_at)
  SELECT $tenant, 'db' || i, 1, 'stopped', 100, 64, 64, 64, 100, 0 FROM n;" >/dev/null

# The portal: the benchmark's own certificate, port 8443 in the namespace.
chmod 0711 "$W" "$W/run"
mkdir -m 0755 "$W/portal"
nsenter --net="$W/hostns" "$PORTAL" --foreground --set listen=127.0.0.1:8443 --set "api_socket=$PS" --set "cert=$W/portal/cert.pem" \
  --set "key=$W/portal/key.pem" --set "assets=$W/portal" > "$W/portal.log" 2>&1 &
pt_pid=$!   # nsenter execs the portal: its own pid
bench_track "$pt_pid"
for _ in $(seq 100); do innet curl -sk -o /dev/null https://127.0.0.1:8443/ && break; sleep 0.1; done
URL=https://127.0.0.1:8443/1.0/containers
n_ct=$(innet curl -sk -H "Authorization: Bearer $tok" "$URL" | jq '.containers | length')
bytes=$(innet curl -sk -H "Authorization: Bearer $tok" "$URL" | wc -c)
[ "$n_ct" = 1000 ] || { echo "portal bench: the tenant lists $n_ct containers, not 1000" >&2; tail -5 "$W/portal.log" >&2; exit 1; }

# Clients: N processes, each one keep-alive connection for D seconds; every
# request's latency in microseconds, one per line, in FILE.
cat > "$W/client.py" <<'PYEOF'
import http.client, socket, ssl, sys, time, os
kind, target, token, dur, n, outf = sys.argv[1:7]
dur, n = float(dur), int(n)
class U(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(target)
def conn():
    if kind == "unix":
        return U("x")
    return http.client.HTTPSConnection("127.0.0.1", 8443, context=ssl._create_unverified_context())
pids = []
for i in range(n):
    pid = os.fork()
    if pid == 0:
        c, lat = conn(), []
        hdr = {"Authorization": "Bearer " + token}
        end = time.monotonic() + dur
        while (t0 := time.monotonic()) < end:
            c.request("GET", "/1.0/containers", headers=hdr)
            r = c.getresponse(); r.read()
            if r.status != 200:
                sys.exit(f"status {r.status}")
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
pyrun() { # pyrun KIND TARGET N: the summary
  rm -f "$W/lat".*
  innet "$PY" "$W/client.py" "$1" "$2" "$tok" "$dur" "$3" "$W/lat" || { echo "portal bench: client failed" >&2; exit 1; }
  summarize "$W/lat" "$dur"
}

echo "portal bench: wrk, $conns connections, ${dur}s"
wrk_out=$(innet wrk -t2 -c"$conns" -d"${dur}s" --latency -H "Authorization: Bearer $tok" "$URL")
wrk_rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<< "$wrk_out")
ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0; else printf "%.2f", v * 1000 }'; }
wrk_p50=$(ms "$(awk '$1 == "50%" {print $2}' <<< "$wrk_out")")
wrk_p99=$(ms "$(awk '$1 == "99%" {print $2}' <<< "$wrk_out")")
wrk_err=$(awk '/Non-2xx|Socket errors/' <<< "$wrk_out")
echo "portal bench: the same on the socket, $conns Python clients"
read -r ref_rps ref_p50 ref_p99 <<< "$(pyrun unix "$PS" "$conns")"
echo "portal bench: one client each"
read -r one_s_rps one_s_p50 one_s_p99 <<< "$(pyrun unix "$PS" 1)"
read -r one_p_rps one_p_p50 one_p_p99 <<< "$(pyrun https x 1)"
# The front's own ceiling: GET /1.0, a small answer sandhostd makes without the database.
echo "portal bench: wrk on GET /1.0"
small_out=$(innet wrk -t2 -c"$conns" -d"${dur}s" --latency -H "Authorization: Bearer $tok" https://127.0.0.1:8443/1.0)
small_rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<< "$small_out")
small_p50=$(ms "$(awk '$1 == "50%" {print $2}' <<< "$small_out")")
small_p99=$(ms "$(awk '$1 == "99%" {print $2}' <<< "$small_out")")
portal_cpu=$(awk '{printf "%.1f", ($14 + $15) / 100}' "/proc/$pt_pid/stat")

{
  echo
  echo "GET /1.0/containers, a tenant with $n_ct containers ($bytes bytes per answer), bearer token, keep-alive, ${dur} s each"
  echo
  echo "| path | client | requests/s | p50 ms | p99 ms |"
  echo "|---|---|---|---|---|"
  echo "| HTTPS through sandhost-portal | wrk -t2 -c$conns | $wrk_rps | $wrk_p50 | $wrk_p99 |"
  echo "| sandhostd's portal socket directly (reference) | $conns Python clients | $ref_rps | $ref_p50 | $ref_p99 |"
  echo "| HTTPS through sandhost-portal | 1 Python client | $one_p_rps | $one_p_p50 | $one_p_p99 |"
  echo "| sandhostd's portal socket directly | 1 Python client | $one_s_rps | $one_s_p50 | $one_s_p99 |"
  echo "| GET /1.0 (small answer) through sandhost-portal | wrk -t2 -c$conns | $small_rps | $small_p50 | $small_p99 |"
  echo
  [ -n "$wrk_err" ] && echo "wrk: $wrk_err"
  echo "portal CPU over all runs: ${portal_cpu} s; sandhostd serves requests on one thread, so it bounds every path"
  echo "machine: $(bench_machine); $(wrk --version 2>&1 | head -1)"
} >&3
