#!/usr/bin/env python3
"""Turn capi/mywire.sym into a linker version script: one node per release,
each inheriting the one before.

mywire.sym: '#' starts a comment; a line "[MYWIRE_<major>.<minor>]" starts a
node; every other line is one symbol of the current node.

usage: gen_version_script.py mywire.sym OUTPUT
       (imported by tests/abi/check_abi.py for parse())
"""
import re
import sys

NODE = re.compile(r'\[(MYWIRE_(\d+)\.(\d+))\]')
SYMBOL = re.compile(r'mywire_[a-z0-9_]+')


def parse(path):
    """[(node, [symbols])] in file order; raises ValueError on a bad line."""
    nodes = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            where = '%s:%d' % (path, number)
            m = NODE.fullmatch(line)
            if m:
                version = (int(m.group(2)), int(m.group(3)))
                if nodes and version <= nodes[-1][2]:
                    raise ValueError('%s: node %s is not after %s' % (where, m.group(1), nodes[-1][0]))
                nodes.append((m.group(1), [], version))
            elif SYMBOL.fullmatch(line):
                if not nodes:
                    raise ValueError('%s: symbol %s before the first [MYWIRE_x.y] line' % (where, line))
                nodes[-1][1].append(line)
            else:
                raise ValueError('%s: expected "[MYWIRE_x.y]" or one symbol name, got "%s"' % (where, line))
    return [(name, symbols) for name, symbols, _ in nodes]


def main():
    src, dst = sys.argv[1], sys.argv[2]
    try:
        nodes = parse(src)
    except ValueError as e:
        sys.exit(str(e))
    out = []
    previous = None
    for i, (name, symbols) in enumerate(nodes):
        out.append('%s {\n' % name)
        if symbols:
            out.append('  global:\n')
            out.extend('    %s;\n' % s for s in symbols)
        if i == 0:
            out.append('  local:\n    *;\n')
        out.append('}%s;\n' % (' ' + previous if previous else ''))
        previous = name
    with open(dst, 'w') as f:
        f.writelines(out)


if __name__ == '__main__':
    main()
