//! Raw physical memory the monitor reads at cold boot: the firmware package
//! in secure flash, the device tree QEMU left in RAM, and the OS image
//! destination. The monitor runs with the MMU off, so physical = virtual.

use oxtee_platform::{fwpkg, map};

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
    // Make the new code visible to instruction fetch.
    // SAFETY: cache maintenance only.
    unsafe { core::arch::asm!("dsb sy", "ic iallu", "dsb sy", "isb", options(nostack)) };
}

pub struct Topology {
    pub cpus: usize,
    /// Normal-world DRAM (base, size).
    pub dram: (u64, u64),
}

/// CPU count and DRAM range from the device tree QEMU generated. Read at
/// cold boot, before the normal world has run, so it is still QEMU's.
pub fn read_topology(dtb: u64) -> Topology {
    let fallback = Topology { cpus: 1, dram: (map::DRAM_BASE, 0x0800_0000) };
    let head = phys_slice(dtb, 8);
    if head[..4] != [0xd0, 0x0d, 0xfe, 0xed] {
        log::warn!("no device tree at {dtb:#x}; assuming one CPU");
        return fallback;
    }
    let size = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
    if size > 0x20_0000 {
        return fallback;
    }
    let Ok(fdt) = fdt::Fdt::new(phys_slice(dtb, size)) else {
        return fallback;
    };
    let cpus = fdt.cpus().count().clamp(1, oxtee_platform::MAX_CPUS);
    let dram = fdt
        .memory()
        .regions()
        .next()
        .map(|r| (r.starting_address as u64, r.size.unwrap_or(0) as u64))
        .unwrap_or(fallback.dram);
    Topology { cpus, dram }
}
