# Shared set-up of the escape suite: sbx-env.sh (a busybox rootfs owned by
# the container's ids, make_bundle, sbx) plus the attacker's helper in the
# rootfs as /bin/sbx-escape, and host-side fingerprints.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/sbx-env.sh"
[ -x "$ROOTFS/bin/sbx-check" ] || skip_all "sbx-check is not built (SBX_CHECK)"
[ -n "${SBX_ESCAPE:-}" ] && [ -x "$SBX_ESCAPE" ] || skip_all "sbx-escape is not built (SBX_ESCAPE)"
install -m 0755 -o 100000 -g 100000 "$SBX_ESCAPE" "$ROOTFS/bin/sbx-escape"

# fingerprint PATH...: one line per path, its content's hash (or why not).
fingerprint() {
  local p
  for p in "$@"; do
    if [ -d "$p" ]; then
      echo "$p dir $( (cd "$p" && find . -printf '%p %m %s\n' 2>/dev/null | sort) | sha256sum | cut -c1-16)"
    elif [ -r "$p" ]; then
      echo "$p $(sha256sum < "$p" 2>/dev/null | cut -c1-16)"
    else
      echo "$p absent"
    fi
  done
}

# run_hardened NAME [JQ-FILTER]: a detached hardened container running sleep.
run_hardened() {
  local b
  b=$(make_bundle "$1" ".process.args = [\"/bin/sleep\", \"600\"] | ${2:-.}")
  sbx run --detach --bundle "$b" "$1"
}
