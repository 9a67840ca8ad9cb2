//! The firmware boundary as the normal world sees it, under any monitor
//! (ours, or TF-A with `SPD=opteed`): which firmware this is, that the
//! secure world's boot seeds are gone from the device tree the normal world
//! got, and that the secure world is not counted by the normal world's PMU.
//! Checks whose answer PSCI or SMCCC leave to the implementation are strict
//! only when the firmware is ours.

use crate::checks::{check, eq};
use crate::client::{self, value};
use crate::{arch, say};
use alloc::vec;
use core::sync::atomic::{AtomicBool, Ordering};
use oxtee_abi::smc as smccc;
use oxtee_abi::test_pta as t;
use oxtee_core::msg::{Dir, Param};
use oxtee_platform::dtb;

static OURS: AtomicBool = AtomicBool::new(false);

/// Whether the monitor is oxtee's (its standard-service UID), as found by
/// `identify`.
pub fn ours() -> bool {
    OURS.load(Ordering::Relaxed)
}

/// Asks the standard service for its UID (SMCCC: every implementation
/// answers one) and remembers whether it is ours. Primary, at start.
pub fn identify() {
    let r = arch::smc([smccc::STD_SVC_UID as u64, 0, 0, 0, 0, 0, 0, 0]).map(|v| v as u32);
    let ours = r == smccc::MONITOR_STD_SVC_UID;
    OURS.store(ours, Ordering::Relaxed);
    say!("harness: firmware standard-service UID {r:08x?}{}", if ours { " (oxtee monitor)" } else { " (not oxtee's)" });
    if ours {
        let count = arch::smc([smccc::STD_SVC_CALL_COUNT as u64, 0, 0, 0, 0, 0, 0, 0])[0];
        eq(0, "STD_SVC_CALL_COUNT (PSCI functions)", count, 10);
        let rev = arch::smc([smccc::STD_SVC_REVISION as u64, 0, 0, 0, 0, 0, 0, 0]);
        eq(0, "STD_SVC_REVISION", (rev[0], rev[1]), (0, 1));
    }
}

/// The device tree the normal world got must not show the secure world's
/// per-boot seeds (`/secure-chosen` `rng-seed`, `kaslr-seed`): our monitor
/// removes them, and our OS zeroes them under any monitor.
pub fn secure_seeds_gone(dtb_addr: u64) {
    let Some(size) = dtb::total_size(&arch::phys_bytes(dtb_addr, 8)) else {
        check(false, 0, "device tree for the seed check", format_args!("none at {dtb_addr:#x}"));
        return;
    };
    let tree = arch::phys_bytes(dtb_addr, size.min(0x20_0000));
    for name in dtb::SEED_PROPERTIES {
        let seen = match dtb::property(&tree, dtb::SECURE_CHOSEN, name) {
            Ok(Some(r)) => tree[r].iter().any(|&b| b != 0),
            Ok(None) => false,
            Err(e) => {
                check(false, 0, "device tree parses", format_args!("{e:?}"));
                return;
            }
        };
        check(
            !seen,
            0,
            "secure seed not visible to the normal world",
            format_args!("/secure-chosen/{name} is readable"),
        );
    }
}

/// The secure world runs uncounted by the normal world's PMU (MDCR_EL3.SPME
/// clear for the event counters, PMCR_EL0.DP for the cycle counter): a
/// 300 ms secure spin adds only the normal world's own share of it.
pub fn secure_world_uncounted() {
    let s = match client::open(t::UUID) {
        Ok(s) => s,
        Err(e) => {
            check(false, 0, "open for the PMU check", format_args!("{e:x?}"));
            return;
        }
    };
    arch::pmu_start();
    let (c0, e0) = arch::pmu_read();
    let t0 = arch::counter();
    let r = client::invoke(s, t::CMD_SPIN, vec![value(Dir::In, 300, 0), value(Dir::Out, 0, 0)]);
    let (c1, e1) = arch::pmu_read();
    let ns = (arch::counter() - t0) * 1_000_000_000 / arch::counter_freq();
    arch::pmu_stop();
    client::close(s);
    eq(0, "300 ms spin for the PMU check", r.ret(), 0);
    let intr = match r.msg.params.get(1) {
        Some(Param::Value { a, .. }) => *a,
        _ => 0,
    };
    // QEMU's PMU counts one cycle per nanosecond of virtual time. Counted
    // in the secure world, the spin alone would add ~300 M; the normal
    // world's part (the call, its foreign-interrupt exits) is far less.
    let (cycles, events) = (c1.wrapping_sub(c0), e1.wrapping_sub(e0) & 0xffff_ffff);
    say!(
        "harness: PMU over a {} ms secure spin ({intr} exits): {cycles} cycles, {events} CPU_CYCLES events",
        ns / 1_000_000
    );
    check(cycles > 0, 0, "PMU cycle counter runs in the normal world", format_args!("0 cycles"));
    check(cycles < ns / 2, 0, "cycle counter stopped in the secure world", format_args!("{cycles} cycles in {ns} ns"));
    check(events < ns / 2, 0, "event counter stopped in the secure world", format_args!("{events} events in {ns} ns"));
}
