#!/usr/bin/env bash
# Build rollnet and run every test: the unit, integration, e2e and fuzz
# suites in a plain build, then again under AddressSanitizer and
# UndefinedBehaviorSanitizer, then the thread stress test under
# ThreadSanitizer (build-tsan; skipped with a message where TSan cannot run),
# then the libFuzzer targets for a bounded time
# in a clang build (build-fuzz; ROLLNET_FUZZ=0 skips it, ROLLNET_FUZZ_SECONDS
# sets the seconds per target). Installs missing Debian packages first.
# The last line is "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
if [ "${ROLLNET_FUZZ:-1}" != 0 ]; then
    rollnet_install_deps "${ROLLNET_TEST_PACKAGES[@]}" || exit 1
else
    rollnet_install_deps || exit 1
fi

JOBS=${JOBS:-$(nproc)}
status=0
summary() {
    python3 - "$@" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        if not line.strip():
            continue
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
}

run_build() {
    local dir=$1; shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >/dev/null || return 1
    fi
    ninja -C "$dir" -j "$JOBS" >/dev/null || { ninja -C "$dir" -j 1 | tail -40; return 1; }
    echo "== tests in $dir"
    meson test -C "$dir" --print-errorlogs --num-processes "$JOBS" || return 1
}

run_build build || status=1
# Leak checks stay on for the library; SDL's video drivers are not ours to fix.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tools/lsan.supp:print_suppressions=0}
run_build build-sanitize -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug || status=1

# ThreadSanitizer over the thread stress test (suite 'stress', test setup
# 'tsan'): the ENet service thread receives while the game threads roll back.
# Only that target is built; it runs for about 20 s.
tsan_available() {
    local tmp rc
    tmp=$(mktemp -d) || return 1
    printf '%s\n' '#include <pthread.h>' 'static void *f(void *a) { return a; }' \
        'int main(void) { pthread_t t; pthread_create(&t, 0, f, 0); return pthread_join(t, 0); }' \
        >"$tmp/t.c"
    cc -fsanitize=thread -pthread "$tmp/t.c" -o "$tmp/t" >/dev/null 2>&1 && "$tmp/t" >/dev/null 2>&1
    rc=$?
    rm -rf "$tmp"
    return $rc
}

run_tsan_build() {
    local dir=build-tsan
    rm -f "$dir/meson-logs/testlog-tsan.json"
    if ! tsan_available; then
        echo "== ThreadSanitizer skipped: cc cannot build or run a -fsanitize=thread program here"
        return 0
    fi
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug >/dev/null || return 1
    fi
    ninja -C "$dir" -j "$JOBS" tests/stress/thread_stress >/dev/null ||
        { ninja -C "$dir" -j 1 tests/stress/thread_stress | tail -40; return 1; }
    echo "== ThreadSanitizer stress test in $dir"
    meson test -C "$dir" --no-rebuild --setup tsan --print-errorlogs || return 1
}
run_tsan_build || status=1

# libFuzzer needs clang and its runtime; the targets are built alone, not the
# whole project, and each runs for a bounded time with seed 1 over its
# checked-in corpus and regression inputs (tests/fuzz/meson.build).
fuzz_available() {
    command -v clang >/dev/null 2>&1 || return 1
    local tmp rc
    tmp=$(mktemp -d) || return 1
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
        >"$tmp/t.c"
    clang -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" >/dev/null 2>&1
    rc=$?
    rm -rf "$tmp"
    return $rc
}

run_fuzz_build() {
    local dir=build-fuzz
    rm -f "$dir/meson-logs/testlog.json"
    if [ "${ROLLNET_FUZZ:-1}" = 0 ]; then
        echo "== libFuzzer targets skipped (ROLLNET_FUZZ=0)"
        return 0
    fi
    if ! fuzz_available; then
        echo "== libFuzzer targets skipped: clang cannot link -fsanitize=fuzzer (apt install clang libclang-rt-dev)"
        return 0
    fi
    if [ ! -f "$dir/build.ninja" ]; then
        CC=clang meson setup "$dir" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || return 1
    fi
    # Configured before libFuzzer could link: configure again.
    if ! ninja -C "$dir" -t targets all 2>/dev/null | grep -q '^libfuzzer:'; then
        CC=clang meson setup --wipe "$dir" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || return 1
    fi
    ninja -C "$dir" -j "$JOBS" libfuzzer >/dev/null || { ninja -C "$dir" -j 1 libfuzzer | tail -40; return 1; }
    echo "== libFuzzer targets in $dir"
    meson test -C "$dir" --no-rebuild --suite libfuzzer --print-errorlogs --num-processes "$JOBS" || return 1
}
run_fuzz_build || status=1

echo
summary build/meson-logs/testlog.json build-sanitize/meson-logs/testlog.json \
    build-tsan/meson-logs/testlog-tsan.json build-fuzz/meson-logs/testlog.json
exit $status
