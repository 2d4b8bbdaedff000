#!/usr/bin/env bash
# samples/minimal as two real processes over ENet on 127.0.0.1: a clean run,
# and a run whose joiner is stopped (SIGSTOP) for a second mid-game, which
# forces stalls and rollbacks. Each side must exit 0 and both must export the
# same 300 rows (cmp on the CSV and the msgpack file). Bounded in time; the
# sample's bots are fixed, so every run exports the same ledger.
#
#   test_minimal.sh path/to/minimal
set -u
bin=${1:?usage: test_minimal.sh PATH/TO/minimal}
ROWS=300
work=$(mktemp -d "${TMPDIR:-/tmp}/rollnet-minimal-XXXXXX") || exit 1
failed=0

# On exit, whatever the cause: the processes this script started and has not
# reaped yet (its jobs) are killed; the files stay only when something failed.
on_exit() {
    local left
    left=$(jobs -p)
    [ -z "$left" ] || kill -9 $left 2>/dev/null
    wait 2>/dev/null
    [ "$failed" -eq 0 ] && rm -rf "$work" || echo "files kept in $work" >&2
}
trap on_exit EXIT
trap 'failed=1; exit 130' INT TERM HUP

fail() {
    echo "FAIL: $*" >&2
    failed=1
    local f
    for f in "$work"/*.out "$work"/*.err; do
        [ -s "$f" ] && { echo "--- $f" >&2; tail -n 5 "$f" >&2; }
    done
    exit 1
}

# A UDP port nobody holds now, at random in a range the other e2e tests do
# not use (they bind near 42000-44000 and 47000-49000). The host listens on
# every interface, as it must across two machines; the joiner connects to
# 127.0.0.1, so every packet stays on the loopback.
free_port() {
    python3 - <<'PY'
import random, socket
for port in random.Random().sample(range(45000, 46900), 200):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("", port))  # where the host binds: every interface
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
PY
}

# listening PID FILE: true once the host PID wrote "listening" to FILE;
# false if it exits first or says nothing within 5 s.
listening() {
    local deadline=$((SECONDS + 5))
    until grep -q "listening" "$2"; do
        kill -0 "$1" 2>/dev/null && [ $SECONDS -lt $deadline ] || return 1
        sleep 0.05
    done
}

# start NAME: the host, once it listens the joiner. Sets host_pid, join_pid.
start() {
    local name=$1 port try
    run_start=$SECONDS
    for try in 1 2 3 4 5; do
        port=$(free_port)
        [ -n "$port" ] || fail "$name: no free UDP port"
        "$bin" --host "$port" --export "$work/$name-host.csv" \
            >"$work/$name-host.out" 2>"$work/$name-host.err" &
        host_pid=$!
        if listening "$host_pid" "$work/$name-host.out"; then
            "$bin" --join "127.0.0.1:$port" --export "$work/$name-join.csv" \
                >"$work/$name-join.out" 2>"$work/$name-join.err" &
            join_pid=$!
            return 0
        fi
        kill -9 "$host_pid" 2>/dev/null # the port was taken meanwhile: another one
        wait "$host_pid" 2>/dev/null
    done
    fail "$name: the host never listened"
}

# wait_bounded PID: wait for it, killing it once LIMIT_S have passed since
# the run started (each side also gives up by itself after 60 s). Sets rc.
LIMIT_S=45
wait_bounded() {
    while kill -0 "$1" 2>/dev/null && [ $SECONDS -lt $((run_start + LIMIT_S)) ]; do
        sleep 0.1
    done
    kill -9 "$1" 2>/dev/null
    wait "$1"
    rc=$?
}

# finish NAME: both exit 0, both exports identical and complete.
finish() {
    local name=$1 rc who
    for who in host join; do
        if [ $who = host ]; then wait_bounded "$host_pid"; else wait_bounded "$join_pid"; fi
        [ $rc -eq 0 ] || fail "$name: the $who exited $rc: $(tail -n 1 "$work/$name-$who.err")"
    done
    for ext in csv csv.msgpack; do
        [ -s "$work/$name-host.$ext" ] || fail "$name: no $ext export"
        cmp "$work/$name-host.$ext" "$work/$name-join.$ext" ||
            fail "$name: the two $ext exports differ"
    done
    local lines
    lines=$(wc -l <"$work/$name-host.csv")
    [ "$lines" -eq $((ROWS + 1)) ] || fail "$name: $lines CSV lines, want a header and $ROWS rows"
    echo "ok: $name ($ROWS identical rows; $(tail -n 1 "$work/$name-host.out" | sed 's/.*; //') on the host)"
}

SECONDS=0
start clean
finish clean
start stopped
sleep 2
kill -STOP "$join_pid"
sleep 1
kill -CONT "$join_pid"
finish stopped
# The bots are fixed: both runs confirm the same ledger, whatever the network did.
cmp "$work/clean-host.csv" "$work/stopped-host.csv" || fail "the two runs' ledgers differ"
echo "PASS in ${SECONDS} s"
