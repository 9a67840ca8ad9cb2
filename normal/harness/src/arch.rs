//! The harness's hardware layer: entry assembly, SMC helpers, counters and
//! the normal-world UART.

use core::arch::{asm, global_asm};

global_asm!(
    include_str!("entry.S"),
    primary_main = sym crate::primary_main,
    secondary_main = sym crate::secondary_main,
    exception = sym crate::irq::exception,
);

unsafe extern "C" {
    fn smc_probe(regs: *mut [u64; 29], fp: *mut [u128; 8]);
    fn time_smc_loop(fid: u64, n: u64, do_smc: u64) -> u64;
    fn secondary_entry();
}

/// Registers x0-x28 and q0-q7 around one SMC.
pub struct Probe {
    pub x: [u64; 29],
    pub q: [u128; 8],
}

/// Issues an SMC with every register seeded from `p`, and records them all
/// afterwards.
pub fn probe(p: &mut Probe) {
    // SAFETY: both buffers are valid for the sizes smc_probe reads and
    // writes; the assembly saves the callee-saved registers it uses.
    unsafe { smc_probe(&mut p.x, &mut p.q) };
}

/// SMC with x0-x7 in, x0-x3 out.
pub fn smc(args: [u64; 8]) -> [u64; 4] {
    let r: [u64; 4];
    // SAFETY: an SMC per SMCCC: x0-x3 are results and x4-x17 are preserved
    // by the monitor (the harness tests that separately).
    unsafe {
        let (r0, r1, r2, r3);
        asm!(
            "smc #0",
            inout("x0") args[0] => r0,
            inout("x1") args[1] => r1,
            inout("x2") args[2] => r2,
            inout("x3") args[3] => r3,
            in("x4") args[4],
            in("x5") args[5],
            in("x6") args[6],
            in("x7") args[7],
            options(nostack),
        );
        r = [r0, r1, r2, r3];
    }
    r
}

/// SMC with x0-x7 in and out (SMCCC 1.2, as FF-A calls use them).
pub fn smc8(args: [u64; 8]) -> [u64; 8] {
    let mut r = args;
    // SAFETY: an SMC per SMCCC 1.2: x0-x7 carry arguments and results;
    // x8-x17 are preserved by the monitor (the clobbers do not rely on it).
    unsafe {
        asm!(
            "smc #0",
            inout("x0") r[0],
            inout("x1") r[1],
            inout("x2") r[2],
            inout("x3") r[3],
            inout("x4") r[4],
            inout("x5") r[5],
            inout("x6") r[6],
            inout("x7") r[7],
            out("x8") _,
            out("x9") _,
            out("x10") _,
            out("x11") _,
            out("x12") _,
            out("x13") _,
            out("x14") _,
            out("x15") _,
            out("x16") _,
            out("x17") _,
            options(nostack),
        );
    }
    r
}

/// Virtual-counter ticks taken by `n` SMCs of `fid` (or the bare loop).
pub fn time_loop(fid: u32, n: u64, with_smc: bool) -> u64 {
    // SAFETY: the loop only issues SMCs that return (x4-x17 preserved).
    unsafe { time_smc_loop(fid as u64, n, with_smc as u64) }
}

pub fn secondary_entry_addr() -> u64 {
    secondary_entry as *const () as u64
}

pub fn counter_freq() -> u64 {
    let f: u64;
    // SAFETY: reading CNTFRQ_EL0 has no side effects.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) f, options(nomem, nostack)) };
    f
}

pub fn cpu_index() -> usize {
    let mpidr: u64;
    // SAFETY: reading MPIDR_EL1 has no side effects.
    unsafe { asm!("mrs {}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
    oxtee_platform::cpu_index(mpidr).unwrap_or(0)
}

pub fn read_phys_u32(addr: u64) -> u32 {
    // SAFETY: the address is normal-world RAM that QEMU's loader wrote
    // before reset (or left zero); reading it has no side effects.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

pub fn device_tree(addr: u64) -> Option<fdt::Fdt<'static>> {
    // SAFETY: the monitor passes the device tree QEMU built in RAM; the
    // harness never writes it.
    unsafe { fdt::Fdt::from_ptr(addr as *const u8).ok() }
}

pub fn uart() -> arm_pl011_uart::Uart<'static> {
    use arm_pl011_uart::{PL011Registers, Uart, UniqueMmioPointer};
    let regs = core::ptr::NonNull::new(oxtee_platform::map::NS_UART_BASE as *mut PL011Registers).unwrap();
    // SAFETY: the NS PL011 is at this address; the harness creates it once.
    Uart::new(unsafe { UniqueMmioPointer::new(regs) })
}

pub fn wfe() {
    // SAFETY: waits for an event; no memory is touched.
    unsafe { asm!("wfe", options(nomem, nostack)) };
}

pub fn sev() {
    // SAFETY: signals an event; no memory is touched.
    unsafe { asm!("dsb sy", "sev", options(nostack)) };
}

/// Copies normal-world memory the harness owns into `buf`.
pub fn read_mem(pa: u64, buf: &mut [u8]) {
    // SAFETY: callers pass RAM the harness allocated (shared memory it
    // handed to the secure world); the MMU is off, so pa is the address.
    unsafe { core::ptr::copy_nonoverlapping(pa as *const u8, buf.as_mut_ptr(), buf.len()) }
}

/// A copy of normal-world RAM QEMU or the firmware filled (the device tree
/// at boot), which nothing writes while the harness runs.
pub fn phys_bytes(pa: u64, len: usize) -> alloc::vec::Vec<u8> {
    let mut v = alloc::vec![0u8; len];
    // SAFETY: callers pass the device tree's range in RAM; the MMU is off,
    // so pa is the address, and the buffer is exactly `len` bytes.
    unsafe { core::ptr::copy_nonoverlapping(pa as *const u8, v.as_mut_ptr(), len) };
    v
}

pub fn write_mem(pa: u64, data: &[u8]) {
    // SAFETY: as in read_mem.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), pa as *mut u8, data.len()) }
}

pub fn read32(addr: u64) -> u32 {
    // SAFETY: a GIC register (device) of this platform.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

pub fn write32(addr: u64, v: u32) {
    // SAFETY: a GIC register (device) of this platform.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

pub fn gic_v3() -> bool {
    let pfr0: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { asm!("mrs {}, id_aa64pfr0_el1", out(reg) pfr0, options(nomem, nostack)) };
    (pfr0 >> 24) & 0xf != 0
}

/// Normal-world GICv3 CPU interface on: system registers, group 1.
pub fn gicv3_cpu_on() {
    // SAFETY: ICC_SRE_EL1.SRE then ICC_IGRPEN1_EL1 = 1 (non-secure banks).
    unsafe {
        asm!(
            "mrs {t}, S3_0_C12_C12_5", "orr {t}, {t}, #1", "msr S3_0_C12_C12_5, {t}", "isb",
            "mov {t}, #1", "msr S3_0_C12_C12_7, {t}", "isb",
            t = out(reg) _, options(nostack),
        )
    };
}

pub fn gicv3_ack() -> u32 {
    let v: u64;
    // SAFETY: acknowledging a group 1 interrupt.
    unsafe { asm!("mrs {}, S3_0_C12_C12_0", out(reg) v, options(nostack)) };
    v as u32 & 0xff_ffff
}

pub fn gicv3_eoi(intid: u32) {
    // SAFETY: ends the interrupt acknowledged above.
    unsafe { asm!("msr S3_0_C12_C12_1, {}", "isb", in(reg) intid as u64, options(nostack)) };
}

pub fn midr() -> u64 {
    let v: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { asm!("mrs {}, midr_el1", out(reg) v, options(nomem, nostack)) };
    v
}

/// PMU on for this CPU: the cycle counter and event counter 0 counting
/// CPU_CYCLES (0x11) at EL0 and EL1 in both security states as far as the
/// filters go; whether the secure side is counted is the firmware's call
/// (MDCR_EL3.SPME, PMCR_EL0.DP).
pub fn pmu_start() {
    // SAFETY: the PMU registers are accessible at EL1 (the firmware does
    // not trap them); they only configure counting.
    unsafe {
        asm!(
            "msr pmccfiltr_el0, xzr",
            "msr pmselr_el0, xzr",
            "mov {t}, #0x11",
            "msr pmxevtyper_el0, {t}",
            "msr pmcntenset_el0, {en}",
            "mrs {t}, pmcr_el0",
            "orr {t}, {t}, #0x7",
            "msr pmcr_el0, {t}",
            "isb",
            en = in(reg) PMU_COUNTERS,
            t = out(reg) _,
            options(nostack),
        )
    };
}

/// PMCNTEN bits: the cycle counter (31) and event counter 0.
const PMU_COUNTERS: u64 = (1 << 31) | 1;

/// (cycle counter, event counter 0).
pub fn pmu_read() -> (u64, u64) {
    let (c, e): (u64, u64);
    // SAFETY: reading PMU counters has no side effects.
    unsafe {
        asm!("isb", "mrs {c}, pmccntr_el0", "msr pmselr_el0, xzr", "isb", "mrs {e}, pmxevcntr_el0",
             c = out(reg) c, e = out(reg) e, options(nostack))
    };
    (c, e & 0xffff_ffff)
}

pub fn pmu_stop() {
    // SAFETY: as pmu_start; clears PMCR_EL0.E and the enables.
    unsafe {
        asm!(
            "mrs {t}, pmcr_el0",
            "bic {t}, {t}, #1",
            "msr pmcr_el0, {t}",
            "msr pmcntenclr_el0, {en}",
            "isb",
            en = in(reg) PMU_COUNTERS,
            t = out(reg) _,
            options(nostack),
        )
    };
}

/// Arms the EL1 virtual timer `ticks` counter ticks from now.
pub fn vtimer_arm(ticks: u64) {
    // SAFETY: the virtual timer belongs to the normal world's EL1.
    unsafe {
        asm!("msr cntv_tval_el0, {}", "mov {t}, #1", "msr cntv_ctl_el0, {t}", "isb", in(reg) ticks, t = out(reg) _, options(nostack))
    };
}

pub fn vtimer_off() {
    // SAFETY: as above.
    unsafe { asm!("msr cntv_ctl_el0, xzr", "isb", options(nostack)) };
}

pub fn counter() -> u64 {
    let v: u64;
    // SAFETY: reading the virtual counter has no side effects.
    unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) v, options(nomem, nostack)) };
    v
}

pub fn irq_enable() {
    // SAFETY: the vectors are installed; the IRQ handler preserves state.
    unsafe { asm!("msr daifclr, #2", "isb", options(nostack)) };
}

pub fn irq_disable() {
    // SAFETY: masks IRQs only.
    unsafe { asm!("msr daifset, #2", "isb", options(nostack)) };
}

pub fn read_esr_far() -> (u64, u64) {
    let (esr, far): (u64, u64);
    // SAFETY: reading syndrome registers has no side effects.
    unsafe { asm!("mrs {}, esr_el1", "mrs {}, far_el1", out(reg) esr, out(reg) far, options(nomem, nostack)) };
    (esr, far)
}

const HEAP_SIZE: usize = 4 << 20;

#[repr(C, align(4096))]
struct Arena {
    bytes: [u8; HEAP_SIZE],
}

static mut ARENA: Arena = Arena { bytes: [0; HEAP_SIZE] };

pub fn init_heap() {
    // `bytes` is the only field of a repr(C) struct: it starts at the struct.
    let start = &raw mut ARENA as usize;
    // SAFETY: ARENA is used by nothing but the allocator, handed over once
    // at start-up before any allocation.
    unsafe { crate::HEAP.lock().init(start, HEAP_SIZE) };
}
