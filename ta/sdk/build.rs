//! Puts the TA linker script where the final link of a TA finds it: the
//! TA's `-Toxtee-ta.ld` is resolved through this link search path.
//!
//! First it stops a build without the target settings every TA needs
//! (`ta/.cargo/config.toml`): without them the SDK fails to compile with
//! errors that don't say why (another target), or a TA links silently
//! into an image no loader takes (no `ta_head`, not position independent).

use std::path::PathBuf;

const TA_TARGET: &str = "aarch64-unknown-none";

/// `-C` options every TA build must carry (see ta/.cargo/config.toml).
const REQUIRED: &[&str] = &["relocation-model=pie", "link-arg=-Toxtee-ta.ld", "link-arg=-pie"];

/// The `-C`/`--codegen` values among rustc flags, however spelled.
fn codegen_options(flags: &[String]) -> Vec<&str> {
    let mut out = Vec::new();
    let mut it = flags.iter();
    while let Some(f) = it.next() {
        match f.as_str() {
            "-C" | "--codegen" => out.extend(it.next().map(String::as_str)),
            f => out.extend(f.strip_prefix("--codegen=").or_else(|| f.strip_prefix("-C"))),
        }
    }
    out
}

/// What is wrong with building a TA for `target` with `flags`.
fn problems(target: &str, flags: &[String]) -> Vec<String> {
    if target != TA_TARGET {
        return vec![format!("the target is {target}, not {TA_TARGET}")];
    }
    let have = codegen_options(flags);
    REQUIRED.iter().filter(|want| !have.contains(want)).map(|want| format!("the rustflags lack `-C {want}`")).collect()
}

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    // A host build (`cargo test` of a TA crate under the simulator, see
    // src/sim.rs) needs no TA settings and no linker script.
    if std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os != "none") {
        println!("cargo:rerun-if-changed=build.rs");
        return;
    }
    let flags: Vec<String> = std::env::var("CARGO_ENCODED_RUSTFLAGS")
        .unwrap_or_default()
        .split('\x1f')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    let wrong = problems(&target, &flags);
    if !wrong.is_empty() {
        let sdk = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
        let ta = sdk.parent().unwrap_or(&sdk);
        eprintln!("error: an oxtee TA must be built with the settings in {}:", ta.join(".cargo/config.toml").display());
        for w in &wrong {
            eprintln!("  - {w}");
        }
        eprintln!(
            "Copy that file into your TA's directory as .cargo/config.toml (a RUSTFLAGS or \
             CARGO_ENCODED_RUSTFLAGS variable overrides it: unset it); see {} (\"Writing a TA\").",
            ta.join("README.md").display()
        );
        std::process::exit(1);
    }

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("oxtee-ta.ld"), include_str!("oxtee-ta.ld")).expect("write linker script");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rerun-if-changed=oxtee-ta.ld");
    println!("cargo:rerun-if-changed=build.rs");
}
