//! Physical memory map of QEMU `virt` with `secure=on`, as the secure world
//! uses it. See docs/architecture.md for the picture.

/// Secure flash bank 0: QEMU loads `-bios` here and every CPU starts at 0.
pub const SECURE_FLASH_BASE: u64 = 0x0000_0000;
pub const SECURE_FLASH_SIZE: u64 = 0x0200_0000;

/// Secure-only RAM.
pub const SECURE_RAM_BASE: u64 = 0x0e00_0000;
pub const SECURE_RAM_SIZE: u64 = 0x0100_0000;

/// The monitor runs from the bottom MiB of secure RAM.
pub const MONITOR_BASE: u64 = SECURE_RAM_BASE;
pub const MONITOR_SIZE: u64 = 0x0010_0000;

/// The trusted OS image is loaded and entered here (same as OP-TEE on QEMU,
/// so TF-A's `opteed` and upstream optee_os agree with us).
pub const OS_BASE: u64 = 0x0e10_0000;
pub const OS_SIZE: u64 = SECURE_RAM_BASE + SECURE_RAM_SIZE - OS_BASE;

pub const GICD_BASE: u64 = 0x0800_0000;
pub const GICC_BASE: u64 = 0x0801_0000;
pub const GICR_BASE: u64 = 0x080a_0000;

/// The OS's asynchronous-notification interrupt (SMC transport): SPI 187,
/// INTID 219, which QEMU `virt` leaves unused and upstream OP-TEE's
/// qemu_armv8a port raises (`CFG_CORE_ASYNC_NOTIF_GIC_INTID`). A
/// non-secure, edge-triggered SPI the OS sets pending and Linux's `optee`
/// driver takes (the device tree names it in the `optee` node).
pub const ASYNC_NOTIF_INTID: u32 = 219;
/// First SPI INTID (the device tree numbers SPIs from here).
pub const GIC_SPI_BASE: u32 = 32;

pub const NS_UART_BASE: u64 = 0x0900_0000;
pub const SECURE_UART_BASE: u64 = 0x0904_0000;

/// Secure PL061 GPIO wired to QEMU's power controller.
pub const SECURE_GPIO_BASE: u64 = 0x090b_0000;
pub const GPIO_PIN_POWEROFF: u32 = 0;
pub const GPIO_PIN_RESET: u32 = 1;

pub const DRAM_BASE: u64 = 0x4000_0000;

/// QEMU places its device tree at the base of RAM when it boots firmware.
pub const NS_DTB_ADDR: u64 = DRAM_BASE;

/// Where `cargo xtask` loads a bare-metal normal-world payload.
pub const NS_PAYLOAD_ADDR: u64 = 0x4020_0000;

/// A word the harness reads at start to pick its mode (tests or benchmark);
/// `cargo xtask` writes it with QEMU's generic loader.
pub const HARNESS_MODE_ADDR: u64 = 0x41ff_f000;
/// Harness mode: on a machine with more CPUs than the platform supports,
/// check that the extra ones stay parked and the rest work.
pub const HARNESS_MODE_TOPOLOGY: u32 = 0x70b0_0001;
/// Mode word values: benchmarks, or the hostile campaign alone (soak).
pub const HARNESS_MODE_BENCH: u32 = 0xbe4c_0001;
pub const HARNESS_MODE_SOAK: u32 = 0x50a4_0001;
/// Harness mode: the default (production) OS image, no test PTA; only what
/// a user's normal world sees is checked.
pub const HARNESS_MODE_PRODUCTION: u32 = 0x9d0d_0001;
/// u64 arguments after the mode word (0 = the harness's default): the
/// hostile campaign's seed, its SMC target and the phases it runs.
pub const HARNESS_ARG_SEED: u64 = HARNESS_MODE_ADDR + 8;
pub const HARNESS_ARG_SMCS: u64 = HARNESS_MODE_ADDR + 16;
pub const HARNESS_ARG_PHASES: u64 = HARNESS_MODE_ADDR + 24;
/// A u64 the OS reads at cold boot (before the normal world runs) for its
/// log level: `SECURE_LOG_MAGIC << 32 | level`, level 1 (error) to 5
/// (trace); anything else keeps the default (info). `cargo xtask run
/// --log LEVEL` writes it with QEMU's generic loader.
pub const SECURE_LOG_ADDR: u64 = HARNESS_MODE_ADDR + 0x40;
pub const SECURE_LOG_MAGIC: u64 = 0x106c_e7e1;

/// The level a `SECURE_LOG_ADDR` word asks for (1 error .. 5 trace).
pub const fn secure_log_level(word: u64) -> Option<u8> {
    let level = (word & 0xff) as u8;
    if word >> 32 == SECURE_LOG_MAGIC && (word >> 8) & 0xff_ffff == 0 && level >= 1 && level <= 5 {
        Some(level)
    } else {
        None
    }
}

/// Where `cargo xtask` places Linux: the kernel Image (2 MiB aligned, above
/// the static shared memory), its device tree, and the initramfs.
pub const LINUX_KERNEL_ADDR: u64 = 0x4800_0000;
pub const LINUX_DTB_ADDR: u64 = 0x47e0_0000;
pub const LINUX_INITRD_ADDR: u64 = 0x5000_0000;

/// Reserved static shared memory (`HAVE_RESERVED_SHM`, `GET_SHM_CONFIG`).
pub const STATIC_SHM_BASE: u64 = 0x4200_0000;
pub const STATIC_SHM_SIZE: u64 = 0x0020_0000;

/// True if `[base, base+len)` lies wholly inside secure RAM or flash.
pub const fn overlaps_secure(base: u64, len: u64) -> bool {
    let end = match base.checked_add(len) {
        Some(e) => e,
        None => return true,
    };
    let ram_end = SECURE_RAM_BASE + SECURE_RAM_SIZE;
    let flash_end = SECURE_FLASH_BASE + SECURE_FLASH_SIZE;
    (base < ram_end && end > SECURE_RAM_BASE) || (base < flash_end && end > SECURE_FLASH_BASE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_consistent() {
        assert_eq!(MONITOR_BASE + MONITOR_SIZE, OS_BASE);
        assert_eq!(OS_SIZE, 15 * 1024 * 1024);
        assert!(overlaps_secure(OS_BASE, 1));
        assert!(overlaps_secure(SECURE_RAM_BASE - 1, 2));
        assert!(!overlaps_secure(STATIC_SHM_BASE, STATIC_SHM_SIZE));
        assert!(overlaps_secure(u64::MAX, 2));
        assert!(!overlaps_secure(DRAM_BASE, 0x1000));
    }
}
