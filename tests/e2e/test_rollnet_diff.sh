#!/usr/bin/env bash
# rollnet-diff without the sample game: exports written here byte by byte
# (msgpack maps as rollnet_exporter writes them) and the replays of the fuzz
# corpus (recorded by the library's recorder). Equal files exit 0; a changed
# input, or a replay cut short (its recorder stopped), exits 1 naming the frame,
# with both records decoded; a broken or cut export, a
# foreign one or one of each kind exits 2 with the reason.
#
#   test_rollnet_diff.sh path/to/rollnet-diff path/to/tests/fuzz/corpus/replay_file
set -uo pipefail
DIFF=$1
REPLAYS=$2
work=$(mktemp -d /tmp/rollnet-diff-XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
fail() {
    echo "FAIL: $*" >&2
    failed=$((failed + 1))
}
# expect STATUS OUTFILE A B: rollnet-diff A B exits STATUS
expect() {
    local want=$1 out=$2
    shift 2
    "$DIFF" "$@" >"$out" 2>&1
    local got=$?
    [ "$got" -eq "$want" ] || fail "rollnet-diff $*: exit $got, expected $want: $(cat "$out")"
}

# One export row: frame, episode, step, the two players' inputs (hex bytes),
# and data [frame, 7] (or nil with "nil").
row() {
    local f=$1 e=$2 s=$3 a=$4 b=$5 data=${6:-}
    printf '\x85\xa5frame'; printf "\\x$(printf %02x "$f")"
    printf '\xa7episode'; printf "\\x$(printf %02x "$e")"
    printf '\xa4step'; printf "\\x$(printf %02x "$s")"
    printf '\xa6inputs\x92\xc4\x01'; printf "\\x$a"; printf '\xc4\x01'; printf "\\x$b"
    printf '\xa4data'
    if [ "$data" = nil ]; then printf '\xc0'; else printf '\x92'; printf "\\x$(printf %02x "$f")"; printf '\x07'; fi
}
export_of() { # export_of CHANGED_FRAME > file: 6 frames, one changed input at CHANGED_FRAME (-1: none)
    for f in 0 1 2 3 4 5; do
        local b=0$((f % 4))
        [ "$f" -eq "$1" ] && b=1f
        row "$f" $((f / 3)) $((f % 3)) 0$((f % 2)) "$b"
    done
}
export_of -1 >"$work/a.msgpack"
export_of -1 >"$work/b.msgpack"
export_of 4 >"$work/c.msgpack"
head -c 100 "$work/a.msgpack" >"$work/cut.msgpack"
export_of -1 | head -c $(( $(wc -c <"$work/a.msgpack") / 6 * 5 )) >"$work/short.msgpack"

expect 0 "$work/1" "$work/a.msgpack" "$work/b.msgpack"
grep -q "equal: 6 frames" "$work/1" || fail "equal exports: $(cat "$work/1")"
expect 1 "$work/2" "$work/a.msgpack" "$work/c.msgpack"
grep -q "first difference at frame 4" "$work/2" || fail "differing exports: $(cat "$work/2")"
grep -q "A (.*a.msgpack): frame 4 episode 1 step 1 inputs 00 00 data \[4, 7\]" "$work/2" ||
    fail "the first record is not decoded: $(cat "$work/2")"
grep -q "B (.*c.msgpack): frame 4 episode 1 step 1 inputs 00 1f data \[4, 7\]" "$work/2" ||
    fail "the second record is not decoded: $(cat "$work/2")"
expect 1 "$work/3" "$work/a.msgpack" "$work/short.msgpack"
grep -q "ends after 5 frames" "$work/3" || fail "a shorter export: $(cat "$work/3")"
expect 2 "$work/4" "$work/a.msgpack" "$work/cut.msgpack"
grep -q "cut short" "$work/4" || fail "a cut export: $(cat "$work/4")"
printf 'not msgpack at all\n' >"$work/text"
expect 2 "$work/5" "$work/text" "$work/a.msgpack"
expect 2 "$work/6" "$work/a.msgpack" "$work/does-not-exist"

# Records the printer cannot show whole: nested deeper than msgpack-c
# unpacks (40 arrays), and one whose text is longer than the line allows
# (a 5000-byte string). Said so, not printed empty or cut without a word.
deep_row() { # deep_row LAST_BYTE_HEX
    printf '\x85\xa5frame\x00\xa7episode\x00\xa4step\x00\xa6inputs\x91\xc4\x01\x00\xa4data'
    for _ in $(seq 40); do printf '\x91'; done
    printf "\\x$1"
}
long_row() { # long_row FILL_CHAR
    printf '\x85\xa5frame\x00\xa7episode\x00\xa4step\x00\xa6inputs\x91\xc4\x01\x00\xa4data'
    printf '\xda\x13\x88'; head -c 5000 /dev/zero | tr '\0' "$1"
}
deep_row 01 >"$work/deep1.msgpack"
deep_row 02 >"$work/deep2.msgpack"
long_row a >"$work/long1.msgpack"
long_row b >"$work/long2.msgpack"
expect 1 "$work/12" "$work/deep1.msgpack" "$work/deep2.msgpack"
grep -q "data (41 bytes msgpack-c does not decode" "$work/12" ||
    fail "an undecodable record is not named: $(cat "$work/12")"
expect 1 "$work/13" "$work/long1.msgpack" "$work/long2.msgpack"
grep -q "\.\.\. (5003 bytes, cut)" "$work/13" || fail "a cut record is not named: $(cat "$work/13")"

r1=$REPLAYS/testgame-2p-episodes
r2=$REPLAYS/testgame-no-records
expect 0 "$work/7" "$r1" "$r1"
expect 1 "$work/8" "$r1" "$r2"
grep -q "first difference at frame 0" "$work/8" || fail "differing replays: $(cat "$work/8")"
grep -q "episode_end" "$work/8" || fail "a replay's record without its episode end: $(cat "$work/8")"
head -c 600 "$r1" >"$work/cut.rnr"
expect 1 "$work/9" "$r1" "$work/cut.rnr"
grep -q "ends after 5 frames (cut short" "$work/9" || fail "a replay cut short: $(cat "$work/9")"
head -c 40 "$r1" >"$work/broken.rnr"
expect 2 "$work/14" "$r1" "$work/broken.rnr"
grep -q "not a valid replay" "$work/14" || fail "a broken replay: $(cat "$work/14")"
expect 2 "$work/10" "$r1" "$work/a.msgpack"
expect 2 "$work/11" "$r1"

if [ "$failed" -ne 0 ]; then
    echo "$failed check(s) failed" >&2
    exit 1
fi
echo "rollnet-diff: all checks passed"
