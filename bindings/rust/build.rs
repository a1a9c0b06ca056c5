// Links libmywire. Where it is found, in this order:
//   MYWIRE_LIB_DIR    the directory holding libmywire.so (e.g. a meson build's capi/)
//   pkg-config        `pkg-config --libs mywire`: an installed mywire, or a meson build
//                     dir with PKG_CONFIG_PATH=<build>/meson-uninstalled (pkg-config then
//                     prefers mywire-uninstalled.pc)
// Each directory also goes into the test and example binaries' rpath, so that
// `cargo test` runs without LD_LIBRARY_PATH. The `-lmywire` itself comes from
// the #[link] attribute in src/sys.rs.
use std::env;
use std::process::Command;

fn pkg_config_dirs() -> Result<Vec<String>, String> {
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let out = Command::new(&pkg_config)
        .args(["--libs", "mywire"])
        .output()
        .map_err(|e| format!("cannot run {pkg_config}: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{pkg_config} --libs mywire` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let words: Vec<&str> = text.split_whitespace().collect();
    if !words.contains(&"-lmywire") {
        return Err(format!("`{pkg_config} --libs mywire` printed no -lmywire: {text}"));
    }
    Ok(words.iter().filter_map(|w| w.strip_prefix("-L")).map(str::to_string).collect())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=MYWIRE_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    let dirs = match env::var("MYWIRE_LIB_DIR") {
        Ok(dir) if !dir.is_empty() => vec![dir],
        _ => match pkg_config_dirs() {
            Ok(dirs) => dirs,
            Err(e) => panic!(
                "libmywire not found: {e}\n\
                 set MYWIRE_LIB_DIR to the directory of libmywire.so, or PKG_CONFIG_PATH to a \
                 directory with mywire.pc (a meson build dir's meson-uninstalled/)"
            ),
        },
    };
    for dir in &dirs {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
