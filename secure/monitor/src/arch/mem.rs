//! Raw physical memory the monitor reads at cold boot: the firmware package
//! in secure flash, the device trees in normal-world RAM (QEMU's, and the
//! payload's), and the OS image destination. The EL3 tables identity-map
//! all of them.

use oxtee_abi::addr::{NsPhys, NsRange};
use oxtee_platform::{dtb, fwpkg, map};

/// Largest device tree the monitor reads or edits (QEMU's is 1 MiB at most,
/// OP-TEE grows the one it is given to `CFG_DTB_MAX_SIZE`, 1 MiB).
const MAX_TREE: usize = 0x20_0000;

/// Reads a byte range of physical memory that nothing else is writing.
fn phys_slice(addr: u64, len: usize) -> &'static [u8] {
    // SAFETY: callers pass ranges inside secure flash or RAM that exist on
    // this platform and are not written while the slice lives (cold boot,
    // one CPU running, before any other world has run).
    unsafe { core::slice::from_raw_parts(addr as *const u8, len) }
}

pub fn read_package_header() -> Result<fwpkg::Header, fwpkg::Error> {
    let bytes = phys_slice(map::SECURE_FLASH_BASE + fwpkg::OFFSET, fwpkg::Header::SIZE);
    fwpkg::Header::parse(bytes, map::SECURE_FLASH_SIZE, (map::OS_BASE, map::OS_SIZE))
}

/// Copies the OS image from flash to its secure load address. The header
/// has been validated: both ranges are in bounds and do not overlap.
pub fn copy_os_image(h: &fwpkg::Header) {
    let src = phys_slice(map::SECURE_FLASH_BASE + h.os_offset, h.os_size as usize);
    // SAFETY: the destination lies inside the OS's secure RAM region
    // (checked by Header::parse), which no one else uses before the OS runs.
    let dst = unsafe { core::slice::from_raw_parts_mut(h.os_load_addr as *mut u8, h.os_size as usize) };
    dst.copy_from_slice(src);
    // The OS starts with its MMU (and caches) off: push the image to memory,
    // then make it visible to instruction fetch.
    super::mmu::clean_invalidate(h.os_load_addr, h.os_size);
    // SAFETY: cache maintenance only.
    unsafe { core::arch::asm!("dsb sy", "ic iallu", "dsb sy", "isb", options(nostack)) };
}

/// Runs `f` on the device tree at `addr` in normal-world RAM, which no
/// other CPU or world uses meanwhile (cold boot, before the normal world
/// runs). `None` if there is no tree there or it is too large. Caches are
/// cleaned around the access, for worlds that run with their MMU off.
pub fn with_tree<R>(at: NsPhys, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
    let addr = at.get();
    let window = map::DRAM_BASE..map::DRAM_BASE + 0x4000_0000;
    if !window.contains(&addr) {
        return None;
    }
    super::mmu::clean_invalidate(addr, 64);
    let size = dtb::total_size(phys_slice(addr, 8))?;
    if size > MAX_TREE || addr + size as u64 > window.end {
        return None;
    }
    // SAFETY: the range is normal-world RAM holding a device tree (mapped
    // read-write non-secure) that nothing else touches while the monitor
    // edits it: the normal world has not run yet and the OS has returned.
    let tree = unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, size) };
    // Only the part holding data can have been written (QEMU's tree is
    // 1 MiB, mostly free space).
    let used = dtb::used_size(tree).unwrap_or(size) as u64;
    super::mmu::clean_invalidate(addr, used);
    let r = f(tree);
    super::mmu::clean_invalidate(addr, used);
    Some(r)
}

pub struct Topology {
    pub cpus: usize,
    /// Normal-world DRAM.
    pub dram: NsRange,
}

/// Runs `f` on two distinct device trees at once: `src` to read, `dst` to
/// edit (see `with_tree`). `None` unless both are there and do not overlap.
pub fn with_trees<R>(src: NsPhys, dst: NsPhys, f: impl FnOnce(&[u8], &mut [u8]) -> R) -> Option<R> {
    let span = |at: NsPhys| with_tree(at, |t| (at.get(), at.get() + t.len() as u64));
    let (a, b) = (span(src)?, span(dst)?);
    if a.0 < b.1 && b.0 < a.1 {
        return None;
    }
    // The two ranges are disjoint (checked above), so the shared and the
    // exclusive slice never alias.
    with_tree(src, |s| with_tree(dst, |d| f(s, d)))?
}

/// CPU count and DRAM range from the device tree QEMU generated. Read at
/// cold boot, before the normal world has run, so it is still QEMU's.
pub fn read_topology(dtb: NsPhys) -> Topology {
    with_tree(dtb, |tree| topology(tree)).unwrap_or_else(|| {
        log::warn!("no device tree at {dtb:#x}; assuming one CPU");
        Topology { cpus: 1, dram: NsRange::new(NsPhys::new(map::DRAM_BASE), 0x0800_0000) }
    })
}

fn topology(tree: &[u8]) -> Topology {
    let fallback = Topology { cpus: 1, dram: NsRange::new(NsPhys::new(map::DRAM_BASE), 0x0800_0000) };
    let Ok(fdt) = fdt::Fdt::new(tree) else {
        return fallback;
    };
    let present = fdt.cpus().count();
    let cpus = present.clamp(1, oxtee_platform::MAX_CPUS);
    if present > cpus {
        log::warn!("{present} CPUs in the device tree; CPUs past {cpus} stay parked");
    }
    let dram = fdt
        .memory()
        .regions()
        .next()
        .map(|r| NsRange::new(NsPhys::new(r.starting_address as u64), r.size.unwrap_or(0) as u64))
        .unwrap_or(fallback.dram);
    Topology { cpus, dram }
}
