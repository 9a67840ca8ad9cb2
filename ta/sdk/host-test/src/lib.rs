//! The SDK's target-independent modules, compiled for the host so they
//! can be tested there: `oxtee-utee` itself only builds for the TA target
//! (its build script refuses anything else). Each module is the SDK's own
//! source file, included by path; this crate supplies the few crate-level
//! items they use (the error type, and the arithmetic's panic and random
//! source, which in a TA are `TEE_Panic` and the kernel's generator).
//!
//! ```text
//! cd ta && cargo test -p oxtee-utee-host-test --target $(rustc -vV | sed -n 's/host: //p')
//! ```

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[path = "../../src/error.rs"]
mod error;
pub use error::{Error, ErrorKind, Result};

#[path = "../../src/bigint.rs"]
pub mod bigint;

#[path = "../../src/crypto/buffer.rs"]
#[allow(dead_code)]
mod buffer;

#[cfg(test)]
mod buffer_tests;

/// In a TA, `TEE_Panic`; here a Rust panic the tests can expect.
fn bigint_panic(code: u32, what: &str) -> ! {
    panic!("TEE_BigInt panic {code:#x}: {what}")
}

/// In a TA, the kernel's generator; here a fixed-seed xorshift (the tests
/// need no secrecy, and repeatable runs).
fn bigint_random(buf: &mut [u8]) {
    use core::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    for b in buf {
        let mut x = STATE.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        STATE.store(x, Ordering::Relaxed);
        *b = x as u8;
    }
}
