#!/usr/bin/env bash
# Consume rollnet both ways a game does: installed (pkg-config rollnet) and
# as a meson subproject (dependency('rollnet')). Also checks that the shared
# library exports only rollnet_* symbols.
set -euo pipefail
src=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/rollnet-consumer-XXXXXX)
trap 'rm -rf "$work"' EXIT

# 1. Installed.
meson setup "$work/build" "$src" --prefix "$work/prefix" --libdir lib \
    -Dtests=disabled -Dsamples=false >/dev/null
ninja -C "$work/build" >/dev/null
meson install -C "$work/build" >/dev/null
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
cc -std=c11 -Wall -Werror "$src/tests/consumer/consumer.c" -o "$work/consumer" \
    $(pkg-config --cflags --libs rollnet)
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer"
extra=$(nm -D --defined-only "$work/prefix/lib/librollnet.so" | awk '{print $3}' | grep -v '^rollnet_' || true)
if [ -n "$extra" ]; then
    echo "librollnet.so exports symbols without the rollnet_ prefix:" >&2
    echo "$extra" | head >&2
    exit 1
fi
echo "installed: ok ($(nm -D --defined-only "$work/prefix/lib/librollnet.so" | wc -l) rollnet_ symbols)"

# 2. Subproject.
mkdir -p "$work/game/subprojects"
ln -s "$src" "$work/game/subprojects/rollnet"
cp "$src/tests/consumer/consumer.c" "$work/game/"
cat > "$work/game/meson.build" <<'MESON'
project('game', 'c', default_options: ['c_std=c11'])
executable('game', 'consumer.c', dependencies: dependency('rollnet'))
MESON
meson setup "$work/game/build" "$work/game" >/dev/null
ninja -C "$work/game/build" >/dev/null
"$work/game/build/game"
if [ -d "$work/game/build/subprojects/rollnet/tests" ]; then
    echo "tests were built inside the subproject: they should be off there" >&2
    exit 1
fi
echo "subproject: ok"
