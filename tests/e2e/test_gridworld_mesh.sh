#!/usr/bin/env bash
# Three and four gridworld processes (--players N) with bots over ENet on
# 127.0.0.1, headless, fixed seeds, bounded in time. Every joiner is given
# only the host's address: the host introduces the joiners to each other.
# Scenarios: 3 players on a clean link (the joiners start in reverse seat
# order); 4 players, each side through --netsim (latency, jitter, loss: the
# introductions cross it too); 3 players where a second joiner claims a
# seat that is taken (refused, "session full", exit 1) before the right one
# joins; the 4-player session recorded by one joiner plays back to the same
# export. Every process of a played session must exit 0, and all exports must
# be byte-identical (CSV and msgpack), complete, and replay (--check-export).
#
#   test_gridworld_mesh.sh path/to/gridworld
set -uo pipefail
GW=$1
work=$(mktemp -d /tmp/rollnet-gridworld-mesh-XXXXXX)
. "$(dirname "$0")/proc_lib.sh"

EPISODES=2
STEPS=150
COMMON=(--headless --episodes "$EPISODES" --max-steps "$STEPS")
next_port=$((45000 + $$ % 1000 * 2))
started=()  # name:pid of the processes of the current scenario

# launch NAME SEED ARGS...: one gridworld in the background, exporting to
# $work/NAME.csv, killed by a watchdog after 60 s whatever happens.
launch() {
    local name=$1 seed=$2
    shift 2
    "$GW" "${COMMON[@]}" --bot "$seed" --export "$work/$name.csv" "$@" \
        >"$work/$name.out" 2>"$work/$name.err" &
    local pid=$!
    pids+=("$pid")
    started+=("$name:$pid")
    (sleep 60; kill -9 "$pid") >/dev/null 2>&1 &
    pids+=($!)
}

# expect_all_ok: every process started since the last call exits 0, and every
# export equals the first one byte for byte, holds every frame and replays.
expect_all_ok() {
    local label=$1 first="" entry name pid
    for entry in "${started[@]}"; do
        name=${entry%%:*}
        pid=${entry##*:}
        reap "$pid"
        [ "$rc" -eq 0 ] || fail "$label: $name exited $rc ($(tail -n 3 "$work/$name.err"))"
    done
    for entry in "${started[@]}"; do
        name=${entry%%:*}
        if [ -z "$first" ]; then
            first=$name
            local rows
            rows=$(($(wc -l <"$work/$name.csv") - 1))
            [ "$rows" -eq $((EPISODES * STEPS)) ] ||
                fail "$label: $name exported $rows rows, not $((EPISODES * STEPS))"
            "$GW" --check-export "$work/$name.csv.msgpack" --max-steps "$STEPS" >/dev/null ||
                fail "$label: $name's export does not replay"
            continue
        fi
        cmp -s "$work/$first.csv" "$work/$name.csv" ||
            fail "$label: $name's CSV differs from $first's"
        cmp -s "$work/$first.csv.msgpack" "$work/$name.csv.msgpack" ||
            fail "$label: $name's msgpack differs from $first's"
    done
    started=()
    echo "ok: $label"
}

# 3 players, clean link; seat 2 joins before seat 1.
port=$next_port
launch m3-host 11 --host "$port" --players 3
sleep 0.3
launch m3-p2 33 --join "127.0.0.1:$port" --players 3 --player 2
sleep 0.3
launch m3-p1 22 --join "127.0.0.1:$port" --players 3 --player 1
expect_all_ok "3 players, joiners know only the host"

# 4 players, every side's outgoing packets through the simulator.
port=$((next_port + 1))
NS=delay=15,jitter=5,loss=3,dup=1,reorder=1
launch m4-host 11 --host "$port" --players 4 --netsim "$NS,seed=1"
sleep 0.3
launch m4-p1 22 --join "127.0.0.1:$port" --players 4 --player 1 --netsim "$NS,seed=2"
launch m4-p3 44 --join "127.0.0.1:$port" --players 4 --player 3 --netsim "$NS,seed=4"
launch m4-p2 33 --join "127.0.0.1:$port" --players 4 --player 2 --netsim "$NS,seed=3" \
    --replay-out "$work/m4-p2.rnr"
expect_all_ok "4 players through --netsim"
# A 4-player recording plays back with its own number of players, and its
# export is the session's, byte for byte.
timeout 60 "$GW" --replay "$work/m4-p2.rnr" --headless --export "$work/m4-play.csv" \
    >"$work/m4-play.out" 2>&1 || fail "4-player replay: playback failed ($(cat "$work/m4-play.out"))"
cmp -s "$work/m4-host.csv.msgpack" "$work/m4-play.csv.msgpack" && cmp -s "$work/m4-host.csv" "$work/m4-play.csv" ||
    fail "4-player replay: the playback's export differs from the session's"
echo "ok: 4-player replay plays back to the same export"

# A seat that is taken: the second claim on seat 1 is refused at once with
# a clear line, and the session still starts when seat 2 joins.
port=$((next_port + 2))
launch s3-host 11 --host "$port" --players 3
sleep 0.3
launch s3-p1 22 --join "127.0.0.1:$port" --players 3 --player 1
sleep 1
"$GW" "${COMMON[@]}" --join "127.0.0.1:$port" --players 3 --player 1 \
    >"$work/s3-dup.out" 2>"$work/s3-dup.err" &
dup=$!
pids+=("$dup")
(sleep 20; kill -9 "$dup") >/dev/null 2>&1 &
pids+=($!)
reap "$dup"
[ "$rc" -eq 1 ] || fail "a second joiner on seat 1 exited $rc, not 1"
grep -q "session full: seat 1 is taken (free seats: 2)" "$work/s3-dup.err" ||
    fail "a second joiner on seat 1 did not say the session is full: $(cat "$work/s3-dup.err")"
launch s3-p2 33 --join "127.0.0.1:$port" --players 3 --player 2
expect_all_ok "a taken seat is refused; the session plays on"

[ "$failed" -eq 0 ] || exit 1
echo "all gridworld mesh scenarios passed"
