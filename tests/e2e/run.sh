#!/bin/bash
# e2e: the portal in Debian's chromium (portal.test.mjs, accounts.test.mjs;
# session.test.mjs with the argument session; playwright-core, axe-core)
# against a sandhostd and a sandhost-portal of the test's own, both in the
# test's network namespace (tests/lib/portal-env.sh); node and chromium run
# in that namespace too. Screenshots and the browser's log go to
# $E2E_ARTIFACTS (default <build>/e2e-artifacts); with E2E_DOCS_IMG set, the
# tenant guide's screenshots are written there as well (docs/img).
. "$(dirname "$0")/../lib/tap.sh"
# In CI (SANDHOST_E2E_STRICT=1, scripts/test.sh) the suite must run: a
# missing prerequisite fails it instead of skipping it.
if [ "${SANDHOST_E2E_STRICT:-0}" = 1 ]; then skip_all() { echo "Bail out! $*"; exit 1; }; fi
: "${SANDHOST_SRC:?set SANDHOST_SRC}" "${SANDHOST_BUILD:?set SANDHOST_BUILD}"
command -v node >/dev/null || skip_all "needs node"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || skip_all "needs chromium (apt-get install chromium)"
modules=$SANDHOST_SRC/portal/node_modules
[ -d "$modules/playwright-core" ] && [ -d "$modules/@xterm/xterm" ] && [ -f "$modules/axe-core/axe.min.js" ] || skip_all "run npm ci in portal/"
. "$SANDHOST_SRC/tests/lib/portal-env.sh"

# run.sh: the portal's pages and the accounts; run.sh session: idle
# sessions ending (session.test.mjs), against a sandhostd whose sessions end
# after 8 s without a request (its default is 30 minutes).
idle=""
files=(portal.test.mjs accounts.test.mjs)
if [ "${1:-}" = session ]; then idle=8 files=(session.test.mjs); fi
hd_start 1 ${idle:+--set session_idle=$idle}
# Every browser of the test logs in from one address, as clients behind a
# provider's load balancer would: the per-address login limit is raised as
# docs/portal.md says for that case (portal-front tests the limit itself).
pt_start --set login_burst=1000 || { echo "Bail out! the portal did not start"; exit 1; }
# The UI as the build installs it: the sources and xterm from node_modules.
node "$SANDHOST_SRC/portal/web/vendor.mjs" --modules "$modules" --out "$P/assets" || { echo "Bail out! vendor.mjs"; exit 1; }
chmod -R a+rX "$P/assets"

# Two tenants on the default plan, an owner each, an auditor; the admin's
# password is the one sandhostd printed at its first start.
admin_pw=$(cat "$W/state/initial-admin-password") || { echo "Bail out! no initial admin password"; exit 1; }
pw() { head -c 18 /dev/urandom | base64 | tr '/+' '_-'; }
alice_pw=$(pw) bob_pw=$(pw) aud_pw=$(pw)
api POST /1.0/tenants '{"name":"acme","plan_id":1}' >/dev/null
ta=$(j .id)
api POST /1.0/tenants '{"name":"globex","plan_id":1}' >/dev/null
tb=$(j .id)
for u in "alice owner ,\"tenant_id\":$ta $alice_pw" "bob owner ,\"tenant_id\":$tb $bob_pw" "audrey auditor - $aud_pw"; do
  set -- $u
  [ "$3" = - ] && set -- "$1" "$2" "" "$4"
  st=$(api POST /1.0/users "{\"name\":\"$1\",\"role\":\"$2\"$3,\"password\":\"$4\"}" | cut -d' ' -f1)
  [ "$st" = 201 ] || { echo "Bail out! creating user $1: $(cat "$W/body")"; exit 1; }
done

art=${E2E_ARTIFACTS:-$SANDHOST_BUILD/e2e-artifacts}
mkdir -p "$art"
for f in "${files[@]}"; do rm -f "$art/${f%%.*}"-*; done
innet env HOME="$W" E2E_URL="$PURL" E2E_ARTIFACTS="$art" E2E_DOCS_IMG="${E2E_DOCS_IMG:-}" E2E_SESSION_IDLE="$idle" \
  E2E_ADMIN="admin:$admin_pw" E2E_ALICE="alice:$alice_pw" E2E_BOB="bob:$bob_pw" E2E_AUDITOR="audrey:$aud_pw" \
  PLAYWRIGHT_CORE="$modules/playwright-core" AXE_CORE="$modules/axe-core/axe.min.js" CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" \
  node --test --test-reporter=tap --test-concurrency=1 "${files[@]/#/$SANDHOST_SRC/tests/e2e/}"
status=$?
diag "screenshots, the browser logs and the axe results: $art"
[ $status -eq 0 ] || { diag "sandhostd:"; tail -n 20 "$W/out.1" | sed 's/^/# /'; diag "portal:"; tail -n 20 "$W/portal.out" | sed 's/^/# /'; }
exit $status
