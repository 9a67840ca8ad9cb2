//! The OS's side of the GIC: it claims its own interrupts as secure (the
//! monitor set everything else up as non-secure), acknowledges and ends
//! them. GICv2 (secure interrupts are group 0, signalled as FIQ) and GICv3
//! (secure group 1, signalled as IRQ at S-EL1) are both handled.

use core::arch::asm;
use oxtee_platform::map;

const GICD_IGROUPR: u64 = 0x080;
const GICD_ISENABLER: u64 = 0x100;
const GICD_ISPENDR: u64 = 0x200;
const GICD_ICFGR: u64 = 0xc00;
const GICD_SGIR: u64 = 0xf00;
const GICD_IPRIORITYR: u64 = 0x400;
const GICD_IGRPMODR: u64 = 0xd00;
const GICC_IAR: u64 = 0x0c;
const GICC_EOIR: u64 = 0x10;
/// Redistributor stride (RD + SGI frames) and SGI frame offset.
const GICR_STRIDE: u64 = 0x2_0000;
const GICR_SGI: u64 = 0x1_0000;

/// Priority of secure interrupts: above anything the normal world uses.
const SECURE_PRIORITY: u8 = 0x10;

pub const SPURIOUS: u32 = 1023;

pub fn is_v3() -> bool {
    let pfr0: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { asm!("mrs {}, id_aa64pfr0_el1", out(reg) pfr0, options(nomem, nostack)) };
    (pfr0 >> 24) & 0xf != 0
}

fn read32(addr: u64) -> u32 {
    // SAFETY: addr is a GIC register, mapped as device memory by `mm`.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn write32(addr: u64, v: u32) {
    // SAFETY: as in read32; GIC register writes have no memory-safety effect.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

fn write8(addr: u64, v: u8) {
    // SAFETY: priority registers are byte-accessible GIC registers.
    unsafe { core::ptr::write_volatile(addr as *mut u8, v) }
}

/// Makes private interrupt `intid` a secure interrupt of this CPU and
/// enables it. Called on every CPU (the registers are banked per CPU).
pub fn claim_private(cpu: usize, intid: u32) {
    let bit = 1u32 << intid;
    if is_v3() {
        let sgi = map::GICR_BASE + cpu as u64 * GICR_STRIDE + GICR_SGI;
        write32(sgi + GICD_IGROUPR, read32(sgi + GICD_IGROUPR) & !bit);
        write32(sgi + GICD_IGRPMODR, read32(sgi + GICD_IGRPMODR) | bit);
        write8(sgi + GICD_IPRIORITYR + intid as u64, SECURE_PRIORITY);
        write32(sgi + GICD_ISENABLER, bit);
    } else {
        let d = map::GICD_BASE;
        write32(d + GICD_IGROUPR, read32(d + GICD_IGROUPR) & !bit);
        write8(d + GICD_IPRIORITYR + intid as u64, SECURE_PRIORITY);
        write32(d + GICD_ISENABLER, bit);
    }
}

/// Makes private interrupt `intid` a non-secure group 1 interrupt of this
/// CPU, disabled and not pending, for the normal world to configure: FF-A's
/// schedule receiver interrupt, which TF-A's QEMU port sets up as a secure
/// SGI (it claims SGIs 8-15) and our monitor leaves non-secure.
pub fn donate_private(cpu: usize, intid: u32) {
    const GICD_ICENABLER: u64 = 0x180;
    const GICD_ICPENDR: u64 = 0x280;
    let bit = 1u32 << intid;
    let base = if is_v3() { map::GICR_BASE + cpu as u64 * GICR_STRIDE + GICR_SGI } else { map::GICD_BASE };
    write32(base + GICD_ICENABLER, bit);
    write32(base + GICD_ICPENDR, bit);
    write32(base + GICD_IGROUPR, read32(base + GICD_IGROUPR) | bit);
    if is_v3() {
        write32(base + GICD_IGRPMODR, read32(base + GICD_IGRPMODR) & !bit);
    }
}

/// Per-CPU CPU-interface set-up for the secure side.
pub fn init_cpu() {
    if is_v3() {
        // SAFETY: ICC_SRE_EL1.SRE (secure bank) enables the system-register
        // interface, which EL3 allowed; IGRPEN1 (secure bank) enables
        // secure group 1 delivery to this CPU.
        unsafe {
            asm!(
                "mrs {t}, S3_0_C12_C12_5",
                "orr {t}, {t}, #1",
                "msr S3_0_C12_C12_5, {t}",
                "isb",
                "mov {t}, #1",
                "msr S3_0_C12_C12_7, {t}",
                "isb",
                t = out(reg) _,
                options(nostack),
            )
        };
    }
}

/// An acknowledged interrupt: its INTID, and the value `end` must write
/// back (GICv2 adds an SGI's source CPU).
#[derive(Clone, Copy)]
pub struct Acked {
    pub intid: u32,
    raw: u32,
}

/// Acknowledges the highest-priority pending secure interrupt.
pub fn ack() -> Acked {
    if is_v3() {
        let iar: u64;
        // SAFETY: ICC_IAR1_EL1 read acknowledges a secure group 1 interrupt.
        unsafe { asm!("mrs {}, S3_0_C12_C12_0", out(reg) iar, options(nostack)) };
        let intid = (iar & 0xff_ffff) as u32;
        Acked { intid, raw: intid }
    } else {
        let raw = read32(map::GICC_BASE + GICC_IAR) & 0x1fff;
        Acked { intid: raw & 0x3ff, raw }
    }
}

pub fn end(irq: Acked) {
    if is_v3() {
        // SAFETY: ICC_EOIR1_EL1 ends the interrupt acknowledged above.
        unsafe { asm!("msr S3_0_C12_C12_1, {}", "isb", in(reg) irq.raw as u64, options(nostack)) };
    } else {
        write32(map::GICC_BASE + GICC_EOIR, irq.raw);
    }
}

/// The ICC_SGI1R_EL1 / ICC_ASGI1R_EL1 value that sends SGI `intid` to
/// this CPU alone: its affinity, range selector Aff0 / 16 and target-list
/// bit Aff0 % 16.
fn sgi1r_self(intid: u32) -> u64 {
    let mpidr: u64;
    // SAFETY: reading MPIDR_EL1 has no side effects.
    unsafe { asm!("mrs {}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
    let aff0 = mpidr & 0xff;
    let aff1 = (mpidr >> 8) & 0xff;
    let aff2 = (mpidr >> 16) & 0xff;
    let aff3 = (mpidr >> 32) & 0xff;
    (aff3 << 48)
        | ((aff0 >> 4) << 44)
        | (aff2 << 32)
        | ((intid as u64 & 0xf) << 24)
        | (aff1 << 16)
        | (1 << (aff0 & 0xf))
}

/// Sends secure SGI `intid` (claimed with `claim_private`) to this CPU.
#[cfg(feature = "test-hooks")]
pub fn raise_secure_sgi_self(intid: u32) {
    if is_v3() {
        let v = sgi1r_self(intid);
        // SAFETY: ICC_SGI1R_EL1 written from the secure side raises a
        // secure group 1 SGI at the CPU named (this one); it only makes
        // the OS's own interrupt pending.
        unsafe { asm!("msr S3_0_C12_C11_5, {}", "isb", in(reg) v, options(nostack)) };
    } else {
        // TargetListFilter 0b10: this CPU only; NSATT 0: group 0 (secure).
        write32(map::GICD_BASE + GICD_SGIR, (0b10 << 24) | (intid & 0xf));
    }
}

/// Makes shared interrupt `intid` a non-secure (group 1), edge-triggered
/// one: the normal world enables and routes it.
pub fn configure_ns_edge_spi(intid: u32) {
    let d = map::GICD_BASE;
    let (word, bit) = (4 * (intid / 32) as u64, 1u32 << (intid % 32));
    write32(d + GICD_IGROUPR + word, read32(d + GICD_IGROUPR + word) | bit);
    if is_v3() {
        write32(d + GICD_IGRPMODR + word, read32(d + GICD_IGRPMODR + word) & !bit);
    }
    let cfg = d + GICD_ICFGR + 4 * (intid / 16) as u64;
    write32(cfg, read32(cfg) | (0b10 << (2 * (intid % 16))));
}

/// Sets shared interrupt `intid` pending (a secure write reaches either
/// group); from any CPU, in any context.
pub fn set_pending(intid: u32) {
    write32(map::GICD_BASE + GICD_ISPENDR + 4 * (intid / 32) as u64, 1 << (intid % 32));
}

/// Raises non-secure SGI `intid` on this CPU from the secure side (FF-A's
/// schedule receiver interrupt): GICv2 through GICD_SGIR with NSATT set,
/// GICv3 through ICC_ASGI1R_EL1, which from secure state raises the SGI in
/// the non-secure group 1.
pub fn raise_ns_sgi_self(intid: u32) {
    let intid = intid & 0xf;
    if is_v3() {
        let v = sgi1r_self(intid);
        // SAFETY: ICC_ASGI1R_EL1 only generates an SGI; EL3 enabled the
        // system-register interface for S-EL1.
        unsafe { asm!("msr S3_0_C12_C11_6, {}", "isb", in(reg) v, options(nostack)) };
    } else {
        // TargetListFilter 0b10: this CPU only; NSATT (bit 15): group 1.
        write32(map::GICD_BASE + GICD_SGIR, (0b10 << 24) | (1 << 15) | intid);
    }
}
