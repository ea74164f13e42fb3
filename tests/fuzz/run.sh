#!/bin/bash
# Build the libFuzzer targets (clang, address and undefined sanitizers) and
# run each for a while from its committed seeds.  Fails when a target
# crashes; the crashing input is saved (and printed as a path) so it can
# become a regression test.
# usage: tests/fuzz/run.sh [SECONDS-PER-TARGET (60)] [TARGET...]
#   FUZZ_BUILD  the build directory (build-fuzz)
#   FUZZ_OUT    where corpora grow and crashes land ($FUZZ_BUILD/fuzz-out)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config seccomp netpolicy archive api)
build=${FUZZ_BUILD:-build-fuzz}
out=${FUZZ_OUT:-$build/fuzz-out}

command -v clang >/dev/null || { echo "run.sh: clang is missing (scripts/setup.sh installs it)" >&2; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C "$build" $(printf 'tests/fuzz/fuzz-%s ' "${targets[@]}")

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=()
for t in "${targets[@]}"; do
  # New inputs grow a working corpus; the committed seeds stay as they are.
  mkdir -p "$out/$t/corpus" "$out/$t/crashes"
  echo "== fuzz-$t for ${secs}s"
  if ! "$build/tests/fuzz/fuzz-$t" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
       -artifact_prefix="$out/$t/crashes/" -print_final_stats=1 \
       "$out/$t/corpus" "tests/fuzz/corpus/$t" > "$out/$t/log" 2>&1; then
    failed+=("$t")
    echo "fuzz-$t: FAILED; input(s): $(ls "$out/$t/crashes/" | sed "s|^|$out/$t/crashes/|" | tr '\n' ' ')" >&2
    grep -E 'ERROR|SUMMARY|fuzz check|runtime error' "$out/$t/log" | head -n 5 >&2
  else
    grep -E '^stat::number_of_executed_units|^Done' "$out/$t/log" | tr '\n' ' '
    echo
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]} (logs in $out/<target>/log)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${secs}s each without a crash"
