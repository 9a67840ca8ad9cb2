//! Mutable state of one TA instance, in statics.

use core::cell::{Ref, RefCell, RefMut};

/// A `RefCell` that may live in a `static`: state shared by every session
/// of this TA instance (a TA has no threads, so no lock is needed).
///
/// Borrowing it while it is already mutably borrowed panics, as `RefCell`
/// does; keep borrows short and never hold one across a call that may
/// come back into the same state.
pub struct InstanceCell<T>(RefCell<T>);

// SAFETY: a TA instance runs on one thread of control. The kernel enters
// it for one request at a time (a busy instance is never entered again
// until that entry ends with the RETURN syscall), and nothing else runs in
// its address space: no threads, no signal handlers, no interrupts at
// EL0. So no two contexts ever touch the RefCell at once.
unsafe impl<T> Sync for InstanceCell<T> {}

impl<T> InstanceCell<T> {
    /// A cell holding `value`.
    pub const fn new(value: T) -> Self {
        Self(RefCell::new(value))
    }

    /// Shared access; panics if mutably borrowed.
    pub fn borrow(&self) -> Ref<'_, T> {
        self.0.borrow()
    }

    /// Exclusive access; panics if borrowed.
    pub fn borrow_mut(&self) -> RefMut<'_, T> {
        self.0.borrow_mut()
    }

    /// Replaces the value, returning the old one.
    pub fn replace(&self, value: T) -> T {
        self.0.replace(value)
    }
}
