//! A hostile normal world of our own: a deterministic random generator of
//! malformed SMCs, messages, page lists and RPC answers, run from every CPU
//! at once, then directed sequences that push each resource to its limit.
//! After every phase the OS must still serve, and every resource counter
//! must be back where it was (`ledger`). Every failure line names the seed
//! and the case, so a run is reproduced with `cargo xtask soak --seed`.

mod campaign;
mod directed;
mod drive;
mod input;
mod ledger;
mod mem;
mod ops;
mod rng;

use crate::{FINISHED, arch, checks, irq, say};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use oxtee_abi::smc::psci;
use spin::Mutex;

/// PSCI context id that sends a secondary CPU into the campaign.
pub const ROUND: u64 = 0x4057_11e0;

/// What a run does.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub seed: u64,
    /// SMCs the random phase sends (all CPUs together), in `rounds` rounds
    /// with a resource check after each.
    pub smcs: u64,
    pub rounds: u64,
    /// Directed sequences stop at their first error or at these bounds.
    pub sessions: u64,
    pub small_regs: u64,
    pub huge_regs: u64,
    pub aborts: u64,
    /// Which phases run (`PHASE_*` bits).
    pub phases: u64,
    /// SMCs between progress lines.
    pub progress: u64,
}

pub const PHASE_RANDOM: u64 = 1;
/// Every directed sequence; or only sequence i with bit `8 + i`.
pub const PHASE_DIRECTED: u64 = 2;
const PHASE_ONE_DIRECTED: u32 = 8;

pub const DEFAULT_SEED: u64 = 0x0c7e_e5ee_d5ee_d001;

impl Plan {
    /// The run `cargo xtask test` makes on every machine shape.
    pub fn modest(seed: u64) -> Plan {
        Plan {
            seed,
            smcs: 150_000,
            rounds: 3,
            sessions: 3_000,
            small_regs: 3_000,
            huge_regs: 24,
            aborts: 1_000,
            phases: PHASE_RANDOM | PHASE_DIRECTED,
            progress: 50_000,
        }
    }

    /// `cargo xtask soak`: bounds past every limit the OS is known to have.
    pub fn soak(seed: u64, smcs: u64, phases: u64) -> Plan {
        Plan {
            seed,
            smcs,
            rounds: (smcs / 1_000_000).clamp(1, 20),
            sessions: 100_000,
            small_regs: 200_000,
            huge_regs: 64,
            aborts: 150_000,
            phases,
            progress: 200_000,
        }
    }
}

static PLAN: Mutex<Option<Plan>> = Mutex::new(None);

/// One CPU's view of the campaign: where failures are reported from.
pub struct Cpu {
    pub id: usize,
    pub seed: u64,
    /// Index of the case being run and the phase it belongs to.
    pub case: u64,
    pub phase: &'static str,
    pub scratch: mem::Scratch,
    /// Trusted threads the OS has.
    pub threads: u64,
    /// True if no other CPU runs calls: every thread id not in flight here
    /// is free, so hostile resumes may name any of them.
    pub solo: bool,
}

impl Cpu {
    fn new(id: usize, seed: u64, solo: bool) -> Cpu {
        let threads = drive::smc([oxtee_abi::optee_smc::GET_THREAD_COUNT as u64, 0, 0, 0, 0, 0, 0, 0])[1];
        Cpu { id, seed, case: 0, phase: "setup", scratch: mem::Scratch::new(id), threads, solo }
    }
}

/// Failures found by the campaign (also counted in the harness tally).
pub static FAILURES: AtomicU64 = AtomicU64::new(0);
/// Counters found different after a phase.
pub static LEFT_BEHIND: AtomicU64 = AtomicU64::new(0);

/// Prints a failure with everything needed to reproduce it.
pub fn report(cpu: &Cpu, args: core::fmt::Arguments) {
    FAILURES.fetch_add(1, Ordering::Relaxed);
    checks::fail_count_bump();
    say!("FAIL cpu{} hostile {} case {} (seed {:#x}): {args}", cpu.id, cpu.phase, cpu.case, cpu.seed);
}

macro_rules! fail {
    ($cpu:expr, $($arg:tt)*) => {
        $crate::hostile::report($cpu, format_args!($($arg)*))
    };
}
pub(crate) use fail;

/// Set when the OS no longer serves: the campaign stops where it is.
pub static STOP: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// All CPUs of the campaign meet here.
static ARRIVED: AtomicUsize = AtomicUsize::new(0);
static PARTIES: AtomicUsize = AtomicUsize::new(1);

pub fn barrier(generation: &mut usize) {
    *generation += 1;
    let n = PARTIES.load(Ordering::Acquire);
    ARRIVED.fetch_add(1, Ordering::AcqRel);
    while ARRIVED.load(Ordering::Acquire) < n * *generation {
        core::hint::spin_loop();
    }
}

static NEXT_PROGRESS: AtomicU64 = AtomicU64::new(0);

/// Prints a progress line whenever the SMC count passes the next mark, so
/// a hung run's log shows where it stopped.
pub fn progress(cpu: &Cpu, every: u64) {
    let smcs = drive::SMCS.load(Ordering::Relaxed);
    let mark = NEXT_PROGRESS.load(Ordering::Relaxed);
    if smcs >= mark && NEXT_PROGRESS.compare_exchange(mark, smcs + every, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
        say!("hostile: progress {} (cpu{} {} case {})", figures(), cpu.id, cpu.phase, cpu.case);
    }
}

fn figures() -> alloc::string::String {
    let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
    alloc::format!(
        "smcs={} yielding={} rpcs={} hostile_answers={} hangs={} left_behind={} failures={} deliberate_aborts={} \
         wait_timeouts={} spurious_wakeups={}",
        l(&drive::SMCS),
        l(&drive::YIELDING),
        l(&drive::RPCS),
        l(&drive::HOSTILE_ANSWERS),
        l(&drive::HANGS),
        l(&LEFT_BEHIND),
        l(&FAILURES),
        l(&checks::DELIBERATE_ABORTS),
        l(&drive::WAIT_TIMEOUTS),
        l(&drive::SPURIOUS_WAKEUPS),
    )
}

fn cpu_on(target: usize) -> i64 {
    let mpidr = oxtee_platform::cpu_mpidr(target);
    arch::smc([psci::PSCI_CPU_ON_64 as u64, mpidr, arch::secondary_entry_addr(), ROUND, 0, 0, 0, 0])[0] as i64
}

/// Runs the campaign on every CPU (from the primary) and prints its summary.
pub fn run(cpus: usize, plan: Plan) {
    say!(
        "hostile: seed {:#x}, {cpus} CPU(s), {} random SMCs in {} rounds, bounds: {} sessions, {} small and {} huge \
         registrations, {} aborted calls",
        plan.seed,
        plan.smcs,
        plan.rounds,
        plan.sessions,
        plan.small_regs,
        plan.huge_regs,
        plan.aborts
    );
    *PLAN.lock() = Some(plan);
    irq::start_tick(10);
    let mut cpu = Cpu::new(0, plan.seed, cpus == 1);
    if plan.phases & PHASE_RANDOM != 0 {
        campaign::prepare_shared(&mut cpu);
        PARTIES.store(cpus, Ordering::Release);
        FINISHED.store(0, Ordering::Release);
        for t in 1..cpus {
            let r = cpu_on(t);
            if r != 0 {
                fail!(&cpu, "CPU_ON {t} for the campaign: {r}");
                PARTIES.fetch_sub(1, Ordering::AcqRel);
            }
        }
        campaign::random(&mut cpu, &plan);
        while FINISHED.load(Ordering::Acquire) + 1 < PARTIES.load(Ordering::Acquire) as u32 {
            core::hint::spin_loop();
        }
    }
    let only = plan.phases >> PHASE_ONE_DIRECTED;
    if (plan.phases & PHASE_DIRECTED != 0 || only != 0) && !STOP.load(Ordering::Acquire) {
        cpu.solo = true;
        directed::run(&mut cpu, &plan, if only == 0 { u64::MAX } else { only });
    }
    irq::stop_tick();
    let clean = FAILURES.load(Ordering::Relaxed) == 0;
    checks::check(clean, 0, "hostile campaign", format_args!("failures above"));
    say!("hostile: summary seed={:#x} cpus={cpus} {}", plan.seed, figures());
}

/// A secondary CPU's part: the random phase, then off.
pub fn secondary(round: u64) -> ! {
    let me = arch::cpu_index();
    let plan = (*PLAN.lock()).expect("plan set before CPU_ON");
    irq::start_tick(10);
    if round == ROUND {
        let mut cpu = Cpu::new(me, plan.seed, false);
        campaign::random(&mut cpu, &plan);
    }
    irq::stop_tick();
    FINISHED.fetch_add(1, Ordering::AcqRel);
    arch::sev();
    arch::smc([psci::PSCI_CPU_OFF as u64, 0, 0, 0, 0, 0, 0, 0]);
    say!("FAIL cpu{me}: CPU_OFF returned");
    loop {
        arch::wfe();
    }
}
