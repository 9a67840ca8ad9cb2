//! User mode: per-TA translation tables in the TTBR1 half (each with its
//! own ASID, sized by `aarch64-paging` to what the TA maps), and the run
//! loop that enters S-EL0 and comes back on any exception. The kernel's own
//! map (TTBR0) is global and never changes, so switching between TAs is
//! one TTBR1 write.

use super::interrupt;
use aarch64_paging::Mapping;
use aarch64_paging::descriptor::El1Attributes as A;
use aarch64_paging::descriptor::PhysicalAddress;
use aarch64_paging::idmap::IdTranslation;
use aarch64_paging::paging::{Constraints, El1And0, MemoryRegion, VaRange};
use alloc::collections::BTreeMap;
use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicU32, Ordering};
use oxtee_abi::tee::TeeResult;
use oxtee_core::env::{UserExit, UserMapping, UserMmu, UserPerm, UserRegs};

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

type Table = Mapping<IdTranslation<A>, El1And0>;

struct Space {
    map: Table,
    asid: usize,
}

// SAFETY: a Space's tables are only read or changed under SPACES' lock; the
// raw pointers inside refer to heap pages owned by the Space alone.
unsafe impl Send for Space {}

/// CPUs in user mode right now, and the most there ever were.
static IN_USER: AtomicU32 = AtomicU32::new(0);
static PEAK_IN_USER: AtomicU32 = AtomicU32::new(0);

static SPACES: spin::Mutex<BTreeMap<u64, Space>> = spin::Mutex::new(BTreeMap::new());
static NEXT_HANDLE: spin::Mutex<u64> = spin::Mutex::new(0);
/// ASIDs 1..=255 (8-bit ASIDs; 0 is the kernel's empty TTBR1).
static ASIDS: spin::Mutex<[u64; 4]> = spin::Mutex::new([1, 0, 0, 0]);

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

/// Free heap below which no translation table is built: `aarch64-paging`
/// cannot report a failed table allocation, so make sure there is room.
const TABLE_HEADROOM: usize = 256 << 10;

fn heap_has_room() -> Result<(), TeeResult> {
    let heap = crate::HEAP.lock();
    let free = heap.stats_total_bytes().saturating_sub(heap.stats_alloc_actual());
    if free < TABLE_HEADROOM { Err(TeeResult::ERROR_OUT_OF_MEMORY) } else { Ok(()) }
}

fn map_one(t: &mut Table, m: &UserMapping) -> Result<(), TeeResult> {
    heap_has_room()?;
    let region = MemoryRegion::new(m.va as usize, (m.va + m.len) as usize);
    t.map_range(&region, PhysicalAddress(m.pa as usize), flags(m.perm), Constraints::empty())
        .map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)
}

fn invalidate_asid(asid: usize) {
    // SAFETY: TLB maintenance by ASID only drops cached translations of
    // user spaces; the barriers make it complete before we go on.
    unsafe { asm!("dsb ishst", "tlbi aside1is, {}", "dsb ish", "isb", in(reg) (asid as u64) << 48, options(nostack)) };
}

/// The user-space MMU the core drives.
pub struct Mmu;

impl UserMmu for Mmu {
    fn create(&self, maps: &[UserMapping]) -> Result<u64, TeeResult> {
        let asid = alloc_asid().ok_or(TeeResult::ERROR_OUT_OF_MEMORY)?;
        let mut map = Table::with_asid_and_va_range(IdTranslation::new(), asid, 1, El1And0, VaRange::Upper);
        for m in maps {
            if let Err(e) = map_one(&mut map, m) {
                free_asid(asid);
                return Err(e);
            }
        }
        // Stale entries of a previous owner of this ASID must not survive.
        invalidate_asid(asid);
        let handle = {
            let mut n = NEXT_HANDLE.lock();
            *n += 1;
            *n
        };
        SPACES.lock().insert(handle, Space { map, asid });
        Ok(handle)
    }

    fn map(&self, handle: u64, m: &UserMapping) -> Result<(), TeeResult> {
        let mut spaces = SPACES.lock();
        let s = spaces.get_mut(&handle).ok_or(TeeResult::ERROR_BAD_STATE)?;
        map_one(&mut s.map, m)
    }

    fn unmap(&self, handle: u64, va: u64, len: u64) {
        let mut spaces = SPACES.lock();
        if let Some(s) = spaces.get_mut(&handle) {
            let region = MemoryRegion::new(va as usize, (va + len) as usize);
            // Writing entries without VALID leaves the range unmapped.
            let _ = s.map.map_range(&region, PhysicalAddress(0), A::empty(), Constraints::empty());
            invalidate_asid(s.asid);
        }
    }

    fn destroy(&self, handle: u64) {
        let s = SPACES.lock().remove(&handle);
        if let Some(s) = s {
            invalidate_asid(s.asid);
            free_asid(s.asid);
            drop(s.map);
        }
    }

    fn peak_parallel(&self) -> u32 {
        PEAK_IN_USER.load(Ordering::Relaxed)
    }

    fn sync_code(&self, pa: u64, len: u64) {
        let mut a = pa & !63;
        while a < pa + len {
            // SAFETY: cleaning data cache lines of memory the OS owns (the
            // TA image it just wrote) has no other effect.
            unsafe { asm!("dc cvau, {}", in(reg) a, options(nostack)) };
            a += 64;
        }
        // SAFETY: barriers and instruction-cache invalidation only.
        unsafe { asm!("dsb ish", "ic ialluis", "dsb ish", "isb", options(nostack)) };
    }
}

fn ttbr1(handle: u64) -> Option<u64> {
    let spaces = SPACES.lock();
    let s = spaces.get(&handle)?;
    Some(s.map.root_address().0 as u64 | (s.asid as u64) << 48)
}

/// Runs user mode in `space` until a syscall or a fault. Interrupts taken
/// meanwhile are handled as if they had hit the OS (a foreign one suspends
/// this thread until the normal world resumes it).
pub fn enter(space: u64, regs: &mut UserRegs) -> UserExit {
    let Some(ttbr) = ttbr1(space) else {
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
