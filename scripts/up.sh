#!/bin/bash
# Set up and bring the platform up on its embedded defaults: build, then run
# sandhostd (state in /var/lib/sandhost, the API on /run/sandhost/sandhostd.sock)
# and the web portal in front of it (https://127.0.0.1:8443, a self-signed
# certificate made at its first start).  The first start creates the database,
# the default storage pool (a sparse loop file) with the busybox image, and the
# account "admin", whose password and API token it prints once.  Ctrl-C stops
# both; containers keep running.  scripts/demo.sh runs a single container with sbx.
#   SANDHOST_PORTAL_LISTEN=0.0.0.0:8443 ./scripts/up.sh   # the portal on every address
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh build
[ "$(id -u)" = 0 ] || { echo "up: run as root (sandhostd provisions containers)" >&2; exit 1; }
listen=${SANDHOST_PORTAL_LISTEN:-127.0.0.1:8443}

hd="" portal=""
stop() {
  trap - EXIT INT TERM
  [ -z "$portal" ] || kill "$portal" 2>/dev/null || true
  [ -z "$hd" ] || kill "$hd" 2>/dev/null || true
  wait || true
}
trap stop EXIT INT TERM
build/hostd/sandhostd --foreground "$@" &
hd=$!
# Serving, not just a socket file.
for _ in $(seq 600); do
  kill -0 "$hd" 2>/dev/null || { echo "up: sandhostd did not start (its messages are above)" >&2; exit 1; }
  curl -sf --unix-socket /run/sandhost/sandhostd.sock -o /dev/null http://sandhost/1.0 && break
  sleep 0.1
done
build/portal/sandhost-portal --foreground --set "listen=$listen" &
portal=$!
sleep 0.5
kill -0 "$portal" 2>/dev/null || { echo "up: sandhost-portal did not start (its messages are above)" >&2; exit 1; }
pw=/var/lib/sandhost/initial-admin-password
cat <<MSG
up: sandhostd and the portal are running.
  Portal: https://$listen/  (self-signed certificate: /etc/sandhost/portal/cert.pem)
  Log in as "admin" $([ -f "$pw" ] && echo "with the password printed at the first start, also kept in $pw
  until you choose another under Account" || echo "with the password you chose (forgotten: build/hostd/sandhost api PUT
  /1.0/users/1/password '{\"password\": \"...\"}' as root)").
  From a laptop: ssh -L 8443:127.0.0.1:8443 root@this-host, then open https://127.0.0.1:8443/
From another shell, as root, the CLI:
  build/hostd/sandhost info
  build/hostd/sandhost api POST /1.0/tenants '{"name": "acme", "plan_id": 1}'
  build/hostd/sandhost create web1 --tenant 1
  build/hostd/sandhost start web1
  build/hostd/sandhost exec -t web1 sh
  build/hostd/sandhost audit
(docs/portal.md and docs/hostd.md have the rest.)  Ctrl-C stops both daemons.
MSG
wait -n "$hd" "$portal" || true
