#!/usr/bin/env bash
# Rejoin after a crash, with real gridworld processes on 127.0.0.1: 8 s into
# the first episode the joiner is killed (SIGKILL: no goodbye), and 2 s
# later the same command is started again with --rejoin. The host keeps the
# joiner's place meanwhile (paused); the new joiner gets the host's state,
# and the session completes. Headless, bots, fixed seeds, bounded in time.
# Checked: exit 0 on both survivors; the new joiner's export starts at the
# frame it rejoined at and equals the host's rows from there, byte for byte;
# the killed joiner's complete rows before that frame equal the host's too;
# the host's peer log shows the rejoin and session_complete; the killed
# joiner's --replay-out file, without its end marker, plays back its frames.
#
#   test_rejoin.sh path/to/gridworld
set -uo pipefail
GW=$1
work=$(mktemp -d /tmp/rollnet-rejoin-XXXXXX)
source "$(dirname "$0")/proc_lib.sh"
port=$((46000 + $$ % 2000))
game=(--headless --episodes 2 --max-steps 900)

"$GW" --host "$port" --bot 11 --export "$work/host.csv" "${game[@]}" \
    >"$work/host.out" 2>"$work/host.err" &
host=$!
pids+=("$host")
"$GW" --join "127.0.0.1:$port" --bot 22 --export "$work/join.csv" \
    --replay-out "$work/join.replay" "${game[@]}" \
    >"$work/join.out" 2>"$work/join.err" &
join=$!
pids+=("$join")

# 8 s after it runs (bounded: 20 s for the start), the joiner dies.
for _ in $(seq 200); do
    grep -q "gridworld: running" "$work/join.out" 2>/dev/null && break
    sleep 0.1
done
grep -q "gridworld: running" "$work/join.out" || fail "the joiner never ran"
sleep 8
kill -KILL "$join"
reap "$join"
sleep 2
"$GW" --join "127.0.0.1:$port" --bot 33 --rejoin --export "$work/rejoin.csv" "${game[@]}" \
    >"$work/rejoin.out" 2>"$work/rejoin.err" &
rejoin=$!
pids+=("$rejoin")

reap "$rejoin"; rs=$rc
reap "$host"; hs=$rc
[ "$hs" -eq 0 ] && [ "$rs" -eq 0 ] || fail "exit status host $hs, rejoined joiner $rs"

from=$(sed -n 's/^gridworld: rejoined at frame \([0-9]*\)$/\1/p' "$work/rejoin.out")
[ -n "$from" ] || fail "the rejoined joiner never said where it rejoined"
[ "$from" -gt 300 ] || fail "rejoined at frame $from: before the crash?"
first=$(sed -n '2s/,.*//p' "$work/rejoin.csv")
[ "$first" = "$from" ] || fail "the rejoined export starts at frame $first, not $from"

# The host's rows from `from` on are the rejoined joiner's, byte for byte.
rows=$(($(wc -l <"$work/rejoin.csv") - 1))
[ "$rows" -gt 600 ] || fail "only $rows rows after the rejoin"
awk -F, -v f="$from" 'NR > 1 && $1 >= f' "$work/host.csv" >"$work/host.after"
tail -n +2 "$work/rejoin.csv" >"$work/rejoin.rows"
cmp -s "$work/host.after" "$work/rejoin.rows" ||
    fail "the host's rows from frame $from differ from the rejoined joiner's"
hrows=$(($(wc -l <"$work/host.csv") - 1))
[ "$hrows" -eq 1800 ] || fail "the host exported $hrows rows, expected 1800"

# The killed joiner's whole rows before `from` are the host's.
awk -F, -v f="$from" 'NR > 1 && $1 < f && NF == 15' "$work/join.csv" >"$work/join.before"
before=$(wc -l <"$work/join.before")
[ "$before" -gt 200 ] || fail "the killed joiner left only $before rows"
head -n "$before" <(tail -n +2 "$work/host.csv") | cmp -s - "$work/join.before" ||
    fail "the killed joiner's rows before frame $from differ from the host's"

# The killed joiner's replay has no end marker: it plays back the whole
# frames it holds, and those before `from` are the host's rows.
"$GW" --replay "$work/join.replay" --headless --export "$work/replayed.csv" \
    >"$work/replayed.out" 2>"$work/replayed.err" || fail "the killed joiner's replay does not play"
grep -q "cut short" "$work/replayed.out" || fail "the replay of a killed process is not called cut short"
awk -F, -v f="$from" 'NR > 1 && $1 < f' "$work/replayed.csv" >"$work/replayed.before"
played=$(wc -l <"$work/replayed.before")
[ "$played" -gt 200 ] || fail "the killed joiner's replay holds only $played frames before $from"
head -n "$played" <(tail -n +2 "$work/host.csv") | cmp -s - "$work/replayed.before" ||
    fail "the killed joiner's replay differs from the host's rows before frame $from"

grep -q ",rejoined,$from\$" "$work/host.csv.peer.csv" ||
    fail "the host's peer log does not show the rejoin at frame $from"
grep -q ",session_complete,1800\$" "$work/host.csv.peer.csv" ||
    fail "the host's peer log does not say session_complete"
echo "ok: rejoined at frame $from; $rows rows after it equal the host's, $before before it;" \
    "the killed joiner's replay plays $played of them back"
echo "1 passed, 0 failed"
