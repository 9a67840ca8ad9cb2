//! Everything in the monitor that touches the CPU directly: the entry
//! assembly, system registers and the world-switch register save/restore.
//! The rest of the monitor is written against these safe wrappers.

use crate::context::{El1Regs, FpRegs, WorldContext};
use core::arch::{asm, global_asm};
use core::mem::offset_of;
use oxtee_platform::cpu::{self, IdRegs, Mitigations};

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
    ctx_pmcr = const offset_of!(WorldContext, pmcr_el0),
    max_cpus = const oxtee_platform::MAX_CPUS,
);

unsafe extern "C" {
    fn el1_save(regs: *mut El1Regs);
    fn el1_restore(regs: *const El1Regs);
    fn fp_save(regs: *mut FpRegs);
    fn fp_restore(regs: *const FpRegs);
    fn secondary_pen(cpu: usize) -> !;
    fn warm_entry();
    static el3_vectors: u8;
    static el3_vectors_bp_inval: u8;
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
pub mod mmu;
pub mod percpu;
pub mod power;

sysreg_read!(mpidr, "mpidr_el1");
sysreg_read!(midr, "midr_el1");
sysreg_read!(esr_el3, "esr_el3");
sysreg_read!(id_aa64pfr0, "id_aa64pfr0_el1");
sysreg_read!(id_aa64pfr1, "id_aa64pfr1_el1");
sysreg_read!(id_aa64mmfr1, "id_aa64mmfr1_el1");
sysreg_read!(id_aa64dfr0, "id_aa64dfr0_el1");
sysreg_read!(pmcr_el0, "pmcr_el0");

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

/// What this CPU needs against speculation attacks (from its ID registers).
pub fn mitigations() -> Mitigations {
    cpu::mitigations(IdRegs { midr: midr(), pfr0: id_aa64pfr0(), pfr1: id_aa64pfr1(), mmfr1: id_aa64mmfr1() })
}

/// SCR_EL3 while EL3 itself runs: lower ELs AArch64, no secure instruction
/// fetch from non-secure memory (each world's own value is set on exit).
const SCR_EL3_OWN: u64 = (0b11 << 4) | (1 << 9) | (1 << 10);

/// MDCR_EL3, every field set rather than left to its reset value (as TF-A
/// does): SDD, secure self-hosted debug off; SPD32 = 0b10, secure AArch32
/// EL1 debug off; SPME clear, no event counting in the secure world; TDA,
/// TDOSA and TPM clear, debug and PMU registers not trapped to EL3.
const MDCR_SDD: u64 = 1 << 16;
const MDCR_SPD32_DISABLED: u64 = 0b10 << 14;
/// SCCD (FEAT_PMUv3p5) and MCCD (FEAT_PMUv3p7): no cycle counting in the
/// secure world and at EL3; cores without them rely on PMCR_EL0.DP.
const MDCR_SCCD: u64 = 1 << 23;
const MDCR_MCCD: u64 = 1 << 34;

fn mdcr_el3() -> u64 {
    let pmuver = (id_aa64dfr0() >> 8) & 0xf;
    let mut v = MDCR_SDD | MDCR_SPD32_DISABLED;
    if pmuver != 0xf && pmuver >= 6 {
        v |= MDCR_SCCD;
    }
    if pmuver != 0xf && pmuver >= 7 {
        v |= MDCR_MCCD;
    }
    v
}

/// PMCR_EL0 bits: E (enable), P and C (reset the counters), X (export), DP.
const PMCR_E: u64 = 1 << 0;
const PMCR_P: u64 = 1 << 1;
const PMCR_C: u64 = 1 << 2;
const PMCR_X: u64 = 1 << 4;
const PMCR_DP: u64 = 1 << 5;

/// CPUACTLR_EL1.DIS_LOAD_PASS_STORE of the Cortex-A57 (CVE-2018-3639).
const A57_CPUACTLR_DIS_LOAD_PASS_STORE: u64 = 1 << 55;

/// Per-CPU EL3 setup shared by cold and warm boot (the tables of
/// `mmu::init` must exist).
pub fn init_el3() {
    let mdcr = mdcr_el3();
    // SAFETY: CPTR_EL3 = 0 stops trapping FP/SIMD and trace to EL3;
    // SCR_EL3, MDCR_EL3 belong to the monitor (each world's SCR_EL3 is set
    // on the way out); PMCR_EL0 gets DP and its counters reset and stopped
    // before any world runs, as TF-A does.
    unsafe {
        asm!(
            "msr cptr_el3, xzr",
            "msr scr_el3, {scr}",
            "msr mdcr_el3, {mdcr}",
            "mrs {t}, pmcr_el0",
            "orr {t}, {t}, {set}",
            "bic {t}, {t}, {clear}",
            "msr pmcr_el0, {t}",
            "isb",
            scr = in(reg) SCR_EL3_OWN,
            mdcr = in(reg) mdcr,
            set = in(reg) PMCR_DP | PMCR_C | PMCR_P,
            clear = in(reg) PMCR_E | PMCR_X,
            t = out(reg) _,
            options(nostack),
        )
    };
    if has_gicv3_sysregs() {
        // SAFETY: ICC_SRE_EL3: SRE | DFB | DIB | Enable, so lower ELs may use
        // the GIC system registers. Only GICv3 CPUs have it (checked above).
        unsafe { asm!("mov {t}, #0xf", "msr S3_6_C12_C12_5, {t}", "isb", t = out(reg) _, options(nostack)) };
    }
    let m = mitigations();
    if m.a57_disable_load_pass_store {
        // SAFETY: CPUACTLR_EL1 exists on the Cortex-A57 (checked by MIDR)
        // and EL3 may write it; the bit only disables a speculation path.
        unsafe {
            asm!(
                "mrs {t}, S3_1_C15_C2_0",
                "orr {t}, {t}, {bit}",
                "msr S3_1_C15_C2_0, {t}",
                "isb",
                "dsb sy",
                bit = in(reg) A57_CPUACTLR_DIS_LOAD_PASS_STORE,
                t = out(reg) _,
                options(nostack),
            )
        };
    }
    mmu::enable();
    let vectors = if m.bp_invalidate_on_entry { &raw const el3_vectors_bp_inval } else { &raw const el3_vectors };
    // SAFETY: both tables are complete EL3 vector tables in this image.
    unsafe { asm!("msr vbar_el3, {}", "isb", in(reg) vectors as u64, options(nostack)) };
}

/// PMCR_EL0 a world starts with: this CPU's value after `init_el3`
/// (counters stopped, DP set); the normal world may program its own.
pub fn initial_pmcr() -> u64 {
    pmcr_el0() & !PMCR_E
}

pub fn dsb_sev() {
    // SAFETY: barrier and event; no memory is touched.
    unsafe { asm!("dsb sy", "sev", options(nostack)) };
}

pub fn wfi() {
    // SAFETY: waits for an interrupt; no memory is touched.
    unsafe { asm!("dsb sy", "wfi", options(nostack)) };
}
