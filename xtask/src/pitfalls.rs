//! The common mistakes of docs/troubleshooting.md, made on purpose in the
//! Linux guest (`ta/pitfalls` and the `tee-call` client of oxtee-teec's
//! examples), checking that each side still prints what the document
//! quotes: the client's error as oxtee-teec names it, and the secure
//! log's line. Part of `cargo xtask test`, on the default image.

use crate::images::Images;
use crate::tas::{TA_TARGET, run, ta_cargo, ta_dir};
use crate::{Result, cargo, linux, qemu, root, sign};
use std::path::PathBuf;

const PITFALLS: &str = "7d68de4d-3e4a-4786-93c5-20bf8e15a0f5";
/// `ta/pitfalls` installed under this name: signed for another UUID.
const RENAMED: &str = "7d68de4d-3e4a-4786-93c5-0000000000e2";
/// No TA has this UUID.
const MISSING: &str = "7d68de4d-3e4a-4786-93c5-20bf8e15a0f6";
/// The marker suffix of the cases run with Debian's tee-supplicant.
const DEBIAN: &str = " (tee-supplicant)";

/// One mistake: its name (the marker in the guest's output), the command
/// line, what the client prints and what the secure log prints (any of
/// the alternatives; `None`: nothing to check there).
struct Case {
    name: &'static str,
    cmd: String,
    client: &'static [&'static str],
    secure: Option<&'static [&'static str]>,
}

fn cases() -> Vec<Case> {
    let call = |args: &str| format!("tee-call {args}");
    vec![
        Case {
            name: "works",
            cmd: call(&format!("{PITFALLS} 0 vinout:21")),
            client: &["tee-call: p0 value a=42 b=0", "tee-call: command 0: success"],
            secure: None,
        },
        Case {
            name: "not found",
            cmd: call(MISSING),
            client: &["failed: TEE_ERROR_ITEM_NOT_FOUND (0xffff0008) from the TEE"],
            secure: Some(&[
                "TA 7d68de4d-3e4a-4786-93c5-20bf8e15a0f6: not found (the normal world's supplicant has no image for it)",
            ]),
        },
        Case {
            name: "file named after another UUID",
            cmd: call(RENAMED),
            client: &["failed: TEE_ERROR_SECURITY (0xffff000f) from the TEE"],
            secure: Some(&["TA 7d68de4d-3e4a-4786-93c5-0000000000e2: image rejected: signed for TA \
                 7d68de4d-3e4a-4786-93c5-20bf8e15a0f5, not the UUID asked for"]),
        },
        Case {
            name: "signed with another key",
            cmd: call("5e57a0f2-0000-4000-8000-0000000000f2"),
            client: &["failed: TEE_ERROR_SECURITY (0xffff000f) from the TEE"],
            secure: Some(&[
                "TA 5e57a0f2-0000-4000-8000-0000000000f2: image rejected: signature does not verify with the OS's \
                 TA key (signed with another key, or changed since)",
            ]),
        },
        Case {
            name: "unsigned",
            cmd: call("5e57a0f1-0000-4000-8000-0000000000f1"),
            client: &["failed: TEE_ERROR_SECURITY (0xffff000f) from the TEE"],
            secure: Some(&["image rejected: no signed header (magic 0x464c457f): sign the TA ELF first"]),
        },
        Case {
            name: "bad parameter types",
            cmd: call(&format!("{PITFALLS} 0 vin:21")),
            client: &["command 0 failed: TEE_ERROR_BAD_PARAMETERS (0xffff0006) from the trusted application"],
            secure: Some(&["check_types: BAD_PARAMETERS: expected (ValueInout, None, None, None), the client sent \
                 (ValueInput, None, None, None)"]),
        },
        Case {
            name: "short buffer",
            cmd: call(&format!("{PITFALLS} 1 mout:8")),
            client: &[
                "command 1 failed: TEE_ERROR_SHORT_BUFFER (0xffff0010) from the trusted application",
                "p0: the TA needs 31 bytes, the buffer has 8",
            ],
            secure: None,
        },
        Case {
            name: "heap exhausted",
            cmd: call(&format!("{PITFALLS} 2 vin:65536")),
            client: &["command 2 failed: TEE_ERROR_TARGET_DEAD (0xffff3024) from the TEE"],
            secure: Some(&["TA panicked: memory allocation of 65536 bytes failed: the heap is exhausted ("]),
        },
        Case {
            name: "stack overflow",
            cmd: call(&format!("{PITFALLS} 3 vin:64")),
            client: &["command 3 failed: TEE_ERROR_TARGET_DEAD (0xffff3024) from the TEE"],
            // The crash dump's wording is docs/debugging.md's.
            secure: Some(&["TA 7d68de4d-3e4a-4786-93c5-20bf8e15a0f5 killed: stack overflow"]),
        },
        Case {
            name: "panic",
            cmd: call(&format!("{PITFALLS} 4")),
            client: &["command 4 failed: TEE_ERROR_TARGET_DEAD (0xffff3024) from the TEE"],
            secure: Some(&["TA panicked at pitfalls/src/main.rs:", "killed: panic (TEE_Panic code 0xffff0000)"]),
        },
    ]
}

/// Builds the TA (signed twice: as itself and under another UUID's name)
/// and the client; the files the guest gets.
fn build() -> Result<Vec<(PathBuf, String)>> {
    run(ta_cargo().args(["build", "--quiet", "--release", "-p", "pitfalls"]))?;
    let elf_path = ta_dir().join("target").join(TA_TARGET).join("release/pitfalls");
    let elf = std::fs::read(&elf_path).map_err(|e| format!("{}: {e}", elf_path.display()))?;
    let signed = sign::sign_ta(&elf, &sign::key_path())?;
    let dir = root().join("target/pitfalls");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let ta = dir.join("pitfalls.ta");
    std::fs::write(&ta, signed).map_err(|e| format!("{}: {e}", ta.display()))?;
    crate::run_cmd(cargo().env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "rust-lld").args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "oxtee-teec",
        "--example",
        "tee-call",
        "--target",
        linux::MUSL_TARGET,
    ]))?;
    let client = root().join("target").join(linux::MUSL_TARGET).join("release/examples/tee-call");
    Ok(vec![
        (client, "/usr/bin/tee-call".into()),
        (ta.clone(), format!("/lib/optee_armtz/{PITFALLS}.ta")),
        (ta, format!("/lib/optee_armtz/{RENAMED}.ta")),
    ])
}

/// What is missing from one case's output (empty: it passed).
fn check(case: &Case, client_out: &str, secure_log: &str) -> Vec<String> {
    let mut missing: Vec<String> =
        case.client.iter().filter(|want| !client_out.contains(*want)).map(|w| format!("client: {w:?}")).collect();
    if let Some(any) = case.secure
        && !any.iter().any(|want| secure_log.contains(want))
    {
        missing.push(format!("secure log: {any:?}"));
    }
    missing
}

/// The guest output between the marker of `name` and the next marker.
fn section<'a>(log: &'a str, name: &str) -> &'a str {
    let marker = format!("=== {name}\n");
    let Some(start) = log.find(&marker).map(|i| i + marker.len()) else { return "" };
    let rest = &log[start..];
    &rest[..rest.find("=== ").unwrap_or(rest.len())]
}

/// Boots the default image once with every case; returns (passed, failed).
pub fn run_checks(imgs: &Images, extra: &[(PathBuf, &'static str)]) -> Result<(u64, u64)> {
    let ours = build()?;
    let mut files: Vec<(PathBuf, &str)> = extra.iter().map(|(p, g)| (p.clone(), *g)).collect();
    files.extend(ours.iter().map(|(p, g)| (p.clone(), g.as_str())));
    let cases = cases();
    // Each case with oxtee-supplicant, then with Debian's tee-supplicant.
    let script = |suffix: &str| -> String {
        cases.iter().map(|c| format!("echo '=== {}{suffix}'; {}; ", c.name, c.cmd)).collect()
    };
    let mode = linux::Mode::Command(format!(
        "{}killall oxtee-supplicant; sleep 0.5; tee-supplicant -d; sleep 1; {}echo '=== end'",
        script(""),
        script(DEBIAN)
    ));
    let boot = linux::Boot { name: Some("linux-pitfalls".into()), ..linux::Boot::new(1, 2, 300) };
    let out = linux::boot(imgs, &boot, &mode, &files)?;
    let log = out.ns_log.replace('\r', "");
    let (mut passed, mut failed) = (0, 0);
    for suffix in ["", DEBIAN] {
        for c in &cases {
            let name = format!("{}{suffix}", c.name);
            let missing = check(c, section(&log, &name), &out.secure_log);
            if missing.is_empty() {
                passed += 1;
            } else {
                failed += 1;
                eprintln!("  FAIL {name}: missing {}", missing.join("; "));
            }
        }
    }
    println!(
        "  {} mistakes with each supplicant, both sides as documented: {passed} passed, {failed} failed ({:.1} s)",
        cases.len(),
        out.secs
    );
    if failed > 0 || !out.clean_exit {
        qemu::print_tails(&out);
        failed = failed.max(1);
    }
    Ok((passed, failed))
}

/// `cargo xtask pitfalls-test`.
pub fn run_cli() -> Result {
    crate::setup::ensure(false)?;
    let prod = crate::images::build()?;
    let extra = linux::guest_binaries()?;
    match run_checks(&prod, &extra)? {
        (_, 0) => Ok(()),
        (_, f) => Err(format!("{f} cases failed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_checked_line_is_quoted_in_the_troubleshooting_doc() {
        let doc = std::fs::read_to_string(root().join("docs/troubleshooting.md")).unwrap();
        for c in cases() {
            // The first (a working call) isn't a mistake; the crash dump's
            // wording is docs/debugging.md's.
            if c.name == "works" || c.name == "stack overflow" {
                continue;
            }
            for want in c.client.iter().chain(c.secure.unwrap_or(&[]).iter().take(1)) {
                assert!(doc.contains(want), "docs/troubleshooting.md lacks {want:?} ({})", c.name);
            }
        }
    }

    #[test]
    fn sections_split_at_markers() {
        let log = "boot\n=== a\nx\ny\n=== b\nz\n=== end\n";
        assert_eq!(section(log, "a"), "x\ny\n");
        assert_eq!(section(log, "b"), "z\n");
        assert_eq!(section(log, "c"), "");
        let c = Case { name: "a", cmd: String::new(), client: &["y"], secure: Some(&["s1", "s2"]) };
        assert!(check(&c, "x\ny\n", "..s2..").is_empty());
        assert_eq!(check(&c, "x\n", "").len(), 2);
    }
}
