#!/usr/bin/env bash
# sam3.cpp — build (if needed) and run the whole test suite. Extra arguments go to ctest (e.g. -L unit; `-L unit`,
# `-L module` or `-L slow` alone builds only that label's test programs).
#   scripts/test.sh [CTEST ARGS]             the Release build in build/
#   scripts/test.sh --sanitize [CTEST ARGS]  AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
#                                            (-DSAM3_SANITIZE=address,undefined; any report fails the test), e.g.
#                                            scripts/test.sh --sanitize -L 'unit|module|e2e'
#   scripts/test.sh --fuzz [CTEST ARGS]      clang + libFuzzer build in build-fuzz/ (-DSAM3_FUZZ=ON), then the
#                                            label `fuzz`: a short run of every fuzz target over its seed corpus
#                                            (docs/security.md says how to run one for longer)
# Build directories are configured once; delete one to reconfigure. JOBS=N limits parallel jobs (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${JOBS:-$(nproc)}"
mode=release
target=()  # what to build: everything unless narrowed below
# The sanitizer and fuzz builds: RelWithDebInfo with line tables only (-g1): reports keep file:line, and it compiles
# faster than -g.
g1_flags=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG")
case "${1:-}" in
  --sanitize) mode=sanitize; shift ;;
  --fuzz) mode=fuzz; shift ;;
esac
case "$mode" in
  release)
    dir=build
    [ -f $dir/CMakeCache.txt ] || cmake -S . -B $dir -DCMAKE_BUILD_TYPE=Release ${SAM3_CMAKE_ARGS:-}
    ;;
  sanitize)
    dir=build-asan
    # RelWithDebInfo with -g1 (above); -O2 keeps the module tests' run time reasonable.
    # No Python package here: an ASan-built extension would need the runtime preloaded into python3.
    [ -f $dir/CMakeCache.txt ] || cmake -S . -B $dir -DCMAKE_BUILD_TYPE=RelWithDebInfo "${g1_flags[@]}" \
      -DSAM3_SANITIZE=address,undefined -DSAM3_PYTHON=OFF ${SAM3_CMAKE_ARGS:-}
    # Leaks are reported at exit; OpenMP's and OpenBLAS's thread pools keep memory by design, so only ours count.
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    ;;
  fuzz)
    dir=build-fuzz
    if ! command -v clang >/dev/null 2>&1 || ! command -v clang++ >/dev/null 2>&1; then
      echo "test.sh: --fuzz needs clang and clang++ (scripts/setup.sh --deps installs them)" >&2
      exit 1
    fi
    [ -f $dir/CMakeCache.txt ] || CC=clang CXX=clang++ cmake -S . -B $dir -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "${g1_flags[@]}" \
      -DSAM3_FUZZ=ON -DSAM3_BUILD_TESTS=OFF -DSAM3_PYTHON=OFF ${SAM3_CMAKE_ARGS:-}
    set -- -L fuzz "$@"
    target=(--target fuzz_targets)  # the fuzz targets only (not the CLI, the server or the benchmarks)
    ;;
esac
# `-L unit`, `-L module` or `-L slow` alone builds only that label's test programs and what they link (target
# tests_<label>): the unit label under the sanitizers then skips the CLI, the server, the benchmarks and the other
# labels' tests. Anything else builds everything.
if [ $mode != fuzz ] && [ $# -eq 2 ] && [ "$1" = -L ] && [[ "$2" =~ ^(unit|module|slow)$ ]]; then
  target=(--target "tests_$2")
fi
cmake --build $dir -j"$jobs" "${target[@]}"
ctest --test-dir $dir --output-on-failure -j"$jobs" "$@"
