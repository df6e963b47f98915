#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_*.cpp, with ASan + UBSan, clang) into build-fuzz/ and
# runs each for a while.
#
# Usage: bash scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 60). scripts/test.sh runs `bash scripts/fuzz.sh 4`;
#            the long run is e.g. `bash scripts/fuzz.sh 1800` (RELIABILITY.md).
#   TARGET   fuzz_config, fuzz_php_serialize, fuzz_json_scrub, fuzz_webhook_body, fuzz_csv
#            (default: all of them).
#
# The seed corpora in fuzz/corpus/TARGET/ are only read. What a run learns is kept in
# build-fuzz/corpus/TARGET/ (the next run starts from it); an input that crashes or breaks an
# invariant is written to build-fuzz/findings/TARGET/ and the script exits 1. Each finding
# becomes a unit test (tests/unit/) and, once fixed, a seed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
SECONDS_EACH=${1:-60}
shift || true
if ! [[ "$SECONDS_EACH" =~ ^[0-9]+$ ]]; then
  echo "fuzz.sh: SECONDS must be a whole number, e.g. bash scripts/fuzz.sh 60" >&2
  exit 64
fi
ALL=()
for source in fuzz/fuzz_*.cpp; do ALL+=("$(basename "$source" .cpp)"); done
TARGETS=("$@")
((${#TARGETS[@]} > 0)) || TARGETS=("${ALL[@]}")
for target in "${TARGETS[@]}"; do
  if [[ ! -f "fuzz/$target.cpp" ]]; then
    echo "fuzz.sh: no target $target; the targets are ${ALL[*]}" >&2
    exit 64
  fi
done

BUILD="$ROOT/build-fuzz"
if [[ -f "$BUILD/CMakeCache.txt" ]] &&
  ! grep -q "^CMAKE_HOME_DIRECTORY:INTERNAL=$ROOT\$" "$BUILD/CMakeCache.txt"; then
  rm -rf "$BUILD"  # configured for another source tree
fi
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMGDPR_FUZZ=ON -DMGDPR_BUILD_TESTS=OFF -DMGDPR_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" -j2 --target "${TARGETS[@]}"

leaks=$(bash "$ROOT/scripts/lsan-works.sh" clang++ "$BUILD/lsan-probe")
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=()
for target in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$target"
  findings="$BUILD/findings/$target"
  mkdir -p "$corpus" "$findings"
  echo "fuzz.sh: $target for ${SECONDS_EACH}s (seeds: fuzz/corpus/$target)"
  # -max_len: deep nesting needs room; -rss_limit_mb: a value may never cost this much.
  if "$BUILD/$target" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -detect_leaks="$leaks" -print_final_stats=1 \
    -artifact_prefix="$findings/" "$corpus" "fuzz/corpus/$target" >"$BUILD/$target.log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$BUILD/$target.log" |
      sed "s/^/fuzz.sh:   /" || true
  else
    failed+=("$target")
    echo "fuzz.sh: $target FAILED; the input is in $findings/, the log in $BUILD/$target.log:"
    grep -E 'ERROR|SUMMARY|deadly signal|Test unit written' "$BUILD/$target.log" | head -5
  fi
done
if ((${#failed[@]} > 0)); then
  echo "fuzz.sh: findings in ${failed[*]}; turn each into a unit test" >&2
  exit 1
fi
echo "fuzz.sh: ${#TARGETS[@]} target(s), ${SECONDS_EACH}s each: no findings"
