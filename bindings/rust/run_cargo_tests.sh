#!/usr/bin/env bash
# The meson test of the Rust crate: `cargo test --offline` against the test
# server (MYWIRE_TEST_* from tests/server/mariadb.sh's DIR/env, as for the C
# integration tests) and the libmywire of the meson build.
#
#   run_cargo_tests.sh BUILD_ROOT [SANITIZE [cargo test arguments...]]
#
# SANITIZE is the build's b_sanitize option: anything but "none" (or empty)
# skips (exit 77), as a sanitized libmywire cannot be loaded by a Rust test
# binary without the sanitizer runtime preloaded.
#
# The crate links the build's libmywire through pkg-config and the
# uninstalled .pc meson writes (BUILD_ROOT/meson-uninstalled); cargo's output
# goes under BUILD_ROOT/bindings/rust/target, never into the source tree
# (Cargo.lock aside, which is git-ignored). No registry is used (the crate has
# no dependencies; --offline). Exits 77 (meson: skipped) without cargo.
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_ROOT [SANITIZE [cargo test args]]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
SANITIZE=${2:-none}
shift $(( $# >= 2 ? 2 : 1 ))
if [[ $SANITIZE != none && -n $SANITIZE ]]; then
    echo "run_cargo_tests.sh: $BUILD is a sanitizer build (b_sanitize=$SANITIZE): skipping" >&2
    exit 77
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

CARGO=${CARGO:-}
if [[ -z $CARGO ]]; then
    if command -v cargo >/dev/null 2>&1; then
        CARGO=cargo
    elif [[ -x ${HOME:-/root}/.cargo/bin/cargo ]]; then
        CARGO=${HOME:-/root}/.cargo/bin/cargo
    else
        echo "run_cargo_tests.sh: cargo not found: skipping the Rust bindings" >&2
        exit 77
    fi
fi

export CARGO_TARGET_DIR=$BUILD/bindings/rust/target
export PKG_CONFIG_PATH=$BUILD/meson-uninstalled${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
unset MYWIRE_LIB_DIR
cd "$HERE"
"$CARGO" --version
start=$(date +%s%N)
"$CARGO" build --offline --tests
built=$(date +%s%N)
"$CARGO" test --offline "$@"
done_=$(date +%s%N)
echo "run_cargo_tests.sh: cargo build $(( (built - start) / 1000000 )) ms, cargo test $(( (done_ - built) / 1000000 )) ms"
