//! What the trusted OS's abort path needs to give back everything an
//! aborted call held.
//!
//! A call can end without returning: a kernel exception, a panic, a stack
//! overflow into a guard page, or an allocation failure deep inside a
//! library. Stable Rust on bare metal cannot unwind, so destructors on the
//! abandoned stack never run by themselves. This crate makes them run:
//!
//! - [`Ledger`]: one per trusted thread. A resource a call holds sits in a
//!   [`Held`] pinned on the thread's stack and *armed* in the ledger. An
//!   ordinary return drops it as usual (and disarms it); an abort drops
//!   every armed `Held` from the abort path, newest first
//!   ([`Ledger::unwind`]), while the abandoned stack is still intact.
//! - [`SpinLock`]: a spin lock that records itself in its CPU's list while
//!   held, so the abort path can open every lock the faulting CPU held
//!   ([`release_cpu_locks`]) before it logs or unwinds.
//! - [`KernelHeap`]: the OS's global allocator (buddy system) behind a
//!   [`SpinLock`] (so a fault inside it does not leave it locked), which
//!   tells big allocations whether they would eat into the reserve kept for
//!   small ones ([`heap::room_for`]).
//!
//! All `unsafe` of the crate is in `raw.rs`.
#![no_std]

#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod heap;
mod ledger;
mod lock;
mod raw;
#[cfg(any(test, feature = "std"))]
pub mod testing;

pub use heap::KernelHeap;
pub use ledger::{Held, LEDGER_SLOTS, Ledger, LedgerFull};
pub use lock::{SpinGuard, SpinLock, cpu_locks_held, release_cpu_locks};

/// What `release_cpu_locks` opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Released {
    pub locks: usize,
    /// The kernel heap's lock was among them: the faulting code was inside
    /// the allocator, whose free lists may be half updated.
    pub heap: bool,
}
