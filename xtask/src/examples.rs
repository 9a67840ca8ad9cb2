//! Building what a user brings (`cargo xtask run --ta DIR --host DIR`)
//! and the examples of `examples/`: a TA crate built for
//! `aarch64-unknown-none` in its own workspace, checked as the OS's loader
//! would, signed with the OS's key; a Rust host crate built as static musl
//! binaries; a C program built against Debian's libteec, as
//! `normal/cclient` is.

use crate::linux::MUSL_TARGET;
use crate::tas::TA_TARGET;
use crate::{Result, cargo, root};
use oxtee_abi::uuid::Uuid;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The examples workspace.
pub fn dir() -> PathBuf {
    root().join("examples")
}

/// The examples: every directory of `examples/` with a `ta` or `host`
/// crate, sorted (discovered, so a new example needs no edit here).
pub fn names() -> Result<Vec<String>> {
    let d = dir();
    let rd = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    let mut out: Vec<String> = rd
        .flatten()
        .filter(|e| ["ta", "host"].iter().any(|c| e.path().join(c).join("Cargo.toml").is_file()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    out.sort();
    Ok(out)
}

/// The executables a `cargo build --message-format=json` run reported.
fn executables(json: &str) -> Vec<PathBuf> {
    const KEY: &str = "\"executable\":\"";
    json.lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\""))
        .filter_map(|l| {
            let rest = &l[l.find(KEY)? + KEY.len()..];
            let (mut out, mut chars) = (String::new(), rest.chars());
            while let Some(c) = chars.next() {
                match c {
                    '"' => return Some(PathBuf::from(out)),
                    '\\' => out.push(chars.next()?),
                    c => out.push(c),
                }
            }
            None
        })
        .collect()
}

/// `cargo build --release --target TARGET [-p P...]` run in `dir` (so its
/// workspace and `.cargo/config.toml` apply, and without `-p` the package
/// in `dir`); the executables it built. Nothing of xtask's own build
/// environment leaks in (target directory, flags).
pub fn cargo_build(dir: &Path, target: &str, packages: &[String]) -> Result<Vec<PathBuf>> {
    let mut c = cargo();
    c.current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "rust-lld")
        .args(["build", "--quiet", "--release", "--message-format=json-render-diagnostics", "--target", target]);
    for p in packages {
        c.args(["-p", p]);
    }
    let out = c.stderr(Stdio::inherit()).output().map_err(|e| format!("{c:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo build in {} failed ({})", dir.display(), out.status));
    }
    Ok(executables(&String::from_utf8_lossy(&out.stdout)))
}

/// A built TA ELF checked (the OS's loader takes it, its `ta_head`) and
/// signed with the OS's key into `out_dir/<uuid>.ta`.
pub fn sign_into(elf_path: &Path, out_dir: &Path) -> Result<(Uuid, PathBuf)> {
    let elf = std::fs::read(elf_path).map_err(|e| format!("{}: {e}", elf_path.display()))?;
    let uuid = crate::sign::elf_uuid(&elf).map_err(|e| format!("{}: {e}", elf_path.display()))?;
    crate::sign::loader_check(&elf, &uuid)
        .map_err(|e| format!("{}: the OS's loader would refuse it: {e}", elf_path.display()))?;
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let out = out_dir.join(format!("{uuid}.ta"));
    let signed = crate::sign::sign_ta(&elf, &crate::sign::key_path())?;
    std::fs::write(&out, signed).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok((uuid, out))
}

/// `run --ta DIR`: the TA crate in DIR built, checked and signed into
/// `target/run/ta/<uuid>.ta`.
pub fn build_ta(dir: &Path) -> Result<(Uuid, PathBuf)> {
    if !dir.join("Cargo.toml").is_file() {
        return Err(format!("--ta {}: no Cargo.toml (a TA crate's directory)", dir.display()));
    }
    let bins = cargo_build(dir, TA_TARGET, &[])?;
    let [elf] = &bins[..] else {
        return Err(format!("--ta {}: want one binary, the build made {bins:?}", dir.display()));
    };
    let (uuid, out) = sign_into(elf, &root().join("target/run/ta"))?;
    println!("--ta {}: TA {uuid}, installed as /lib/optee_armtz/{uuid}.ta", dir.display());
    Ok((uuid, out))
}

/// Debian's libteec development files (tee_client_api.h, libteec.so),
/// unpacked by `cargo xtask`: (include dir, library dir).
fn debian_teec() -> Result<(PathBuf, PathBuf)> {
    let deb = crate::debian::fetch()?;
    Ok((deb.root.join("usr/include"), deb.root.join("usr/lib/aarch64-linux-gnu")))
}

/// A C program for the guest: with a Makefile, `make CC= TEEC_INCLUDE=
/// TEEC_LIB= O=OUT` and every executable it leaves in OUT; else every
/// `*.c` of `dir` compiled into one program named after the directory.
pub fn build_c(dir: &Path, out: &Path) -> Result<Vec<PathBuf>> {
    let (inc, lib) = debian_teec()?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let out = out.canonicalize().map_err(|e| format!("{}: {e}", out.display()))?;
    if dir.join("Makefile").is_file() {
        let mut c = Command::new("make");
        c.arg("-s").arg("-C").arg(dir).arg("CC=aarch64-linux-gnu-gcc");
        c.arg(format!("TEEC_INCLUDE={}", inc.display()))
            .arg(format!("TEEC_LIB={}", lib.display()))
            .arg(format!("O={}", out.display()));
        crate::tas::run(&mut c)?;
        let rd = std::fs::read_dir(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let mut bins: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| is_elf_executable(p)).collect();
        bins.sort();
        if bins.is_empty() {
            return Err(format!("{}: make left no program in O={}", dir.display(), out.display()));
        }
        return Ok(bins);
    }
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut sources: Vec<PathBuf> =
        rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "c")).collect();
    sources.sort();
    if sources.is_empty() {
        return Err(format!("{}: no Cargo.toml, Makefile or *.c", dir.display()));
    }
    let abs = dir.canonicalize().map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = abs.file_name().and_then(|n| n.to_str()).ok_or("bad directory name")?;
    let bin = out.join(name);
    let mut c = Command::new("aarch64-linux-gnu-gcc");
    c.args(["-std=gnu99", "-O2", "-Wall", "-Wextra"]).arg("-I").arg(&inc).arg("-o").arg(&bin).args(&sources);
    c.arg("-L").arg(&lib).args(["-lteec", "-Wl,--allow-shlib-undefined"]);
    crate::tas::run(&mut c)?;
    Ok(vec![bin])
}

fn is_elf_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let exec = std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    exec && std::fs::read(p).is_ok_and(|d| d.starts_with(b"\x7fELF"))
}

/// `run --host DIR`: a Rust crate (every binary) or a C program, for the
/// guest's `/usr/bin`.
pub fn build_host(dir: &Path) -> Result<Vec<PathBuf>> {
    let bins = if dir.join("Cargo.toml").is_file() {
        cargo_build(dir, MUSL_TARGET, &[])?
    } else {
        let abs = dir.canonicalize().map_err(|e| format!("--host {}: {e}", dir.display()))?;
        let tag = abs.to_string_lossy().trim_start_matches('/').replace('/', "+");
        build_c(dir, &root().join("target/run/c").join(tag))?
    };
    if bins.is_empty() {
        return Err(format!("--host {}: the build made no program", dir.display()));
    }
    for b in &bins {
        let name = b.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        println!("--host {}: {name}, installed as /usr/bin/{name}", dir.display());
    }
    Ok(bins)
}

/// The TA crates of example `name`, as (directory under `examples/`,
/// package): `<name>/ta` (`<name>-ta`) and any more TAs it has as
/// `<name>/ta-<what>` (`<name>-<what>-ta`, e.g. ta2ta's callee), sorted.
pub fn ta_crates(name: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir().join(name)) else { return out };
    for e in rd.flatten() {
        let Some(d) = e.file_name().to_str().map(str::to_string) else { continue };
        if !e.path().join("Cargo.toml").is_file() {
            continue;
        }
        if d == "ta" {
            out.push((format!("{name}/ta"), format!("{name}-ta")));
        } else if let Some(what) = d.strip_prefix("ta-") {
            out.push((format!("{name}/{d}"), format!("{name}-{what}-ta")));
        }
    }
    out.sort();
    out
}

/// Builds every example's TAs (one cargo run for all) and signs them into
/// `ta_dir`.
pub fn build_tas(ta_dir: &Path) -> Result<Vec<(Uuid, PathBuf)>> {
    let names = names()?;
    let packages: Vec<String> = names.iter().flat_map(|n| ta_crates(n)).map(|(_, p)| p).collect();
    let elves = cargo_build(&dir(), TA_TARGET, &packages)?;
    if elves.len() != packages.len() {
        return Err(format!("examples: {} TA crates, the build made {elves:?}", packages.len()));
    }
    elves.iter().map(|e| sign_into(e, ta_dir)).collect()
}

/// Builds every example's host programs: the Rust ones (one cargo run)
/// and the C ones (`<name>/host-c`).
pub fn build_hosts() -> Result<Vec<PathBuf>> {
    let names = names()?;
    let packages: Vec<String> =
        names.iter().filter(|n| dir().join(n).join("host/Cargo.toml").is_file()).map(|n| format!("{n}-host")).collect();
    let mut bins = cargo_build(&dir(), MUSL_TARGET, &packages)?;
    for n in &names {
        let c = dir().join(n).join("host-c");
        if c.is_dir() {
            bins.extend(build_c(&c, &root().join("target/examples-c").join(n))?);
        }
    }
    Ok(bins)
}

/// Host tests of the examples: the proto crates' unit tests, and the TA
/// crates' own tests on the host simulator.
pub fn host_tests() -> Result {
    let mut c = cargo();
    c.current_dir(dir()).env_remove("CARGO_TARGET_DIR").env_remove("RUSTFLAGS").env_remove("CARGO_ENCODED_RUSTFLAGS");
    // The TA crates' tests run their entry points in the host simulator
    // (oxtee-sim, see ta/README.md).
    c.args(["test", "--quiet", "--workspace"]);
    crate::tas::run(&mut c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_are_read_from_cargo_messages() {
        let json = concat!(
            r#"{"reason":"compiler-artifact","package_id":"x","executable":null,"fresh":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"a"},"executable":"/t/rel/example-a","fresh":false}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","executable":"/t/we\"ird\\dir/b","fresh":true}"#,
            "\n"
        );
        assert_eq!(executables(json), vec![PathBuf::from("/t/rel/example-a"), PathBuf::from("/t/we\"ird\\dir/b")]);
    }

    #[test]
    fn examples_are_discovered() {
        let names = names().unwrap();
        assert!(names.iter().any(|n| n == "hello_world"), "{names:?}");
        assert_eq!(
            ta_crates("ta2ta"),
            [
                ("ta2ta/ta".to_string(), "ta2ta-ta".to_string()),
                ("ta2ta/ta-callee".to_string(), "ta2ta-callee-ta".to_string())
            ]
        );
        assert_eq!(ta_crates("hotp"), [("hotp/ta".to_string(), "hotp-ta".to_string())]);
        for n in &names {
            assert!(!n.starts_with('.') && n != "target", "{n}");
        }
    }
}
