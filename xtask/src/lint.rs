//! `cargo xtask lint`: formatting, clippy with the safety lints at deny
//! (from `[workspace.lints]`), and the unsafe policy: every crate is
//! classified; portable crates forbid `unsafe`; the rest confine it to the
//! modules named for the reason, each use with a `// SAFETY:` comment.

use crate::images::{NS_TARGET, SECURE_TARGET};
use crate::{Result, cargo, root, run_cmd};
use std::path::Path;

enum Policy {
    /// `#![forbid(unsafe_code)]` at the crate root.
    Forbid,
    /// `unsafe` only under these paths (relative to the crate).
    Confined(&'static [&'static str]),
}

/// Every workspace member, classified. A new crate must be added here.
const CRATES: &[(&str, Policy)] = &[
    ("abi", Policy::Forbid),
    ("platform/qemu-virt", Policy::Forbid),
    ("secure/core", Policy::Forbid),
    ("secure/crypto", Policy::Forbid),
    ("secure/guard", Policy::Confined(&["src/raw.rs"])),
    ("secure/log", Policy::Forbid),
    // The host simulator reaches host memory as "physical" memory.
    ("secure/sim", Policy::Confined(&["src/mem.rs"])),
    ("secure/monitor", Policy::Confined(&["src/arch"])),
    ("secure/os", Policy::Confined(&["src/arch"])),
    ("normal/harness", Policy::Confined(&["src/arch.rs"])),
    ("normal/teec", Policy::Confined(&["src/sys.rs"])),
    ("normal/xtest", Policy::Forbid),
    ("normal/supplicant", Policy::Forbid),
    ("normal/libteec", Policy::Confined(&["src/capi.rs", "src/sys.rs"])),
    ("xtask", Policy::Forbid),
    // The TA workspace (`ta/`, linted by `ta_lint`).
    ("ta/sdk", Policy::Confined(&["src/arch", "src/sys.rs", "src/sys/"])),
    ("ta/sdk-macros", Policy::Forbid),
    ("ta/sim-demo", Policy::Forbid),
    ("ta/test", Policy::Forbid),
    ("ta/crypto-test", Policy::Forbid),
    ("ta/storage-test", Policy::Forbid),
    ("ta/storage-bench", Policy::Forbid),
    ("ta/system-test", Policy::Forbid),
    ("ta/socket-test", Policy::Forbid),
    ("ta/pitfalls", Policy::Forbid),
    ("ta/dltest", Policy::Confined(&["src/lib_ffi.rs"])),
];

const HOST_CRATES: &[&str] = &[
    "oxtee-abi",
    "oxtee-platform",
    "oxtee-core",
    "oxtee-guard",
    "oxtee-seclog",
    "oxtee-sim",
    "oxtee-teec",
    "oxtee-xtest",
    "oxtee-supplicant",
    "xtask",
];

pub fn run() -> Result {
    run_cmd(cargo().args(["fmt", "--all", "--", "--check"]))
        .map_err(|_| "rustfmt: run `cargo fmt --all`".to_string())?;
    let mut host = vec!["clippy", "--quiet", "--all-targets"];
    for c in HOST_CRATES {
        host.extend(["-p", c]);
    }
    host.extend(["--", "-D", "warnings"]);
    run_cmd(cargo().args(&host))?;
    run_cmd(cargo().args([
        "clippy",
        "--quiet",
        "--release",
        "-p",
        "oxtee-monitor",
        "-p",
        "oxtee-os",
        "--target",
        SECURE_TARGET,
        "--",
        "-D",
        "warnings",
    ]))?;
    // The test build of the OS (test PTA, fault injection), in the target
    // directory that build uses.
    run_cmd(
        cargo().args(["clippy", "--quiet", "--release", "-p", "oxtee-os", "--features", "oxtee-os/test-hooks"]).args([
            "--target",
            SECURE_TARGET,
            "--target-dir",
            "target/test-build",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run_cmd(cargo().args([
        "clippy",
        "--quiet",
        "--release",
        "-p",
        "oxtee-harness",
        "--target",
        NS_TARGET,
        "--",
        "-D",
        "warnings",
    ]))?;
    ta_lint()?;
    examples_lint()?;
    unsafe_policy()?;
    println!("lint: fmt, clippy and unsafe policy clean");
    Ok(())
}

/// The TA workspace: rustfmt, and clippy for the TA target (every build
/// of the test TA) and, for the macros, the host.
fn ta_lint() -> Result {
    use crate::tas::{host_triple, run, ta_cargo};
    // Not `--all`: that would reach the host workspace through `abi`.
    run(ta_cargo().args(["fmt", "--", "--check"])).map_err(|_| "rustfmt: run `cargo fmt` in ta/".to_string())?;
    let deny = ["--", "-D", "warnings"];
    run(ta_cargo()
        .args([
            "clippy",
            "--quiet",
            "--release",
            "-p",
            "oxtee-utee",
            "-p",
            "sim-demo",
            "-p",
            "oxtee-crypto-test-ta",
            "-p",
            "oxtee-storage-test-ta",
            "-p",
            "oxtee-storage-bench-ta",
            "-p",
            "oxtee-system-test-ta",
            "-p",
            "oxtee-socket-test-ta",
        ])
        .args(deny))?;
    for feature in ["multi", "single", "keep", "excl"] {
        run(ta_cargo()
            .args(["clippy", "--quiet", "--release", "-p", "oxtee-test-ta", "--features", feature])
            .args(deny))?;
    }
    // The dynamic-linking test TA links against its C library.
    let lib = crate::tas::dltest_lib(oxtee_abi::dl_test_ta::LIB, false)?;
    run(ta_cargo()
        .args(["clippy", "--quiet", "--release", "-p", "oxtee-dltest-ta"])
        .env("OXTEE_DLTEST_LIB", &lib)
        .args(deny))?;
    let host = host_triple()?;
    run(ta_cargo()
        .args([
            "clippy",
            "--quiet",
            "--all-targets",
            "-p",
            "oxtee-utee-macros",
            "-p",
            "oxtee-utee-host-test",
            "-p",
            "oxtee-utee",
            "-p",
            "sim-demo",
            "--target",
            &host,
        ])
        .args(deny))
}

/// The examples workspace: rustfmt, clippy for the TAs (TA target) and
/// for everything on the host (tests included: the TAs' run on the host
/// simulator).
fn examples_lint() -> Result {
    use crate::tas::{host_triple, run};
    let dir = crate::examples::dir();
    let cargo_in = || {
        let mut c = cargo();
        c.current_dir(&dir)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
        c
    };
    run(cargo_in().args(["fmt", "--", "--check"])).map_err(|_| "rustfmt: run `cargo fmt` in examples/".to_string())?;
    let deny = ["--", "-D", "warnings"];
    let mut tas = vec!["clippy".to_string(), "--quiet".into(), "--release".into()];
    for n in crate::examples::names()? {
        for (_, p) in crate::examples::ta_crates(&n) {
            tas.extend(["-p".into(), p]);
        }
    }
    run(cargo_in().args(&tas).args(["--target", crate::tas::TA_TARGET]).args(deny))?;
    run(cargo_in().args(["clippy", "--quiet", "--all-targets", "--workspace", "--target", &host_triple()?]).args(deny))
}

/// The examples' crates (`examples/<name>/{proto,ta,host}`): all
/// `#![forbid(unsafe_code)]`.
fn example_crates() -> Vec<String> {
    let names = crate::examples::names().unwrap_or_default();
    let mut out = Vec::new();
    for n in names {
        for c in ["proto", "host"] {
            if root().join("examples").join(&n).join(c).join("Cargo.toml").is_file() {
                out.push(format!("examples/{n}/{c}"));
            }
        }
        out.extend(crate::examples::ta_crates(&n).into_iter().map(|(d, _)| format!("examples/{d}")));
    }
    out
}

fn members() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap_or_default();
    let Some(start) = text.find("members = [") else {
        return vec![];
    };
    let rest = &text[start + "members = [".len()..];
    let end = rest.find(']').unwrap_or(0);
    rest[..end].split(',').map(|s| s.trim().trim_matches('"').to_string()).filter(|s| !s.is_empty()).collect()
}

fn rs_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Lines using `unsafe` as a keyword (not in comments).
fn unsafe_lines(src: &str) -> Vec<(usize, &str)> {
    src.lines()
        .enumerate()
        .filter(|(_, l)| {
            let code = l.split("//").next().unwrap_or("");
            code.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == "unsafe")
        })
        .map(|(i, l)| (i + 1, l))
        .collect()
}

pub fn unsafe_policy() -> Result {
    let mut problems = Vec::new();
    for m in members() {
        if !CRATES.iter().any(|(c, _)| *c == m) {
            problems.push(format!("{m}: crate not classified in xtask/src/lint.rs (Forbid or Confined)"));
        }
    }
    let examples: Vec<(String, Policy)> = example_crates().into_iter().map(|c| (c, Policy::Forbid)).collect();
    let all = CRATES.iter().map(|(c, p)| (c.to_string(), p)).chain(examples.iter().map(|(c, p)| (c.clone(), p)));
    for (krate, policy) in all {
        let dir = root().join(&krate);
        let mut files = Vec::new();
        rs_files(&dir.join("src"), &mut files);
        match policy {
            Policy::Forbid => {
                let root_file = ["src/lib.rs", "src/main.rs"].iter().map(|f| dir.join(f)).find(|p| p.exists());
                let ok = root_file
                    .and_then(|p| std::fs::read_to_string(p).ok())
                    .is_some_and(|s| s.contains("#![forbid(unsafe_code)]"));
                if !ok {
                    problems.push(format!("{krate}: must have #![forbid(unsafe_code)] at the crate root"));
                }
            }
            Policy::Confined(allowed) => {
                for f in &files {
                    let rel = f.strip_prefix(&dir).unwrap().to_string_lossy().to_string();
                    let src = std::fs::read_to_string(f).unwrap_or_default();
                    let uses = unsafe_lines(&src);
                    if uses.is_empty() {
                        continue;
                    }
                    if !allowed.iter().any(|a| rel.starts_with(a)) {
                        for (n, _) in &uses {
                            problems.push(format!("{krate}/{rel}:{n}: unsafe outside {allowed:?}"));
                        }
                        continue;
                    }
                    let lines: Vec<&str> = src.lines().collect();
                    for (n, l) in uses {
                        let t = l.trim_start();
                        // Declarations of unsafe things document themselves
                        // (`# Safety`); uses need a SAFETY comment above.
                        let declaration = t.starts_with("unsafe extern")
                            || t.starts_with("#[unsafe(")
                            || t.contains("unsafe fn ")
                            || t.contains("unsafe extern \"C\" fn ");
                        if declaration {
                            continue;
                        }
                        let documented = lines[..n - 1].iter().rev().take(6).any(|p| p.contains("SAFETY:"));
                        if !documented {
                            problems.push(format!("{krate}/{rel}:{n}: unsafe without a // SAFETY: comment above"));
                        }
                    }
                }
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(format!("unsafe policy:\n  {}", problems.join("\n  "))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_unsafe_keyword_but_not_in_comments_or_identifiers() {
        let src = "let a = 1; // unsafe here is a comment\nunsafe { x() }\nlet unsafe_thing = 2;\n";
        let found: Vec<usize> = unsafe_lines(src).into_iter().map(|(n, _)| n).collect();
        assert_eq!(found, vec![2]);
    }

    #[test]
    fn example_crates_are_under_the_policy() {
        let c = example_crates();
        for want in [
            "examples/hello_world/proto",
            "examples/hello_world/ta",
            "examples/hello_world/host",
            "examples/ta2ta/ta-callee",
        ] {
            assert!(c.iter().any(|k| k == want), "{c:?}");
        }
    }

    #[test]
    fn every_member_is_classified() {
        let m = members();
        assert!(m.len() >= 7, "{m:?}");
        for c in m {
            assert!(CRATES.iter().any(|(k, _)| *k == c), "{c}");
        }
    }
}
