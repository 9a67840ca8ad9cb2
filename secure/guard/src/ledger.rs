//! Per-thread ledgers of held resources and the pinned cells that are
//! armed in them.

use crate::lock::SpinLock;
use crate::raw::{Disarm, Entry};
use core::cell::Cell;
use core::marker::{PhantomData, PhantomPinned};
use core::ops::Deref;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, Ordering};

/// Most `Held`s one thread may have armed at once. A call that would need
/// more gets `LedgerFull` (its caller answers "out of memory").
pub const LEDGER_SLOTS: usize = 64;

/// A ledger had no free slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerFull;

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
        }
    }

    fn push(&self, e: Entry) -> Result<usize, LedgerFull> {
        let mut s = self.slots.lock();
        let i = s.len;
        if i >= LEDGER_SLOTS {
            return Err(LedgerFull);
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
}

const UNARMED: usize = usize::MAX;

/// A value the abort path drops if the call holding it never returns.
///
/// Pin it on the stack (`core::pin::pin!`) and `arm` it in the thread's
/// ledger; from then on an ordinary drop disarms it and an abort drops it
/// from the ledger. It is neither `Send` nor `Sync`, so it cannot be moved
/// into state shared between CPUs (which outlives the call and must never
/// be dropped by an abort).
pub struct Held<'l, T> {
    ledger: &'l Ledger,
    slot: Cell<usize>,
    value: T,
    _pinned: PhantomPinned,
    _local: PhantomData<*mut ()>,
}

impl<'l, T> Held<'l, T> {
    pub const fn new(ledger: &'l Ledger, value: T) -> Self {
        Held { ledger, slot: Cell::new(UNARMED), value, _pinned: PhantomPinned, _local: PhantomData }
    }

    /// Records the value in the ledger (once; later calls do nothing).
    pub fn arm(self: Pin<&mut Self>) -> Result<(), LedgerFull> {
        let this: &Self = &self;
        if this.slot.get() == UNARMED {
            let slot = this.ledger.push(Entry::new(this))?;
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
mod tests {
    use super::*;
    use crate::testing::{freeze, leak, run_abortable};
    use core::pin::pin;
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
            let mut a = pin!(Held::new(&ledger, Note(1, log)));
            a.as_mut().arm().unwrap();
            a.as_mut().arm().unwrap();
            assert!(a.is_armed());
            assert_eq!(ledger.armed(), 1, "arming twice records once");
            let mut b = pin!(Held::new(&ledger, Note(2, log)));
            b.as_mut().arm().unwrap();
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
            let mut a = pin!(Held::new(ledger, Note(1, log)));
            a.as_mut().arm().unwrap();
            {
                // Dropped normally before the fault: not dropped again.
                let mut gone = pin!(Held::new(ledger, Note(9, log)));
                gone.as_mut().arm().unwrap();
            }
            let mut b = pin!(Held::new(ledger, Note(2, log)));
            b.as_mut().arm().unwrap();
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
            let mut a = pin!(Held::new(ledger, Note(5, log)));
            a.as_mut().arm().unwrap();
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
            (0..LEDGER_SLOTS as u32 + 1).map(|i| std::boxed::Box::pin(Held::new(&ledger, i))).collect();
        for c in cells.iter_mut().take(LEDGER_SLOTS) {
            c.as_mut().arm().unwrap();
        }
        assert_eq!(cells[LEDGER_SLOTS].as_mut().arm(), Err(LedgerFull));
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
            let mut a = pin!(Held::new(ledger, Seen(ledger, seen)));
            a.as_mut().arm().unwrap();
            drop(_n);
            freeze()
        });
        assert_eq!(*seen.lock().unwrap(), [false, true]);
    }
}
