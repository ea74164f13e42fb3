#!/bin/bash
# What `meson install` puts on a host, installed into a scratch root: every
# systemd unit starts a program the install put there, and
# `systemd-analyze verify` finds nothing to say of either unit (an unknown
# key, a bad value, a missing binary); the tmpfiles and sysusers fragments
# are there, and the portal's UI with its index page.
. "$(dirname "$0")/../lib/tap.sh"
: "${SANDHOST_BUILD:?set SANDHOST_BUILD}"
command -v systemd-analyze >/dev/null || skip_all "needs systemd-analyze (apt-get install systemd)"
D=$(mktemp -d /tmp/sandhost-install.XXXXXX)
defer "rm -rf '$D'"
out=$(meson install -C "$SANDHOST_BUILD" --no-rebuild --destdir "$D" 2>&1)
ok $? "meson install --destdir into a scratch root" || echo "$out" | tail -n 20 | sed 's/^/#   /'
prefix=$(meson introspect "$SANDHOST_BUILD" --buildoptions | jq -r '.[] | select(.name == "prefix") | .value')
units=$(find "$D" -path '*/lib/systemd/system/*.service' | sort)
is "$(echo "$units" | sed 's|.*/||' | tr '\n' ' ')" "sandhost-portal.service sandhostd.service " "both units installed"
for u in $units; do
  name=${u##*/}
  exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$u")
  like "$exec_start" "^$prefix/" "$name: ExecStart is under the install's prefix ($exec_start)"
  ok $([ -x "$D$exec_start" ]; echo $?) "$name: and the install put that program there"
  # verify checks the binary exists: the scratch root's copy stands in for it.
  sed "s|^ExecStart=$exec_start|ExecStart=$D$exec_start|" "$u" > "$D/$name"
  said=$(systemd-analyze verify "$D/$name" 2>&1)
  is "$said" "" "$name: systemd-analyze verify has nothing to say"
done
for f in lib/tmpfiles.d/sandhost.conf lib/sysusers.d/sandhost.conf lib/sysusers.d/sandhost-portal.conf; do
  ok $([ -s "$D$prefix/$f" ]; echo $?) "$prefix/$f installed"
done
ok $(grep -q '__CSP_NONCE__' "$D$prefix/share/sandhost/portal/web/index.html"; echo $?) "the portal's UI installed (index.html)"
done_testing
