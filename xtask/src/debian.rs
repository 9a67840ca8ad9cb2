//! Debian bookworm arm64 artefacts: the stock kernel (with `tee.ko` and
//! `optee.ko`), busybox, glibc, and OP-TEE's client stack (tee-supplicant,
//! libteec 3.19, its headers). Downloaded with apt into `target/debian` and
//! unpacked there; the kernel package is resolved through apt, not pinned.

use crate::{Result, root};
use std::path::PathBuf;
use std::process::Command;

pub struct Debian {
    /// Unpacked packages.
    pub root: PathBuf,
    pub kernel: PathBuf,
    pub kver: String,
}

const PACKAGES: &[&str] = &["busybox-static", "libc6", "tee-supplicant", "libteec1", "optee-client-dev"];

fn sh(cmd: &str) -> Result<String> {
    let out = Command::new("sh").args(["-c", cmd]).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("`{cmd}` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

fn ensure_arm64_lists() -> Result {
    let has = sh("apt-cache policy tee-supplicant:arm64 2>/dev/null | grep -q 'Candidate: [0-9]'").is_ok();
    if has {
        return Ok(());
    }
    println!("debian: adding the arm64 architecture and updating package lists");
    sh("dpkg --add-architecture arm64 && apt-get update -qq")
        .map_err(|e| format!("{e}\n(run as root: dpkg --add-architecture arm64 && apt-get update)"))?;
    Ok(())
}

/// The versioned kernel package behind `linux-image-arm64`.
fn kernel_package() -> Result<String> {
    let deps = sh("apt-cache depends linux-image-arm64:arm64")?;
    deps.lines()
        .find_map(|l| l.trim().strip_prefix("Depends: ").filter(|d| d.starts_with("linux-image-")))
        .map(|d| d.trim_end_matches(":arm64").to_string())
        .ok_or_else(|| "cannot resolve linux-image-arm64 through apt".to_string())
}

pub fn fetch() -> Result<Debian> {
    let dir = root().join("target/debian");
    let debs = dir.join("debs");
    let unpacked = dir.join("root");
    std::fs::create_dir_all(&debs).map_err(|e| e.to_string())?;
    ensure_arm64_lists()?;
    let kpkg = kernel_package()?;
    let kver = kpkg.trim_start_matches("linux-image-").to_string();
    let mut wanted: Vec<String> = PACKAGES.iter().map(|p| p.to_string()).collect();
    wanted.push(kpkg.clone());
    let have = |p: &str| {
        std::fs::read_dir(&debs)
            .ok()
            .is_some_and(|rd| rd.flatten().any(|e| e.file_name().to_string_lossy().starts_with(&format!("{p}_"))))
    };
    let missing: Vec<String> = wanted.iter().filter(|p| !have(p)).map(|p| format!("{p}:arm64")).collect();
    if !missing.is_empty() {
        println!("debian: downloading {}", missing.join(" "));
        sh(&format!("cd {} && apt-get download -q {} 2>&1", debs.display(), missing.join(" ")))?;
    }
    let kernel = unpacked.join(format!("boot/vmlinuz-{kver}"));
    if !kernel.exists() {
        for e in std::fs::read_dir(&debs).map_err(|e| e.to_string())?.flatten() {
            sh(&format!("dpkg-deb -x '{}' '{}'", e.path().display(), unpacked.display()))?;
        }
    }
    if !kernel.exists() {
        return Err(format!("{} not found after unpacking", kernel.display()));
    }
    Ok(Debian { root: unpacked, kernel, kver })
}
