//! The secure physical timer (CNTPS, PPI 29): a native interrupt that wakes
//! sleeping threads.

use core::arch::asm;

pub const INTID: u32 = 29;

fn counter() -> (u64, u64) {
    let (cnt, frq): (u64, u64);
    // SAFETY: reading the counter and its frequency has no side effects.
    unsafe {
        asm!("isb", "mrs {}, cntpct_el0", "mrs {}, cntfrq_el0", out(reg) cnt, out(reg) frq, options(nomem, nostack))
    };
    (cnt, frq.max(1))
}

pub fn now_ns() -> u64 {
    let (cnt, frq) = counter();
    (cnt as u128 * 1_000_000_000 / frq as u128) as u64
}

/// Fires the secure timer at `deadline_ns`.
pub fn arm(deadline_ns: u64) {
    let (_, frq) = counter();
    let cval = (deadline_ns as u128 * frq as u128).div_ceil(1_000_000_000) as u64;
    // SAFETY: the secure timer belongs to the OS (SCR_EL3.ST lets S-EL1 use
    // it); CTL = enable, interrupt not masked.
    unsafe {
        asm!("msr cntps_cval_el1, {}", "mov {t}, #1", "msr cntps_ctl_el1, {t}", "isb", in(reg) cval, t = out(reg) _, options(nostack))
    };
}

pub fn disarm() {
    // SAFETY: turns the secure timer off; it only wakes this OS.
    unsafe { asm!("msr cntps_ctl_el1, xzr", "isb", options(nostack)) };
}
