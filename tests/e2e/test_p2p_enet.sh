#!/usr/bin/env bash
# Two real processes play one rollback session over ENet on 127.0.0.1, once on
# a clean link and once through the network simulator on both sides; the two
# runs go at the same time on distinct ports. Each side of each run must exit
# 0 and the two sides must export byte-identical CSV and msgpack files. The
# confirmed record depends only on the seeds, so the simulated run must also
# export what the clean run did, and it must have rolled back to get there.
#
# Usage: test_p2p_enet.sh PATH/TO/p2p_peer
# Every process this script starts is killed on exit, failure or signal.
set -u

peer_bin=${1:?usage: test_p2p_enet.sh PATH/TO/p2p_peer}
EPISODES=3
STEPS=300
NETSIM="delay=40,jitter=10,loss=5,seed=3"
PEER_TIMEOUT_S=45
COMMON=(--episodes "$EPISODES" --max-steps "$STEPS" --game-seed 7 --timeout-s "$PEER_TIMEOUT_S")

work=$(mktemp -d "${TMPDIR:-/tmp}/rollnet-e2e-p2p-XXXXXX") || exit 1
# shellcheck source=proc_lib.sh
source "$(dirname "$0")/proc_lib.sh"

next_port=$((48000 + $$ % 1000))

# start_run NAME [p2p_peer options...]: the host on the first port from
# next_port that it can bind (exit 4 = taken: try the next), then the joiner.
# Sets host_pid and join_pid.
start_run() {
    local name=$1 port try i
    shift
    for try in $(seq 1 20); do
        port=$next_port
        next_port=$((next_port + 1))
        "$peer_bin" --host "$port" --seed 101 --export "$work/$name-host.csv" "${COMMON[@]}" "$@" \
            >"$work/$name-host.out" 2>"$work/$name-host.err" &
        host_pid=$!
        pids+=("$host_pid")
        for i in $(seq 1 100); do
            grep -q "listening on" "$work/$name-host.out" && break
            kill -0 "$host_pid" 2>/dev/null || break
            sleep 0.05
        done
        if grep -q "listening on" "$work/$name-host.out"; then
            "$peer_bin" --join "127.0.0.1:$port" --seed 202 --export "$work/$name-join.csv" \
                "${COMMON[@]}" "$@" >"$work/$name-join.out" 2>"$work/$name-join.err" &
            join_pid=$!
            pids+=("$join_pid")
            echo "$name: host pid $host_pid on port $port, joiner pid $join_pid"
            return 0
        fi
        kill "$host_pid" 2>/dev/null
        reap "$host_pid"
        [ "$rc" -eq 4 ] || fail "$name: host exited $rc before listening on port $port"
    done
    fail "$name: no free port after 20 tries"
}

# The number after `key` in the final line of a peer's stdout.
final_field() {
    sed -n "s/^p2p_peer: player .* $2 \([0-9-]*\).*/\1/p" "$1" | tail -n 1
}

SECONDS=0
start_run clean
clean_host=$host_pid clean_join=$join_pid
start_run sim --netsim "$NETSIM"
sim_host=$host_pid sim_join=$join_pid

for who in clean_host clean_join sim_host sim_join; do
    reap "${!who}"
    echo "$who exit $rc: $(tail -n 1 "$work/${who/_/-}.out")"
    [ "$rc" -eq 0 ] || fail "$who exited $rc: $(tail -n 1 "$work/${who/_/-}.err")"
done
echo "both runs done in ${SECONDS} s"

rows=$((EPISODES * STEPS))
for run in clean sim; do
    for ext in csv csv.msgpack; do
        a="$work/$run-host.$ext"
        b="$work/$run-join.$ext"
        [ -s "$a" ] && [ -s "$b" ] || fail "$run: missing export $ext"
        cmp "$a" "$b" || fail "$run: the two peers' $ext exports differ"
        cmp "$work/clean-host.$ext" "$a" || fail "$run: $ext export differs from the clean run's"
    done
    lines=$(wc -l <"$work/$run-host.csv")
    [ "$lines" -eq $((rows + 1)) ] || fail "$run: CSV has $lines lines, want header + $rows"
done

sim_rollbacks=0
for who in sim-host sim-join; do
    n=$(final_field "$work/$who.out" rollbacks)
    depth=$(final_field "$work/$who.out" max_depth)
    [ -n "$n" ] && [ -n "$depth" ] || fail "$who: no final line"
    echo "$who: rollbacks $n, max depth $depth"
    sim_rollbacks=$((sim_rollbacks + n))
done
[ "$sim_rollbacks" -gt 0 ] || fail "no rollback in the run with the network simulator"

echo "PASS: $rows identical rows per peer on both links, $sim_rollbacks rollbacks under \"$NETSIM\""
