//! Mutable state of one TA instance, in statics.

use core::cell::{Ref, RefCell, RefMut};

/// A `RefCell` that may live in a `static`: state shared by every session
/// of this TA instance (a TA has no threads, so no lock is needed).
///
/// Borrowing it while it is already mutably borrowed panics, as `RefCell`
/// does; keep borrows short and never hold one across a call that may
/// come back into the same state.
pub struct InstanceCell<T>(RefCell<T>);

// On the device a TA instance runs on one thread of control: the kernel
// enters it for one request at a time (a busy instance is never entered
// again until that entry ends with the RETURN syscall), and nothing else
// runs in its address space: no threads, no signal handlers, no
// interrupts at EL0. On the host (oxtee-sim) TA code of every instance
// runs on simulator threads that take turns under one process-wide lock,
// and every access checks that the calling thread holds it (`check`).
// SAFETY: so no two contexts ever touch the RefCell at once (on the host,
// its accesses are ordered by that lock).
unsafe impl<T> Sync for InstanceCell<T> {}

impl<T> InstanceCell<T> {
    /// A cell holding `value`.
    pub const fn new(value: T) -> Self {
        Self(RefCell::new(value))
    }

    /// Shared access; panics if mutably borrowed.
    pub fn borrow(&self) -> Ref<'_, T> {
        check();
        self.0.borrow()
    }

    /// Exclusive access; panics if borrowed.
    pub fn borrow_mut(&self) -> RefMut<'_, T> {
        check();
        self.0.borrow_mut()
    }

    /// Replaces the value, returning the old one.
    pub fn replace(&self, value: T) -> T {
        check();
        self.0.replace(value)
    }
}

/// On the host: only TA code the simulator runs may use instance state
/// (see the `Sync` impl).
#[inline(always)]
fn check() {
    #[cfg(not(target_os = "none"))]
    assert!(
        oxtee_sim::ta::running_ta(),
        "InstanceCell used outside a simulated TA: call the TA through oxtee_utee::sim::Sim"
    );
}
