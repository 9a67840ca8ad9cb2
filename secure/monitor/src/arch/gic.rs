//! GIC set-up at EL3, as firmware does before any other world runs: every
//! interrupt starts as non-secure group 1, all groups are enabled, and each
//! CPU interface (GICv2) or redistributor (GICv3) is brought up. The trusted
//! OS then claims the interrupts it wants as secure.

use oxtee_platform::map;

const GICD_CTLR: u64 = 0x000;
const GICD_TYPER: u64 = 0x004;
const GICD_IGROUPR: u64 = 0x080;
const GICD_IGRPMODR: u64 = 0xd00;
const GICD_IPRIORITYR: u64 = 0x400;
/// Default priority of normal-world interrupts: the middle, so secure
/// interrupts (the OS uses 0x10) always win.
const NS_PRIORITY_X4: u32 = 0x8080_8080;
const GICC_CTLR: u64 = 0x000;
const GICC_PMR: u64 = 0x004;
const GICR_WAKER: u64 = 0x014;
const GICR_STRIDE: u64 = 0x2_0000;
const GICR_SGI: u64 = 0x1_0000;

fn read32(addr: u64) -> u32 {
    // SAFETY: addr is a GIC register of this platform; the monitor runs with
    // the MMU off, so it is accessed as device memory.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn write32(addr: u64, v: u32) {
    // SAFETY: as in read32; register writes have no memory-safety effect.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

fn wait_rwp() {
    while read32(map::GICD_BASE + GICD_CTLR) & (1 << 31) != 0 {
        core::hint::spin_loop();
    }
}

/// Distributor set-up, once, on the primary CPU.
pub fn init_distributor(v3: bool) {
    let d = map::GICD_BASE;
    let lines = (read32(d + GICD_TYPER) & 0x1f) + 1;
    if v3 {
        write32(d + GICD_CTLR, 0);
        wait_rwp();
        // Affinity routing for both security states.
        write32(d + GICD_CTLR, (1 << 4) | (1 << 5));
        wait_rwp();
    } else {
        write32(d + GICD_CTLR, 0);
    }
    for i in 1..lines as u64 {
        write32(d + GICD_IGROUPR + 4 * i, 0xffff_ffff);
        if v3 {
            write32(d + GICD_IGRPMODR + 4 * i, 0);
        }
        for j in 0..8 {
            write32(d + GICD_IPRIORITYR + 32 * i + 4 * j, NS_PRIORITY_X4);
        }
    }
    if v3 {
        // EnableGrp0 | EnableGrp1NS | EnableGrp1S, keeping ARE_S/ARE_NS.
        write32(d + GICD_CTLR, (1 << 4) | (1 << 5) | 0b111);
        wait_rwp();
    } else {
        write32(d + GICD_CTLR, 0b11);
    }
}

/// Per-CPU set-up (cold and warm boot).
pub fn init_cpu(cpu: usize, v3: bool) {
    if v3 {
        let rd = map::GICR_BASE + cpu as u64 * GICR_STRIDE;
        write32(rd + GICR_WAKER, read32(rd + GICR_WAKER) & !(1 << 1));
        while read32(rd + GICR_WAKER) & (1 << 2) != 0 {
            core::hint::spin_loop();
        }
        write32(rd + GICR_SGI + GICD_IGROUPR, 0xffff_ffff);
        write32(rd + GICR_SGI + GICD_IGRPMODR, 0);
        for j in 0..8 {
            write32(rd + GICR_SGI + GICD_IPRIORITYR + 4 * j, NS_PRIORITY_X4);
        }
        // SAFETY: ICC_PMR_EL1 is shared by both worlds; start it open.
        unsafe { core::arch::asm!("mov {t}, #0xff", "msr S3_0_C4_C6_0, {t}", "isb", t = out(reg) _, options(nostack)) };
    } else {
        let d = map::GICD_BASE;
        write32(d + GICD_IGROUPR, 0xffff_ffff);
        for j in 0..8 {
            write32(d + GICD_IPRIORITYR + 4 * j, NS_PRIORITY_X4);
        }
        let c = map::GICC_BASE;
        // Secure view: EnableGrp0 | EnableGrp1 | FIQEn (group 0 as FIQ).
        write32(c + GICC_CTLR, 0b1011);
        write32(c + GICC_PMR, 0xff);
    }
}
