//! Per-thread ledgers of held resources and the pinned cells that are
//! armed in them.

use crate::lock::SpinLock;
use crate::raw::{Disarm, Entry};
use core::cell::Cell;
use core::marker::{PhantomData, PhantomPinned};
use core::ops::Deref;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Most `Held`s one thread may have armed at once. A call that would need
/// more gets `LedgerFull` (its caller answers "out of memory").
pub const LEDGER_SLOTS: usize = 64;

/// A cell could not be armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerFull {
    /// No free slot.
    Full,
    /// The cell is not on the stack of the ledger's thread (the abort path
    /// only ever drops cells on the stack it abandons).
    NotOnStack,
}

struct Slots {
    entries: [Option<Entry>; LEDGER_SLOTS],
    /// One past the highest used entry.
    len: usize,
}

/// What one trusted thread holds, newest last. Owned by the thread: only
/// code running on it arms and disarms entries; the abort path unwinds it
/// once the thread is frozen.
pub struct Ledger {
    slots: SpinLock<Slots>,
    aborting: AtomicBool,
    /// The thread's stack, `[lo, hi)`, once the platform has said (0, 0:
    /// unknown, as on the host).
    stack_lo: AtomicUsize,
    stack_hi: AtomicUsize,
}

impl Default for Ledger {
    fn default() -> Self {
        Self::new()
    }
}

impl Ledger {
    pub const fn new() -> Self {
        Ledger {
            slots: SpinLock::new(Slots { entries: [None; LEDGER_SLOTS], len: 0 }),
            aborting: AtomicBool::new(false),
            stack_lo: AtomicUsize::new(0),
            stack_hi: AtomicUsize::new(0),
        }
    }

    /// Says where the thread's stack is: from then on only cells on it can
    /// be armed here (a cell of another thread's could be dropped while
    /// that thread still uses it).
    pub fn set_stack(&self, lo: usize, hi: usize) {
        self.stack_lo.store(lo, Ordering::Release);
        self.stack_hi.store(hi, Ordering::Release);
    }

    fn push(&self, e: Entry, addr: usize) -> Result<usize, LedgerFull> {
        let (lo, hi) = (self.stack_lo.load(Ordering::Acquire), self.stack_hi.load(Ordering::Acquire));
        if hi != 0 && !(lo..hi).contains(&addr) {
            return Err(LedgerFull::NotOnStack);
        }
        let mut s = self.slots.lock();
        let i = s.len;
        if i >= LEDGER_SLOTS {
            return Err(LedgerFull::Full);
        }
        s.entries[i] = Some(e);
        s.len = i + 1;
        Ok(i)
    }

    fn remove<H>(&self, slot: usize, h: &H) {
        let mut s = self.slots.lock();
        if let Some(e) = s.entries.get(slot).copied().flatten()
            && e.points_to(h)
        {
            s.entries[slot] = None;
        }
        while s.len > 0 && s.entries[s.len - 1].is_none() {
            s.len -= 1;
        }
    }

    /// Armed entries right now.
    pub fn armed(&self) -> usize {
        let s = self.slots.lock();
        s.entries[..s.len].iter().filter(|e| e.is_some()).count()
    }

    /// True if nothing is armed.
    pub fn is_empty(&self) -> bool {
        self.slots.lock().len == 0
    }

    /// True while `unwind` runs: destructors of `Held` values use it to
    /// tell an abort from an ordinary end.
    pub fn aborting(&self) -> bool {
        self.aborting.load(Ordering::Acquire)
    }

    /// Takes the newest armed entry out (for `unwind`).
    pub(crate) fn pop(&self) -> Option<Entry> {
        let mut s = self.slots.lock();
        while s.len > 0 {
            s.len -= 1;
            let i = s.len;
            if let Some(e) = s.entries[i].take() {
                return Some(e);
            }
        }
        None
    }

    pub(crate) fn set_aborting(&self, on: bool) {
        self.aborting.store(on, Ordering::Release);
    }

    /// Forgets every armed entry without dropping anything (what is held
    /// leaks). For a thread whose stack can no longer be trusted (a second
    /// fault while finishing an aborted call): leaking is safe, following
    /// its entries might not be. Returns how many were forgotten.
    pub fn forget_all(&self) -> usize {
        let mut s = self.slots.lock();
        let n = s.entries[..s.len].iter().filter(|e| e.is_some()).count();
        s.entries = [None; LEDGER_SLOTS];
        s.len = 0;
        n
    }
}

const UNARMED: usize = usize::MAX;

/// Pins `$value` on the stack as `$name` (a `Pin<&mut Held<_>>`) and arms
/// it in `$ledger` at once, so an aborted call drops it; if it cannot be
/// armed (a full ledger) the enclosing function returns `$err` (or returns,
/// without `or`).
#[macro_export]
macro_rules! hold {
    ($name:ident = $value:expr, in $ledger:expr, or $err:expr) => {
        let mut $name = core::pin::pin!($crate::Held::__new($ledger, $value));
        if $name.as_mut().__arm().is_err() {
            return $err;
        }
    };
    ($name:ident = $value:expr, in $ledger:expr) => {
        let mut $name = core::pin::pin!($crate::Held::__new($ledger, $value));
        if $name.as_mut().__arm().is_err() {
            return;
        }
    };
}

/// A value the abort path drops if the call holding it never returns.
///
/// Made with `hold!`, which pins it on the stack and arms it in the
/// thread's ledger at once (so cells are armed in the order they come into
/// existence, and an abort drops them newest first, as scopes would); from
/// then on an ordinary drop disarms it and an abort drops it from the
/// ledger. It is neither `Send` nor `Sync`, so it cannot be moved into state
/// shared between CPUs (which outlives the call and must never be dropped by
/// an abort).
pub struct Held<'l, T> {
    ledger: &'l Ledger,
    slot: Cell<usize>,
    value: T,
    _pinned: PhantomPinned,
    _local: PhantomData<*mut ()>,
}

impl<'l, T> Held<'l, T> {
    /// For `hold!` only (the cell must be armed as soon as it is pinned).
    #[doc(hidden)]
    pub const fn __new(ledger: &'l Ledger, value: T) -> Self {
        Held { ledger, slot: Cell::new(UNARMED), value, _pinned: PhantomPinned, _local: PhantomData }
    }

    /// For `hold!` only: records the value in the ledger (once; later
    /// calls do nothing).
    #[doc(hidden)]
    pub fn __arm(self: Pin<&mut Self>) -> Result<(), LedgerFull> {
        let this: &Self = &self;
        if this.slot.get() == UNARMED {
            let addr = this as *const Self as usize;
            let slot = this.ledger.push(Entry::new(this), addr)?;
            this.slot.set(slot);
        }
        Ok(())
    }

    pub fn is_armed(&self) -> bool {
        self.slot.get() != UNARMED
    }

    /// The value, for changing it (it is not pinned itself: only the cell
    /// the ledger points at must stay put).
    pub fn get(self: Pin<&mut Self>) -> &mut T {
        crate::raw::project_held(self)
    }
}

impl<T> Deref for Held<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Disarm for Held<'_, T> {
    fn disarm(&self) {
        self.slot.set(UNARMED);
    }
}

impl<T> Drop for Held<'_, T> {
    fn drop(&mut self) {
        let slot = self.slot.get();
        if slot != UNARMED {
            self.ledger.remove(slot, &*self);
        }
    }
}

impl<T> Held<'_, T> {
    pub(crate) fn value_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

#[cfg(test)]
// `hold!(.., or panic!(..))`: a full ledger fails the test.
#[allow(unreachable_code, clippy::diverging_sub_expression)]
mod tests {
    use super::*;
    use crate::testing::{freeze, leak, run_abortable};
    use std::sync::Mutex;
    use std::vec::Vec;

    /// Records its id in `log` when dropped.
    struct Note(u32, &'static Mutex<Vec<u32>>);
    impl Drop for Note {
        fn drop(&mut self) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    #[test]
    fn an_ordinary_drop_disarms() {
        let ledger = Ledger::new();
        let log = leak(Mutex::new(Vec::new()));
        {
            crate::hold!(a = Note(1, log), in &ledger, or panic!("full"));
            a.as_mut().__arm().unwrap();
            assert!(a.is_armed());
            assert_eq!(ledger.armed(), 1, "arming twice records once");
            crate::hold!(b = Note(2, log), in &ledger, or panic!("full"));
            assert_eq!(ledger.armed(), 2);
            b.as_mut().get().0 = 3;
        }
        assert_eq!(ledger.armed(), 0);
        assert_eq!(*log.lock().unwrap(), [3, 1]);
    }

    #[test]
    fn an_abort_drops_everything_armed_newest_first() {
        let ledger = leak(Ledger::new());
        let log = leak(Mutex::new(Vec::new()));
        let r = run_abortable(ledger, move || {
            crate::hold!(a = Note(1, log), in ledger, or panic!("full"));
            {
                // Dropped normally before the fault: not dropped again.
                crate::hold!(gone = Note(9, log), in ledger, or panic!("full"));
            }
            crate::hold!(b = Note(2, log), in ledger, or panic!("full"));
            let _unarmed = Note(7, log);
            freeze()
        });
        assert!(r.is_none());
        assert_eq!(*log.lock().unwrap(), [9, 2, 1], "armed values dropped once, newest first; unarmed ones leak");
        assert_eq!(ledger.armed(), 0);
        assert!(!ledger.aborting());
    }

    #[test]
    fn a_call_that_returns_leaves_the_ledger_empty() {
        let ledger = leak(Ledger::new());
        let log = leak(Mutex::new(Vec::new()));
        let r = run_abortable(ledger, move || {
            crate::hold!(a = Note(5, log), in ledger, or panic!("full"));
            42
        });
        assert_eq!(r, Some(42));
        assert_eq!(ledger.armed(), 0);
        assert_eq!(*log.lock().unwrap(), [5]);
    }

    #[test]
    fn a_full_ledger_is_an_error() {
        let ledger = Ledger::new();
        let mut cells: Vec<core::pin::Pin<std::boxed::Box<Held<'_, u32>>>> =
            (0..LEDGER_SLOTS as u32 + 1).map(|i| std::boxed::Box::pin(Held::__new(&ledger, i))).collect();
        for c in cells.iter_mut().take(LEDGER_SLOTS) {
            c.as_mut().__arm().unwrap();
        }
        assert_eq!(cells[LEDGER_SLOTS].as_mut().__arm(), Err(LedgerFull::Full));
        // Out-of-order drops free their slots.
        cells.remove(3);
        cells.truncate(LEDGER_SLOTS - 1);
        assert_eq!(ledger.armed(), LEDGER_SLOTS - 1);
        drop(cells);
        assert_eq!(ledger.armed(), 0);
    }

    #[test]
    fn aborting_is_visible_to_destructors() {
        struct Seen(&'static Ledger, &'static Mutex<Vec<bool>>);
        impl Drop for Seen {
            fn drop(&mut self) {
                self.1.lock().unwrap().push(self.0.aborting());
            }
        }
        let ledger = leak(Ledger::new());
        let seen = leak(Mutex::new(Vec::new()));
        run_abortable(ledger, move || {
            let _n = Seen(ledger, seen);
            crate::hold!(a = Seen(ledger, seen), in ledger, or panic!("full"));
            drop(_n);
            freeze()
        });
        assert_eq!(*seen.lock().unwrap(), [false, true]);
    }

    #[test]
    fn only_cells_on_the_threads_stack_are_armed() {
        let ledger = Ledger::new();
        let mut cell = std::boxed::Box::pin(Held::__new(&ledger, 1u32));
        let at = &*cell as *const Held<'_, u32> as usize;
        ledger.set_stack(at + 4096, at + 8192);
        assert_eq!(cell.as_mut().__arm(), Err(LedgerFull::NotOnStack));
        ledger.set_stack(at - 4096, at + 4096);
        assert_eq!(cell.as_mut().__arm(), Ok(()));
        drop(cell);
        assert_eq!(ledger.armed(), 0);
    }

    #[test]
    fn forgetting_drops_nothing() {
        let ledger = leak(Ledger::new());
        let log = leak(Mutex::new(Vec::new()));
        let r = run_abortable(ledger, move || {
            crate::hold!(a = Note(1, log), in ledger, or panic!("full"));
            assert_eq!(ledger.forget_all(), 1);
            assert!(!a.is_armed() || ledger.armed() == 0);
            freeze()
        });
        assert!(r.is_none());
        assert!(log.lock().unwrap().is_empty(), "a forgotten cell is leaked, not dropped");
    }
}
