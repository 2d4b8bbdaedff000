#!/usr/bin/env bash
# Two gridworld processes with bots over ENet on 127.0.0.1, headless, fixed
# seeds, bounded in time. Scenarios: clean link; --netsim latency, jitter and
# loss; one process stopped (SIGSTOP) for 3 s mid-episode, and one for 12 s
# (a lost connection, regained); --loading-pause;
# another --max-steps on each side (refused, naming max_steps);
# --key, the same on both sides and another on each (the joiner is refused);
# one process killed (the other keeps its place for the rejoin window, then
# exits non-zero, its export intact). Exports are compared with cmp.
#
#   test_gridworld.sh path/to/gridworld
set -uo pipefail
GW=$1
work=$(mktemp -d /tmp/rollnet-gridworld-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]:-}"; do
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null
    done
    if [ "${failed:-0}" -eq 0 ]; then
        rm -rf "$work"
    else
        echo "files kept in $work" >&2
    fi
}
trap cleanup EXIT
failed=0
passed=0
base=$((42000 + $$ % 2000))
fail() {
    echo "FAIL: $*" >&2
    failed=$((failed + 1))
}

# start NAME PORT HOST_ARGS... -- JOIN_ARGS...: both in the background.
# With LATE_HOST=S the joiner starts first and the host S seconds later.
start_pair() {
    local name=$1 port=$2
    shift 2
    local host_args=() join_args=() side=host
    for a in "$@"; do
        if [ "$a" = "--" ]; then side=join; continue; fi
        if [ $side = host ]; then host_args+=("$a"); else join_args+=("$a"); fi
    done
    mkdir -p "$work/$name"
    # The gridworld processes themselves (signals must reach them, not a wrapper).
    "$GW" --join "127.0.0.1:$port" --headless --bot 22 --export "$work/$name/join.csv" \
        "${join_args[@]}" >"$work/$name/join.out" 2>"$work/$name/join.err" &
    local j=$!
    sleep "${LATE_HOST:-0}"
    "$GW" --host "$port" --headless --bot 11 --export "$work/$name/host.csv" \
        "${host_args[@]}" >"$work/$name/host.out" 2>"$work/$name/host.err" &
    local h=$!
    eval "${name}_host=$h; ${name}_join=$j"
    pids+=("$h" "$j")
    # A bound on each scenario, whatever happens (BOUND seconds, default 60).
    (sleep "${BOUND:-60}"; kill -9 "$h" "$j") >/dev/null 2>&1 &
    pids+=($!)
}

# expect_pair NAME: both exit 0 and both exports are identical and complete
expect_pair() {
    local name=$1 rows=$2 h j
    eval "h=\$${name}_host; j=\$${name}_join"
    wait "$h"; local hs=$?
    wait "$j"; local js=$?
    if [ $hs -ne 0 ] || [ $js -ne 0 ]; then
        fail "$name: exit status host $hs, join $js ($(cat "$work/$name/host.err" "$work/$name/join.err"))"
        return
    fi
    if ! cmp -s "$work/$name/host.csv" "$work/$name/join.csv"; then
        fail "$name: the CSV exports differ"
        return
    fi
    if ! cmp -s "$work/$name/host.csv.msgpack" "$work/$name/join.csv.msgpack"; then
        fail "$name: the msgpack exports differ"
        return
    fi
    local n
    n=$(($(wc -l <"$work/$name/host.csv") - 1))
    if [ "$n" -ne "$rows" ]; then
        fail "$name: $n rows exported, expected $rows"
        return
    fi
    # Finished, not lingered: each side's peer log says the session ended
    # complete (rollnet_session_finish: both sides hold every frame).
    if ! grep -q ",session_complete,$rows\$" "$work/$name/host.csv.peer.csv" ||
        ! grep -q ",session_complete,$rows\$" "$work/$name/join.csv.peer.csv"; then
        fail "$name: a peer log does not say session_complete"
        return
    fi
    echo "ok: $name ($n identical rows)"
    passed=$((passed + 1))
}

common=(--episodes 2 --max-steps 200)

start_pair clean $((base + 1)) "${common[@]}" -- "${common[@]}"
netsim="delay=40,jitter=15,loss=5,dup=1,reorder=2,seed=7"
start_pair netsim $((base + 2)) "${common[@]}" --netsim "$netsim" --stats -- \
    "${common[@]}" --netsim "${netsim/seed=7/seed=8}"
start_pair loading $((base + 3)) --episodes 2 --max-steps 150 -- \
    --episodes 2 --max-steps 150 --loading-pause 10
start_pair stopped $((base + 4)) --episodes 2 --max-steps 300 -- --episodes 2 --max-steps 300

# Stop the joiner of "stopped" for 3 s in the middle of episode 0: once it
# runs (a loaded machine may take seconds to get there), plus 1 s.
for _ in $(seq 200); do
    grep -q '^gridworld: running' "$work/stopped/join.out" 2>/dev/null && break
    sleep 0.1
done
sleep 1
kill -STOP "$stopped_join" 2>/dev/null
sleep 3
kill -CONT "$stopped_join" 2>/dev/null
# A blackout past the disconnect timeout: the joiner stopped for 12 s. Both
# sides lose the connection, reconnect once it is back, and finish with
# identical exports (exit 0).
start_pair blackout $((base + 10)) --episodes 2 --max-steps 300 -- --episodes 2 --max-steps 300
for _ in $(seq 200); do
    grep -q '^gridworld: running' "$work/blackout/join.out" 2>/dev/null && break
    sleep 0.1
done
sleep 1
kill -STOP "$blackout_join" 2>/dev/null
sleep 12
kill -CONT "$blackout_join" 2>/dev/null
# Two people starting a game by hand: the joiner 5 s before the host. It
# keeps trying (ENet gives one attempt about 7.5 s, then rollnet tries again).
LATE_HOST=5 start_pair late $((base + 7)) "${common[@]}" -- "${common[@]}"

expect_pair clean 400
expect_pair netsim 400
expect_pair stopped 600
expect_pair blackout 600
grep -q ',reconnecting,' "$work/blackout/host.csv.peer.csv" &&
    grep -q ',resumed,' "$work/blackout/host.csv.peer.csv" ||
    fail "blackout: the host never saw its peer reconnecting and resumed"
expect_pair loading 300
expect_pair late 400
# The stop was seen: the host's peer found the joiner interrupted, then back;
# the joiner caught up; the loading pause was announced and survived.
grep -q ',interrupted,' "$work/stopped/host.csv.peer.csv" &&
    grep -q ',resumed,' "$work/stopped/host.csv.peer.csv" ||
    fail "stopped: the host never saw its peer interrupted and resumed"
grep -q ',peer_loading,' "$work/loading/host.csv.peer.csv" &&
    grep -q ',peer_loading_ended,' "$work/loading/host.csv.peer.csv" ||
    fail "loading: the host never saw its peer loading"
# The exported ledger re-simulates to the same records from its inputs alone.
for run in clean netsim; do
    if ! "$GW" --check-export "$work/$run/host.csv.msgpack" --max-steps 200 >"$work/$run/replay.out" 2>&1; then
        fail "$run: --check-export of the export failed ($(cat "$work/$run/replay.out"))"
    fi
done
if [ -f "$work/netsim/host.out" ] && ! grep -qE '^rollbacks [1-9]' "$work/netsim/host.out"; then
    fail "netsim: the host reported no rollbacks under 40 ms of delay"
fi

# Other --max-steps: the joiner is refused at once, naming the rule; the
# host takes it for a stranger, logs the rule and waits on (stopped here).
start_pair refused $((base + 6)) --episodes 1 --max-steps 200 -- --episodes 1 --max-steps 300
wait "$refused_join"
status=$?
kill -TERM "$refused_host" 2>/dev/null # SDL turns it into a quit: the peer log is closed
wait "$refused_host"
if [ $status -ne 1 ]; then
    fail "refused: the joiner exited $status, not 1 ($(cat "$work/refused/join.err"))"
elif ! grep -q 'handshake refused: the peer plays another max_steps (--max-steps 300 here)' \
    "$work/refused/join.err"; then
    fail "refused: the joiner did not name max_steps ($(cat "$work/refused/join.err"))"
elif ! grep -q "game_params differ at key 'max_steps'" "$work/refused/host.csv.peer.csv"; then
    fail "refused: the host's log does not name max_steps"
else
    echo "ok: refused ($(cat "$work/refused/join.err"))"
    passed=$((passed + 1))
fi
# A private session: the same --key plays; another --key is refused (the
# joiner exits 1 and says why; the host would wait for its handshake timeout).
if ! "$GW" --help | grep -q 'not in this build'; then
    keyed=(--episodes 1 --max-steps 100 --key "invite 7F3K-Q9PZ")
    start_pair key $((base + 8)) "${keyed[@]}" -- "${keyed[@]}"
    expect_pair key 100
    start_pair badkey $((base + 9)) --episodes 1 --max-steps 100 --key "invite A" -- \
        --episodes 1 --max-steps 100 --key "invite B"
    wait "$badkey_join"
    status=$?
    kill -9 "$badkey_host" 2>/dev/null
    if [ $status -ne 1 ] || ! grep -q 'does not know this --key' "$work/badkey/join.err"; then
        fail "badkey: the joiner exited $status ($(cat "$work/badkey/join.err"))"
    else
        echo "ok: badkey (refused: $(cat "$work/badkey/join.err"))"
        passed=$((passed + 1))
    fi
fi

# Kill one process: a dead peer looks like a lost connection, so the other
# keeps its place for the longer of the reconnect window (30 s) and the
# rejoin window (60 s: a restarted process could take the place) after the
# disconnect timeout (5 s, plus ENet's own resend timing), then exits
# non-zero with its export intact.
BOUND=90 start_pair killed $((base + 5)) --episodes 3 --max-steps 450 -- --episodes 3 --max-steps 450
sleep 3
kill -9 "$killed_join"
killed_at=$(date +%s%N)
wait "$killed_host"
status=$?
elapsed_ms=$((($(date +%s%N) - killed_at) / 1000000))
if [ $status -eq 0 ]; then
    fail "killed: the host exited 0 after its peer was killed"
elif [ $elapsed_ms -lt 60000 ] || [ $elapsed_ms -gt 70000 ]; then
    fail "killed: the host took ${elapsed_ms} ms to give up (expected 65 s: 5 s + the 60 s window)"
elif ! python3 - "$work/killed/host.csv" <<'PY'
import sys
rows = open(sys.argv[1]).read().split("\n")
assert rows[-1] == "", "the file does not end with a whole line"
frames = [int(r.split(",")[0]) for r in rows[1:-1]]
assert frames and frames == list(range(len(frames))), "frames are not 0..n-1"
PY
then
    fail "killed: the host's export is not intact"
elif ! grep -q ',session_cut_short_peer_gone,' "$work/killed/host.csv.peer.csv"; then
    fail "killed: the host's peer log does not say the session was cut short"
else
    echo "ok: killed (host exited $status after ${elapsed_ms} ms: $(cat "$work/killed/host.err"))"
    passed=$((passed + 1))
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
