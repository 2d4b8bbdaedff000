#!/usr/bin/env bash
# Installs the Debian packages rollnet builds with, when any is missing.
# Sourced by demo.sh and test.sh; safe to run again (it installs nothing
# when everything is there).
set -euo pipefail

ROLLNET_PACKAGES=(meson ninja-build pkg-config gcc g++ python3
                  libsdl2-dev libenet-dev libmsgpack-dev libcmocka-dev libxxhash-dev
                  libsodium-dev)
# tools/test.sh also fuzzes: clang and its runtimes (libFuzzer, ASan, UBSan;
# Debian 12 ships them apart from clang, in libclang-rt-dev).
# ...and checks the API reference: doxygen (its large dependencies are
# clang's, already there); an e2e test reads a msgpack export with Debian's
# python3 (python3-msgpack).
ROLLNET_TEST_PACKAGES=(clang libclang-rt-dev doxygen python3-msgpack)

# Usage: rollnet_missing_packages [EXTRA_PACKAGE...]
rollnet_missing_packages() {
    local missing=()
    for p in "${ROLLNET_PACKAGES[@]}" "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    echo "${missing[@]:-}"
}

# Usage: rollnet_install_deps [EXTRA_PACKAGE...]
rollnet_install_deps() {
    local missing
    missing=$(rollnet_missing_packages "$@")
    if [ -z "$missing" ]; then
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "rollnet: missing packages ($missing) and no apt-get: install them by hand" >&2
        return 1
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "rollnet: missing packages ($missing); run as root or install sudo" >&2
            return 1
        fi
    fi
    echo "rollnet: installing $missing"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}
