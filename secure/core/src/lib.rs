//! Portable logic of the oxtee trusted OS. Everything here is safe Rust that
//! builds for the secure world and is tested on the host; the OS crate
//! adapts hardware to it. It must never touch hardware or raw memory.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod fastcall;
pub mod yielding;
