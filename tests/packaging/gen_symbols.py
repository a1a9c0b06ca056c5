#!/usr/bin/env python3
"""debian/libmywire<N>.symbols from capi/mywire.sym: every exported symbol
with the release whose version node introduced it (node MYWIRE_0.3 is
release 0.3.0), as dpkg-gensymbols compares it with the built library (the
package build fails on any difference: debian/rules, dh_makeshlibs -c4).

  gen_symbols.py --write              regenerate debian/libmywire<N>.symbols
  gen_symbols.py --check SYM SYMBOLS CHANGELOG VERSION SONAME
                                      (the meson test 'debian_symbols')

--check fails when SYMBOLS is not exactly what SYM gives (a node or a symbol
added, moved or removed on one side only, a hand edit), or when the newest
debian/changelog entry is not for VERSION (the project's version): packages
built against a new node's symbols depend on that release, so the package
must be that release too.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'capi'))
import gen_version_script  # noqa: E402  (the mywire.sym parser)


def package_of(soname):
    m = re.fullmatch(r'lib(\w+)\.so\.(\d+)', soname)
    if not m:
        raise ValueError('cannot name the package of SONAME %s' % soname)
    return 'lib%s%s' % m.groups()


def release_of(node):
    major, minor = node[len('MYWIRE_'):].split('.')
    return '%d.%d.0' % (int(major), int(minor))


def generate(symfile, soname):
    nodes = gen_version_script.parse(symfile)
    entries = []
    for node, symbols in nodes:
        release = release_of(node)
        # The version definition itself is a symbol too (dpkg-gensymbols
        # lists it): a program linked against a node's symbols needs it.
        entries.append(('%s@%s' % (node, node), release))
        entries.extend(('%s@%s' % (name, node), release) for name in symbols)
    lines = [
        '# Generated from capi/mywire.sym by tests/packaging/gen_symbols.py --write;',
        '# do not edit (the meson test debian_symbols checks it). Each symbol with',
        '# the release whose version node introduced it.',
        '%s %s #MINVER#' % (soname, package_of(soname)),
        '* Build-Depends-Package: libmywire-dev',
    ]
    lines.extend(' %s %s' % entry for entry in sorted(entries))
    return '\n'.join(lines) + '\n'


def changelog_version(path):
    with open(path) as f:
        m = re.match(r'\S+ \(([^)]+)\)', f.readline())
    if not m:
        raise ValueError('%s: the first line names no version' % path)
    version = m.group(1)
    version = version.split(':', 1)[-1]          # epoch
    return version.rsplit('-', 1)[0] if '-' in version else version


def soname_from_meson():
    with open(os.path.join(ROOT, 'tests', 'abi', 'meson.build')) as f:
        return re.search(r"expected_soname = '([^']+)'", f.read()).group(1)


def main(argv):
    if argv[1:] == ['--write']:
        soname = soname_from_meson()
        out = os.path.join(ROOT, 'debian', package_of(soname) + '.symbols')
        with open(out, 'w') as f:
            f.write(generate(os.path.join(ROOT, 'capi', 'mywire.sym'), soname))
        print('wrote %s' % out)
        return 0
    if len(argv) != 7 or argv[1] != '--check':
        sys.exit(__doc__)
    symfile, symbols, changelog, version, soname = argv[2:]
    problems = []
    try:
        expected = generate(symfile, soname)
    except ValueError as e:
        print('debian_symbols: %s' % e)
        return 1
    expected_path = os.path.join(os.path.dirname(symbols), package_of(soname) + '.symbols')
    if os.path.abspath(symbols) != os.path.abspath(expected_path):
        problems.append('the symbols file of SONAME %s is %s, not %s'
                        % (soname, os.path.basename(expected_path), symbols))
    try:
        with open(symbols) as f:
            actual = f.read()
    except OSError as e:
        actual = ''
        problems.append('cannot read %s: %s' % (symbols, e))
    if actual and actual != expected:
        want = set(expected.splitlines())
        have = set(actual.splitlines())
        for line in sorted(want - have):
            problems.append('%s lacks "%s"' % (symbols, line.strip()))
        for line in sorted(have - want):
            problems.append('%s has "%s", which %s does not give' % (symbols, line.strip(), symfile))
        if want == have:
            problems.append('%s has the right lines in the wrong order' % symbols)
    try:
        packaged = changelog_version(changelog)
        if packaged != version:
            problems.append('debian/changelog is for %s, the project for %s: add an entry '
                            '(dch -v %s-1)' % (packaged, version, version))
    except (OSError, ValueError) as e:
        problems.append(str(e))
    if problems:
        for problem in problems:
            print('debian_symbols: ' + problem)
        print('debian_symbols: regenerate the symbols file with python3 tests/packaging/gen_symbols.py --write')
        return 1
    count = sum(1 for line in expected.splitlines() if line.startswith(' '))
    print('debian_symbols: %s agrees with %s (%d symbols in %d nodes); debian/changelog is for %s'
          % (os.path.basename(symbols), os.path.basename(symfile), count,
             len(gen_version_script.parse(symfile)), version))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
