#!/usr/bin/env bash
# Install the build into a staging directory, build example.c against the
# installed package the way a user would (cc + pkg-config, nothing else) and
# run it against the test server, over TCP and over the unix socket.
#
#   consumer_test.sh BUILD_DIR EXAMPLE_C [EXTRA_CFLAGS]
#
# EXTRA_CFLAGS is for sanitizer builds: a program that loads an ASan-built
# library must link the sanitizer runtime itself.
set -euo pipefail

build_dir=$1
example=$2
extra_cflags=${3:-}

for var in MYWIRE_TEST_HOST MYWIRE_TEST_PORT MYWIRE_TEST_SOCKET MYWIRE_TEST_USER \
    MYWIRE_TEST_PASSWORD MYWIRE_TEST_DB; do
    if [[ -z ${!var:-} ]]; then
        echo "consumer: $var is not set; start the server with tests/server/mariadb.sh" >&2
        exit 1
    fi
done

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
stage=$work/stage

meson install -C "$build_dir" --no-rebuild --quiet --destdir "$stage" >"$work/install.log" 2>&1 || {
    cat "$work/install.log" >&2
    echo "consumer: meson install failed" >&2
    exit 1
}

pc=$(find "$stage" -name mywire.pc -path '*/pkgconfig/*' | head -n 1)
[[ -n $pc ]] || { echo "consumer: no mywire.pc was installed" >&2; exit 1; }
header=$(find "$stage" -name mywire.h | head -n 1)
[[ -n $header ]] || { echo "consumer: mywire.h was not installed" >&2; exit 1; }

# The package is staged under $stage instead of its prefix: point the prefix
# variable there (everything else in mywire.pc derives from it).
export PKG_CONFIG_PATH=$(dirname "$pc")
prefix=$(pkg-config --variable=prefix mywire)
pkg_config() { pkg-config --define-variable=prefix="$stage$prefix" "$@"; }
flags=$(pkg_config --cflags --libs mywire)
echo "consumer: pkg-config --cflags --libs mywire: $flags"

cp "$example" "$work/example.c"
# shellcheck disable=SC2086 # the flags are words on purpose
(cd "$work" && ${CC:-cc} -Wall -Wextra -Werror $extra_cflags example.c $flags -o example)

libdir=$(pkg_config --variable=libdir mywire)
export LD_LIBRARY_PATH=$libdir
# The example must load the installed library, not the one in the build tree.
loaded=$(ldd "$work/example" | awk '/libmywire\.so/ { print $3 }')
if [[ $loaded != "$libdir"/libmywire.so.* ]]; then
    echo "consumer: example loads '$loaded', expected the one in $libdir" >&2
    exit 1
fi

enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
user=$(enc "$MYWIRE_TEST_USER")
password=$(enc "$MYWIRE_TEST_PASSWORD")
db=$(enc "$MYWIRE_TEST_DB")
tcp_uri="mysql://$user:$password@$MYWIRE_TEST_HOST:$MYWIRE_TEST_PORT/$db"
socket_uri="mysql://$user:$password@localhost/$db?socket=$(enc "$MYWIRE_TEST_SOCKET")"

expected='1+1: 2
hello: hello
NULL: NULL'
status=0
for uri in "$tcp_uri" "$socket_uri"; do
    echo "consumer: ./example ${uri/:$password@/:***@}"
    rc=0
    out=$("$work/example" "$uri") || rc=$?
    [[ -z $out ]] || printf '%s\n' "$out"
    rows=$(printf '%s\n' "$out" | grep -v '^connected to ' || true)
    if [[ $rc -ne 0 ]]; then
        echo "consumer: example exited with $rc" >&2
        status=1
    elif [[ $rows != "$expected" ]]; then
        echo "consumer: unexpected output; wanted:" >&2
        printf '%s\n' "$expected" >&2
        status=1
    fi
done
exit $status
