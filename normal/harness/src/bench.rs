//! Benchmark mode (one CPU, QEMU `-icount shift=0`, so one guest
//! instruction is one virtual nanosecond): prints `BENCH key=value` lines
//! that `cargo xtask bench` collects.

use crate::{arch, say};
use oxtee_abi::optee_smc as smc;
use oxtee_abi::smc as smccc;

const CALLS: u64 = 20_000;

fn ticks_to_insns(ticks: u64) -> u64 {
    // Virtual time in ns equals instructions at shift=0.
    (ticks as u128 * 1_000_000_000 / arch::counter_freq() as u128) as u64
}

/// Guest instructions per round trip of `fid`, loop overhead removed.
fn per_call(fid: u32) -> (u64, u64) {
    let with = ticks_to_insns(arch::time_loop(fid, CALLS, true));
    let without = ticks_to_insns(arch::time_loop(fid, CALLS, false));
    let total = with.saturating_sub(without);
    (total / CALLS, total * 100 / CALLS % 100)
}

pub fn run(boot_ticks: u64) {
    say!("BENCH boot_insns={}", ticks_to_insns(boot_ticks));
    let (i, f) = per_call(smc::CALLS_UID);
    say!("BENCH fastcall_calls_uid_insns={i}.{f:02}");
    let (i, f) = per_call(smccc::SMCCC_VERSION);
    say!("BENCH monitor_only_call_insns={i}.{f:02}");
    say!("BENCH calls={CALLS} counter_hz={}", arch::counter_freq());
}
