//! Trusted-application ABI: signed image headers and the user-TA syscall
//! numbers.

mod shdr;
mod syscall;

pub use shdr::*;
pub use syscall::*;
