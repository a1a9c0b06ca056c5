#!/usr/bin/env bash
# The Go driver's benchmark (tests/bench/go, through database/sql): build
# libmywire (release) and mywire-gobench, start the replay server and a
# throwaway MariaDB (tests/server/mariadb.sh), run it, print its table,
# clean up.
#
#   tests/bench/run_go.sh [mywire-gobench options]   e.g. --rows 200000, --reps 5,
#                                                    --only stream, --real=false
#
# Workloads: stream (N rows x 6 columns, text query and prepared statement,
# from the replay server and from a table of the MariaDB) and point (20000
# point selects on the MariaDB's socket: implicit statement, explicit
# statement, text). No other Go driver can be installed here, so the figures
# stand alone; tests/bench/run.sh --only stream,stmt-stream,stmt-point gives
# the C API's on the same workloads.
# Environment: as run.sh (MYWIRE_REPLAY_SERVER, MYWIRE_BENCH_BUILD_DIR,
# MYWIRE_TEST_SOCKET ..., MYWIRE_BENCH_CPU).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
command -v go >/dev/null 2>&1 || { echo "run_go.sh: go not found (golang-go)" >&2; exit 1; }

rows=1000000
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case ${args[i]} in
        --rows) rows=${args[i + 1]:-}; i=$((i + 1)) ;;
        --rows=*) rows=${args[i]#--rows=} ;;
    esac
done

# shellcheck source=common.sh
source "$here/common.sh"

if [[ -f $replay_server ]]; then
    bench_start_replay "$rows"
else
    echo "run_go.sh: no replay server at $replay_server: the MariaDB only" >&2
fi
bench_build mywire:shared_library
mkdir -p "$build/go/gocache" "$build/go/gopath"
export GOCACHE=$build/go/gocache GOPATH=$build/go/gopath GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local
export PKG_CONFIG_PATH=$build/meson-uninstalled LD_LIBRARY_PATH=$build/capi
(cd "$here/go" && go build -o "$tmp/mywire-gobench" .)

bench_start_db
[[ -n $replay_pid ]] && bench_wait_replay

echo "run_go.sh: $(go version), libmywire from $build${pin:+, pinned to CPU $cpu}" >&2
"${pin[@]}" "$tmp/mywire-gobench" "$@"
