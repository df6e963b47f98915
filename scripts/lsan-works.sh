#!/usr/bin/env bash
# Prints 1 when LeakSanitizer can run on this machine, 0 when it cannot.
#
# Usage: bash scripts/lsan-works.sh COMPILER WORK_DIR
#
# LeakSanitizer stops the process's threads with ptrace; some sandboxes forbid that and every
# sanitized binary would then die at exit with "LeakSanitizer has encountered a fatal error".
# A tiny leak-free program built with COMPILER in WORK_DIR tells: scripts/test.sh and
# scripts/fuzz.sh turn leak detection off only when LSan itself cannot run here, and say so.
set -euo pipefail
cxx=$1
dir=$2
mkdir -p "$dir"
printf '#include <cstdlib>\nint main() { void* p = std::malloc(16); std::free(p); return 0; }\n' \
  >"$dir/probe.cpp"
if "$cxx" -fsanitize=address,undefined -o "$dir/probe" "$dir/probe.cpp" &&
  ! ASAN_OPTIONS=detect_leaks=1 "$dir/probe" >"$dir/probe.log" 2>&1; then
  echo "lsan-works: LeakSanitizer cannot run on this machine (no ptrace?):" >&2
  sed -n '1,5p' "$dir/probe.log" >&2
  echo 0
else
  echo 1
fi
