#!/usr/bin/env bash
# The whole lutlm test suite, from a fresh Debian machine:
#   1. install missing build/test packages (Debian),
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build, unit tests,
#   3. the GGUF parser fuzzer for a bounded time (libFuzzer, clang),
#   4. aarch64 cross build, kernel tests under qemu-aarch64 (NEON),
#   5. the release build and every test (unit, isa, e2e) — CTest's summary line ends the output.
# Environment: LUTLM_FUZZ_SECONDS (default 60), LUTLM_SKIP_ASAN=1, LUTLM_SKIP_ARM=1, LUTLM_SKIP_FUZZ=1,
# LUTLM_SHARED (default ../shared), JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-$(nproc)}
shared=${LUTLM_SHARED:-$root/../shared}
fuzz_seconds=${LUTLM_FUZZ_SECONDS:-60}

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v clang >/dev/null || need+=(clang)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
install() {
  echo "== installing: $*"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}
if [ ${#need[@]} -gt 0 ]; then install "${need[@]}"; fi
# libFuzzer's runtime ships separately from clang on Debian (libclang-rt-N-dev)
fuzz_probe='int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }'
if [ "${LUTLM_SKIP_FUZZ:-0}" != 1 ] && ! echo "$fuzz_probe" | clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
  install "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
fi

configure_and_build() { # dir, cmake args...
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -DLUTLM_SHARED_DIR="$shared" "$@" >/dev/null
  cmake --build "$dir" -j "$jobs" >/dev/null
}

if [ "${LUTLM_SKIP_ASAN:-0}" != 1 ]; then
  echo "== ASan+UBSan build: unit tests"
  configure_and_build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUTLM_SANITIZE=ON
  ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan -L unit -j "$jobs" --output-on-failure | tail -n 3
fi

if [ "${LUTLM_SKIP_FUZZ:-0}" != 1 ] && ls fuzz/*.c >/dev/null 2>&1; then
  echo "== fuzzing (${fuzz_seconds}s per target)"
  CC=clang configure_and_build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUTLM_FUZZ=ON -DLUTLM_BUILD_TESTS=OFF
  for src in fuzz/*.c; do
    name=$(basename "$src" .c)
    corpus=build-fuzz/corpus-$name; mkdir -p "$corpus"
    [ -d "fuzz/seeds-$name" ] && cp -n fuzz/seeds-"$name"/* "$corpus"/ 2>/dev/null || true
    ./build-fuzz/"$name" "$corpus" -max_total_time="$fuzz_seconds" -max_len=65536 -rss_limit_mb=2048 \
        -print_final_stats=0 2>build-fuzz/"$name".log || { tail -n 40 build-fuzz/"$name".log; exit 1; }
    echo "$name: $(grep -E '^Done|#[0-9]+.*DONE' build-fuzz/"$name".log | tail -n 1) no finding"
  done
fi

if [ "${LUTLM_SKIP_ARM:-0}" != 1 ]; then
  echo "== aarch64 cross build: unit + isa tests under qemu-aarch64"
  configure_and_build build-arm64 -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64-linux-gnu.cmake" -DCMAKE_BUILD_TYPE=Release
  ctest --test-dir build-arm64 -L 'unit|isa' -j "$jobs" --output-on-failure | tail -n 3
fi

echo "== release build: all tests"
configure_and_build build -DCMAKE_BUILD_TYPE=Release
status=0
ctest --test-dir build -j "$jobs" --output-on-failure | tee build/ctest.log || status=$?
# CTest lists disabled tests after its summary: repeat the summary so it is the last line.
grep -E "tests passed|tests failed" build/ctest.log | tail -n 1
exit $status
