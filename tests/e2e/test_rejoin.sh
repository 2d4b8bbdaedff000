#!/usr/bin/env bash
# Rejoin after a crash, with real gridworld processes on 127.0.0.1: 8 s into
# the first episode the joiner is killed (SIGKILL: no goodbye), and some
# seconds later the same command is started again with --rejoin. Two cases,
# side by side:
#   pause    the host keeps the joiner's place, paused (the default)
#   play-on  both with --play-on: the host notices the loss (5 s of
#            silence) and plays on with the joiner neutral, flagged in its
#            msgpack export ("disconnected"); the joiner comes back 9 s after
#            the kill
# Checked for each: exit 0 on both survivors; the new joiner's export starts
# at the frame it rejoined at and equals the host's rows from there, byte
# for byte; the killed joiner's complete rows before that frame equal the
# host's too; the host's peer log shows the rejoin and session_complete; the
# killed joiner's --replay-out file, without its end marker, plays back its
# frames. Headless, bots, fixed seeds, bounded in time.
#
#   test_rejoin.sh path/to/gridworld
set -uo pipefail

# The file's lines up to its last newline: a line without one was cut short.
complete_lines() {
    if [ -n "$(tail -c 1 "$1")" ]; then sed '$d' "$1"; else cat "$1"; fi
}

GW=$1
work=$(mktemp -d /tmp/rollnet-rejoin-XXXXXX)
source "$(dirname "$0")/proc_lib.sh"
base=$((46000 + $$ % 2000))
game=(--headless --episodes 2 --max-steps 900)

# case NAME PORT DOWN_SECONDS EXTRA_ARGS...: runs in the background, its
# verdict in $work/NAME/verdict.
case_run() {
    local name=$1 port=$2 down=$3
    shift 3
    local w="$work/$name"
    mkdir -p "$w"
    "$GW" --host "$port" --bot 11 --export "$w/host.csv" "${game[@]}" "$@" \
        >"$w/host.out" 2>"$w/host.err" &
    local host=$!
    "$GW" --join "127.0.0.1:$port" --bot 22 --export "$w/join.csv" \
        --replay-out "$w/join.replay" "${game[@]}" "$@" >"$w/join.out" 2>"$w/join.err" &
    local join=$!
    for _ in $(seq 200); do
        grep -q "gridworld: running" "$w/join.out" 2>/dev/null && break
        sleep 0.1
    done
    if ! grep -q "gridworld: running" "$w/join.out"; then
        kill "$host" "$join" 2>/dev/null
        echo "the joiner never ran" >"$w/verdict"
        return
    fi
    sleep 8
    kill -KILL "$join"
    wait "$join" 2>/dev/null
    sleep "$down"
    "$GW" --join "127.0.0.1:$port" --bot 33 --rejoin --export "$w/rejoin.csv" "${game[@]}" "$@" \
        >"$w/rejoin.out" 2>"$w/rejoin.err"
    local rs=$?
    wait "$host"
    local hs=$?
    echo "exit $hs $rs" >"$w/verdict"
}

# check NAME [LIMIT]: the killed joiner's rows are compared before LIMIT
# (default: the frame it rejoined at; frames it confirmed past the last input
# the host had from it may differ, see rollnet_session_desc::rejoin).
check() {
    local name=$1 w="$work/$1" limit=${2:-}
    local v
    v=$(cat "$w/verdict")
    [ "$v" = "exit 0 0" ] || fail "$name: $v (host, rejoined joiner)"
    from=$(sed -n 's/^gridworld: rejoined at frame \([0-9]*\)$/\1/p' "$w/rejoin.out")
    [ -n "$from" ] || fail "$name: the rejoined joiner never said where it rejoined"
    [ "$from" -gt 300 ] || fail "$name: rejoined at frame $from: before the crash?"
    first=$(sed -n '2s/,.*//p' "$w/rejoin.csv")
    [ "$first" = "$from" ] || fail "$name: the rejoined export starts at frame $first, not $from"
    rows=$(($(wc -l <"$w/rejoin.csv") - 1))
    [ "$rows" -gt 600 ] || fail "$name: only $rows rows after the rejoin"
    [ -n "$limit" ] || limit=$from
    awk -F, -v f="$from" 'NR > 1 && $1 >= f' "$w/host.csv" >"$w/host.after"
    tail -n +2 "$w/rejoin.csv" >"$w/rejoin.rows"
    cmp -s "$w/host.after" "$w/rejoin.rows" ||
        fail "$name: the host's rows from frame $from differ from the rejoined joiner's"
    hrows=$(($(wc -l <"$w/host.csv") - 1))
    [ "$hrows" -eq 1800 ] || fail "$name: the host exported $hrows rows, expected 1800"
    # (A process killed mid-write may leave its last line cut short.)
    complete_lines "$w/join.csv" | awk -F, -v f="$limit" 'NR > 1 && $1 < f && NF == 15' >"$w/join.before"
    before=$(wc -l <"$w/join.before")
    [ "$before" -gt 200 ] || fail "$name: the killed joiner left only $before rows"
    head -n "$before" <(tail -n +2 "$w/host.csv") | cmp -s - "$w/join.before" ||
        fail "$name: the killed joiner's rows before frame $limit differ from the host's"
    "$GW" --replay "$w/join.replay" --headless --export "$w/replayed.csv" \
        >"$w/replayed.out" 2>"$w/replayed.err" || fail "$name: the killed joiner's replay does not play"
    grep -q "cut short" "$w/replayed.out" || fail "$name: the killed joiner's replay is not called cut short"
    awk -F, -v f="$limit" 'NR > 1 && $1 < f' "$w/replayed.csv" >"$w/replayed.before"
    played=$(wc -l <"$w/replayed.before")
    [ "$played" -gt 200 ] || fail "$name: the killed joiner's replay holds only $played frames before $limit"
    head -n "$played" <(tail -n +2 "$w/host.csv") | cmp -s - "$w/replayed.before" ||
        fail "$name: the killed joiner's replay differs from the host's rows before frame $limit"
    grep -q ",rejoined,$from\$" "$w/host.csv.peer.csv" ||
        fail "$name: the host's peer log does not show the rejoin at frame $from"
    grep -q ",session_complete,1800\$" "$w/host.csv.peer.csv" ||
        fail "$name: the host's peer log does not say session_complete"
    echo "ok: $name: rejoined at frame $from; $rows rows after it equal the host's, $before" \
        "before it; the killed joiner's replay plays $played of them back"
}

case_run pause $((base + 1)) 2 &
pause_pid=$!
pids+=("$pause_pid")
case_run play-on $((base + 2)) 9 --play-on &
play_pid=$!
pids+=("$play_pid")
reap "$pause_pid"
reap "$play_pid"

check pause
[ "$(cat "$work/play-on/verdict")" = "exit 0 0" ] ||
    fail "play-on: $(cat "$work/play-on/verdict") (host, rejoined joiner)"
# Played on: the host's frames between the loss and the rejoin have the
# joiner (player 1) neutral and flagged; none before the kill, none after.
# Debian's python3 (python3-msgpack, tools/deps.sh), not another one first on PATH.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" - "$work/play-on/host.csv.msgpack" "$(sed -n 's/^gridworld: rejoined at frame \([0-9]*\)$/\1/p' "$work/play-on/rejoin.out")" >"$work/play-on/flags" 2>&1 <<'PY' ||
import sys, msgpack
rows = list(msgpack.Unpacker(open(sys.argv[1], 'rb'), raw=False))
frm = int(sys.argv[2])
flagged = [r['frame'] for r in rows if r.get('disconnected')]
assert flagged, 'no frame is flagged'
assert all(r['disconnected'] == 2 for r in rows if r.get('disconnected')), 'another player flagged'
assert flagged == list(range(flagged[0], frm)), 'the flagged frames are not the ones before the rejoin'
assert all(r['inputs'][1] == b'\x00' for r in rows if r.get('disconnected')), 'a flagged input is not neutral'
print(len(flagged), flagged[0])
PY
    fail "play-on: the host's export does not flag the frames played on: $(cat "$work/play-on/flags")"
read -r n first_flagged <"$work/play-on/flags"
[ "$n" -gt 60 ] || fail "play-on: only $n frames were played on"
check play-on "$first_flagged"
echo "ok: play-on: the host played $n frames on from frame $first_flagged, each flagged"
echo "2 passed, 0 failed"
