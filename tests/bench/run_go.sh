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
replay_server=${MYWIRE_REPLAY_SERVER:-$root/../shared/tools/replay_server.py}
build=${MYWIRE_BENCH_BUILD_DIR:-$root/build-bench}
cpu=${MYWIRE_BENCH_CPU:-0}
pin=()
[[ $cpu != none ]] && pin=(taskset -c "$cpu")
command -v go >/dev/null 2>&1 || { echo "run_go.sh: go not found (golang-go)" >&2; exit 1; }

rows=1000000
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case ${args[i]} in
        --rows) rows=${args[i + 1]:-}; i=$((i + 1)) ;;
        --rows=*) rows=${args[i]#--rows=} ;;
    esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mywire-gobench.XXXXXX")
replay_pid=
db_started=0
cleanup() {
    if [[ -n $replay_pid ]]; then
        kill "$replay_pid" 2>/dev/null || true
        wait "$replay_pid" 2>/dev/null || true
    fi
    if [[ $db_started == 1 ]]; then
        "$root/tests/server/mariadb.sh" stop "$tmp/db" >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -f $replay_server ]]; then
    "${pin[@]}" python3 "$replay_server" "$tmp/replay.sock" "$rows" >"$tmp/replay.out" 2>"$tmp/replay.err" &
    replay_pid=$!
else
    echo "run_go.sh: no replay server at $replay_server: the MariaDB only" >&2
fi

if [[ ! -f $build/build.ninja ]]; then
    meson setup "$build" "$root" --buildtype=release >"$tmp/setup.log" 2>&1 ||
        { cat "$tmp/setup.log" >&2; exit 1; }
fi
ninja -C "$build" -j2 capi/libmywire.so.0.4.0 >"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log" >&2; exit 1; }
mkdir -p "$build/go/gocache" "$build/go/gopath"
export GOCACHE=$build/go/gocache GOPATH=$build/go/gopath GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local
export PKG_CONFIG_PATH=$build/meson-uninstalled LD_LIBRARY_PATH=$build/capi
(cd "$here/go" && go build -o "$tmp/mywire-gobench" .)

if [[ -n ${MYWIRE_TEST_SOCKET:-} ]]; then
    echo "run_go.sh: using the server at $MYWIRE_TEST_SOCKET" >&2
else
    "$root/tests/server/mariadb.sh" start "$tmp/db" >"$tmp/db.log" 2>&1 || { cat "$tmp/db.log" >&2; exit 1; }
    db_started=1
    # shellcheck disable=SC1091
    source "$tmp/db/env"
    [[ $cpu != none ]] && taskset -a -p -c "$cpu" "$(cat "$tmp/db/mysqld.pid")" >/dev/null
fi

if [[ -n $replay_pid ]]; then
    for ((t = 0; t < 600; t++)); do
        grep -q '^ready' "$tmp/replay.out" && break
        kill -0 "$replay_pid" 2>/dev/null || { cat "$tmp/replay.err" >&2; exit 1; }
        sleep 0.2
    done
    grep -q '^ready' "$tmp/replay.out" || { echo "run_go.sh: replay server not ready" >&2; exit 1; }
    export MYWIRE_BENCH_REPLAY_SOCKET=$tmp/replay.sock
fi

echo "run_go.sh: $(go version), libmywire from $build${pin:+, pinned to CPU $cpu}" >&2
"${pin[@]}" "$tmp/mywire-gobench" "$@"
