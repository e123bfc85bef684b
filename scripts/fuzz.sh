#!/usr/bin/env bash
# The fuzzing and sanitizer step of CI (docs/fuzzing.md): configures the `fuzz` preset (clang-15,
# ASan + UBSan everywhere, libFuzzer harnesses), builds only what it runs (the core libraries,
# the SQLite plugin the storage tests load, the unit tests and the harnesses), then
#   1. runs the unit tests (tests/unit) and every harness once over its committed corpus
#      (ctest --preset fuzz: the unit.* and fuzz.*.corpus tests);
#   2. fuzzes each harness for a short time starting from its corpus.
# Any crash, sanitizer report, leak or broken invariant fails the script; the input that did it
# is kept under build/fuzz/artifacts/.
#
#   scripts/fuzz.sh                  both steps, FUZZ_SECONDS (default 15) per harness
#   scripts/fuzz.sh --no-fuzz        step 1 only
#   scripts/fuzz.sh --only NAME ...  step 2 for these harnesses only (after step 1)
#   scripts/fuzz.sh --known-bugs     also check the invariants of known, unfixed defects
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-15}"
fuzz=1
only=()
while (($#)); do
  case "$1" in
    --no-fuzz) fuzz=0 ;;
    --known-bugs) export FUZZ_KNOWN_BUGS=1 ;;
    --only)
      shift
      only+=("$1")
      ;;
    *)
      echo "usage: $0 [--no-fuzz] [--known-bugs] [--only NAME]..." >&2
      exit 2
      ;;
  esac
  shift
done

bash scripts/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/vespid-ccache}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
# Sanitizer reports end the process with a message and a non-zero status; UBSan prints stacks.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Stacks with file:line when an llvm-symbolizer is installed (the runtime does not find
# Debian's unversioned one by itself).
if [[ -z ${ASAN_SYMBOLIZER_PATH:-} ]] && command -v llvm-symbolizer >/dev/null; then
  export ASAN_SYMBOLIZER_PATH="$(readlink -f "$(command -v llvm-symbolizer)")"
fi

start=$SECONDS
cmake --preset fuzz
cmake --build --preset fuzz --target vespid_fuzz core_unit_tests sqlite
echo "fuzz.sh: build took $((SECONDS - start)) s"

start=$SECONDS
ctest --preset fuzz
echo "fuzz.sh: unit tests and corpus replays took $((SECONDS - start)) s"
((fuzz)) || exit 0

harnesses=("${only[@]}")
if ((${#harnesses[@]} == 0)); then
  for dir in fuzz/corpus/*/; do harnesses+=("$(basename "$dir")"); done
fi
mkdir -p build/fuzz/artifacts
failed=()
start=$SECONDS
for h in "${harnesses[@]}"; do
  # New inputs go to a scratch directory, never into the committed corpus.
  scratch=$(mktemp -d)
  echo "fuzz.sh: fuzz_$h for ${seconds} s"
  if ! build/fuzz/bin/fuzz_"$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$h-" \
      "$scratch" "fuzz/corpus/$h" > "build/fuzz/artifacts/$h.log" 2>&1; then
    failed+=("$h")
    tail -n 60 "build/fuzz/artifacts/$h.log"
  else
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "build/fuzz/artifacts/$h.log" | tail -n 2
  fi
  rm -rf "$scratch"
done
echo "fuzz.sh: fuzzing took $((SECONDS - start)) s"
if ((${#failed[@]})); then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs and logs in build/fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: ${#harnesses[@]} harnesses fuzzed, no finding"
