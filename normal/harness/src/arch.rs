//! The harness's hardware layer: entry assembly, SMC helpers, counters and
//! the normal-world UART.

use core::arch::{asm, global_asm};

global_asm!(
    include_str!("entry.S"),
    primary_main = sym crate::primary_main,
    secondary_main = sym crate::secondary_main,
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
