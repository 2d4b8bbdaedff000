# Shared by the e2e scripts that run p2p_peer processes: the children they
# started (pids), the cleanup that kills them and keeps the files of a failed
# run, fail (dump the logs, exit 1) and reap. Source it after setting `work`
# (a fresh directory).
pids=()   # started and not yet reaped
failed=0

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    if [ "$failed" -eq 0 ]; then
        rm -rf "$work"
    else
        echo "files kept in $work" >&2
    fi
}
trap cleanup EXIT
trap 'failed=1; exit 130' INT TERM HUP

dump_logs() {
    local f
    for f in "$work"/*.out "$work"/*.err; do
        if [ -s "$f" ]; then
            echo "--- $f" >&2
            tail -n 20 "$f" >&2
        fi
    done
}

fail() {
    echo "FAIL: $*" >&2
    failed=1
    dump_logs
    exit 1
}

# Wait for a child and forget it, so cleanup never signals a reused pid. Sets rc.
reap() {
    local pid=$1 keep=() p
    wait "$pid"
    rc=$?
    for p in "${pids[@]}"; do
        [ "$p" != "$pid" ] && keep+=("$p")
    done
    pids=("${keep[@]+"${keep[@]}"}")
}
