//! The CPU- and image-specific half of the SDK, and with `sys` the only
//! place allowed `unsafe`: the `__ta_entry` glue, the `svc` instruction,
//! the symbols `ta_config!` defines in the TA image, the instance-wide
//! cell, the global allocator and the fault-injection primitives. No GP
//! semantics live here.

mod cell;
mod entry;
#[cfg(feature = "fault-injection")]
pub mod fault;
mod heap;
mod image;
mod svc;

pub use cell::InstanceCell;
pub(crate) use entry::{EntryBuffer, hooks};
pub(crate) use heap::heap_stats;
pub(crate) use image::{PropValue, config};
pub use image::{TaConfig, TaHeap, UserTaProperty};
pub(crate) use svc::{panic, return_to_kernel, syscall};
