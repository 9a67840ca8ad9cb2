//! Rust side of the OS's entry points: each is called from the assembly in
//! `arch/entry.S` on this CPU's entry stack, with interrupts masked.

use crate::arch::{self, gic, interrupt, nsmem::NsRam, thread, timer};
use crate::{mm, os};
use alloc::vec;
use log::{debug, error, info, warn};
use oxtee_abi::optee_smc as smc;
use oxtee_core::Os;
use oxtee_core::fastcall::OsConfig;
use oxtee_core::pta::device_enum::DeviceEnum;
use oxtee_core::pta::test::TestPta;
use oxtee_core::rng::Rng;
use oxtee_core::shm::ShmConfig;
use oxtee_core::ta::image::TaKey;
use oxtee_core::user::UserTas;
use oxtee_platform::{MAX_CPUS, THREAD_STACK_SIZE, THREADS_PER_CPU, map};

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
static DEVICE_ENUM: DeviceEnum = DeviceEnum { devices: &[], devices_supp: &[] };
static TEST_PTA: TestPta = TestPta::new();
static NS_RAM: spin::Once<NsRam> = spin::Once::new();

/// Normal-world RAM from the device tree the monitor passed (QEMU's, read
/// before the normal world has run); 1 GiB at DRAM_BASE if there is none.
fn ns_ram_from_dt(dtb: u64) -> (u64, u64) {
    let fallback = (map::DRAM_BASE, 0x4000_0000);
    if !(map::DRAM_BASE..map::DRAM_BASE + 0x4000_0000).contains(&dtb) {
        return fallback;
    }
    arch::read_fdt(dtb)
        .and_then(|f| f.memory().regions().next().map(|r| (r.starting_address as u64, r.size.unwrap_or(0) as u64)))
        .filter(|r| r.0 >= map::DRAM_BASE && r.1 > 0)
        .unwrap_or(fallback)
}

fn init_cpu_interrupts() {
    gic::init_cpu();
    gic::claim_private(arch::cpu_index(), timer::INTID);
}

/// The random generator's key material: QEMU's per-boot secure seed (read
/// and wiped from the tree the monitor passed), 256 bits of RNDR where the
/// CPU has it, and the counter (predictable under `-icount`, so never the
/// only source if another exists). Seed bytes are wiped after use and never
/// logged.
fn seed_rng(dtb: u64) -> Rng {
    let mut seed =
        if (map::DRAM_BASE..map::DRAM_BASE + 0x4000_0000).contains(&dtb) { arch::take_secure_seed(dtb) } else { None };
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

pub extern "C" fn cold_boot(dtb: u64) -> u64 {
    crate::init_logging();
    let layout = arch::layout();
    arch::init_heap(layout.heap);
    let ns_ram = ns_ram_from_dt(dtb);
    let rng = seed_rng(dtb);
    // Thread stacks first, so the kernel map can leave their guard pages out.
    let threads = THREADS_PER_CPU * MAX_CPUS;
    let guards = thread::init(threads, THREAD_STACK_SIZE);
    let root = mm::init(&layout, ns_ram, &guards);
    arch::enable_mmu(root);
    init_cpu_interrupts();
    let config = OsConfig {
        build_id: BUILD_ID,
        thread_count: threads as u32,
        static_shm: Some((map::STATIC_SHM_BASE, map::STATIC_SHM_SIZE)),
        yielding_calls: true,
    };
    let shm = ShmConfig { static_pool: config.static_shm, ns_ram };
    let mem = NS_RAM.call_once(|| NsRam { base: ns_ram.0, size: ns_ram.1 });
    let key = TaKey::new(&ta_key::TA_KEY_MODULUS, ta_key::TA_KEY_EXPONENT).expect("TA signing key is valid");
    let core = crate::OS.call_once(|| {
        Os::new(config, shm, mem, vec![&DEVICE_ENUM, &TEST_PTA])
            .with_user_tas(UserTas::new(&USER_MMU, key))
            .with_rng(rng)
    });
    info!(
        "oxtee OS {} (build {:016x}) ready: {} KiB heap, {} threads x {} KiB, caps {:#x}, GICv{}, normal RAM {:#x}+{:#x}",
        env!("CARGO_PKG_VERSION"),
        BUILD_ID,
        (layout.heap.1 - layout.heap.0) / 1024,
        threads,
        THREAD_STACK_SIZE / 1024,
        core.fast.capabilities().0,
        if gic::is_v3() { 3 } else { 2 },
        ns_ram.0,
        ns_ram.1
    );
    arch::vector_table_addr()
}

pub extern "C" fn fast_smc(args: &mut [u64; 8]) {
    os().fast_call(args);
}

pub extern "C" fn yield_smc(args: &mut [u64; 8]) {
    let out = match args[0] as u32 {
        smc::CALL_WITH_ARG | smc::CALL_WITH_RPC_ARG | smc::CALL_WITH_REGD_ARG => thread::start(*args),
        smc::RETURN_FROM_RPC => thread::resume(*args),
        _ => [smc::RETURN_EBADCMD as u64, 0, 0, 0],
    };
    arch::user::restore_ns_fp();
    args[..4].copy_from_slice(&out);
}

pub extern "C" fn cpu_on() {
    arch::enable_mmu(mm::root());
    init_cpu_interrupts();
    info!("CPU {} online", arch::cpu_index());
}

pub extern "C" fn cpu_off() {
    info!("CPU {} going off", arch::cpu_index());
}

pub extern "C" fn cpu_suspend() {
    debug!("CPU {} suspend", arch::cpu_index());
}

pub extern "C" fn cpu_resume() {
    debug!("CPU {} resume", arch::cpu_index());
}

pub extern "C" fn system_off() {
    info!("system off");
}

pub extern "C" fn system_reset() {
    info!("system reset");
}

/// A secure interrupt arrived while the normal world ran.
pub extern "C" fn fiq() {
    interrupt::handle_native();
}

/// An exception in the OS: report it and fail the call that caused it.
pub extern "C" fn exception(kind: u64, esr: u64, elr: u64, far: u64) -> u64 {
    let thread = thread::current();
    error!(
        "unexpected exception {kind} in the OS{}: ESR {esr:#x} ELR {elr:#x} FAR {far:#x}; aborting the call",
        if thread.is_some() { " (trusted thread)" } else { "" }
    );
    thread::abandon_current();
    arch::user::restore_ns_fp();
    arch::ABORT_CODE as u64
}
