# sandhost-portal under test, in front of a sandhostd of the test's own
# (hostd-env.sh).  The portal and its clients live in a network namespace of
# their own, $W/webns (loopback only: the portal reaches sandhostd through its
# unix socket), so that the links sandhostd makes in $W/hostns as containers
# start never disturb a browser's connections; the portal is on
# https://127.0.0.1:8443 there, its certificate, key and assets in $W/portal.  Source after tap.sh:
#   . "$(dirname "$0")/../lib/portal-env.sh"
#   hd_start 1 [--set K=V...]; pt_start [--set K=V...]; pt_stop
#   pcurl CURL-ARGS... (curl in the namespace, -k, on https://127.0.0.1:8443)
#   innet CMD... (any client in the namespace: openssl s_client, python3)
# Needs SANDHOST_PORTAL besides what hostd-env.sh needs; sets P (the
# portal's work dir), PURL (its base URL) and ppid (its pid).
: "${SANDHOST_PORTAL:?set SANDHOST_PORTAL}"
. "$(dirname "${BASH_SOURCE[0]}")/hostd-env.sh"
command -v openssl >/dev/null || skip_all "needs openssl"

# The portal's own user, as scripts/setup.sh makes it.
PT_USER=sandhost-portal
id -u "$PT_USER" >/dev/null 2>&1 ||
  useradd --system --no-create-home --shell /usr/sbin/nologin "$PT_USER" || skip_all "cannot create user $PT_USER"

P=$W/portal
PURL=https://127.0.0.1:8443
ppid=""
mkdir -p "$P/assets"
# $W is a 0700 mktemp dir: the portal's user must pass through it (not list
# it) to reach $W/run/portal.sock and $W/portal; the state dir stays closed.
chmod 0711 "$W"
chmod 0755 "$P" "$P/assets"
defer '[ -n "$ppid" ] && kill "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null'
# (hostd-env.sh's cleanup unmounts every mount below $W: this one too.)
touch "$W/webns"
unshare --net="$W/webns" true || skip_all "cannot make a network namespace"
nsenter --net="$W/webns" ip link set lo up

innet() { nsenter --net="$W/webns" "$@"; }
pcurl() { innet curl -sk "$@"; }

pt_start() { # pt_start [--set K=V...]: the portal's output in $W/portal.out; waits until it answers
  mkdir -p "$W/run"
  chmod 0711 "$W/run"
  # nsenter execs the portal: $! is the portal's own pid (signals, /proc).
  nsenter --net="$W/webns" "$SANDHOST_PORTAL" --foreground --set listen=127.0.0.1:8443 --set "api_socket=$W/run/portal.sock" \
    --set "cert=$P/cert.pem" --set "key=$P/key.pem" --set "assets=$P/assets" "$@" >> "$W/portal.out" 2>&1 &
  ppid=$!
  for _ in $(seq 100); do
    pcurl -o /dev/null "$PURL/" && return 0
    kill -0 "$ppid" 2>/dev/null || break
    sleep 0.1
  done
  diag "portal did not start:"; sed 's/^/# /' "$W/portal.out"
  return 1
}
pt_stop() { [ -n "$ppid" ] && kill "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null; ppid=""; }
