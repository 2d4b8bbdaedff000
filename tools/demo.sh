#!/usr/bin/env bash
# Build rollnet and start the demo: two gridworld clients on this machine,
# connected over ENet on 127.0.0.1. With a display they open two windows
# (arrows / WASD to move, F1 toggles the network overlay); without one they
# run as headless bots. Installs missing Debian packages first.
# Extra arguments go to both clients (e.g. --netsim delay=50,loss=5).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
rollnet_install_deps

if [ ! -f build/build.ninja ]; then
    meson setup build >/dev/null
fi
ninja -C build samples/gridworld/gridworld >/dev/null

PORT=${PORT:-7777}
OUT=${OUT:-out/demo}
mkdir -p "$OUT"
GW=build/samples/gridworld/gridworld
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    mode=()
    echo "rollnet demo: two windows; player 0 plays with the keyboard in the first, player 1 in the second"
else
    mode=(--headless)
    echo "rollnet demo: no display, two headless bots"
fi
host_bot=(); join_bot=()
if [ ${#mode[@]} -gt 0 ]; then
    host_bot=(--bot 1); join_bot=(--bot 2)
fi

"$GW" --host "$PORT" "${mode[@]}" "${host_bot[@]}" --export "$OUT/host.csv" --stats "$@" &
host=$!
trap 'kill $host 2>/dev/null || true' EXIT
sleep 0.3
set +e
"$GW" --join "127.0.0.1:$PORT" "${mode[@]}" "${join_bot[@]}" --export "$OUT/join.csv" --stats "$@"
join_status=$?
wait $host
host_status=$?
set -e
trap - EXIT
echo
echo "exports: $OUT/host.csv $OUT/join.csv (and .msgpack, .peer.csv beside them)"
if cmp -s "$OUT/host.csv" "$OUT/join.csv"; then
    echo "the two confirmed ledgers are identical"
else
    echo "the two confirmed ledgers differ" >&2
fi
exit $(( host_status || join_status ))
