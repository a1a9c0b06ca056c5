#!/usr/bin/python3
"""Write (or check) the ffi.cdef block of bindings/luajit/mywire.lua from capi/mywire.h.

    gen_cdef.py HEADER LUA            rewrite LUA's block in place
    gen_cdef.py --check HEADER LUA    exit 1 when LUA's block is not what HEADER gives

The block is the text between the lines `local CDEF = [[` and `]]`: the
header's declarations in the header's order, without comments, preprocessor
lines, the C++ guard, or the MYWIRE_API marker -- C that LuaJIT's ffi.cdef
parses as it is. The constants that are #defines (the version numbers) are
not C declarations; the module takes them from mywire_version_number().
bindings/check_ffi.py checks the result against the header too, at the level
of the ABI.
"""

from __future__ import annotations

import re
import sys

BEGIN = "local CDEF = [["
END = "]]"


def strip_comments(text: str) -> str:
    # Block comments (newlines kept, so line structure survives), then line comments.
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def cdef_of(header: str) -> str:
    out = []
    skip = 0  # inside #ifdef __cplusplus ... #endif
    depth = 0  # preprocessor nesting inside that block
    for line in strip_comments(header).split("\n"):
        s = line.strip()
        if s.startswith("#"):
            word = s[1:].strip().split()
            directive = word[0] if word else ""
            if skip:
                if directive in ("if", "ifdef", "ifndef"):
                    depth += 1
                elif directive == "endif":
                    if depth == 0:
                        skip = 0
                    else:
                        depth -= 1
            elif directive == "ifdef" and word[1:2] == ["__cplusplus"]:
                skip, depth = 1, 0
            continue
        if skip:
            continue
        line = re.sub(r"\bMYWIRE_API\s+", "", line).rstrip()
        if line:  # declarations split over lines keep their layout
            out.append(line)
    return "\n".join(out) + "\n"


def replace_block(lua: str, block: str) -> str:
    lines = lua.split("\n")
    try:
        start = lines.index(BEGIN)
        end = lines.index(END, start + 1)
    except ValueError:
        raise SystemExit("gen_cdef.py: no `%s` ... `%s` block in the Lua file" % (BEGIN, END))
    return "\n".join(lines[: start + 1] + block.rstrip("\n").split("\n") + lines[end:])


def main(argv: list[str]) -> int:
    check = argv[:1] == ["--check"]
    args = argv[1:] if check else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    header_path, lua_path = args
    with open(header_path, encoding="utf-8") as f:
        block = cdef_of(f.read())
    with open(lua_path, encoding="utf-8") as f:
        lua = f.read()
    want = replace_block(lua, block)
    if check:
        if want != lua:
            print("gen_cdef.py: %s's ffi.cdef block is not the one %s gives; run\n"
                  "    python3 bindings/luajit/gen_cdef.py %s %s" % (lua_path, header_path, header_path, lua_path),
                  file=sys.stderr)
            return 1
        print("gen_cdef.py: %s's ffi.cdef block is up to date" % lua_path)
        return 0
    if want != lua:
        with open(lua_path, "w", encoding="utf-8") as f:
            f.write(want)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
