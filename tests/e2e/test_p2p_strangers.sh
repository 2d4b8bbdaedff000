#!/usr/bin/env bash
# Strangers at real rollnet processes over ENet on loopback. enet_stranger
# sends 50 ENet CONNECTs a second, each from a new port of 127.0.0.2 and never
# followed up, and runs 10 silent ENet clients on 127.0.0.3 that connect and
# never send a message (reconnecting when dropped). The players are on
# 127.0.0.1: the strangers come from other addresses, as they would on a
# network, so the per-address limit applies to them and not to the players.
#
#  1. A waiting 2-player host under attack, RUNS times: the joiner, started
#     once the attack is under way, must be RUNNING within JOIN_LIMIT_MS of
#     its start, and both sides must finish with identical exports.
#  2. A running 3-player mesh (three p2p_peer processes), attacked at both of
#     its listening ports once it runs: every peer must exit 0 with no link
#     event after RUNNING (the strangers stay invisible to the game), the
#     three exports must be identical, and the attacked peers must have
#     turned strangers away (the counters on their final line).
#
# Usage: test_p2p_strangers.sh PATH/TO/p2p_peer PATH/TO/enet_stranger
# Every process this script starts is killed on exit, failure or signal.
set -u

peer_bin=${1:?usage: test_p2p_strangers.sh PATH/TO/p2p_peer PATH/TO/enet_stranger}
stranger_bin=${2:?usage: test_p2p_strangers.sh PATH/TO/p2p_peer PATH/TO/enet_stranger}
RUNS=${RUNS:-3}
JOIN_LIMIT_MS=${JOIN_LIMIT_MS:-2000}
# STRANGER_ARGS (e.g. "--silent-spread 10") adds options to enet_stranger, for measuring.
# shellcheck disable=SC2206
FLOOD=(--rate 50 --flood-bind 127.0.0.2 --silent 10 --silent-bind 127.0.0.3 --duration-s 60
       ${STRANGER_ARGS:-})
PEER_TIMEOUT_S=45

work=$(mktemp -d "${TMPDIR:-/tmp}/rollnet-e2e-strangers-XXXXXX") || exit 1
# shellcheck source=proc_lib.sh
source "$(dirname "$0")/proc_lib.sh"

# wait_line FILE PATTERN PID: until FILE holds PATTERN (false if PID exits
# first or 10 s pass).
wait_line() {
    local i
    for i in $(seq 1 200); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || break
        sleep 0.05
    done
    grep -q "$2" "$1" 2>/dev/null
}

next_port=$((49000 + $$ % 1000))

# listen NAME [p2p_peer options...]: a p2p_peer that accepts, on the first
# port from next_port it can bind (exit 4 = taken: try the next). Sets
# started_pid and started_port.
listen() {
    local name=$1 port try
    shift
    for try in $(seq 1 20); do
        port=$next_port
        next_port=$((next_port + 1))
        "$peer_bin" --host "$port" --export "$work/$name.csv" "$@" \
            >"$work/$name.out" 2>"$work/$name.err" &
        started_pid=$!
        pids+=("$started_pid")
        if wait_line "$work/$name.out" "listening on" "$started_pid"; then
            started_port=$port
            return 0
        fi
        kill "$started_pid" 2>/dev/null
        reap "$started_pid"
        [ "$rc" -eq 4 ] || fail "$name: exited $rc before listening on port $port"
    done
    fail "$name: no free port after 20 tries"
}

# attack NAME TARGET...: enet_stranger at the targets, once it is under way.
# Sets stranger_pid.
attack() {
    local name=$1 t args=()
    shift
    for t in "$@"; do
        args+=(--target "$t")
    done
    "$stranger_bin" "${args[@]}" "${FLOOD[@]}" >"$work/$name.out" 2>"$work/$name.err" &
    stranger_pid=$!
    pids+=("$stranger_pid")
    wait_line "$work/$name.out" "under way" "$stranger_pid" || fail "$name: never under way"
    echo "$name: $(grep "under way" "$work/$name.out")"
}

stop_attack() {
    kill -TERM "$stranger_pid" 2>/dev/null
    reap "$stranger_pid"
    [ "$rc" -eq 0 ] || fail "stranger exited $rc"
    echo "  $(tail -n 1 "$work/$1.out")"
}

# The number after `key` in the final line of a peer's stdout.
final_field() {
    sed -n "s/^p2p_peer: player .* $2 \([0-9-]*\).*/\1/p" "$1" | tail -n 1
}

expect_exit0() {
    local pid=$1 name=$2
    reap "$pid"
    [ "$rc" -eq 0 ] || fail "$name exited $rc: $(tail -n 1 "$work/$name.err")"
}

same_exports() {
    local first=$1 other ext
    shift
    for ext in csv csv.msgpack; do
        [ -s "$work/$first.$ext" ] || fail "$first: missing export $ext"
        for other in "$@"; do
            cmp "$work/$first.$ext" "$work/$other.$ext" || fail "$other: $ext export differs from $first's"
        done
    done
}

SECONDS=0
COMMON=(--game-seed 7 --timeout-s "$PEER_TIMEOUT_S")

# 1. A waiting host, attacked, and a joiner.
join_times=()
for run in $(seq 1 "$RUNS"); do
    listen "wait$run-host" --seed 101 --episodes 1 --max-steps 120 "${COMMON[@]}"
    host_pid=$started_pid
    attack "wait$run-stranger" "127.0.0.1:$started_port"
    "$peer_bin" --join "127.0.0.1:$started_port" --seed 202 --export "$work/wait$run-join.csv" \
        --episodes 1 --max-steps 120 "${COMMON[@]}" \
        >"$work/wait$run-join.out" 2>"$work/wait$run-join.err" &
    join_pid=$!
    pids+=("$join_pid")
    expect_exit0 "$join_pid" "wait$run-join"
    expect_exit0 "$host_pid" "wait$run-host"
    stop_attack "wait$run-stranger"
    ms=$(sed -n 's/.*running after \([0-9]*\) ms.*/\1/p' "$work/wait$run-join.err" | head -n 1)
    [ -n "$ms" ] || fail "wait$run-join: no \"running after\" line"
    join_times+=("$ms")
    echo "run $run: joiner running $ms ms after its start;" \
         "host: $(sed -n 's/.*\(handshakes_refused.*\) exit.*/\1/p' "$work/wait$run-host.out")"
    [ "$ms" -le "$JOIN_LIMIT_MS" ] || fail "run $run: joiner running after $ms ms (limit $JOIN_LIMIT_MS)"
    same_exports "wait$run-host" "wait$run-join"
    turned=$(( $(final_field "$work/wait$run-host.out" handshakes_dropped) +
               $(final_field "$work/wait$run-host.out" enet_refused_per_address) ))
    [ "$turned" -gt 0 ] || fail "run $run: the host turned no stranger away: was it attacked?"
done
echo "joiner running after (ms): ${join_times[*]}"

# 2. A running 3-player mesh, attacked at both listening ports.
MESH=(--players 3 --episodes 3 --max-steps 300 "${COMMON[@]}")
listen mesh-p0 --player 0 --seed 101 "${MESH[@]}"
p0_pid=$started_pid p0_port=$started_port
listen mesh-p1 --player 1 --seed 202 --peer "0=127.0.0.1:$p0_port" "${MESH[@]}"
p1_pid=$started_pid p1_port=$started_port
"$peer_bin" --player 2 --seed 303 --peer "0=127.0.0.1:$p0_port" --peer "1=127.0.0.1:$p1_port" \
    --export "$work/mesh-p2.csv" "${MESH[@]}" >"$work/mesh-p2.out" 2>"$work/mesh-p2.err" &
p2_pid=$!
pids+=("$p2_pid")
for who in p0 p1 p2; do
    pid_var=${who}_pid
    wait_line "$work/mesh-$who.err" "running after" "${!pid_var}" || fail "mesh-$who: never running"
done
attack mesh-stranger "127.0.0.1:$p0_port" "127.0.0.1:$p1_port"
for who in p0 p1 p2; do
    pid_var=${who}_pid
    expect_exit0 "${!pid_var}" "mesh-$who"
done
stop_attack mesh-stranger
same_exports mesh-p0 mesh-p1 mesh-p2
for who in p0 p1 p2; do
    f="$work/mesh-$who.out"
    echo "mesh-$who: $(sed -n 's/.*\(link_events.*\) exit.*/\1/p' "$f")"
    [ "$(final_field "$f" link_events)" = 0 ] || fail "mesh-$who noticed the strangers"
done
for who in p0 p1; do
    f="$work/mesh-$who.out"
    turned=$(( $(final_field "$f" handshakes_dropped) + $(final_field "$f" handshakes_refused) +
               $(final_field "$f" enet_refused_per_address) + $(final_field "$f" enet_handshakes_dropped) ))
    [ "$turned" -gt 0 ] || fail "mesh-$who turned no stranger away: was it attacked?"
done
rows=$(( $(wc -l <"$work/mesh-p0.csv") - 1 ))
echo "PASS: $RUNS joiners running within $JOIN_LIMIT_MS ms under attack (${join_times[*]} ms);" \
     "3-player mesh: $rows identical rows, no link event; ${SECONDS} s"
