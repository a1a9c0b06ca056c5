#!/usr/bin/env bash
# The release and the Debian packages, end to end (tests/run.sh runs this
# last; it needs no test server):
#
#   bash tests/packaging/run.sh
#
# 1. `meson dist` makes the release tarball from the committed tree (with
#    uncommitted changes it warns and leaves them out).
# 2. dist_test.sh: from that tarball, unpacked twice, the unit and abi suites
#    pass and the library builds byte-identical.
# 3. The Debian packages, as a distribution would build them: the tarball as
#    the .orig.tar.xz, `dpkg-buildpackage -us -uc -b` in the unpacked tree
#    (DEB_BUILD_OPTIONS=nocheck: the tests ran in step 2 and in tests/run.sh).
# 4. lintian on the binary packages (.changes) and on the source package
#    (dpkg-source -b): no error; warnings and the rest are listed.
# 5. install_test.sh: the packages on a clean Debian 12 root (its cached root
#    is prepared in the background from the start).
#
# Closes with "N passed, N failed[, N skipped]" over every check of the steps.
# Without root, or without the packaging tools (tests/server/deps.txt), the
# steps that need them are skipped, except under CI (CI=true), where that
# fails. Environment: MYWIRE_JOBS (default 2) build jobs; MYWIRE_PACKAGING_OUT
# a directory to copy the tarball and the packages to.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/tests/packaging
jobs=${MYWIRE_JOBS:-2}
started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/mywire-packaging.XXXXXX")
prepare_pid=
cleanup() {
    if [[ -n $prepare_pid ]]; then
        kill "$prepare_pid" 2>/dev/null || true
        wait "$prepare_pid" 2>/dev/null || true
    fi
    rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0 failed=0 skipped=0
step() { echo "== packaging: $* ($((SECONDS - started))s)"; }
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
skip() {
    if [[ ${CI:-} == true ]]; then
        fail "$* (skipped, but CI must run it)"
    else
        echo "SKIP $*"
        skipped=$((skipped + 1))
    fi
}
# sub NAME SCRIPT ARGS...: run a script of this directory that closes with
# "N passed, N failed"; add its counts (exit 77: skipped).
sub() {
    local name=$1
    shift
    local rc=0
    bash "$@" 2>&1 | tee "$work/$name.log" || rc=${PIPESTATUS[0]}
    if [[ $rc -eq 77 ]]; then
        skip "$name"
        return
    fi
    local counts p f
    counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/$name.log" | tail -n 1 || true)
    if [[ -z $counts ]]; then
        fail "$name exited with $rc and counted nothing"
        return
    fi
    p=${counts%% passed*}
    f=${counts#*passed, }
    f=${f%% failed*}
    passed=$((passed + p)) failed=$((failed + f))
    if [[ $rc -ne 0 && $f -eq 0 ]]; then
        fail "$name exited with $rc"
    fi
}

have_tools=1
for tool in dpkg-buildpackage dh lintian; do
    command -v "$tool" >/dev/null || { echo "packaging: $tool not found (tests/server/deps.txt)"; have_tools=0; }
done

# The clean root takes the longest to make on a fresh machine and needs
# mostly the network: start it now.
if [[ $(id -u) -eq 0 ]] && command -v debootstrap >/dev/null; then
    bash "$here/install_test.sh" --prepare >"$work/prepare.log" 2>&1 &
    prepare_pid=$!
fi

step "meson dist"
dist_build=$work/dist-build
tarball=
if meson setup "$dist_build" "$root" -Dtests=false >"$work/dist-setup.log" 2>&1 &&
    meson dist -C "$dist_build" --no-tests --allow-dirty --formats xztar >"$work/dist.log" 2>&1; then
    tarball=$(find "$dist_build/meson-dist" -name '*.tar.xz' | head -n 1)
    grep -i 'uncommitted' "$work/dist.log" || true
    ok "meson dist made $(basename "$tarball") ($(du -h "$tarball" | cut -f1))"
else
    cat "$work/dist-setup.log" "$work/dist.log" 2>/dev/null | tail -n 30
    fail "meson dist"
fi

if [[ -n $tarball ]]; then
    step "dist_test.sh (the tarball builds, tests, and builds reproducibly)"
    MYWIRE_JOBS=$jobs sub dist_test "$here/dist_test.sh" "$tarball"
fi

debs=()
if [[ -n $tarball && $have_tools -eq 1 ]]; then
    step "dpkg-buildpackage -us -uc -b"
    name=$(basename "$tarball" .tar.xz)             # mywire-0.4.0
    upstream=${name#mywire-}
    mkdir -p "$work/deb"
    cp "$tarball" "$work/deb/mywire_$upstream.orig.tar.xz"
    tar -C "$work/deb" -xf "$tarball"
    # The source package first, from the clean tree (the binary build leaves
    # its outputs in it).
    source_ok=0
    if (cd "$work/deb/$name" && dpkg-source -b .) >"$work/source.log" 2>&1; then
        source_ok=1
    else
        tail -n 20 "$work/source.log"
        fail "dpkg-source -b"
    fi
    if (cd "$work/deb/$name" &&
        DEB_BUILD_OPTIONS="nocheck parallel=$jobs" dpkg-buildpackage -us -uc -b) >"$work/deb.log" 2>&1; then
        mapfile -t debs < <(find "$work/deb" -maxdepth 1 -name '*.deb' ! -name '*-dbgsym_*' | sort)
        ok "dpkg-buildpackage -us -uc -b built $(cd "$work/deb" && ls ./*.deb | xargs -n1 basename | tr '\n' ' ')"
        grep -E '^dpkg-gensymbols: (warning|error)' "$work/deb.log" || true
    else
        tail -n 40 "$work/deb.log"
        fail "dpkg-buildpackage -us -uc -b"
    fi

    step "lintian"
    # As root (CI), lintian says that is not recommended: that line is left out.
    if [[ ${#debs[@]} -gt 0 ]]; then
        rc=0
        lintian --display-info --pedantic --fail-on error "$work/deb/"*.changes >"$work/lintian.log" 2>&1 || rc=$?
        grep -v 'running with root privileges' "$work/lintian.log" || true
        if [[ $rc -eq 0 ]]; then
            ok "lintian: no error in the binary packages ($(grep -cE '^W:' "$work/lintian.log" || true) warnings)"
        else
            fail "lintian on the binary packages (exit status $rc)"
        fi
    fi
    if [[ $source_ok -eq 1 ]]; then
        rc=0
        lintian --display-info --pedantic --fail-on error "$work/deb/"*.dsc >"$work/lintian-source.log" 2>&1 || rc=$?
        grep -v 'running with root privileges' "$work/lintian-source.log" || true
        if [[ $rc -eq 0 ]]; then
            ok "lintian: no error in the source package ($(grep -cE '^W:' "$work/lintian-source.log" || true) warnings)"
        else
            fail "lintian on the source package (exit status $rc)"
        fi
    fi
elif [[ $have_tools -eq 0 ]]; then
    skip "the Debian packages (debhelper, lintian missing)"
fi

if [[ ${#debs[@]} -gt 0 ]]; then
    step "install_test.sh (a clean Debian 12 root)"
    if [[ -n $prepare_pid ]]; then
        rc=0
        wait "$prepare_pid" || rc=$?
        prepare_pid=
        cat "$work/prepare.log"
        [[ $rc -eq 0 ]] || { fail "preparing the clean root (exit status $rc)"; }
    fi
    sub install_test "$here/install_test.sh" "${debs[@]}"
fi

if [[ -n ${MYWIRE_PACKAGING_OUT:-} ]]; then
    mkdir -p "$MYWIRE_PACKAGING_OUT"
    cp ${tarball:+"$tarball"} "$work/deb/"*.deb "$work/deb/"*.changes "$MYWIRE_PACKAGING_OUT/" 2>/dev/null || true
    echo "packaging: copied the tarball and the packages to $MYWIRE_PACKAGING_OUT"
fi

step "done"
summary="$passed passed, $failed failed"
[[ $skipped -eq 0 ]] || summary+=", $skipped skipped"
echo "$summary"
[[ $failed -eq 0 ]]
