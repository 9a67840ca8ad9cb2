//! CPU bring-up and PSCI cases: the primary starts every other CPU with
//! CPU_ON, all of them run the fast-call battery at once, the secondaries
//! leave with CPU_OFF, and one is started again to prove a CPU can come
//! back. PSCI error answers are checked along the way.

use crate::arch;
use crate::checks::{check, eq};
use crate::{FINISHED, client, firmware, irq, say, stress, yielding};
use crate::{fastcalls, faults};
use core::sync::atomic::Ordering;
use oxtee_abi::smc::psci::{self, error as perr};
use oxtee_platform::cpu_mpidr;

/// Battery repetitions per CPU: enough for the CPUs to overlap heavily.
const ROUNDS: usize = 25;
/// Yielding-call battery repetitions per CPU.
const YIELD_ROUNDS: usize = 3;
/// Normal-world tick period.
const TICK_MS: u64 = 10;

/// What every CPU runs concurrently in round 1.
fn concurrent_work(me: usize, cpus: usize) {
    for _ in 0..ROUNDS {
        fastcalls::battery(me, cpus);
    }
    for _ in 0..YIELD_ROUNDS {
        yielding::battery(me);
    }
    stress::thread_limit(me, cpus);
}
const AFF_ON: u64 = 0;
const AFF_OFF: u64 = 1;

fn psci_call(fid: u32, a1: u64, a2: u64, a3: u64) -> i64 {
    arch::smc([fid as u64, a1, a2, a3, 0, 0, 0, 0])[0] as i64
}

fn cpu_on(target: usize, round: u64) -> i64 {
    psci_call(psci::PSCI_CPU_ON_64, cpu_mpidr(target), arch::secondary_entry_addr(), round)
}

fn affinity(target: usize) -> u64 {
    psci_call(psci::PSCI_AFFINITY_INFO_64, cpu_mpidr(target), 0, 0) as u64
}

/// Waits until `n` secondaries reported and then turned themselves off.
fn wait_for(n: u32, targets: core::ops::Range<usize>) {
    let mut spins = 0u64;
    while FINISHED.load(Ordering::Acquire) < n {
        spins += 1;
        if spins > 200_000_000 {
            check(false, 0, "secondaries finish", format_args!("only {} of {n}", FINISHED.load(Ordering::Acquire)));
            return;
        }
        core::hint::spin_loop();
    }
    for t in targets {
        let mut tries = 0;
        while affinity(t) != AFF_OFF && tries < 1_000_000 {
            tries += 1;
        }
        eq(0, "AFFINITY_INFO after CPU_OFF", affinity(t), AFF_OFF);
    }
}

pub fn run_all(cpus: usize) {
    let me = arch::cpu_index();
    psci_errors(me, cpus);

    irq::start_tick(TICK_MS);

    // Round 1: every CPU runs the batteries concurrently.
    FINISHED.store(0, Ordering::Release);
    for t in 1..cpus {
        eq(me, "CPU_ON", cpu_on(t, 1), 0);
    }
    concurrent_work(me, cpus);
    wait_for(cpus as u32 - 1, 1..cpus);
    say!("harness: {cpus} CPU(s) x ({ROUNDS} fast-call + {YIELD_ROUNDS} yielding-call batteries) done");
    let limit = stress::LIMIT_SEEN.load(Ordering::Relaxed);
    check(limit > 0, me, "ETHREAD_LIMIT seen with more callers than threads", format_args!("never"));
    let sleeps = yielding::MUTEX_SLEEPS.load(Ordering::Relaxed);
    say!("harness: {limit} calls refused with ETHREAD_LIMIT and retried; {sleeps} sleeping mutex waits");
    if cpus > 1 {
        check(sleeps > 0, me, "contended mutex sleeps through NOTIFICATION RPC", format_args!("no waits"));
    }

    // Single-CPU scenarios on a quiet system.
    match client::open(oxtee_abi::test_pta::UUID) {
        Ok(s) => {
            stress::shm_cache(s);
            stress::accounting(s);
            stress::timers(s);
            stress::cancellation(s);
            stress::unregister_busy(s);
            stress::malformed(s);
            faults::run(s);
            // Round 2: a CPU that was switched off comes back, and resumes
            // a call this CPU started.
            if cpus > 1 {
                FINISHED.store(0, Ordering::Release);
                stress::resume_elsewhere_start(s);
                eq(me, "CPU_ON again after CPU_OFF", cpu_on(1, 2), 0);
                wait_for(1, 1..2);
            }
            client::close(s);
        }
        Err(e) => check(false, me, "open for single-CPU scenarios", format_args!("{e:x?}")),
    }
    eq(me, "AFFINITY_INFO self", affinity(me), AFF_ON);
    irq::stop_tick();
}

fn psci_errors(me: usize, cpus: usize) {
    eq(me, "PSCI_VERSION", psci_call(psci::PSCI_VERSION, 0, 0, 0), 0x1_0001);
    for fid in [psci::PSCI_CPU_ON_64, psci::PSCI_CPU_OFF, psci::PSCI_AFFINITY_INFO_64, psci::PSCI_SYSTEM_OFF] {
        eq(me, "PSCI_FEATURES supported", psci_call(psci::PSCI_FEATURES, fid as u64, 0, 0), 0);
    }
    let r = psci_call(psci::PSCI_FEATURES, psci::PSCI_CPU_FREEZE as u64, 0, 0);
    eq(me, "PSCI_FEATURES unsupported", r, perr::NOT_SUPPORTED as i64);
    eq(me, "unknown PSCI id", psci_call(0x8400_001f, 0, 0, 0), perr::NOT_SUPPORTED as i64);
    eq(me, "CPU_ON self", cpu_on(me, 9), perr::ALREADY_ON as i64);
    let r = psci_call(psci::PSCI_CPU_ON_64, 0xff_0000_0000, arch::secondary_entry_addr(), 0);
    eq(me, "CPU_ON bad MPIDR", r, perr::INVALID_PARAMETERS as i64);
    // An entry point in secure memory, aimed at this (running) CPU: a
    // monitor that checks entry points refuses it; one that does not (TF-A
    // on QEMU) can only answer ALREADY_ON, and no CPU is lost either way.
    let os = oxtee_platform::map::OS_BASE;
    let r = psci_call(psci::PSCI_CPU_ON_64, cpu_mpidr(me), os, 0);
    if firmware::ours() {
        eq(me, "CPU_ON into secure memory", r, perr::INVALID_ADDRESS as i64);
    } else {
        let ok = r == perr::INVALID_ADDRESS as i64 || r == perr::ALREADY_ON as i64;
        check(ok, me, "CPU_ON into secure memory (foreign firmware)", format_args!("{r}"));
        if r == perr::ALREADY_ON as i64 {
            say!("harness: note: this firmware does not check CPU_ON entry points");
        }
    }
    if firmware::ours() {
        // Which absent or parked CPUs a monitor knows about is its own
        // business (TF-A on QEMU accepts any of its 8 possible CPUs).
        let r = psci_call(psci::PSCI_CPU_ON_64, cpu_mpidr(cpus), arch::secondary_entry_addr(), 0);
        eq(me, "CPU_ON absent CPU", r, perr::INVALID_PARAMETERS as i64);
        if cpus > 1 {
            let r = psci_call(psci::PSCI_CPU_ON_64, cpu_mpidr(1), os, 0);
            eq(me, "CPU_ON into secure memory, parked CPU", r, perr::INVALID_ADDRESS as i64);
            eq(me, "AFFINITY_INFO parked CPU", affinity(1), AFF_OFF);
        }
    }
    let r = psci_call(psci::PSCI_AFFINITY_INFO_64, cpu_mpidr(me), 1, 0);
    eq(me, "AFFINITY_INFO level 1", r, perr::INVALID_PARAMETERS as i64);
    eq(me, "MIGRATE_INFO_TYPE", psci_call(psci::PSCI_MIGRATE_INFO_TYPE, 0, 0, 0), 2);
}

/// Topology mode: the machine has more CPUs than the platform supports.
/// Those past `cpus` are refused by PSCI, and the ones within run a battery
/// each while the extra ones (parked by the firmware at reset) disturb
/// nothing.
pub fn topology(dtb: u64, cpus: usize) {
    let me = arch::cpu_index();
    let extra: alloc::vec::Vec<u64> = arch::device_tree(dtb)
        .map(|f| f.cpus().skip(cpus).map(|c| c.ids().first() as u64).collect())
        .unwrap_or_default();
    check(!extra.is_empty(), me, "machine has more CPUs than the platform", format_args!("{cpus} CPUs"));
    for &mpidr in &extra {
        let r = psci_call(psci::PSCI_CPU_ON_64, mpidr, arch::secondary_entry_addr(), 3);
        eq(me, "CPU_ON of a CPU past the platform's", r, perr::INVALID_PARAMETERS as i64);
        let r = psci_call(psci::PSCI_AFFINITY_INFO_64, mpidr, 0, 0);
        eq(me, "AFFINITY_INFO of a CPU past the platform's", r, perr::INVALID_PARAMETERS as i64);
    }
    FINISHED.store(0, Ordering::Release);
    for t in 1..cpus {
        eq(me, "CPU_ON", cpu_on(t, 3), 0);
    }
    fastcalls::battery(me, cpus);
    wait_for(cpus as u32 - 1, 1..cpus);
    say!("harness: {cpus} CPUs served, {} more parked", extra.len());
}

/// A secondary's life: run its work, report, switch itself off.
pub fn secondary(round: u64) -> ! {
    let me = arch::cpu_index();
    let cpus = crate::NUM_CPUS.load(Ordering::Relaxed);
    irq::start_tick(TICK_MS);
    match round {
        1 => concurrent_work(me, cpus),
        2 => stress::resume_elsewhere_finish(me),
        3 => fastcalls::battery(me, cpus),
        _ => check(false, me, "secondary context id", format_args!("{round}")),
    }
    irq::stop_tick();
    FINISHED.fetch_add(1, Ordering::AcqRel);
    arch::sev();
    let r = psci_call(psci::PSCI_CPU_OFF, 0, 0, 0);
    say!("FAIL cpu{me}: CPU_OFF returned {r}");
    loop {
        arch::wfe();
    }
}

pub fn system_off() -> ! {
    psci_call(psci::PSCI_SYSTEM_OFF, 0, 0, 0);
    say!("harness: SYSTEM_OFF returned");
    loop {
        arch::wfe();
    }
}
