#!/usr/bin/python3
"""Check the hand-written FFI declarations of the bindings against capi/mywire.h.

    check_ffi.py HEADER BINDING...
    check_ffi.py --self-test HEADER BINDING...

Each BINDING is KIND[,all]=PATH:
    cdef    C declarations in Lua long strings (LuaJIT's ffi.cdef blocks)
    ctypes  a Python module's ctypes signature table (the dict `sig` of the
            function `load`, as in tests/scripted/mywire_ctypes.py)
    rust    a Rust module of `extern "C"` declarations (`pub fn`), `pub const`
            constants and `#[repr(C)]` structs
",all" means the binding must declare the whole header (every function,
every struct, every enum constant); without it, what it declares must match.
A PATH that does not exist is skipped (a binding not merged yet). Adding a
binding is one more argument in bindings/meson.build (and, for a new kind of
file, one parser in PARSERS). Go needs none: cgo compiles the header itself.

What is compared, at the level of the ABI: each function's return type and
parameter types in order (the parameter count included; `const` is not part
of the ABI and is ignored), each struct's field names and types in order
(their layout), each enum constant's and numeric #define's value; a function
a binding declares that the header does not have is an error too.

--self-test also breaks copies of the header and of each binding on purpose
(a parameter added, a type changed, a constant renumbered, a field changed,
a function dropped) and fails unless the check catches every one.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import tempfile

# ------------------------------------------------------------------ C types

C_KEYWORDS = {"const", "volatile", "unsigned", "signed", "int", "char", "short", "long",
              "float", "double", "void", "struct", "enum"}


def strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def canon_type(tokens):
    """ABI-level canonical text of a C type given as tokens ('*' separate):
    no const/volatile/struct, 'unsigned' -> 'unsigned int', ... """
    toks = [t for t in tokens if t not in ("const", "volatile", "struct", "enum")]
    base, stars = [], 0
    for t in toks:
        if t == "*":
            stars += 1
        else:
            base.append(t)
    b = " ".join(base)
    b = {"unsigned": "unsigned int", "signed": "int", "signed int": "int",
         "long int": "long", "unsigned long int": "unsigned long",
         "long long int": "long long", "unsigned long long int": "unsigned long long",
         "short int": "short", "unsigned short int": "unsigned short",
         "signed char": "signed char"}.get(b, b)
    return b + " *" * stars


def split_params(text):
    depth, cur, out = 0, "", []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def param_type(text, known_types):
    toks = re.findall(r"[A-Za-z_]\w*|\*", text)
    if len(toks) > 1 and toks[-1] != "*" and toks[-1] not in C_KEYWORDS \
            and toks[-1] not in known_types and not toks[-1].endswith("_t"):
        toks = toks[:-1]  # the parameter's name
    return canon_type(toks)


def parse_c(text, api_macro=None):
    """Functions, structs, enum constants, numeric #defines and function
    pointer typedefs of C declarations (mywire_ / MYWIRE_ names only)."""
    defines = {}
    for m in re.finditer(r"^\s*#\s*define\s+(MYWIRE_\w+)\s+(\(?-?(?:0x[0-9A-Fa-f]+|\d+)\)?)\s*$",
                         strip_c_comments(text), flags=re.M):
        defines[m.group(1)] = int(m.group(2).strip("()"), 0)
    strings = {}
    for m in re.finditer(r'^\s*#\s*define\s+(MYWIRE_\w+)\s+"((?:[^"\\]|\\.)*)"\s*$',
                         strip_c_comments(text), flags=re.M):
        strings[m.group(1)] = m.group(2)
    body = strip_c_comments(text)
    body = "\n".join(line for line in body.split("\n") if not line.strip().startswith("#"))
    if api_macro:
        body = re.sub(r"\b%s\b" % api_macro, " ", body)
    body = re.sub(r'extern\s+"C"\s*\{', " ", body)
    body = "\n".join(line for line in body.split("\n") if line.strip() != "}")
    model = {"functions": {}, "structs": {}, "constants": dict(defines), "fnptrs": {},
             "defines": set(defines), "strings": strings}
    known = {"size_t"}
    for m in re.finditer(r"typedef\s+struct\s+(\w+)\s*(\{[^}]*\})?\s*(\w+)\s*;", body):
        known.add(m.group(3))
    # enums (named or not, typedef'd or not)
    for m in re.finditer(r"\benum\b\s*(\w+)?\s*\{([^}]*)\}", body):
        value = -1
        for item in m.group(2).split(","):
            item = item.strip()
            if not item:
                continue
            name, _, expr = item.partition("=")
            name = name.strip()
            value = int(expr.strip(), 0) if expr.strip() else value + 1
            if name.startswith("MYWIRE_"):
                model["constants"][name] = value
    # structs with a body
    for m in re.finditer(r"\bstruct\s+(\w+)\s*\{([^}]*)\}\s*(\w*)\s*;", body):
        name = m.group(3) or m.group(1)
        if not name.startswith("mywire_"):
            continue
        fields = []
        for decl in m.group(2).split(";"):
            decl = decl.strip()
            if not decl:
                continue
            # "T a, b, c" or "T *a"
            names = [n.strip() for n in decl.split(",")]
            first = re.findall(r"[A-Za-z_]\w*|\*", names[0])
            base = first[:-1]
            base_no_stars = [t for t in base if t != "*"]
            fields.append((first[-1], canon_type(base)))
            for extra in names[1:]:
                et = re.findall(r"[A-Za-z_]\w*|\*", extra)
                fields.append((et[-1], canon_type(base_no_stars + et[:-1])))
        model["structs"][name] = fields
    # function pointer typedefs
    for m in re.finditer(r"typedef\s+([\w\s\*]+?)\(\s*\*\s*(mywire_\w+)\s*\)\s*\(([^;]*)\)\s*;",
                         body):
        ret = canon_type(re.findall(r"[A-Za-z_]\w*|\*", m.group(1)))
        params = [param_type(p, known) for p in split_params(m.group(3))]
        if params == ["void"]:
            params = []
        model["fnptrs"][m.group(2)] = (ret, params)
        known.add(m.group(2))
    # functions: "<ret> mywire_name(<params>);" at the top level
    flat = re.sub(r"\{[^{}]*\}", ";", body)  # struct/enum bodies out of the way
    for stmt in flat.split(";"):
        stmt = " ".join(stmt.split())
        if stmt.startswith("typedef"):
            continue
        m = re.match(r"^(?:extern\s+)?([\w\s\*]*?[\w\*])\s*\b(mywire_\w+)\s*\((.*)\)$", stmt)
        if not m:
            continue
        ret = canon_type(re.findall(r"[A-Za-z_]\w*|\*", m.group(1)))
        params = [param_type(p, known) for p in split_params(m.group(3))]
        if params == ["void"]:
            params = []
        model["functions"][m.group(2)] = (ret, params)
    return model


def parse_header(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    model = parse_c(text, api_macro="MYWIRE_API")
    # every MYWIRE_API outside the preprocessor lines starts one prototype
    model["api_count"] = len(re.findall(r"^(?!\s*#).*?\bMYWIRE_API\b",
                                        strip_c_comments(text), flags=re.M))
    return model


# ------------------------------------------------------------ binding kinds

def parse_cdef(path):
    """LuaJIT: every [[...]] long string given to ffi.cdef (directly or
    through a variable assigned a long string and passed to ffi.cdef)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    blocks = re.findall(r"ffi\.cdef\s*\(?\s*\[(=*)\[(.*?)\]\1\]", text, flags=re.S)
    chunks = [b[1] for b in blocks]
    for var in re.findall(r"ffi\.cdef\s*\(\s*(\w+)\s*\)", text):
        for b in re.findall(r"\b%s\s*=\s*\[(=*)\[(.*?)\]\1\]" % re.escape(var), text, flags=re.S):
            chunks.append(b[1])
    if not chunks:
        raise ValueError("no ffi.cdef declarations found")
    return parse_c("\n".join(chunks))


CTYPES_SCALARS = {
    "c_int": "int", "c_uint": "unsigned int", "c_long": "long", "c_ulong": "unsigned long",
    "c_longlong": "long long", "c_ulonglong": "unsigned long long",
    "c_int8": "int8_t", "c_int16": "int16_t", "c_int32": "int32_t", "c_int64": "int64_t",
    "c_uint8": "uint8_t", "c_uint16": "uint16_t", "c_uint32": "uint32_t", "c_uint64": "uint64_t",
    "c_size_t": "size_t", "c_ssize_t": "ssize_t", "c_double": "double", "c_float": "float",
    "c_short": "short", "c_ushort": "unsigned short", "c_byte": "signed char",
    "c_ubyte": "unsigned char", "c_char": "char", "c_bool": "_Bool",
    "c_void_p": "void *", "c_char_p": "char *",
}
# the same widths on the platforms mywire builds for (LP64)
ABI_ALIASES = {"unsigned long": "uint64_t", "long": "int64_t", "unsigned long long": "uint64_t",
               "long long": "int64_t", "size_t": "uint64_t", "unsigned int": "uint32_t",
               "int": "int32_t", "short": "int16_t", "unsigned short": "uint16_t",
               "signed char": "int8_t", "unsigned char": "uint8_t"}


def parse_ctypes(path):
    """The ctypes table: {name: (restype, [argtypes])} in the function load(),
    with module- and function-level aliases (P = ctypes.c_void_p, ...),
    CFUNCTYPE prototypes and Structure classes resolved."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    aliases, structs = {}, {}
    sig = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == "sig" and isinstance(node.value, ast.Dict):
                sig = node.value
            else:
                aliases.setdefault(name, node.value)
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "_fields_" for t in item.targets):
                    structs[node.name] = item.value
    if sig is None:
        raise ValueError("no `sig = {...}` table found")

    def resolve(expr, depth=0):
        if depth > 20:
            raise ValueError("alias loop")
        if isinstance(expr, ast.Constant) and expr.value is None:
            return "void"
        if isinstance(expr, ast.Attribute) and expr.attr in CTYPES_SCALARS:
            return CTYPES_SCALARS[expr.attr]
        if isinstance(expr, ast.Name):
            if expr.id in CTYPES_SCALARS:
                return CTYPES_SCALARS[expr.id]
            if expr.id in structs:
                fields = []
                for elt in structs[expr.id].elts:
                    fields.append((elt.elts[0].value, resolve(elt.elts[1], depth + 1)))
                return ("struct", expr.id, fields)
            if expr.id in aliases:
                return resolve(aliases[expr.id], depth + 1)
            raise ValueError("unknown ctypes name %s" % expr.id)
        if isinstance(expr, ast.Call):
            fn = expr.func.attr if isinstance(expr.func, ast.Attribute) else expr.func.id
            if fn == "POINTER":
                return ("ptr", resolve(expr.args[0], depth + 1))
            if fn == "CFUNCTYPE":
                parts = [resolve(a, depth + 1) for a in expr.args]
                return ("fn", parts[0], parts[1:])
        raise ValueError("cannot read the ctypes type %s" % ast.dump(expr))

    model = {"functions": {}, "structs": {}, "constants": {}, "fnptrs": {}, "defines": set(),
             "ctypes": True}
    for k, v in zip(sig.keys, sig.values):
        name = k.value
        if not (isinstance(v, ast.Tuple) and len(v.elts) == 2 and isinstance(v.elts[1], ast.List)):
            raise ValueError("%s: expected (restype, [argtypes])" % name)
        model["functions"][name] = (resolve(v.elts[0]), [resolve(a) for a in v.elts[1].elts])
    return model


RUST_SCALARS = {
    "c_int": "int", "c_uint": "unsigned int", "c_long": "long", "c_ulong": "unsigned long",
    "c_longlong": "long long", "c_ulonglong": "unsigned long long", "c_char": "char",
    "c_uchar": "unsigned char", "c_schar": "signed char", "c_short": "short",
    "c_ushort": "unsigned short", "c_double": "double", "c_float": "float", "c_void": "void",
    "i8": "int8_t", "i16": "int16_t", "i32": "int32_t", "i64": "int64_t", "u8": "uint8_t",
    "u16": "uint16_t", "u32": "uint32_t", "u64": "uint64_t", "usize": "size_t",
    "size_t": "size_t", "isize": "ssize_t", "f64": "double", "f32": "float",
}


def rust_type(text):
    text = text.strip()
    text = re.sub(r"^(?:::)?(?:(?:std|core)::(?:os::raw|ffi)::|libc::)", "", text)
    m = re.match(r"^Option\s*<\s*(.*)>$", text)
    if m:  # Option<fn pointer typedef>: a nullable function pointer
        return rust_type(m.group(1))
    m = re.match(r"^\*\s*(const|mut)\s+(.*)$", text)
    if m:
        return rust_type(m.group(2)) + " *"
    if text in ("()", ""):
        return "void"
    text = re.sub(r"^(?:::)?(?:(?:std|core)::(?:os::raw|ffi)::|libc::)", "", text)
    if text in RUST_SCALARS:
        return RUST_SCALARS[text]
    return text  # a mywire_ type name


def parse_rust(path):
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"//[^\n]*", " ", f.read())
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    model = {"functions": {}, "structs": {}, "constants": {}, "fnptrs": {}, "defines": set()}
    for m in re.finditer(r"\bpub\s+fn\s+(mywire_\w+)\s*\(([^)]*)\)\s*(?:->\s*([^;{]+?))?\s*;",
                         text):
        params = []
        for p in split_params(m.group(2)):
            if ":" in p:
                params.append(canon_type(rust_type(p.split(":", 1)[1]).split()))
        ret = canon_type(rust_type(m.group(3) or "()").split())
        model["functions"][m.group(1)] = (ret, params)
    for m in re.finditer(r"\bpub\s+const\s+(MYWIRE_\w+)\s*:\s*[\w:]+\s*=\s*(-?(?:0x[0-9A-Fa-f_]+|[\d_]+))",
                         text):
        model["constants"][m.group(1)] = int(m.group(2).replace("_", ""), 0)
    model["strings"] = {}
    for m in re.finditer(r'\bpub\s+const\s+(MYWIRE_\w+)\s*:\s*&(?:\'static\s+)?(?:str|\[u8\])\s*=\s*'
                         r'b?"((?:[^"\\]|\\.)*)"', text):
        value = m.group(2)
        if value.endswith("\\0"):
            value = value[:-2]
        model["strings"][m.group(1)] = value
    for m in re.finditer(r"\bpub\s+struct\s+(mywire_\w+)\s*\{([^}]*)\}", text):
        fields = []
        for f in m.group(2).split(","):
            if ":" in f:
                fname, ftype = f.split(":", 1)
                fname = fname.replace("pub", "").strip()
                if fname.startswith("r#"):  # a raw identifier (type is a keyword)
                    fname = fname[2:]
                fields.append((fname, canon_type(rust_type(ftype).split())))
        model["structs"][m.group(1)] = fields
    for m in re.finditer(r"\bpub\s+type\s+(mywire_\w+)\s*=\s*(?:Option\s*<\s*)?(?:unsafe\s+)?"
                         r"extern\s+\"C\"\s+fn\s*\(([^)]*)\)\s*(?:->\s*([\w:\*\s]+))?", text):
        params = [canon_type(rust_type(p.split(":", 1)[1]).split())
                  for p in split_params(m.group(2)) if ":" in p]
        model["fnptrs"][m.group(1)] = (canon_type(rust_type(m.group(3) or "()").split()), params)
    return model


PARSERS = {"cdef": parse_cdef, "ctypes": parse_ctypes, "rust": parse_rust}

# --------------------------------------------------------------- comparing


def abi(t):
    """The ABI class of a canonical C type."""
    if t.endswith("*"):
        return "ptr"
    return ABI_ALIASES.get(t, t)


def ctypes_matches(ctype, ctext, header, where, problems):
    """Whether the ctypes type (from parse_ctypes) fits the C type text."""
    if isinstance(ctype, str):
        if ctype == "void *":
            return ctext.endswith("*") or ctext in header["fnptrs"]
        if ctype == "char *":
            return ctext in ("char *", "void *")
        return ctext != "void" and abi(ctype) == abi(ctext) or (ctype == ctext == "void")
    kind = ctype[0]
    if kind == "ptr":
        if not ctext.endswith("*"):
            return False
        inner = ctext[:-2]
        target = ctype[1]
        if isinstance(target, tuple) and target[0] == "struct":
            fields = header["structs"].get(inner)
            if fields is None:
                return False
            if len(fields) != len(target[2]):
                problems.append("%s: struct %s has %d fields, the header's %s has %d"
                                % (where, target[1], len(target[2]), inner, len(fields)))
                return True
            for (hn, ht), (cn, ct) in zip(fields, target[2]):
                if hn != cn or not ctypes_matches(ct, ht, header, where, problems):
                    problems.append("%s: struct %s field %s (%s) != header's %s %s"
                                    % (where, target[1], cn, ct, hn, ht))
            return True
        if isinstance(target, str) and target in ("char", "unsigned char"):
            return inner in ("char", "void", "unsigned char")
        return inner.endswith("*") and (target == "void *" or not isinstance(target, str)) \
            or ctypes_matches(target, inner, header, where, problems)
    if kind == "fn":
        fp = header["fnptrs"].get(ctext)
        if fp is None:
            return False
        ret, params = fp
        if len(params) != len(ctype[2]):
            return False
        return ctypes_matches(ctype[1], ret, header, where, problems) and all(
            ctypes_matches(c, h, header, where, problems) for c, h in zip(ctype[2], params))
    return False


def same_c(a, b, header):
    """Two canonical C types are the same at the ABI level."""
    if a == b:
        return True
    if a.endswith("*") and b.endswith("*"):
        return a == b or a.replace("void *", "") == b.replace("void *", "")
    return abi(a) == abi(b) and not (a in header["fnptrs"] or b in header["fnptrs"])


def compare(header, model, label, complete):
    problems = []
    is_ctypes = model.get("ctypes", False)
    for name, (bret, bparams) in sorted(model["functions"].items()):
        h = header["functions"].get(name)
        where = "%s: %s" % (label, name)
        if h is None:
            problems.append("%s: not in the header" % where)
            continue
        hret, hparams = h
        if len(bparams) != len(hparams):
            problems.append("%s: %d parameters, the header has %d (%s)"
                            % (where, len(bparams), len(hparams), ", ".join(hparams) or "void"))
            continue
        if is_ctypes:
            if not ctypes_matches(bret, hret, header, where, problems):
                problems.append("%s: returns %s, the header %s" % (where, bret, hret))
            for i, (b, h2) in enumerate(zip(bparams, hparams)):
                if not ctypes_matches(b, h2, header, where, problems):
                    problems.append("%s: parameter %d is %s, the header's %s"
                                    % (where, i + 1, b, h2))
        else:
            if not same_c(bret, hret, header):
                problems.append("%s: returns %s, the header %s" % (where, bret, hret))
            for i, (b, h2) in enumerate(zip(bparams, hparams)):
                if not same_c(b, h2, header):
                    problems.append("%s: parameter %d is %s, the header's %s"
                                    % (where, i + 1, b, h2))
    for name, fields in sorted(model["structs"].items()):
        h = header["structs"].get(name)
        if h is None:
            continue  # a helper struct of the binding's own
        bf = [(n, t) for n, t in fields]
        if [n for n, _ in bf] != [n for n, _ in h]:
            problems.append("%s: struct %s fields %s, the header's %s"
                            % (label, name, [n for n, _ in bf], [n for n, _ in h]))
        else:
            for (n, t), (_, ht) in zip(bf, h):
                if not same_c(t, ht, header):
                    problems.append("%s: struct %s field %s is %s, the header's %s"
                                    % (label, name, n, t, ht))
    for name, (ret, params) in sorted(model["fnptrs"].items()):
        h = header["fnptrs"].get(name)
        if h is None:
            problems.append("%s: function type %s not in the header" % (label, name))
        elif len(params) != len(h[1]) or not same_c(ret, h[0], header) or not all(
                same_c(a, b, header) for a, b in zip(params, h[1])):
            problems.append("%s: function type %s is %s(%s), the header's %s(%s)"
                            % (label, name, ret, ", ".join(params), h[0], ", ".join(h[1])))
    for name, value in sorted(model["constants"].items()):
        if name not in header["constants"]:
            problems.append("%s: constant %s not in the header" % (label, name))
        elif header["constants"][name] != value:
            problems.append("%s: %s = %d, the header's is %d"
                            % (label, name, value, header["constants"][name]))
    for name, value in sorted(model.get("strings", {}).items()):
        if header["strings"].get(name) != value:
            problems.append("%s: %s = %r, the header's is %r"
                            % (label, name, value, header["strings"].get(name)))
    if complete:
        for name in sorted(set(header["functions"]) - set(model["functions"])):
            problems.append("%s: %s is not declared" % (label, name))
        for name in sorted(set(header["structs"]) - set(model["structs"])):
            problems.append("%s: struct %s is not declared" % (label, name))
        for name in sorted(set(header["fnptrs"]) - set(model["fnptrs"])):
            problems.append("%s: function type %s is not declared" % (label, name))
        wanted = set(header["constants"]) - header["defines"]
        for name in sorted(wanted - set(model["constants"])):
            problems.append("%s: constant %s is not declared" % (label, name))
    return problems


def parse_binding_arg(arg):
    spec, sep, path = arg.partition("=")
    if not sep:
        raise SystemExit("binding %r: expected KIND[,all]=PATH" % arg)
    kind, _, flag = spec.partition(",")
    if kind not in PARSERS:
        raise SystemExit("binding %r: unknown kind %r (known: %s)" % (arg, kind, ", ".join(PARSERS)))
    if flag not in ("", "all"):
        raise SystemExit("binding %r: unknown flag %r" % (arg, flag))
    return kind, flag == "all", path


def check(header_path, bindings, quiet=False):
    """bindings: [(kind, complete, path)]. Returns the problems (a list)."""
    header = parse_header(header_path)
    if len(header["functions"]) != header["api_count"] or len(header["functions"]) < 10:
        return ["%s: %d MYWIRE_API prototypes but %d functions read: the header parser "
                "needs updating" % (header_path, header["api_count"], len(header["functions"]))]
    problems = []
    for kind, complete, path in bindings:
        if not os.path.exists(path):
            if not quiet:
                print("skip %s %s (absent)" % (kind, path))
            continue
        try:
            model = PARSERS[kind](path)
        except (ValueError, SyntaxError, KeyError, AttributeError, IndexError) as e:
            problems.append("%s: cannot be read: %s" % (path, e))
            continue
        if not model["functions"]:
            problems.append("%s: no mywire functions found" % path)
            continue
        found = compare(header, model, path, complete)
        problems += found
        if not quiet:
            print("%s %s: %d functions, %d constants, %d structs checked%s" % (
                "FAIL" if found else "ok", path, len(model["functions"]),
                len(model["constants"]), len(model["structs"]), " (complete)" if complete else ""))
    return problems


# ---------------------------------------------------------------- self-test

# (file to break: "header" or a binding kind, pattern, replacement, what)
MUTATIONS = [
    ("header", r"MYWIRE_API int mywire_ping\(mywire_conn \*conn\);",
     "MYWIRE_API int mywire_ping(mywire_conn *conn, int flags);", "a parameter added"),
    ("header", r"MYWIRE_API uint64_t mywire_affected_rows\(",
     "MYWIRE_API uint32_t mywire_affected_rows(", "a return type changed"),
    ("header", r"MYWIRE_ERROR_CONVERSION = 19", "MYWIRE_ERROR_CONVERSION = 20",
     "a constant renumbered"),
    ("header", r"    unsigned decimals;\n", "    unsigned decimals;\n    unsigned extra;\n",
     "a struct field added"),
    ("header", r"MYWIRE_API int mywire_set_port\(mywire_conn \*conn, unsigned port\);",
     "MYWIRE_API int mywire_set_port(mywire_conn *conn, uint64_t port);",
     "a parameter type changed"),
    ("cdef", r"int mywire_stmt_bind_int32\(mywire_stmt \*stmt, unsigned index, int32_t value\);",
     "int mywire_stmt_bind_int32(mywire_stmt *stmt, unsigned index, int64_t value);",
     "a parameter type changed"),
    ("cdef", r"MYWIRE_TYPE_JSON = 245", "MYWIRE_TYPE_JSON = 244", "a constant renumbered"),
    ("cdef", r"int mywire_fetch\(mywire_result \*res\);\n", "", "a function dropped"),
    ("cdef", r"    size_t len;\n\} mywire_value;", "    unsigned len;\n} mywire_value;",
     "a struct field's type changed"),
    ("cdef", r"int mywire_query\(mywire_conn \*conn, const char \*sql, size_t len, int mode,",
     "int mywire_query(mywire_conn *conn, const char *sql, int mode,", "a parameter dropped"),
    ("ctypes", r'"mywire_set_port": \(I, \[P, U\]\)', '"mywire_set_port": (I, [P, ctypes.c_uint64])',
     "a parameter type changed"),
    ("ctypes", r'"mywire_query": \(I, \[P, S, ctypes.c_size_t, I, ctypes.POINTER\(P\)\]\)',
     '"mywire_query": (I, [P, S, I, ctypes.POINTER(P)])', "a parameter dropped"),
    ("ctypes", r'"mywire_errno": \(U, \[P\]\)', '"mywire_errno": (S, [P])',
     "a return type changed"),
    ("ctypes", r'\("len", ctypes.c_size_t\)', '("len", ctypes.c_uint)',
     "a struct field's type changed"),
    ("ctypes", r'"mywire_ping": \(I, \[P\]\)', '"mywire_pong": (I, [P])',
     "a function the header does not have"),
    # Rust (bindings/rust/src/sys.rs, written on another branch): regular
    # expressions over the usual bindgen-like spelling; a pattern that no
    # longer matches fails the self-test loudly ("update MUTATIONS").
    ("rust", r"(pub\s+fn\s+mywire_query\s*\([^)]*?),\s*\w+\s*:\s*[^,)]+,?\s*\)", r"\1)",
     "a parameter dropped"),
    ("rust", r"(pub\s+fn\s+mywire_affected_rows\s*\([^)]*\)\s*->\s*)[\w:]+", r"\1u32",
     "a return type changed"),
    ("rust", r"(pub\s+const\s+MYWIRE_ERROR_STATE\s*:\s*[\w:]+\s*=\s*)12\b", r"\g<1>13",
     "a constant renumbered"),
]
# (replacements with a backslash are re.sub templates, the others literal text)


def self_test(header_path, bindings):
    failures = []
    problems = check(header_path, bindings, quiet=True)
    if problems:
        failures.append("the unmodified files fail:\n  " + "\n  ".join(problems))
    present = {kind: (complete, path) for kind, complete, path in bindings if os.path.exists(path)}
    with tempfile.TemporaryDirectory() as tmp:
        for target, pattern, replacement, what in MUTATIONS:
            if target != "header" and target not in present:
                continue
            src = header_path if target == "header" else present[target][1]
            with open(src, encoding="utf-8") as f:
                text = f.read()
            repl = replacement if "\\" in replacement else (lambda _m, r=replacement: r)
            broken, n = re.subn(pattern, repl, text, count=1)
            if n != 1:
                failures.append("%s (%s): the pattern %r is not in %s any more: update MUTATIONS"
                                % (target, what, pattern, src))
                continue
            copy = os.path.join(tmp, os.path.basename(src))
            with open(copy, "w", encoding="utf-8") as f:
                f.write(broken)
            if target == "header":
                found = check(copy, bindings, quiet=True)
            else:
                found = check(header_path, [(k, c, copy if k == target else p)
                                            for k, c, p in bindings], quiet=True)
            if found:
                print("ok: %s in %s caught: %s" % (what, target, found[0]))
            else:
                failures.append("%s in %s was not caught" % (what, target))
    return failures


def main(argv):
    args = argv[1:]
    selftest = False
    if args and args[0] == "--self-test":
        selftest = True
        args = args[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    header_path = args[0]
    bindings = [parse_binding_arg(a) for a in args[1:]]
    if selftest:
        failures = self_test(header_path, bindings)
        for f in failures:
            print("FAIL: " + f)
        return 1 if failures else 0
    problems = check(header_path, bindings)
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
