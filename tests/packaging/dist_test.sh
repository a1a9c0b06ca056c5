#!/usr/bin/env bash
# The release tarball (meson dist) builds, passes the tests that need no
# server, and builds reproducibly:
#
#   dist_test.sh TARBALL
#
# 1. Unpacks TARBALL twice, into two different directories (nothing of the
#    git checkout is used).
# 2. In the first: configures the whole tree (meson checks then that every
#    file any target names is in the tarball), builds the library and what
#    the suites 'unit' and 'abi' run, and runs those suites.
# 3. In the second: the library alone, with the same options.
# 4. The two libmywire.so.* must be byte-identical (cmp). Both builds use
#    SOURCE_DATE_EPOCH (the tarball's newest file) and map their own source
#    path to "." (-ffile-prefix-map, as dpkg-buildflags does), so that
#    neither a date nor a build path can end up in the binary.
#
# Environment: MYWIRE_JOBS (default 2) build jobs. Prints one "ok"/"FAIL"
# line per check and closes with "N passed, N failed".
set -euo pipefail

[[ $# -eq 1 && -f $1 ]] || { echo "usage: $0 TARBALL" >&2; exit 2; }
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
jobs=${MYWIRE_JOBS:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/mywire-dist.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
started=$SECONDS

passed=0 failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

# unpack DIR: the tarball's one top directory, unpacked under DIR.
unpack() {
    mkdir -p "$1"
    tar -C "$1" -xf "$tarball"
    local tops
    tops=$(find "$1" -mindepth 1 -maxdepth 1)
    [[ $(printf '%s\n' "$tops" | wc -l) -eq 1 && -d $tops ]] ||
        { echo "dist_test: $tarball does not hold one top directory" >&2; exit 1; }
    printf '%s\n' "$tops"
}

src_a=$(unpack "$work/a")
src_b=$(unpack "$work/build-twice/b")
# The newest file of the release is its date.
SOURCE_DATE_EPOCH=$(find "$src_a" -type f -printf '%T@\n' | sort -n | tail -n 1 | cut -d. -f1)
export SOURCE_DATE_EPOCH
echo "dist_test: $(basename "$tarball") unpacked in $src_a and $src_b; SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"

# setup SRC [OPTION...]: configure SRC/build as a distribution would (plain
# flags of its own, the source path mapped away).
setup() {
    local src=$1
    shift
    (cd "$src" && CFLAGS="-g -O2 -ffile-prefix-map=$src=." CXXFLAGS="-g -O2 -ffile-prefix-map=$src=." \
        meson setup build --buildtype=plain "$@" >"$work/setup-$(basename "$(dirname "$src")").log" 2>&1)
}

# The library's file in a configured build, relative to the build directory.
library_target() {
    meson introspect --targets "$1/build" | python3 -c '
import json, os, sys
build = sys.argv[1]
for t in json.load(sys.stdin):
    if t["name"] == "mywire" and t["type"] == "shared library":
        print(os.path.relpath(t["filename"][0], build))
' "$1/build"
}

if setup "$src_a"; then
    ok "the unpacked tarball configures (every file the build names is in it)"
else
    cat "$work/setup-a.log"
    fail "the unpacked tarball configures"
    echo "$passed passed, $failed failed"
    exit 1
fi
lib=$(library_target "$src_a")
# What the suites run: their executables (the test scripts come with the
# tarball) and the library.
mapfile -t test_targets < <(meson introspect --tests "$src_a/build" | python3 -c '
import json, os, sys
build = sys.argv[1]
for t in json.load(sys.stdin):
    if set(t["suite"]) & {"mywire:unit", "mywire:abi", "unit", "abi"}:
        exe = t["cmd"][0]
        if os.path.abspath(exe).startswith(os.path.abspath(build) + os.sep):
            print(os.path.relpath(exe, build))
' "$src_a/build" | sort -u)
if ninja -C "$src_a/build" -j "$jobs" "$lib" "${test_targets[@]}" >"$work/build-a.log" 2>&1; then
    ok "the library and the unit and abi tests build from the tarball ($((SECONDS - started))s)"
else
    tail -n 40 "$work/build-a.log"
    fail "the library and the unit and abi tests build from the tarball"
fi
if meson test -C "$src_a/build" --no-rebuild --suite unit --suite abi --num-processes "$jobs" \
    --print-errorlogs >"$work/test-a.log" 2>&1; then
    ok "meson test --suite unit --suite abi passes in the tarball's build: $(grep -E '^Ok:' "$work/test-a.log" | tr -s ' ')"
else
    cat "$work/test-a.log"
    fail "meson test --suite unit --suite abi in the tarball's build"
fi

# The same library again, elsewhere.
if setup "$src_b" && ninja -C "$src_b/build" -j "$jobs" "$(library_target "$src_b")" >"$work/build-b.log" 2>&1; then
    ok "a second build of the library, in another directory ($((SECONDS - started))s)"
else
    tail -n 40 "$work/build-b.log" "$work/setup-b.log" 2>/dev/null || true
    fail "a second build of the library"
fi
file_a=$src_a/build/$lib
file_b=$src_b/build/$(library_target "$src_b")
if [[ -f $file_a && -f $file_b ]] && cmp "$file_a" "$file_b"; then
    ok "both builds give a byte-identical $(basename "$file_a") ($(sha256sum <"$file_a" | cut -c1-16))"
else
    # Where they differ, to start looking.
    if [[ -f $file_a && -f $file_b ]]; then
        cmp -l "$file_a" "$file_b" | wc -l | sed 's/^/dist_test: bytes that differ: /'
        diff <(readelf -S --wide "$file_a") <(readelf -S --wide "$file_b") | head -n 20 || true
        for path in "$src_a" "$src_b"; do
            if grep -qaF "$path" "$file_a" "$file_b"; then
                echo "dist_test: a build path ($path) is in the binary"
            fi
        done
    fi
    fail "both builds give a byte-identical libmywire.so"
fi

echo "dist_test: $((SECONDS - started))s in all"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
