#!/usr/bin/env bash
# The ABI of the built library against the last release's, by libabigail.
#
#   abi_check.sh check LIBRARY HEADERS_DIR BASELINE   (the meson test 'abidiff')
#   abi_check.sh dump LIBRARY HEADERS_DIR OUT         (write a new baseline)
#
# Both sides are dumped the same way: abidw over the library's DWARF, keeping
# only the types mywire.h defines (private_types.abignore drops the rest; the
# handles are opaque) and loading the types no exported function reaches too
# (the enums, passed as int). 'check' then runs abidiff of BASELINE against
# LIBRARY's dump:
#   - an added function passes, and is listed;
#   - a removed function, a changed function type, a changed type of mywire.h
#     (a struct's members, sizes or offsets; an enumerator's value, or one
#     removed) fails; what the ABI policy allows beyond added functions and
#     added enumerators is listed in allowed_changes.abignore.
# Exits 77 (meson: skipped) when abidw/abidiff (abigail-tools) are missing or
# the library has no debug information to read the types from.
#
# The baseline moves only at a release: see README "ABI and versioning
# policy" (tests/abi/update_baseline.sh).
set -euo pipefail

usage() {
    echo "usage: $0 check|dump LIBRARY HEADERS_DIR BASELINE|OUT" >&2
    exit 2
}
[[ $# -eq 4 ]] || usage
mode=$1 lib=$2 headers=$3 file=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

for tool in abidw abidiff readelf; do
    if ! command -v "$tool" >/dev/null; then
        echo "abi_check: $tool not found (Debian: abigail-tools, binutils); skipped"
        exit 77
    fi
done
if ! readelf -S --wide "$lib" | grep -q '\.debug_info'; then
    echo "abi_check: $lib has no debug information (built without -g); the types"
    echo "abi_check: cannot be compared: skipped (configure with -Ddebug=true)"
    exit 77
fi

# The dump: no paths, no compilation directory, short locations, so that it
# does not depend on where the library was built.
dump() {
    abidw --headers-dir "$headers" --drop-private-types --load-all-types \
        --suppressions "$here/private_types.abignore" \
        --no-corpus-path --no-comp-dir-path --short-locs --no-elf-needed \
        --out-file "$2" "$1"
}

case $mode in
dump)
    dump "$lib" "$file"
    echo "abi_check: wrote $file ($(grep -c "<elf-symbol name=" "$file") symbols)"
    exit 0
    ;;
check) ;;
*) usage ;;
esac

[[ -f $file ]] || { echo "abi_check: no baseline $file" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
dump "$lib" "$work/current.abi"
# The baseline is of one architecture (the release's build on amd64): on
# another one the sizes differ by nature.
arch_of() { sed -n "s/^<abi-corpus [^>]*architecture='\([^']*\)'.*/\1/p" "$1" | head -n 1; }
if [[ $(arch_of "$file") != "$(arch_of "$work/current.abi")" ]]; then
    echo "abi_check: the baseline is for $(arch_of "$file"), this library for" \
        "$(arch_of "$work/current.abi"): skipped"
    exit 77
fi

diff_args=(--non-reachable-types --suppressions "$here/allowed_changes.abignore"
    --suppressions "$here/cxx_types.abignore")
# Exit status: a bit mask; 1 abidiff failed, 2 usage error, 4 an ABI change,
# 8 an incompatible change (a removed function).
rc=0
abidiff "${diff_args[@]}" "$file" "$work/current.abi" >"$work/report" 2>&1 || rc=$?
if ((rc & 3)); then
    cat "$work/report"
    echo "abi_check: abidiff failed (exit status $rc)" >&2
    exit 1
fi
# An ABI change (4) passes only if everything it reports was added: the
# summary lines of functions, variables and unreachable types (the enums and
# structs of mywire.h) must show no removed and no changed entity.
verdict=ok
if ((rc != 0)); then
    verdict=$(python3 - "$work/report" "$rc" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
lines = re.findall(r'^(Functions|Variables) changes summary: (\d+) Removed, (\d+) Changed'
                   r'|^Unreachable types summary: (\d+) removed(?: \(\d+ filtered out\))?, (\d+) changed', text, re.M)
if int(sys.argv[2]) & 8 or len(lines) < 3:
    print('incompatible')
elif any(int(n) for line in lines for n in line[1:] if n):
    print('changed')
else:
    print('ok')
PY
    )
fi
if [[ $verdict != ok ]]; then
    cat "$work/report"
    echo "abi_check: the ABI changed against the last release's baseline $(basename "$file")" \
        "(abidiff exit status $rc; $verdict): see above" >&2
    exit 1
fi
added=$(grep -E "^  \[A\] '" "$work/report" | sed -e "s/^  \[A\] '//" -e "s/'.*//" || true)
if [[ -n $added ]]; then
    echo "abi_check: compatible; added since the baseline:"
    printf '%s\n' "$added" | sed 's/^/  /'
else
    echo "abi_check: no function or type added, removed or changed against the baseline"
fi
# What libabigail calls harmless (enumerators added, ...), for the log.
harmless=0
abidiff "${diff_args[@]}" --harmless "$file" "$work/current.abi" >"$work/harmless" 2>&1 || harmless=$?
if ((harmless != 0)); then
    echo "abi_check: abidiff --harmless:"
    sed 's/^/  | /' "$work/harmless"
fi
exit 0
