//! Everything in the monitor that touches the CPU directly: the entry
//! assembly, system registers and the world-switch register save/restore.
//! The rest of the monitor is written against these safe wrappers.

use crate::context::{El1Regs, FpRegs, WorldContext};
use core::arch::{asm, global_asm};
use core::mem::offset_of;

global_asm!(
    include_str!("entry.S"),
    mailboxes = sym crate::psci::MAILBOXES,
    cold_boot = sym crate::boot::cold_boot,
    warm_boot = sym crate::boot::warm_boot,
    dispatch = sym crate::dispatch::dispatch,
    el3_fault = sym crate::el3_fault,
    ctx_elr = const offset_of!(WorldContext, elr_el3),
    ctx_scr = const offset_of!(WorldContext, scr_el3),
    ctx_sp_el0 = const offset_of!(WorldContext, sp_el0),
    ctx_runtime_sp = const offset_of!(WorldContext, runtime_sp),
);

unsafe extern "C" {
    fn el1_save(regs: *mut El1Regs);
    fn el1_restore(regs: *const El1Regs);
    fn fp_save(regs: *mut FpRegs);
    fn fp_restore(regs: *const FpRegs);
    fn secondary_pen(cpu: usize) -> !;
    fn warm_entry();
}

pub fn save_el1(el1: &mut El1Regs) {
    // SAFETY: the pointer comes from an exclusive reference to a buffer of
    // the exact layout the assembly writes; only EL1 registers are read.
    unsafe { el1_save(el1) };
}

pub fn restore_el1(el1: &El1Regs) {
    // SAFETY: reads a fully initialised El1Regs; writing EL1 registers from
    // EL3 does not affect the monitor's own execution.
    unsafe { el1_restore(el1) };
}

pub fn save_fp(fp: &mut FpRegs) {
    // SAFETY: as save_el1, for the FP/SIMD block; FP traps are off.
    unsafe { fp_save(fp) };
}

pub fn restore_fp(fp: &FpRegs) {
    // SAFETY: as restore_el1, for the FP/SIMD block; FP traps are off.
    unsafe { fp_restore(fp) };
}

/// CPTR_EL3.TFP: trap FP/SIMD use (at every EL) to EL3.
pub fn trap_fp(on: bool) {
    let v: u64 = if on { 1 << 10 } else { 0 };
    // SAFETY: CPTR_EL3 belongs to the monitor; TFP only affects FP access.
    unsafe { asm!("msr cptr_el3, {}", "isb", in(reg) v, options(nostack)) };
}

/// Returns this CPU to the holding pen until a new CPU_ON.
pub fn park(cpu: usize) -> ! {
    // SAFETY: the pen only reads this CPU's mailbox and uses no stack.
    unsafe { secondary_pen(cpu) }
}

pub fn warm_entry_addr() -> u64 {
    warm_entry as *const () as u64
}

macro_rules! sysreg_read {
    ($name:ident, $reg:literal) => {
        #[inline(always)]
        pub fn $name() -> u64 {
            let v: u64;
            // SAFETY: reading this register has no side effects.
            unsafe { asm!(concat!("mrs {}, ", $reg), out(reg) v, options(nomem, nostack)) };
            v
        }
    };
}

pub mod gic;
pub mod mem;
pub mod percpu;
pub mod power;

sysreg_read!(mpidr, "mpidr_el1");
sysreg_read!(esr_el3, "esr_el3");
sysreg_read!(id_aa64pfr0, "id_aa64pfr0_el1");

pub fn this_cpu() -> usize {
    oxtee_platform::cpu_index(mpidr()).unwrap_or(0)
}

/// Whether EL2 is implemented (then the normal world starts at EL2).
pub fn has_el2() -> bool {
    (id_aa64pfr0() >> 8) & 0xf != 0
}

/// Whether the GIC system-register interface (GICv3) is present.
pub fn has_gicv3_sysregs() -> bool {
    (id_aa64pfr0() >> 24) & 0xf != 0
}

/// Per-CPU EL3 setup shared by cold and warm boot.
pub fn init_el3() {
    // SAFETY: CPTR_EL3 = 0 stops trapping FP/SIMD and trace to EL3; the
    // monitor owns this register.
    unsafe { asm!("msr cptr_el3, xzr", "isb", options(nostack)) };
    if has_gicv3_sysregs() {
        // SAFETY: ICC_SRE_EL3: SRE | DFB | DIB | Enable, so lower ELs may use
        // the GIC system registers. Only GICv3 CPUs have it (checked above).
        unsafe { asm!("mov {t}, #0xf", "msr S3_6_C12_C12_5, {t}", "isb", t = out(reg) _, options(nostack)) };
    }
}

pub fn dsb_sev() {
    // SAFETY: barrier and event; no memory is touched.
    unsafe { asm!("dsb sy", "sev", options(nostack)) };
}

pub fn wfi() {
    // SAFETY: waits for an interrupt; no memory is touched.
    unsafe { asm!("dsb sy", "wfi", options(nostack)) };
}
