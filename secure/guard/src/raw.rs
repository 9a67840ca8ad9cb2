//! Every `unsafe` of the crate: the type-erased drop the abort path calls
//! on a `Held` it finds in a ledger, the lock word and data cell of
//! `SpinLock`, the per-CPU lists of held locks, and the global allocator.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

// ---------------------------------------------------------------------------
// Ledger entries

/// An armed `Held`, type-erased: its address and the function that drops
/// it in place.
#[derive(Clone, Copy)]
pub(crate) struct Entry {
    ptr: NonNull<()>,
    // SAFETY: only called by `Entry::drop_in_place`, under its contract.
    drop: unsafe fn(NonNull<()>),
}

// SAFETY: an Entry is only an address and a function; it is followed by
// `Entry::drop_in_place` alone, whose contract (the owning stack is frozen
// and still mapped) is what makes following it from another context sound.
unsafe impl Send for Entry {}

/// What `Entry::drop_in_place` needs of the pointee: it must be told it is
/// no longer armed before its destructor runs.
pub(crate) trait Disarm {
    fn disarm(&self);
}

/// Drops the `H` at `p` in place after disarming it.
///
/// # Safety
/// `p` points to a live, pinned `H` that nothing will use again.
unsafe fn drop_erased<H: Disarm>(p: NonNull<()>) {
    let h = p.cast::<H>();
    // SAFETY: the caller guarantees `p` is a live `H`.
    unsafe { h.as_ref() }.disarm();
    // SAFETY: as above, and nothing uses the value afterwards, so dropping
    // it in place (once: the entry was taken out of the ledger) is sound.
    unsafe { ptr::drop_in_place(h.as_ptr()) };
}

impl Entry {
    /// The entry for the pinned value at `h`.
    pub(crate) fn new<H: Disarm>(h: &H) -> Entry {
        Entry { ptr: NonNull::from(h).cast(), drop: drop_erased::<H> }
    }

    pub(crate) fn points_to<H>(&self, h: &H) -> bool {
        ptr::eq(self.ptr.as_ptr() as *const H, h)
    }

    /// Runs the destructor of the value this entry names.
    ///
    /// # Safety
    /// The value is still alive at its pinned address (its stack frame was
    /// abandoned, not reused) and the code that owned it never runs again.
    pub(crate) unsafe fn drop_in_place(self) {
        // SAFETY: forwarded from the caller.
        unsafe { (self.drop)(self.ptr) }
    }
}

/// The value inside a pinned `Held`.
pub(crate) fn project_held<'a, T>(p: core::pin::Pin<&'a mut crate::Held<'_, T>>) -> &'a mut T {
    // SAFETY: the value is not structurally pinned (nothing relies on its
    // address, only on the `Held`'s), and the `Held` itself is not moved:
    // the reference handed out is to a field, never to the whole cell.
    unsafe { p.get_unchecked_mut() }.value_mut()
}

// ---------------------------------------------------------------------------
// SpinLock cell

/// The data and lock word of a `SpinLock`.
pub(crate) struct LockCell<T: ?Sized> {
    pub(crate) locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through `LockCell::get`, whose callers
// hold the lock word (exclusive access), so sharing the cell between CPUs
// is sound for any `T: Send`.
unsafe impl<T: ?Sized + Send> Sync for LockCell<T> {}

impl<T> LockCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        LockCell { locked: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    pub(crate) fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> LockCell<T> {
    /// # Safety
    /// The caller holds the lock word for as long as it uses the reference,
    /// and takes no other reference to the value meanwhile.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn get(&self) -> &mut T {
        // SAFETY: exclusive while the lock is held (caller's contract).
        unsafe { &mut *self.value.get() }
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

// ---------------------------------------------------------------------------
// Per-CPU lists of held locks

/// Locks one CPU may hold at once (nesting depth of spin locks).
pub(crate) const CPU_LOCK_SLOTS: usize = 16;

/// The lock words a CPU holds. Slots are claimed with compare-and-swap, so
/// an interrupt handler taking a lock on the same CPU cannot corrupt them.
pub(crate) struct CpuLocks {
    slots: [AtomicPtr<AtomicBool>; CPU_LOCK_SLOTS],
}

impl CpuLocks {
    pub(crate) const fn new() -> Self {
        CpuLocks { slots: [const { AtomicPtr::new(ptr::null_mut()) }; CPU_LOCK_SLOTS] }
    }

    /// Records `word` as held; the slot index, or None if all are taken
    /// (the lock is then held unrecorded: an abort would not open it).
    #[inline(always)]
    pub(crate) fn push(&self, word: &AtomicBool) -> Option<usize> {
        let p = word as *const AtomicBool as *mut AtomicBool;
        self.slots
            .iter()
            .position(|s| s.compare_exchange(ptr::null_mut(), p, Ordering::AcqRel, Ordering::Relaxed).is_ok())
    }

    /// Forgets `word` at `slot`; false if the slot no longer records it
    /// (the abort path opened the lock meanwhile: it is not ours to open).
    #[inline(always)]
    pub(crate) fn take(&self, slot: usize, word: &AtomicBool) -> bool {
        let p = word as *const AtomicBool as *mut AtomicBool;
        self.slots[slot].compare_exchange(p, ptr::null_mut(), Ordering::AcqRel, Ordering::Relaxed).is_ok()
    }

    pub(crate) fn held(&self) -> usize {
        self.slots.iter().filter(|s| !s.load(Ordering::Relaxed).is_null()).count()
    }

    /// Opens every lock recorded here and forgets it.
    ///
    /// # Safety
    /// Only on the abort path of the CPU that owns this list, before
    /// anything that could free a lock's memory runs: the code that held
    /// the locks never runs again, and the locks still exist.
    pub(crate) unsafe fn release_all(&self) -> crate::Released {
        let heap = active_heap().map(|h| h.heap.word() as *const AtomicBool);
        let mut r = crate::Released::default();
        for s in &self.slots {
            let p = s.swap(ptr::null_mut(), Ordering::AcqRel);
            if let Some(word) = NonNull::new(p) {
                r.heap |= heap == Some(p as *const AtomicBool);
                // SAFETY: the word belongs to a lock that was held (so not
                // freed: its holder borrowed it) by code that is abandoned.
                unsafe { word.as_ref() }.store(false, Ordering::Release);
                r.locks += 1;
            }
        }
        r
    }
}

// ---------------------------------------------------------------------------
// The global allocator

// SAFETY: memory comes from the buddy allocator under its lock; blocks
// handed out are disjoint, aligned as the layout asks, and freed once.
unsafe impl GlobalAlloc for crate::heap::KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.alloc_inner(layout) {
            Some(p) => p.as_ptr(),
            None => ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(p) {
            let mut heap = self.heap.lock();
            // SAFETY: GlobalAlloc's contract: `p` came from `alloc` on this
            // allocator with this layout and is freed once.
            unsafe { heap.dealloc(p, layout) };
        }
    }
}

/// The heap `init` set up (the one `heap::room_for` and `heap::used` ask).
static ACTIVE: AtomicPtr<crate::heap::KernelHeap> = AtomicPtr::new(ptr::null_mut());

impl crate::heap::KernelHeap {
    /// Hands `[start, start + size)` to the allocator and makes it the heap
    /// the crate's free-space queries report on.
    ///
    /// # Safety
    /// The range is RAM that nothing else uses, for as long as the heap lives.
    pub unsafe fn init(&'static self, start: usize, size: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.heap.lock().init(start, size) };
        ACTIVE.store(self as *const Self as *mut Self, Ordering::Release);
    }
}

pub(crate) fn active_heap() -> Option<&'static crate::heap::KernelHeap> {
    let p = ACTIVE.load(Ordering::Acquire);
    // SAFETY: only `init` stores here, and only the address of a 'static heap.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// This CPU's index (0 on the host).
#[inline(always)]
pub(crate) fn cpu_index() -> usize {
    #[cfg(all(target_arch = "aarch64", target_os = "none"))]
    {
        let mpidr: u64;
        // SAFETY: reading MPIDR_EL1 has no side effects.
        unsafe { core::arch::asm!("mrs {}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
        oxtee_platform::cpu_index(mpidr).unwrap_or(0)
    }
    #[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
    {
        0
    }
}

// ---------------------------------------------------------------------------
// The abort path's entry points

impl crate::Ledger {
    /// Drops every armed value, newest first, and returns how many.
    ///
    /// # Safety
    /// The thread that armed the entries is frozen for good: its stack is
    /// still mapped and unchanged, and none of its code runs again (it is
    /// restarted from scratch, if at all, after this returns). Spin locks
    /// that thread's CPU held were released first (`release_cpu_locks`).
    pub unsafe fn unwind(&self) -> usize {
        self.set_aborting(true);
        let mut n = 0;
        while let Some(e) = self.pop() {
            // SAFETY: the caller guarantees the owning stack is frozen and
            // intact; the entry was taken out, so it is dropped only once.
            unsafe { e.drop_in_place() };
            n += 1;
        }
        self.set_aborting(false);
        n
    }
}

/// Opens every spin lock the current CPU holds (the abort path, first
/// thing), and says which.
///
/// # Safety
/// Only from the abort path of this CPU, before anything that could free a
/// lock's memory runs: the code that holds the locks never runs again.
pub unsafe fn release_cpu_locks() -> crate::Released {
    // SAFETY: forwarded from the caller.
    crate::lock::with_cpu_locks(|l| unsafe { l.release_all() })
}

impl<T> core::ops::Deref for crate::SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock word.
        unsafe { self.cell().get() }
    }
}

impl<T> core::ops::DerefMut for crate::SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the lock word, and `&mut self` makes the
        // reference exclusive.
        unsafe { self.cell().get() }
    }
}

/// `release_cpu_locks` for `testing::freeze`, on the thread that freezes.
#[cfg(any(test, feature = "std"))]
pub(crate) fn release_frozen_locks() {
    // SAFETY: the calling thread freezes for good right after: the code
    // that holds these locks never runs again.
    let _ = unsafe { release_cpu_locks() };
}

/// `Ledger::unwind` for `testing::run_abortable`, once its thread froze.
#[cfg(any(test, feature = "std"))]
pub(crate) fn unwind_frozen(ledger: &crate::Ledger) {
    // SAFETY: the thread that armed the entries called `testing::freeze`:
    // it is parked for ever with its stack intact, and released its spin
    // locks first.
    unsafe { ledger.unwind() };
}

#[cfg(test)]
mod tests {
    use crate::{SpinLock, cpu_locks_held, release_cpu_locks};

    #[test]
    fn the_abort_path_opens_locks_this_cpu_held() {
        let a = SpinLock::new(1);
        let b = SpinLock::new(2);
        let ga = a.lock();
        let gb = b.lock();
        assert_eq!(cpu_locks_held(), 2);
        assert!(a.try_lock().is_none());
        // The holder is abandoned (a fault): its guards never run.
        core::mem::forget(ga);
        core::mem::forget(gb);
        // SAFETY: the code holding the locks is abandoned (forgotten guards).
        let n = unsafe { release_cpu_locks() };
        assert_eq!(n, crate::Released { locks: 2, heap: false });
        assert_eq!(cpu_locks_held(), 0);
        *a.try_lock().expect("opened") += 1;
        assert_eq!(*b.lock(), 2);
        assert_eq!(*a.lock(), 2);
    }

    #[test]
    fn ordinary_unlocks_forget_the_lock() {
        let a = SpinLock::new(0u8);
        {
            let _g = a.lock();
            let other = SpinLock::new(());
            let _h = other.lock();
            assert_eq!(cpu_locks_held(), 2);
        }
        assert_eq!(cpu_locks_held(), 0);
        // SAFETY: nothing is held; nothing is opened.
        assert_eq!(unsafe { release_cpu_locks() }.locks, 0);
    }
}
