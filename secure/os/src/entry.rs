//! Rust side of the OS's entry points: each is called from the assembly in
//! `arch/entry.S` on this CPU's entry stack, with interrupts masked.

use crate::{arch, mm};
use log::{debug, error, info};
use oxtee_core::fastcall::{FastCalls, OsConfig};
use oxtee_platform::{MAX_CPUS, THREADS_PER_CPU, map};
use spin::Once;

static FAST: Once<FastCalls> = Once::new();

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

pub extern "C" fn cold_boot(_dtb: u64) -> u64 {
    crate::init_logging();
    let layout = arch::layout();
    arch::init_heap(layout.heap);
    let root = mm::init(&layout);
    arch::enable_mmu(root);
    let config = OsConfig {
        build_id: BUILD_ID,
        thread_count: (THREADS_PER_CPU * MAX_CPUS) as u32,
        static_shm: Some((map::STATIC_SHM_BASE, map::STATIC_SHM_SIZE)),
    };
    let fast = FAST.call_once(|| FastCalls::new(config));
    info!(
        "oxtee OS {} (build {:016x}) ready: {} KiB heap, {} threads, caps {:#x}",
        env!("CARGO_PKG_VERSION"),
        BUILD_ID,
        (layout.heap.1 - layout.heap.0) / 1024,
        config.thread_count,
        fast.capabilities().0
    );
    arch::vector_table_addr()
}

fn fast() -> &'static FastCalls {
    FAST.get().expect("OS initialised before the monitor routes calls")
}

pub extern "C" fn fast_smc(args: &mut [u64; 8]) {
    fast().handle(args);
}

pub extern "C" fn yield_smc(args: &mut [u64; 8]) {
    oxtee_core::yielding::handle(args);
}

pub extern "C" fn cpu_on() {
    arch::enable_mmu(mm::root());
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

pub extern "C" fn fiq() {
    // No secure interrupt sources are configured yet.
    debug!("spurious FIQ on CPU {}", arch::cpu_index());
}

/// An exception in the OS: report it and fail the call that caused it.
pub extern "C" fn exception(kind: u64, esr: u64, elr: u64, far: u64) -> u64 {
    error!("unexpected exception {kind} in the OS: ESR {esr:#x} ELR {elr:#x} FAR {far:#x}; aborting the call");
    arch::ABORT_CODE as u64
}
