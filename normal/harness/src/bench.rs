//! Benchmark mode (one CPU, QEMU `-icount shift=0`, so one guest
//! instruction is one virtual nanosecond): prints `BENCH key=value` lines
//! that `cargo xtask bench` collects.

use crate::client::{self, value};
use crate::driver::{self, ArgRef};
use crate::{arch, say, shm};
use alloc::vec;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::smc as smccc;
use oxtee_abi::test_pta as t;
use oxtee_core::msg::Dir;

const CALLS: u64 = 20_000;
const MSG_CALLS: u64 = 2_000;

fn ticks_to_insns(ticks: u64) -> u64 {
    // Virtual time in ns equals instructions at shift=0.
    (ticks as u128 * 1_000_000_000 / arch::counter_freq() as u128) as u64
}

fn per(total_ticks: u64, n: u64) -> f64 {
    ticks_to_insns(total_ticks) as f64 / n as f64
}

/// Guest instructions per round trip of `fid`, loop overhead removed.
fn per_call(fid: u32) -> f64 {
    let with = arch::time_loop(fid, CALLS, true);
    let without = arch::time_loop(fid, CALLS, false);
    per(with.saturating_sub(without), CALLS)
}

/// Instructions per yielding call of a pre-built message at `pa`.
fn per_msg(pa: u64, num_params: u32) -> f64 {
    let t0 = arch::counter();
    for _ in 0..MSG_CALLS {
        driver::run(ArgRef::PaRpc(pa, num_params));
    }
    per(arch::counter() - t0, MSG_CALLS)
}

pub fn run(boot_ticks: u64) {
    say!("BENCH boot_insns={}", ticks_to_insns(boot_ticks));
    say!("BENCH fastcall_calls_uid_insns={:.1}", per_call(smc::CALLS_UID));
    say!("BENCH monitor_only_call_insns={:.1}", per_call(smccc::SMCCC_VERSION));

    let s = client::open(t::UUID).expect("open test PTA");
    let pa = shm::pool_alloc(4096).unwrap();
    arch::write_mem(pa, &client::invoke_msg(s, t::CMD_NOOP, vec![]).encode());
    let noop = per_msg(pa, 0);
    say!("BENCH pta_noop_invoke_insns={noop:.1}");
    arch::write_mem(pa, &client::invoke_msg(s, t::CMD_RESUME_CPU, vec![value(Dir::Out, 0, 0)]).encode());
    let one_rpc = per_msg(pa, 1);
    say!("BENCH pta_invoke_with_one_rpc_insns={one_rpc:.1}");
    say!("BENCH rpc_round_trip_insns={:.1}", one_rpc - noop);
    let t0 = arch::counter();
    for _ in 0..MSG_CALLS {
        let s2 = client::open(t::UUID).expect("open");
        client::close(s2);
    }
    say!("BENCH pta_open_close_insns={:.1}", per(arch::counter() - t0, MSG_CALLS));
    client::close(s);
    shm::pool_free(pa);
    say!("BENCH calls={CALLS} msg_calls={MSG_CALLS} counter_hz={}", arch::counter_freq());
}
