//! Bare-metal normal-world harness: drives the monitor and the trusted OS
//! through the SMC ABI directly, from every CPU at once, and reports
//! `N passed, N failed`. In benchmark mode it times calls under `-icount`;
//! booted with the monitor as an FF-A SPMD, it runs the FF-A checks.
#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod bench;
mod checks;
mod client;
mod driver;
mod fastcalls;
mod faults;
mod ffa;
mod firmware;
mod hostile;
mod irq;
mod power;
mod production;
mod shm;
mod stress;
mod yielding;

use core::fmt::Write;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use spin::mutex::SpinMutex;

#[global_allocator]
static HEAP: buddy_system_allocator::LockedHeap<32> = buddy_system_allocator::LockedHeap::empty();

static UART: SpinMutex<Option<arm_pl011_uart::Uart<'static>>> = SpinMutex::new(None);

macro_rules! say {
    ($($arg:tt)*) => {
        $crate::print(format_args!($($arg)*))
    };
}
pub(crate) use say;

pub fn print(args: core::fmt::Arguments) {
    if let Some(u) = UART.lock().as_mut() {
        let _ = u.write_fmt(args);
        let _ = u.write_str("\n");
    }
}

/// How many CPUs the machine has (from the device tree).
pub static NUM_CPUS: AtomicUsize = AtomicUsize::new(1);
/// Secondaries that finished their work for the current round.
pub static FINISHED: AtomicU32 = AtomicU32::new(0);

/// A u64 argument `cargo xtask` may leave after the mode word (0 if not).
fn mode_arg(at: u64) -> u64 {
    arch::read_phys_u32(at) as u64 | (arch::read_phys_u32(at + 4) as u64) << 32
}

extern "C" fn primary_main(x0: u64, boot_ticks: u64) -> ! {
    *UART.lock() = Some(arch::uart());
    arch::init_heap();
    // Our monitor passes the device tree in x0; TF-A's BL31 passes a
    // preloaded BL33 its MPIDR there, and QEMU's tree is at the base of RAM.
    let in_ram = x0 >= oxtee_platform::map::DRAM_BASE;
    let dtb = if in_ram && arch::device_tree(x0).is_some() { x0 } else { oxtee_platform::map::NS_DTB_ADDR };
    let present = arch::device_tree(dtb).map(|f| f.cpus().count()).unwrap_or(1);
    let cpus = present.clamp(1, oxtee_platform::MAX_CPUS);
    NUM_CPUS.store(cpus, Ordering::Relaxed);
    say!("oxtee harness: normal world up, {cpus} CPU(s), device tree at {dtb:#x}");

    use oxtee_platform::map;
    let mode = arch::read_phys_u32(map::HARNESS_MODE_ADDR);
    let seed = match mode_arg(map::HARNESS_ARG_SEED) {
        0 => hostile::DEFAULT_SEED,
        s => s,
    };
    if ffa::detect() && mode == map::HARNESS_MODE_BENCH {
        ffa::bench();
        power::system_off()
    }
    if ffa::detect() {
        // The monitor is an SPMD (`cargo xtask run --ffa`): FF-A checks.
        ffa::run(cpus);
        say!("harness: {} deliberate OS aborts", checks::DELIBERATE_ABORTS.load(Ordering::Relaxed));
        let (p, f) = checks::totals();
        say!("harness: {p} passed, {f} failed");
        power::system_off()
    }
    if mode == map::HARNESS_MODE_BENCH {
        bench::run(boot_ticks);
        power::system_off()
    }
    if mode == map::HARNESS_MODE_TOPOLOGY {
        firmware::identify();
        power::topology(dtb, cpus);
    } else if mode == map::HARNESS_MODE_SOAK {
        let phases = match mode_arg(map::HARNESS_ARG_PHASES) {
            0 => hostile::PHASE_RANDOM | hostile::PHASE_DIRECTED,
            p => p,
        };
        hostile::run(cpus, hostile::Plan::soak(seed, mode_arg(map::HARNESS_ARG_SMCS), phases));
    } else if mode == map::HARNESS_MODE_PRODUCTION || !production::has_test_pta() {
        if mode != map::HARNESS_MODE_PRODUCTION {
            say!(
                "harness: no test PTA: the OS is its default build; running the default-image checks \
                 (boot the test build for all: cargo xtask run --harness --test-build)"
            );
        }
        firmware::identify();
        firmware::secure_seeds_gone(dtb);
        production::run();
    } else {
        firmware::identify();
        firmware::secure_seeds_gone(dtb);
        power::run_all(cpus);
        firmware::secure_world_uncounted();
        let (p, f) = checks::totals();
        say!("harness: before the hostile campaign: {p} checks passed, {f} failed");
        hostile::run(cpus, hostile::Plan::modest(seed));
    }
    say!("harness: {} deliberate OS aborts", checks::DELIBERATE_ABORTS.load(Ordering::Relaxed));
    let (p, f) = checks::totals();
    say!("harness: {p} passed, {f} failed");
    power::system_off()
}

/// Entered on each secondary CPU through PSCI CPU_ON; `round` is the
/// context id the primary passed.
extern "C" fn secondary_main(round: u64) -> ! {
    match round {
        hostile::ROUND => hostile::secondary(round),
        ffa::ROUND => ffa::secondary(),
        _ => power::secondary(round),
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    say!("harness panic on CPU {}: {info}", arch::cpu_index());
    checks::fail_count_bump();
    power::system_off()
}
