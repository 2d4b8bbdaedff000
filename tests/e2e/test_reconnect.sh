#!/usr/bin/env bash
# Lost connections that come back, with two real gridworld processes on
# 127.0.0.1 and a UDP relay between them (udp_relay): the joiner talks to the
# host only through the relay. Headless, bots, fixed seeds, bounded in time.
#   rebind    8 s in, the relay forwards the joiner's packets from a new
#             source port (a home router's NAT rebinding)
#   blackout  8 s in, nothing passes either way for 12 s
# Both end with exit 0 on both sides and byte-identical exports, and the
# host's peer log shows the connection lost and resumed.
#
#   test_reconnect.sh path/to/gridworld path/to/udp_relay
set -uo pipefail
GW=$1
RELAY=$2
work=$(mktemp -d /tmp/rollnet-reconnect-XXXXXX)
source "$(dirname "$0")/proc_lib.sh"
passed=0
base=$((44000 + $$ % 2000))
game=(--headless --episodes 2 --max-steps 900)

# start NAME HOST_PORT RELAY_PORT RELAY_ARGS...
start() {
    local name=$1 hport=$2 rport=$3
    shift 3
    mkdir -p "$work/$name"
    "$RELAY" --listen "$rport" --to "$hport" --for 110 "$@" >"$work/$name/relay.out" \
        2>"$work/$name/relay.err" &
    pids+=($!)
    eval "${name}_relay=$!"
    "$GW" --host "$hport" --bot 11 --export "$work/$name/host.csv" "${game[@]}" \
        >"$work/$name/host.out" 2>"$work/$name/host.err" &
    pids+=($!)
    eval "${name}_host=$!"
    "$GW" --join "127.0.0.1:$rport" --bot 22 --export "$work/$name/join.csv" "${game[@]}" \
        >"$work/$name/join.out" 2>"$work/$name/join.err" &
    pids+=($!)
    eval "${name}_join=$!"
}

# expect NAME FAULT: both exit 0, identical complete exports, the fault seen.
expect() {
    local name=$1 fault=$2 h j r
    eval "h=\$${name}_host; j=\$${name}_join; r=\$${name}_relay"
    reap "$h"; local hs=$rc
    reap "$j"; local js=$rc
    kill "$r" 2>/dev/null
    reap "$r"
    if ! grep -q "relay: $fault" "$work/$name/relay.out"; then
        fail "$name: the relay never did its fault (the game ended first?)"
    fi
    if [ "$hs" -ne 0 ] || [ "$js" -ne 0 ]; then
        fail "$name: exit status host $hs, join $js"
    fi
    for ext in "" .msgpack; do
        cmp -s "$work/$name/host.csv$ext" "$work/$name/join.csv$ext" ||
            fail "$name: the exports differ (host.csv$ext, join.csv$ext)"
    done
    local rows=$(($(wc -l <"$work/$name/host.csv") - 1))
    [ "$rows" -eq 1800 ] || fail "$name: $rows rows exported, expected 1800"
    grep -q ",session_complete,1800\$" "$work/$name/host.csv.peer.csv" ||
        fail "$name: the host's peer log does not say session_complete"
    grep -q ',reconnecting,' "$work/$name/host.csv.peer.csv" ||
        grep -q ',reconnecting,' "$work/$name/join.csv.peer.csv" ||
        fail "$name: no peer log shows the connection lost (reconnecting)"
    grep -q ',resumed,' "$work/$name/host.csv.peer.csv" ||
        fail "$name: the host's peer log does not show the joiner resumed"
    echo "ok: $name ($rows identical rows; $(tail -n 1 "$work/$name/relay.out"))"
    passed=$((passed + 1))
}

start rebind $((base + 1)) $((base + 2)) --rebind-at 8
start blackout $((base + 3)) $((base + 4)) --blackout 8:12
expect rebind rebound
expect blackout "blackout over"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
