#!/bin/bash
# Set up and bring the platform up on its embedded defaults: build, then run
# sandhostd in the foreground (state in /var/lib/sandhost, the API on
# /run/sandhost/sandhostd.sock).  The first start creates the database, the
# default storage pool (a sparse loop file) with the busybox image, and an
# admin account whose API token it prints once.  Ctrl-C stops the daemon;
# containers keep running.  scripts/demo.sh runs a single container with sbx.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh build
[ "$(id -u)" = 0 ] || { echo "up: run as root (sandhostd provisions containers)" >&2; exit 1; }
cat <<'MSG'
up: sandhostd is starting.  From another shell, as root:
  S=/run/sandhost/sandhostd.sock
  curl -s --unix-socket $S http://sandhost/1.0
  curl -s --unix-socket $S -X POST -H 'Content-Type: application/json' -d '{"name": "acme", "plan_id": 1}' http://sandhost/1.0/tenants
  curl -s --unix-socket $S -X POST -H 'Content-Type: application/json' -d '{"name": "web1", "tenant_id": 1}' http://sandhost/1.0/containers
  curl -s --unix-socket $S -X PUT -H 'Content-Type: application/json' -d '{"action": "start"}' http://sandhost/1.0/containers/1/state
  curl -s --unix-socket $S http://sandhost/1.0/containers/1
(docs/hostd.md has the rest.)
MSG
exec build/hostd/sandhostd --foreground "$@"
