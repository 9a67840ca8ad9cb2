//! Trusted-application ABI: signed image headers and the user-TA syscall
//! numbers.

pub mod crypto;
pub mod socket;
mod head;
mod shdr;
mod syscall;

pub use head::*;
pub use shdr::*;
pub use syscall::*;
