#!/usr/bin/env python3
"""Write bindings/rust/src/sys.rs: the raw Rust declarations of capi/mywire.h
(every MYWIRE_API function, every enum constant and version macro, every
struct and opaque handle, the callback type), generated from the header so
that a header change cannot silently break the crate.

usage: gen_sys.py HEADER OUTPUT          write OUTPUT
       gen_sys.py --check HEADER FILE    exit 1 unless FILE is what would be
                                         written (the committed sys.rs is
                                         current), printing a diff

Fails on any declaration it cannot translate (a new C type, a function
declared in a form it does not know) instead of skipping it.
"""
import difflib
import re
import sys

# C scalar types of the header and their Rust spellings.
SCALARS = {
    'void': 'c_void',
    'char': 'c_char',
    'int': 'c_int',
    'unsigned': 'c_uint',
    'unsigned int': 'c_uint',
    'unsigned long': 'c_ulong',
    'size_t': 'usize',
    'float': 'f32',
    'double': 'f64',
    'int8_t': 'i8',
    'int16_t': 'i16',
    'int32_t': 'i32',
    'int64_t': 'i64',
    'uint8_t': 'u8',
    'uint16_t': 'u16',
    'uint32_t': 'u32',
    'uint64_t': 'u64',
}

# The Rust type of each enum's constants: the type the header's functions and
# struct fields carry them in (column types and flags, server status flags are
# unsigned there; every other enum travels as int).
ENUM_TYPES = {
    'mywire_field_type': 'c_uint',
    'mywire_column_flag': 'c_uint',
    'mywire_status_flag': 'c_uint',
}


# C names that are Rust keywords are written as raw identifiers.
RUST_KEYWORDS = {'as', 'break', 'const', 'continue', 'crate', 'else', 'enum', 'extern', 'false', 'fn',
                 'for', 'if', 'impl', 'in', 'let', 'loop', 'match', 'mod', 'move', 'mut', 'pub', 'ref',
                 'return', 'self', 'static', 'struct', 'super', 'trait', 'true', 'type', 'unsafe', 'use',
                 'where', 'while', 'async', 'await', 'dyn', 'box', 'yield', 'try', 'macro', 'gen'}


def ident(name):
    return 'r#' + name if name in RUST_KEYWORDS else name


class HeaderError(Exception):
    pass


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return re.sub(r'//[^\n]*', ' ', text)


def rust_type(ctype, names):
    """Translate a C type without a declarator name ("const char **")."""
    t = ' '.join(ctype.replace('*', ' * ').split())
    stars = t.count('*')
    base = t.replace('*', ' ').split()
    const = False
    while 'const' in base:
        # Only "const T *..." (the pointee is const) occurs in the header;
        # "T *const" would need more care.
        if t.find('const') > t.find('*') >= 0:
            raise HeaderError('unsupported const placement in "%s"' % ctype)
        base.remove('const')
        const = True
    base = ' '.join(base)
    if base in SCALARS:
        r = SCALARS[base]
    elif base in names:
        r = base
    else:
        raise HeaderError('unknown C type "%s" (in "%s")' % (base, ctype))
    if stars == 0:
        if const:
            raise HeaderError('a const value type "%s"' % ctype)
        if r == 'c_void':
            raise HeaderError('void value type "%s"' % ctype)
        return r
    r = ('*const ' if const else '*mut ') + r
    for _ in range(stars - 1):
        r = '*mut ' + r
    return r


def split_declarator(decl):
    """'const char *name' -> ('const char *', 'name')."""
    decl = decl.strip()
    m = re.fullmatch(r'(.*?[\s*])(\w+)', decl, flags=re.S)
    if not m:
        raise HeaderError('cannot split declarator "%s"' % decl)
    return m.group(1).strip(), m.group(2)


def params(text, names):
    """A parameter list -> [(name, rust type)]."""
    text = ' '.join(text.split())
    if text == 'void':
        return []
    out = []
    for p in text.split(','):
        ctype, name = split_declarator(p)
        out.append((ident(name), rust_type(ctype, names)))
    return out


def parse(path):
    with open(path) as f:
        text = strip_comments(f.read())
    model = {'macros': [], 'enums': [], 'opaque': [], 'structs': [], 'callbacks': [], 'functions': []}

    for name, value in re.findall(r'#define\s+(MYWIRE_VERSION_\w+)\s+(\S+)', text):
        model['macros'].append((name, value))
    if not model['macros']:
        raise HeaderError('no MYWIRE_VERSION_* macros in %s' % path)

    for tag, body in re.findall(r'\benum\s+(\w+)\s*\{(.*?)\}\s*;', text, flags=re.S):
        values = []
        for item in body.split(','):
            item = item.strip()
            m = re.fullmatch(r'(MYWIRE_\w+)\s*=\s*(0[xX][0-9a-fA-F]+|[0-9]+)', item)
            if not m:
                raise HeaderError('enum %s: "%s" is not "MYWIRE_NAME = number"' % (tag, item))
            values.append((m.group(1), int(m.group(2), 0), m.group(2)))
        model['enums'].append((tag, values))

    names = set()
    for tag, name in re.findall(r'typedef\s+struct\s+(\w+)\s+(\w+)\s*;', text):
        if tag != name:
            raise HeaderError('typedef struct %s %s: tag and name differ' % (tag, name))
        model['opaque'].append(name)
        names.add(name)
    struct_bodies = re.findall(r'typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;', text, flags=re.S)
    for tag, _, name in struct_bodies:
        names.add(name)
    for tag, body, name in struct_bodies:
        if tag != name:
            raise HeaderError('typedef struct %s {...} %s: tag and name differ' % (tag, name))
        fields = []
        for decl in body.split(';'):
            decl = ' '.join(decl.split())
            if not decl:
                continue
            # "size_t a, b, c" and "const char *name"
            first, *rest = decl.split(',')
            ctype, fname = split_declarator(first)
            fields.append((ident(fname), rust_type(ctype, names)))
            base = ctype.rstrip('* ').strip()
            for r in rest:
                r = r.strip()
                stars = len(r) - len(r.lstrip('*'))
                fields.append((ident(r.lstrip('* ')), rust_type(base + ' ' + '*' * stars if stars else base, names)))
        model['structs'].append((name, fields))

    for ret, name, args in re.findall(r'typedef\s+([\w\s*]+?)\s*\(\s*\*\s*(\w+)\s*\)\s*\(([^)]*)\)\s*;', text):
        model['callbacks'].append((name, rust_type(ret, names) if ret.strip() != 'void' else None,
                                   params(args, names)))
        names.add(name)

    count = len(re.findall(r'\bMYWIRE_API\b', text)) - 2  # the two #defines of MYWIRE_API
    for ret, name, args in re.findall(r'\bMYWIRE_API\s+([\w\s*]+?)\s*\b(mywire_\w+)\s*\(([^)]*)\)\s*;', text):
        ret = ret.strip()
        model['functions'].append((name, None if ret == 'void' else rust_type(ret, names),
                                   params(args, names)))
    if len(model['functions']) != count:
        raise HeaderError('%d MYWIRE_API declarations but %d functions parsed' % (count, len(model['functions'])))
    return model


def render(model, header_name):
    out = []
    w = out.append
    w('// Generated by bindings/rust/gen_sys.py from %s; do not edit.' % header_name)
    w('// `python3 bindings/rust/gen_sys.py capi/mywire.h bindings/rust/src/sys.rs` regenerates it;')
    w('// the crate\'s tests and the meson test rust_sys check that it is current.')
    w('//! The raw C API of libmywire, declared exactly as capi/mywire.h declares it.')
    w('//!')
    w('//! Everything here is `unsafe` to call; the header documents each function.')
    w('//! The safe wrapper is the crate root.')
    w('#![allow(non_camel_case_types)]')
    w('')
    w('use std::marker::{PhantomData, PhantomPinned};')
    w('#[allow(unused_imports)]')
    w('use std::os::raw::{c_char, c_int, c_uint, c_ulong, c_void};')
    w('')
    for name, value in model['macros']:
        if value.startswith('"'):
            w('pub const %s: &str = %s;' % (name, value))
        else:
            w('pub const %s: c_uint = %s;' % (name, value))
    for tag, values in model['enums']:
        w('')
        rtype = ENUM_TYPES.get(tag, 'c_int')
        w('// enum %s' % tag)
        for name, _, spelled in values:
            w('pub const %s: %s = %s;' % (name, rtype, spelled))
    for name in model['opaque']:
        w('')
        w('#[repr(C)]')
        w('pub struct %s {' % name)
        w('    _private: [u8; 0],')
        w('    _marker: PhantomData<(*mut u8, PhantomPinned)>,')
        w('}')
    for name, fields in model['structs']:
        w('')
        w('#[repr(C)]')
        w('#[derive(Debug, Clone, Copy)]')
        w('pub struct %s {' % name)
        for fname, ftype in fields:
            w('    pub %s: %s,' % (fname, ftype))
        w('}')
    for name, ret, args in model['callbacks']:
        w('')
        sig = ', '.join('%s: %s' % a for a in args)
        w('pub type %s = Option<unsafe extern "C" fn(%s)%s>;' % (name, sig, ' -> ' + ret if ret else ''))
    w('')
    w('#[link(name = "mywire")]')
    w('extern "C" {')
    for name, ret, args in model['functions']:
        sig = ', '.join('%s: %s' % a for a in args)
        w('    pub fn %s(%s)%s;' % (name, sig, ' -> ' + ret if ret else ''))
    w('}')
    w('')
    w('/// Every function above: its name, its number of parameters and its address')
    w('/// (for the tests). Each cast compiles only if the declaration takes exactly')
    w('/// that many parameters, and taking the addresses makes the linker find every')
    w('/// function in libmywire.')
    w('pub fn functions() -> Vec<(&\'static str, usize, usize)> {')
    w('    vec![')
    for name, _, args in model['functions']:
        w('        ("%s", %d, (%s as unsafe extern "C" fn(%s) -> _) as usize),'
          % (name, len(args), name, ', '.join('_' for _ in args)))
    w('    ]')
    w('}')
    w('')
    w('/// Every constant above with its value (for the tests).')
    w('pub const CONSTANTS: &[(&str, i64)] = &[')
    for tag, values in model['enums']:
        for name, value, _ in values:
            w('    ("%s", %s as i64),' % (name, name))
    for name, value in model['macros']:
        if not value.startswith('"'):
            w('    ("%s", %s as i64),' % (name, name))
    w('];')
    return '\n'.join(out) + '\n'


def main(argv):
    check = len(argv) == 4 and argv[1] == '--check'
    if not check and len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    header, target = argv[-2], argv[-1]
    try:
        text = render(parse(header), 'capi/mywire.h')
    except HeaderError as e:
        print('gen_sys.py: %s: %s' % (header, e), file=sys.stderr)
        return 1
    if check:
        try:
            with open(target) as f:
                current = f.read()
        except OSError as e:
            print('gen_sys.py: %s' % e, file=sys.stderr)
            return 1
        if current != text:
            sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                                       target, 'regenerated from ' + header))
            print('gen_sys.py: %s is out of date: run gen_sys.py %s %s' % (target, header, target),
                  file=sys.stderr)
            return 1
        return 0
    with open(target, 'w') as f:
        f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
