#!/usr/bin/env bash
# go vet and go test -race of bindings/go against the library of a build dir:
#
#   run_tests.sh SRC_DIR BUILD_ROOT WORK_DIR CONSTANTS_JSON [go test args...]
#
# SRC_DIR is bindings/go, BUILD_ROOT the meson build directory (its
# meson-uninstalled/ has mywire-uninstalled.pc, capi/ libmywire.so), WORK_DIR
# where Go's build cache and GOPATH go (so a fresh machine works offline and
# nothing is written to $HOME). Exit 77 (skip) when go is not installed.
# MYWIRE_GO_RACE=0 runs without the race detector.
set -euo pipefail

[[ $# -ge 4 ]] || { echo "usage: $0 SRC_DIR BUILD_ROOT WORK_DIR CONSTANTS_JSON [args]" >&2; exit 2; }
src=$1 build=$2 work=$3 constants=$4
shift 4

if ! command -v go >/dev/null 2>&1; then
    echo "go not found: skipping the Go binding's tests" >&2
    exit 77
fi

mkdir -p "$work/gocache" "$work/gopath"
export GOCACHE=$work/gocache GOPATH=$work/gopath GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local \
    CGO_ENABLED=1
export PKG_CONFIG_PATH=$build/meson-uninstalled${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export LD_LIBRARY_PATH=$build/capi${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export MYWIRE_CONSTANTS_JSON=$constants

race=(-race)
[[ ${MYWIRE_GO_RACE:-1} == 0 ]] && race=()

cd "$src"
unformatted=$(gofmt -l .)
if [[ -n $unformatted ]]; then
    echo "not gofmt-formatted: $unformatted" >&2
    exit 1
fi
go vet ./...
exec go test "${race[@]}" -count=1 -timeout 800s "$@" ./...
