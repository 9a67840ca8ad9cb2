//! The normal world's own interrupt: a 10 ms tick from the EL1 virtual
//! timer on every CPU, counted per CPU. It fires while secure calls run, so
//! the OS must hand the CPU back (RPC_FOREIGN_INTR) for it to be counted.

use crate::arch;
use core::sync::atomic::{AtomicU64, Ordering};
use oxtee_platform::{MAX_CPUS, map};

const VTIMER_INTID: u32 = 27;
const GICD_ISENABLER: u64 = 0x100;
const GICC_CTLR: u64 = 0x000;
const GICC_PMR: u64 = 0x004;
const GICC_IAR: u64 = 0x00c;
const GICC_EOIR: u64 = 0x010;

pub static TICKS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// FF-A schedule receiver interrupts taken, per CPU.
pub static SRIS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static PERIOD: AtomicU64 = AtomicU64::new(0);

const GICD_CTLR: u64 = 0x000;
/// GICD_CTLR, non-secure view: EnableGrp1 (bit 0), with affinity routing
/// EnableGrp1A (bit 1) and ARE_NS (bit 4); RWP (bit 31).
const GICD_CTLR_NS_ENABLE_V3: u32 = (1 << 4) | (1 << 1) | 1;
const GICD_CTLR_NS_ENABLE_V2: u32 = 1;
const GICD_CTLR_RWP: u32 = 1 << 31;

/// Enables the distributor for the normal world's group, as Linux does:
/// firmware (TF-A, ours) leaves it to the normal world.
fn enable_distributor() {
    let ctlr = map::GICD_BASE + GICD_CTLR;
    let want = if arch::gic_v3() { GICD_CTLR_NS_ENABLE_V3 } else { GICD_CTLR_NS_ENABLE_V2 };
    if arch::read32(ctlr) & want != want {
        arch::write32(ctlr, arch::read32(ctlr) | want);
        while arch::read32(ctlr) & GICD_CTLR_RWP != 0 {
            core::hint::spin_loop();
        }
    }
}

/// Starts this CPU's tick.
pub fn start_tick(period_ms: u64) {
    let cpu = arch::cpu_index();
    let period = arch::counter_freq() * period_ms / 1000;
    PERIOD.store(period, Ordering::Relaxed);
    enable_distributor();
    if arch::gic_v3() {
        arch::gicv3_cpu_on();
        let sgi = map::GICR_BASE + cpu as u64 * 0x2_0000 + 0x1_0000;
        arch::write32(sgi + GICD_ISENABLER, 1 << VTIMER_INTID);
    } else {
        arch::write32(map::GICC_BASE + GICC_PMR, 0xff);
        arch::write32(map::GICC_BASE + GICC_CTLR, 1);
        arch::write32(map::GICD_BASE + GICD_ISENABLER, 1 << VTIMER_INTID);
    }
    arch::vtimer_arm(period);
    arch::irq_enable();
}

/// Enables software-generated interrupt `intid` (0..16) on this CPU, as
/// Linux's FF-A driver does for the schedule receiver interrupt (the CPU
/// interface is on once `start_tick` ran).
pub fn enable_sgi(intid: u32) {
    let bit = 1 << (intid & 0xf);
    if arch::gic_v3() {
        let sgi = map::GICR_BASE + arch::cpu_index() as u64 * 0x2_0000 + 0x1_0000;
        arch::write32(sgi + GICD_ISENABLER, bit);
    } else {
        arch::write32(map::GICD_BASE + GICD_ISENABLER, bit);
    }
}

pub fn sris() -> u64 {
    SRIS[arch::cpu_index()].load(Ordering::Relaxed)
}

pub fn stop_tick() {
    arch::irq_disable();
    arch::vtimer_off();
}

pub fn ticks() -> u64 {
    TICKS[arch::cpu_index()].load(Ordering::Relaxed)
}

fn handle_irq() {
    loop {
        let intid = if arch::gic_v3() { arch::gicv3_ack() } else { arch::read32(map::GICC_BASE + GICC_IAR) & 0x3ff };
        if intid >= 1020 {
            return;
        }
        if intid == VTIMER_INTID {
            TICKS[arch::cpu_index()].fetch_add(1, Ordering::Relaxed);
            arch::vtimer_arm(PERIOD.load(Ordering::Relaxed));
        } else if intid == oxtee_abi::ffa::SRI_INTID {
            SRIS[arch::cpu_index()].fetch_add(1, Ordering::Relaxed);
        }
        if arch::gic_v3() {
            arch::gicv3_eoi(intid);
        } else {
            arch::write32(map::GICC_BASE + GICC_EOIR, intid);
        }
    }
}

/// Every exception of the harness lands here (kind = vector index).
pub extern "C" fn exception(kind: u64) {
    if kind == 5 {
        handle_irq();
        return;
    }
    let (esr, far) = arch::read_esr_far();
    crate::say!("harness: unexpected exception {kind} on CPU {}: ESR {esr:#x} FAR {far:#x}", arch::cpu_index());
    crate::checks::fail_count_bump();
    crate::power::system_off();
}
