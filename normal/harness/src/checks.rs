//! Pass/fail bookkeeping shared by all CPUs. Failures are printed with the
//! CPU and the case name; passes are only counted.

use crate::say;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

static PASSED: AtomicU32 = AtomicU32::new(0);
static FAILED: AtomicU32 = AtomicU32::new(0);

pub fn check(ok: bool, cpu: usize, name: &str, detail: core::fmt::Arguments) {
    if ok {
        PASSED.fetch_add(1, Ordering::Relaxed);
    } else {
        FAILED.fetch_add(1, Ordering::Relaxed);
        say!("FAIL cpu{cpu} {name}: {detail}");
    }
}

/// Checks that `got == want`, printing both on failure.
pub fn eq<T: PartialEq + core::fmt::Debug>(cpu: usize, name: &str, got: T, want: T) {
    let ok = got == want;
    check(ok, cpu, name, format_args!("got {got:x?}, want {want:x?}"));
}

/// Calls the harness made the OS abort on purpose: the OS logs one
/// exception line for each, which `cargo xtask` must not count as a panic.
pub static DELIBERATE_ABORTS: AtomicU64 = AtomicU64::new(0);

pub fn fail_count_bump() {
    FAILED.fetch_add(1, Ordering::Relaxed);
}

pub fn totals() -> (u32, u32) {
    (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed))
}
