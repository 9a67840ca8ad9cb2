//! Saved state of each world on each CPU, as the world switch sees it.

/// General-purpose and EL3 return state of one world. The entry assembly
/// reads and writes it by offset: x0..x30 first, then the fields below in
/// this order (pairs are loaded with ldp).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct WorldContext {
    pub x: [u64; 31],
    pub scr_el3: u64,
    pub sp_el0: u64,
    pub elr_el3: u64,
    pub spsr_el3: u64,
    /// Top of this CPU's EL3 stack, loaded on every exception entry.
    pub runtime_sp: u64,
    /// The world's PMCR_EL0 (saved on entry to EL3, restored on exit).
    pub pmcr_el0: u64,
}

/// EL1 system registers, in the order of `el1_save`/`el1_restore`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct El1Regs {
    pub sctlr: u64,
    pub actlr: u64,
    pub cpacr: u64,
    pub csselr: u64,
    pub sp_el1: u64,
    pub esr: u64,
    pub ttbr0: u64,
    pub ttbr1: u64,
    pub mair: u64,
    pub amair: u64,
    pub tcr: u64,
    pub tpidr_el1: u64,
    pub tpidr_el0: u64,
    pub tpidrro_el0: u64,
    pub par: u64,
    pub far: u64,
    pub afsr0: u64,
    pub afsr1: u64,
    pub contextidr: u64,
    pub vbar: u64,
    pub spsr: u64,
    pub elr: u64,
    pub cntkctl: u64,
    pub mdscr: u64,
}

impl El1Regs {
    /// Architectural reset-like state: MMU and caches off, RES1 bits set.
    pub fn reset() -> Self {
        Self { sctlr: 0x30d0_0800, ..Default::default() }
    }
}

/// FP/SIMD registers q0..q31, then FPSR and FPCR.
#[repr(C, align(16))]
#[derive(Clone, Copy, Default)]
pub struct FpRegs {
    pub q: [u128; 32],
    pub fpsr: u64,
    pub fpcr: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum World {
    #[default]
    Secure = 0,
    NonSecure = 1,
}

/// Why the monitor entered the OS synchronously; checked against the OS's
/// `*_DONE` answer so a confused OS cannot steer the monitor.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Pending {
    #[default]
    None,
    ColdBoot,
    CpuOn,
    CpuOff,
    SystemOff,
    SystemReset,
    /// A normal-world SMC forwarded to the OS.
    Call,
    /// A secure interrupt taken while the normal world ran.
    Fiq,
    /// FF-A: a normal-world FF-A call forwarded to the SPMC; its next SMC
    /// is the answer.
    FfaCall,
    /// FF-A: the SPMD's framework `FFA_VERSION` request to the SPMC, for a
    /// normal-world `FFA_VERSION`.
    FfaVersion,
    /// FF-A: a PSCI framework message to the SPMC (the event to finish
    /// once it answers).
    FfaPower(PowerEvent),
    /// FF-A: `FFA_INTERRUPT` delivered to the SPMC while the normal world
    /// was preempted; `FFA_NORMAL_WORLD_RESUME` ends it.
    FfaInterrupt,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PowerEvent {
    CpuOff,
    SystemOff,
    SystemReset,
}

#[repr(C)]
#[derive(Default)]
pub struct CpuContext {
    pub world: [WorldContext; 2],
    pub el1: [El1Regs; 2],
    pub fp: [FpRegs; 2],
    /// World whose EL1 state is live in the registers.
    pub live: World,
    /// World whose FP/SIMD state is live in the registers.
    pub fp_live: World,
    pub pending: Pending,
}

impl CpuContext {
    pub fn ctx(&mut self, w: World) -> &mut WorldContext {
        &mut self.world[w as usize]
    }

    pub fn world_of(&self, ctx: *const WorldContext) -> Option<World> {
        if core::ptr::eq(ctx, &self.world[0]) {
            Some(World::Secure)
        } else if core::ptr::eq(ctx, &self.world[1]) {
            Some(World::NonSecure)
        } else {
            None
        }
    }

    /// Makes `to`'s EL1 and FP state live, saving the other world's.
    /// Makes `to`'s EL1 state live, saving the other world's. FP/SIMD state
    /// is switched lazily: if `to` does not own the FP registers, its first
    /// FP instruction traps to EL3 (`take_fp`), so a world that never uses
    /// FP (our OS) costs no FP save/restore at all.
    pub fn switch_to(&mut self, to: World) {
        if self.live == to {
            return;
        }
        let from = self.live as usize;
        crate::arch::save_el1(&mut self.el1[from]);
        crate::arch::restore_el1(&self.el1[to as usize]);
        self.live = to;
        crate::arch::trap_fp(self.fp_live != to);
    }

    /// Moves the FP/SIMD registers to the live world (after an FP trap).
    pub fn take_fp(&mut self) {
        crate::arch::trap_fp(false);
        let (owner, want) = (self.fp_live as usize, self.live as usize);
        if owner != want {
            crate::arch::save_fp(&mut self.fp[owner]);
            crate::arch::restore_fp(&self.fp[want]);
            self.fp_live = self.live;
        }
    }

    /// Loads `w`'s EL1/FP state without saving what is live (first entry).
    pub fn load(&mut self, w: World) {
        crate::arch::trap_fp(false);
        crate::arch::restore_el1(&self.el1[w as usize]);
        crate::arch::restore_fp(&self.fp[w as usize]);
        self.live = w;
        self.fp_live = w;
    }
}

impl CpuContext {
    pub const fn new_const() -> Self {
        const W: WorldContext =
            WorldContext { x: [0; 31], scr_el3: 0, sp_el0: 0, elr_el3: 0, spsr_el3: 0, runtime_sp: 0, pmcr_el0: 0 };
        const E: El1Regs = El1Regs {
            sctlr: 0,
            actlr: 0,
            cpacr: 0,
            csselr: 0,
            sp_el1: 0,
            esr: 0,
            ttbr0: 0,
            ttbr1: 0,
            mair: 0,
            amair: 0,
            tcr: 0,
            tpidr_el1: 0,
            tpidr_el0: 0,
            tpidrro_el0: 0,
            par: 0,
            far: 0,
            afsr0: 0,
            afsr1: 0,
            contextidr: 0,
            vbar: 0,
            spsr: 0,
            elr: 0,
            cntkctl: 0,
            mdscr: 0,
        };
        const F: FpRegs = FpRegs { q: [0; 32], fpsr: 0, fpcr: 0 };
        CpuContext {
            world: [W; 2],
            el1: [E; 2],
            fp: [F; 2],
            live: World::Secure,
            fp_live: World::Secure,
            pending: Pending::None,
        }
    }
}

pub use crate::arch::percpu::{stack_top, this_cpu_context};
