#!/usr/bin/env bash
# An unannounced block of one gridworld's game thread (--block-at: it sleeps,
# no signal, so other threads run on), two processes with bots over ENet on
# 127.0.0.1, headless, fixed seeds, bounded in time.
#   thread:    the joiner blocks 20 s with the transport's service thread (the
#              default): both exit 0 with byte-identical exports, and the
#              host's per-peer log shows the joiner busy (peer_busy) and never
#              interrupted, lost or disconnected.
#   nothread:  the same block with --no-net-thread on both sides: the host
#              sees the network-gone path: no peer_busy; interrupted, then the
#              connection lost (reconnecting) once the disconnect timeout
#              (5 s) has passed.
#
#   test_gridworld_block.sh path/to/gridworld
set -uo pipefail
GW=$1
work=$(mktemp -d /tmp/rollnet-gwblock-XXXXXX)
. "$(dirname "$0")/proc_lib.sh"
base=$((44000 + $$ % 2000))

# start NAME PORT ARGS...: host and joiner in the background, the joiner with
# --block-at 3:20 as well; ARGS go to both.
start_pair() {
    local name=$1 port=$2
    shift 2
    mkdir -p "$work/$name"
    "$GW" --host "$port" --headless --bot 11 --export "$work/$name/host.csv" "$@" \
        >"$work/$name/host.out" 2>"$work/$name/host.err" &
    host=$!
    "$GW" --join "127.0.0.1:$port" --headless --bot 22 --export "$work/$name/join.csv" \
        --block-at 3:20 "$@" >"$work/$name/join.out" 2>"$work/$name/join.err" &
    join=$!
    pids+=("$host" "$join")
    (sleep 90; kill -9 "$host" "$join") >/dev/null 2>&1 &
    pids+=($!)
}

# The first time (ms, the log's clock) EVENT appears in a peer log, or empty.
first_at() {
    grep -m1 ",$2," "$1" 2>/dev/null | cut -d, -f1
}

# thread: 2 episodes of 450 frames (15 s of play) around a 20 s block.
start_pair thread $((base + 1)) --episodes 2 --max-steps 450
reap "$host"; hs=$rc
reap "$join"; js=$rc
log="$work/thread/host.csv.peer.csv"
[ "$hs" -eq 0 ] && [ "$js" -eq 0 ] ||
    fail "thread: exit status host $hs, join $js"
cmp -s "$work/thread/host.csv" "$work/thread/join.csv" ||
    fail "thread: the CSV exports differ"
cmp -s "$work/thread/host.csv.msgpack" "$work/thread/join.csv.msgpack" ||
    fail "thread: the msgpack exports differ"
rows=$(($(wc -l <"$work/thread/host.csv") - 1))
[ "$rows" -eq 900 ] || fail "thread: $rows rows exported, expected 900"
grep -q ',block,20000$' "$work/thread/join.csv.peer.csv" ||
    fail "thread: the joiner did not block"
grep -q ',peer_busy,' "$log" || fail "thread: the host's log shows no peer_busy"
# Busy for most of the block, reported as it went on.
max_busy=$(grep ',peer_busy,' "$log" | cut -d, -f3 | sort -n | tail -1)
[ "${max_busy:-0}" -ge 15000 ] || fail "thread: the longest busy report is ${max_busy:-0} ms"
! grep -qE ',(interrupted|disconnected|reconnecting),' "$log" ||
    fail "thread: the host saw its peer interrupted, lost or disconnected"
grep -q ',resumed,' "$log" || fail "thread: the host never saw its peer resume"
echo "ok: thread ($rows identical rows; busy reports up to $max_busy ms)"

# nothread: the host's log up to the disconnect timeout (the connection lost).
start_pair nothread $((base + 2)) --episodes 2 --max-steps 450 --no-net-thread
log="$work/nothread/host.csv.peer.csv"
for _ in $(seq 300); do
    grep -q ',reconnecting,' "$log" 2>/dev/null && break
    sleep 0.1
done
kill -TERM "$host" "$join" 2>/dev/null
reap "$host"
reap "$join"
blocked=$(first_at "$work/nothread/join.csv.peer.csv" block)
interrupted=$(first_at "$log" interrupted)
lost=$(first_at "$log" reconnecting)
[ -n "$blocked" ] || fail "nothread: the joiner did not block"
! grep -q ',peer_busy,' "$log" || fail "nothread: the host saw a busy report without a thread"
[ -n "$interrupted" ] || fail "nothread: the host never saw its peer interrupted"
[ -n "$lost" ] || fail "nothread: the host never saw its connection to the peer lost"
gap=$((lost - interrupted))
# interrupted after 750 ms of silence, lost (reconnecting) after 5000 ms: 4250 ms
# apart (the two logs' clocks differ, so only the host's is compared).
[ "$gap" -ge 3500 ] && [ "$gap" -le 9000 ] ||
    fail "nothread: lost $gap ms after interrupted, not about 4250"
echo "ok: nothread (interrupted, then the connection lost $gap ms later; no busy report)"
