#!/usr/bin/env bash
# The whole test suite, in one command:
#
#   bash tests/run.sh
#
# Builds build/ (normal), build-asan/ (ASan + UBSan) and, in build-tsan/
# (ThreadSanitizer), only what the threaded tests need (meson suite
# 'threads'). Starts a throwaway MariaDB (tests/server/mariadb.sh, stopped on
# any exit), runs `meson test` in the first two builds and the suite 'threads'
# in the third against it, and closes with "N passed, N failed" over all three
# runs. Exits non-zero if a build or any test failed. Benchmarks are not run
# (they are not meson tests; see tests/bench/run.sh). Then runs
# tests/packaging/run.sh (the release tarball, the Debian packages on a clean
# root) and counts its checks too.
#
# Environment: MYWIRE_JOBS (default 2) build jobs and parallel tests;
# MYWIRE_BUILD_DIR (default build), MYWIRE_ASAN_BUILD_DIR (default
# build-asan) and MYWIRE_TSAN_BUILD_DIR (default build-tsan) name the build
# directories; MYWIRE_PACKAGING=0 skips tests/packaging/run.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=${MYWIRE_JOBS:-2}
build_dir=${MYWIRE_BUILD_DIR:-build}
asan_dir=${MYWIRE_ASAN_BUILD_DIR:-build-asan}
tsan_dir=${MYWIRE_TSAN_BUILD_DIR:-build-tsan}
# The executables of the suite 'threads' (tests/integration/meson.build).
tsan_targets=(tests/integration/it_threads tests/integration/it_misuse tests/integration/it_cancel)
started=$SECONDS

step() {
    echo "== $* ($((SECONDS - started))s)"
}

# Configure DIR with the given options (or apply them to an existing build).
configure() {
    local dir=$1
    shift
    if [[ -f $dir/build.ninja ]]; then
        if [[ $# -gt 0 ]]; then
            meson configure "$dir" "$@" >/dev/null || return 1
        fi
    else
        meson setup "$dir" "$@" || return 1
    fi
}

# Configure DIR and build everything the tests need.
build() {
    configure "$@" || return 1
    ninja -C "$1" -j "$jobs" all meson-test-prereq
}

step "building $build_dir/"
build "$build_dir" || { echo "run.sh: building $build_dir failed" >&2; exit 1; }
step "building $asan_dir/ (ASan + UBSan)"
build "$asan_dir" -Db_sanitize=address,undefined -Db_lundef=false ||
    { echo "run.sh: building $asan_dir failed" >&2; exit 1; }
step "building $tsan_dir/ (TSan: the threaded tests only)"
{ configure "$tsan_dir" -Db_sanitize=thread && ninja -C "$tsan_dir" -j "$jobs" "${tsan_targets[@]}"; } ||
    { echo "run.sh: building $tsan_dir failed" >&2; exit 1; }

server_dir=$(mktemp -d "${TMPDIR:-/tmp}/mywire-server.XXXXXX")
stop_server() {
    bash "$root/tests/server/mariadb.sh" stop "$server_dir" || true
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
step "starting the test server"
bash tests/server/mariadb.sh start "$server_dir"
# shellcheck source=/dev/null
source "$server_dir/env"

passed=0 failed=0 skipped=0

# meson test in DIR, then add its results (meson-logs/testlog.json) to the totals.
run_tests() {
    local dir=$1
    shift
    local log=$dir/meson-logs/testlog.json
    rm -f "$log"
    local rc=0
    meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "$jobs" \
        --no-suite bench "$@" || rc=$?
    if [[ ! -s $log ]]; then
        echo "run.sh: meson test in $dir exited with $rc and wrote no $log" >&2
        failed=$((failed + 1))
        return
    fi
    local counts
    counts=$(python3 - "$log" <<'PY'
import json, sys
passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        if not line.strip():
            continue
        result = json.loads(line)['result']
        if result in ('OK', 'EXPECTEDFAIL'):
            passed += 1
        elif result == 'SKIP':
            skipped += 1
        else:  # FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS, INTERRUPT
            failed += 1
print(passed, failed, skipped)
PY
    )
    local p f s
    read -r p f s <<<"$counts"
    # meson test failing with no failed test in its log (say, it could not
    # start a test) still counts as a failure.
    if [[ $rc -ne 0 && $f -eq 0 ]]; then
        echo "run.sh: meson test in $dir exited with $rc" >&2
        f=1
    fi
    echo "run.sh: in $dir: $p ok, $f failed, $s skipped"
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

step "meson test -C $build_dir"
run_tests "$build_dir"
step "meson test -C $asan_dir"
# Not the bindings there: an interpreter (lua, python3, a Go or Rust test
# binary) cannot load a sanitized libmywire without the sanitizer runtime
# preloaded; the normal build runs them.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_tests "$asan_dir" --timeout-multiplier 3 --no-suite bindings
step "meson test -C $tsan_dir --suite threads"
# A report makes the test exit with 66. tests/tsan.supp lists known false
# positives (none so far: OpenSSL 3 takes its locks through pthreads).
TSAN_OPTIONS="second_deadlock_stack=1 suppressions=$root/tests/tsan.supp" \
    run_tests "$tsan_dir" --suite threads --timeout-multiplier 3
step "stopping the test server"
trap - EXIT
stop_server

# The release tarball and the Debian packages (tests/packaging/run.sh); its
# closing "N passed, N failed[, N skipped]" line counts here too.
# MYWIRE_PACKAGING=0 leaves it out.
if [[ ${MYWIRE_PACKAGING:-1} != 0 ]]; then
    step "tests/packaging/run.sh"
    packaging_log=$(mktemp)
    rc=0
    MYWIRE_JOBS=$jobs bash tests/packaging/run.sh 2>&1 | tee "$packaging_log" || rc=${PIPESTATUS[0]}
    counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$packaging_log" | tail -n 1 || true)
    rm -f "$packaging_log"
    read -r p f s <<<"$(sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<"$counts")"
    if [[ -z $counts ]] || [[ $rc -ne 0 && ${f:-0} -eq 0 ]]; then
        echo "run.sh: tests/packaging/run.sh exited with $rc" >&2
        f=$((${f:-0} + 1))
    fi
    echo "run.sh: packaging: ${p:-0} ok, $f failed, ${s:-0} skipped"
    passed=$((passed + ${p:-0})) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
fi
step "done"

if [[ $((passed + failed)) -eq 0 ]]; then
    echo "run.sh: no test ran" >&2
    failed=1
fi
summary="$passed passed, $failed failed"
[[ $skipped -eq 0 ]] || summary+=", $skipped skipped"
echo "$summary"
[[ $failed -eq 0 ]]
