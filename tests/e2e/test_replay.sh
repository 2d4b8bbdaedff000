#!/usr/bin/env bash
# Replays with real processes, headless, fixed seeds, bounded in time:
#  - a gridworld sync test recorded with --replay-out, played back with
#    --replay --export: the export is the original's, byte for byte;
#  - two gridworld processes over ENet on 127.0.0.1 through --netsim, both
#    recording: the two replays are the same bytes, and playing one back
#    reproduces the export;
#  - a corrupt replay is refused with the reason, exit 1;
#  - rollnet-diff: equal exports and replays (0), a changed input (1, naming
#    the frame), a broken or foreign file (2); a replay cut short is its frames.
#
#   test_replay.sh path/to/gridworld path/to/rollnet-diff
set -uo pipefail
GW=$1
DIFF=$2
work=$(mktemp -d /tmp/rollnet-replay-XXXXXX)
pids=()
failed=0
cleanup() {
    for p in "${pids[@]:-}"; do
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null
    done
    if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "files kept in $work" >&2; fi
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    failed=$((failed + 1))
}
# same A B: byte-identical files
same() {
    cmp -s "$1" "$2" || fail "$1 and $2 differ"
}

# ---- sync test: record, play back, compare -------------------------------
timeout 60 "$GW" --synctest 3 --headless --bot 5 --episodes 2 --max-steps 150 --fps 1000 \
    --export "$work/st.csv" --replay-out "$work/st.rnr" >"$work/st.out" 2>&1 ||
    fail "sync test run: $(cat "$work/st.out")"
timeout 60 "$GW" --replay "$work/st.rnr" --headless --export "$work/st_play.csv" \
    >"$work/st_play.out" 2>&1 || fail "sync test playback: $(cat "$work/st_play.out")"
same "$work/st.csv" "$work/st_play.csv"
same "$work/st.csv.msgpack" "$work/st_play.csv.msgpack"

# ---- P2P over ENet through the simulator: both record ----------------------
port=$((44000 + $$ % 2000))
timeout 60 "$GW" --host "$port" --headless --bot 11 --episodes 2 --max-steps 150 --fps 120 \
    --netsim delay=30,jitter=10,loss=5,seed=3 --export "$work/host.csv" \
    --replay-out "$work/host.rnr" >"$work/host.out" 2>&1 &
pids+=($!)
host=$!
timeout 60 "$GW" --join "127.0.0.1:$port" --headless --bot 22 --episodes 2 --max-steps 150 \
    --fps 120 --netsim delay=30,jitter=10,loss=5,seed=4 --export "$work/join.csv" \
    --replay-out "$work/join.rnr" >"$work/join.out" 2>&1 || fail "joiner: $(cat "$work/join.out")"
wait "$host" || fail "host: $(cat "$work/host.out")"
same "$work/host.csv.msgpack" "$work/join.csv.msgpack"
same "$work/host.rnr" "$work/join.rnr"
timeout 60 "$GW" --replay "$work/join.rnr" --headless --export "$work/p2p_play.csv" \
    >"$work/p2p_play.out" 2>&1 || fail "P2P playback: $(cat "$work/p2p_play.out")"
same "$work/host.csv" "$work/p2p_play.csv"
same "$work/host.csv.msgpack" "$work/p2p_play.csv.msgpack"

# ---- a replay cut short (its recorder stopped) plays the frames it holds; ---
# ---- one cut inside its header is refused, naming what is wrong ------------
head -c 700 "$work/st.rnr" >"$work/cut.rnr"
"$GW" --replay "$work/cut.rnr" --headless >"$work/cut.out" 2>&1 ||
    fail "a replay cut short was not played: $(cat "$work/cut.out")"
grep -q "cut short" "$work/cut.out" || fail "a replay cut short is not called so: $(cat "$work/cut.out")"
head -c 60 "$work/st.rnr" >"$work/broken.rnr"
if "$GW" --replay "$work/broken.rnr" --headless >"$work/broken.out" 2>&1; then
    fail "a replay cut inside its header was played"
fi
grep -q "header" "$work/broken.out" || fail "the refusal does not name the header: $(cat "$work/broken.out")"

# ---- rollnet-diff ------------------------------------------------------------
"$DIFF" "$work/host.csv.msgpack" "$work/p2p_play.csv.msgpack" >"$work/d1.out" 2>&1
[ $? -eq 0 ] || fail "rollnet-diff of equal exports: $(cat "$work/d1.out")"
"$DIFF" "$work/host.rnr" "$work/join.rnr" >"$work/d2.out" 2>&1
[ $? -eq 0 ] || fail "rollnet-diff of equal replays: $(cat "$work/d2.out")"
# Frame 40's first input byte changed (the CSV row says where it is in the stream).
python3 - "$work/host.csv.msgpack" "$work/changed.msgpack" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
at = 0
for _ in range(41):                     # the 41st "inputs" key is frame 40's
    at = d.index(b'\xa6inputs', at) + 7
d[at + 3] ^= 0x10                       # [array of 2] [bin8] [len 1] [player 0's byte]
open(sys.argv[2], 'wb').write(d)
PY
"$DIFF" "$work/host.csv.msgpack" "$work/changed.msgpack" >"$work/d3.out" 2>&1
[ $? -eq 1 ] || fail "rollnet-diff of differing exports: $(cat "$work/d3.out")"
grep -q "first difference at frame 40" "$work/d3.out" || fail "rollnet-diff: $(cat "$work/d3.out")"
"$DIFF" "$work/st.rnr" "$work/host.rnr" >"$work/d4.out" 2>&1
[ $? -eq 1 ] || fail "rollnet-diff of two different replays: $(cat "$work/d4.out")"
"$DIFF" "$work/st.rnr" "$work/cut.rnr" >"$work/d5.out" 2>&1
[ $? -eq 1 ] || fail "rollnet-diff of a replay cut short: $(cat "$work/d5.out")"
grep -q "cut short" "$work/d5.out" || fail "rollnet-diff of a replay cut short: $(cat "$work/d5.out")"
"$DIFF" "$work/st.rnr" "$work/broken.rnr" >"$work/d7.out" 2>&1
[ $? -eq 2 ] || fail "rollnet-diff of a broken replay: $(cat "$work/d7.out")"
"$DIFF" "$work/st.rnr" "$work/st.csv.msgpack" >"$work/d6.out" 2>&1
[ $? -eq 2 ] || fail "rollnet-diff of a replay and an export: $(cat "$work/d6.out")"

if [ "$failed" -ne 0 ]; then
    echo "$failed check(s) failed" >&2
    exit 1
fi
echo "replay e2e: all checks passed"
