#!/usr/bin/env bash
# Render the gridworld in real windows under Xvfb and take a screenshot of
# both, with the network overlay on in the first one (F1, sent by xdotool).
# Installs xvfb, xdotool, x11-apps and imagemagick when missing.
#   tools/screenshot.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
ROLLNET_PACKAGES+=(xvfb xdotool x11-apps imagemagick)
rollnet_install_deps
out=${1:-out/gridworld.png}
mkdir -p "$(dirname "$out")"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build samples/gridworld/gridworld >/dev/null

display=:77
Xvfb $display -screen 0 1280x720x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $host $join $xvfb 2>/dev/null || true' EXIT
sleep 1
export DISPLAY=$display
GW=build/samples/gridworld/gridworld
$GW --host 47555 --bot 3 --episodes 1 --max-steps 900 --netsim delay=60,jitter=20,seed=1 >/dev/null 2>&1 &
host=$!
$GW --join 127.0.0.1:47555 --bot 4 --episodes 1 --max-steps 900 --netsim delay=60,jitter=20,seed=2 >/dev/null 2>&1 &
join=$!
sleep 4
# No window manager: place the two windows side by side, then focus the
# first one and press F1 there.
mapfile -t wins < <(xdotool search --sync --onlyvisible --name gridworld)
x=0
for w in "${wins[@]}"; do
    xdotool windowmove "$w" "$x" 40
    x=$((x + 640))
done
xdotool windowfocus --sync "${wins[0]}"
xdotool key F1
sleep 3
xwd -root -silent | convert xwd:- "$out"
echo "screenshot: $out"
