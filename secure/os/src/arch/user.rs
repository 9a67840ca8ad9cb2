//! User mode: per-TA translation tables in the TTBR1 half (each with its
//! own ASID, sized by `aarch64-paging` to what the TA maps), and the run
//! loop that enters S-EL0 and comes back on any exception. The kernel's own
//! map (TTBR0) is global and never changes, so switching between TAs is
//! one TTBR1 write.

use super::interrupt;
use aarch64_paging::Mapping;
use aarch64_paging::descriptor::El1Attributes as A;
use aarch64_paging::descriptor::PhysicalAddress;
use aarch64_paging::paging::{Constraints, El1And0, MemoryRegion, PageTable, Translation, VaRange};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::any::Any;
use core::arch::{asm, global_asm};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};
use oxtee_abi::addr::{NsPhys, SecPhys, UserVirt};
use oxtee_abi::tee::TeeResult;
use oxtee_core::env::{UserExit, UserMapping, UserMmu, UserPerm, UserRegs, UserTables};
use oxtee_guard::SpinLock;

/// An empty table TTBR1 points at while the kernel runs (ASID 0).
#[repr(C, align(4096))]
pub struct EmptyTable([u64; 512]);
pub static EMPTY_TTBR1: EmptyTable = EmptyTable([0; 512]);

global_asm!(include_str!("user.S"), empty_ttbr1 = sym EMPTY_TTBR1);

unsafe extern "C" {
    fn user_run(regs: *mut UserRegs, ttbr1: u64) -> u64;
}

unsafe extern "C" {
    fn fp_save(area: *mut FpState);
    fn fp_restore(area: *const FpState);
}

/// FP/SIMD registers: q0..q31, then FPSR and FPCR.
#[repr(C, align(16))]
pub struct FpState {
    q: [u128; 32],
    fpsr: u64,
    fpcr: u64,
}

/// The normal world's FP/SIMD registers, saved on a CPU before the first
/// TA runs there after the normal world called, restored before the OS
/// returns to the normal world. A monitor that does not switch FP state
/// (TF-A's default) then still hands the normal world its own registers,
/// never a TA's.
struct NsFp {
    saved: bool,
    state: FpState,
}

struct NsFpSlot(core::cell::UnsafeCell<NsFp>);

// SAFETY: slot i is only used by CPU i, with interrupts masked.
unsafe impl Sync for NsFpSlot {}

static NS_FP: [NsFpSlot; oxtee_platform::MAX_CPUS] = [const {
    NsFpSlot(core::cell::UnsafeCell::new(NsFp { saved: false, state: FpState { q: [0; 32], fpsr: 0, fpcr: 0 } }))
}; oxtee_platform::MAX_CPUS];

fn ns_fp() -> &'static mut NsFp {
    // SAFETY: each CPU only takes its own slot, with interrupts masked, and
    // callers hold one borrow at a time.
    unsafe { &mut *NS_FP[super::cpu_index()].0.get() }
}

fn save_ns_fp() {
    let slot = ns_fp();
    if !slot.saved {
        // SAFETY: the area is this CPU's, 16-byte aligned and FpState-sized.
        unsafe { fp_save(&mut slot.state) };
        slot.saved = true;
    }
}

/// Called on every way back to the normal world: puts back its FP/SIMD
/// registers if a TA ran on this CPU meanwhile.
pub fn restore_ns_fp() {
    let slot = ns_fp();
    if slot.saved {
        // SAFETY: the area was filled by fp_save on this CPU.
        unsafe { fp_restore(&slot.state) };
        slot.saved = false;
    }
}

const KIND_SYNC: u64 = 0;
const KIND_IRQ: u64 = 1;
const KIND_FIQ: u64 = 2;
/// ESR_EL1.EC of `svc` from AArch64.
const EC_SVC64: u64 = 0x15;
/// Only the condition flags of a TA's PSTATE survive: it always runs at
/// EL0 (AArch64, SP_EL0) with interrupts unmasked.
const PSTATE_USER_MASK: u64 = 0xf000_0000;

/// Translation tables a space may use for its own mapping work: tables
/// are taken from a pool the space tops up (fallibly) before each change,
/// so `aarch64-paging`, which cannot report a failed table allocation,
/// never has to allocate.
struct PoolTranslation {
    pool: SpinLock<Vec<usize>>,
}

const TABLE: Layout = match Layout::from_size_align(4096, 4096) {
    Ok(l) => l,
    Err(_) => panic!("page-table layout"),
};

fn alloc_table() -> Option<usize> {
    // SAFETY: TABLE has a non-zero size.
    let p = unsafe { alloc::alloc::alloc_zeroed(TABLE) };
    (!p.is_null()).then_some(p as usize)
}

fn free_table(p: usize) {
    // SAFETY: `p` came from `alloc_table` (same layout) and is freed once:
    // it left the pool, or the table that used it is being dropped.
    unsafe { alloc::alloc::dealloc(p as *mut u8, TABLE) };
}

impl PoolTranslation {
    /// Makes sure `n` tables are at hand; OUT_OF_MEMORY if the heap
    /// cannot give them (what was allocated stays in the pool).
    fn reserve(&self, n: usize) -> Result<(), TeeResult> {
        // Grow the list outside its lock (only this space's thread uses it).
        let mut pool = core::mem::take(&mut *self.pool.lock());
        let want = n.saturating_sub(pool.len());
        let mut r = pool.try_reserve(want).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY);
        if r.is_ok() {
            for _ in 0..want {
                match alloc_table() {
                    Some(p) => pool.push(p),
                    None => {
                        r = Err(TeeResult::ERROR_OUT_OF_MEMORY);
                        break;
                    }
                }
            }
        }
        *self.pool.lock() = pool;
        r
    }
}

/// Tables one change needs at most: a level-2 table per GiB and a level-3
/// table per 2 MiB the range touches (user mappings use pages only).
fn tables_for(va: UserVirt, len: u64) -> usize {
    let (start, end) = (va.get(), va.get() + len.max(1) - 1);
    let span = |shift: u32| ((end >> shift) - (start >> shift) + 1) as usize;
    span(30) + span(21)
}

impl Translation<A> for PoolTranslation {
    fn allocate_table(&mut self) -> (NonNull<PageTable<A>>, PhysicalAddress) {
        let p = self.pool.get_mut().pop().or_else(alloc_table);
        // The pool is topped up before every change; running dry here is
        // a bug, answered like an allocation failure (the call is aborted).
        let Some(p) = p.and_then(|p| NonNull::new(p as *mut PageTable<A>)) else {
            alloc::alloc::handle_alloc_error(TABLE)
        };
        (p, PhysicalAddress(p.as_ptr() as usize))
    }

    unsafe fn deallocate_table(&mut self, table: NonNull<PageTable<A>>) {
        free_table(table.as_ptr() as usize);
    }

    fn physical_to_virtual(&self, pa: PhysicalAddress) -> NonNull<PageTable<A>> {
        NonNull::new(pa.0 as *mut PageTable<A>).expect("tables are never at address 0")
    }
}

impl Drop for PoolTranslation {
    fn drop(&mut self) {
        self.pool.get_mut().drain(..).for_each(free_table);
    }
}

type Table = Mapping<PoolTranslation, El1And0>;

/// One TA address space: its tables and its ASID (freed with it).
struct Inner {
    map: Table,
    asid: usize,
}

/// What the core owns: allocated empty first, so nothing built afterwards
/// (tables, an ASID) is ever stranded by a failed allocation.
struct Tables(Option<Inner>);

// SAFETY: the tables' raw pointers refer to pages owned by this value
// alone; it is used by one thread at a time (the one inside the TA).
unsafe impl Send for Tables {}

/// CPUs in user mode right now, and the most there ever were.
static IN_USER: AtomicU32 = AtomicU32::new(0);
static PEAK_IN_USER: AtomicU32 = AtomicU32::new(0);

/// ASIDs 1..=255 (8-bit ASIDs; 0 is the kernel's empty TTBR1).
static ASIDS: SpinLock<[u64; 4]> = SpinLock::new([1, 0, 0, 0]);

fn alloc_asid() -> Option<usize> {
    let mut a = ASIDS.lock();
    (1..256).find(|i| a[i / 64] & (1 << (i % 64)) == 0).inspect(|i| a[i / 64] |= 1 << (i % 64))
}

fn free_asid(asid: usize) {
    ASIDS.lock()[asid / 64] &= !(1 << (asid % 64));
}

fn flags(perm: UserPerm) -> A {
    let base = A::VALID | A::ACCESSED | A::ATTRIBUTE_INDEX_1 | A::INNER_SHAREABLE | A::USER | A::NON_GLOBAL | A::PXN;
    match perm {
        UserPerm::ReadOnly => base | A::READ_ONLY | A::UXN,
        UserPerm::ReadWrite => base | A::UXN,
        UserPerm::ReadExec => base | A::READ_ONLY,
    }
}

fn invalidate_asid(asid: usize) {
    // SAFETY: TLB maintenance by ASID only drops cached translations of
    // user spaces; the barriers make it complete before we go on.
    unsafe { asm!("dsb ishst", "tlbi aside1is, {}", "dsb ish", "isb", in(reg) (asid as u64) << 48, options(nostack)) };
}

impl Inner {
    fn map_one(&mut self, m: &UserMapping) -> Result<(), TeeResult> {
        self.map.translation().reserve(tables_for(m.va, m.len))?;
        let region = MemoryRegion::new(m.va.get() as usize, (m.va.get() + m.len) as usize);
        self.map
            .map_range(&region, PhysicalAddress(m.pa.get() as usize), flags(m.perm), Constraints::NO_BLOCK_MAPPINGS)
            .map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)
    }

    fn ttbr(&self) -> u64 {
        self.map.root_address().0 as u64 | (self.asid as u64) << 48
    }
}

impl Tables {
    fn ttbr(&self) -> Option<u64> {
        self.0.as_ref().map(Inner::ttbr)
    }
}

impl UserTables for Tables {
    fn map(&mut self, m: &UserMapping) -> Result<(), TeeResult> {
        self.0.as_mut().ok_or(TeeResult::ERROR_BAD_STATE)?.map_one(m)
    }

    fn map_ns(&mut self, va: UserVirt, pa: NsPhys, len: u64, perm: UserPerm) -> Result<(), TeeResult> {
        let t = self.0.as_mut().ok_or(TeeResult::ERROR_BAD_STATE)?;
        // Normal-world pages are data only: never executable, and the NS
        // bit makes every access through them non-secure, so whatever the
        // address, the TA cannot reach secure memory with it.
        let perm = if perm == UserPerm::ReadExec { UserPerm::ReadOnly } else { perm };
        t.map.translation().reserve(tables_for(va, len))?;
        let region = MemoryRegion::new(va.get() as usize, (va.get() + len) as usize);
        t.map
            .map_range(&region, PhysicalAddress(pa.get() as usize), flags(perm) | A::NS, Constraints::NO_BLOCK_MAPPINGS)
            .map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)
    }

    fn unmap(&mut self, va: UserVirt, len: u64) {
        let Some(t) = self.0.as_mut() else { return };
        let region = MemoryRegion::new(va.get() as usize, (va.get() + len) as usize);
        // Pages only, so clearing entries never splits a block (and never
        // needs a table); writing entries without VALID unmaps them.
        let _ = t.map.map_range(&region, PhysicalAddress(0), A::empty(), Constraints::NO_BLOCK_MAPPINGS);
        invalidate_asid(t.asid);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // No CPU runs in the space any more; drop its cached translations
        // before the ASID can name another space.
        invalidate_asid(self.asid);
        free_asid(self.asid);
    }
}

/// The user-space MMU the core drives.
pub struct Mmu;

impl UserMmu for Mmu {
    fn create(&self, maps: &[UserMapping]) -> Result<Box<dyn UserTables>, TeeResult> {
        let mut tables = Box::new(Tables(None));
        let translation = PoolTranslation { pool: SpinLock::new(Vec::new()) };
        // The root table.
        translation.reserve(1)?;
        let asid = alloc_asid().ok_or(TeeResult::ERROR_OUT_OF_MEMORY)?;
        let map = Table::with_asid_and_va_range(translation, asid, 1, El1And0, VaRange::Upper);
        let t = tables.0.insert(Inner { map, asid });
        // Stale entries of a previous owner of this ASID must not survive.
        invalidate_asid(asid);
        for m in maps {
            t.map_one(m)?;
        }
        Ok(tables)
    }

    fn peak_parallel(&self) -> u32 {
        PEAK_IN_USER.load(Ordering::Relaxed)
    }

    fn asids_in_use(&self) -> u32 {
        ASIDS.lock().iter().map(|w| w.count_ones()).sum::<u32>() - 1
    }

    fn sync_code(&self, pa: SecPhys, len: u64) {
        let (start, end) = (pa.get() & !63, pa.get() + len);
        let mut a = start;
        while a < end {
            // SAFETY: cleaning data cache lines of memory the OS owns (the
            // TA image it just wrote) has no other effect.
            unsafe { asm!("dc cvau, {}", in(reg) a, options(nostack)) };
            a += 64;
        }
        // SAFETY: barriers and instruction-cache invalidation only.
        unsafe { asm!("dsb ish", "ic ialluis", "dsb ish", "isb", options(nostack)) };
    }
}

/// Runs user mode in `tables` until a syscall or a fault. Interrupts taken
/// meanwhile are handled as if they had hit the OS (a foreign one suspends
/// this thread until the normal world resumes it).
pub fn enter(tables: &dyn UserTables, regs: &mut UserRegs) -> UserExit {
    let Some(ttbr) = tables.as_any().downcast_ref::<Tables>().and_then(Tables::ttbr) else {
        return UserExit::Fault { esr: 0, far: 0 };
    };
    loop {
        // Also after a foreign interrupt: the thread may be on another CPU.
        save_ns_fp();
        regs.pstate &= PSTATE_USER_MASK;
        let now = IN_USER.fetch_add(1, Ordering::Relaxed) + 1;
        PEAK_IN_USER.fetch_max(now, Ordering::Relaxed);
        // SAFETY: `regs` is a valid UserRegs the entry code loads and saves
        // at fixed offsets; PSTATE was forced to EL0t with interrupts
        // unmasked, and TTBR1 holds only this TA's user mappings, so the
        // code that runs cannot reach kernel memory. The kernel's
        // callee-saved registers are restored by the exit path.
        let kind = unsafe { user_run(regs, ttbr) };
        IN_USER.fetch_sub(1, Ordering::Relaxed);
        match kind {
            KIND_SYNC if regs.esr >> 26 == EC_SVC64 => return UserExit::Syscall,
            KIND_SYNC => return UserExit::Fault { esr: regs.esr, far: regs.far },
            KIND_IRQ => interrupt::interrupt(interrupt::KIND_IRQ),
            KIND_FIQ => interrupt::interrupt(interrupt::KIND_FIQ),
            _ => return UserExit::Fault { esr: regs.esr, far: regs.far },
        }
    }
}
