//! Makes sure the host has what the build and QEMU runs need. Installs with
//! apt-get when it can (root, or CI), otherwise prints the exact command.

use crate::Result;
use std::process::Command;

const PACKAGES: &[(&str, &str)] = &[
    ("qemu-system-aarch64", "qemu-system-arm"),
    ("dtc", "device-tree-compiler"),
    ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
];

fn have(bin: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {bin}")]).output().is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"))
}

pub fn ensure(verbose: bool) -> Result {
    let missing: Vec<&str> = PACKAGES.iter().filter(|(bin, _)| !have(bin)).map(|(_, pkg)| *pkg).collect();
    if !missing.is_empty() {
        let cmd = format!("apt-get update && apt-get install -y --no-install-recommends {}", missing.join(" "));
        if !is_root() {
            return Err(format!("missing packages; run: sudo sh -c '{cmd}'"));
        }
        println!("installing {}", missing.join(" "));
        crate::run_cmd(Command::new("sh").args(["-c", &format!("DEBIAN_FRONTEND=noninteractive {cmd}")]))?;
    }
    // rust-toolchain.toml names the targets; rustup installs them on first use,
    // but an older rustup may not, so ask for them explicitly.
    let _ = Command::new("rustup")
        .args([
            "target",
            "add",
            "aarch64-unknown-none",
            "aarch64-unknown-none-softfloat",
            "aarch64-unknown-linux-musl",
            "aarch64-unknown-linux-gnu",
        ])
        .current_dir(crate::root())
        .output();
    if verbose {
        println!("setup: qemu-system-aarch64 and the bare-metal Rust targets are present");
    }
    Ok(())
}
