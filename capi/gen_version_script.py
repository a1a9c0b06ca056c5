#!/usr/bin/env python3
"""Turn capi/mywire.sym (one exported symbol a line, '#' comments) into a linker version script."""
import sys

src, dst = sys.argv[1], sys.argv[2]
names = []
with open(src) as f:
    for line in f:
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line.split()[0])
with open(dst, 'w') as f:
    f.write('MYWIRE_0 {\n  global:\n')
    for n in names:
        f.write('    %s;\n' % n)
    f.write('  local:\n    *;\n};\n')
