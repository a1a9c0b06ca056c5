#!/usr/bin/env bash
# The Debian packages on a clean Debian 12 root that has nothing else of ours:
#
#   install_test.sh [--strip-depends PACKAGE] DEB...
#   install_test.sh --prepare
#
# 1. A minimal bookworm root (debootstrap --variant=minbase) with a C
#    toolchain and pkg-config (gcc, libc6-dev, pkgconf) and nothing of
#    mywire's dependencies, from the Debian mirror the host uses
#    (/etc/apt/sources.list*; MYWIRE_DEBIAN_MIRROR overrides it). It is cached
#    as a tarball under /var/cache/mywire (MYWIRE_CHROOT_CACHE), keyed by the
#    day, the mirror, the architecture and this file's package list: a fresh
#    machine, or the first run of a day, builds it anew; older tarballs are
#    removed.
# 2. In a copy of it (chroot, as root): apt-get update, then
#    `apt-get install ./*.deb`, which must resolve every dependency from the
#    mirror; then
#      - a C program builds with `gcc ... $(pkg-config --cflags --libs mywire)`
#        against /usr and runs (version, result code texts, a refused connect
#        to a unix socket that does not exist: no server, no network),
#      - `mywire --version` runs and names this version, its man page is there,
#      - with python3-mywire / lua-mywire among the packages: python3 and
#        lua5.4 load the module,
#      - every file the packages and their dependencies added is listed by
#        `dpkg -L` of some package;
#    then the packages are purged (and the dependencies they pulled in
#    autoremoved), and the root must hold exactly the files it held before
#    (compared as lists of paths and types).
#
# --prepare only makes sure the cached root exists (tests/packaging/run.sh
# builds it while the packages build).
# --strip-depends PACKAGE removes PACKAGE's Depends before installing, to show
# that a missing runtime dependency fails this test (it must then exit 1).
#
# Needs root (chroot, mount), debootstrap and the mirror. Exits 77 when not
# root or debootstrap is missing (skipped). Prints one "ok"/"FAIL" line per
# check.
set -euo pipefail

strip_depends=
prepare_only=0
if [[ ${1:-} == --strip-depends ]]; then
    strip_depends=$2
    shift 2
elif [[ ${1:-} == --prepare ]]; then
    prepare_only=1
    shift
fi
[[ $# -gt 0 || $prepare_only -eq 1 ]] ||
    { echo "usage: $0 --prepare | [--strip-depends PACKAGE] DEB..." >&2; exit 2; }
debs=()
for deb in "$@"; do
    [[ -f $deb ]] || { echo "install_test: no such file: $deb" >&2; exit 2; }
    debs+=("$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")")
done

if [[ $(id -u) -ne 0 ]]; then
    echo "install_test: needs root (debootstrap, chroot); skipped"
    exit 77
fi
if ! command -v debootstrap >/dev/null; then
    echo "install_test: debootstrap is not installed (tests/server/deps.txt); skipped"
    exit 77
fi

suite=bookworm
arch=$(dpkg --print-architecture)
# What the root holds besides minbase: enough to build and link a C program
# with pkg-config. Nothing that mywire depends on at run time.
toolchain=(gcc libc6-dev pkgconf)
cache_dir=${MYWIRE_CHROOT_CACHE:-/var/cache/mywire}

# The host's Debian sources for $suite (main, -updates, -security), one
# "URI SUITE" line each, from the one-line and the deb822 formats.
host_sources() {
    python3 - "$suite" <<'PY'
import glob, re, sys
suite = sys.argv[1]
entries = []
def add(uris, suites, components):
    if 'main' not in components:
        return
    for uri in uris:
        for s in suites:
            if s == suite or s.startswith(suite + '-'):
                entries.append((uri.rstrip('/'), s))
for path in ['/etc/apt/sources.list'] + sorted(glob.glob('/etc/apt/sources.list.d/*.list')):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        line = re.sub(r'\[[^]]*\]', ' ', line.split('#', 1)[0]).split()
        if len(line) >= 4 and line[0] == 'deb':
            add([line[1]], [line[2]], line[3:])
for path in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
    for stanza in re.split(r'\n\s*\n', open(path).read()):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith('#') or ':' not in line or line[0].isspace():
                continue
            key, value = line.split(':', 1)
            fields[key.strip().lower()] = value.split()
        if 'deb' in fields.get('types', []) and fields.get('enabled', ['yes'])[0] != 'no':
            add(fields.get('uris', []), fields.get('suites', []), fields.get('components', []))
seen = set()
for entry in entries:
    if entry not in seen:
        seen.add(entry)
        print(*entry)
PY
}

mapfile -t sources < <(host_sources)
mirror=${MYWIRE_DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
    for line in "${sources[@]}"; do
        if [[ ${line#* } == "$suite" ]]; then
            mirror=${line%% *}
            break
        fi
    done
fi
if [[ -z $mirror ]]; then
    echo "install_test: no Debian $suite mirror in /etc/apt/sources.list*; set MYWIRE_DEBIAN_MIRROR" >&2
    exit 1
fi
# The root's own sources: the same entries as the host (the mirror for
# $suite itself), so that what the packages were built against resolves.
root_sources() {
    local line uri s
    printf 'deb %s %s main\n' "$mirror" "$suite"
    for line in "${sources[@]}"; do
        uri=${line%% *} s=${line#* }
        [[ $s == "$suite" ]] || printf 'deb %s %s main\n' "$uri" "$s"
    done
}

work=$(mktemp -d "${TMPDIR:-/tmp}/mywire-install.XXXXXX")
root=$work/root
mounted=()
cleanup() {
    local m
    for m in "${mounted[@]}"; do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT

in_root() {
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "$@"
}
mount_root() {
    mount -t proc proc "$root/proc" && mounted=("$root/proc" "${mounted[@]}")
    mount --bind /dev "$root/dev" && mounted=("$root/dev" "${mounted[@]}")
}
unmount_root() {
    local m
    for m in "${mounted[@]}"; do
        umount -l "$m"
    done
    mounted=()
}

# ---------------------------------------------------------------- the root
key=$(printf '%s\n' "$suite" "$arch" "$mirror" "${toolchain[*]}" "$(root_sources)" | sha256sum | cut -c1-12)
tarball=$cache_dir/chroot-$suite-$arch-$(date -u +%Y%m%d)-$key.tar
started=$SECONDS
if [[ -f $tarball ]]; then
    echo "install_test: cached root $tarball"
else
    echo "install_test: building a $suite root from $mirror (debootstrap --variant=minbase)"
    mkdir -p "$root"
    if ! debootstrap --variant=minbase --arch="$arch" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
        tail -n 30 "$work/debootstrap.log" >&2
        echo "install_test: debootstrap failed" >&2
        exit 1
    fi
    root_sources >"$root/etc/apt/sources.list"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    # No service is started inside the root.
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    mount_root
    { in_root apt-get update && in_root apt-get install -y --no-install-recommends "${toolchain[@]}"; } \
        >"$work/toolchain.log" 2>&1 || {
        tail -n 30 "$work/toolchain.log" >&2
        echo "install_test: installing ${toolchain[*]} in the root failed" >&2
        exit 1
    }
    in_root apt-get clean
    unmount_root
    mkdir -p "$cache_dir"
    # Only a complete tarball gets the cache's name; older ones go.
    find "$cache_dir" -maxdepth 1 -name "chroot-$suite-$arch-*.tar" -delete
    tar -C "$root" --numeric-owner -cf "$tarball.tmp.$$" .
    mv "$tarball.tmp.$$" "$tarball"
    rm -rf --one-file-system -- "$root"
    echo "install_test: root built and cached in $((SECONDS - started))s ($(du -h "$tarball" | cut -f1))"
fi
if [[ $prepare_only -eq 1 ]]; then
    exit 0
fi
mkdir -p "$root"
tar -C "$root" --numeric-owner -xf "$tarball"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount_root
echo "install_test: root ready in $((SECONDS - started))s"

# ---------------------------------------------------------------- checks
passed=0 failed=0
# check NAME COMMAND...: one "ok" or "FAIL" line; the output shown on failure
# (check_shown: always).
check() {
    local name=$1 show=${show:-0}
    shift
    if "$@" >"$work/check.log" 2>&1; then
        [[ $show -eq 0 ]] || sed 's/^/     | /' "$work/check.log"
        echo "ok   $name"
        passed=$((passed + 1))
    else
        sed 's/^/     | /' "$work/check.log"
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
}
check_shown() {
    show=1 check "$@"
}

# Paths and types of everything in the root but the package managers' state
# and caches, the logs and the mounted or temporary trees.
snapshot() {
    (cd "$root" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./sys -o -path ./run \
        -o -path ./tmp -o -path ./var/tmp -o -path ./var/lib/dpkg -o -path ./var/lib/apt \
        -o -path ./var/cache -o -path ./var/log -o -path ./root \) -prune -o -printf '%y %p\n' |
        LC_ALL=C sort)
}

mkdir -p "$root/tmp/debs"
names=()
for deb in "${debs[@]}"; do
    name=$(dpkg-deb -f "$deb" Package)
    names+=("$name")
    if [[ $name == "$strip_depends" ]]; then
        # A package that forgot a dependency: the same files, no Depends.
        dpkg-deb -R "$deb" "$work/stripped"
        sed -i '/^Depends:/d' "$work/stripped/DEBIAN/control"
        dpkg-deb -b "$work/stripped" "$root/tmp/debs/$(basename "$deb")" >/dev/null
        rm -rf "$work/stripped"
        echo "install_test: $name installed without its Depends (--strip-depends)"
    else
        cp "$deb" "$root/tmp/debs/"
    fi
done

in_root apt-get update >"$work/update.log" 2>&1 || {
    tail -n 20 "$work/update.log" >&2
    echo "install_test: apt-get update in the root failed" >&2
    exit 1
}
# The Lua module's test needs the interpreter, which the module does not
# depend on: part of the root, like the C toolchain.
for name in "${names[@]}"; do
    if [[ $name == lua-mywire ]]; then
        in_root apt-get install -y --no-install-recommends lua5.4 >"$work/lua.log" 2>&1 ||
            { tail -n 20 "$work/lua.log" >&2; echo "install_test: installing lua5.4 failed" >&2; exit 1; }
    fi
done
snapshot >"$work/before"
in_root dpkg-query -W -f '${Package}\n' | LC_ALL=C sort >"$work/packages-before"

check "apt-get install ./*.deb resolves the dependencies" \
    in_root sh -c 'cd /tmp/debs && apt-get install -y --no-install-recommends ./*.deb'
in_root dpkg-query -W -f '${Package}\n' | LC_ALL=C sort >"$work/packages-after"
echo "install_test: installed $(comm -13 "$work/packages-before" "$work/packages-after" | tr '\n' ' ')"

version=$(dpkg-deb -f "${debs[0]}" Version)
upstream=${version%-*}
upstream=${upstream#*:}

cat >"$root/tmp/consumer.c" <<'EOF'
/* Built against the installed libmywire-dev with pkg-config only. */
#include <mywire.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    mywire_conn *conn = NULL;
    int rc;

    printf("library %s (%u), header %s (%u)\n", mywire_version(), mywire_version_number(),
           MYWIRE_VERSION_STRING, (unsigned)MYWIRE_VERSION_NUMBER);
    if (mywire_version_number() != MYWIRE_VERSION_NUMBER)
        return 1;
    printf("MYWIRE_ERROR_ARGUMENT: %s\n", mywire_errstr(MYWIRE_ERROR_ARGUMENT));
    if (mywire_conn_new(&conn) != MYWIRE_OK)
        return 1;
    if (mywire_set_option(conn, "no_such_key", "1") == MYWIRE_OK)
        return 1;
    printf("unknown option: %s\n", mywire_errmsg(conn));
    /* A unix socket that does not exist: refused without a server or a network. */
    rc = mywire_connect_uri(conn, "mysql://nobody@localhost/test?socket=/nonexistent/mywire.sock");
    printf("connect: %s: %s\n", mywire_errstr(rc), mywire_errmsg(conn));
    if (rc == MYWIRE_OK || mywire_is_connected(conn))
        return 1;
    mywire_conn_free(conn);
    mywire_conn_free(NULL);
    return 0;
}
EOF
check "pkg-config --modversion mywire is $upstream" \
    in_root sh -c "test \"\$(pkg-config --modversion mywire)\" = '$upstream'"
check "a C program builds with pkg-config --cflags --libs mywire" \
    in_root sh -c 'cd /tmp && gcc -Wall -Wextra -Werror consumer.c $(pkg-config --cflags --libs mywire) -o consumer'
# The program must load libmywire1's file (/lib is /usr/lib on bookworm: the
# real path is what dpkg knows).
cat >"$root/tmp/run_consumer.sh" <<'EOF'
set -e
cd /tmp
lib=$(ldd ./consumer | awk '/libmywire\.so\.1 / { print $3 }')
echo "libmywire.so.1 => $lib"
dpkg -S "$(readlink -f "$lib")" | grep '^libmywire1:'
./consumer
EOF
check_shown "the C program loads libmywire1's libmywire.so.1 and runs" in_root sh /tmp/run_consumer.sh
check_shown "mywire --version runs and says $upstream" \
    in_root sh -c "mywire --version && mywire --version | grep -qF 'mywire $upstream (libmywire $upstream)'"
check "mywire --help runs" in_root sh -c 'mywire --help >/dev/null'
check "the man page mywire(1) is installed" in_root test -s /usr/share/man/man1/mywire.1.gz
# The bindings' packages, when given.
for name in "${names[@]}"; do
    case $name in
    python3-mywire)
        check_shown 'python3 -c "import mywire" loads the module' \
            in_root python3 -c 'import mywire; print(mywire.__file__)'
        ;;
    lua-mywire)
        check_shown "lua5.4 -e 'require \"mywire\"' loads the module" \
            in_root lua5.4 -e 'local m = require "mywire"; print(type(m))'
        ;;
    esac
done

# Every path the installation added belongs to a package (dpkg -L).
snapshot >"$work/installed"
unlisted() {
    # dpkg -L names the paths as the packages ship them: under merged /usr
    # (Debian 12) /lib, /bin and /sbin are links into /usr, so each listed
    # path counts under both names.
    in_root sh -c 'dpkg-query -W -f "\${Package}\n" | xargs dpkg -L' | sed 's|^|.|' |
        sed -e 'p' -e 's#^\./\(lib\|lib64\|bin\|sbin\)/#./usr/\1/#' | LC_ALL=C sort -u >"$work/listed"
    # Not any package's files, by design: the byte code that python3's
    # maintainer scripts compile (py3compile; removed again by py3clean on
    # purge, which the check after this one shows) and the directories its
    # postinst makes (and the configuration file it writes, /etc/python3/debian_config).
    comm -13 "$work/before" "$work/installed" | cut -d' ' -f2- |
        grep -vE '/__pycache__(/|$)|^\./usr/local/lib/python3[^/]*(/dist-packages)?$|^\./var/lib/python(/python3[^/]*_installed)?$|^\./etc/python3(/debian_config)?$' |
        LC_ALL=C sort >"$work/added"
    local extra
    extra=$(comm -23 "$work/added" "$work/listed" | grep -vxF . || true)
    if [[ -n $extra ]]; then
        echo "not listed by dpkg -L of any package:"
        printf '%s\n' "$extra"
        return 1
    fi
    echo "$(wc -l <"$work/added") paths added, each listed by dpkg -L"
}
check_shown "every installed file is listed by dpkg -L" unlisted

purge() {
    in_root apt-get purge -y "${names[@]}" && in_root apt-get autoremove --purge -y
}
check "apt-get purge (and autoremove of what they pulled in) works" purge
leftovers() {
    snapshot >"$work/after"
    if ! diff "$work/before" "$work/after"; then
        echo "(< only before installing, > only after purging)"
        return 1
    fi
    in_root dpkg-query -W -f '${Package}\n' | LC_ALL=C sort >"$work/packages-purged"
    diff "$work/packages-before" "$work/packages-purged"
}
check "removing the packages leaves nothing behind" leftovers

unmount_root
echo "install_test: $((SECONDS - started))s in all"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
