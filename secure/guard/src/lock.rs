//! Spin locks the abort path can open. While held, a lock's word is
//! recorded in its CPU's list; a fault on that CPU opens every recorded
//! lock before anything else runs, so the code that faulted cannot leave a
//! lock closed for ever. (The data it guarded may be half-updated: locked
//! sections are kept short and free of allocation and of calls that can
//! fail, which is what makes a fault inside one a bug, not a path.)

use crate::raw::{CpuLocks, LockCell};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};

pub struct SpinLock<T> {
    cell: LockCell<T>,
}

impl<T: Default> Default for SpinLock<T> {
    fn default() -> Self {
        SpinLock::new(T::default())
    }
}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        SpinLock { cell: LockCell::new(value) }
    }

    pub fn lock(&self) -> SpinGuard<'_, T> {
        loop {
            if let Some(g) = self.try_lock() {
                return g;
            }
            while self.cell.locked.load(Ordering::Relaxed) {
                core::hint::spin_loop();
            }
        }
    }

    // Inlined, so no stack frame (which could overflow into a guard page)
    // separates taking the lock from recording it.
    #[inline(always)]
    pub fn try_lock(&self) -> Option<SpinGuard<'_, T>> {
        self.cell.locked.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).ok()?;
        let cpu = crate::heap::cpu_index();
        let slot = with_cpu_list(cpu, |l| l.push(&self.cell.locked));
        Some(SpinGuard { lock: self, cpu, slot, _local: PhantomData })
    }

    pub fn into_inner(self) -> T {
        self.cell.into_inner()
    }

    pub(crate) fn word(&self) -> &AtomicBool {
        &self.cell.locked
    }

    pub fn get_mut(&mut self) -> &mut T {
        self.cell.get_mut()
    }
}

/// A held `SpinLock`. Not `Send`: a lock is released on the CPU that took it.
pub struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
    /// The CPU whose list records it, and where.
    cpu: usize,
    slot: Option<usize>,
    _local: PhantomData<*mut ()>,
}

impl<'a, T> SpinGuard<'a, T> {
    pub(crate) fn cell(&self) -> &'a LockCell<T> {
        &self.lock.cell
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        let word = &self.lock.cell.locked;
        // Forget the lock in the list that recorded it; if the abort path
        // already took it from there, it opened the lock, which may belong
        // to someone else by now: leave it alone.
        let ours = match self.slot {
            Some(slot) => with_cpu_list(self.cpu, |l| l.take(slot, word)),
            None => true,
        };
        if ours {
            word.store(false, Ordering::Release);
        }
    }
}

pub use crate::raw::release_cpu_locks;

/// Spin locks the current CPU holds (0 whenever a trusted thread leaves the
/// CPU: locks are never held across a suspension).
pub fn cpu_locks_held() -> usize {
    with_cpu_locks(|l| l.held())
}

/// The current CPU's list.
#[inline(always)]
pub(crate) fn with_cpu_locks<R>(f: impl FnOnce(&CpuLocks) -> R) -> R {
    with_cpu_list(crate::heap::cpu_index(), f)
}

#[cfg(not(any(test, feature = "std")))]
#[inline(always)]
fn with_cpu_list<R>(cpu: usize, f: impl FnOnce(&CpuLocks) -> R) -> R {
    static LISTS: [CpuLocks; oxtee_platform::MAX_CPUS] = [const { CpuLocks::new() }; oxtee_platform::MAX_CPUS];
    f(&LISTS[cpu % oxtee_platform::MAX_CPUS])
}

#[cfg(any(test, feature = "std"))]
fn with_cpu_list<R>(_cpu: usize, f: impl FnOnce(&CpuLocks) -> R) -> R {
    // On the host each thread plays a CPU (and a guard cannot change
    // threads: it is not `Send`).
    std::thread_local! {
        static LIST: CpuLocks = const { CpuLocks::new() };
    }
    LIST.with(f)
}
