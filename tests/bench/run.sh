#!/usr/bin/env bash
# Build mywire-bench (release), start a throwaway MariaDB (tests/server/mariadb.sh)
# and the replay server, run the benchmark, print its table, clean up.
#
#   tests/bench/run.sh [mywire-bench options]     e.g. --quick, --only stream,buffered,
#                                                 --rows 200000, --real, --reps 5
#
# Workloads (--only, comma-separated; default stream,buffered,point,connect):
#   stream, buffered   N rows x 6 columns from the replay server (and with --real
#                      from a table on the MariaDB), one at a time / stored
#   point, connect     one-row selects / connect+close on the MariaDB's socket
#   tls-connect        connect+close over TCP with TLS required
#   tls-stream         stream N rows over TCP with TLS required, from a table
#                      of N rows that mywire-bench fills first
#   zlib-stream        the same over TCP with zlib compression and no TLS
#   nb-point           64 connections x 2000 point selects from one thread through
#                      the non-blocking APIs (mywire_set_nonblocking / MYSQL_OPT_NONBLOCK),
#                      and a floor through the same poll() loop: bare send()/recv() of
#                      the same packets on connections mywire opened, no parsing
#                      (max_connections is raised to 3 x 64 + 16 if lower)
#   pipeline           20000 point selects: mywire in pipelines of 100
#                      (mywire_pipeline_run), libmariadb one by one, and a floor
#                      sending each batch's 100 packets in one send() and reading
#                      the answers with bare recv(), no parsing
#   stmt-stream        N binary rows x 6 columns of a prepared statement from the
#                      replay server (and with --real from the MariaDB's table),
#                      read through typed getters / mysql_stmt_bind_result
#   stmt-point         20000 executes of a prepared point select on the MariaDB
#   stmt-bulk          N rows inserted through prepared statements on the MariaDB:
#                      MariaDB bulk (array binding / mywire's column arrays, and
#                      mywire's row-wise batch API, in batches of 10000) and
#                      mywire row by row, interleaved
#   stmt-pipeline      the 20000 executes of stmt-point: mywire in pipelines of 2000
#                      (mywire_pipeline_add_execute), libmariadb one by one
# --delay-us N (pipeline, stmt-pipeline): also run them through mywire-bench-delay
#   (tests/bench/delay_proxy.c), a proxy in front of the MariaDB's socket that holds
#   every chunk N us in each direction, as a network would (e.g. --delay-us 50: a
#   100 us round trip, a LAN in one data centre). run.sh pins it with the
#   benchmark and the server; its CPU time is not the client's. The report gives
#   the round trip it added, as libmariadb's one-by-one queries saw it:
#   tests/bench/run.sh --only pipeline,stmt-pipeline --delay-us 50
# stmt-* are not in the default set either (stmt-bulk with its row-by-row
# baseline takes long), e.g.
#   tests/bench/run.sh --only stmt-stream,stmt-point,stmt-bulk --reps 5
#   tests/bench/run.sh --only stmt-point,stmt-pipeline --reps 5
# The tls/zlib ones need the MariaDB of tests/server/mariadb.sh with TLS (it has
# it); they are not in the default set because filling the table and the TLS
# handshakes take a while. Neither client verifies the server's certificate,
# unless --tls-verify is given (then both verify chain and name against the
# test server's CA), e.g.
#   tests/bench/run.sh --only tls-connect,tls-stream,zlib-stream
#   tests/bench/run.sh --only tls-connect,tls-stream --tls-verify
# Environment:
#   MYWIRE_REPLAY_SERVER     replay_server.py (default: <repo>/../shared/tools/replay_server.py)
#   MYWIRE_BENCH_BUILD_DIR   build directory (default: <repo>/build-bench)
#   MYWIRE_TEST_SOCKET ...   if already set, that server is used and none is started
#   MYWIRE_BENCH_SERVER_PID  the pid of that server, to show its CPU per op too (set
#                            by run.sh for the server it starts)
#   MYWIRE_BENCH_CPU         the CPU that the bench and the servers it starts are pinned
#                            to (default 0; "none" to not pin). On a small shared VM a
#                            connection whose server thread the scheduler puts on the
#                            other CPU can cost the client 10x the CPU per query for
#                            seconds; one CPU for all makes runs repeatable. The client's
#                            CPU time is measured either way; the servers' is not.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))

# Which servers the chosen options need (mywire-bench itself validates them).
rows=1000000
only=stream,buffered,point,connect
use_replay=1
real=0
delay_us=
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case ${args[i]} in
        --rows) rows=${args[i + 1]:-}; i=$((i + 1)) ;;
        --only) only=${args[i + 1]:-}; i=$((i + 1)) ;;
        --quick) rows=100000 ;;
        --no-replay) use_replay=0 ;;
        --real) real=1 ;;
        --delay-us) delay_us=${args[i + 1]:-}; i=$((i + 1)) ;;
        --help | -h) use_replay=0; only= ;;
    esac
done
need_replay=0
need_db=0
[[ $use_replay == 1 && ,$only, =~ ,(stream|buffered|stmt-stream), ]] && need_replay=1
[[ ,$only, =~ ,(point|connect|tls-connect|tls-stream|zlib-stream|nb-point|pipeline|stmt-point|stmt-bulk|stmt-pipeline), || $real == 1 ]] && need_db=1

# shellcheck source=common.sh
source "$here/common.sh"

if [[ $need_replay == 1 ]]; then
    if [[ ! -f $replay_server ]]; then
        echo "run.sh: replay server not found at $replay_server (set MYWIRE_REPLAY_SERVER)" >&2
        exit 1
    fi
    bench_start_replay "$rows"
fi
bench_build mywire-bench mywire-bench-delay
bench=$build/tests/bench/mywire-bench
[[ $need_db == 1 ]] && bench_start_db
extra=()
if [[ -n $delay_us ]]; then
    bench_start_delay "$delay_us"
    extra=(--delay-socket "$tmp/delay.sock")
fi
[[ $need_replay == 1 ]] && bench_wait_replay

buildtype=$(meson introspect "$build" --buildoptions 2>/dev/null |
    python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' \
    2>/dev/null || echo unknown)
if [[ $cpu == none ]]; then
    echo "run.sh: $bench (buildtype $buildtype), not pinned" >&2
else
    echo "run.sh: $bench (buildtype $buildtype), pinned to CPU $cpu with the servers it started" >&2
fi
"${pin[@]}" "$bench" "$@" "${extra[@]}"
