//! What a trusted thread needs from the platform while it serves a call.
//! The OS implements it with real threads and the GIC; tests with fakes.

use alloc::boxed::Box;
use oxtee_abi::addr::{NsPhys, SecPhys, UserVirt};
use oxtee_abi::tee::TeeResult;

/// Registers the normal world passed with RETURN_FROM_RPC (a0..a7).
pub type RpcReturn = [u64; 8];

pub trait ThreadEnv {
    /// This thread's index in the pool.
    fn thread_id(&self) -> usize;
    /// Leaves for the normal world with a0..a3 (an `RETURN_RPC_*` code and
    /// its arguments) and returns what RETURN_FROM_RPC brought back.
    fn rpc(&mut self, a: [u64; 4]) -> RpcReturn;
    /// Monotonic time in nanoseconds.
    fn now_ns(&self) -> u64;
    /// Waits with interrupts enabled until `deadline_ns` or until `stop()`
    /// says so. `sleep` waits on the secure timer; otherwise it spins.
    /// Foreign interrupts may suspend the thread meanwhile. Returns false if
    /// it stopped early.
    fn wait_until(&mut self, deadline_ns: u64, sleep: bool, stop: &dyn Fn() -> bool) -> bool;
    /// CPU the thread is running on now.
    fn cpu(&self) -> usize;
    /// Foreign interrupts this thread has been suspended for so far.
    fn foreign_interrupts(&self) -> u64;
    /// Runs user mode in the address space `tables` from `regs` until it
    /// makes a syscall or faults; interrupts meanwhile are handled
    /// underneath (a foreign one may suspend the thread). `regs` is updated.
    fn enter_user(&mut self, tables: &dyn UserTables, regs: &mut UserRegs) -> UserExit;
}

/// A user-mode (S-EL0) register context: what a TA sees, saved and loaded
/// by the OS's entry code at fixed offsets (keep in step with `user.S`).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(16))]
pub struct UserRegs {
    /// x0..x30.
    pub x: [u64; 31],
    pub sp: u64,
    pub pc: u64,
    pub pstate: u64,
    /// TPIDR_EL0 (the TA's thread pointer).
    pub tpidr: u64,
    /// Syndrome and fault address of the exception that ended the run.
    pub esr: u64,
    pub far: u64,
    pub _pad: u64,
    /// q0..q31, then FPSR and FPCR (the layout `fp_save` uses).
    pub q: [u128; 32],
    pub fpsr: u64,
    pub fpcr: u64,
}

// The OS's entry assembly uses these offsets.
const _: () = {
    assert!(core::mem::offset_of!(UserRegs, sp) == 248);
    assert!(core::mem::offset_of!(UserRegs, tpidr) == 272);
    assert!(core::mem::offset_of!(UserRegs, esr) == 280);
    assert!(core::mem::offset_of!(UserRegs, q) == 304);
    assert!(core::mem::offset_of!(UserRegs, fpsr) == 816);
    assert!(core::mem::size_of::<UserRegs>() == 832);
};

/// Why user mode gave the CPU back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserExit {
    /// `svc #0`: x8 holds the syscall number, x0..x7 its arguments.
    Syscall,
    /// Any other exception taken from user mode (abort, undefined
    /// instruction, alignment, SError): the TA must die.
    Fault { esr: u64, far: u64 },
}

/// Access a mapping gives user mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserPerm {
    ReadOnly,
    ReadWrite,
    ReadExec,
}

/// One range of a user address space: `len` bytes at user address `va`
/// backed by secure memory at physical address `pa`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserMapping {
    pub va: UserVirt,
    pub pa: SecPhys,
    pub len: u64,
    pub perm: UserPerm,
}

/// One address space's translation tables and ASID, owned by the core's
/// `UserSpace`: dropping it frees them (no CPU may run in it then).
pub trait UserTables: Send {
    /// Adds a mapping (the space is not running anywhere).
    fn map(&mut self, m: &UserMapping) -> Result<(), TeeResult>;
    /// Maps `len` bytes of normal-world memory at `pa` to `va` with
    /// non-secure attributes (accesses through it are non-secure: they can
    /// never reach secure memory) and never executable.
    fn map_ns(&mut self, va: UserVirt, pa: NsPhys, len: u64, perm: UserPerm) -> Result<(), TeeResult>;
    /// Removes `len` bytes at `va` and invalidates stale translations.
    fn unmap(&mut self, va: UserVirt, len: u64);
    /// The platform's own view, for `ThreadEnv::enter_user`.
    fn as_any(&self) -> &dyn core::any::Any;
}

/// The MMU side of user address spaces.
pub trait UserMmu: Sync {
    /// Builds tables for a new address space holding `maps`; allocation
    /// failure (tables, ASIDs) is `TEE_ERROR_OUT_OF_MEMORY`.
    fn create(&self, maps: &[UserMapping]) -> Result<Box<dyn UserTables>, TeeResult>;
    /// Makes code just written at `pa` visible to instruction fetch.
    fn sync_code(&self, pa: SecPhys, len: u64);
    /// Most CPUs seen executing in user mode at the same time.
    fn peak_parallel(&self) -> u32 {
        0
    }
    /// ASIDs held by live address spaces.
    fn asids_in_use(&self) -> u32 {
        0
    }
}
