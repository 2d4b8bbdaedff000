#!/usr/bin/env bash
# gridworld --spectate as real processes over ENet on 127.0.0.1, headless,
# fixed seeds, bounded in time: a host and a joiner play 3 episodes; one
# spectator watches from the start, another joins 4 s in (it loads the state
# the host sends). Every process exits 0; the players' exports are identical;
# the first spectator's export is the players'; the late one's is the
# players' from the frame it began at, to the end.
#
#   test_gridworld_spectate.sh path/to/gridworld
set -uo pipefail
GW=$1
work=$(mktemp -d /tmp/rollnet-spectate-XXXXXX)
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
port=$((44000 + $$ % 2000))
args=(--headless --episodes 3 --max-steps 300)

"$GW" --host "$port" --bot 11 "${args[@]}" --export "$work/host.csv" --stats \
    >"$work/host.out" 2>"$work/host.err" &
host=$!
"$GW" --spectate "127.0.0.1:$port" "${args[@]}" --export "$work/early.csv" \
    >"$work/early.out" 2>"$work/early.err" &
early=$!
sleep 0.5
"$GW" --join "127.0.0.1:$port" --bot 22 "${args[@]}" --export "$work/join.csv" \
    >"$work/join.out" 2>"$work/join.err" &
join=$!
pids+=("$host" "$early" "$join")
sleep 4
"$GW" --spectate "127.0.0.1:$port" "${args[@]}" --export "$work/late.csv" \
    >"$work/late.out" 2>"$work/late.err" &
late=$!
pids+=("$late")
(sleep 60; kill -9 "$host" "$join" "$early" "$late") >/dev/null 2>&1 &
pids+=($!)

for who in host join early late; do
    eval "pid=\$$who"
    wait "$pid"
    status=$?
    [ "$status" -eq 0 ] || fail "$who exited $status: $(cat "$work/$who.err")"
done
grep -q '^spectators_joined 2$' "$work/host.out" ||
    fail "the host did not count two spectators: $(grep spectators "$work/host.out")"
grep -q '^spectators_dropped 0$' "$work/host.out" || fail "the host dropped a spectator"
rows=$((3 * 300))
n=$(($(wc -l <"$work/host.csv") - 1))
[ "$n" -eq "$rows" ] || fail "the host exported $n rows, not $rows"
cmp -s "$work/host.csv" "$work/join.csv" || fail "the players' exports differ"
cmp -s "$work/host.csv" "$work/early.csv" || fail "the early spectator's export differs"
cmp -s "$work/host.csv.msgpack" "$work/early.csv.msgpack" ||
    fail "the early spectator's msgpack export differs"
first=$(sed -n 2p "$work/late.csv" | cut -d, -f1)
if [ -z "$first" ] || [ "$first" -le 0 ]; then
    fail "the late spectator exported from frame '${first}', not from later than frame 0"
else
    # The host's rows from that frame on (line 1 is the header, frame f is line f + 2).
    tail -n +$((first + 2)) "$work/host.csv" >"$work/host_tail.csv"
    tail -n +2 "$work/late.csv" >"$work/late_rows.csv"
    cmp -s "$work/host_tail.csv" "$work/late_rows.csv" ||
        fail "the late spectator's rows differ from the players' (from frame $first)"
    echo "late spectator: frames $first..$((rows - 1))"
fi
if [ "$failed" -ne 0 ]; then
    exit 1
fi
echo "PASS: two spectators (one from frame 0, one late) export the players' frames"
