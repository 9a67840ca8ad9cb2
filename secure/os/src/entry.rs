//! Rust side of the OS's entry points: each is called from the assembly in
//! `arch/entry.S` on this CPU's entry stack, with interrupts masked.

use crate::arch::{self, gic, interrupt, nsmem::NsRam, thread, timer};
use crate::{mm, os};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use log::{debug, error, info, warn};
use oxtee_abi::addr::{NsPhys, NsRange};
use oxtee_abi::{optee_smc as smc, opteed};
use oxtee_core::fastcall::OsConfig;
use oxtee_core::pta::Pta;
use oxtee_core::pta::device_enum::DeviceEnum;
use oxtee_core::pta::socket::SocketPta;
use oxtee_core::rng::Rng;
use oxtee_core::session::SessionLimits;
use oxtee_core::shm::{ShmConfig, ShmLimits};
use oxtee_core::std_call::AbortCause;
use oxtee_core::ta::image::TaKey;
use oxtee_core::{Limits, Os};
use oxtee_platform::{MAX_CPUS, THREAD_STACK_SIZE, THREADS_PER_CPU, limits, map};

/// Build id from `cargo xtask` (git commit), reported by GET_OS_REVISION.
const BUILD_ID: u64 = match option_env!("OXTEE_BUILD_ID") {
    Some(s) => parse_hex(s),
    None => 0,
};

const fn parse_hex(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut v: u64 = 0;
    let mut i = 0;
    while i < b.len() && i < 16 {
        let d = match b[i] {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => 0,
        };
        v = (v << 4) | d as u64;
        i += 1;
    }
    v
}

/// The public key TA images must be signed with (a build input; see
/// `build.rs` and keys/README.md).
mod ta_key {
    include!(concat!(env!("OUT_DIR"), "/ta_key.rs"));
}

static USER_MMU: arch::user::Mmu = arch::user::Mmu;
static SECSTOR_TA_MGMT: oxtee_core::pta::secstor::SecstorTaMgmt = oxtee_core::pta::secstor::SecstorTaMgmt;
static DEVICE_ENUM: DeviceEnum = DeviceEnum;
static RNG_PTA: oxtee_core::pta::rng::RngPta = oxtee_core::pta::rng::RngPta;
static SYSTEM_PTA: oxtee_core::pta::system::System = oxtee_core::pta::system::System;
static SOCKET: SocketPta = SocketPta::new();
#[cfg(feature = "test-hooks")]
static TEST_PTA: oxtee_core::pta::test::TestPta = oxtee_core::pta::test::TestPta::new();
#[cfg(feature = "test-hooks")]
static INVOKE_TESTS_PTA: oxtee_core::pta::invoke_tests::InvokeTestsPta =
    oxtee_core::pta::invoke_tests::InvokeTestsPta::new();
#[cfg(feature = "test-hooks")]
static ASYNC_NOTIF_TEST_PTA: oxtee_core::pta::async_notif_test::AsyncNotifTestPta =
    oxtee_core::pta::async_notif_test::AsyncNotifTestPta::new(&TEST_EVENT);
static NS_RAM: spin::Once<NsRam> = spin::Once::new();

/// Asynchronous notifications ring the normal world through the
/// non-secure SPI that Linux's device tree names in the `optee` node; in
/// FF-A mode through the FF-A notification the normal world enabled
/// (`OPTEE_FFA_ENABLE_ASYNC_NOTIF`), which raises the schedule receiver
/// interrupt.
struct GicDoorbell;

impl oxtee_core::async_notif::Doorbell for GicDoorbell {
    fn ring(&self) {
        if crate::ffa::active() {
            // Interrupt context, so no logging and no lock: the value is
            // recorded, this raises the schedule receiver interrupt, and
            // the normal world's notification query collects it. False
            // means it enabled no notification, and nothing rings.
            if let Some(os) = crate::OS.get() {
                let _ = os.ffa_async_ring();
            }
        } else {
            gic::set_pending(map::ASYNC_NOTIF_INTID);
        }
    }
}

static DOORBELL: GicDoorbell = GicDoorbell;

/// The test build's on-demand secure interrupt: a secure SGI to the
/// calling CPU, whose top half is the async-notification test PTA's.
#[cfg(feature = "test-hooks")]
pub const TEST_EVENT_SGI: u32 = 15;

#[cfg(feature = "test-hooks")]
struct TestEvent;

#[cfg(feature = "test-hooks")]
impl oxtee_core::pta::async_notif_test::SecureEvent for TestEvent {
    fn raise(&self) {
        gic::raise_secure_sgi_self(TEST_EVENT_SGI);
    }
}

#[cfg(feature = "test-hooks")]
static TEST_EVENT: TestEvent = TestEvent;

/// Interrupt context: the test event's top half.
#[cfg(feature = "test-hooks")]
pub fn test_event_top_half() {
    if let Some(os) = crate::OS.get() {
        ASYNC_NOTIF_TEST_PTA.top_half(os);
    }
}

/// Drivers with bottom-half work (asynchronous notifications).
fn notif_drivers() -> Vec<&'static dyn oxtee_core::async_notif::NotifDriver> {
    alloc::vec![
        #[cfg(feature = "test-hooks")]
        &ASYNC_NOTIF_TEST_PTA,
    ]
}

/// The pseudo-TAs of this build (the test PTAs only in the test build).
/// Device enumeration lists those that are devices, in this order.
fn ptas() -> Vec<&'static dyn Pta> {
    alloc::vec![
        &DEVICE_ENUM,
        &SECSTOR_TA_MGMT,
        &RNG_PTA,
        &SYSTEM_PTA,
        &SOCKET,
        #[cfg(feature = "test-hooks")]
        &TEST_PTA,
        #[cfg(feature = "test-hooks")]
        &INVOKE_TESTS_PTA,
        #[cfg(feature = "test-hooks")]
        &ASYNC_NOTIF_TEST_PTA,
    ]
}

const LIMITS: Limits = Limits {
    sessions: SessionLimits { total: limits::SESSIONS, ta: limits::TA_SESSIONS },
    shm: ShmLimits { buffers: limits::SHM_BUFFERS, pages: limits::SHM_PAGES },
    instances: limits::TA_INSTANCES,
    param_reserve: limits::PARAM_RESERVE_PER_THREAD,
    param_shared: limits::PARAM_SHARED,
};

/// How the abort path was entered (`exception`'s `kind`): the exception
/// vector's index for faults, or one of these.
pub const KIND_PANIC: u64 = 0x100;
pub const KIND_OUT_OF_MEMORY: u64 = 0x101;

/// Set when a fault hit the heap allocator: its free lists may be torn, so
/// the OS stops serving (every call gets ENOTAVAIL) rather than hand out
/// memory that might overlap other data.
static HALTED: AtomicBool = AtomicBool::new(false);

/// A panic is being handled on this CPU (a panic inside it skips the report).
static PANICKING: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// What the abort path learns from the locks it opened: a fault inside the
/// heap allocator stops the OS.
pub fn note_released(r: oxtee_guard::Released) {
    if r.heap && !HALTED.swap(true, Ordering::AcqRel) {
        error!("a fault inside the heap allocator: its state is unknown; the OS stops serving");
    }
}

/// Marks a panic on this CPU; false if one was already being handled.
pub fn panic_starts() -> bool {
    !PANICKING[arch::cpu_index()].swap(true, Ordering::AcqRel)
}

/// The `*_DONE` each CPU owes the monitor for the entry it is in (what the
/// abort path returns with when no trusted thread was running).
static DONE: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(opteed::RETURN_CALL_DONE) }; MAX_CPUS];

fn entered(done: u32) {
    DONE[arch::cpu_index()].store(done, Ordering::Relaxed);
}

/// Normal-world RAM from the device tree the monitor passed (QEMU's, read
/// before the normal world has run); 1 GiB at DRAM_BASE if there is none.
fn ns_ram_from_dt(dtb: NsPhys) -> NsRange {
    let fallback = NsRange::new(NsPhys::new(map::DRAM_BASE), 0x4000_0000);
    if !fallback.contains(dtb, 1) {
        return fallback;
    }
    arch::read_fdt(dtb)
        .and_then(|f| f.memory().regions().next().map(|r| (r.starting_address as u64, r.size.unwrap_or(0) as u64)))
        .filter(|r| r.0 >= map::DRAM_BASE && r.1 > 0)
        .map(|(start, size)| NsRange::new(NsPhys::new(start), size))
        .unwrap_or(fallback)
}

/// CPUs in QEMU's device tree (1 if it cannot be read).
fn cpus_from_dt(dtb: NsPhys) -> usize {
    let window = NsRange::new(NsPhys::new(map::DRAM_BASE), 0x4000_0000);
    if !window.contains(dtb, 1) {
        return 1;
    }
    arch::read_fdt(dtb).map_or(1, |f| f.cpus().count().max(1))
}

fn init_cpu_interrupts() {
    gic::init_cpu();
    gic::claim_private(arch::cpu_index(), timer::INTID);
    #[cfg(feature = "test-hooks")]
    gic::claim_private(arch::cpu_index(), TEST_EVENT_SGI);
}

/// The random generator's key material: QEMU's per-boot secure seed (read
/// and wiped from the tree the monitor passed), 256 bits of RNDR where the
/// CPU has it, and the counter (predictable under `-icount`, so never the
/// only source if another exists). Seed bytes are wiped after use and never
/// logged.
fn seed_rng(dtb: NsPhys) -> Rng {
    let window = NsRange::new(NsPhys::new(map::DRAM_BASE), 0x4000_0000);
    let mut seed = if window.contains(dtb, 1) { arch::take_secure_seed(dtb) } else { None };
    let mut hw = [0u8; 32];
    let mut hw_words = 0;
    if arch::rndr_implemented() {
        for _ in 0..16 {
            if hw_words == 4 {
                break;
            }
            if let Some(v) = arch::rndr() {
                hw[hw_words * 8..][..8].copy_from_slice(&v.to_le_bytes());
                hw_words += 1;
            }
        }
    }
    match (&seed, hw_words) {
        (Some(s), 0) => info!("boot entropy: QEMU's secure seed ({} bytes)", s.len()),
        (Some(s), n) => info!("boot entropy: QEMU's secure seed ({} bytes) and RNDR ({} bits)", s.len(), n * 64),
        (None, 0) => {
            warn!("no boot entropy (no secure seed, no RNDR): random numbers are seeded from the counter only")
        }
        (None, n) => info!("boot entropy: RNDR ({} bits); no secure seed in the device tree", n * 64),
    }
    let rng = Rng::new(&[seed.as_deref().unwrap_or(&[]), &hw[..hw_words * 8], &arch::counter().to_le_bytes()]);
    if let Some(s) = seed.as_mut() {
        arch::wipe(s);
    }
    arch::wipe(&mut hw);
    rng
}

/// The device tree: x2 of the entry, where the opteed protocol, our SPMD
/// and TF-A's SPMD built with `SPMC_OPTEE=1` pass it. TF-A's SPMD otherwise
/// passes only the SPMC manifest (x0); then QEMU's own tree at the base of
/// RAM, where QEMU places it for firmware (TF-A's BL2 edits it in place).
fn find_dt(x2: u64) -> NsPhys {
    let window = NsRange::new(NsPhys::new(map::DRAM_BASE), 0x4000_0000);
    let given = NsPhys::new(x2);
    if window.contains(given, 1) && arch::read_fdt(given).is_some() {
        return given;
    }
    let qemu = NsPhys::new(map::NS_DTB_ADDR);
    if arch::read_fdt(qemu).is_some() {
        info!("no device tree in x2 ({x2:#x}); using QEMU's at {:#x}", map::NS_DTB_ADDR);
        return qemu;
    }
    given
}

/// Cold boot: x2 and x0 of the entry (the device tree, and the SPMC
/// manifest an SPMD may pass).
pub extern "C" fn cold_boot(x2: u64, x0: u64) -> u64 {
    entered(opteed::RETURN_ENTRY_DONE);
    crate::init_logging();
    let dtb = find_dt(x2);
    crate::ffa::note_manifest(x0);
    let layout = arch::layout();
    arch::init_heap(layout.heap);
    let ns_ram = ns_ram_from_dt(dtb);
    let cpus = cpus_from_dt(dtb);
    let rng = seed_rng(dtb);
    // Thread stacks first, so the kernel map can leave their guard pages out.
    let threads = THREADS_PER_CPU * MAX_CPUS;
    let guards = thread::init(threads, THREAD_STACK_SIZE);
    let root = mm::init(&layout, ns_ram, &guards);
    arch::enable_mmu(root);
    init_cpu_interrupts();
    gic::configure_ns_edge_spi(map::ASYNC_NOTIF_INTID);
    arch::ce::init();
    let pool = NsRange::new(NsPhys::new(map::STATIC_SHM_BASE), map::STATIC_SHM_SIZE);
    let config =
        OsConfig { build_id: BUILD_ID, thread_count: threads as u32, static_shm: Some(pool), yielding_calls: true };
    let shm = ShmConfig { static_pool: config.static_shm, ns_ram };
    let mem = NS_RAM.call_once(|| NsRam(ns_ram));
    let key = TaKey::new(&ta_key::TA_KEY_MODULUS, ta_key::TA_KEY_EXPONENT).expect("TA signing key is valid");
    #[cfg(feature = "test-hooks")]
    oxtee_core::fault::set_injector(arch::inject_fault);
    let core = crate::OS.call_once(|| {
        Os::new(config, shm, LIMITS, mem, ptas())
            .with_user_tas(&USER_MMU, key)
            .with_rng(rng)
            .with_huk(&oxtee_platform::HUK)
            .with_async_notif(&DOORBELL, notif_drivers())
    });
    thread::bind_ledgers();
    info!(
        "oxtee OS {} (build {:016x}{}) ready: {} KiB heap, {} threads x {} KiB, caps {:#x}, GICv{}, normal RAM {:#x}+{:#x}",
        env!("CARGO_PKG_VERSION"),
        BUILD_ID,
        if cfg!(feature = "test-hooks") { ", test build" } else { "" },
        (layout.heap.1 - layout.heap.0) / 1024,
        threads,
        THREAD_STACK_SIZE / 1024,
        core.fast.capabilities().0,
        if gic::is_v3() { 3 } else { 2 },
        ns_ram.start,
        ns_ram.size
    );
    info!(
        "limits: {} sessions ({} from TAs), {} registered buffers of {} MiB in all, {} TA instances, \
         parameter copies {} KiB per thread + {} KiB shared",
        LIMITS.sessions.total,
        LIMITS.sessions.ta,
        LIMITS.shm.buffers,
        LIMITS.shm.pages * 4 / 1024,
        LIMITS.instances,
        LIMITS.param_reserve / 1024,
        LIMITS.param_shared / 1024
    );
    // An SPMD below: FF-A mode, and this never returns.
    crate::ffa::probe_at_cold_boot(cpus);
    arch::vector_table_addr()
}

/// A CPU turned on in FF-A mode: what the opteed CPU_ON vector does.
pub fn init_secondary_cpu() {
    arch::enable_mmu(mm::root());
    init_cpu_interrupts();
}

/// The OS stopped serving (a fault in the heap allocator).
pub fn halted() -> bool {
    HALTED.load(Ordering::Acquire)
}

pub extern "C" fn fast_smc(args: &mut [u64; 8]) {
    entered(opteed::RETURN_CALL_DONE);
    if HALTED.load(Ordering::Acquire) {
        args[0] = smc::RETURN_ENOTAVAIL as u64;
        return;
    }
    os().fast_call(args);
}

pub extern "C" fn yield_smc(args: &mut [u64; 8]) {
    entered(opteed::RETURN_CALL_DONE);
    if HALTED.load(Ordering::Acquire) {
        args[0] = smc::RETURN_ENOTAVAIL as u64;
        return;
    }
    let out = match args[0] as u32 {
        smc::CALL_WITH_ARG | smc::CALL_WITH_RPC_ARG | smc::CALL_WITH_REGD_ARG => thread::start(*args),
        smc::RETURN_FROM_RPC => thread::resume(*args),
        _ => [smc::RETURN_EBADCMD as u64, 0, 0, 0],
    };
    arch::user::restore_ns_fp();
    args[..4].copy_from_slice(&out);
}

pub extern "C" fn cpu_on() {
    entered(opteed::RETURN_ON_DONE);
    arch::enable_mmu(mm::root());
    init_cpu_interrupts();
    info!("CPU {} online", arch::cpu_index());
}

pub extern "C" fn cpu_off() {
    entered(opteed::RETURN_OFF_DONE);
    info!("CPU {} going off", arch::cpu_index());
}

pub extern "C" fn cpu_suspend() {
    entered(opteed::RETURN_SUSPEND_DONE);
    debug!("CPU {} suspend", arch::cpu_index());
}

pub extern "C" fn cpu_resume() {
    entered(opteed::RETURN_RESUME_DONE);
    debug!("CPU {} resume", arch::cpu_index());
}

pub extern "C" fn system_off() {
    entered(opteed::RETURN_SYSTEM_OFF_DONE);
    info!("system off");
}

pub extern "C" fn system_reset() {
    entered(opteed::RETURN_SYSTEM_RESET_DONE);
    info!("system reset");
}

/// A secure interrupt arrived while the normal world ran.
pub extern "C" fn fiq() {
    entered(opteed::RETURN_FIQ_DONE);
    interrupt::handle_native();
}

/// The abort path: an exception in the OS (`kind` is the vector's index)
/// or a panic (`KIND_PANIC`, `KIND_OUT_OF_MEMORY`), on this CPU's entry
/// stack. The call that caused it is aborted (see `thread::abort_current`)
/// and the OS goes on. Writes the SMC to return to the monitor with into
/// `out` (function id, x1..x4).
#[allow(clippy::too_many_arguments)]
pub extern "C" fn exception(kind: u64, esr: u64, elr: u64, far: u64, out: &mut [u64; 5], fp: u64, lr: u64, sp: u64) {
    // First: no lock the faulting code held may stay closed (the log's
    // included, so the report below cannot wait on it).
    let released = arch::release_cpu_locks();
    let opened = released.locks;
    note_released(released);
    let on_thread = thread::current().is_some();
    let cause = match kind {
        KIND_OUT_OF_MEMORY => AbortCause::OutOfMemory,
        _ => AbortCause::Fault,
    };
    if kind < KIND_PANIC {
        error!(
            "exception in the OS ({}){}: ESR {esr:#x} (class {:#x}) ELR {elr:#x} FAR {far:#x}; {opened} spin lock(s) opened; aborting the call",
            exception_name(kind, esr),
            if on_thread { " on a trusted thread" } else { "" },
            esr >> 26,
        );
    } else if opened > 0 {
        warn!("{opened} spin lock(s) the panicking code held were opened");
    }
    os_crash_report(kind, esr, elr, far, fp, lr, sp);
    let done = DONE[arch::cpu_index()].load(Ordering::Relaxed);
    // The report is out; a later panic on this CPU is a new one.
    PANICKING[arch::cpu_index()].store(false, Ordering::Release);
    let aborted = if HALTED.load(Ordering::Acquire) { None } else { thread::abort_current(cause) };
    if crate::ffa::active() {
        // FF-A mode: the answer is owed in FF-A form, from this CPU's loop.
        arch::user::restore_ns_fp();
        crate::ffa::after_abort(aborted)
    }
    if done == opteed::RETURN_ENTRY_DONE && aborted.is_none() {
        // Cold boot failed: tell whichever monitor started us.
        crate::ffa::cold_boot_failed()
    }
    let regs = match aborted {
        Some(r) => {
            *out = [opteed::RETURN_CALL_DONE as u64, r[0], r[1], r[2], r[3]];
            arch::user::restore_ns_fp();
            return;
        }
        None if done == opteed::RETURN_CALL_DONE => [arch::ABORT_CODE as u64, 0, 0, 0],
        None => [0; 4],
    };
    arch::user::restore_ns_fp();
    *out = [done as u64, regs[0], regs[1], regs[2], regs[3]];
}

/// The OS's crash report (format in docs/debugging.md): the reason in
/// words, the registers the entry kept, where the OS image lies, and the
/// call stack from the frame-pointer chain if the fault was on a trusted
/// thread (whose stack the abort leaves intact; an entry stack is being
/// reused by this very report).
fn os_crash_report(kind: u64, esr: u64, elr: u64, far: u64, fp: u64, lr: u64, sp: u64) {
    use oxtee_core::crash;
    let stack = thread::current().map(thread::stack_range);
    let range = stack.map(|(bottom, top)| crash::Stack { bottom, top });
    // No allocation here: this may report an out-of-memory panic.
    if kind < KIND_PANIC {
        error!("OS crash: {}", crash::Reason::of_fault(esr, far, sp, range));
    } else if kind == KIND_OUT_OF_MEMORY {
        error!("OS crash: panic: out of memory");
    } else {
        error!("OS crash: panic (message above)");
    }
    static REPORTS: crash::Limiter = crash::Limiter::new();
    let (full, nth) = REPORTS.next();
    if !full {
        error!(
            "OS crash: pc {elr:#x}; full report left out (OS crash {nth}: the first {} and every {}th are full)",
            crash::FULL_FIRST,
            crash::FULL_EVERY
        );
        return;
    }
    let text = arch::layout().text;
    let images = [crash::Image { name: &"os", base: text.0 as u64, span: (text.1 - text.0) as u64 }];
    // A panic: the pc is the call into the abort path.
    let pc = if kind < KIND_PANIC { elr } else { lr.wrapping_sub(4) };
    let regs = crash::Regs { x: None, fp, lr, sp, pc, pstate: 0, esr, far };
    let mut read = |a: u64| stack.and_then(|s| thread::read_stack_word(s, a));
    crash::report("OS crash:", &regs, &images, range, &mut read, &mut |a| error!("{a}"));
}

fn exception_name(kind: u64, esr: u64) -> &'static str {
    match (kind, esr >> 26) {
        (4, 0x25) => "data abort",
        (4, 0x21) => "instruction abort",
        (4, 0x00) => "undefined instruction",
        (4, 0x22) => "PC alignment fault",
        (4, 0x26) => "SP alignment fault",
        (4, _) => "synchronous exception",
        (0..=3, _) => "exception taken on SP_EL0",
        (7, _) => "SError",
        _ => "exception",
    }
}
