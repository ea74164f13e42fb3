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
  build/hostd/sandhost info
  build/hostd/sandhost api POST /1.0/tenants '{"name": "acme", "plan_id": 1}'
  build/hostd/sandhost create web1 --tenant 1
  build/hostd/sandhost start web1
  build/hostd/sandhost list
  build/hostd/sandhost exec -t web1 sh
  build/hostd/sandhost audit
  curl -s --unix-socket /run/sandhost/sandhostd.sock http://sandhost/1.0/metrics
(docs/hostd.md has the rest.)
MSG
exec build/hostd/sandhostd --foreground "$@"
