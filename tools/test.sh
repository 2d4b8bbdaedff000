#!/usr/bin/env bash
# Build rollnet and run every test: the unit, integration, e2e and fuzz
# suites in a plain build, then again under AddressSanitizer and
# UndefinedBehaviorSanitizer. Installs missing Debian packages first.
# The last line is "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
rollnet_install_deps || exit 1

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

echo
summary build/meson-logs/testlog.json build-sanitize/meson-logs/testlog.json
exit $status
