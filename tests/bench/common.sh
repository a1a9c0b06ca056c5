# Sourced by tests/bench/run.sh and run_go.sh: what both need around their
# benchmark -- a temporary directory cleaned up on exit, the replay server,
# the release build, a throwaway MariaDB pinned with the benchmark. The
# caller sets `here` and `root`, and runs with set -euo pipefail.
#
# Environment (both scripts): MYWIRE_REPLAY_SERVER, MYWIRE_BENCH_BUILD_DIR,
# MYWIRE_TEST_SOCKET ... (a server to use instead of starting one),
# MYWIRE_BENCH_CPU (see run.sh).

replay_server=${MYWIRE_REPLAY_SERVER:-$root/../shared/tools/replay_server.py}
build=${MYWIRE_BENCH_BUILD_DIR:-$root/build-bench}
cpu=${MYWIRE_BENCH_CPU:-0}
pin=()
[[ $cpu != none ]] && pin=(taskset -c "$cpu")
bench_name=$(basename "$0")
replay_pid=
delay_pid=
db_started=0

bench_stop() {  # PID
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

bench_cleanup() {
    if [[ -n $delay_pid ]]; then
        bench_stop "$delay_pid"
        cat "$tmp/delay.err" >&2 2>/dev/null || true # what it forwarded, how late
    fi
    [[ -n $replay_pid ]] && bench_stop "$replay_pid"
    if [[ $db_started == 1 ]]; then
        "$root/tests/server/mariadb.sh" stop "$tmp/db" >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mywire-bench.XXXXXX")
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# The replay server builds its answer in memory first (~15 s for 1M rows):
# started before the build, so that the two overlap.
bench_start_replay() {  # ROWS
    "${pin[@]}" python3 "$replay_server" "$tmp/replay.sock" "$1" >"$tmp/replay.out" 2>"$tmp/replay.err" &
    replay_pid=$!
}

bench_build() {  # meson compile targets
    if [[ ! -f $build/build.ninja ]]; then
        meson setup "$build" "$root" --buildtype=release >"$tmp/setup.log" 2>&1 ||
            { cat "$tmp/setup.log" >&2; exit 1; }
    fi
    meson compile -C "$build" -j 2 "$@" >"$tmp/build.log" 2>&1 ||
        { cat "$tmp/build.log" >&2; exit 1; }
}

# A throwaway MariaDB on the benchmark's CPU, unless MYWIRE_TEST_SOCKET names one.
bench_start_db() {
    if [[ -n ${MYWIRE_TEST_SOCKET:-} ]]; then
        echo "$bench_name: using the server at $MYWIRE_TEST_SOCKET" >&2
        return
    fi
    "$root/tests/server/mariadb.sh" start "$tmp/db" >"$tmp/db.log" 2>&1 ||
        { cat "$tmp/db.log" >&2; exit 1; }
    db_started=1
    # shellcheck disable=SC1091
    source "$tmp/db/env"
    if [[ $cpu != none ]]; then
        taskset -a -p -c "$cpu" "$(cat "$tmp/db/mysqld.pid")" >/dev/null
    fi
    # For the information line "server CPU of ..." (read via its CPU clock).
    MYWIRE_BENCH_SERVER_PID=$(cat "$tmp/db/mysqld.pid")
    export MYWIRE_BENCH_SERVER_PID
}

# Waits until the helper process PID has printed "ready" to $tmp/NAME.out,
# polling every 0.2 s for at most SECONDS; exits with its $tmp/NAME.err when it
# dies first or never gets there.
bench_wait_ready() {  # WHAT PID NAME SECONDS
    for ((t = 0; t < $4 * 5; t++)); do
        grep -q '^ready' "$tmp/$3.out" 2>/dev/null && return
        if ! kill -0 "$2" 2>/dev/null; then
            echo "$bench_name: $1 exited:" >&2
            cat "$tmp/$3.err" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "$bench_name: $1 not ready after $4 s" >&2
    exit 1
}

bench_wait_replay() {
    bench_wait_ready "the replay server" "$replay_pid" replay 120
    export MYWIRE_BENCH_REPLAY_SOCKET=$tmp/replay.sock
}

# mywire-bench-delay in front of the MariaDB's socket (run.sh --delay-us US),
# pinned with the benchmark and the server: on this VM a wakeup across CPUs
# costs ~100 us each way, which would swamp the delay asked for. Its socket:
# $tmp/delay.sock.
bench_start_delay() {  # US
    "${pin[@]}" "$build/tests/bench/mywire-bench-delay" "$tmp/delay.sock" "$MYWIRE_TEST_SOCKET" "$1" \
        >"$tmp/delay.out" 2>"$tmp/delay.err" &
    delay_pid=$!
    bench_wait_ready mywire-bench-delay "$delay_pid" delay 5
}
