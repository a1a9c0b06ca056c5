#!/usr/bin/env python3
"""Check that the built library, capi/mywire.sym and capi/mywire.h agree on the
exported API, that only mywire_* functions are exported, each under the symbol
version node mywire.sym puts it in (MYWIRE_0.1, MYWIRE_0.2, ...: one per
release, each inheriting the one before, none newer than this release), and
that the SONAME is the expected one; and that capi/mywire_constants.json is
what capi/gen_constants.py makes of the header's enums and core/proto/errc.def
(which must agree with each other).

usage: check_abi.py LIBRARY SYMFILE HEADER EXPECTED_SONAME PROJECT_VERSION ERRC_DEF CONSTANTS_JSON
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'capi'))
import gen_version_script  # noqa: E402  (capi/gen_version_script.py: the .sym parser)
import gen_constants  # noqa: E402  (capi/gen_constants.py: header + errc.def -> JSON)


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def parse_version(text):
    return tuple(int(part) for part in text.split('.'))


def library_exports(lib, problems):
    """Return {name: version node} of the defined dynamic symbols, checking
    their kind on the way."""
    entries = []
    for line in run('nm', '-D', '--defined-only', lib).splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        kind, full = fields[-2], fields[-1]
        name, _, version = full.partition('@')
        entries.append((kind, name, version.lstrip('@')))
    versions = {version for _, _, version in entries if version}
    names = []
    for kind, name, version in entries:
        if kind == 'A' and not version and name in versions:
            continue  # the version node itself, e.g. "A MYWIRE_0.1"
        names.append((name, version))
        if not name.startswith('mywire_'):
            problems.append('exported symbol %s does not start with mywire_' % name)
        if kind != 'T':
            problems.append('exported symbol %s is of kind %s, not a function (T)' % (name, kind))
    return names


def symfile_nodes(path, project_version, problems):
    """[(node, [symbols])] from mywire.sym, checked against this release."""
    try:
        nodes = gen_version_script.parse(path)
    except ValueError as e:
        problems.append(str(e))
        return []
    major_minor = project_version[:2]
    for node, _ in nodes:
        release = tuple(int(x) for x in node[len('MYWIRE_'):].split('.'))
        if release > major_minor:
            problems.append('%s: node %s is for a release after this one (%s)'
                            % (path, node, '.'.join(map(str, project_version))))
    if nodes and tuple(int(x) for x in nodes[-1][0][len('MYWIRE_'):].split('.')) != major_minor:
        problems.append('%s: the last node is %s, but this release (%s) needs MYWIRE_%d.%d'
                        % (path, nodes[-1][0], '.'.join(map(str, project_version)),
                           major_minor[0], major_minor[1]))
    return nodes


def version_definitions(lib):
    """[(node, parent or None)] from the library's version definitions."""
    out = run('readelf', '-V', '--wide', lib)
    section = out.split('.gnu.version_d', 1)
    if len(section) < 2:
        return []
    section = section[1].split('.gnu.version_r', 1)[0]
    defs = []
    for line in section.splitlines():
        m = re.search(r'Rev: \d+\s+Flags: (\S+)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)', line)
        if m:
            defs.append([m.group(2), None, m.group(1)])
            continue
        m = re.search(r'Parent 1: (\S+)', line)
        if m and defs:
            defs[-1][1] = m.group(1)
    # The first definition (flags BASE) is the file's own name, not a node.
    return [(name, parent) for name, parent, flags in defs if flags != 'BASE']


def header_names(path, problems):
    with open(path) as f:
        text = f.read()
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', ' ', text)
    text = re.sub(r'\\\n', ' ', text)
    text = re.sub(r'^[ \t]*#[^\n]*', ' ', text, flags=re.M)
    names = []
    # A declaration ends at ';'; struct bodies contain ';' too, but no calls.
    for statement in re.split(r'[;{}]', text):
        called = re.findall(r'\b(mywire_\w+)\s*\(', statement)
        if not called:
            continue
        if not re.search(r'\bMYWIRE_API\b', statement):
            problems.append('%s: %s is declared without MYWIRE_API' % (path, called[0]))
        names.append(called[0])
    return names


def duplicates(names):
    seen, dups = set(), set()
    for name in names:
        (dups if name in seen else seen).add(name)
    return sorted(dups)


def main():
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    lib, symfile, header, expected_soname, project_version, errc_def, constants = sys.argv[1:]
    problems = []

    try:
        expected = gen_constants.build(header, errc_def)
        with open(constants) as f:
            if f.read() != expected:
                problems.append('%s is out of date: regenerate it with python3 capi/gen_constants.py '
                                'capi/mywire.h core/proto/errc.def capi/mywire_constants.json' % constants)
    except ValueError as e:
        problems.append('the header and errc.def disagree: %s' % e)
    with open(header) as f:
        header_version = re.search(r'#define\s+MYWIRE_VERSION_STRING\s+"([^"]+)"', f.read())
    if not header_version or header_version.group(1) != project_version:
        problems.append('MYWIRE_VERSION_STRING is %s, the project version %s'
                        % (header_version and header_version.group(1), project_version))

    dynamic = run('readelf', '-d', lib)
    sonames = re.findall(r'Library soname: \[([^\]]*)\]', dynamic)
    if sonames != [expected_soname]:
        problems.append('SONAME is %s, expected %s' % (sonames or 'missing', expected_soname))

    exported = library_exports(lib, problems)
    nodes = symfile_nodes(symfile, parse_version(project_version), problems)
    node_of = {}
    for node, symbols in nodes:
        for name in symbols:
            node_of.setdefault(name, node)
    for name, version in exported:
        if name in node_of and version != node_of[name]:
            problems.append('exported symbol %s has version "%s", but mywire.sym puts it in %s'
                            % (name, version, node_of[name]))
    expected_defs = [(node, nodes[i - 1][0] if i else None) for i, (node, _) in enumerate(nodes)]
    defs = version_definitions(lib)
    if defs != expected_defs:
        problems.append('the library defines the version nodes %s, expected %s (each inheriting '
                        'the one before)' % (defs, expected_defs))

    lists = {
        'library': [name for name, _ in exported],
        'mywire.sym': [name for _, symbols in nodes for name in symbols],
        'mywire.h': header_names(header, problems),
    }
    for source, names in lists.items():
        for name in duplicates(names):
            problems.append('%s lists %s twice' % (source, name))
    sets = {source: set(names) for source, names in lists.items()}
    everything = set().union(*sets.values())
    for name in sorted(everything):
        missing = [source for source in sets if name not in sets[source]]
        if missing:
            present = [source for source in sets if name in sets[source]]
            problems.append('%s: in %s, missing from %s'
                            % (name, ' and '.join(present), ' and '.join(missing)))

    if problems:
        for problem in problems:
            print('abi: ' + problem)
        print('abi: %d problem(s)' % len(problems))
        return 1
    print('abi: %d symbols agree in the library, mywire.sym and mywire.h, in nodes %s; SONAME %s'
          % (len(everything), ', '.join(node for node, _ in nodes), expected_soname))
    return 0


if __name__ == '__main__':
    sys.exit(main())
