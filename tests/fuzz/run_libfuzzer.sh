#!/bin/sh
# One bounded, seeded libFuzzer run, as a meson test (suite libfuzzer):
#   run_libfuzzer.sh FUZZER WORKDIR SECONDS CORPUS_DIR [MORE_DIRS...]
# Every input of the given directories (those that exist) runs first, then
# the fuzzer mutates for SECONDS (ROLLNET_FUZZ_SECONDS overrides) with seed
# 1. New inputs go to WORKDIR/new, crash inputs to WORKDIR/artifacts: the
# checked-in corpus is only read. Exit status non-zero on any crash,
# sanitizer report, leak, timeout (10 s per input) or allocation over 256 MB.
set -eu
fuzzer=$1
work=$2
seconds=${ROLLNET_FUZZ_SECONDS:-$3}
shift 3
rm -rf "$work"
mkdir -p "$work/new" "$work/artifacts"
dirs=""
for d in "$@"; do
    if [ -d "$d" ]; then
        dirs="$dirs $d"
    fi
done
# shellcheck disable=SC2086
exec "$fuzzer" -seed=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -error_exitcode=1 -timeout_exitcode=1 \
    -malloc_limit_mb=256 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/new" $dirs
