//! The OS's hardware layer: entry assembly, system registers, MMU and heap
//! bring-up, and the secure UART. Portable logic lives in `oxtee-core`.

pub mod ce;
pub mod gic;
pub mod interrupt;
pub mod nsmem;
pub mod thread;
pub mod timer;
pub mod user;

use core::arch::{asm, global_asm};
use oxtee_abi::{optee_smc, opteed};

global_asm!(
    include_str!("entry.S"),
    cold_boot = sym crate::entry::cold_boot,
    fast_smc = sym crate::entry::fast_smc,
    yield_smc = sym crate::entry::yield_smc,
    cpu_on = sym crate::entry::cpu_on,
    cpu_off = sym crate::entry::cpu_off,
    cpu_resume = sym crate::entry::cpu_resume,
    cpu_suspend = sym crate::entry::cpu_suspend,
    system_off = sym crate::entry::system_off,
    system_reset = sym crate::entry::system_reset,
    fiq = sym crate::entry::fiq,
    exception = sym crate::entry::exception,
    interrupt = sym crate::arch::interrupt::interrupt,
    ffa_cpu_on = sym crate::ffa::cpu_on,
    entry_done = const opteed::RETURN_ENTRY_DONE,
    call_done = const opteed::RETURN_CALL_DONE,
    on_done = const opteed::RETURN_ON_DONE,
    off_done = const opteed::RETURN_OFF_DONE,
    resume_done = const opteed::RETURN_RESUME_DONE,
    suspend_done = const opteed::RETURN_SUSPEND_DONE,
    system_off_done = const opteed::RETURN_SYSTEM_OFF_DONE,
    system_reset_done = const opteed::RETURN_SYSTEM_RESET_DONE,
    fiq_done = const opteed::RETURN_FIQ_DONE,
);

unsafe extern "C" {
    static os_vector_table: u8;
    static os_exception_vectors: u8;
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __data_end: u8;
    static __heap_start: u8;
    static __os_ram_end: u8;
    static __entry_stacks_end: u8;
    fn abort_call(kind: u64) -> !;
    fn ffa_secondary_entry();
}

/// Where the monitor starts this OS on a CPU turned on later, in FF-A mode
/// (`FFA_SECONDARY_EP_REGISTER_64`).
pub fn ffa_secondary_entry_addr() -> u64 {
    ffa_secondary_entry as *const () as u64
}

/// An SMC with x0..x7 as arguments and results (SMCCC 1.2; x8..x17 are
/// preserved by the monitor, which the clobbers do not rely on).
pub fn smc8(r: [u64; 8]) -> [u64; 8] {
    let mut o = r;
    // SAFETY: an SMC to our monitor (or TF-A): it reads and writes x0..x7
    // only, as SMCCC 1.2 says; the clobbers cover every caller-saved
    // register the call convention allows it to change.
    unsafe {
        asm!(
            "smc #0",
            inout("x0") o[0],
            inout("x1") o[1],
            inout("x2") o[2],
            inout("x3") o[3],
            inout("x4") o[4],
            inout("x5") o[5],
            inout("x6") o[6],
            inout("x7") o[7],
            out("x8") _, out("x9") _, out("x10") _, out("x11") _,
            out("x12") _, out("x13") _, out("x14") _, out("x15") _,
            out("x16") _, out("x17") _,
            options(nostack),
        )
    };
    o
}

/// Address ranges of the image, from the linker script.
pub struct Layout {
    pub text: (usize, usize),
    pub rodata: (usize, usize),
    /// .data, .bss and the entry stacks.
    pub data: (usize, usize),
    pub heap: (usize, usize),
    /// Guard pages under each CPU's entry stack (left unmapped).
    pub entry_stack_guards: [usize; oxtee_platform::MAX_CPUS],
}

/// Each CPU's slot in `.stacks`: a guard page under its entry stack.
const ENTRY_SLOT: usize = 36 * 1024;

pub fn layout() -> Layout {
    let a = |p: *const u8| p as usize;
    Layout {
        text: (a(&raw const __text_start), a(&raw const __text_end)),
        rodata: (a(&raw const __rodata_start), a(&raw const __rodata_end)),
        data: (a(&raw const __data_start), a(&raw const __data_end)),
        heap: (a(&raw const __heap_start), a(&raw const __os_ram_end)),
        entry_stack_guards: core::array::from_fn(|i| a(&raw const __entry_stacks_end) - (i + 1) * ENTRY_SLOT),
    }
}

pub fn vector_table_addr() -> u64 {
    &raw const os_vector_table as u64
}

/// The abort path for a panic of kind `kind` (`entry::KIND_*`): runs
/// `entry::exception` on this CPU's entry stack and returns to the monitor.
pub fn abort_current_call(kind: u64) -> ! {
    // SAFETY: abort_call resets this CPU's entry stack and never returns;
    // the abandoned stack is only reached again through the thread's
    // ledger, whose entries stay valid (nothing overwrites that stack).
    unsafe { abort_call(kind) }
}

pub fn cpu_index() -> usize {
    let mpidr: u64;
    // SAFETY: reading MPIDR_EL1 has no side effects.
    unsafe { asm!("mrs {}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
    oxtee_platform::cpu_index(mpidr).unwrap_or(0)
}

/// MAIR: index 0 device nGnRE, index 1 normal write-back.
pub const MAIR: u64 = 0x04 | (0xff << 8);
/// TCR_EL1: 4 KiB granules, 39-bit VA in both halves (T0SZ=T1SZ=25, walks
/// start at level 1), inner-shareable write-back walks, 40-bit PA. TTBR0
/// holds the kernel's global map; TTBR1 a TA's map, whose ASID (8-bit,
/// A1) tags the TLB.
const TCR: u64 = 25
    | (0b01 << 8)
    | (0b01 << 10)
    | (0b11 << 12)
    | (25 << 16)
    | (1 << 22)
    | (0b01 << 24)
    | (0b01 << 26)
    | (0b11 << 28)
    | (0b10 << 30)
    | (0b010 << 32);
/// CNTKCTL_EL1.EL0PCTEN: TAs may read the physical counter (upstream TAs
/// do, e.g. for ftrace), as OP-TEE allows. Timers stay EL1-only.
const CNTKCTL_EL0PCTEN: u64 = 1;
/// CPACR_EL1.FPEN: FP/SIMD not trapped at EL1 or EL0 (TAs use FP; the
/// kernel is built soft-float and only moves TA registers).
const CPACR_FPEN: u64 = 0b11 << 20;
/// SCTLR_EL1: MMU, alignment checks off, D and I caches, SP alignment,
/// WXN, plus the RES1 bits.
const SCTLR: u64 = 0x30d0_0800 | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 12) | (1 << 19);

/// Turns on the MMU with the tables at `ttbr0` and installs the vectors.
/// The tables identity-map everything this CPU is executing from.
pub fn enable_mmu(ttbr0: u64) {
    let vbar = &raw const os_exception_vectors as u64;
    // SAFETY: the tables identity-map the image, stacks and heap with the
    // attributes this code expects, so execution continues unchanged once
    // translation is on; the TLB is invalidated before use.
    unsafe {
        asm!(
            "msr vbar_el1, {vbar}",
            "msr mair_el1, {mair}",
            "msr tcr_el1, {tcr}",
            "msr ttbr0_el1, {ttbr0}",
            "msr ttbr1_el1, {ttbr1}",
            "msr cpacr_el1, {cpacr}",
            "msr cntkctl_el1, {cntkctl}",
            "isb",
            "tlbi vmalle1",
            "dsb nsh",
            "isb",
            "msr sctlr_el1, {sctlr}",
            "isb",
            vbar = in(reg) vbar,
            mair = in(reg) MAIR,
            tcr = in(reg) TCR,
            ttbr0 = in(reg) ttbr0,
            ttbr1 = in(reg) &raw const user::EMPTY_TTBR1 as u64,
            cpacr = in(reg) CPACR_FPEN,
            cntkctl = in(reg) CNTKCTL_EL0PCTEN,
            sctlr = in(reg) SCTLR,
            options(nostack),
        )
    };
}

/// The secure UART; the monitor already configured it.
pub fn secure_uart() -> arm_pl011_uart::Uart<'static> {
    use arm_pl011_uart::{PL011Registers, Uart, UniqueMmioPointer};
    let regs = core::ptr::NonNull::new(oxtee_platform::map::SECURE_UART_BASE as *mut PL011Registers).unwrap();
    // SAFETY: the PL011 is at this address and mapped as device memory; the
    // OS makes this pointer once, at cold boot.
    Uart::new(unsafe { UniqueMmioPointer::new(regs) })
}

/// Hands the heap range to the global allocator.
pub fn init_heap(range: (usize, usize)) {
    // SAFETY: the range is the part of the OS's secure RAM after the image
    // and stacks (linker script), used by nothing else; called once.
    unsafe { crate::HEAP.init(range.0, range.1 - range.0) };
}

/// Opens every spin lock this CPU holds: the first thing the abort path
/// does, so the code that faulted cannot keep a lock (the UART log's
/// included) closed for ever.
pub fn release_cpu_locks() -> oxtee_guard::Released {
    // SAFETY: called only from the abort path (`entry::exception` and the
    // panic handler) of this CPU, before anything is freed: the code that
    // held the locks is abandoned and never runs again.
    unsafe { oxtee_guard::release_cpu_locks() }
}

/// Unwinds thread `id`'s ledger: drops what its aborted call held.
pub fn unwind_ledger(ledger: &oxtee_guard::Ledger) -> usize {
    // SAFETY: called from the abort path on the CPU entry stack, for the
    // thread that was running on this CPU when it faulted: its stack is
    // intact (the abort path runs on another stack) and it is restarted
    // from the top of its stack only after this returns; this CPU's spin
    // locks were released first.
    unsafe { ledger.unwind() }
}

/// Error code a caller gets when its call cannot be answered at all.
pub const ABORT_CODE: u32 = optee_smc::RETURN_ENOTAVAIL;

/// Takes the boot entropy QEMU leaves for the secure world
/// (`/secure-chosen/rng-seed` and `kaslr-seed`, fresh at every boot, in the
/// tree QEMU put at the base of RAM, which the monitor passes in x2) and
/// zeroes it there, since that tree sits in normal-world RAM. Cold boot,
/// MMU off. (Our monitor also removes the properties before the normal
/// world runs; under TF-A, this wipe is the only one.)
pub fn take_secure_seed(addr: oxtee_abi::addr::NsPhys) -> Option<alloc::vec::Vec<u8>> {
    let fdt = read_fdt(addr)?;
    let node = fdt.find_node("/secure-chosen")?;
    let mut seed = alloc::vec::Vec::new();
    for name in ["rng-seed", "kaslr-seed"] {
        if let Some(p) = node.property(name) {
            seed.extend_from_slice(p.value);
            let (ptr, len) = (p.value.as_ptr() as *mut u8, p.value.len());
            // SAFETY: the property lies inside the device tree blob QEMU
            // placed in RAM that nothing else uses yet (the normal world has
            // not run); overwriting its bytes keeps the tree well-formed.
            unsafe { core::ptr::write_bytes(ptr, 0, len) };
        }
    }
    (!seed.is_empty()).then_some(seed)
}

/// Overwrites a buffer that held secret bytes (volatile, so the stores are
/// not dropped as dead before the buffer is freed).
pub fn wipe(buf: &mut [u8]) {
    for b in buf.iter_mut() {
        // SAFETY: `b` is a valid, exclusive reference into `buf`.
        unsafe { core::ptr::write_volatile(b, 0) };
    }
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

/// Whether the CPU has `RNDR` (FEAT_RNG: ID_AA64ISAR0_EL1 bits 63:60).
pub fn rndr_implemented() -> bool {
    let isar0: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { asm!("mrs {}, id_aa64isar0_el1", out(reg) isar0, options(nomem, nostack)) };
    (isar0 >> 60) & 0xf != 0
}

/// 64 bits from the CPU's random number generator, or `None` if it has
/// none or could not produce a value in reasonable time (PSTATE.Z set).
pub fn rndr() -> Option<u64> {
    if !rndr_implemented() {
        return None;
    }
    let (v, ok): (u64, u64);
    // SAFETY: RNDR exists on this CPU (checked above); reading it only
    // returns a random number and sets the flags.
    unsafe {
        asm!("mrs {v}, S3_3_C2_C4_0", "cset {ok}, ne", v = out(reg) v, ok = out(reg) ok, options(nomem, nostack))
    };
    (ok != 0).then_some(v)
}

/// The physical counter (entropy stirred into the random generator).
pub fn counter() -> u64 {
    let v: u64;
    // SAFETY: reading CNTPCT_EL0 has no side effects.
    unsafe { asm!("isb", "mrs {}, cntpct_el0", out(reg) v, options(nostack)) };
    v
}

/// The word at `map::SECURE_LOG_ADDR` (the boot log level), read at cold
/// boot with the MMU off, before the normal world has run: only QEMU's
/// loader can have put anything there.
pub fn boot_log_word() -> u64 {
    // SAFETY: an aligned word of normal-world RAM, readable with the MMU
    // off; nothing else uses it yet, and any value is acceptable.
    unsafe { core::ptr::read_volatile(oxtee_platform::map::SECURE_LOG_ADDR as *const u64) }
}

/// The device tree at `addr` (QEMU's, in normal-world RAM that is not yet
/// mapped: read with the MMU off at cold boot).
pub fn read_fdt(addr: oxtee_abi::addr::NsPhys) -> Option<fdt::Fdt<'static>> {
    // SAFETY: called at cold boot before the MMU is on and before the normal
    // world has run; `addr` is where QEMU placed a device tree, and fdt
    // checks its header and bounds before reading further.
    unsafe { fdt::Fdt::from_ptr(addr.get() as *const u8).ok() }
}

/// The blob at `addr` in secure RAM read as a device tree: the SPMC
/// manifest (`TOS_FW_CONFIG`) TF-A's SPMD passes in x0. Read at cold boot
/// with the MMU off; `None` unless the whole blob lies in secure RAM.
pub fn read_secure_fdt(addr: u64) -> Option<fdt::Fdt<'static>> {
    use oxtee_platform::map::{SECURE_RAM_BASE, SECURE_RAM_SIZE};
    let end = SECURE_RAM_BASE + SECURE_RAM_SIZE;
    if !addr.is_multiple_of(8) || addr < SECURE_RAM_BASE || addr > end - 40 {
        return None;
    }
    let word = |at: u64| {
        // SAFETY: `at` is one of the header's first two words, in secure
        // RAM (checked above), which the CPU can read with the MMU off.
        u32::from_be(unsafe { core::ptr::read_volatile(at as *const u32) })
    };
    // The header's magic and totalsize, checked before fdt reads further.
    let (magic, size) = (word(addr), word(addr + 4) as u64);
    if magic != 0xd00d_feed || size < 40 || size > end - addr {
        return None;
    }
    // SAFETY: the whole blob lies in secure RAM (checked above), which
    // nothing writes while the boot CPU reads it; fdt checks the rest.
    unsafe { fdt::Fdt::from_ptr(addr as *const u8).ok() }
}

/// Raises an injected fault of `kind` (`oxtee_abi::test_pta::FAULT_*`) for
/// real, on the calling thread (test build only).
#[cfg(feature = "test-hooks")]
pub fn inject_fault(kind: u32) -> ! {
    use oxtee_abi::test_pta as t;
    match kind {
        t::FAULT_DATA_ABORT => {
            // The OS maps nothing at the bottom of the address space.
            let p = core::hint::black_box(0x10usize) as *const u64;
            // SAFETY: deliberately faulting: the load takes a translation
            // fault and never completes (the abort path takes over).
            let v = unsafe { core::ptr::read_volatile(p) };
            panic!("an unmapped load returned {v:#x}");
        }
        t::FAULT_OUT_OF_MEMORY => {
            // More than the whole heap: Rust's allocation-failure path.
            let v: alloc::vec::Vec<u8> = alloc::vec![0; core::hint::black_box(64 << 20)];
            panic!("a 64 MiB allocation succeeded ({} bytes)", v.len());
        }
        t::FAULT_STACK_OVERFLOW => {
            let r = overflow(0);
            panic!("recursion ended ({r})");
        }
        _ => panic!("injected panic"),
    }
}

/// Deep recursion no optimiser can flatten.
#[cfg(feature = "test-hooks")]
fn overflow(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 64]);
    if core::hint::black_box(depth) == u64::MAX {
        return frame[0];
    }
    overflow(depth + 1).wrapping_add(frame[63])
}
