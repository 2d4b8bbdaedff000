#!/usr/bin/env bash
# Rejoin with three players, real gridworld processes on 127.0.0.1: a host
# and two joiners that know only the host's address (the host introduces
# them to each other; joiner 2 dials joiner 1). 6 s after all run, a joiner
# is killed (SIGKILL: no goodbye); some seconds later the same command is
# started again with --rejoin: it knows only the host again, and the host
# introduces it to the other joiner again. Cases, side by side:
#   pause    joiner 2 killed; the survivors keep its place, paused (the
#            default); it comes back 7 s after the kill, once both survivors
#            count it as lost, and dials joiner 1 again
#   dialled  the same with joiner 1 killed: joiner 2, which dials it, dials
#            the address the host's INTRO gives for the new process
#   quick    joiner 2 killed in a private session (--key), back 2 s after
#            the kill, before the loss is noticed (the key proves the claim
#            at once); only when this gridworld has --key
#   public   the same without a key: the host's claim waits until the loss
#            is noticed (nothing proves the claimer); the host introduces the
#            new process once it takes the claim
#   play-on  joiner 2 killed, every process with --play-on: once the
#            survivors notice the loss (5 s of silence) and agree on its last
#            frame, both play on with player 2 neutral, flagged in their
#            msgpack exports ("disconnected"); it comes back 7 s after the kill
# Checked for each: exit 0 for the host, the other joiner and the restarted
# one; the host's and the other joiner's exports (CSV and msgpack) are
# byte-identical and complete; the restarted joiner's export starts at the
# frame it rejoined at and equals the host's rows from there (CSV and
# msgpack); the killed joiner's rows before that frame (before the first
# neutral one when played on) equal the host's; both survivors' peer logs
# show the rejoin at that frame. Flags: none when paused; when played on,
# the killed player only, its input neutral, on the frames up to the
# rejoin. Headless, bots, fixed seeds, every process bounded by timeout;
# about 30 s.
#
#   test_rejoin_mesh.sh path/to/gridworld
set -uo pipefail

# The file's lines up to its last newline: a line without one was cut short.
complete_lines() {
    if [ -n "$(tail -c 1 "$1")" ]; then sed '$d' "$1"; else cat "$1"; fi
}
GW=$1
work=$(mktemp -d /tmp/rollnet-rejoin-mesh-XXXXXX)
source "$(dirname "$0")/proc_lib.sh"
# Each case keeps its files in a directory of its own.
dump_logs() {
    local f
    for f in "$work"/*/*.err; do
        if [ -s "$f" ]; then
            echo "--- $f" >&2
            tail -n 20 "$f" >&2
        fi
    done
}
base=$((48000 + $$ % 1000 * 5))
STEPS=600
EPISODES=2
FRAMES=$((STEPS * EPISODES))
game=(--headless --episodes "$EPISODES" --max-steps "$STEPS" --players 3)
# Debian's python3 (python3-msgpack, tools/deps.sh), not another one first on PATH.
py=/usr/bin/python3
[ -x "$py" ] || py=python3

# case_run NAME PORT DOWN_SECONDS SEAT EXTRA_ARGS...: kills joiner SEAT (1
# or 2) and starts it again; runs in the background, its verdict ("exit
# HOST OTHER REJOINED") in $work/NAME/verdict.
case_run() {
    local name=$1 port=$2 down=$3 seat=$4
    shift 4
    local w="$work/$name" other=$((3 - seat))
    mkdir -p "$w"
    timeout 90 "$GW" --host "$port" --bot 11 --export "$w/host.csv" "${game[@]}" "$@" \
        >"$w/host.out" 2>"$w/host.err" &
    local host=$!
    timeout 90 "$GW" --join "127.0.0.1:$port" --player "$other" --bot 22 \
        --export "$w/other.csv" "${game[@]}" "$@" >"$w/other.out" 2>"$w/other.err" &
    local other_pid=$!
    "$GW" --join "127.0.0.1:$port" --player "$seat" --bot 33 --export "$w/killed.csv" \
        "${game[@]}" "$@" >"$w/killed.out" 2>"$w/killed.err" &
    local killed_pid=$!
    local up=0
    for _ in $(seq 200); do
        if [ "$(grep -l "gridworld: running" "$w"/*.out | wc -l)" -eq 3 ]; then
            up=1
            break
        fi
        sleep 0.1
    done
    if [ "$up" -eq 0 ]; then
        kill "$host" "$other_pid" "$killed_pid" 2>/dev/null
        echo "the three never ran" >"$w/verdict"
        return
    fi
    sleep 6
    kill -KILL "$killed_pid"
    wait "$killed_pid" 2>/dev/null
    sleep "$down"
    timeout 80 "$GW" --join "127.0.0.1:$port" --player "$seat" --bot 44 --rejoin \
        --export "$w/rejoin.csv" "${game[@]}" "$@" >"$w/rejoin.out" 2>"$w/rejoin.err"
    local rs=$?
    wait "$host"
    local hs=$?
    wait "$other_pid"
    local js=$?
    echo "exit $hs $js $rs" >"$w/verdict"
}

# check NAME SEAT PLAYED_ON(0|1): the verdict and the exports of one case.
check() {
    local name=$1 seat=$2 played_on=$3 w="$work/$1"
    local v
    v=$(cat "$w/verdict")
    [ "$v" = "exit 0 0 0" ] || fail "$name: $v (host, other joiner, rejoined joiner $seat)"
    cmp -s "$w/host.csv" "$w/other.csv" || fail "$name: the host's and the other joiner's CSV differ"
    cmp -s "$w/host.csv.msgpack" "$w/other.csv.msgpack" ||
        fail "$name: the host's and the other joiner's msgpack differ"
    local hrows
    hrows=$(($(wc -l <"$w/host.csv") - 1))
    [ "$hrows" -eq "$FRAMES" ] || fail "$name: the host exported $hrows rows, expected $FRAMES"
    from=$(sed -n 's/^gridworld: rejoined at frame \([0-9]*\)$/\1/p' "$w/rejoin.out")
    [ -n "$from" ] || fail "$name: the rejoined joiner never said where it rejoined"
    [ "$from" -gt 200 ] || fail "$name: rejoined at frame $from: before the crash?"
    local first
    first=$(sed -n '2s/,.*//p' "$w/rejoin.csv")
    [ "$first" = "$from" ] || fail "$name: the rejoined export starts at frame $first, not $from"
    awk -F, -v f="$from" 'NR > 1 && $1 >= f' "$w/host.csv" >"$w/host.after"
    tail -n +2 "$w/rejoin.csv" >"$w/rejoin.rows"
    cmp -s "$w/host.after" "$w/rejoin.rows" ||
        fail "$name: the host's CSV rows from frame $from differ from the rejoined joiner's"
    local who
    for who in host other; do
        grep -q ",rejoined,$from\$" "$w/$who.csv.peer.csv" ||
            fail "$name: $who's peer log does not show the rejoin at frame $from"
        grep -q ",session_complete,$FRAMES\$" "$w/$who.csv.peer.csv" ||
            fail "$name: $who's peer log does not say session_complete"
    done
    # msgpack: the rejoined rows, the killed joiner's complete rows (its
    # files end wherever the kill cut them), the flags.
    "$py" - "$w" "$from" "$played_on" "$seat" >"$w/msgpack.check" 2>&1 <<'PY' ||
import sys, msgpack
w, frm, played_on, seat = sys.argv[1], int(sys.argv[2]), sys.argv[3] == '1', int(sys.argv[4])

def rows(path, cut=False):
    out = []
    u = msgpack.Unpacker(raw=False)
    u.feed(open(path, 'rb').read())
    try:
        for r in u:
            out.append(r)
    except Exception:
        if not cut:
            raise
    return out

host = rows(w + '/host.csv.msgpack')
assert [r['frame'] for r in host] == list(range(len(host))), 'the host skipped a frame'
after = [r for r in host if r['frame'] >= frm]
assert rows(w + '/rejoin.csv.msgpack') == after, 'the rejoined rows differ from the host\'s'
flagged = [r['frame'] for r in host if r.get('disconnected')]
limit = frm
if played_on:
    assert flagged, 'no frame is flagged'
    assert all(r['disconnected'] == 1 << seat for r in host if r.get('disconnected')), 'another player flagged'
    assert flagged == list(range(flagged[0], frm)), 'the flagged frames are not the ones before the rejoin'
    assert all(r['inputs'][seat] == b'\x00' for r in host if r.get('disconnected')), 'a flagged input is not neutral'
    limit = flagged[0]
else:
    assert not flagged, 'frames flagged while paused: %r' % flagged[:5]
killed = [r for r in rows(w + '/killed.csv.msgpack', cut=True) if r['frame'] < limit]
assert len(killed) > 200, 'the killed joiner left only %d rows' % len(killed)
assert killed == host[:len(killed)], 'the killed joiner\'s rows differ from the host\'s'
print(len(after), len(killed), len(flagged), flagged[0] if flagged else -1)
PY
        fail "$name: msgpack: $(tail -n 1 "$w/msgpack.check")"
    read -r after killed nflagged first_flagged <"$w/msgpack.check"
    [ "$after" -gt 400 ] || fail "$name: only $after rows after the rejoin"
    if [ "$played_on" -eq 1 ]; then
        [ "$nflagged" -gt 60 ] || fail "$name: only $nflagged frames were played on"
        msg="; played $nflagged frames on from frame $first_flagged, player $seat flagged and neutral"
    else
        msg=""
    fi
    # The killed joiner's CSV: its complete rows before the same limit.
    local limit=$from
    [ "$played_on" -eq 1 ] && limit=$first_flagged
    # (A process killed mid-write may leave its last line cut short.)
    complete_lines "$w/killed.csv" | awk -F, -v f="$limit" 'NR > 1 && $1 < f && NF == 21' >"$w/killed.before"
    local before
    before=$(wc -l <"$w/killed.before")
    [ "$before" -gt 200 ] || fail "$name: the killed joiner's CSV holds only $before rows"
    head -n "$before" <(tail -n +2 "$w/host.csv") | cmp -s - "$w/killed.before" ||
        fail "$name: the killed joiner's CSV rows before frame $limit differ from the host's"
    echo "ok: $name: joiner $seat rejoined at frame $from; $after rows after it equal the host's," \
        "$killed of the killed joiner's before it$msg"
}

cases=(pause dialled play-on public)
case_run pause $((base + 1)) 7 2 &
pids+=($!)
case_run dialled $((base + 2)) 7 1 &
pids+=($!)
case_run play-on $((base + 3)) 7 2 --play-on &
pids+=($!)
case_run public $((base + 5)) 2 2 &
pids+=($!)
if ! "$GW" --help | grep -q 'not in this build'; then
    cases+=(quick)
    case_run quick $((base + 4)) 2 2 --key "invite 3P-REJOIN" &
    pids+=($!)
fi
for pid in "${pids[@]}"; do
    reap "$pid"
done

check pause 2 0
check dialled 1 0
check play-on 2 1
check public 2 0
if [[ " ${cases[*]} " == *" quick "* ]]; then
    check quick 2 0
else
    echo "skipped: quick (this gridworld has no --key)"
fi
echo "${#cases[@]} passed, 0 failed"
