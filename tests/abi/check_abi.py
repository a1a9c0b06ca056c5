#!/usr/bin/env python3
"""Check that the built library, capi/mywire.sym and capi/mywire.h agree on the
exported API, that only mywire_* functions are exported, each under a MYWIRE_<n>
symbol version, and that the SONAME is the expected one.

usage: check_abi.py LIBRARY SYMFILE HEADER EXPECTED_SONAME PROJECT_VERSION
"""
import re
import subprocess
import sys


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def parse_version(text):
    return tuple(int(part) for part in text.split('.'))


def library_exports(lib, problems):
    """Return the names of the defined dynamic symbols, checking their kind
    and version on the way."""
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
            continue  # the version node itself, e.g. "A MYWIRE_0"
        names.append(name)
        if not name.startswith('mywire_'):
            problems.append('exported symbol %s does not start with mywire_' % name)
        if kind != 'T':
            problems.append('exported symbol %s is of kind %s, not a function (T)' % (name, kind))
        if not re.fullmatch(r'MYWIRE_[0-9]+', version):
            problems.append('exported symbol %s has version "%s", not MYWIRE_<n>'
                            % (name, version))
    return names


def symfile_names(path, project_version, problems):
    names = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            where = '%s:%d' % (path, number)
            if len(fields) != 2 or not re.fullmatch(r'[0-9]+\.[0-9]+\.[0-9]+', fields[1]):
                problems.append('%s: expected "symbol version", got "%s"' % (where, line))
                continue
            if parse_version(fields[1]) > project_version:
                problems.append('%s: %s introduced in %s, after this release'
                                % (where, fields[0], fields[1]))
            names.append(fields[0])
    return names


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
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    lib, symfile, header, expected_soname, project_version = sys.argv[1:]
    problems = []

    dynamic = run('readelf', '-d', lib)
    sonames = re.findall(r'Library soname: \[([^\]]*)\]', dynamic)
    if sonames != [expected_soname]:
        problems.append('SONAME is %s, expected %s' % (sonames or 'missing', expected_soname))

    lists = {
        'library': library_exports(lib, problems),
        'mywire.sym': symfile_names(symfile, parse_version(project_version), problems),
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
    print('abi: %d symbols agree in the library, mywire.sym and mywire.h; SONAME %s'
          % (len(everything), expected_soname))
    return 0


if __name__ == '__main__':
    sys.exit(main())
