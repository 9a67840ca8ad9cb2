//! The CPU- and image-specific half of the SDK, and with `sys` the only
//! place allowed `unsafe`: the `__ta_entry` glue, the `svc` instruction,
//! the symbols `ta_config!` defines in the TA image, the instance-wide
//! cell, the global allocator and the fault-injection primitives. No GP
//! semantics live here.
//!
//! On any other target than the TA's (`target_os = "none"`) the SDK is
//! built for host tests: `host` replaces the `svc` instruction, the entry
//! glue and the heap with the simulator's (`oxtee-sim`).

mod cell;
mod entry;
#[cfg(all(feature = "fault-injection", target_os = "none"))]
pub mod fault;
#[cfg(target_os = "none")]
mod heap;
#[cfg(not(target_os = "none"))]
mod host;
mod image;
#[cfg(target_os = "none")]
mod svc;

pub use cell::InstanceCell;
#[cfg(not(target_os = "none"))]
pub(crate) use entry::host_entry;
pub(crate) use entry::{EntryBuffer, hooks};
#[cfg(target_os = "none")]
pub(crate) use heap::heap_stats;
#[cfg(not(target_os = "none"))]
pub(crate) use host::{heap_stats, panic, syscall};
pub(crate) use image::{PropValue, config};
pub use image::{TaConfig, TaHeap, UserTaProperty};
#[cfg(target_os = "none")]
pub(crate) use svc::{panic, return_to_kernel, syscall};

/// State of this TA instance kept by the SDK itself: a `static` on the
/// device (one instance per address space), a thread-local on the host
/// (one thread per simulated instance). Read with `NAME.with(|cell| ..)`.
macro_rules! instance_state {
    ($name:ident: $t:ty = $init:expr) => {
        #[cfg(target_os = "none")]
        static $name: $crate::arch::PerInstance<$t> = $crate::arch::PerInstance($init);
        #[cfg(not(target_os = "none"))]
        std::thread_local! {
            static $name: $t = const { $init };
        }
    };
}
pub(crate) use instance_state;

/// A static that is per instance because the address space is.
#[cfg(target_os = "none")]
pub(crate) struct PerInstance<T>(pub T);

#[cfg(target_os = "none")]
impl<T> PerInstance<T> {
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0)
    }
}
