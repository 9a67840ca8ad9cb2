//! Trusted-application ABI: signed image headers and the user-TA syscall
//! numbers.

pub mod crypto;
mod head;
mod shdr;
pub mod socket;
mod syscall;

pub use head::*;
pub use shdr::*;
pub use syscall::*;
