//! Builds the three images and packs the secure flash: monitor at 0, the
//! firmware package header at `fwpkg::OFFSET`, the trusted OS after it.

use crate::{Result, cargo, root, run_cmd};
use object::{Object, ObjectSegment};
use oxtee_platform::{fwpkg, map};
use std::path::{Path, PathBuf};
use zerocopy::IntoBytes;

pub const SECURE_TARGET: &str = "aarch64-unknown-none-softfloat";
pub const NS_TARGET: &str = "aarch64-unknown-none";

#[derive(Clone, Debug)]
pub struct Images {
    /// Flash that boots the harness, and one that boots Linux.
    pub flash: PathBuf,
    pub flash_linux: PathBuf,
    /// `flash` with the package's `FLAG_SPMD` set: the monitor runs as an
    /// FF-A SPMD and the OS as the S-EL1 SPMC (`--ffa`).
    pub flash_ffa: PathBuf,
    /// `flash_linux` with `FLAG_SPMD`: Linux (a kernel with the FF-A
    /// transport, `--kernel FILE --ffa`) over the SPMD and the SPMC.
    pub flash_linux_ffa: PathBuf,
    pub harness: PathBuf,
}

pub fn out_dir() -> PathBuf {
    root().join("target/oxtee")
}

fn build_id() -> String {
    let out = std::process::Command::new("git").args(["rev-parse", "--short=16", "HEAD"]).current_dir(root()).output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        // Outside a git checkout: still a non-zero id, so it is visibly "ours".
        _ => "1".into(),
    }
}

/// Flattens an ELF's loadable segments into the raw image a loader expects,
/// placed by physical (load) address. Returns the image and its base.
pub fn elf_to_bin(elf: &[u8]) -> Result<(Vec<u8>, u64)> {
    let file = object::File::parse(elf).map_err(|e| format!("not an ELF: {e}"))?;
    let mut parts = Vec::new();
    for seg in file.segments() {
        let data = seg.data().map_err(|e| e.to_string())?;
        if data.is_empty() {
            continue;
        }
        let paddr = match &file {
            object::File::Elf64(f) => {
                use object::read::elf::ProgramHeader;
                let hdr = f
                    .elf_program_headers()
                    .iter()
                    .find(|h| h.p_vaddr(f.endian()) == seg.address() && h.p_filesz(f.endian()) == data.len() as u64);
                hdr.map(|h| h.p_paddr(f.endian())).unwrap_or(seg.address())
            }
            _ => seg.address(),
        };
        parts.push((paddr, data.to_vec()));
    }
    let base = parts.iter().map(|p| p.0).min().ok_or("ELF has no loadable data")?;
    let end = parts.iter().map(|p| p.0 + p.1.len() as u64).max().unwrap();
    let mut img = vec![0u8; (end - base) as usize];
    for (addr, data) in parts {
        let off = (addr - base) as usize;
        img[off..off + data.len()].copy_from_slice(&data);
    }
    Ok((img, base))
}

fn flatten(elf: &Path, bin: &Path) -> Result<u64> {
    let data = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let (img, base) = elf_to_bin(&data)?;
    std::fs::write(bin, img).map_err(|e| e.to_string())?;
    Ok(base)
}

/// Reads an OS image given by the user: ELF (flattened) or raw binary.
pub fn load_os(path: &Path) -> Result<Vec<u8>> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if data.starts_with(b"\x7fELF") {
        let (img, base) = elf_to_bin(&data)?;
        if base != map::OS_BASE {
            return Err(format!("{}: loads at {base:#x}, not the OS base {:#x}", path.display(), map::OS_BASE));
        }
        Ok(img)
    } else {
        Ok(data)
    }
}

/// Secure flash contents: monitor, package header, OS.
/// Where the monitor enters the normal world, and the device tree it passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NsBoot {
    pub entry: u64,
    pub dtb: u64,
}

pub const HARNESS_BOOT: NsBoot = NsBoot { entry: map::NS_PAYLOAD_ADDR, dtb: map::NS_DTB_ADDR };
pub const LINUX_BOOT: NsBoot = NsBoot { entry: map::LINUX_KERNEL_ADDR, dtb: map::LINUX_DTB_ADDR };

/// `flags`: the package header's `fwpkg::FLAG_*` bits.
pub fn pack_flash(monitor: &[u8], os: &[u8], ns: NsBoot, flags: u64) -> Result<Vec<u8>> {
    if monitor.len() as u64 > fwpkg::OFFSET {
        return Err(format!("monitor is {} bytes, over the {:#x} slot", monitor.len(), fwpkg::OFFSET));
    }
    let os_offset = fwpkg::OFFSET + 0x1000;
    let header = fwpkg::Header {
        magic: fwpkg::MAGIC,
        version: fwpkg::VERSION,
        os_offset,
        os_size: os.len() as u64,
        os_load_addr: map::OS_BASE,
        os_entry: map::OS_BASE,
        ns_entry: ns.entry,
        ns_dtb: ns.dtb,
        flags,
    };
    let mut flash = monitor.to_vec();
    flash.resize(fwpkg::OFFSET as usize, 0);
    flash.extend_from_slice(header.as_bytes());
    flash.resize(os_offset as usize, 0);
    flash.extend_from_slice(os);
    if flash.len() as u64 > map::SECURE_FLASH_SIZE {
        return Err("flash image larger than secure flash".into());
    }
    // The parser the monitor uses must accept what we wrote.
    fwpkg::Header::parse(&flash[fwpkg::OFFSET as usize..], map::SECURE_FLASH_SIZE, (map::OS_BASE, map::OS_SIZE))
        .map_err(|e| format!("packed header rejected: {e:?}"))?;
    Ok(flash)
}

/// Which trusted OS an image carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// What a user installs: no test PTA, no fault injection.
    Default,
    /// What the test suites boot: the test PTA and fault injection
    /// (`oxtee-os` feature `test-hooks`), built in a target directory of
    /// its own so both stay cached.
    Test,
}

impl Variant {
    fn suffix(self) -> &'static str {
        match self {
            Variant::Default => "",
            Variant::Test => "-test",
        }
    }

    fn target_dir(self) -> PathBuf {
        match self {
            Variant::Default => root().join("target"),
            Variant::Test => root().join("target/test-build"),
        }
    }
}

/// Builds everything (release) and packs our own flash image.
pub fn build() -> Result<Images> {
    build_with(None, HARNESS_BOOT)
}

/// A normal-world payload other than the harness (`--ns`): the raw image
/// QEMU's loader places at `load`, and where the monitor enters it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NsPayload {
    pub file: PathBuf,
    pub load: u64,
    pub entry: u64,
}

/// Where a payload may go: in RAM (`ram_size` bytes from `DRAM_BASE`),
/// above the device tree QEMU puts at the base of RAM (the harness's 2 MiB
/// are kept for it), clear of the static shared memory; entered at a
/// 4-aligned address inside it.
pub fn check_ns_placement(load: u64, len: u64, entry: u64, ram_size: u64) -> Result {
    let end = load.checked_add(len).ok_or("payload address overflows")?;
    let (ram_end, shm_end) = (map::DRAM_BASE + ram_size, map::STATIC_SHM_BASE + map::STATIC_SHM_SIZE);
    if load < map::NS_PAYLOAD_ADDR || end > ram_end {
        return Err(format!(
            "payload at {load:#x}..{end:#x} is outside normal-world RAM above the device tree ({:#x}..{ram_end:#x})",
            map::NS_PAYLOAD_ADDR
        ));
    }
    if load < shm_end && end > map::STATIC_SHM_BASE {
        return Err(format!(
            "payload at {load:#x}..{end:#x} overlaps the static shared memory at {:#x}..{shm_end:#x}",
            map::STATIC_SHM_BASE
        ));
    }
    if !entry.is_multiple_of(4) || entry < load || entry >= end {
        return Err(format!("entry {entry:#x} is not a 4-aligned address inside the payload ({load:#x}..{end:#x})"));
    }
    Ok(())
}

/// The `--ns` payload: a raw image at `addr` (default `NS_PAYLOAD_ADDR`)
/// entered at its start, or an ELF flattened to its load address and
/// entered at its entry point. Checked to fit in `ram_size` bytes of RAM.
pub fn ns_payload(path: &Path, addr: Option<u64>, ram_size: u64) -> Result<NsPayload> {
    let data = std::fs::read(path).map_err(|e| format!("--ns {}: {e}", path.display()))?;
    let payload = if data.starts_with(b"\x7fELF") {
        if addr.is_some() {
            return Err(format!(
                "--ns {}: an ELF loads where it is linked; --ns-addr is for raw images",
                path.display()
            ));
        }
        let file = object::File::parse(&*data).map_err(|e| format!("--ns {}: {e}", path.display()))?;
        let (img, base) = elf_to_bin(&data).map_err(|e| format!("--ns {}: {e}", path.display()))?;
        let out = out_dir().join("ns-payload.bin");
        std::fs::create_dir_all(out_dir()).map_err(|e| e.to_string())?;
        std::fs::write(&out, &img).map_err(|e| format!("{}: {e}", out.display()))?;
        NsPayload { file: out, load: base, entry: file.entry() }
    } else {
        let load = addr.unwrap_or(map::NS_PAYLOAD_ADDR);
        NsPayload { file: path.to_path_buf(), load, entry: load }
    };
    let len = std::fs::metadata(&payload.file).map_err(|e| e.to_string())?.len();
    if len == 0 {
        return Err(format!("--ns {}: empty file", path.display()));
    }
    check_ns_placement(payload.load, len, payload.entry, ram_size)
        .map_err(|e| format!("--ns {}: {e}", path.display()))?;
    Ok(payload)
}

/// Builds everything (release) and packs two flash images: one entering
/// the normal world as `ns_boot` says (the harness, or an `--ns` payload), one
/// entering Linux; with `os_override`'s OS instead of ours if given.
pub fn build_with(os_override: Option<&Path>, ns_boot: NsBoot) -> Result<Images> {
    build_variant(Variant::Default, os_override, ns_boot)
}

/// The test build (see `Variant::Test`).
pub fn build_test() -> Result<Images> {
    build_variant(Variant::Test, None, HARNESS_BOOT)
}

/// The trusted OS ELF of `variant` (after a build).
pub fn os_elf(variant: Variant) -> PathBuf {
    variant.target_dir().join(SECURE_TARGET).join("release/oxtee-os")
}

/// `build_with` for either OS variant.
pub fn build_variant(variant: Variant, os_override: Option<&Path>, ns_boot: NsBoot) -> Result<Images> {
    let id = build_id();
    let mut secure = cargo();
    secure.env("OXTEE_BUILD_ID", &id).args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "oxtee-monitor",
        "-p",
        "oxtee-os",
        "--target",
        SECURE_TARGET,
    ]);
    if variant == Variant::Test {
        secure.args(["--features", "oxtee-os/test-hooks"]).arg("--target-dir").arg(variant.target_dir());
    }
    run_cmd(&mut secure)?;
    run_cmd(cargo().args(["build", "--quiet", "--release", "-p", "oxtee-harness", "--target", NS_TARGET]))?;
    let out = out_dir();
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let sec = variant.target_dir().join(SECURE_TARGET).join("release");
    let ns = root().join("target").join(NS_TARGET).join("release");
    let monitor_bin = out.join("monitor.bin");
    let os_bin = out.join(format!("os{}.bin", variant.suffix()));
    let harness = out.join("harness.bin");
    flatten(&sec.join("oxtee-monitor"), &monitor_bin)?;
    let os_base = flatten(&sec.join("oxtee-os"), &os_bin)?;
    if os_base != map::OS_BASE {
        return Err(format!("OS linked at {os_base:#x}, expected {:#x}", map::OS_BASE));
    }
    let ns_base = flatten(&ns.join("oxtee-harness"), &harness)?;
    if ns_base != map::NS_PAYLOAD_ADDR {
        return Err(format!("harness linked at {ns_base:#x}, expected {:#x}", map::NS_PAYLOAD_ADDR));
    }
    let os = match os_override {
        Some(p) => load_os(p)?,
        None => std::fs::read(&os_bin).map_err(|e| e.to_string())?,
    };
    let monitor = std::fs::read(&monitor_bin).map_err(|e| e.to_string())?;
    let tag = if os_override.is_some() { "-custom-os" } else { variant.suffix() };
    let ns_tag = if ns_boot == HARNESS_BOOT { String::new() } else { format!("-ns-{:x}", ns_boot.entry) };
    let flash = out.join(format!("flash{tag}{ns_tag}.bin"));
    std::fs::write(&flash, pack_flash(&monitor, &os, ns_boot, 0)?).map_err(|e| e.to_string())?;
    let flash_ffa = out.join(format!("flash{tag}{ns_tag}-ffa.bin"));
    std::fs::write(&flash_ffa, pack_flash(&monitor, &os, ns_boot, fwpkg::FLAG_SPMD)?).map_err(|e| e.to_string())?;
    let flash_linux = out.join(format!("flash-linux{tag}.bin"));
    std::fs::write(&flash_linux, pack_flash(&monitor, &os, LINUX_BOOT, 0)?).map_err(|e| e.to_string())?;
    let flash_linux_ffa = out.join(format!("flash-linux{tag}-ffa.bin"));
    std::fs::write(&flash_linux_ffa, pack_flash(&monitor, &os, LINUX_BOOT, fwpkg::FLAG_SPMD)?)
        .map_err(|e| e.to_string())?;
    Ok(Images { flash, flash_linux, flash_ffa, flash_linux_ffa, harness })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_flash_has_monitor_header_and_os_where_the_monitor_looks() {
        let flash = pack_flash(&[0xaa; 100], &[0x55; 300], HARNESS_BOOT, 0).unwrap();
        assert_eq!(&flash[..100], &[0xaa; 100]);
        let h = fwpkg::Header::parse(
            &flash[fwpkg::OFFSET as usize..],
            map::SECURE_FLASH_SIZE,
            (map::OS_BASE, map::OS_SIZE),
        )
        .unwrap();
        let os = &flash[h.os_offset as usize..(h.os_offset + h.os_size) as usize];
        assert_eq!(os, &[0x55; 300]);
        assert_eq!(h.os_entry, map::OS_BASE);
        assert!(!h.spmd());
        assert!(pack_flash(&vec![0; fwpkg::OFFSET as usize + 1], &[1], HARNESS_BOOT, 0).is_err());
        assert!(pack_flash(&[0], &vec![0; map::OS_SIZE as usize + 1], LINUX_BOOT, 0).is_err());
        // The FF-A configuration: the same images, the flag in the header.
        let flash = pack_flash(&[0xaa; 100], &[0x55; 300], HARNESS_BOOT, fwpkg::FLAG_SPMD).unwrap();
        let h = fwpkg::Header::parse(
            &flash[fwpkg::OFFSET as usize..],
            map::SECURE_FLASH_SIZE,
            (map::OS_BASE, map::OS_SIZE),
        )
        .unwrap();
        assert!(h.spmd());
        assert!(pack_flash(&[0xaa; 100], &[0x55; 300], HARNESS_BOOT, 1 << 7).is_err());
    }

    #[test]
    fn another_payload_entry_goes_into_the_package_header() {
        let ns = NsBoot { entry: 0x6000_0000, dtb: map::NS_DTB_ADDR };
        let flash = pack_flash(&[0xaa; 100], &[0x55; 300], ns, 0).unwrap();
        let h = fwpkg::Header::parse(
            &flash[fwpkg::OFFSET as usize..],
            map::SECURE_FLASH_SIZE,
            (map::OS_BASE, map::OS_SIZE),
        )
        .unwrap();
        assert_eq!((h.ns_entry, h.ns_dtb), (0x6000_0000, map::NS_DTB_ADDR));
    }

    #[test]
    fn payload_placement_is_checked() {
        const RAM: u64 = 1 << 30;
        let ok = |load, len, entry| check_ns_placement(load, len, entry, RAM);
        // The harness's own place, and TF-A's usual BL33 address.
        assert_eq!(ok(map::NS_PAYLOAD_ADDR, 0x1000, map::NS_PAYLOAD_ADDR), Ok(()));
        assert_eq!(ok(0x6000_0000, 0x10_0000, 0x6000_0800), Ok(()));
        assert_eq!(ok(map::DRAM_BASE + RAM - 0x1000, 0x1000, map::DRAM_BASE + RAM - 4), Ok(()));
        // Over the device tree, past the end of RAM, into the shared memory.
        assert!(ok(map::DRAM_BASE, 0x1000, map::DRAM_BASE).unwrap_err().contains("outside normal-world RAM"));
        assert!(ok(map::DRAM_BASE + RAM - 0x1000, 0x1001, map::DRAM_BASE + RAM - 0x1000).is_err());
        assert!(ok(0x0e10_0000, 0x1000, 0x0e10_0000).is_err());
        assert!(ok(u64::MAX - 1, 0x10, u64::MAX - 1).is_err());
        let shm = ok(map::STATIC_SHM_BASE - 0x1000, 0x1001, map::STATIC_SHM_BASE - 0x1000).unwrap_err();
        assert!(shm.contains("static shared memory"), "{shm}");
        // The entry must be an instruction inside it.
        assert!(ok(0x6000_0000, 0x1000, 0x6000_0002).is_err());
        assert!(ok(0x6000_0000, 0x1000, 0x6000_1000).is_err());
    }
}
