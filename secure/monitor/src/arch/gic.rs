//! GIC set-up at EL3, as TF-A does before any other world runs: every
//! interrupt starts as non-secure group 1; the distributor and each CPU
//! interface enable group 0 and secure group 1 (non-secure group 1 is the
//! normal world's to enable, as Linux does); each GICv3 redistributor is
//! woken and its CPU interface fully set up (system-register access for
//! every EL, priority mask, group enables). The trusted OS then claims the
//! interrupts it wants as secure.
//!
//! A trusted OS built to run under TF-A (upstream OP-TEE) relies on all of
//! that per CPU: it never enables secure group 1 itself. With it disabled
//! at a CPU interface, a pending secure interrupt (OP-TEE's secure timer)
//! can never be taken, and QEMU's GICv3 then signals nothing of lower
//! priority either, so that CPU's normal world never sees another
//! interrupt. That is the hang Linux had on 4 CPUs with GICv3.

use oxtee_platform::map;

const GICD_CTLR: u64 = 0x000;
const GICD_TYPER: u64 = 0x004;
const GICD_IGROUPR: u64 = 0x080;
const GICD_ICENABLER: u64 = 0x180;
const GICD_IGRPMODR: u64 = 0xd00;
const GICD_IPRIORITYR: u64 = 0x400;
/// Default priority of normal-world interrupts: the middle, so secure
/// interrupts (the OS uses 0x10) always win.
const NS_PRIORITY_X4: u32 = 0x8080_8080;
/// GICD_CTLR: EnableGrp0, EnableGrp1S (GICv3), ARE_S, ARE_NS, RWP.
const CTLR_ENABLE_G0: u32 = 1 << 0;
const CTLR_V3_ENABLE_G1S: u32 = 1 << 2;
const CTLR_ARE_S: u32 = 1 << 4;
const CTLR_ARE_NS: u32 = 1 << 5;
const CTLR_RWP: u32 = 1 << 31;
const GICC_CTLR: u64 = 0x000;
const GICC_PMR: u64 = 0x004;
/// GICC_CTLR (secure view): EnableGrp0, FIQEn (group 0 as FIQ) and the
/// four bypass disables; group 1 is the normal world's to enable.
const GICC_CTLR_SECURE: u32 = (1 << 0) | (1 << 3) | (0b1111 << 5);
const GICR_CTLR: u64 = 0x000;
const GICR_WAKER: u64 = 0x014;
const GICR_STRIDE: u64 = 0x2_0000;
const GICR_SGI: u64 = 0x1_0000;
/// ICC_SRE_ELx: SRE (system registers) and, for EL2, Enable (EL1 may use
/// them too).
const ICC_SRE_SRE: u64 = 1 << 0;
const ICC_SRE_EL2_ENABLE: u64 = 1 << 3;
/// ICC_IGRPEN1_EL3.EnableGrp1S.
const IGRPEN1_EL3_G1S: u64 = 1 << 1;
const SCR_NS: u64 = 1 << 0;

fn read32(addr: u64) -> u32 {
    // SAFETY: addr is a GIC register of this platform, mapped as device
    // memory by the EL3 tables.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn write32(addr: u64, v: u32) {
    // SAFETY: as in read32; register writes have no memory-safety effect.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

fn wait_rwp(ctlr: u64) {
    while read32(ctlr) & CTLR_RWP != 0 {
        core::hint::spin_loop();
    }
}

/// Distributor set-up, once, on the primary CPU.
pub fn init_distributor(v3: bool) {
    let d = map::GICD_BASE;
    let lines = (read32(d + GICD_TYPER) & 0x1f) + 1;
    write32(d + GICD_CTLR, 0);
    if v3 {
        wait_rwp(d + GICD_CTLR);
        // Affinity routing for both security states.
        write32(d + GICD_CTLR, CTLR_ARE_S | CTLR_ARE_NS);
        wait_rwp(d + GICD_CTLR);
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
        write32(d + GICD_CTLR, CTLR_ARE_S | CTLR_ARE_NS | CTLR_ENABLE_G0 | CTLR_V3_ENABLE_G1S);
        wait_rwp(d + GICD_CTLR);
    } else {
        write32(d + GICD_CTLR, CTLR_ENABLE_G0);
    }
    // The normal world's group (GICv2 EnableGrp1, GICv3 EnableGrp1NS)
    // stays off until the normal world enables it.
}

/// Per-CPU set-up (cold boot, and every CPU_ON).
pub fn init_cpu(cpu: usize, v3: bool) {
    if v3 {
        let rd = map::GICR_BASE + cpu as u64 * GICR_STRIDE;
        write32(rd + GICR_WAKER, read32(rd + GICR_WAKER) & !(1 << 1));
        while read32(rd + GICR_WAKER) & (1 << 2) != 0 {
            core::hint::spin_loop();
        }
        // SGIs and PPIs: all disabled, then non-secure group 1 at the
        // default priority.
        write32(rd + GICR_SGI + GICD_ICENABLER, 0xffff_ffff);
        wait_rwp(rd + GICR_CTLR);
        write32(rd + GICR_SGI + GICD_IGROUPR, 0xffff_ffff);
        write32(rd + GICR_SGI + GICD_IGRPMODR, 0);
        for j in 0..8 {
            write32(rd + GICR_SGI + GICD_IPRIORITYR + 4 * j, NS_PRIORITY_X4);
        }
        cpu_interface_v3();
    } else {
        let d = map::GICD_BASE;
        write32(d + GICD_ICENABLER, 0xffff_ffff);
        write32(d + GICD_IGROUPR, 0xffff_ffff);
        for j in 0..8 {
            write32(d + GICD_IPRIORITYR + 4 * j, NS_PRIORITY_X4);
        }
        let c = map::GICC_BASE;
        write32(c + GICC_CTLR, GICC_CTLR_SECURE);
        write32(c + GICC_PMR, 0xff);
    }
}

/// The GICv3 CPU interface of this CPU, for every exception level: system
/// registers on in both security states' ICC_SRE_EL1 (and ICC_SRE_EL2
/// with EL2), priority mask open, group 0 and secure group 1 enabled.
/// ICC_SRE_EL3 is set by `init_el3`.
fn cpu_interface_v3() {
    let el2 = super::has_el2();
    // SAFETY: SCR_EL3.NS is set only around the writes to the non-secure
    // copies of the banked GIC system registers and restored at once; the
    // monitor takes no exception meanwhile (interrupts masked at EL3).
    unsafe {
        core::arch::asm!(
            "mrs {scr}, scr_el3",
            "orr {t}, {scr}, {ns}",
            "msr scr_el3, {t}",
            "isb",
            "mrs {t}, S3_0_C12_C12_5",
            "orr {t}, {t}, {sre}",
            "msr S3_0_C12_C12_5, {t}",
            "isb",
            "msr scr_el3, {scr}",
            "isb",
            scr = out(reg) _,
            t = out(reg) _,
            ns = in(reg) SCR_NS,
            sre = in(reg) ICC_SRE_SRE,
            options(nostack),
        )
    };
    if el2 {
        // SAFETY: ICC_SRE_EL2 exists when EL2 does (checked above); SRE and
        // Enable let the normal world's EL2 and EL1 use the system registers.
        unsafe {
            core::arch::asm!(
                "mrs {t}, S3_4_C12_C9_5",
                "orr {t}, {t}, {v}",
                "msr S3_4_C12_C9_5, {t}",
                "isb",
                t = out(reg) _,
                v = in(reg) ICC_SRE_SRE | ICC_SRE_EL2_ENABLE,
                options(nostack),
            )
        };
    }
    // SAFETY: with SCR_EL3.NS clear these are the secure copies: SRE for
    // S-EL1, then the priority mask (shared), group 0 enable and, through
    // ICC_IGRPEN1_EL3, secure group 1 (the non-secure enable is kept).
    unsafe {
        core::arch::asm!(
            "mrs {t}, S3_0_C12_C12_5",
            "orr {t}, {t}, {sre}",
            "msr S3_0_C12_C12_5, {t}",
            "isb",
            "mov {t}, #0xff",
            "msr S3_0_C4_C6_0, {t}",
            "mov {t}, #1",
            "msr S3_0_C12_C12_6, {t}",
            "mrs {t}, S3_6_C12_C12_7",
            "orr {t}, {t}, {g1s}",
            "msr S3_6_C12_C12_7, {t}",
            "isb",
            "dsb sy",
            t = out(reg) _,
            sre = in(reg) ICC_SRE_SRE,
            g1s = in(reg) IGRPEN1_EL3_G1S,
            options(nostack),
        )
    };
}
