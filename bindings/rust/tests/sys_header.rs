// The raw declarations (src/sys.rs) against the public header and its
// constant list. Needs no server.
//  - src/sys.rs is exactly what gen_sys.py makes of capi/mywire.h today;
//  - independently of the generator: every MYWIRE_API function of the header
//    is in sys::functions() with the same number of parameters (and nothing
//    else is), every enum constant and MYWIRE_VERSION_* number has the same
//    value in sys::CONSTANTS, and so does every constant of
//    capi/mywire_constants.json;
//  - the library loaded is the version the header describes.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use mywire::sys;

fn source_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn header() -> String {
    std::fs::read_to_string(source_root().join("capi/mywire.h")).expect("capi/mywire.h")
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        out.push(' ');
        let end = rest[start..].find("*/").expect("an unterminated comment");
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out.lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n")
}

/// Every `MYWIRE_API ... name(params);` of the header: name -> parameter count.
fn header_functions(text: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for decl in text.split(';') {
        let Some(at) = decl.rfind("MYWIRE_API") else { continue };
        let decl = &decl[at + "MYWIRE_API".len()..];
        if decl.trim_start().starts_with("__attribute__") || !decl.contains('(') {
            continue; // the #define lines
        }
        let open = decl.find('(').unwrap();
        let close = decl.rfind(')').expect("a closing parenthesis");
        let name = decl[..open].split(|c: char| !(c.is_alphanumeric() || c == '_')).rfind(|w| !w.is_empty()).unwrap();
        let params = decl[open + 1..close].trim();
        let count = if params == "void" { 0 } else { params.split(',').count() };
        assert!(out.insert(name.to_string(), count).is_none(), "{name} declared twice");
    }
    out
}

/// Every `MYWIRE_NAME = number` inside an enum, and the numeric version macros.
fn header_constants(text: &str) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let mut rest = text;
    while let Some(at) = rest.find("enum ") {
        rest = &rest[at + 5..];
        let (Some(open), Some(close)) = (rest.find('{'), rest.find('}')) else { break };
        if open > close {
            continue;
        }
        for item in rest[open + 1..close].split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let (name, value) = item.split_once('=').unwrap_or_else(|| panic!("enum item without a value: {item}"));
            let value = value.trim();
            let v = match value.strip_prefix("0x").or_else(|| value.strip_prefix("0X")) {
                Some(hex) => i64::from_str_radix(hex, 16),
                None => value.parse(),
            }
            .unwrap_or_else(|_| panic!("not a number: {item}"));
            out.insert(name.trim().to_string(), v);
        }
        rest = &rest[close..];
    }
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() == 3 && words[0] == "#define" && words[1].starts_with("MYWIRE_VERSION_") {
            if let Ok(v) = words[2].parse() {
                out.insert(words[1].to_string(), v);
            }
        }
    }
    out
}

#[test]
fn sys_rs_is_generated_from_the_current_header() {
    let root = source_root();
    let out = Command::new("python3")
        .arg(root.join("bindings/rust/gen_sys.py"))
        .arg("--check")
        .arg(root.join("capi/mywire.h"))
        .arg(root.join("bindings/rust/src/sys.rs"))
        .output()
        .expect("run python3 gen_sys.py --check");
    assert!(
        out.status.success(),
        "src/sys.rs is out of date:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_header_function_is_declared_with_its_parameter_count() {
    let expected = header_functions(&strip_comments(&header()));
    assert!(expected.len() > 100, "the header parser found only {} functions", expected.len());
    let functions = sys::functions();
    for (name, _, address) in &functions {
        assert_ne!(*address, 0, "{name} has no address");
    }
    let declared: BTreeMap<String, usize> = functions.iter().map(|(n, c, _)| (n.to_string(), *c)).collect();
    assert_eq!(declared.len(), functions.len(), "a function listed twice");
    for (name, count) in &expected {
        assert_eq!(declared.get(name), Some(count), "{name}: {count} parameters in the header");
    }
    for name in declared.keys() {
        assert!(expected.contains_key(name), "{name} is declared but not in the header");
    }
}

#[test]
fn every_header_constant_has_its_value() {
    let expected = header_constants(&strip_comments(&header()));
    assert!(expected.len() > 80, "the header parser found only {} constants", expected.len());
    let declared: BTreeMap<String, i64> = sys::CONSTANTS.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    assert_eq!(declared, expected);
}

#[test]
fn constants_json_agrees() {
    // capi/mywire_constants.json: {"enums": {"tag": {"NAME": value, ...}, ...}, ...}
    let json = std::fs::read_to_string(source_root().join("capi/mywire_constants.json")).expect("constants json");
    let enums = &json[json.find("\"enums\"").expect("an enums object")..];
    let enums = &enums[..enums.find("\n  }").expect("the end of enums")];
    let declared: BTreeMap<&str, i64> = sys::CONSTANTS.iter().copied().collect();
    let mut seen = 0;
    for line in enums.lines() {
        let line = line.trim().trim_end_matches(',');
        let Some((name, value)) = line.split_once("\": ") else { continue };
        let name = name.trim_start_matches('"');
        let Ok(value) = value.parse::<i64>() else { continue };
        assert_eq!(declared.get(name), Some(&value), "{name} = {value} in mywire_constants.json");
        seen += 1;
    }
    let in_enums = declared.keys().filter(|n| !n.starts_with("MYWIRE_VERSION_")).count();
    assert_eq!(seen, in_enums, "mywire_constants.json and sys.rs list different constants");
}

#[test]
fn the_library_is_the_headers_version() {
    assert_eq!(mywire::library_version(), sys::MYWIRE_VERSION_STRING);
    assert_eq!(unsafe { sys::mywire_version_number() }, sys::MYWIRE_VERSION_NUMBER);
    assert_eq!(sys::functions().len(), header_functions(&strip_comments(&header())).len());
}

/// gen_sys.py --check on a changed copy of the header: (exit ok, output).
fn check_against(changed_header: &str, tag: &str) -> (bool, String) {
    let root = source_root();
    let path = std::env::temp_dir().join(format!("mywire-rs-{}-{tag}.h", std::process::id()));
    std::fs::write(&path, changed_header).unwrap();
    let out = Command::new("python3")
        .arg(root.join("bindings/rust/gen_sys.py"))
        .arg("--check")
        .arg(&path)
        .arg(root.join("bindings/rust/src/sys.rs"))
        .output()
        .expect("run python3 gen_sys.py --check");
    std::fs::remove_file(&path).unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_check_notices_header_changes() {
    let h = header();
    let end = h.rfind("#ifdef __cplusplus").unwrap();
    // A new function.
    let added = format!("{}MYWIRE_API int mywire_new_call(mywire_conn *conn, int x);\n{}", &h[..end], &h[end..]);
    let (ok, out) = check_against(&added, "added");
    assert!(!ok && out.contains("mywire_new_call"), "{out}");
    // A parameter more.
    let param = h.replace("int mywire_ping(mywire_conn *conn);", "int mywire_ping(mywire_conn *conn, int x);");
    assert_ne!(param, h);
    let (ok, out) = check_against(&param, "param");
    assert!(!ok && out.contains("x: c_int"), "{out}");
    // A renumbered constant.
    let renum = h.replace("MYWIRE_ERROR_TLS = 16,", "MYWIRE_ERROR_TLS = 99,");
    assert_ne!(renum, h);
    let (ok, out) = check_against(&renum, "renum");
    assert!(!ok && out.contains("= 99"), "{out}");
    // A type the generator does not know: refused, not skipped.
    let unknown = format!("{}MYWIRE_API int mywire_odd(mywire_conn *conn, _Bool b);\n{}", &h[..end], &h[end..]);
    let (ok, out) = check_against(&unknown, "unknown");
    assert!(!ok && out.contains("unknown C type"), "{out}");
    // The header as it is passes.
    assert!(check_against(&h, "same").0);
}
