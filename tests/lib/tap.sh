# TAP helpers for the shell test suites.  Source it; every test registers
# its own cleanup with `defer` and ends with `done_testing`.
set -u
_tap_n=0
_tap_fail=0
_tap_deferred=()

ok() { # ok COND-EXIT-CODE DESCRIPTION
  _tap_n=$((_tap_n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $_tap_n - $2"
  else
    echo "not ok $_tap_n - $2"
    _tap_fail=$((_tap_fail + 1))
  fi
}

check() { # check ARITHMETIC-CONDITION DESCRIPTION: passes when the condition holds
  if (( $1 )); then ok 0 "$2"; else ok 1 "$2"; fi
}

is() { # is GOT WANT DESCRIPTION
  if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; fi
}

like() { # like GOT EXTENDED-REGEX DESCRIPTION
  if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else ok 1 "$3"; echo "#   got:  '$1'"; echo "#   want: /$2/"; fi
}

diag() { echo "# $*"; }

skip() { # skip REASON: one test that cannot run here, and why
  _tap_n=$((_tap_n + 1))
  echo "ok $_tap_n # SKIP $*"
}

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

defer() { _tap_deferred+=("$*"); }

# cleanup_failed WHY: a cleanup step found something wrong (a daemon that
# would not stop): said as a diagnostic, and the test exits 1 after cleanup.
# ($_tap_out is the TAP stream while cleanup runs with its output hidden;
# only then, so no process the test starts inherits it.)
_tap_cleanup_failed=0
_tap_out=1
cleanup_failed() { echo "# cleanup: $*" >&"$_tap_out"; _tap_cleanup_failed=1; }

_tap_cleanup() {
  local i
  exec {_tap_out}>&1
  for ((i = ${#_tap_deferred[@]} - 1; i >= 0; i--)); do
    eval "${_tap_deferred[$i]}" >/dev/null 2>&1 || true
  done
  [ "$_tap_cleanup_failed" = 0 ] || exit 1
}
trap _tap_cleanup EXIT

done_testing() {
  echo "1..$_tap_n"
  [ "$_tap_fail" -eq 0 ]
}
