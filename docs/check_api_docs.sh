#!/usr/bin/env bash
# Every public symbol of the headers has a comment: runs doxygen with the
# project's Doxyfile into a scratch directory and fails on any warning
# (undocumented function, type, field, enum value or macro, or a broken
# comment), printing each one. Exit 77 (meson: SKIP) without doxygen.
#
#   check_api_docs.sh BUILD/docs/Doxyfile
set -u
doxyfile=${1:?usage: check_api_docs.sh PATH/TO/Doxyfile}
if ! command -v doxygen >/dev/null 2>&1; then
    echo "doxygen is not installed: skipped (Debian: apt-get install doxygen)"
    exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/rollnet-apidocs-XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
# Later settings win: the same configuration, written elsewhere.
{
    cat "$doxyfile"
    echo "OUTPUT_DIRECTORY = $work/out"
    echo "WARN_LOGFILE = $work/warnings.txt"
    echo "WARN_AS_ERROR = NO"
} | doxygen - >"$work/doxygen.out" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
    echo "FAIL: doxygen exited $rc" >&2
    cat "$work/doxygen.out" >&2
    exit 1
fi
if [ -s "$work/warnings.txt" ]; then
    echo "FAIL: $(grep -c 'warning:' "$work/warnings.txt") doxygen warnings in the public headers:" >&2
    cat "$work/warnings.txt" >&2
    exit 1
fi
[ -f "$work/out/html/index.html" ] || { echo "FAIL: no HTML was written" >&2; exit 1; }
echo "ok: every public symbol is documented ($(doxygen --version))"
